/**
 * Hub failures a caller may want to tell apart (resolveDefaultModel turns "unreachable" into its
 * offline advice). Both are CoromErrors, so the CLI prints their one line and exits.
 */
import { CoromError } from '../errors.js';

/** The hub could not be reached at all, or kept failing (5xx, dropped connections) past the retries. */
export class HubUnreachableError extends CoromError {
  constructor(
    readonly hubUrl: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the model hub at ${hubUrl}: ${reason}`, { exitCode: 69, ...options }); // EX_UNAVAILABLE
    this.name = 'HubUnreachableError';
  }
}

/** The hub answered, but has no such model (or revision, or required file). */
export class HubNotFoundError extends CoromError {
  constructor(message: string) {
    super(message, { exitCode: 1 });
    this.name = 'HubNotFoundError';
  }
}
