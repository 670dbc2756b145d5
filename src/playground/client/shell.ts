/**
 * What every view shares (see view.ts): the API key box and its 401 -> save -> retry flow, the
 * model selector filled from /v1/models (retried while the server answers 503), the status line
 * and the error box.
 */
import { API_KEY_STORAGE, PLAYGROUND_IDS as ID } from '../ids.js';
import { callApi } from './api.js';
import { byId } from './dom.js';
import { isSaveKey } from './keyboard.js';
import { createKeyStore } from './key-store.js';
import { fillModelSelect } from './model-select.js';
import { modelListRetryDelayMs, parseModelList, type ModelCard } from './models.js';
import type { PlaygroundShell } from './view.js';

const LOADING_PREFIX = '服务正在加载模型';

export function startShell(): PlaygroundShell {
  const modelSelect = byId<HTMLSelectElement>(ID.model);
  const keyBox = byId<HTMLDivElement>(ID.keyBox);
  const keyInput = byId<HTMLInputElement>(ID.key);
  const keySave = byId<HTMLButtonElement>(ID.keySave);
  const keyForget = byId<HTMLButtonElement>(ID.keyForget);
  const status = byId<HTMLElement>(ID.status);
  const errorBox = byId<HTMLElement>(ID.error);

  const keys = createKeyStore(() => sessionStorage, API_KEY_STORAGE);
  const listeners: Array<() => void> = [];
  /** View actions to run again once a key is saved, by name (a second 401 replaces the first). */
  const pendingRetries = new Map<string, () => Promise<void>>();
  let modelsNeedKey = false;
  let models: ModelCard[] = [];
  let modelListFailures = 0;

  const changed = (): void => listeners.forEach((listener) => listener());
  const say = (text: string): void => {
    status.textContent = text;
  };
  const showError = (text: string): void => {
    errorBox.textContent = text;
    errorBox.hidden = false;
  };
  const clearError = (): void => {
    errorBox.textContent = '';
    errorBox.hidden = true;
  };
  const showKeyBox = (): void => {
    keyBox.hidden = false;
    keyInput.value = keys.get();
  };
  const needKey = (message: string): void => {
    showKeyBox();
    showError(`${message}\n需要 API Key：请在下方输入后点击“保存并重试”。`);
    say('需要 API Key');
    keyInput.focus();
  };
  const api = (path: string, body?: unknown) => callApi((input, init) => fetch(input, init), path, keys.get(), body);

  /** Fills the model selector; false when the list could not be read. */
  async function loadModels(): Promise<boolean> {
    const result = await api('/v1/models');
    if (!result.ok) {
      const delay = result.status === 401 ? undefined : modelListRetryDelayMs(result, ++modelListFailures);
      if (result.status === 401) {
        modelsNeedKey = true;
        needKey(result.message);
      } else if (delay !== undefined) {
        say(`${LOADING_PREFIX}，稍后自动重试…（${result.message}）`);
        setTimeout(() => void loadModels(), delay);
      } else showError(`无法加载模型列表：${result.message}`);
      return false;
    }
    modelListFailures = 0;
    if (status.textContent?.startsWith(LOADING_PREFIX)) say('模型已就绪');
    models = parseModelList(result.payload);
    // This selector is the embedding view's; the ranking view fills its own from models().
    fillModelSelect(modelSelect, models, 'embedding', '（服务没有可用的句向量模型）');
    changed();
    return true;
  }

  async function saveKey(): Promise<void> {
    const key = keyInput.value.trim();
    keys.set(key);
    clearError();
    changed();
    say(key ? '已保存 API Key（仅保存在本标签页的 sessionStorage）' : '已清除 API Key');
    const reloadModels = modelsNeedKey || models.length === 0;
    modelsNeedKey = false;
    // The model list first, so a retried run uses the selected model; stop (keeping the view
    // retries pending) if the key is refused again.
    if (reloadModels && !(await loadModels())) return;
    const retries = [...pendingRetries.values()];
    pendingRetries.clear();
    for (const retry of retries) await retry();
  }

  keySave.addEventListener('click', () => void saveKey());
  keyInput.addEventListener('keydown', (event) => {
    if (isSaveKey(event)) {
      event.preventDefault();
      void saveKey();
    }
  });
  keyForget.addEventListener('click', () => {
    keyInput.value = '';
    keys.set('');
    changed();
    say('已清除 API Key');
    keyInput.focus();
  });
  modelSelect.addEventListener('change', changed);

  if (keys.get()) showKeyBox();
  void loadModels();

  return {
    api,
    say,
    showError,
    clearError,
    needKey(message, name, retry) {
      pendingRetries.set(name, retry);
      needKey(message);
    },
    keyed: () => keys.get() !== '',
    models: () => models,
    selectedModel: () => modelSelect.value,
    onChange(listener) {
      listeners.push(listener);
    },
  };
}
