/**
 * Why the core refused or failed a request, as typed errors with a `kind` to switch on. No status
 * codes and no wording for clients here: the HTTP layer (src/http/core-errors.ts) maps each kind to
 * its response in one place, and another caller (a CLI bulk job, a gRPC front) maps them its own way.
 */

export type CoreErrorKind =
  | 'queue_full'
  | 'timeout'
  | 'aborted'
  | 'batch_failed'
  | 'not_ready'
  | 'unknown_model'
  | 'wrong_model_task'
  | 'token_ids_not_supported'
  | 'invalid_token_id';

export abstract class CoreError extends Error {
  abstract readonly kind: CoreErrorKind;
}

/** The model's queue already holds `maxQueue` requests (waiting or running). */
export class QueueFullError extends CoreError {
  readonly kind = 'queue_full';
  constructor(
    readonly maxQueue: number,
    /** Id of the model whose queue is full, when the queue belongs to one. */
    readonly model?: string,
  ) {
    super(`the ${model ? `queue of model '${model}'` : "model's queue"} is full (${maxQueue} requests waiting or running)`);
    this.name = 'QueueFullError';
  }
}

/** The request was not answered within its deadline (waiting plus inference). */
export class QueueTimeoutError extends CoreError {
  readonly kind = 'timeout';
  constructor(
    readonly timeoutMs: number,
    readonly model?: string,
  ) {
    super(`the request was not served within ${timeoutMs} ms`);
    this.name = 'QueueTimeoutError';
  }
}

/** The request's signal aborted (its client went away) before it was answered. */
export class RequestAbortedError extends CoreError {
  readonly kind = 'aborted';
  constructor() {
    super('the request was abandoned by its client');
    this.name = 'RequestAbortedError';
  }
}

/** Inference threw for a batch holding one of the request's sequences; `cause` is the backend's error (never shown to clients). */
export class BatchFailedError extends CoreError {
  readonly kind = 'batch_failed';
  constructor(
    cause: unknown,
    readonly model?: string,
  ) {
    super('inference failed for a batch this request was part of', { cause });
    this.name = 'BatchFailedError';
  }
}

/** The models are loading, failed to load, or an extra readiness check failed; `reason` says which. */
export class NotReadyError extends CoreError {
  readonly kind = 'not_ready';
  constructor(readonly reason: string) {
    super(`not ready: ${reason}`);
    this.name = 'NotReadyError';
  }
}

/** No served model has the requested id. `param` is the request field that named it. */
export class UnknownModelError extends CoreError {
  readonly kind = 'unknown_model';
  constructor(
    readonly model: string,
    readonly served: readonly string[],
    readonly param: string,
  ) {
    super(`the model '${model}' is not served (served: ${served.join(', ')})`);
    this.name = 'UnknownModelError';
  }
}

/** The model exists but serves another task (e.g. a ranker asked for embeddings). */
export class WrongModelTaskError extends CoreError {
  readonly kind = 'wrong_model_task';
  constructor(
    readonly model: string,
    readonly task: string,
    readonly wanted: string,
    readonly param: string,
  ) {
    super(`model '${model}' serves '${task}', not '${wanted}'`);
    this.name = 'WrongModelTaskError';
  }
}

/** Token-id input (or /tokenize) for a model that takes text only. `param` is the request field. */
export class TokenIdsNotSupportedError extends CoreError {
  readonly kind = 'token_ids_not_supported';
  constructor(
    readonly model: string,
    readonly param: string,
  ) {
    super(`model '${model}' takes text only (its backend does not expose token ids); send strings`);
    this.name = 'TokenIdsNotSupportedError';
  }
}

/** A token id outside the model's vocabulary; `param` is its exact path, e.g. `input[1][3]`. */
export class InvalidTokenIdError extends CoreError {
  readonly kind = 'invalid_token_id';
  constructor(
    readonly param: string,
    readonly id: number,
    readonly vocabSize: number,
  ) {
    super(`${param}: token id ${id} is outside this model's vocabulary; ids must be integers from 0 to ${vocabSize - 1}`);
    this.name = 'InvalidTokenIdError';
  }
}

/** Every core error, discriminated by `kind` (switch on it to map them exhaustively). */
export type AnyCoreError =
  | QueueFullError
  | QueueTimeoutError
  | RequestAbortedError
  | BatchFailedError
  | NotReadyError
  | UnknownModelError
  | WrongModelTaskError
  | TokenIdsNotSupportedError
  | InvalidTokenIdError;
