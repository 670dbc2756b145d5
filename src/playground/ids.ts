/**
 * What the server-rendered markup (page.tsx) and the browser client (client/) must agree on:
 * element ids and the client's fixed settings. Plain data, imported by both sides; the client gets
 * its copy compiled into its bundle, so the page needs no inline configuration.
 */

/** Element ids shared by the markup (page.tsx) and the client. */
export const PLAYGROUND_IDS = {
  form: 'pg-form',
  model: 'pg-model',
  examples: 'pg-examples',
  source: 'pg-source',
  compare: 'pg-compare',
  add: 'pg-add',
  run: 'pg-run',
  keyBox: 'pg-key-box',
  key: 'pg-key',
  keySave: 'pg-key-save',
  keyForget: 'pg-key-forget',
  status: 'pg-status',
  error: 'pg-error',
  results: 'pg-results',
  summary: 'pg-summary',
  meta: 'pg-meta',
  ranking: 'pg-ranking',
  vectors: 'pg-vectors',
  snippetCurl: 'pg-snippet-curl',
  snippetOpenai: 'pg-snippet-openai',
  snippetLangchain: 'pg-snippet-langchain',
  // The ranking view (client/ranking-view.ts).
  rankForm: 'pg-rank-form',
  rankModel: 'pg-rank-model',
  rankExample: 'pg-rank-example',
  rankQuery: 'pg-rank-query',
  rankPassages: 'pg-rank-passages',
  rankRun: 'pg-rank-run',
  rankResults: 'pg-rank-results',
  rankSummary: 'pg-rank-summary',
  rankMeta: 'pg-rank-meta',
  rankList: 'pg-rank-list',
} as const;

export type PlaygroundIds = typeof PLAYGROUND_IDS;

/** sessionStorage key of the API key (never localStorage: it must not outlive the tab). */
export const API_KEY_STORAGE = 'corom-playground-api-key';

/** How many leading vector components the results table shows. */
export const PREVIEW_DIMENSIONS = 8;
