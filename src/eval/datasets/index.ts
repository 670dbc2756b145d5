/** Picks the loader for a dataset path: the one named by --format, or the one its layout shows. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { DatasetFormat, RetrievalDataset } from '../types.js';
import { DatasetError } from './builder.js';
import { findDuReaderCollectionDir, loadDuReaderDataset, looksLikeDuReaderRecord } from './dureader.js';
import { firstLine, isDirectory, isFile } from './files.js';
import { loadMsMarcoDataset } from './msmarco.js';
import { loadSquadDataset } from './squad.js';

export { DatasetError } from './builder.js';

export interface LoadDatasetOptions {
  format?: DatasetFormat;
  /** Which query set: DuReader `dev` (default) or an MS MARCO suffix such as `dev.small`. */
  split?: string;
}

export async function detectDatasetFormat(path: string): Promise<DatasetFormat> {
  try {
    await stat(path);
  } catch {
    throw new DatasetError(path, 'no such file or folder');
  }
  if (await isDirectory(path)) {
    if (await isDirectory(join(path, 'passage-collection'))) return 'dureader';
    if (await isFile(join(path, 'collection.tsv'))) return 'msmarco';
    throw new DatasetError(
      path,
      'cannot tell the dataset format: expected passage-collection/ (DuReader-retrieval) or collection.tsv (MS MARCO) in this folder; pass --format',
    );
  }
  const head = await firstLine(path);
  if (head === undefined) throw new DatasetError(path, 'file is empty');
  let record: unknown;
  try {
    record = JSON.parse(head);
  } catch {
    record = undefined;
  }
  if (looksLikeDuReaderRecord(record) && (await findDuReaderCollectionDir(path)) !== undefined) return 'dureader';
  if (head.trimStart().startsWith('{')) return 'squad';
  if (/\.tsv$/i.test(path)) {
    throw new DatasetError(path, 'a single TSV file is not a dataset: pass the folder holding collection.tsv, queries*.tsv and qrels*.tsv');
  }
  throw new DatasetError(path, 'cannot tell the dataset format; pass --format dureader|msmarco|squad');
}

export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<RetrievalDataset> {
  const format = options.format ?? (await detectDatasetFormat(path));
  if (format === 'squad' && options.split !== undefined) {
    throw new UsageError('--split chooses a DuReader or MS MARCO query set; a SQuAD-style file has only one');
  }
  switch (format) {
    case 'dureader':
      return loadDuReaderDataset(path, { split: options.split });
    case 'msmarco':
      if (!(await isDirectory(path))) throw new DatasetError(path, 'MS MARCO format expects a folder holding collection.tsv, queries*.tsv and qrels*.tsv');
      return loadMsMarcoDataset(path, { split: options.split });
    case 'squad':
      return loadSquadDataset(path);
  }
}
