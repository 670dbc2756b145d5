/**
 * A small Prometheus registry: counters, gauges read at scrape time, and histograms, rendered in
 * the text exposition format 0.0.4. Hand-written because the service needs only these three
 * kinds and must run unchanged on Node and Workers (prom-client is Node-only).
 */

type Labels = Record<string, string>;

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabelValue(value)}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Number.isNaN(value)) return 'NaN';
  return String(value);
}

/** Stable key of a label set, independent of property order. */
function keyOf(labelNames: readonly string[], labels: Labels): string {
  return labelNames.map((name) => labels[name] ?? '').join('\u0000');
}

interface Metric {
  readonly name: string;
  render(): string;
}

abstract class LabelledMetric<S> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected stateFor(labels: Labels, create: () => S): S {
    for (const name of Object.keys(labels)) {
      if (!this.labelNames.includes(name)) throw new Error(`metric ${this.name} has no label '${name}'`);
    }
    const key = keyOf(this.labelNames, labels);
    let entry = this.series.get(key);
    if (!entry) {
      const ordered: Labels = {};
      for (const name of this.labelNames) ordered[name] = labels[name] ?? '';
      entry = { labels: ordered, state: create() };
      this.series.set(key, entry);
    }
    return entry.state;
  }

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${type}\n`;
  }

  abstract render(): string;
}

export class Counter extends LabelledMetric<{ value: number }> {
  inc(labels: Labels = {}, by = 1): void {
    this.stateFor(labels, () => ({ value: 0 })).value += by;
  }
  render(): string {
    let out = this.header('counter');
    for (const { labels, state } of this.series.values()) out += `${this.name}${renderLabels(labels)} ${formatNumber(state.value)}\n`;
    return out;
  }
}

/** A gauge whose values are read from the live objects when scraped. */
export class CollectedGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => Array<{ labels: Labels; value: number }>,
  ) {}
  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const { labels, value } of this.collect()) out += `${this.name}${renderLabels(labels)} ${formatNumber(value)}\n`;
    return out;
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends LabelledMetric<HistogramState> {
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(labels: Labels, value: number): void {
    const state = this.stateFor(labels, () => ({ counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) state.counts[i]++;
    state.sum += value;
    state.count++;
  }
  /** Sum and count of one series (tests, /info). */
  summary(labels: Labels = {}): { sum: number; count: number } {
    const state = this.series.get(keyOf(this.labelNames, labels))?.state;
    return { sum: state?.sum ?? 0, count: state?.count ?? 0 };
  }
  render(): string {
    let out = this.header('histogram');
    for (const { labels, state } of this.series.values()) {
      this.buckets.forEach((bound, i) => {
        out += `${this.name}_bucket${renderLabels(labels, ['le', formatNumber(bound)])} ${state.counts[i]}\n`;
      });
      out += `${this.name}_bucket${renderLabels(labels, ['le', '+Inf'])} ${state.count}\n`;
      out += `${this.name}_sum${renderLabels(labels)} ${formatNumber(state.sum)}\n`;
      out += `${this.name}_count${renderLabels(labels)} ${state.count}\n`;
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.register(new Counter(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, labelNames, buckets));
  }

  gauge(name: string, help: string, collect: () => Array<{ labels: Labels; value: number }>): CollectedGauge {
    return this.register(new CollectedGauge(name, help, collect));
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The service's metrics, one instance per app. */
export class ServiceMetrics {
  readonly registry = new MetricsRegistry();
  readonly requests = this.registry.counter('corom_http_requests_total', 'HTTP requests by route, method and status.', ['route', 'method', 'status']);
  readonly errors = this.registry.counter('corom_http_errors_total', 'HTTP error responses by route, status and OpenAI error type.', ['route', 'status', 'type']);
  readonly requestSeconds = this.registry.histogram('corom_http_request_duration_seconds', 'HTTP request latency in seconds, by route.', ['route'], LATENCY_BUCKETS);
  readonly batchSize = this.registry.histogram('corom_batch_size', 'Sequences per inference batch.', ['model'], [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  readonly batchPaddedTokens = this.registry.histogram(
    'corom_batch_padded_tokens',
    'Padded tokens per inference batch (rows x longest row), what --max-batch-tokens bounds.',
    ['model'],
    [16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536],
  );
  readonly inferenceSeconds = this.registry.histogram('corom_inference_duration_seconds', 'Inference latency per batch in seconds.', ['model'], LATENCY_BUCKETS);
  readonly inferenceFailures = this.registry.counter('corom_inference_failures_total', 'Batches whose inference threw.', ['model']);
  readonly tokens = this.registry.counter('corom_tokens_total', 'Tokens embedded (after truncation, [CLS]/[SEP] included).', ['model']);
  readonly answers = this.registry.counter('corom_answers_total', 'Successful model-route answers by model and the backend that computed them (x-corom-backend).', ['model', 'backend']);

  /** Queue gauges read the batchers at scrape time. */
  trackQueues(read: () => Array<{ model: string; sequences: number; requests: number }>): void {
    this.registry.gauge('corom_queue_depth', 'Sequences waiting for a batch.', () => read().map((q) => ({ labels: { model: q.model }, value: q.sequences })));
    this.registry.gauge('corom_queue_requests', 'Requests admitted and not yet answered (bounded by --max-queue).', () =>
      read().map((q) => ({ labels: { model: q.model }, value: q.requests })),
    );
  }
}
