/**
 * Exact maximum-inner-product search over Float32 vectors, blocked: a block of queries times a block
 * of passage vectors that stays in cache gives a score block (scoreBlock), which feeds a bounded
 * TopK heap per query. A passage may own several vectors (the windows of a long passage under
 * --chunk); its score is its best window.
 */
import { TopK, type TopKResult } from '../retrieval/topk.js';

/** `rows` vectors of `dims` floats, row-major. */
export interface VectorMatrix {
  data: Float32Array;
  rows: number;
  dims: number;
}

/** Passage p owns rows [starts[p], starts[p + 1]) of `vectors`. */
export interface PassageVectors {
  vectors: VectorMatrix;
  starts: Int32Array;
}

export interface DenseSearchOptions {
  /** Queries per block; default 64. */
  queryBlock?: number;
  /** Passage vectors per block (whole passages); default 512 (512 x 768 floats = 1.5 MB). */
  passageBlockRows?: number;
}

/** Dot product of a[aOffset..aOffset+n) and b[bOffset..bOffset+n), four accumulators for ILP. */
export function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
    s2 += a[aOffset + i + 2]! * b[bOffset + i + 2]!;
    s3 += a[aOffset + i + 3]! * b[bOffset + i + 3]!;
  }
  for (; i < n; i++) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Register-blocked kernel: two query rows against four passage rows in one pass, so each loaded
 * float feeds several multiply-adds (about twice the throughput of one dot product at a time).
 * Writes the 2 x 4 scores to out[o0 .. o0+3] and out[o1 .. o1+3].
 */
function dot2x4(q: Float32Array, qa: number, qb: number, p: Float32Array, p0: number, n: number, out: Float64Array, o0: number, o1: number): void {
  const p1 = p0 + n;
  const p2 = p1 + n;
  const p3 = p2 + n;
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let b3 = 0;
  for (let i = 0; i < n; i++) {
    const x = q[qa + i]!;
    const y = q[qb + i]!;
    const v0 = p[p0 + i]!;
    const v1 = p[p1 + i]!;
    const v2 = p[p2 + i]!;
    const v3 = p[p3 + i]!;
    a0 += x * v0;
    a1 += x * v1;
    a2 += x * v2;
    a3 += x * v3;
    b0 += y * v0;
    b1 += y * v1;
    b2 += y * v2;
    b3 += y * v3;
  }
  out[o0] = a0;
  out[o0 + 1] = a1;
  out[o0 + 2] = a2;
  out[o0 + 3] = a3;
  out[o1] = b0;
  out[o1 + 1] = b1;
  out[o1 + 2] = b2;
  out[o1 + 3] = b3;
}

/**
 * The score block S = Q[q0..q1) x P[r0..r1)^T into out (row-major, (q1-q0) x (r1-r0)): the blocked
 * matrix product, 2 x 4 tiles by dot2x4 and the ragged edges by dot.
 */
export function scoreBlock(q: Float32Array, q0: number, q1: number, p: Float32Array, r0: number, r1: number, dims: number, out: Float64Array): void {
  const width = r1 - r0;
  let qi = q0;
  for (; qi + 1 < q1; qi += 2) {
    const o0 = (qi - q0) * width;
    const o1 = o0 + width;
    let r = r0;
    for (; r + 3 < r1; r += 4) dot2x4(q, qi * dims, (qi + 1) * dims, p, r * dims, dims, out, o0 + r - r0, o1 + r - r0);
    for (; r < r1; r++) {
      out[o0 + r - r0] = dot(q, qi * dims, p, r * dims, dims);
      out[o1 + r - r0] = dot(q, (qi + 1) * dims, p, r * dims, dims);
    }
  }
  if (qi < q1) {
    const o0 = (qi - q0) * width;
    for (let r = r0; r < r1; r++) out[o0 + r - r0] = dot(q, qi * dims, p, r * dims, dims);
  }
}

/** One vector per passage: starts = 0, 1, ..., rows. */
export function onePerPassage(vectors: VectorMatrix): PassageVectors {
  const starts = new Int32Array(vectors.rows + 1);
  for (let p = 0; p <= vectors.rows; p++) starts[p] = p;
  return { vectors, starts };
}

export function denseTopK(queries: VectorMatrix, passages: PassageVectors, k: number, options: DenseSearchOptions = {}): TopKResult[] {
  const dims = queries.dims;
  if (passages.vectors.dims !== dims) {
    throw new RangeError(`query vectors have ${dims} dimensions, passage vectors ${passages.vectors.dims}`);
  }
  const queryBlock = Math.max(1, options.queryBlock ?? 64);
  const blockRows = Math.max(1, options.passageBlockRows ?? 512);
  const passageCount = passages.starts.length - 1;
  const depth = Math.min(k, passageCount);
  const starts = passages.starts;
  const q = queries.data;
  const p = passages.vectors.data;

  // Passage blocks end on passage boundaries, so a passage's windows are never split across blocks.
  // A passage with more windows than blockRows gets a block of its own, so blocks can be wider.
  const blockEnds: number[] = [];
  let widest = 0;
  for (let first = 0; first < passageCount; ) {
    let end = first + 1;
    while (end < passageCount && starts[end + 1]! - starts[first]! <= blockRows) end++;
    blockEnds.push(end);
    widest = Math.max(widest, starts[end]! - starts[first]!);
    first = end;
  }

  const results: TopKResult[] = [];
  const heaps = Array.from({ length: Math.min(queryBlock, queries.rows) }, () => new TopK(depth));
  const block = new Float64Array(Math.min(queryBlock, queries.rows) * widest);
  for (let q0 = 0; q0 < queries.rows; q0 += queryBlock) {
    const q1 = Math.min(q0 + queryBlock, queries.rows);
    for (const heap of heaps) heap.clear();
    let first = 0;
    for (const end of blockEnds) {
      const r0 = starts[first]!;
      const r1 = starts[end]!;
      const width = r1 - r0;
      scoreBlock(q, q0, q1, p, r0, r1, dims, block);
      // Rows -> passages (best window), then into each query's bounded heap.
      for (let qi = q0; qi < q1; qi++) {
        const heap = heaps[qi - q0]!;
        const row = (qi - q0) * width - r0;
        for (let passage = first; passage < end; passage++) {
          let best = -Infinity;
          const rowEnd = starts[passage + 1]!;
          for (let r = starts[passage]!; r < rowEnd; r++) if (block[row + r]! > best) best = block[row + r]!;
          heap.push(passage, best);
        }
      }
      first = end;
    }
    for (let qi = q0; qi < q1; qi++) results.push(heaps[qi - q0]!.result());
  }
  return results;
}
