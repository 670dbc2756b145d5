/**
 * The cross-encoder benchmark: pairs/s of the engine's Ranker vs transformers.js on the SAME ONNX
 * file, and rerank requests/s through a server that reports a ranker.
 *
 * transformers.js' `text-classification` pipeline cannot score a (query, passage) pair: it takes
 * single texts (no `text_pair`) and applies softmax over the labels, which for a one-logit ranker is
 * always 1. So the comparison uses the path that pipeline wraps, and that transformers.js' own
 * cross-encoder examples use: `AutoTokenizer(query, {text_pair})` + `AutoModelForSequenceClassification`
 * on our converted `model.fp32.onnx` / `model.int8.onnx`, then sigmoid of `logits`. Our graph's
 * `logits` output is [batch] where HF exports [batch, 1]; transformers.js passes the tensor through
 * untouched, so nothing is adapted beyond reading it as one logit per pair (checked against our
 * logits before timing). One difference remains and is stated in the report: transformers.js
 * truncates a long pair by cutting its tail at 128 tokens, ours truncates longest_first as the
 * ModelScope pipeline does -- the same number of tokens per pair, so the same compute.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postJsonUnderLoad, type LoadResult } from './http-load.js';
import { summarize, timeIt, type Summary } from './stats.js';
import { localTransformersJs, transformersJsLoadOptions, writeTransformersJsFolder } from './transformers-js.js';

/** One rerank request's worth of work: a query and the passages to score against it. */
export interface RerankRequest {
  query: string;
  passages: string[];
}

interface Squad {
  data: { paragraphs: { context: string; qas: { question: string }[] }[] }[];
}

/**
 * `pairs` (query, passage) pairs from CMRC 2018 dev in requests of `perQuery` passages: each
 * question with its own passage and the passages that follow it in the file.
 */
export function rerankRequests(file: string, pairs: number, perQuery: number): RerankRequest[] {
  const squad = JSON.parse(readFileSync(file, 'utf8')) as Squad;
  const passages: string[] = [];
  const questions: { q: string; p: number }[] = [];
  for (const article of squad.data) {
    for (const para of article.paragraphs) {
      passages.push(para.context);
      for (const qa of para.qas) if (qa.question.trim() !== '') questions.push({ q: qa.question, p: passages.length - 1 });
    }
  }
  const requests: RerankRequest[] = [];
  for (let i = 0, left = pairs; left > 0; i++, left -= perQuery) {
    const { q, p } = questions[(i * 7) % questions.length]!;
    const n = Math.min(perQuery, left);
    requests.push({ query: q, passages: Array.from({ length: n }, (_, j) => passages[(p + j) % passages.length]!) });
  }
  return requests;
}

/**
 * Pairs/s of two rankers over all requests, one request per call, `runs` timed runs each after one
 * warm-up request each. The runs alternate (A B, B A, A B, ...) so that load that comes and goes on
 * a shared machine falls on both sides alike: measured one side after the other, the ratio swung
 * from 0.63x to 1.15x between runs on a 2-core machine shared with other work.
 */
export async function pairsPerSecondSideBySide(
  a: (r: RerankRequest) => Promise<unknown>,
  b: (r: RerankRequest) => Promise<unknown>,
  requests: RerankRequest[],
  runs: number,
): Promise<[Summary, Summary]> {
  await a(requests[0]!);
  await b(requests[0]!);
  const pairs = requests.reduce((s, r) => s + r.passages.length, 0);
  const time = (rank: typeof a) => timeIt(async () => { for (const r of requests) await rank(r); });
  const msA: number[] = [];
  const msB: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      msA.push(await time(a));
      msB.push(await time(b));
    } else {
      msB.push(await time(b));
      msA.push(await time(a));
    }
  }
  const rate = (ms: number[]) => summarize(ms.map((m) => (pairs * 1000) / m));
  return [rate(msA), rate(msB)];
}

/** A folder in transformers.js' layout whose ONNX files are symlinks to our converted ranker's. */
export async function transformersJsRankerFolder(converted: string, workDir: string, maxLength: number): Promise<string> {
  const root = join(workDir, 'transformers-js-ranker');
  await writeTransformersJsFolder(converted, join(root, 'ranker'), maxLength, {
    model_type: 'bert',
    architectures: ['BertForSequenceClassification'],
    num_labels: 1,
    id2label: { 0: 'LABEL_0' },
    label2id: { LABEL_0: 0 },
  });
  return root;
}

export interface TransformersJsRanker {
  /** Logits of the query against each passage, in input order. */
  logits(query: string, passages: string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export async function loadTransformersJsRanker(root: string, dtype: 'fp32' | 'int8', threads: number, maxLength: number): Promise<TransformersJsRanker> {
  const tjs = await localTransformersJs(root);
  const tokenizer = await tjs.AutoTokenizer.from_pretrained('ranker');
  const model = await tjs.AutoModelForSequenceClassification.from_pretrained(
    'ranker',
    transformersJsLoadOptions(dtype, threads) as Parameters<typeof tjs.AutoModelForSequenceClassification.from_pretrained>[1],
  );
  return {
    async logits(query, passages) {
      const inputs = tokenizer(new Array<string>(passages.length).fill(query), { text_pair: passages, padding: true, truncation: true, max_length: maxLength });
      const { logits } = (await model(inputs)) as { logits: { data: Float32Array; dims: number[] } };
      if (logits.data.length !== passages.length) throw new Error(`transformers.js returned ${logits.data.length} logits (dims ${logits.dims.join('x')}) for ${passages.length} pairs`);
      return logits.data;
    },
    dispose: async () => {
      await model.dispose();
    },
  };
}

export interface RerankLoadResult extends LoadResult {
  pairsPerSec: number;
}

/**
 * The id of the model a server reports as a ranker (`kind: "rerank"` in /v1/models), or a reason
 * why there is none: older servers report no kind, and then rerank means cosine, not a cross-encoder.
 */
export async function findServedRanker(url: string): Promise<{ id: string } | { missing: string }> {
  let body: unknown;
  try {
    const res = await fetch(`${url}/v1/models`);
    if (!res.ok) return { missing: `GET /v1/models answered ${res.status}` };
    body = await res.json();
  } catch (err) {
    return { missing: `GET /v1/models failed: ${(err as Error).message}` };
  }
  const data = (body as { data?: { id?: unknown; kind?: unknown }[] }).data;
  if (!Array.isArray(data)) return { missing: 'GET /v1/models has no data array' };
  const ranker = data.find((m) => m.kind === 'rerank' && typeof m.id === 'string');
  if (ranker) return { id: ranker.id as string };
  return { missing: `the server reports no model with kind "rerank" (models: ${data.map((m) => `${String(m.id)}:${String(m.kind ?? 'no kind')}`).join(', ') || 'none'})` };
}

/** POST /v1/rerank (query + its passages) under autocannon load. */
export async function rerankLoadTest(url: string, model: string, requests: RerankRequest[], connections: number, seconds: number): Promise<RerankLoadResult> {
  const perRequest = requests[0]!.passages.length;
  const { requestsPerSec, ...rest } = await postJsonUnderLoad(
    `${url}/v1/rerank`,
    (i) => {
      const r = requests[i % requests.length]!;
      return { model, query: r.query, documents: r.passages };
    },
    connections,
    seconds,
    // Seconds per request, not per pair: the queue behind `connections` requests must fit.
    120,
  );
  return { requestsPerSec, pairsPerSec: requestsPerSec * perRequest, ...rest };
}
