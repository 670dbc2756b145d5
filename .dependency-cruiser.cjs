/**
 * The layer order of corom-edge, enforced by `npm test` (`npm run lint:layers`). Bottom to top:
 *
 *   1. contracts      src/errors.ts, src/engine/types.ts
 *   2. blocks         src/tokenizer, src/checkpoint, src/quantize, src/onnx, src/runtime, src/hub,
 *                     src/store, src/retrieval, models/, src/retry.ts, src/flags.ts
 *   3. engine         src/engine
 *   4. core           src/core (model contract, queue, batching: no Hono, no status codes)
 *   5. service        src/http, src/eval, src/playground
 *   6. entry points   src/node, src/cli, worker/, integrations/, scripts/ (and test/)
 *
 * A module may import its own layer and the layers below it, never above; no cycles anywhere.
 */
const ENTRY = '^(src/node|src/cli|worker|integrations|scripts|test)/';
const SERVICE = '^src/(http|eval|playground)/';
const CORE = '^src/core/';
const ENGINE = '^src/engine/(?!types\\.ts$)';
const BLOCKS = '^(src/(tokenizer|checkpoint|quantize|onnx|runtime|hub|store|retrieval)/|models/|src/(retry|flags)\\.ts$)';
const CONTRACTS = '^(src/errors\\.ts$|src/engine/types\\.ts$)';

const above = {
  contracts: [BLOCKS, ENGINE, CORE, SERVICE, ENTRY],
  blocks: [ENGINE, CORE, SERVICE, ENTRY],
  engine: [CORE, SERVICE, ENTRY],
  core: [SERVICE, ENTRY],
  service: [ENTRY],
};
const from = { contracts: CONTRACTS, blocks: BLOCKS, engine: ENGINE, core: CORE, service: SERVICE };

/**
 * Rules beyond the layer order, one row each: [name, why, importer path, forbidden target path].
 * All are errors.
 */
const narrower = [
  ['core-without-http', 'The core speaks typed results, not HTTP: no Hono, no status codes.',
    CORE, '(^|/)node_modules/(hono|@hono)/'],
  ['no-test-or-script-in-product', 'Shipped code never imports tests or scripts.',
    '^(src|worker|integrations|models)/', '^(test|scripts)/'],
  ['node-server-without-cli', 'The Node server is an entry point of its own: shared flag parsing lives in src/flags.ts, not in the CLI.',
    '^src/node/', '^src/cli/'],
  ['integrations-without-eval', 'LangChain retrievers use src/retrieval (BM25, RRF), not the evaluation harness.',
    '^integrations/', '^src/eval/'],
  ['worker-without-converter', 'The Worker reads converted artifacts; the converter and the store\'s file code are Node-only (corom.json types come from src/store/metadata.ts).',
    '^worker/', '^src/(onnx|checkpoint|quantize)/|^src/store/(?!metadata\\.ts$)'],
  ['worker-without-node', 'The Worker runs in workerd: nothing from the Node server, the CLI or Node-only runtimes.',
    '^worker/', '^(src/node|src/cli|integrations)/|^src/runtime/ort-node'],
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Cycles make the layers meaningless and the load order fragile.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(above).map(([layer, targets]) => ({
      name: `no-upward-from-${layer}`,
      severity: 'error',
      comment: `The ${layer} layer imports only its own layer and those below it (see the header of this file).`,
      from: { path: from[layer] },
      to: { path: targets.join('|') },
    })),
    ...narrower.map(([name, comment, fromPath, toPath]) => ({
      name,
      severity: 'error',
      comment,
      from: { path: fromPath },
      to: { path: toPath },
    })),
    {
      name: 'worker-without-protobuf',
      severity: 'error',
      comment:
        'The Workers load .onnx/.ort files with onnxruntime-web and never encode protobuf: onnx-proto (protobufjs, ~270 kB of a bundle) must not be reachable from worker/, not even through src/ (tensor names come from src/onnx/tensor-names.ts).',
      from: { path: '^worker/' },
      to: { path: '(^|/)node_modules/(onnx-proto|protobufjs)/', reachable: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] },
  },
};
