import { BACKENDS, DTYPES, type Dtype } from '../../engine/types.js';
import { UsageError } from '../../errors.js';
import { loadDataset } from '../../eval/datasets/index.js';
import { DEFAULT_RRF_K } from '../../retrieval/fusion.js';
import { DEFAULT_METRICS, parseMetrics } from '../../eval/metrics.js';
import { createProgress } from '../../eval/progress.js';
import { formatCompareJson, formatCompareTable, formatRunJson, formatRunTable, summarizeDataset } from '../../eval/report.js';
import { evaluate, RETRIEVER_NAMES, type EvalSettings } from '../../eval/run.js';
import { DATASET_FORMATS } from '../../eval/types.js';
import { defaultCacheRoot } from '../../eval/vector-cache.js';
import { choice, parseFlags, positiveInt } from '../../flags.js';
import type { Command } from '../command.js';
import { engineOptions, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../model-flags.js';

const DEFAULT_RERANK_DEPTH = 100;

const USAGE = `Usage: corom eval --retriever dense|bm25|hybrid --dataset PATH [--rerank DIR [--rerank-depth K]] [options]

Scores a retriever on a passage-retrieval dataset with the coROM model card's metrics.
Progress goes to stderr, the result table (or JSON) to stdout.

Dataset:
  --dataset PATH        DuReader-retrieval folder (passage-collection/ + dev/dev.json) or its dev.json,
                        MS MARCO folder (collection.tsv, queries*.tsv, qrels*.tsv),
                        or SQuAD-style JSON (CMRC 2018, DRCD): each question's context is its relevant passage
  --format F            dureader|msmarco|squad (default: detected from the layout)
  --split NAME          query set: DuReader dev (default) / MS MARCO suffix, e.g. dev.small
  --limit N             evaluate the first N queries only (the collection stays whole)
  --metrics LIST        default ${DEFAULT_METRICS} (mrr@K, recall@K)

Retrievers:
  --retriever R         dense (the model), bm25 (CJK unigram+bigram BM25), hybrid (RRF of both)
  --k1 X, --b X         BM25 parameters (default 1.2, 0.75)
  --rrf-k N             hybrid: k of 1/(k + rank) (default ${DEFAULT_RRF_K})
${MODEL_FLAGS_USAGE}
  --chunk               split passages longer than max length into windows, score each passage by its best
                        window (default: truncate at max length, as the model card does)
  --stride N            --chunk: word pieces between window starts (default: half a window)
  --batch N             passages per engine call (default 32)
  --cache-dir DIR       where passage vectors are cached (default $COROM_CACHE_DIR, else
                        $COROM_HOME/eval-cache, i.e. ~/.cache/corom/eval-cache); runs resume from it
  --no-cache            embed everything, write nothing

Reranking (second stage):
  --rerank DIR          a cross-encoder ranker (converted or raw ranking checkpoint folder) reorders each
                        query's first-stage top K; the table shows the metrics before and after
  --rerank-depth K      how many first-stage passages to rerank per query (default ${DEFAULT_RERANK_DEPTH})
  --rerank-dtype D      fp32|int8|q4 weights of the ranker (default fp32)
  --rerank-backend B    node|wasm for the ranker (default node); pairs are truncated longest_first at the
                        ranker's max length (128 for coROM rankers)

Output:
  --json                JSON instead of a table
  --compare A B         evaluate two artifacts side by side with metric deltas (B - A): two dtypes of
                        --model (e.g. --compare fp32 int8) or two model folders`;

/** `--compare A B` takes two values, which node:util parseArgs cannot express; take them out first. */
function extractCompare(argv: string[]): { rest: string[]; compare?: [string, string] } {
  const at = argv.indexOf('--compare');
  if (at < 0) return { rest: argv };
  const a = argv[at + 1];
  const b = argv[at + 2];
  if (a === undefined || b === undefined || a.startsWith('--') || b.startsWith('--')) {
    throw new UsageError('--compare needs two values: two dtypes (--compare fp32 int8) or two model folders');
  }
  const rest = [...argv.slice(0, at), ...argv.slice(at + 3)];
  if (rest.includes('--compare')) throw new UsageError('--compare given twice');
  return { rest, compare: [a, b] };
}

function numberFlag(flag: string, value: string | undefined, check: (n: number) => boolean, range: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${flag} must be ${range} (got '${value}')`);
  return n;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'retrieval evaluation (MRR@10, Recall@1/50/1000) of dense, BM25 or hybrid retrieval, optionally reranked by a cross-encoder',
  usage: USAGE,
  async run(argv, io) {
    const { rest, compare } = extractCompare(argv);
    const { values } = parseFlags(
      rest,
      {
        ...MODEL_FLAGS,
        retriever: { type: 'string' },
        dataset: { type: 'string' },
        format: { type: 'string' },
        split: { type: 'string' },
        metrics: { type: 'string' },
        json: { type: 'boolean' },
        chunk: { type: 'boolean' },
        stride: { type: 'string' },
        k1: { type: 'string' },
        b: { type: 'string' },
        'rrf-k': { type: 'string' },
        limit: { type: 'string' },
        batch: { type: 'string' },
        'cache-dir': { type: 'string' },
        'no-cache': { type: 'boolean' },
        rerank: { type: 'string' },
        'rerank-depth': { type: 'string' },
        'rerank-dtype': { type: 'string' },
        'rerank-backend': { type: 'string' },
      },
      { min: 0, max: 0, names: '' },
    );
    if (values.retriever === undefined) throw new UsageError('missing --retriever dense|bm25|hybrid');
    const retriever = choice('retriever', values.retriever, RETRIEVER_NAMES, 'bm25');
    if (values.dataset === undefined || values.dataset === '') throw new UsageError('missing --dataset PATH');
    const format = values.format === undefined ? undefined : choice('format', values.format, DATASET_FORMATS, 'squad');
    const metrics = parseMetrics(values.metrics ?? DEFAULT_METRICS);
    const k1 = numberFlag('k1', values.k1, (n) => n >= 0, 'a number >= 0');
    const b = numberFlag('b', values.b, (n) => n >= 0 && n <= 1, 'a number between 0 and 1');
    const rrfK = numberFlag('rrf-k', values['rrf-k'], (n) => n >= 0, 'a number >= 0');
    const stride = positiveInt('stride', values.stride);
    if (stride !== undefined && !values.chunk) throw new UsageError('--stride only applies with --chunk');
    if (values['no-cache'] && values['cache-dir'] !== undefined) throw new UsageError('--cache-dir and --no-cache contradict each other');

    const log = (line: string) => io.stderr.write(line + '\n');
    const rerankDepth = positiveInt('rerank-depth', values['rerank-depth']);
    if (values.rerank === undefined) {
      for (const flag of ['rerank-depth', 'rerank-dtype', 'rerank-backend'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} applies only with --rerank DIR`);
      }
    } else if (values.rerank === '') throw new UsageError('--rerank needs a ranker model folder');
    if (values.rerank !== undefined && compare) throw new UsageError('--rerank and --compare cannot be combined; run each comparison side with --rerank separately');
    const rerank: EvalSettings['rerank'] =
      values.rerank === undefined
        ? undefined
        : {
            depth: rerankDepth ?? DEFAULT_RERANK_DEPTH,
            engine: {
              model: values.rerank,
              dtype: choice('rerank-dtype', values['rerank-dtype'], DTYPES, 'fp32'),
              backend: choice('rerank-backend', values['rerank-backend'], BACKENDS, 'node'),
              ...(values.threads !== undefined ? { threads: positiveInt('threads', values.threads)! } : {}),
              log,
            },
          };
    const dense = retriever !== 'bm25';
    if (!dense) {
      for (const flag of ['model', 'dtype', 'backend', ...(rerank ? [] : (['threads'] as const)), 'max-length', 'chunk', 'batch'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to the dense and hybrid retrievers, not bm25`);
      }
      if (compare) throw new UsageError('--compare compares two models or dtypes; it needs --retriever dense or hybrid');
    }

    // Each run's engine options: one for a plain run, two for --compare.
    const engines: EvalSettings['engine'][] = [];
    let names: [string, string] | undefined;
    if (dense) {
      if (compare) {
        const [a, b2] = compare;
        const isDtype = (s: string) => (DTYPES as readonly string[]).includes(s);
        if (isDtype(a) && isDtype(b2)) {
          if (values.dtype !== undefined) throw new UsageError('--compare with two dtypes replaces --dtype; drop --dtype');
          engines.push({ ...engineOptions(values, log), dtype: a as Dtype }, { ...engineOptions(values, log), dtype: b2 as Dtype });
        } else if (!isDtype(a) && !isDtype(b2)) {
          if (values.model !== undefined) throw new UsageError('--compare with two model folders replaces --model; drop --model');
          engines.push(engineOptions({ ...values, model: a }, log), engineOptions({ ...values, model: b2 }, log));
        } else {
          throw new UsageError(`--compare takes two dtypes (with --model) or two model folders, not '${a}' and '${b2}'`);
        }
        names = [a, b2];
      } else {
        engines.push(engineOptions(values, log));
      }
    }

    const limit = positiveInt('limit', values.limit);
    const batchSize = positiveInt('batch', values.batch);
    const dataset = await loadDataset(values.dataset, { ...(format ? { format } : {}), ...(values.split ? { split: values.split } : {}) });
    const base: EvalSettings = {
      retriever,
      metrics,
      ...(limit !== undefined ? { limit } : {}),
      ...(k1 !== undefined ? { k1 } : {}),
      ...(b !== undefined ? { b } : {}),
      ...(rrfK !== undefined ? { rrfK } : {}),
      chunk: values.chunk ?? false,
      ...(stride !== undefined ? { stride } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(values['no-cache'] ? {} : { cacheRoot: values['cache-dir'] ?? defaultCacheRoot(io.env) }),
      ...(rerank ? { rerank } : {}),
    };
    const hooks = { progress: createProgress(io.stderr) };
    const summary = summarizeDataset(dataset);

    if (!dense) {
      const run = await evaluate(dataset, base, hooks);
      io.stdout.write(values.json ? formatRunJson(summary, run) : formatRunTable(summary, run, metrics));
      return 0;
    }
    const runs = [];
    for (const engine of engines) runs.push(await evaluate(dataset, { ...base, engine }, hooks));
    if (names) {
      const [a, b2] = runs as [(typeof runs)[0], (typeof runs)[0]];
      io.stdout.write(values.json ? formatCompareJson(summary, a, b2, metrics, names) : formatCompareTable(summary, a, b2, metrics, names));
    } else {
      io.stdout.write(values.json ? formatRunJson(summary, runs[0]!) : formatRunTable(summary, runs[0]!, metrics));
    }
    return 0;
  },
};
