/**
 * Dynamic batching for one model, runtime-neutral (timers and promises only).
 *
 * A request submits its sequences as one group. Sequences of all waiting groups are kept in
 * per-length FIFO buckets; a batch starts with the oldest waiting sequence (so nothing starves)
 * and is filled with the sequences closest to it in length, while the padded cost
 * (rows x longest row) stays within `maxBatchTokens` and rows within `maxBatchSize`. A group's
 * sequences may land in several batches; its results come back in its own order.
 *
 * Admission is bounded: at most `maxQueue` groups may be waiting or running; one more is
 * refused at once (QueueFullError) rather than queued into a timeout. Each group has a
 * deadline (QueueTimeoutError), and may carry an AbortSignal: a request whose client
 * went away stops waiting and its queued sequences are never computed. If a batch's inference
 * throws, only the groups with a sequence in that batch fail (BatchFailedError); the batcher keeps
 * going.
 *
 * With `enabled: false` every group runs alone as one batch (for benchmarks), still FIFO and
 * still bounded.
 *
 * Runtimes that tie timers and I/O to the request that created them (workerd cancels them when
 * that request ends or its client goes away) pass `keepAlive` with a group (the request's
 * waitUntil). Then every timer and batch the batcher starts in a request's context is kept alive
 * by that request, and after a batch the next one is scheduled from the context of a request that
 * is still waiting (each waiting group is woken with a promise created in its own context), never
 * from the context that ran the last batch, whose request may be long gone. Without it a batch
 * shared by several requests died with the client of the one request that happened to run it,
 * and the others waited until their deadline.
 *
 * Failures are the core's typed errors (./errors.ts); the HTTP layer maps them to statuses.
 */
import { BatchFailedError, QueueFullError, QueueTimeoutError, RequestAbortedError } from './errors.js';

export interface BatcherConfig {
  /** false: one request = one batch, no merging. */
  enabled: boolean;
  /** Padded tokens per batch (rows x longest row). Raised to the longest single sequence if lower. */
  maxBatchTokens: number;
  /** Rows per batch. */
  maxBatchSize: number;
  /** Groups (requests) admitted at once, waiting or running. */
  maxQueue: number;
  /** How long an idle batcher waits for more requests before starting a batch. */
  batchWaitMs: number;
  /** Batches running at once (1 suits a CPU backend that already uses every core). */
  concurrency: number;
}

export interface BatchReport {
  size: number;
  /** Sum of the sequence lengths. */
  tokens: number;
  /** rows x longest row, what the budget bounds. */
  paddedTokens: number;
  seconds: number;
  ok: boolean;
  error?: unknown;
  /** Opaque tags of the groups that had a sequence in the batch (request ids). */
  tags: string[];
}

export interface BatcherHooks<I, O> {
  /** Runs one batch; must return one output per input, in order. */
  run(items: I[]): Promise<O[]>;
  /** Sequence length used for bucketing and the token budget. */
  lengthOf(item: I): number;
  /** Called after every batch (metrics, error logging). */
  onBatch?(report: BatchReport): void;
  /** Monotonic clock in ms; injectable for tests. */
  now?(): number;
  /** Id of the model this queue serves, carried by its errors. */
  owner?: string;
}

interface Group<I, O> {
  items: readonly I[];
  results: O[];
  /** Sequences not yet answered. */
  remaining: number;
  /** Sequences still in the buckets (not yet taken into a batch). */
  queued: number;
  settled: boolean;
  tag: string;
  resolve(results: O[]): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Removes the abort listener. */
  unlisten: (() => void) | undefined;
  /** Keeps work started in this group's request context alive past the request (SubmitOptions.keepAlive). */
  keepAlive: ((work: Promise<unknown>) => void) | undefined;
  /** With keepAlive: schedules the next batch from this group's request context. */
  wake: (() => void) | undefined;
}

interface Entry<I, O> {
  group: Group<I, O>;
  index: number;
  length: number;
  /** Arrival order, to find the oldest waiting sequence. */
  order: number;
}

