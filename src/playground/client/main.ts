/**
 * The Playground's browser entry point: scripts/build-playground.ts bundles it (esbuild, IIFE,
 * minified) into ../client-bundle.generated.ts, which the page inlines under a CSP hash.
 */
import { startShell } from './shell.js';
import { rankingView } from './ranking-view.js';
import { similarityView } from './similarity-view.js';
import type { PlaygroundView } from './view.js';

/** Every view on the page, started in order once the shell is up. */
const VIEWS: readonly PlaygroundView[] = [similarityView, rankingView];

const shell = startShell();
for (const view of VIEWS) {
  try {
    view.start(shell);
  } catch (error) {
    shell.showError(`页面脚本出错（${view.name}）：${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}
