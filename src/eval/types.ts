/**
 * What the evaluation works on: a passage collection, a query set and relevance judgements (qrels),
 * all addressed by position so that rankings are plain Int32Arrays of passage indices.
 */

export type DatasetFormat = 'dureader' | 'msmarco' | 'squad';
export const DATASET_FORMATS: readonly DatasetFormat[] = ['dureader', 'msmarco', 'squad'];

export interface RetrievalDataset {
  format: DatasetFormat;
  /** The path the dataset was loaded from, for reports. */
  source: string;
  /** Passage ids and texts, in collection order (the tie-break order of every ranking). */
  passageIds: string[];
  passageTexts: string[];
  queryIds: string[];
  queryTexts: string[];
  /** For each query index, the indices of its relevant passages (empty when the query has no qrels). */
  relevant: Int32Array[];
  /** Queries the file holds but that cannot be run (empty text), left out of queryIds, with where they are. */
  skippedQueries: { id: string; where: string; reason: string }[];
}

/** One query's ranked passage indices, best first. */
export type Ranking = Int32Array;
