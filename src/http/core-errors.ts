/**
 * The one place core errors (src/core/errors.ts) become HTTP answers: status, OpenAI error type,
 * code, param and headers. Routes let core errors propagate; the app's onError calls this.
 */
import type { AnyCoreError } from '../core/errors.js';
import { BackendUnavailableError } from '../errors.js';
import { ApiError, clientClosedRequest, invalidParam } from './api-error.js';

const RETRY_SOON = { 'Retry-After': '1' };

/** The HTTP answer of a core error; `requestId` is quoted where the client needs it to report a failure. */
export function coreErrorToApiError(err: AnyCoreError, requestId: string): ApiError {
  switch (err.kind) {
    case 'queue_full':
      return new ApiError(429, `Model '${err.model ?? 'default'}' is overloaded: ${err.maxQueue} requests are already queued. Retry after a short wait.`, {
        code: 'queue_full',
        headers: RETRY_SOON,
      });
    case 'timeout':
      return new ApiError(503, `Model '${err.model ?? 'default'}' did not answer within ${err.timeoutMs} ms (the server is busy). Retry later or send fewer inputs.`, {
        type: 'timeout_error',
        code: 'request_timeout',
        headers: RETRY_SOON,
      });
    case 'aborted':
      return clientClosedRequest();
    case 'batch_failed':
      // A backend that said why it cannot compute (a Worker model over its memory budget, an
      // artifact missing from R2) is unavailable, not broken: 503 with its reason and code.
      if (err.cause instanceof BackendUnavailableError) {
        return new ApiError(503, err.cause.message, { code: err.cause.code, headers: { 'Retry-After': String(err.cause.retryAfterSeconds) } });
      }
      return new ApiError(500, `Inference failed for this request (request id ${requestId}). Other requests are unaffected; retrying may succeed.`, {
        code: 'inference_failed',
      });
    case 'not_ready':
      return new ApiError(503, `The service is not ready: ${err.reason}. Retry shortly.`, { code: 'model_not_ready', headers: RETRY_SOON });
    case 'unknown_model':
      return new ApiError(404, `The model '${err.model}' does not exist on this server; served models: ${err.served.map((k) => `'${k}'`).join(', ')} (see GET /v1/models)`, {
        param: err.param,
        code: 'model_not_found',
      });
    case 'wrong_model_task':
      return invalidParam(err.param, `model '${err.model}' serves ${err.task}, not ${err.wanted}; choose a model for ${err.wanted} (see GET /v1/models)`, 'wrong_model_task');
    case 'token_ids_not_supported':
      return invalidParam(err.param, `model '${err.model}' takes text only (its backend does not expose token ids); send strings`, 'token_ids_not_supported');
    case 'invalid_token_id':
      return invalidParam(err.param, err.message, 'invalid_token_id');
  }
}
