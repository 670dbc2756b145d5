/**
 * A circuit breaker for one origin, per isolate. Closed: requests go through. After
 * `failureThreshold` consecutive failures it opens: requests skip the origin (and go to the next
 * backend at once, instead of each waiting for a timeout). After `retryAfterMs` it is half-open:
 * exactly one trial request goes through; success closes it, failure opens it for another
 * interval.
 */

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  failureThreshold: number;
  retryAfterMs: number;
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.retryAfterMs ? 'half-open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Whether a request may go to the origin now; in half-open state the caller becomes the one trial. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  failure(): void {
    this.failures++;
    const wasTrial = this.trialInFlight;
    this.trialInFlight = false;
    if (wasTrial || this.openedAt !== undefined || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
  }

  /** Ends a trial that said nothing about the origin's health (e.g. it was skipped for another reason). */
  release(): void {
    this.trialInFlight = false;
  }
}
