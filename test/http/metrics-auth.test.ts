import { describe, expect, it } from 'vitest';
import { digestMatches } from '../../src/http/middleware/auth.js';
import { MetricsRegistry } from '../../src/http/metrics.js';

describe('Prometheus registry', () => {
  it('renders counters, collected gauges and cumulative histograms in the text format', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('demo_requests_total', 'Requests.', ['route', 'status']);
    counter.inc({ route: '/a"b\\c\nd', status: '200' });
    counter.inc({ status: '200', route: '/a"b\\c\nd' }, 2);
    registry.gauge('demo_queue', 'Queue.', () => [{ labels: { model: 'm' }, value: 3 }]);
    const histogram = registry.histogram('demo_size', 'Sizes.', ['model'], [1, 4, 16]);
    for (const v of [1, 3, 4, 20]) histogram.observe({ model: 'm' }, v);
    expect(registry.render()).toBe(
      [
        '# HELP demo_requests_total Requests.',
        '# TYPE demo_requests_total counter',
        'demo_requests_total{route="/a\\"b\\\\c\\nd",status="200"} 3',
        '# HELP demo_queue Queue.',
        '# TYPE demo_queue gauge',
        'demo_queue{model="m"} 3',
        '# HELP demo_size Sizes.',
        '# TYPE demo_size histogram',
        'demo_size_bucket{model="m",le="1"} 1',
        'demo_size_bucket{model="m",le="4"} 3',
        'demo_size_bucket{model="m",le="16"} 3',
        'demo_size_bucket{model="m",le="+Inf"} 4',
        'demo_size_sum{model="m"} 28',
        'demo_size_count{model="m"} 4',
        '',
      ].join('\n'),
    );
    expect(histogram.summary({ model: 'm' })).toEqual({ sum: 28, count: 4 });
  });

  it('refuses unknown labels and duplicate names', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('x_total', 'X.', ['a']);
    expect(() => counter.inc({ b: '1' })).toThrow(/no label 'b'/);
    expect(() => registry.counter('x_total', 'again')).toThrow(/registered twice/);
  });
});

describe('API key digest comparison', () => {
  const digest = (bytes: number[]) => Uint8Array.from({ length: 32 }, (_, i) => bytes[i] ?? 0);
  it('matches any configured key and nothing else', () => {
    const keys = [digest([1, 2, 3]), digest([9, 9, 9])];
    expect(digestMatches(digest([9, 9, 9]), keys)).toBe(true);
    expect(digestMatches(digest([1, 2, 3]), keys)).toBe(true);
    expect(digestMatches(digest([1, 2, 4]), keys)).toBe(false);
    expect(digestMatches(digest([1, 2, 3]).subarray(0, 31), keys)).toBe(false);
    expect(digestMatches(digest([1]), [])).toBe(false);
  });
});
