/**
 * A view is one tool on the page: the embedding model card's similarity widget, and the ranking view.
 * It owns its markup's behaviour and talks to the server through the shell, which owns what every
 * view shares: the API key and its 401 flow, the model list, the status line and the error box.
 * Adding a view: write a module exporting a `PlaygroundView`, add it to VIEWS in main.ts (and its
 * markup to page.tsx).
 */
import type { ApiResult } from './api.js';
import type { ModelCard } from './models.js';

export interface PlaygroundShell {
  /** GET (no body) or POST JSON to the same origin with the stored key. */
  api(path: string, body?: unknown): Promise<ApiResult>;
  /** The status line (polite live region). */
  say(text: string): void;
  showError(text: string): void;
  clearError(): void;
  /**
   * After a 401: shows the key box with `message`, and once a key is saved runs `retry` (one
   * pending retry per `name`, after the model list has been reloaded).
   */
  needKey(message: string, name: string, retry: () => Promise<void>): void;
  /** Whether a key is stored (snippets then read it from the environment). */
  keyed(): boolean;
  /** Every model of /v1/models, of every kind (see modelsOfKind). */
  models(): readonly ModelCard[];
  /** The embedding view's selected model id, '' for the server's default. */
  selectedModel(): string;
  /** Called after the model list or the selected model changes, and after the key changes. */
  onChange(listener: () => void): void;
}

export interface PlaygroundView {
  /** For error messages. */
  name: string;
  start(shell: PlaygroundShell): void;
}
