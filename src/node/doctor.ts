/**
 * `corom doctor`: what this host offers the engine -- CPU and its SIMD flags, memory, Node and
 * onnxruntime versions, which execution providers really load (a one-node session each), the CUDA
 * provider libraries, GPU and driver -- as text for a bug report or as JSON for machines.
 * Every field is read or measured here; nothing is assumed (a missing source says so).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, freemem, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { CPU_FLAGS, int8Hint, parseCpuInfo, type CpuFlagName } from '../runtime/cpu-features.js';
import {
  cudaPlatformProblem,
  cudaProviderLibraries,
  ortNodePackage,
  probeExecutionProvider,
  SETUP_CUDA_COMMAND,
  unresolvedCudaDependencies,
  type ProviderProbe,
} from '../runtime/ort-node-providers.js';

export interface DoctorReport {
  cpu: {
    model: string;
    /** Where the flags came from, or why there are none. */
    flagsSource: string;
    flags: Record<CpuFlagName, boolean> | null;
    int8Hint: string | null;
    logicalCpus: number;
    usableCpus: number;
  };
  memory: { totalGiB: number; freeGiB: number };
  runtime: { node: string; platform: string; onnxruntimeNode: string; onnxruntimeWeb: string | null };
  providers: ProviderProbe[];
  cudaLibraries: { binDir: string; present: string[]; missing: string[]; unresolvedDependencies: string[]; platformProblem: string | null };
  gpu: { nvidiaSmi: string[] | null; nvidiaSmiProblem: string | null; driver: string | null };
}

export interface DoctorSources {
  /** /proc/cpuinfo text; undefined = read it (Linux). */
  cpuinfo?: string | null;
  /** PATH lookup of nvidia-smi is done by execFile; tests may replace the command. */
  nvidiaSmi?: string;
}

const GiB = 2 ** 30;
const round1 = (n: number): number => Math.round(n * 10) / 10;

function run(command: string, args: string[]): Promise<{ ok: true; stdout: string } | { ok: false; problem: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return resolve({ ok: false, problem: `${command} not on PATH` });
      resolve({ ok: false, problem: `${command} failed: ${(stderr || err.message).split('\n')[0]!.trim()}` });
    });
  });
}

/**
 * An installed package's version, found from its entry point upwards: onnxruntime-web's
 * `exports` does not expose ./package.json.
 */
async function packageVersion(name: string): Promise<string | null> {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(name));
  } catch {
    return null;
  }
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = await readFile(join(dir, 'package.json'), 'utf8').then((t) => JSON.parse(t) as { name?: string; version?: string }, () => undefined);
    if (manifest?.name === name) return manifest.version ?? null;
  }
  return null;
}

export async function collectDoctorReport(sources: DoctorSources = {}): Promise<DoctorReport> {
  const cpuinfo = sources.cpuinfo !== undefined ? sources.cpuinfo : await readFile('/proc/cpuinfo', 'utf8').catch(() => null);
  const parsed = cpuinfo ? parseCpuInfo(cpuinfo) : undefined;
  const hasFlags = parsed !== undefined && Object.values(parsed.flags).some(Boolean);
  const flagsSource = !cpuinfo ? `no /proc/cpuinfo on ${process.platform}: flags unknown` : hasFlags ? '/proc/cpuinfo' : '/proc/cpuinfo lists none of these flags (not x86?)';

  const onnxruntimeWeb = await packageVersion('onnxruntime-web');
  const { version: onnxruntimeNode, binDir } = ortNodePackage();

  // One at a time: a failing provider must not disturb the other's session creation.
  const providers: ProviderProbe[] = [];
  for (const provider of ['cpu', 'cuda'] as const) providers.push(await probeExecutionProvider(provider));

  const libraries = cudaProviderLibraries(binDir);
  const smi = await run(sources.nvidiaSmi ?? 'nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader']);
  const driver = await readFile('/proc/driver/nvidia/version', 'utf8').then((t) => t.split('\n')[0]!.trim(), () => null);

  return {
    cpu: {
      model: parsed?.model ?? cpus()[0]?.model ?? 'unknown',
      flagsSource,
      flags: hasFlags ? parsed.flags : null,
      int8Hint: hasFlags ? int8Hint(parsed.flags) : null,
      logicalCpus: cpus().length,
      usableCpus: availableParallelism(),
    },
    memory: { totalGiB: round1(totalmem() / GiB), freeGiB: round1(freemem() / GiB) },
    runtime: { node: process.version, platform: `${process.platform}/${process.arch}`, onnxruntimeNode, onnxruntimeWeb },
    providers,
    cudaLibraries: {
      binDir,
      ...libraries,
      unresolvedDependencies: await unresolvedCudaDependencies(binDir),
      platformProblem: cudaPlatformProblem() ?? null,
    },
    gpu: {
      nvidiaSmi: smi.ok ? smi.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : null,
      nvidiaSmiProblem: smi.ok ? null : smi.problem,
      driver,
    },
  };
}

export function formatDoctorReport(r: DoctorReport): string {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  const flags = r.cpu.flags;
  const lines = [
    'corom doctor',
    `cpu:        ${r.cpu.model}`,
    `cores:      ${r.cpu.logicalCpus} logical, ${r.cpu.usableCpus} usable by this process`,
    `cpu flags:  ${flags ? (Object.keys(CPU_FLAGS) as CpuFlagName[]).map((f) => `${f} ${yes(flags[f])}`).join(', ') : r.cpu.flagsSource}`,
    ...(r.cpu.int8Hint ? [`int8:       ${r.cpu.int8Hint}`] : []),
    `memory:     ${r.memory.totalGiB} GiB total, ${r.memory.freeGiB} GiB free`,
    `node:       ${r.runtime.node} (${r.runtime.platform})`,
    `onnxruntime-node ${r.runtime.onnxruntimeNode}, onnxruntime-web ${r.runtime.onnxruntimeWeb ?? 'not installed'}`,
    'execution providers (a one-node session each):',
    ...r.providers.map((p) => `  ${p.provider.padEnd(5)} ${p.loads ? 'loads' : `does not load: ${p.reason}`}`),
    `cuda provider libraries in ${r.cudaLibraries.binDir}:`,
    ...(r.cudaLibraries.platformProblem ? [`  ${r.cudaLibraries.platformProblem}`] : []),
    ...r.cudaLibraries.present.map((f) => `  present: ${f}`),
    ...r.cudaLibraries.missing.map((f) => `  missing: ${f}`),
    ...(r.cudaLibraries.unresolvedDependencies.length ? [`  the dynamic linker cannot find: ${r.cudaLibraries.unresolvedDependencies.join(', ')}`] : []),
    `gpu:        ${r.gpu.nvidiaSmi ? r.gpu.nvidiaSmi.join('; ') : `none found (${r.gpu.nvidiaSmiProblem})`}`,
    `driver:     ${r.gpu.driver ?? 'no /proc/driver/nvidia/version'}`,
  ];
  const cuda = r.providers.find((p) => p.provider === 'cuda');
  if (cuda && !cuda.loads) {
    lines.push(
      r.cudaLibraries.missing.length && !r.cudaLibraries.platformProblem
        ? `next:       on a GPU host, ${SETUP_CUDA_COMMAND} installs the CUDA provider (needs NVIDIA driver, CUDA 12.x, cuDNN 9.x)`
        : 'next:       corom serve --device cuda falls back to the CPU here; --require-device makes it exit instead',
    );
  }
  return lines.join('\n') + '\n';
}
