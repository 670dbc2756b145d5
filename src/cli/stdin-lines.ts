/**
 * Reads JSON Lines from a stream: one JSON value per line, blank lines skipped. A line that is not
 * JSON, or not of the expected kind, is a CoromError naming the line number.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { CoromError } from '../errors.js';

export async function* jsonLines(stream: Readable, label = 'stdin'): AsyncGenerator<{ value: unknown; line: number }> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new CoromError(`${label} line ${line}: not valid JSON (${preview(text)})`);
    }
    yield { value, line };
  }
}

/** JSON Lines whose every value must be a string. */
export async function* stringLines(stream: Readable, label = 'stdin'): AsyncGenerator<string> {
  for await (const { value, line } of jsonLines(stream, label)) {
    if (typeof value !== 'string') throw new CoromError(`${label} line ${line}: expected a JSON string, got ${kind(value)}`);
    yield value;
  }
}

/** The whole stream as one JSON value; `expected` says what it should hold, in the error when it is not JSON. */
export async function readJson(stream: Readable, expected: string, label = 'stdin'): Promise<unknown> {
  const text = await readAll(stream);
  try {
    return JSON.parse(text);
  } catch {
    throw new CoromError(`${label}: not valid JSON (expected ${expected})`);
  }
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function preview(text: string): string {
  return text.length > 40 ? JSON.stringify(text.slice(0, 40)) + '...' : JSON.stringify(text);
}

export function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
