/**
 * Turns a failed zod validation into one OpenAI-shaped 400 naming the parameter, e.g.
 * `{"message": "input[1] must not be an empty string", "param": "input[1]"}`.
 */
import type { Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ApiError } from './api-error.js';
import type { AppEnv } from './app-env.js';

type Issue = ZodError['issues'][number];

/** `["input", 1, 0]` -> `input[1][0]`; `["input", "source_sentence"]` -> `input.source_sentence`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

const LEADING_PATH = /^([A-Za-z_]+(?:\[\d+\]|\.[A-Za-z_]+)*)\s/;

export function issueToError(issue: Issue): ApiError {
  const path = formatPath(issue.path);
  const lead = LEADING_PATH.exec(issue.message)?.[1];
  const root = path.split(/[.[]/)[0];
  if (lead && path && lead.split(/[.[]/)[0] === root) {
    // The message already names the exact parameter (from a describer or a max-items check).
    const missing = issue.message.startsWith(`${lead} is required`);
    return new ApiError(400, issue.message, { param: lead, code: missing ? 'missing_required_parameter' : 'invalid_parameter' });
  }
  if (!path) {
    const message = issue.message === 'is required' ? 'The request body is required: a JSON object' : `The request body ${issue.message}`;
    return new ApiError(400, message, { code: 'invalid_request_body' });
  }
  const missing = issue.message === 'is required';
  return new ApiError(400, `${path} ${issue.message}`, { param: path, code: missing ? 'missing_required_parameter' : 'invalid_parameter' });
}

/** The defaultHook of every router: first issue wins (one clear thing to fix at a time). */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) throw issueToError(result.error.issues[0]);
  return undefined;
};
