/** The inline `<script>` text of the Playground: the serialized client function and its config. */
import { playgroundClient, PLAYGROUND_IDS, type ClientConfig } from './client.js';
import { MODEL_CARD_EXAMPLES } from './examples.js';

export const API_KEY_STORAGE = 'corom-playground-api-key';
export const PREVIEW_DIMENSIONS = 8;

/** JSON that is safe inside a <script> element (no `</script>`, no `<!--`). */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function playgroundScript(): string {
  const config: ClientConfig = {
    ids: PLAYGROUND_IDS,
    examples: MODEL_CARD_EXAMPLES,
    keyStorage: API_KEY_STORAGE,
    previewDimensions: PREVIEW_DIMENSIONS,
  };
  // esbuild with keepNames (tsx, wrangler's bundler) rewrites named inner functions as
  // __name(fn, "fn"), calling a module-level helper that toString() does not carry along;
  // this identity stand-in keeps the serialized function runnable however it was compiled.
  return `(() => {
"use strict";
const __name = (fn) => fn;
(${playgroundClient.toString()})(${scriptSafeJson(config)});
})();`;
}
