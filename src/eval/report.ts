/** `corom eval` output: a plain-text table for people, or JSON (--json) for scripts. */
import type { MetricSpec } from './metrics.js';
import type { EvalRun } from './run.js';
import type { RetrievalDataset } from './types.js';

export interface DatasetSummary {
  path: string;
  format: string;
  passages: number;
  queries: number;
  /** Queries in the file that could not be run (empty text); not in `queries`. */
  skippedQueries: { id: string; where: string; reason: string }[];
}

export function summarizeDataset(dataset: RetrievalDataset): DatasetSummary {
  return {
    path: dataset.source,
    format: dataset.format,
    passages: dataset.passageIds.length,
    queries: dataset.queryIds.length,
    skippedQueries: dataset.skippedQueries,
  };
}

function datasetLines(dataset: DatasetSummary): string[] {
  const lines = [`dataset    ${dataset.path} (${dataset.format}): ${dataset.passages} passages, ${dataset.queries} queries`];
  const skipped = dataset.skippedQueries;
  if (skipped.length > 0) {
    const first = skipped[0]!;
    lines.push(`skipped    ${skipped.length} quer${skipped.length === 1 ? 'y' : 'ies'} of the file (${first.reason}; first: ${first.where})`);
  }
  return lines;
}

function formatValue(value: number | undefined): string {
  return value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(4);
}

