/**
 * Okapi BM25 over an in-memory inverted index (postings as Int32 document ids + Float32 impacts).
 *
 *   score(q, d) = sum over query terms t of idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * |d| / avgdl))
 *   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))      (Lucene's, always positive)
 *
 * The tf part depends only on (k1, b) and the document, so it is folded into each posting at build
 * time ("impact"); a query then costs one multiply-add per posting. A term repeated in the query
 * counts once per occurrence, as Lucene's term clauses and rank_bm25 do. Terms come from bm25Terms
 * (CJK unigrams + bigrams, lower-cased words).
 */
import { bm25Terms } from './bm25-terms.js';
import { TopK, type TopKResult } from './topk.js';

export interface BM25Options {
  /** Term-frequency saturation; default 1.2. */
  k1?: number;
  /** Length normalisation, 0..1; default 0.75. */
  b?: number;
}

export interface BM25SearchOptions {
  /**
   * When fewer than k documents share a term with the query, append the others (score 0) in
   * collection order, so the ranking covers the collection as a full sort would. Evaluation wants
   * this (Recall@1000 on a small collection); a retriever handing documents to an LLM does not.
   */
  fillWithUnmatched?: boolean;
}

/** An Int32Array that grows by doubling, for postings whose count is unknown up front. */
class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
}

export class BM25Index {
  readonly k1: number;
  readonly b: number;
  readonly documentCount: number;
  readonly averageDocumentLength: number;
  private readonly termIds: Map<string, number>;
  /** Postings of term t are [offsets[t], offsets[t+1]) in docs/impacts. */
  private readonly offsets: Int32Array;
  private readonly docs: Int32Array;
  private readonly impacts: Float32Array;
  private readonly idf: Float32Array;
  private readonly accumulator: Float64Array;
  private readonly touched: Int32Array;

  private constructor(fields: {
    k1: number;
    b: number;
    documentCount: number;
    averageDocumentLength: number;
    termIds: Map<string, number>;
    offsets: Int32Array;
    docs: Int32Array;
    impacts: Float32Array;
    idf: Float32Array;
  }) {
    this.k1 = fields.k1;
    this.b = fields.b;
    this.documentCount = fields.documentCount;
    this.averageDocumentLength = fields.averageDocumentLength;
    this.termIds = fields.termIds;
    this.offsets = fields.offsets;
    this.docs = fields.docs;
    this.impacts = fields.impacts;
    this.idf = fields.idf;
    this.accumulator = new Float64Array(fields.documentCount);
    this.touched = new Int32Array(fields.documentCount);
  }

  get vocabularySize(): number {
    return this.termIds.size;
  }

  get postingCount(): number {
    return this.docs.length;
  }

  static build(texts: readonly string[], options: BM25Options = {}): BM25Index {
    const k1 = options.k1 ?? 1.2;
    const b = options.b ?? 0.75;
    if (!Number.isFinite(k1) || k1 < 0) throw new RangeError(`BM25 k1 must be a finite number >= 0, got ${k1}`);
    if (!Number.isFinite(b) || b < 0 || b > 1) throw new RangeError(`BM25 b must be between 0 and 1, got ${b}`);

    const termIds = new Map<string, number>();
    const postingTerms = new GrowableInt32();
    const postingDocs = new GrowableInt32();
    const postingTfs = new GrowableInt32();
    const lengths = new Int32Array(texts.length);
    let totalLength = 0;
    for (let d = 0; d < texts.length; d++) {
      const terms = bm25Terms(texts[d]!);
      lengths[d] = terms.length;
      totalLength += terms.length;
      const ids = new Int32Array(terms.length);
      for (let i = 0; i < terms.length; i++) {
        let id = termIds.get(terms[i]!);
        if (id === undefined) {
          id = termIds.size;
          termIds.set(terms[i]!, id);
        }
        ids[i] = id;
      }
      ids.sort();
      for (let i = 0; i < ids.length; ) {
        let j = i + 1;
        while (j < ids.length && ids[j] === ids[i]) j++;
        postingTerms.push(ids[i]!);
        postingDocs.push(d);
        postingTfs.push(j - i);
        i = j;
      }
    }

    const vocabulary = termIds.size;
    const postings = postingDocs.length;
    const offsets = new Int32Array(vocabulary + 1);
    for (let p = 0; p < postings; p++) offsets[postingTerms.data[p]! + 1]!++;
    for (let t = 0; t < vocabulary; t++) offsets[t + 1]! += offsets[t]!;
    const averageDocumentLength = texts.length > 0 ? totalLength / texts.length : 0;
    const docs = new Int32Array(postings);
    const impacts = new Float32Array(postings);
    const cursor = offsets.slice(0, vocabulary);
    // Postings were produced document by document, so each term's list comes out in document order.
    for (let p = 0; p < postings; p++) {
      const term = postingTerms.data[p]!;
      const doc = postingDocs.data[p]!;
      const tf = postingTfs.data[p]!;
      const relativeLength = averageDocumentLength > 0 ? lengths[doc]! / averageDocumentLength : 0;
      const slot = cursor[term]!++;
      docs[slot] = doc;
      impacts[slot] = (tf * (k1 + 1)) / (tf + k1 * (1 - b + b * relativeLength));
    }
    const idf = new Float32Array(vocabulary);
    const n = texts.length;
    for (let t = 0; t < vocabulary; t++) {
      const df = offsets[t + 1]! - offsets[t]!;
      idf[t] = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    }
    return new BM25Index({ k1, b, documentCount: n, averageDocumentLength, termIds, offsets, docs, impacts, idf });
  }

  /** The k best documents for `query` (indices into the texts given to build), best first. */
  search(query: string, k: number, options: BM25SearchOptions = {}): TopKResult {
    const scores = this.accumulator;
    const touched = this.touched;
    let touchedCount = 0;
    for (const term of bm25Terms(query)) {
      const t = this.termIds.get(term);
      if (t === undefined) continue;
      const weight = this.idf[t]!;
      const end = this.offsets[t + 1]!;
      for (let p = this.offsets[t]!; p < end; p++) {
        const doc = this.docs[p]!;
        // Impacts and idf are > 0, so a zero accumulator means "first time this document is hit".
        if (scores[doc] === 0) touched[touchedCount++] = doc;
        scores[doc]! += weight * this.impacts[p]!;
      }
    }
    const depth = Math.min(k, this.documentCount);
    const top = new TopK(depth);
    for (let i = 0; i < touchedCount; i++) top.push(touched[i]!, scores[touched[i]!]!);
    const best = top.result();
    for (let i = 0; i < touchedCount; i++) scores[touched[i]!] = 0;
    if (!options.fillWithUnmatched || best.indices.length >= depth) return best;

    const indices = new Int32Array(depth);
    const filled = new Float64Array(depth);
    indices.set(best.indices);
    filled.set(best.scores);
    const matched = new Set(best.indices);
    let r = best.indices.length;
    for (let d = 0; d < this.documentCount && r < depth; d++) {
      if (!matched.has(d)) indices[r++] = d;
    }
    return { indices, scores: filled };
  }
}
