/**
 * MS MARCO passage-ranking layout, in one folder:
 *   collection.tsv          pid \t passage
 *   queries[.SPLIT].tsv     qid \t query
 *   qrels[.SPLIT].tsv       qid 0 pid 1     (TREC qrels: tab or space separated; relevance > 0 counts)
 * When the folder holds several query sets (queries.dev.small.tsv, queries.eval.tsv, ...) the one
 * with a matching qrels file is used, or the one named by `split`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetrievalDataset } from '../types.js';
import { DatasetBuilder, DatasetError } from './builder.js';
import { forEachLine, tsvColumns } from './files.js';

interface SplitFiles {
  split: string;
  queries: string;
  qrels: string;
}

const QUERIES = /^queries(?:\.(.+))?\.tsv$/;
const QRELS = /^qrels(?:\.(.+))?\.(?:tsv|txt)$/;

/** Finds the queries/qrels pair to evaluate in an MS MARCO folder. */
export async function findMsMarcoSplit(dir: string, split?: string): Promise<SplitFiles> {
  const names = (await readdir(dir)).sort();
  const queriesBySplit = new Map<string, string>();
  const qrelsBySplit = new Map<string, string>();
  for (const name of names) {
    const q = QUERIES.exec(name);
    if (q) queriesBySplit.set(q[1] ?? '', name);
    const r = QRELS.exec(name);
    if (r) qrelsBySplit.set(r[1] ?? '', name);
  }
  const pairs: SplitFiles[] = [];
  for (const [name, queries] of queriesBySplit) {
    const qrels = qrelsBySplit.get(name);
    if (qrels) pairs.push({ split: name, queries: join(dir, queries), qrels: join(dir, qrels) });
  }
  const label = (s: string) => (s === '' ? '(none)' : s);
  if (split !== undefined) {
    const pair = pairs.find((p) => p.split === split);
    if (!pair) {
      throw new DatasetError(dir, `no queries.${split}.tsv with a matching qrels.${split}.tsv (splits here: ${pairs.map((p) => label(p.split)).join(', ') || 'none'})`);
    }
    return pair;
  }
  if (pairs.length === 1) return pairs[0]!;
  if (pairs.length === 0) {
    throw new DatasetError(dir, 'no queries*.tsv with a matching qrels*.tsv (e.g. queries.dev.small.tsv + qrels.dev.small.tsv)');
  }
  throw new DatasetError(dir, `several query sets (${pairs.map((p) => label(p.split)).join(', ')}); choose one with --split`);
}

export async function loadMsMarcoDataset(dir: string, options: { split?: string } = {}): Promise<RetrievalDataset> {
  const collection = join(dir, 'collection.tsv');
  const { queries, qrels } = await findMsMarcoSplit(dir, options.split);
  const builder = new DatasetBuilder('msmarco', dir);

  await forEachLine(collection, (line, n) => {
    const where = `${collection}:${n}`;
    const [pid, ...rest] = tsvColumns(line, 2, where, 'pid, passage');
    if (pid!.trim() === '') throw new DatasetError(where, 'empty passage id');
    builder.addPassage(pid!.trim(), rest.join('\t'), where);
  });
  await forEachLine(queries, (line, n) => {
    const where = `${queries}:${n}`;
    const [qid, ...rest] = tsvColumns(line, 2, where, 'qid, query');
    if (qid!.trim() === '') throw new DatasetError(where, 'empty query id');
    builder.addQuery(qid!.trim(), rest.join('\t'), where);
  });
  await forEachLine(qrels, (line, n) => {
    const where = `${qrels}:${n}`;
    const columns = line.trim().split(/\s+/);
    if (columns.length !== 4) {
      throw new DatasetError(where, `expected 4 columns (qid 0 pid relevance), found ${columns.length}`);
    }
    const [qid, , pid, relevance] = columns as [string, string, string, string];
    const grade = Number(relevance);
    if (!Number.isFinite(grade)) throw new DatasetError(where, `relevance '${relevance}' is not a number`);
    if (grade > 0) builder.addRelevant(qid, pid, where);
  });
  return builder.build({ passages: collection, queries });
}