function formatDelta(delta: number): string {
  if (Number.isNaN(delta)) return 'n/a';
  return `${delta >= 0 ? '+' : ''}${delta.toFixed(4)}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

function describeRun(run: EvalRun): string {
  const s = run.settings;
  const parts: string[] = [run.retriever];
  if (run.model) parts.push(`model ${run.model.path}`, `dtype ${run.model.dtype}`, `backend ${run.model.backend}`, `max length ${run.model.maxLength}`);
  if (run.model) parts.push(s.chunk ? `chunked (stride ${s.stride})` : 'truncated');
  if (s.k1 !== undefined) parts.push(`k1 ${s.k1}`, `b ${s.b}`);
  if (s.rrfK !== undefined) parts.push(`rrf k ${s.rrfK}`);
  return parts.join(', ');
}

function queryLine(run: EvalRun): string {
  const r = run.result;
  return `${run.queries} queries: ${r.evaluatedQueries} evaluated, ${r.queriesWithoutQrels} without qrels (excluded)`;
}

function embeddingLine(run: EvalRun): string | undefined {
  const e = run.embedding;
  if (!e) return undefined;
  const cache = e.cacheDir ? `${e.fromCache}/${e.passages} passages from cache ${e.cacheDir}` : 'no cache';
  return `${e.vectors} passage vectors; ${cache}`;
}

function describeRerank(run: EvalRun): string {
  const r = run.rerank!;
  const model = r.model ? `model ${r.model.path}, dtype ${r.model.dtype}, backend ${r.model.backend}, pairs truncated longest_first at ${r.model.maxLength}` : 'injected reranker';
  return `cross-encoder, ${model}; top ${r.depth} of the first stage, ${r.pairs} pairs (${r.seconds.toFixed(1)} s)`;
}

/** First stage and reranked metrics side by side, with the change reranking made. */
function formatRerankTable(dataset: DatasetSummary, run: EvalRun, metrics: readonly MetricSpec[]): string {
  const after = run.rerank!.result.values;
  const lines = [
    ...datasetLines(dataset),
    `retriever  ${describeRun(run)}`,
    `rerank     ${describeRerank(run)}`,
    `queries    ${queryLine(run)}`,
  ];
  const embedding = embeddingLine(run);
  if (embedding) lines.push(`vectors    ${embedding}`);
  lines.push(`time       ${(run.seconds + run.rerank!.seconds).toFixed(1)} s`, '');
  lines.push(
    table([
      ['metric', run.retriever, 'reranked', 'delta'],
      ...metrics.map((m) => [m.label, formatValue(run.result.values[m.label]), formatValue(after[m.label]), formatDelta(after[m.label]! - run.result.values[m.label]!)]),
    ]),
  );
  return lines.join('\n') + '\n';
}

export function formatRunTable(dataset: DatasetSummary, run: EvalRun, metrics: readonly MetricSpec[]): string {
  if (run.rerank) return formatRerankTable(dataset, run, metrics);
  const lines = [
    ...datasetLines(dataset),
    `retriever  ${describeRun(run)}`,
    `queries    ${queryLine(run)}`,
  ];
  const embedding = embeddingLine(run);
  if (embedding) lines.push(`vectors    ${embedding}`);
  lines.push(`time       ${run.seconds.toFixed(1)} s`, '');
  lines.push(table([['metric', 'value'], ...metrics.map((m) => [m.label, formatValue(run.result.values[m.label])])]));
  return lines.join('\n') + '\n';
}

export function metricDeltas(a: EvalRun, b: EvalRun, metrics: readonly MetricSpec[]): Record<string, number> {
  const deltas: Record<string, number> = {};
  for (const m of metrics) deltas[m.label] = b.result.values[m.label]! - a.result.values[m.label]!;
  return deltas;
}

export function formatCompareTable(dataset: DatasetSummary, a: EvalRun, b: EvalRun, metrics: readonly MetricSpec[], names: [string, string]): string {
  const deltas = metricDeltas(a, b, metrics);
  const lines = [
    ...datasetLines(dataset),
    `A          ${names[0]}: ${describeRun(a)} (${a.seconds.toFixed(1)} s)`,
    `B          ${names[1]}: ${describeRun(b)} (${b.seconds.toFixed(1)} s)`,
    `queries    ${queryLine(a)}`,
    '',
    table([
      ['metric', `A ${names[0]}`, `B ${names[1]}`, 'delta (B - A)'],
      ...metrics.map((m) => [m.label, formatValue(a.result.values[m.label]), formatValue(b.result.values[m.label]), formatDelta(deltas[m.label]!)]),
    ]),
  ];
  return lines.join('\n') + '\n';
}

/** NaN (no query had qrels) becomes null, which JSON can carry. */
function jsonNumbers(values: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isNaN(v) ? null : v]));
}

export function runJson(run: EvalRun): Record<string, unknown> {
  return {
    retriever: run.retriever,
    ...(run.model ? { model: run.model } : {}),
    settings: run.settings,
    queries: run.queries,
    evaluatedQueries: run.result.evaluatedQueries,
    queriesWithoutQrels: run.result.queriesWithoutQrels,
    metrics: jsonNumbers(run.result.values),
    ...(run.embedding ? { embedding: run.embedding } : {}),
    seconds: Number(run.seconds.toFixed(3)),
    ...(run.rerank ? { rerank: rerankJson(run) } : {}),
  };
}

/** `metrics` of the run stay the first stage's; `rerank.metrics` are after reranking, `rerank.delta` the change. */
function rerankJson(run: EvalRun): Record<string, unknown> {
  const r = run.rerank!;
  const delta: Record<string, number> = {};
  for (const label of Object.keys(r.result.values)) delta[label] = r.result.values[label]! - run.result.values[label]!;
  return {
    ...(r.model ? { model: r.model } : {}),
    depth: r.depth,
    pairs: r.pairs,
    metrics: jsonNumbers(r.result.values),
    delta: jsonNumbers(delta),
    seconds: Number(r.seconds.toFixed(3)),
  };
}

export function formatRunJson(dataset: DatasetSummary, run: EvalRun): string {
  return JSON.stringify({ dataset, ...runJson(run) }, null, 2) + '\n';
}

export function formatCompareJson(dataset: DatasetSummary, a: EvalRun, b: EvalRun, metrics: readonly MetricSpec[], names: [string, string]): string {
  return (
    JSON.stringify(
      {
        dataset,
        compare: { a: names[0], b: names[1] },
        a: runJson(a),
        b: runJson(b),
        delta: jsonNumbers(metricDeltas(a, b, metrics)),
      },
      null,
      2,
    ) + '\n'
  );
}
