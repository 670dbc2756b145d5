/**
 * The Worker's onnxruntime-web setup (./ort-web-workerd.ts: 'onnxruntime-web/wasm', one thread,
 * a precompiled module) under Node, where the .wasm is compiled from the installed package: what
 * scripts/edge-memory.ts measures and the tests run, so both load models as the Worker does.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-web/wasm';
import { ORT_WEB_WASM_FILE, ortWebForWorkerd, type WorkerdOrt } from './ort-web-workerd.js';

let compiled: Promise<WebAssembly.Module> | undefined;

/** The path of onnxruntime-web's dist/ort-wasm-simd-threaded.wasm. */
export function ortWebWasmPath(): string {
  return createRequire(import.meta.url).resolve(`onnxruntime-web/${ORT_WEB_WASM_FILE}`);
}

export async function ortWebWorkerdInNode(): Promise<WorkerdOrt> {
  compiled ??= readFile(ortWebWasmPath()).then((bytes) => WebAssembly.compile(bytes));
  return ortWebForWorkerd(ort, await compiled);
}
