/**
 * SQuAD v1.1-style reading-comprehension JSON (CMRC 2018, DRCD, SQuAD) as a retrieval set:
 * `data[].paragraphs[].context` with `qas[].question`. Each question's own context is its one
 * relevant passage; the collection is every distinct context (identical contexts in several
 * paragraphs become one passage, so that a question is never judged wrong for finding a duplicate).
 */
import type { RetrievalDataset } from '../types.js';
import { DatasetBuilder, DatasetError } from './builder.js';
import { readJsonFile } from './files.js';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function idOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Whether a parsed JSON value looks like SQuAD-style data (used by format detection). */
export function looksLikeSquad(value: unknown): boolean {
  return isRecord(value) && Array.isArray(value.data);
}

export async function loadSquadDataset(path: string): Promise<RetrievalDataset> {
  const root = await readJsonFile(path);
  return squadDatasetFromJson(root, path);
}

export function squadDatasetFromJson(root: unknown, path: string): RetrievalDataset {
  if (!isRecord(root) || !Array.isArray(root.data)) {
    throw new DatasetError(path, 'not SQuAD-style JSON: expected an object with a "data" array');
  }
  const builder = new DatasetBuilder('squad', path);
  const passageByContext = new Map<string, number>();
  root.data.forEach((article, a) => {
    const articleWhere = `${path}: data[${a}]`;
    if (!isRecord(article) || !Array.isArray(article.paragraphs)) {
      throw new DatasetError(articleWhere, 'expected an object with a "paragraphs" array');
    }
    article.paragraphs.forEach((paragraph, p) => {
      const where = `${articleWhere}.paragraphs[${p}]`;
      if (!isRecord(paragraph)) throw new DatasetError(where, 'expected an object with "context" and "qas"');
      const { context, qas } = paragraph;
      if (typeof context !== 'string' || context.trim() === '') {
        throw new DatasetError(where, '"context" is missing or not a non-empty string');
      }
      if (!Array.isArray(qas)) throw new DatasetError(where, '"qas" is missing or not an array');
      let passage = passageByContext.get(context);
      if (passage === undefined) {
        // Keep the file's own paragraph id when it has one (CMRC "DEV_0", DRCD "1001-1") so reports
        // and rankings speak the dataset's language; otherwise the position names it.
        const ownId = idOf(paragraph.id);
        const id = ownId !== undefined && !builder.hasPassage(ownId) ? ownId : `data[${a}].paragraphs[${p}]`;
        passage = builder.addPassage(id, context, where);
        passageByContext.set(context, passage);
      }
      qas.forEach((qa, q) => {
        const qaWhere = `${where}.qas[${q}]`;
        if (!isRecord(qa)) throw new DatasetError(qaWhere, 'expected an object with "question"');
        if (typeof qa.question !== 'string') throw new DatasetError(qaWhere, '"question" is missing or not a string');
        const id = idOf(qa.id) ?? `data[${a}].paragraphs[${p}].qas[${q}]`;
        const query = builder.addQuery(id, qa.question, qaWhere);
        if (query !== undefined) builder.addRelevantIndex(query, passage);
      });
    });
  });
  return builder.build({ passages: path, queries: path });
}
