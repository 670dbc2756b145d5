/** What every answer of the service must look like, whatever was sent. */
import { expect } from 'vitest';
import { findLeak } from '../../scripts/reliability/leaks.js';

export function expectNoLeak(text: string, context = ''): void {
  const leak = findLeak(text);
  expect(leak, `${context} response contains ${leak}: ${text.slice(0, 300)}`).toBeUndefined();
}

export interface OpenAiError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A 4xx whose body is OpenAI's error object with a readable message. */
export function expectOpenAiError(status: number, body: string, context = ''): OpenAiError {
  expect(status, `${context} status (body ${body.slice(0, 200)})`).toBeGreaterThanOrEqual(400);
  expect(status, `${context} status (body ${body.slice(0, 200)})`).toBeLessThan(500);
  let parsed: OpenAiError;
  try {
    parsed = JSON.parse(body) as OpenAiError;
  } catch {
    throw new Error(`${context} error body is not JSON: ${body.slice(0, 200)}`);
  }
  expect(typeof parsed.error?.message, `${context} error.message`).toBe('string');
  expect(parsed.error.message.length).toBeGreaterThan(0);
  expect(typeof parsed.error.type, `${context} error.type`).toBe('string');
  expect(parsed.error.param === null || typeof parsed.error.param === 'string').toBe(true);
  expect(parsed.error.code === null || typeof parsed.error.code === 'string').toBe(true);
  expectNoLeak(body, context);
  return parsed;
}

/**
 * The answer to a hostile request: a 2xx (valid after all, e.g. 100k token ids are truncated), a
 * 4xx in OpenAI's shape, or the connection closed; never a 5xx.
 */
export function expectHandled(answer: { status?: number; body: string; closed?: boolean }, context = ''): void {
  if (answer.status === undefined) {
    expect(answer.closed, `${context}: no status and the connection is not closed`).toBe(true);
    return;
  }
  expect(answer.status, `${context}: ${answer.body.slice(0, 200)}`).toBeLessThan(500);
  expectNoLeak(answer.body, context);
  // Node's own refusals (400/408/413/431 for malformed HTTP) close the connection with no body.
  if (answer.status >= 400 && answer.body.length > 0) expectOpenAiError(answer.status, answer.body, context);
  else if (answer.status >= 400) expect(answer.closed, `${context}: bodiless ${answer.status} must close the connection`).toBe(true);
}
