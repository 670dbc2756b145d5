/** A view's run: its request out and back, as every view shows it (browser only). */
import type { ApiResult } from './api.js';
import type { PlaygroundShell } from './view.js';

export interface ViewRequestUi {
  /** Disabled while the request is out. */
  button: HTMLButtonElement;
  /** aria-busy while the request is out. */
  results: HTMLElement;
  /** The status line meanwhile. */
  busyText: string;
  /** After a 401, what the shell runs again (under `name`) once a key is saved. */
  name: string;
  retry: () => Promise<void>;
}

/**
 * POSTs `body` to `path`, timing the round trip. A 401 goes to the shell's key flow, any other
 * failure is shown; both resolve undefined, for the view to stop there.
 */
export async function sendViewRequest(
  shell: PlaygroundShell,
  path: string,
  body: unknown,
  ui: ViewRequestUi,
): Promise<{ result: Extract<ApiResult, { ok: true }>; latencyMs: number } | undefined> {
  ui.button.disabled = true;
  ui.results.setAttribute('aria-busy', 'true');
  shell.say(ui.busyText);
  const started = performance.now();
  const result = await shell.api(path, body);
  const latencyMs = performance.now() - started;
  ui.button.disabled = false;
  ui.results.setAttribute('aria-busy', 'false');
  if (!result.ok) {
    if (result.status === 401) shell.needKey(result.message, ui.name, ui.retry);
    else showRequestFailure(shell, result.message);
    return undefined;
  }
  return { result, latencyMs };
}

/** A request that failed, or whose answer could not be used: said on the status line, `message` in the error box. */
export function showRequestFailure(shell: PlaygroundShell, message: string): void {
  shell.say('请求失败');
  shell.showError(message);
}
