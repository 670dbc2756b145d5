/**
 * DuReader-retrieval (Baidu, Qiu et al. 2022) as released in `dureader-retrieval-baseline-dataset/`:
 *
 *   passage-collection/part-00 .. part-03   TSV, `null \t null \t passage_text \t null`; a passage's
 *                                           line index counts across the parts in name order
 *   passage-collection/passage2id.map.json  {"<line index>": "<paragraph_id>", ...}
 *   dev/dev.json                            JSON Lines: {"question_id", "question",
 *                                           "answer_paragraphs": [{"paragraph_id", "paragraph_text"}]}
 *
 * `path` is the dataset folder (the `dev` split is read, or `split`) or the JSON Lines file itself
 * (the collection is then looked for in a `passage-collection` folder beside it or one level up).
 * Without passage2id.map.json the passage ids are the line indices. A question_id appearing on
 * several lines gets the union of their answer paragraphs, as the official evaluation script does.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RetrievalDataset } from '../types.js';
import { DatasetBuilder, DatasetError } from './builder.js';
import { forEachLine, isDirectory, isFile, parseJsonText, readJsonFile, tsvColumns } from './files.js';

const COLLECTION_DIR = 'passage-collection';
const ID_MAP = 'passage2id.map.json';

export interface DuReaderFiles {
  parts: string[];
  idMap?: string;
  qrels: string;
}

/**
 * The passage-collection folder of a release: inside `path` when it is the dataset folder, or beside
 * / one level above `path` when it is the JSON Lines file (dev/dev.json).
 */
export async function findDuReaderCollectionDir(path: string): Promise<string | undefined> {
  const candidates = (await isDirectory(path))
    ? [join(path, COLLECTION_DIR)]
    : [join(dirname(path), COLLECTION_DIR), join(dirname(dirname(path)), COLLECTION_DIR)];
  for (const candidate of candidates) if (await isDirectory(candidate)) return candidate;
  return undefined;
}

export async function findDuReaderFiles(path: string, split = 'dev'): Promise<DuReaderFiles> {
  const folder = await isDirectory(path);
  const collectionDir = await findDuReaderCollectionDir(path);
  if (!collectionDir) throw new DatasetError(path, `no ${COLLECTION_DIR}/ folder found (expected the dureader-retrieval-baseline-dataset layout)`);
  const parts = (await readdir(collectionDir))
    .filter((name) => /^part-\d+$/.test(name))
    .sort()
    .map((name) => join(collectionDir, name));
  if (parts.length === 0) throw new DatasetError(collectionDir, 'no part-NN passage files in the collection folder');
  const idMap = join(collectionDir, ID_MAP);
  let qrels = path;
  if (folder) {
    const candidates = [join(path, split, `${split}.json`), join(path, `${split}.json`), join(path, `${split}.jsonl`)];
    const found = [];
    for (const candidate of candidates) if (await isFile(candidate)) found.push(candidate);
    if (found.length === 0) throw new DatasetError(path, `no ${split}/${split}.json (queries with answer_paragraphs) found`);
    qrels = found[0]!;
  }
  return { parts, idMap: (await isFile(idMap)) ? idMap : undefined, qrels };
}

function loadIdMap(value: unknown, file: string): Map<number, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DatasetError(file, 'expected a JSON object mapping passage line index to paragraph id');
  }
  const map = new Map<number, string>();
  for (const [key, id] of Object.entries(value as Record<string, unknown>)) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0) throw new DatasetError(file, `key '${key}' is not a passage line index`);
    if (typeof id !== 'string' && typeof id !== 'number') throw new DatasetError(file, `value of '${key}' is not a paragraph id`);
    map.set(index, String(id));
  }
  return map;
}

export async function loadDuReaderDataset(path: string, options: { split?: string } = {}): Promise<RetrievalDataset> {
  const files = await findDuReaderFiles(path, options.split);
  const idMap = files.idMap ? loadIdMap(await readJsonFile(files.idMap), files.idMap) : undefined;
  const builder = new DatasetBuilder('dureader', path);

  let lineIndex = 0;
  for (const part of files.parts) {
    await forEachLine(part, (line, n) => {
      const where = `${part}:${n}`;
      const columns = tsvColumns(line, 3, where, 'null, null, passage_text, null');
      let id = String(lineIndex);
      if (idMap) {
        const mapped = idMap.get(lineIndex);
        if (mapped === undefined) throw new DatasetError(where, `passage line index ${lineIndex} has no entry in ${files.idMap}`);
        id = mapped;
      }
      builder.addPassage(id, columns[2]!, where);
      lineIndex++;
    });
  }
  if (idMap && idMap.size > lineIndex) {
    throw new DatasetError(files.idMap!, `maps ${idMap.size} line indices but the collection has ${lineIndex} passages`);
  }

  const queryByQuestionId = new Map<string, number | undefined>();
  await forEachLine(files.qrels, (line, n) => {
    const where = `${files.qrels}:${n}`;
    const sample = parseJsonText(line, files.qrels, n);
    if (typeof sample !== 'object' || sample === null || Array.isArray(sample)) {
      throw new DatasetError(where, 'expected a JSON object per line');
    }
    const { question_id: qid, question, answer_paragraphs: answers } = sample as Record<string, unknown>;
    if (typeof qid !== 'string' && typeof qid !== 'number') throw new DatasetError(where, '"question_id" is missing');
    if (typeof question !== 'string') throw new DatasetError(where, '"question" is missing or not a string');
    if (answers !== undefined && !Array.isArray(answers)) throw new DatasetError(where, '"answer_paragraphs" is not an array');
    const id = String(qid);
    if (!queryByQuestionId.has(id)) queryByQuestionId.set(id, builder.addQuery(id, question, where));
    for (const [i, answer] of (answers ?? []).entries()) {
      const paragraphId = (answer as Record<string, unknown> | null)?.paragraph_id;
      if (typeof paragraphId !== 'string' && typeof paragraphId !== 'number') {
        throw new DatasetError(where, `answer_paragraphs[${i}] has no "paragraph_id"`);
      }
      builder.addRelevant(id, String(paragraphId), where);
    }
  });
  return builder.build({ passages: files.parts[0]!, queries: files.qrels });
}

/** True for a JSON Lines record in DuReader-retrieval's query format (used by format detection). */
export function looksLikeDuReaderRecord(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'question_id' in value && 'question' in value;
}

