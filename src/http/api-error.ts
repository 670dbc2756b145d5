/**
 * Every error the service answers with, in OpenAI's shape `{error: {message, type, param, code}}`.
 * Route code throws an ApiError; the app's onError turns it into the response, so no handler
 * builds error bodies by hand and a client never sees a stack, a path or an internal message.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** OpenAI's error `type` values, plus the few this service needs for its own conditions. */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'timeout_error'
  | 'server_error';

export interface ApiErrorBody {
  error: { message: string; type: ApiErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly type: ApiErrorType;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers, e.g. Retry-After on 429/503, Allow on 405, WWW-Authenticate on 401. */
  readonly headers: Record<string, string>;

  constructor(
    status: ContentfulStatusCode,
    message: string,
    options: { type?: ApiErrorType; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = options.type ?? defaultType(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.headers = options.headers ?? {};
  }

  toJSON(): ApiErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): ApiErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * nginx's 499 "client closed request": the answer to a request whose client went away before it
 * was answered. Nobody receives it; it keeps such requests out of the 5xx counts.
 */
export function clientClosedRequest(): ApiError {
  return new ApiError(499 as ContentfulStatusCode, 'The client closed the connection before the request was answered', { code: 'client_closed_request' });
}

/** A 400 about one request field; `param` names it the way the client wrote it, e.g. `input[3]`. */
export function invalidParam(param: string, message: string, code = 'invalid_parameter'): ApiError {
  return new ApiError(400, message, { param, code });
}
