/**
 * Short CI run of scripts/reliability/load.ts: 64 connections against `corom serve --max-queue 32`
 * for a few seconds, mixing single texts, 256-text batches and rerank calls.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeFixtureModel } from '../../scripts/reliability/serve-child.js';
import { formatLoadReport, loadProblems, runLoad } from '../../scripts/reliability/load.js';

afterAll(removeFixtureModel);

const SECONDS = Number(process.env.COROM_RELIABILITY_LOAD_SECONDS ?? 5);

describe('load (autocannon, 64 connections, overloaded on purpose)', () => {
  it('answers every request with a complete 200 or a 429 + Retry-After; no 5xx, no dropped connection, queue bounded', async () => {
    const report = await runLoad({ durationSeconds: SECONDS, connections: 64, maxQueue: 32 });
    process.stderr.write(formatLoadReport(report) + '\n');

    expect(loadProblems(report)).toEqual([]);
    expect(report.errors + report.timeouts).toBe(0);
    expect(report.statuses['200']).toBeGreaterThan(0);
    // Overload is answered, not queued: 64 connections against a queue of 32 must see 429s ...
    expect(report.statuses['429']).toBeGreaterThan(0);
    expect(report.maxAdmitted).toBeLessThanOrEqual(32);
    expect(report.metricSamples).toBeGreaterThan(0);
    // How fast the 429s come back (p50/p99 against the 200s) is a measurement, not a pass/fail
    // condition here: the report printed above and `scripts/reliability/load.ts` show it.
    expect(report.latency429.count).toBeGreaterThan(0);
  }, 60_000);
});
