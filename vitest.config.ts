import { configDefaults, defineConfig } from 'vitest/config';

/*
 * Test tiers (vitest projects). A file's tier is decided by where it lives and how it is named, so
 * new files land in the right tier without touching this list:
 *   unit         everything not listed below: in-process, no sockets, no servers, no child
 *                processes (test/setup/unit-guard.ts refuses them); onnxruntime only on the tiny
 *                fixture. Needs no build.
 *   integration  servers on 127.0.0.1, spawned CLIs (dist/), workerd, Chromium, `npm start`;
 *                new files: name them `*.int.test.ts` (or `*.e2e.test.ts` for a browser).
 *   reliability  load, soak, slow clients, overload, hostile input and faults over sockets.
 *   bench        the benchmark scripts in quick mode (numbers not asserted, only the report shape).
 * `npm test` runs unit + integration; `npm run test:all` (and .ci/run) runs every tier.
 */
const INTEGRATION = [
  'test/**/*.int.test.ts',
  'test/**/*.e2e.test.ts',
  'test/cli/bad-input.test.ts', // one case runs the built binary
  'test/cli/npm-start.test.ts',
  'test/http/service.test.ts',
  'test/http/clients.test.ts',
  'test/http/serve-cli.test.ts',
  'test/hub/cli.test.ts', // the fake hub listens on 127.0.0.1
  'test/hub/fetch.test.ts',
  'test/hub/resolve.test.ts',
  'test/langchain/remote-retry.test.ts',
  'test/langchain/remote-serve.test.ts',
  'test/langchain/workerd.test.ts',
  'test/worker/edge-app.test.ts', // workerd
  'test/worker/edge-limits.test.ts',
  'test/worker/failover.test.ts',
  'test/worker/ort-web-workerd*.test.ts',
];
const RELIABILITY = ['test/reliability/**/*.test.ts'];
const BENCH = ['test/scripts/bench*.test.ts', 'test/**/*.bench.test.ts'];

export default defineConfig({
  test: {
    // onnxruntime-node is a native addon: separate processes are the safe isolation for it.
    pool: 'forks',
    // 2-core machines: two files at a time keeps timings honest and memory bounded.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 10_000,
    // One temporary directory per run, removed at its end (test/setup/temp-dir.ts).
    globalSetup: ['test/setup/temp-dir.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...INTEGRATION, ...RELIABILITY, ...BENCH],
          setupFiles: ['test/setup/unit-guard.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      // The socket-heavy tiers run after the unit tier, one tier at a time, so that reliability and
      // bench runs do not share the two cores with unrelated files.
      { extends: true, test: { name: 'integration', include: INTEGRATION, sequence: { groupOrder: 1 } } },
      { extends: true, test: { name: 'reliability', include: RELIABILITY, sequence: { groupOrder: 2 } } },
      { extends: true, test: { name: 'bench', include: BENCH, testTimeout: 300_000, sequence: { groupOrder: 3 } } },
    ],
  },
});
