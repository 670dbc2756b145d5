/**
 * Errors a user can act on (bad file, bad flag, bad input line). They carry one clear line;
 * the CLI prints `corom: <message>` and exits with `exitCode`, with no stack trace unless --debug.
 * Anything that is not a CoromError is a bug and is reported as such.
 */
export class CoromError extends Error {
  readonly exitCode: number;
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'CoromError';
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** A model folder or file that is missing, truncated, corrupt or of an unsupported kind. */
export class ModelFileError extends CoromError {
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, { exitCode: 3, ...options });
    this.name = 'ModelFileError';
  }
}

/** Wrong command-line usage (unknown flag, bad value). Exit code 2, as getopt-style tools do. */
export class UsageError extends CoromError {
  constructor(message: string) {
    super(message, { exitCode: 2 });
    this.name = 'UsageError';
  }
}

/**
 * A backend that cannot compute right now and says why (a Worker's model over its memory budget,
 * an artifact that cannot be read): the service answers 503 with this message, `code` and Retry-After.
 */
export class BackendUnavailableError extends CoromError {
  constructor(
    message: string,
    readonly code = 'model_unavailable',
    readonly retryAfterSeconds = 30,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackendUnavailableError';
  }
}

/**
 * A model of the wrong kind for what was asked: embeddings from a cross-encoder ranker, or
 * pair scores from an embedding model. Usage-class (exit 2): the model is fine, the request is not.
 */
export class ModelKindError extends UsageError {
  constructor(
    readonly model: string,
    readonly kind: 'embedding' | 'rerank',
    readonly wanted: 'embedding' | 'rerank',
  ) {
    super(
      `${model} is ${kind === 'rerank' ? 'a rerank model (a cross-encoder: it scores query-passage pairs, use `corom rank`)' : 'an embedding model (it gives sentence vectors, use `corom embed` or `corom pipeline`)'}; this needs ${wanted === 'rerank' ? 'a rerank model' : 'an embedding model'}`,
    );
    this.name = 'ModelKindError';
  }
}
