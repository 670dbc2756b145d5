import { CoromError } from '../../errors.js';
import type { DatasetFormat, RetrievalDataset } from '../types.js';

/** A dataset problem the user can fix: names the file and the line (or JSON path) at fault. */
export class DatasetError extends CoromError {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`, { exitCode: 1 });
    this.name = 'DatasetError';
  }
}

/**
 * Collects passages, queries and qrels by their string ids and turns them into the index-addressed
 * RetrievalDataset. Every loader goes through it, so duplicate ids and qrels naming unknown
 * passages or queries are reported the same way whatever the format. `where` is "file:line".
 */
export class DatasetBuilder {
  private readonly passageIndex = new Map<string, number>();
  private readonly passageWhere: string[] = [];
  private readonly queryIndex = new Map<string, number>();
  private readonly queryWhere: string[] = [];
  readonly passageIds: string[] = [];
  readonly passageTexts: string[] = [];
  readonly queryIds: string[] = [];
  readonly queryTexts: string[] = [];
  private readonly relevantSets: Set<number>[] = [];
  private readonly skipped = new Map<string, { id: string; where: string; reason: string }>();

  constructor(
    readonly format: DatasetFormat,
    readonly source: string,
  ) {}

  get passageCount(): number {
    return this.passageIds.length;
  }

  get queryCount(): number {
    return this.queryIds.length;
  }

  addPassage(id: string, text: string, where: string): number {
    const seen = this.passageIndex.get(id);
    if (seen !== undefined) throw new DatasetError(where, `passage id '${id}' was already used at ${this.passageWhere[seen]}`);
    const index = this.passageIds.length;
    this.passageIndex.set(id, index);
    this.passageWhere.push(where);
    this.passageIds.push(id);
    this.passageTexts.push(text);
    return index;
  }

  hasPassage(id: string): boolean {
    return this.passageIndex.has(id);
  }

  passageIndexOf(id: string): number | undefined {
    return this.passageIndex.get(id);
  }

  /**
   * Records a query the file holds but that cannot be run (empty text: CMRC 2018's trial set has two
   * such questions). It is reported, not evaluated, and qrels naming it are ignored.
   */
  skipQuery(id: string, where: string, reason: string): void {
    this.checkNewQueryId(id, where);
    this.skipped.set(id, { id, where, reason });
  }

  private checkNewQueryId(id: string, where: string): void {
    const seen = this.queryIndex.get(id);
    const previous = seen !== undefined ? this.queryWhere[seen] : this.skipped.get(id)?.where;
    if (previous !== undefined) throw new DatasetError(where, `query id '${id}' was already used at ${previous}`);
  }

  /** Adds a query, or skips it (see skipQuery) when its text is blank; returns its index or undefined. */
  addQuery(id: string, text: string, where: string): number | undefined {
    if (text.trim() === '') {
      this.skipQuery(id, where, 'empty query text');
      return undefined;
    }
    this.checkNewQueryId(id, where);
    const index = this.queryIds.length;
    this.queryIndex.set(id, index);
    this.queryWhere.push(where);
    this.queryIds.push(id);
    this.queryTexts.push(text);
    this.relevantSets.push(new Set());
    return index;
  }

  hasQuery(id: string): boolean {
    return this.queryIndex.has(id);
  }

  /** Marks passage `passageId` relevant to query `queryId`; both must already be known. */
  addRelevant(queryId: string, passageId: string, where: string): void {
    if (this.skipped.has(queryId)) return;
    const query = this.queryIndex.get(queryId);
    if (query === undefined) throw new DatasetError(where, `qrels name query '${queryId}', which is not in the query set`);
    const passage = this.passageIndex.get(passageId);
    if (passage === undefined) throw new DatasetError(where, `qrels name passage '${passageId}', which is not in the passage collection`);
    this.relevantSets[query]!.add(passage);
  }

  /** Same as addRelevant with a passage index the loader already holds. */
  addRelevantIndex(queryIndex: number, passageIndex: number): void {
    this.relevantSets[queryIndex]!.add(passageIndex);
  }

  build(emptyHint: { passages: string; queries: string }): RetrievalDataset {
    if (this.passageIds.length === 0) throw new DatasetError(emptyHint.passages, 'no passages found (empty collection)');
    if (this.queryIds.length === 0) {
      throw new DatasetError(emptyHint.queries, this.skipped.size > 0 ? `no usable queries (${this.skipped.size} with empty text)` : 'no queries found');
    }
    return {
      format: this.format,
      source: this.source,
      passageIds: this.passageIds,
      passageTexts: this.passageTexts,
      queryIds: this.queryIds,
      queryTexts: this.queryTexts,
      // Sorted so that the dataset is the same whatever order the qrels lines came in.
      relevant: this.relevantSets.map((set) => Int32Array.from([...set].sort((a, b) => a - b))),
      skippedQueries: [...this.skipped.values()],
    };
  }
}
