import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { DatasetError } from './builder.js';
import { jsonErrorOffset } from './json-position.js';

/** Whether `path` exists and is a directory / a file (false when it does not exist). */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function describeFsError(path: string, err: unknown): DatasetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new DatasetError(path, 'no such file');
  if (code === 'EISDIR') return new DatasetError(path, 'is a directory, expected a file');
  if (code === 'EACCES') return new DatasetError(path, 'permission denied');
  return new DatasetError(path, `cannot read (${err instanceof Error ? err.message : String(err)})`);
}

/**
 * Calls `onLine(line, lineNumber)` for every non-blank line of a UTF-8 text file, streaming so that
 * multi-gigabyte collections never become one string. Throws DatasetError when the file is missing
 * or holds no non-blank line at all.
 */
export async function forEachLine(path: string, onLine: (line: string, lineNumber: number) => void): Promise<number> {
  const input = createReadStream(path, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    input.once('open', () => resolve());
    input.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw describeFsError(path, err);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let nonBlank = 0;
  try {
    for await (const raw of lines) {
      lineNumber++;
      const line = lineNumber === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (line.trim() === '') continue;
      nonBlank++;
      onLine(line, lineNumber);
    }
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw describeFsError(path, err);
  } finally {
    lines.close();
    input.destroy();
  }
  if (nonBlank === 0) throw new DatasetError(path, 'file is empty');
  return nonBlank;
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastBreak = i;
    }
  }
  return { line, column: offset - lastBreak };
}

/** Parses one JSON text; syntax errors name `where` and, when V8 reports a position, line:column. */
export function parseJsonText(text: string, where: string, lineNumber?: number): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message)?.[1] ?? jsonErrorOffset(text);
    // One line, bounded: V8 quotes a snippet of the input, which may span lines.
    const flat = message.replace(/\s+/g, ' ');
    const detail = flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
    if (lineNumber !== undefined) throw new DatasetError(`${where}:${lineNumber}`, `invalid JSON (${detail})`);
    if (position !== undefined) {
      const { line, column } = lineAndColumn(text, Number(position));
      throw new DatasetError(`${where}:${line}:${column}`, `invalid JSON (${detail})`);
    }
    throw new DatasetError(where, `invalid JSON (${detail})`);
  }
}

/** Reads and parses a whole JSON file (not JSON Lines). */
export async function readJsonFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw describeFsError(path, err);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new DatasetError(path, 'file is empty');
  return parseJsonText(text, path);
}

/** Splits a TSV line and checks it has at least `min` columns; `expected` describes them for the error. */
export function tsvColumns(line: string, min: number, where: string, expected: string): string[] {
  const columns = line.split('\t');
  if (columns.length < min) {
    throw new DatasetError(where, `expected ${min} tab-separated columns (${expected}), found ${columns.length}`);
  }
  return columns;
}

/** Reads the first non-blank line of a file, or undefined when there is none (used by format detection). */
export async function firstLine(path: string): Promise<string | undefined> {
  const input = createReadStream(path, { encoding: 'utf8', end: 1 << 20 });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      const clean = line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      if (clean.trim() !== '') return clean;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    lines.close();
    input.destroy();
  }
}
