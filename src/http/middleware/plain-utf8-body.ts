/**
 * Answers 415 for a request body the service would misread (issue 14, item 6): a Content-Type
 * charset other than UTF-8 (latin1 or UTF-16 bytes used to become U+FFFD and were embedded) and
 * any Content-Encoding other than identity (a gzip body used to fail as "invalid JSON", and a
 * plain body labelled gzip was accepted). Compressed bodies are refused rather than decoded: a
 * few kilobytes of gzip can inflate far past the body limit, and embedding requests are small
 * next to their responses. Checked from the headers alone, before a byte of the body is read.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';
import type { AppEnv } from '../app-env.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)"?/i;
const UTF8 = /^utf-?8$/i;

export function plainUtf8Bodies(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS') return next();
    const encoding = c.req.header('content-encoding')?.trim();
    if (encoding && encoding.toLowerCase() !== 'identity') {
      throw new ApiError(415, `Content-Encoding '${encoding}' is not supported; send the JSON body uncompressed (identity)`, {
        code: 'unsupported_content_encoding',
      });
    }
    const charset = CHARSET.exec(c.req.header('content-type') ?? '')?.[1];
    if (charset !== undefined && !UTF8.test(charset)) {
      throw new ApiError(415, `Content-Type charset '${charset}' is not supported; send the JSON body as UTF-8 ('application/json' or 'application/json; charset=utf-8')`, {
        code: 'unsupported_media_type',
      });
    }
    return next();
  };
}
