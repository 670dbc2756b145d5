/**
 * `corom doctor` on this machine: the text and --json shapes, flags agreeing with /proc/cpuinfo,
 * the CPU provider loading, and the CUDA provider reported as it really is (with the missing
 * library named when the provider files are absent, as on a CPU machine).
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCpuInfo } from '../../src/runtime/cpu-features.js';
import { cudaProviderLibraries } from '../../src/runtime/ort-node-providers.js';
import type { DoctorReport } from '../../src/node/doctor.js';
import { runCli } from '../helpers/cli.js';

const cudaFilesMissing = cudaProviderLibraries().missing.length > 0;

describe('corom doctor', () => {
  it('--json: one object with cpu, memory, runtime versions, providers, cuda libraries and gpu', async () => {
    const { code, stdout, stderr } = await runCli(['doctor', '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(Object.keys(report)).toEqual(['cpu', 'memory', 'runtime', 'providers', 'cudaLibraries', 'gpu']);
    expect(report.runtime.node).toBe(process.version);
    expect(report.runtime.onnxruntimeNode).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.runtime.onnxruntimeWeb).toMatch(/^\d+\.\d+\.\d+$/);
    expect(report.cpu.usableCpus).toBeGreaterThan(0);
    expect(report.memory.totalGiB).toBeGreaterThan(0);
    expect(report.providers.map((p) => p.provider)).toEqual(['cpu', 'cuda']);
    expect(report.providers[0]).toEqual({ provider: 'cpu', loads: true });
    if (existsSync('/proc/cpuinfo')) {
      const expected = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
      if (Object.values(expected.flags).some(Boolean)) expect(report.cpu.flags).toEqual(expected.flags);
    }
    const cuda = report.providers[1]!;
    // Never claims CUDA without its provider files; names them when they are missing.
    if (cudaFilesMissing) {
      expect(cuda.loads).toBe(false);
      expect(cuda.loads === false && cuda.reason).toMatch(/libonnxruntime_providers_(shared|cuda)\.so.* not found in /);
      expect(report.cudaLibraries.missing.length).toBeGreaterThan(0);
    }
    if (report.gpu.nvidiaSmi === null) expect(report.gpu.nvidiaSmiProblem).toMatch(/nvidia-smi/);
  });

  it('text: one labelled line per fact, a provider line each, and the install hint when CUDA is missing', async () => {
    const { code, stdout } = await runCli(['doctor']);
    expect(code).toBe(0);
    for (const label of ['cpu:', 'cores:', 'cpu flags:', 'memory:', 'node:', 'onnxruntime-node ', 'execution providers', 'cuda provider libraries in ', 'gpu:', 'driver:']) {
      expect(stdout.split('\n').some((l) => l.startsWith(label)), label).toBe(true);
    }
    expect(stdout).toMatch(/^ {2}cpu {3}loads$/m);
    expect(stdout).toMatch(/^ {2}cuda  (loads|does not load: .+)$/m);
    if (existsSync('/proc/cpuinfo') && /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8'))) expect(stdout).toMatch(/AVX2 yes/);
    if (cudaFilesMissing) {
      expect(stdout).toMatch(/^ {2}missing: libonnxruntime_providers_cuda\.so$/m);
      expect(stdout).toContain('npm run setup:cuda');
    }
  });

  it('rejects an unknown flag with a usage error', async () => {
    const { code, stderr } = await runCli(['doctor', '--gpu']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^corom doctor: Unknown option '--gpu'/);
  });
});
