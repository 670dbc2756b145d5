/**
 * Which kind of model a checkpoint folder holds, from its config.json (Hugging Face) and
 * configuration.json (ModelScope's task file):
 *   - `rerank` when config.json names `BertForTextRanking` (ModelScope's passage-ranking models),
 *     or `BertForSequenceClassification` with `num_labels` 1 (a Hugging Face cross-encoder), or
 *     configuration.json's task is `text-ranking` (older releases: `passage-ranking`);
 *   - `embedding` otherwise (coROM sentence-embedding checkpoints name `BertModel` or nothing).
 */
import { join } from 'node:path';
import type { ModelKind } from '../engine/types.js';
import { exists, readJsonFile } from './read.js';

export const RANKING_TASKS: readonly string[] = ['text-ranking', 'passage-ranking'];
export const RANKING_ARCHITECTURES: readonly string[] = ['BertForTextRanking'];

/** The kind config.json / configuration.json (parsed JSON, either may be undefined) describe. */
export function modelKindOf(config: unknown, configuration: unknown): ModelKind {
  const c = (typeof config === 'object' && config !== null ? config : {}) as Record<string, unknown>;
  const archs = Array.isArray(c.architectures) ? c.architectures.map(String) : [];
  if (archs.some((a) => RANKING_ARCHITECTURES.includes(a))) return 'rerank';
  const labels = typeof c.num_labels === 'number' ? c.num_labels : c.id2label && typeof c.id2label === 'object' ? Object.keys(c.id2label).length : undefined;
  if (archs.includes('BertForSequenceClassification') && labels === 1) return 'rerank';
  const m = (typeof configuration === 'object' && configuration !== null ? configuration : {}) as Record<string, unknown>;
  const pipeline = m.pipeline as Record<string, unknown> | undefined;
  const tasks = [m.task, typeof pipeline === 'object' && pipeline !== null ? pipeline.type : undefined];
  if (tasks.some((t) => typeof t === 'string' && RANKING_TASKS.includes(t))) return 'rerank';
  return 'embedding';
}

/** modelKindOf for a checkpoint folder (configuration.json is optional). */
export async function detectModelKind(dir: string): Promise<ModelKind> {
  const config = await readJsonFile(join(dir, 'config.json'));
  const configurationPath = join(dir, 'configuration.json');
  const configuration = (await exists(configurationPath)) ? await readJsonFile(configurationPath) : undefined;
  return modelKindOf(config, configuration);
}