/** A FIFO with O(1) shift, compacted as it drains. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class DynamicBatcher<I, O> {
  readonly config: Readonly<BatcherConfig>;
  private readonly hooks: BatcherHooks<I, O>;
  private readonly now: () => number;
  /** Enabled mode: waiting sequences by length. */
  private readonly buckets = new Map<number, Fifo<Entry<I, O>>>();
  /** Disabled mode: waiting groups. */
  private readonly groups = new Fifo<Group<I, O>>();
  private waitingSequences = 0;
  private admitted = 0;
  private running = 0;
  private arrivals = 0;
  private waitTimer: ReturnType<typeof setTimeout> | undefined;
  /** Groups admitted and not yet settled (to wake one that waits, see `handOff`). */
  private readonly live = new Set<Group<I, O>>();

  constructor(config: BatcherConfig, hooks: BatcherHooks<I, O>) {
    for (const key of ['maxBatchTokens', 'maxBatchSize', 'maxQueue', 'concurrency'] as const) {
      if (!Number.isInteger(config[key]) || config[key] < 1) throw new RangeError(`batcher: ${key} must be a positive integer, got ${config[key]}`);
    }
    if (!(config.batchWaitMs >= 0)) throw new RangeError(`batcher: batchWaitMs must be >= 0, got ${config.batchWaitMs}`);
    this.config = { ...config };
    this.hooks = hooks;
    this.now = hooks.now ?? (() => performance.now());
  }

  /** Sequences waiting for a batch (the queue-depth gauge). */
  get queuedSequences(): number {
    return this.waitingSequences;
  }

  /** Requests admitted and not yet answered. */
  get pendingRequests(): number {
    return this.admitted;
  }

  /** True when `submit` would refuse a request now (QueueFullError). */
  get full(): boolean {
    return this.admitted >= this.config.maxQueue;
  }

  /**
   * Queues a request's sequences and resolves with one output per item, in order.
   * Rejects with QueueFullError at once when full, QueueTimeoutError after `timeoutMs`,
   * BatchFailedError when a batch holding one of its sequences failed, RequestAbortedError when
   * `signal` aborts first (its sequences still waiting are dropped, not computed). `keepAlive`
   * is the request's waitUntil in runtimes that cancel a finished request's timers and I/O.
   */
  submit(
    items: readonly I[],
    options: { timeoutMs?: number; tag?: string; signal?: AbortSignal; keepAlive?: (work: Promise<unknown>) => void } = {},
  ): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (options.signal?.aborted) return Promise.reject(new RequestAbortedError());
    if (this.full) return Promise.reject(new QueueFullError(this.config.maxQueue, this.hooks.owner));
    return new Promise<O[]>((resolve, reject) => {
      const group: Group<I, O> = {
        items,
        results: new Array<O>(items.length),
        remaining: items.length,
        queued: items.length,
        settled: false,
        tag: options.tag ?? '',
        resolve,
        reject,
        timer: undefined,
        unlisten: undefined,
        keepAlive: options.keepAlive,
        wake: undefined,
      };
      this.admitted++;
      this.live.add(group);
      if (group.keepAlive) this.armWake(group);
      this.waitingSequences += items.length;
      if (options.timeoutMs !== undefined && Number.isFinite(options.timeoutMs)) {
        const timeoutMs = options.timeoutMs;
        group.timer = setTimeout(() => this.settle(group, new QueueTimeoutError(timeoutMs, this.hooks.owner)), timeoutMs);
      }
      const signal = options.signal;
      if (signal) {
        const onAbort = (): void => this.settle(group, new RequestAbortedError());
        signal.addEventListener('abort', onAbort, { once: true });
        group.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      if (this.config.enabled) {
        items.forEach((item, index) => {
          const length = this.hooks.lengthOf(item);
          let bucket = this.buckets.get(length);
          if (!bucket) this.buckets.set(length, (bucket = new Fifo()));
          bucket.push({ group, index, length, order: this.arrivals++ });
        });
      } else {
        this.groups.push(group);
      }
      this.schedule(group);
    });
  }

  /** A free slot, sequences waiting, and no batch already scheduled. */
  private get canStartBatch(): boolean {
    return this.running < this.config.concurrency && this.waitingSequences > 0 && this.waitTimer === undefined;
  }

  /**
   * `wake` resolves a promise created here, in the group's request context; workerd runs its
   * continuation in that context (cross-request promise resolution), so the timer and the batch
   * that follow belong to a request that is still waiting.
   */
  private armWake(group: Group<I, O>): void {
    void new Promise<void>((resolve) => (group.wake = resolve)).then(() => {
      if (group.settled) return;
      this.armWake(group);
      this.schedule(group, true);
    });
  }

  /**
   * Starts batches while there is work and a free slot. An idle batcher first waits
   * `batchWaitMs` for company; after a batch, whatever arrived meanwhile goes at once.
   * Runs in the context of `owner`'s request, which keeps the timer and its batches alive.
   */
  private schedule(owner: Group<I, O> | undefined, afterBatch = false): void {
    if (!this.canStartBatch) return;
    const fullBatchWaiting = !this.config.enabled || this.waitingSequences >= this.config.maxBatchSize;
    // A macrotask, not a microtask: requests that arrive in the same I/O turn join the batch.
    const delayMs = this.config.batchWaitMs > 0 && this.running === 0 && !fullBatchWaiting && !afterBatch ? this.config.batchWaitMs : 0;
    let done: (() => void) | undefined;
    if (owner?.keepAlive) owner.keepAlive(new Promise<void>((resolve) => (done = resolve)));
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      const batches = this.startBatches();
      if (done) void Promise.allSettled(batches).then(done);
    }, delayMs);
  }

  /**
   * After a batch: the next one is scheduled from a waiting request's context when every waiting
   * request has one (all of them are woken; the first to run takes it, the rest find it taken),
   * else here.
   */
  private handOff(): void {
    if (!this.canStartBatch) return;
    for (const group of this.live) {
      if (group.queued > 0 && !group.wake) return this.schedule(undefined, true);
    }
    for (const group of this.live) if (group.queued > 0) group.wake!();
  }

  private startBatches(): Promise<void>[] {
    const started: Promise<void>[] = [];
    while (this.running < this.config.concurrency) {
      const batch = this.config.enabled ? this.takeBucketed() : this.takeGroup();
      if (batch.length === 0) break;
      started.push(this.runBatch(batch));
    }
    return started;
  }

  /** Disabled mode: the next live group, all its sequences. */
  private takeGroup(): Entry<I, O>[] {
    for (let group = this.groups.shift(); group; group = this.groups.shift()) {
      if (group.settled) continue;
      this.waitingSequences -= group.queued;
      group.queued = 0;
      return group.items.map((_, index) => ({ group, index, length: this.hooks.lengthOf(group.items[index]), order: 0 }));
    }
    return [];
  }

  /** Head of a bucket after dropping sequences of groups that already failed or timed out. */
  private liveHead(bucket: Fifo<Entry<I, O>>): Entry<I, O> | undefined {
    let head = bucket.peek();
    while (head && head.group.settled) {
      bucket.shift();
      head = bucket.peek();
    }
    return head;
  }

  private takeBucketed(): Entry<I, O>[] {
    // The oldest waiting sequence anchors the batch.
    let anchor: Entry<I, O> | undefined;
    let longest = 0;
    for (const [length, bucket] of this.buckets) {
      const head = this.liveHead(bucket);
      if (!head) {
        this.buckets.delete(length);
        continue;
      }
      longest = Math.max(longest, length);
      if (!anchor || head.order < anchor.order) anchor = head;
    }
    if (!anchor) return [];
    const budget = Math.max(this.config.maxBatchTokens, longest);
    const batch: Entry<I, O>[] = [];
    let rowLength = 0;
    const take = (length: number): void => {
      const bucket = this.buckets.get(length);
      if (!bucket) return;
      for (let head = this.liveHead(bucket); head; head = this.liveHead(bucket)) {
        const padded = Math.max(rowLength, length);
        if (batch.length >= this.config.maxBatchSize || (batch.length + 1) * padded > budget) return;
        bucket.shift();
        head.group.queued--;
        this.waitingSequences--;
        batch.push(head);
        rowLength = padded;
      }
    };
    // Fill outwards from the anchor's length: the closest lengths waste the least padding.
    for (let distance = 0; batch.length < this.config.maxBatchSize; distance++) {
      const shorter = anchor.length - distance;
      const longer = anchor.length + distance;
      if (shorter < 0 && longer > longest) break;
      take(longer);
      if (distance > 0) take(shorter);
    }
    return batch;
  }

  private async runBatch(batch: Entry<I, O>[]): Promise<void> {
    this.running++;
    const started = this.now();
    let tokens = 0;
    let rowLength = 0;
    for (const entry of batch) {
      tokens += entry.length;
      rowLength = Math.max(rowLength, entry.length);
    }
    const tags = [...new Set(batch.map((entry) => entry.group.tag))];
    let outputs: O[] | undefined;
    let failure: unknown;
    try {
      outputs = await Promise.resolve().then(() => this.hooks.run(batch.map((entry) => entry.group.items[entry.index])));
      if (!Array.isArray(outputs) || outputs.length !== batch.length) {
        throw new Error(`backend returned ${Array.isArray(outputs) ? outputs.length : typeof outputs} outputs for ${batch.length} inputs`);
      }
    } catch (err) {
      failure = err;
      outputs = undefined;
    }
    const seconds = (this.now() - started) / 1000;
    this.running--;
    if (outputs) {
      batch.forEach((entry, row) => {
        const group = entry.group;
        if (group.settled) return;
        group.results[entry.index] = outputs[row];
        if (--group.remaining === 0) this.settle(group);
      });
    } else {
      const error = new BatchFailedError(failure, this.hooks.owner);
      for (const entry of batch) this.settle(entry.group, error);
    }
    try {
      this.hooks.onBatch?.({ size: batch.length, tokens, paddedTokens: batch.length * rowLength, seconds, ok: !failure, error: failure, tags });
    } finally {
      this.handOff();
    }
  }

  private settle(group: Group<I, O>, error?: Error): void {
    if (group.settled) return;
    group.settled = true;
    if (group.timer !== undefined) clearTimeout(group.timer);
    group.unlisten?.();
    this.admitted--;
    this.live.delete(group);
    // Sequences still in the buckets are dropped lazily when they reach a bucket's head.
    this.waitingSequences -= group.queued;
    group.queued = 0;
    if (error) group.reject(error);
    else group.resolve(group.results);
  }
}
