/**
 * The error a remote call ends with: the server's own words (OpenAI's `error.message`, or the
 * TEI / Cohere / Jina equivalents), its HTTP status and error fields, so callers can branch on
 * `status` and users read what the server said.
 */
import { CoromError } from '../../src/errors.js';

export interface CoromHttpErrorFields {
  /** HTTP status; undefined when no answer came (connection refused, timeout). */
  status?: number;
  /** OpenAI error `type`, e.g. "authentication_error"; null when the server gave none. */
  type?: string | null;
  /** OpenAI error `code`, e.g. "invalid_api_key". */
  code?: string | null;
  /** OpenAI error `param`, e.g. "input[3]". */
  param?: string | null;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  retryAfterMs?: number;
  /** Requests made before giving up (1 = no retry). */
  attempts: number;
  cause?: unknown;
}

export class CoromHttpError extends CoromError {
  readonly status: number | undefined;
  readonly type: string | null;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number;

  constructor(message: string, fields: CoromHttpErrorFields) {
    super(message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.name = 'CoromHttpError';
    this.status = fields.status;
    this.type = fields.type ?? null;
    this.code = fields.code ?? null;
    this.param = fields.param ?? null;
    this.retryAfterMs = fields.retryAfterMs;
    this.attempts = fields.attempts;
  }
}
