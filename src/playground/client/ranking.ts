/**
 * The ranking view's logic, pure: ModelScope's text-ranking pipeline as an API call
 * (POST /v1/text-ranking `{model?, input: {source_sentence: [query], sentences_to_compare}}` ->
 * `{scores}`, one sigmoid score per passage in input order), the checks before sending and on the
 * answer, and the best-first order the page shows.
 */
import { formatNumber } from './scores.js';

export interface RankingRequest {
  model?: string;
  input: { source_sentence: [string]; sentences_to_compare: string[] };
}

/** The body for POST /v1/text-ranking; no `model` means the server's default. */
export function buildRankingRequest(model: string, query: string, passages: readonly string[]): RankingRequest {
  return { ...(model ? { model } : {}), input: { source_sentence: [query], sentences_to_compare: [...passages] } };
}

/** The passages box holds one passage per line; blank lines are left out. */
export function splitPassages(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** What is wrong with the form before anything is sent, or undefined. */
export function checkRankingInput(query: string, passages: readonly string[]): { message: string; focus: 'query' | 'passages' } | undefined {
  if (!query.trim()) return { message: '请输入查询（source_sentence）。', focus: 'query' };
  if (passages.length === 0) return { message: '请至少输入一个段落（每行一个）。', focus: 'passages' };
  return undefined;
}

/** The answer's scores for `count` passages, or the message saying what was expected. */
export function parseRankingOutput(payload: unknown, count: number): { ok: true; scores: number[] } | { ok: false; message: string } {
  const scores = (payload as { scores?: unknown } | null)?.scores;
  if (!Array.isArray(scores) || scores.length !== count || !scores.every((s) => typeof s === 'number' && Number.isFinite(s) && s >= 0 && s <= 1)) {
    return { ok: false, message: `服务返回的结果格式不对：需要 ${count} 个 0 到 1 之间的分数（scores）。` };
  }
  return { ok: true, scores: scores as number[] };
}

export interface RankedPassage {
  /** Index among the passages sent (0-based). */
  index: number;
  /** sigmoid(logit), 0..1. */
  score: number;
  /** Bar length: the score itself, in percent (scores are probabilities, so bars compare across queries). */
  barPercent: number;
}

/** The passages, highest score first; equal scores keep input order. */
export function rankPassages(scores: readonly number[]): RankedPassage[] {
  return scores.map((score, index) => ({ index, score, barPercent: score * 100 })).sort((a, b) => b.score - a.score || a.index - b.index);
}

export function rankingSummary(ranked: readonly RankedPassage[]): string {
  const best = ranked[0];
  return best
    ? `结果：${ranked.length} 个段落按相关性分数从高到低排序；最相关的是输入第 ${best.index + 1} 段（分数 ${formatNumber(best.score, 4)}）。`
    : '结果：没有段落。';
}
