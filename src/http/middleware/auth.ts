/**
 * Optional bearer-key authentication. Keys are compared as SHA-256 digests with an XOR loop over
 * every configured key, so timing reveals neither a key's length nor a matching prefix, and it
 * runs wherever crypto.subtle does (Node, Workers). Keys are never logged or echoed.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../api-error.js';
import type { AppEnv } from '../app-env.js';

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}

/** True when `presented` equals one of `keys`; time depends only on the number of keys. */
export function digestMatches(presented: Uint8Array, keys: readonly Uint8Array[]): boolean {
  let matched = 0;
  for (const key of keys) {
    let diff = presented.length ^ key.length;
    for (let i = 0; i < key.length; i++) diff |= key[i] ^ (presented[i] ?? 0);
    matched |= diff === 0 ? 1 : 0;
  }
  return matched === 1;
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, message, { code: 'invalid_api_key', headers: { 'WWW-Authenticate': 'Bearer realm="corom"' } });
}

/**
 * Whether an Authorization header value carries one of `keys` (the middleware's rule, for callers
 * below HTTP routing: the Node server decides `100 Continue` with it before a body is uploaded).
 */
export function apiKeyVerifier(keys: readonly string[]): (authorization: string | undefined) => Promise<boolean> {
  let digests: Promise<Uint8Array[]> | undefined;
  return async (authorization) => {
    if (keys.length === 0) return true;
    const match = authorization ? /^Bearer[ ]+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) return false;
    digests ??= Promise.all(keys.map(sha256));
    return digestMatches(await sha256(match[1]), await digests);
  };
}

/** Requires `Authorization: Bearer <key>` except on `openPaths` and CORS preflights. */
export function bearerAuth(keys: readonly string[], openPaths: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  let digests: Promise<Uint8Array[]> | undefined;
  return async (c, next) => {
    if (keys.length === 0 || openPaths.has(c.req.path)) return next();
    const header = c.req.header('Authorization');
    const match = header ? /^Bearer[ ]+(\S+)\s*$/i.exec(header) : null;
    if (!header) throw unauthorized("Missing API key: send the header 'Authorization: Bearer <key>'");
    if (!match) throw unauthorized("Malformed Authorization header: expected 'Authorization: Bearer <key>'");
    digests ??= Promise.all(keys.map(sha256));
    if (!digestMatches(await sha256(match[1]), await digests)) throw unauthorized('Invalid API key');
    return next();
  };
}
