/**
 * What every runner shares around its DynamicBatcher, whatever its task: the request's submit
 * options, the state of its queue (full, bound, occupancy), the error a full queue answers with,
 * and the backend labels of the batches that answered a request.
 */
import type { DynamicBatcher } from './batcher.js';
import { QueueFullError } from './errors.js';

export interface SubmitOptions {
  /** Deadline in the queue (waiting plus inference). */
  timeoutMs: number;
  /** Tag of the request (its request id) in batch reports. */
  requestId: string;
  /** The request's signal: when its client goes away, its queued work is dropped. */
  signal?: AbortSignal;
  /**
   * The request's waitUntil, in runtimes that cancel a request's timers and I/O when it ends
   * (workerd): batches the request's context runs for others outlive it (see DynamicBatcher).
   */
  keepAlive?: (work: Promise<unknown>) => void;
}

/** What DynamicBatcher.submit takes from a request's SubmitOptions. */
export function batcherOptions(options: SubmitOptions) {
  return {
    timeoutMs: options.timeoutMs,
    tag: options.requestId,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.keepAlive ? { keepAlive: options.keepAlive } : {}),
  };
}

/** The part of a DynamicBatcher that says how full its queue is (the same whatever it batches). */
type QueueState = Pick<DynamicBatcher<unknown, unknown>, 'full' | 'config' | 'queuedSequences' | 'pendingRequests'>;

/** A served model behind a DynamicBatcher: its queue's state, seen the same way for every task. */
export abstract class BatchedRunner {
  /** Unix seconds when the model was put in service (OpenAI's `created`). */
  readonly created = Math.floor(Date.now() / 1000);
  abstract readonly id: string;
  protected abstract readonly batcher: QueueState;

  /** True when a request would be refused now (QueueFullError); checked before tokenizing, which is wasted work then. */
  get full(): boolean {
    return this.batcher.full;
  }

  get maxQueue(): number {
    return this.batcher.config.maxQueue;
  }

  get queue(): { sequences: number; requests: number } {
    return { sequences: this.batcher.queuedSequences, requests: this.batcher.pendingRequests };
  }

  /** The error of a full queue (load shedding throws it before reading a body). */
  queueFull(): QueueFullError {
    return new QueueFullError(this.maxQueue, this.id);
  }

  /** The batcher refuses a full queue too, but only after tokenizing; this refuses before. */
  protected admitOrThrow(): void {
    if (this.full) throw this.queueFull();
  }
}

/** Backend labels of the batches that answered, each once, in order of first use. */
export function backendsInOrder(outputs: readonly { backend: string }[]): string[] {
  const backends: string[] = [];
  for (const o of outputs) if (!backends.includes(o.backend)) backends.push(o.backend);
  return backends;
}
