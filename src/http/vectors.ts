/** Vector post-processing and wire encodings shared by the routes. */
import { encodeBase64 } from 'hono/utils/encode';
import { normalized } from '../engine/vectors.js';

export { dot } from '../engine/vectors.js';

/** First `dimensions` components, scaled to unit length when `normalize` (a zero vector stays zero). */
export function shapeVector(vector: Float32Array, options: { dimensions?: number; normalize: boolean }): Float32Array {
  const kept = options.dimensions !== undefined && options.dimensions < vector.length ? vector.subarray(0, options.dimensions) : vector;
  return options.normalize ? normalized(kept) : kept;
}

/**
 * float32 values as JSON numbers. Nine significant digits round-trip every float32 exactly,
 * without the 17-digit tails float64 printing would add.
 */
export function toJsonFloats(vector: Float32Array): number[] {
  const out = new Array<number>(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = Number(vector[i].toPrecision(9));
  return out;
}

/** OpenAI's `encoding_format: "base64"`: little-endian float32 bytes, standard base64. */
export function toBase64Floats(vector: Float32Array): string {
  const bytes = new DataView(new ArrayBuffer(vector.length * 4));
  for (let i = 0; i < vector.length; i++) bytes.setFloat32(i * 4, vector[i], true);
  return encodeBase64(bytes.buffer);
}
