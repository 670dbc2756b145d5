// wrangler bundles `*.wasm` imports as CompiledWasm modules (wrangler.toml `rules`): workerd hands
// the importer an already compiled WebAssembly.Module, never the bytes.
declare module '*.wasm' {
  const wasmModule: WebAssembly.Module;
  export default wasmModule;
}
