/** OpenAI's `encoding_format: "base64"`: standard base64 of little-endian float32 bytes. */

export function decodeBase64Floats(text: string): Float32Array {
  // atob exists in Node >= 16, Workers and browsers; Buffer does not exist in the last two.
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new RangeError(`base64 embedding decodes to ${binary.length} bytes, not a whole number of float32 values`);
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = new Float32Array(binary.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
