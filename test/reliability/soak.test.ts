/**
 * Short CI run of scripts/reliability/soak.ts: a few thousand mixed requests against one
 * `corom serve` process, its RSS sampled from /proc, then SIGTERM with requests in flight.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { removeFixtureModel } from '../../scripts/reliability/serve-child.js';
import { formatSoakReport, runSoak, soakProblems } from '../../scripts/reliability/soak.js';

afterAll(removeFixtureModel);

const REQUESTS = Number(process.env.COROM_RELIABILITY_SOAK_REQUESTS ?? 3000);

describe('soak (one server process, mixed routes)', () => {
  it('answers everything completely, RSS grows < 10% after warm-up, SIGTERM drains in-flight requests and exits 0', async () => {
    const report = await runSoak({ requests: REQUESTS, connections: 16 });
    process.stderr.write(formatSoakReport(report) + '\n');

    expect(soakProblems(report)).toEqual([]);
    expect(report.statuses['200']).toBe(REQUESTS);
    expect(report.samples.length).toBeGreaterThan(5);
    expect(report.growth).toBeLessThan(0.1);
    expect(report.shutdown.completed).toBe(report.shutdown.inFlight);
    expect(report.shutdown.exitCode).toBe(0);
    expect(report.shutdown.exitMs).toBeLessThan(report.shutdown.drainTimeoutMs);
  }, 90_000);
});
