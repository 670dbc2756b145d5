/** Checks against a running server: a normal request still works, nothing went wrong inside. */
import { expect } from 'vitest';
import { serverErrors, sumMetric } from '../../scripts/reliability/prometheus.js';
import type { ServeChild } from '../../scripts/reliability/serve-child.js';

/** A normal embedding request answers 200 with one 32-dim vector (the fixture), within `withinMs`. */
export async function expectServes(url: string, context = '', withinMs = 5000): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${url}v1/embeddings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input: '吃完海鲜可以喝牛奶吗?', encoding_format: 'float' }),
    signal: AbortSignal.timeout(withinMs),
  });
  const body = (await res.json()) as { data?: { embedding: number[] }[] };
  expect(res.status, `normal request after ${context}`).toBe(200);
  expect(body.data?.[0]?.embedding.length, `normal request after ${context}`).toBe(32);
  return performance.now() - started;
}

export async function metricsText(url: string): Promise<string> {
  return (await fetch(`${url}metrics`)).text();
}

/** The process is alive, answered no 5xx, logged no internal error, and its queue drained. */
export async function expectUnharmed(server: ServeChild): Promise<void> {
  expect(server.child.exitCode, `server exited:\n${server.stderr()}`).toBeNull();
  expect(server.child.signalCode).toBeNull();
  const metrics = await metricsText(server.url);
  expect(serverErrors(metrics), metrics.split('\n').filter((l) => /status="5/.test(l)).join('\n')).toBe(0);
  expect(server.stderr()).not.toMatch(/internal error|inference failed|Unhandled|uncaught/i);
  await expectQueueDrains(server.url);
}

/** No request stays admitted forever: corom_queue_requests returns to 0. */
export async function expectQueueDrains(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let admitted = NaN;
  while (performance.now() < deadline) {
    admitted = sumMetric(await metricsText(url), 'corom_queue_requests');
    if (admitted === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${admitted} requests still admitted after ${timeoutMs} ms: a stuck batch`);
}
