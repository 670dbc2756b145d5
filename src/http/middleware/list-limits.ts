/**
 * Refuses a JSON body holding a list of more than `maxItems` texts, objects or lists before it is
 * parsed: JSON.parse of `{"input": [[], [], ... 1.39 million]}` alone blocked the event loop for
 * about a second and allocated ~100 MB (issue 14, item 1). ../json-scan.ts finds such a list in
 * one allocation-free pass over the text; the validator then parses the same cached text.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';
import type { AppEnv } from '../app-env.js';
import { findOverlongList } from '../json-scan.js';

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

export function boundedLists(maxItems: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) return next();
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      // Over the body limit, or the client went away: the validator reads the same cached
      // failure and answers it as it always has.
      return next();
    }
    const list = findOverlongList(text, maxItems);
    if (list === undefined) return next();
    if (list.path === '') throw new ApiError(400, 'The request body must be a JSON object', { code: 'invalid_request_body' });
    if ('mixedAt' in list) {
      const at = `${list.path}[${list.mixedAt}]`;
      throw new ApiError(400, `${at} is a ${list.kind} but ${list.path}[0] is a number; one list must not mix token ids with anything else`, {
        param: at,
        code: 'invalid_parameter',
      });
    }
    throw new ApiError(400, `${list.path} has ${list.items} items; at most ${maxItems} are allowed per request, split it into several requests`, {
      param: list.path,
      code: 'invalid_parameter',
    });
  };
}
