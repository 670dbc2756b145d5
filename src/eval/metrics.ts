/**
 * Ranking metrics of the coROM model card (MRR@10, Recall@1/50/1000).
 *
 * - MRR@k: 1/rank of the first relevant passage within the top k, 0 when none is there.
 * - Recall@k: the fraction of a query's relevant passages found in its top k.
 * Both are averaged over the queries that have qrels; queries without any relevant passage are left
 * out of the average and counted separately. A ranking shorter than k (k larger than the
 * collection) is simply used whole. Rankings come from TopK, so ties are already broken by passage
 * order. Note: DuReader's official script counts Recall@k as "at least one relevant in the top k";
 * with one relevant passage per query (CMRC, most of DuReader) the two agree.
 */
import { UsageError } from '../errors.js';
import type { Ranking } from './types.js';

export type MetricName = 'mrr' | 'recall';

export interface MetricSpec {
  name: MetricName;
  k: number;
  /** Canonical spelling, e.g. "mrr@10"; the key in reports. */
  label: string;
}

export const DEFAULT_METRICS = 'mrr@10,recall@1,recall@50,recall@1000';

export function parseMetrics(list: string): MetricSpec[] {
  const specs: MetricSpec[] = [];
  for (const part of list.split(',')) {
    const text = part.trim().toLowerCase();
    if (text === '') continue;
    const match = /^(mrr|recall)@(\d+)$/.exec(text);
    if (!match) throw new UsageError(`--metrics: '${part.trim()}' is not a metric (use mrr@K or recall@K, e.g. mrr@10,recall@50)`);
    const k = Number(match[2]);
    if (!Number.isSafeInteger(k) || k < 1) throw new UsageError(`--metrics: k must be a positive integer in '${part.trim()}'`);
    const label = `${match[1]}@${k}`;
    if (!specs.some((s) => s.label === label)) specs.push({ name: match[1] as MetricName, k, label });
  }
  if (specs.length === 0) throw new UsageError('--metrics: no metric given');
  return specs;
}

/** How deep each ranking must go for these metrics. */
export function metricDepth(specs: readonly MetricSpec[]): number {
  return Math.max(...specs.map((s) => s.k));
}

function isRelevant(relevant: Int32Array, passage: number): boolean {
  return relevant.includes(passage);
}

export function reciprocalRankAt(ranking: Ranking, relevant: Int32Array, k: number): number {
  const depth = Math.min(k, ranking.length);
  for (let r = 0; r < depth; r++) if (isRelevant(relevant, ranking[r]!)) return 1 / (r + 1);
  return 0;
}

export function recallAt(ranking: Ranking, relevant: Int32Array, k: number): number {
  if (relevant.length === 0) return 0;
  const top = ranking.subarray(0, Math.min(k, ranking.length));
  let found = 0;
  for (const passage of relevant) if (top.includes(passage)) found++;
  return found / relevant.length;
}

export interface MetricResult {
  /** Metric label -> mean over evaluated queries (NaN when no query has qrels). */
  values: Record<string, number>;
  /** Queries with at least one relevant passage: the denominator. */
  evaluatedQueries: number;
  /** Queries left out because they have no qrels. */
  queriesWithoutQrels: number;
}

/** `rankings[i]` and `relevant[i]` belong to the same query. */
export function evaluateRankings(rankings: readonly Ranking[], relevant: readonly Int32Array[], specs: readonly MetricSpec[]): MetricResult {
  if (rankings.length !== relevant.length) {
    throw new RangeError(`${rankings.length} rankings for ${relevant.length} queries`);
  }
  const sums = new Float64Array(specs.length);
  let evaluated = 0;
  for (let q = 0; q < rankings.length; q++) {
    const rel = relevant[q]!;
    if (rel.length === 0) continue;
    evaluated++;
    const ranking = rankings[q]!;
    specs.forEach((spec, m) => {
      sums[m] += spec.name === 'mrr' ? reciprocalRankAt(ranking, rel, spec.k) : recallAt(ranking, rel, spec.k);
    });
  }
  const values: Record<string, number> = {};
  specs.forEach((spec, m) => {
    values[spec.label] = evaluated === 0 ? Number.NaN : sums[m]! / evaluated;
  });
  return { values, evaluatedQueries: evaluated, queriesWithoutQrels: rankings.length - evaluated };
}
