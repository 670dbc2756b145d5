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
