/** The vectors fake-ai-worker.js answers, recomputed in the test (keep the two in step). */
export function fakeAiVector(text: string, dims: number): number[] {
  let codes = 0;
  for (const ch of text) codes += ch.codePointAt(0)!;
  const out = new Array<number>(dims).fill(0);
  out[0] = text.length;
  out[1] = codes % 1000;
  out[2] = -1;
  for (let i = 3; i < dims; i++) out[i] = (i % 7) / 7;
  return out;
}

export function unit(vector: readonly number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  return vector.map((v) => v / norm);
}
