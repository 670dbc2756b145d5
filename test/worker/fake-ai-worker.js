// A Workers AI stand-in for the workerd tests, bound to the Worker under test as its `AI` binding
// (a service binding to this WorkerEntrypoint, so `env.AI.run(model, inputs)` is a real RPC call
// across workerd, shaped like the binding's). It answers `{ shape, data, pooling }` as
// @cf/baai/bge-* do, with vectors the test can recompute (fakeAiVector in fake-ai.ts), counts its
// calls (GET / on this Worker reports them), and fails on the text "FAIL" like a model error would.
import { WorkerEntrypoint } from 'cloudflare:workers';

const DIMENSIONS = { '@cf/baai/bge-small-en-v1.5': 384, '@cf/test/tiny-embed': 4 };

let calls = 0;
let texts = 0;

/** Must match fakeAiVector in fake-ai.ts. */
function vector(text, dims) {
  let codes = 0;
  for (const ch of text) codes += ch.codePointAt(0);
  const out = new Array(dims).fill(0);
  out[0] = text.length;
  out[1] = codes % 1000;
  out[2] = -1;
  for (let i = 3; i < dims; i++) out[i] = (i % 7) / 7;
  return out;
}

export default class FakeAi extends WorkerEntrypoint {
  async run(model, inputs) {
    calls++;
    const dims = DIMENSIONS[model];
    if (dims === undefined) throw new Error(`5007: No such model ${model}`);
    const list = typeof inputs.text === 'string' ? [inputs.text] : inputs.text;
    if (!Array.isArray(list) || list.length > 100) throw new Error('5006: text must be 1 to 100 strings');
    texts += list.length;
    if (list.includes('FAIL')) throw new Error('3010: simulated model failure');
    return { shape: [list.length, dims], data: list.map((t) => vector(t, dims)), pooling: 'mean' };
  }

  async fetch() {
    return Response.json({ calls, texts });
  }
}
