/** Signs of internals leaking into a response body: stack frames, source locations, install paths. */
export const LEAK_PATTERNS: ReadonlyArray<readonly [string, RegExp]> = [
  ['a stack frame', /\n\s*at \S|\bat [\w.$<>]+ \(|\bat (?:file|node):/],
  ['a TypeScript/JavaScript source location', /\.(?:ts|js|mjs|cjs):\d/],
  ['a .ts: reference', /\.ts:/],
  ['the /work path', /\/work\b/],
  ['node_modules', /node_modules/],
];

/** What leaks in `text`, if anything. */
export function findLeak(text: string): string | undefined {
  return LEAK_PATTERNS.find(([, pattern]) => pattern.test(text))?.[0];
}
