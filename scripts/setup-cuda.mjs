#!/usr/bin/env node
/**
 * `npm run setup:cuda` -- installs onnxruntime-node's CUDA execution provider on a GPU host.
 *
 * The project's .npmrc sets `onnxruntime-node-install=skip` (right for CPU machines and CI), and
 * npm 11 does not run dependencies' install scripts anyway, so the CUDA provider libraries are
 * never fetched. This runs onnxruntime-node's own installer (node_modules/onnxruntime-node/script/
 * install.js) with ONNXRUNTIME_NODE_INSTALL=1, "force install the files not bundled", which on
 * linux/x64 means its `cuda12` manifest; the variable wins over the .npmrc setting
 * (install-utils.js parseInstallFlag). Not `=cuda12`, which the installer's comment suggests: in
 * 1.30.0 parseInstallFlag returns undefined for any named value, and the installer then exits 0
 * without downloading whenever it runs inside an npm script of the project (npm_config_local_prefix
 * = dirname(npm_package_json) looks like onnxruntime's own `npm ci`) -- measured here: exit 0, no
 * files. The installer downloads the Microsoft.ML.OnnxRuntime.Gpu.Linux
 * NuGet package of the same version from api.nuget.org and copies the files listed in its
 * install-metadata.js into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/. Then it checks
 * the files are there and which of their shared-library dependencies (CUDA 12, cuDNN 9) the dynamic
 * linker cannot find.
 *
 *   node scripts/setup-cuda.mjs [--timeout-ms 600000]
 *
 * Exit 0: provider libraries present (run `corom doctor` next to see the CUDA provider load).
 * Exit 1: wrong platform, the installer failed (no network, proxy, nuget down) or timed out, or the
 * files are still missing afterwards -- with one line saying which.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { 'timeout-ms': { type: 'string', default: '600000' } } });
const timeoutMs = Number(values['timeout-ms']);
const say = (line) => process.stderr.write(`setup:cuda: ${line}\n`);
const fail = (line) => {
  say(`FAILED: ${line}`);
  process.exit(1);
};
if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) fail(`--timeout-ms must be a positive integer (got '${values['timeout-ms']}')`);

const platform = `${process.platform}/${process.arch}`;
const require = createRequire(import.meta.url);
let packageDir;
try {
  packageDir = dirname(require.resolve('onnxruntime-node/package.json'));
} catch {
  fail('onnxruntime-node is not installed here; run npm install first');
}
const { version } = require(join(packageDir, 'package.json'));
const metadata = require(join(packageDir, 'script', 'install-metadata.js'));
const manifest = metadata.manifests[`${platform}:cuda12`];
if (!manifest) fail(`onnxruntime-node ${version} has no CUDA 12 provider for ${platform} (its installer supports: ${Object.keys(metadata.manifests).join(', ')})`);

const binDir = join(packageDir, 'bin', 'napi-v6', platform);
const files = Object.keys(manifest).map((f) => join(binDir, f));
const nuget = metadata.packages[`nuget:${platform}:cuda12`];
say(`onnxruntime-node ${version}: fetching ${nuget.name} ${nuget.versions.map((v) => v.version).join('/')} from NuGet into ${binDir}`);
say(`(needs https access to api.nuget.org; honours GLOBAL_AGENT_HTTPS_PROXY; time limit ${timeoutMs} ms)`);

const installer = join(packageDir, 'script', 'install.js');
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: '1' };
for (const name of ['npm_config_onnxruntime_node_install', 'ONNXRUNTIME_NODE_INSTALL_CUDA', 'npm_config_onnxruntime_node_install_cuda', 'npm_config_local_prefix', 'npm_package_json']) delete env[name];
const child = spawn(process.execPath, [installer], { cwd: packageDir, env, stdio: ['ignore', 'inherit', 'pipe'] });
let stderr = '';
child.stderr.on('data', (chunk) => {
  stderr += chunk;
  process.stderr.write(chunk);
});
const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
clearTimeout(timer);
if (signal) fail(`onnxruntime-node's installer did not finish within ${timeoutMs} ms (killed); check network access to api.nuget.org or raise --timeout-ms`);
if (code !== 0) {
  // The installer ends on an unhandled rejection: its first "Error:" line is the cause.
  const cause = stderr.split('\n').find((l) => /^\s*(\w*Error|Error):/.test(l))?.trim() ?? `exit code ${code}`;
  fail(`onnxruntime-node's installer could not download the CUDA provider (${cause}). It needs https access to api.nuget.org (or GLOBAL_AGENT_HTTPS_PROXY); on an offline host, copy ${Object.keys(manifest).map((f) => f.replace(/^\.\//, "")).join(', ')} from the ${nuget.name} ${version} nupkg (runtimes/linux-x64/native/) into ${binDir}`);
}

const missing = files.filter((f) => !existsSync(f));
if (missing.length) fail(`the installer exited 0 but ${missing.join(', ')} are missing`);
say(`provider libraries present:\n${files.map((f) => `  ${f}`).join('\n')}`);

// What the CUDA provider links against that this host lacks (CUDA 12.x runtime/cuBLAS/cuFFT/cuRAND, cuDNN 9.x).
let unresolved = [];
try {
  const ldd = execFileSync('ldd', [join(binDir, 'libonnxruntime_providers_cuda.so')], { encoding: 'utf8', timeout: 10_000 });
  unresolved = [...ldd.matchAll(/^\s*(\S+)\s*=>\s*not found/gm)].map((m) => m[1]);
} catch {
  say('ldd not available: could not check the CUDA/cuDNN libraries the provider links against');
}
if (unresolved.length) {
  say(`WARNING: the dynamic linker cannot find ${unresolved.join(', ')}: install CUDA 12.x and cuDNN 9.x (or add their lib folders to LD_LIBRARY_PATH) before serving on the GPU`);
}
say('next: npx corom doctor   (the "cuda" provider must say "loads"), then: corom serve --device cuda --require-device');
