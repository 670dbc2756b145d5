/**
 * Which onnxruntime-node execution providers can run here, and why not when one cannot.
 *
 * onnxruntime-node 1.30.0 bundles the CPU provider in its npm package; the CUDA provider
 * (`libonnxruntime_providers_cuda.so` + `libonnxruntime_providers_shared.so`, linux/x64 only) is
 * fetched by the package's own install script from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet
 * package into its bin folder (node_modules/onnxruntime-node/script/install-metadata.js). This
 * project's .npmrc skips that download, so on a GPU host it has to be run on purpose:
 * `npm run setup:cuda` (scripts/setup-cuda.mjs). When session creation fails, onnxruntime's own
 * error is only "Failed to load shared library"; the file checks here name what is missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CoromError } from '../errors.js';
import { GraphBuilder, TensorType } from '../onnx/graph-builder.js';

export type Device = 'cpu' | 'cuda';

/** The command that installs the CUDA provider libraries (package.json "setup:cuda"). */
export const SETUP_CUDA_COMMAND = 'npm run setup:cuda';

/** The provider libraries onnxruntime-node's installer puts in its bin folder for `cuda12` on linux/x64. */
export const CUDA_PROVIDER_LIBRARIES = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'] as const;

/** CUDA was asked for with --require-device and cannot run. Exit code 69 (EX_UNAVAILABLE). */
export class DeviceUnavailableError extends CoromError {
  constructor(reason: string) {
    super(`--device cuda --require-device: CUDA execution provider unavailable: ${reason}; run ${SETUP_CUDA_COMMAND} on a GPU host (NVIDIA driver, CUDA 12.x, cuDNN 9.x)`, { exitCode: 69 });
    this.name = 'DeviceUnavailableError';
  }

  /** The same error again from its message (it crosses the inference thread's boundary as text). */
  static fromMessage(message: string): DeviceUnavailableError {
    const error = new DeviceUnavailableError('');
    error.message = message;
    return error;
  }
}

/** onnxruntime-node's version and the folder its native binaries (and provider libraries) live in. */
export function ortNodePackage(): { version: string; binDir: string } {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('onnxruntime-node/package.json');
  const { version } = require('onnxruntime-node/package.json') as { version: string };
  return { version, binDir: join(dirname(manifest), 'bin', 'napi-v6', process.platform, process.arch) };
}

/** Where the CUDA provider can come from on this platform, or why it cannot. */
export function cudaPlatformProblem(platform: string = process.platform, arch: string = process.arch): string | undefined {
  return platform === 'linux' && arch === 'x64' ? undefined : `onnxruntime-node ships its CUDA provider for linux/x64 only (this is ${platform}/${arch})`;
}

/** The CUDA provider libraries present and missing in onnxruntime-node's bin folder. */
export function cudaProviderLibraries(binDir: string = ortNodePackage().binDir): { present: string[]; missing: string[] } {
  const present: string[] = [];
  const missing: string[] = [];
  for (const name of CUDA_PROVIDER_LIBRARIES) (existsSync(join(binDir, name)) ? present : missing).push(name);
  return { present, missing };
}

/**
 * Shared libraries the CUDA provider needs that the dynamic linker cannot find (libcudart,
 * libcublas, libcudnn ...), from `ldd`; empty when ldd is absent or the provider is not installed.
 */
export function unresolvedCudaDependencies(binDir: string = ortNodePackage().binDir): Promise<string[]> {
  const library = join(binDir, 'libonnxruntime_providers_cuda.so');
  if (!existsSync(library)) return Promise.resolve([]);
  return new Promise((resolve) => {
    execFile('ldd', [library], { timeout: 10_000 }, (err, stdout) => {
      if (err && !stdout) return resolve([]);
      resolve([...stdout.matchAll(/^\s*(\S+)\s*=>\s*not found/gm)].map((m) => m[1]!));
    });
  });
}

/**
 * Why the CUDA provider cannot load, known without trying: wrong platform or provider library
 * files absent. Checked before creating a session, which would only fail with onnxruntime's
 * "Failed to load shared library" and a multi-line native log on stderr.
 */
export function cudaMissingPieces(): string | undefined {
  const platform = cudaPlatformProblem();
  if (platform) return platform;
  const { binDir } = ortNodePackage();
  const { missing } = cudaProviderLibraries(binDir);
  return missing.length ? `${missing.join(' and ')} not found in ${binDir}` : undefined;
}

/** One line saying why the CUDA provider did not load, naming the missing file where one is missing. */
export async function cudaUnavailableReason(err?: unknown): Promise<string> {
  const missing = cudaMissingPieces();
  if (missing) return missing;
  const { binDir } = ortNodePackage();
  const unresolved = await unresolvedCudaDependencies(binDir);
  if (unresolved.length) return `libonnxruntime_providers_cuda.so needs ${unresolved.join(', ')}, which the dynamic linker cannot find (install CUDA 12.x and cuDNN 9.x, or add their lib folders to LD_LIBRARY_PATH)`;
  return err === undefined ? 'unknown reason' : `onnxruntime: ${firstLine(err)}`;
}

let probeModel: Uint8Array | undefined;

/** A one-node ONNX model (Identity over a float vector): enough for a provider to be created. */
function tinyModel(): Uint8Array {
  if (probeModel) return probeModel;
  const g = new GraphBuilder();
  const x = g.input('x', TensorType.FLOAT, [1]);
  g.output('y', TensorType.FLOAT, [1]);
  g.node('Identity', [x], 'y');
  probeModel = g.serialize({ purpose: 'corom execution-provider probe' });
  return probeModel;
}

export type ProviderProbe = { provider: Device; loads: true } | { provider: Device; loads: false; reason: string };

/**
 * Whether a session with only `provider` can be created here: a real session over a one-node
 * model, run once. CPU should always load; CUDA needs the provider libraries, CUDA, cuDNN and a GPU.
 */
export async function probeExecutionProvider(provider: Device): Promise<ProviderProbe> {
  if (provider === 'cuda') {
    const missing = cudaMissingPieces();
    if (missing) return { provider, loads: false, reason: missing };
  }
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(tinyModel(), { executionProviders: [provider] });
    await session.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) });
    return { provider, loads: true };
  } catch (err) {
    return { provider, loads: false, reason: provider === 'cuda' ? await cudaUnavailableReason(err) : firstLine(err) };
  } finally {
    await session?.release().catch(() => {});
  }
}

export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
