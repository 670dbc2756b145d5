/**
 * A value an isolate makes once and shares with every request that needs it (a model description
 * read from R2, an onnxruntime session): concurrent callers get the same promise; a failure is
 * forgotten, so the next call tries again (an R2 hiccup, a file uploaded after the first request),
 * and its message is kept for /health and /info until a later attempt succeeds.
 */
export class SharedOnce<T> {
  private pending: Promise<T> | undefined;
  private made: T | undefined;
  private failure: string | undefined;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    this.pending ??= this.make().then(
      (value) => {
        this.failure = undefined;
        return (this.made = value);
      },
      (error: unknown) => {
        this.pending = undefined;
        this.failure = error instanceof Error ? error.message : String(error);
        throw error;
      },
    );
    return this.pending;
  }

  /** The value once made; does not start making it. */
  get value(): T | undefined {
    return this.made;
  }

  /** Why the last attempt failed, until one succeeds. */
  get lastError(): string | undefined {
    return this.failure;
  }
}
