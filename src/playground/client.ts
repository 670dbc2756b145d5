/**
 * The Playground's browser script, written in TypeScript so tsc checks it against the DOM types.
 * page.tsx inlines it as `(${playgroundClient})(config)`: the function is serialized with
 * Function.prototype.toString, so it must be self-contained -- everything it uses comes from its
 * `config` argument or from inside its body (imported *types* are fine, they are erased).
 */
import type { PlaygroundExample } from './examples.js';

/** Element ids shared by the markup (page.tsx) and this script. */
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
} as const;

export type PlaygroundIds = typeof PLAYGROUND_IDS;

export interface ClientConfig {
  ids: PlaygroundIds;
  examples: readonly PlaygroundExample[];
  /** sessionStorage key of the API key (never localStorage: it must not outlive the tab). */
  keyStorage: string;
  /** How many leading vector components the results show. */
  previewDimensions: number;
}

/** The part of a /v1/models entry the page uses. */
interface ModelCard {
  id: string;
  dimensions: number;
  max_length: number;
  backend: string;
  dtype: string;
}

interface PipelineRequest {
  model?: string;
  input: { source_sentence: string[]; sentences_to_compare?: string[] };
}

type ApiResult =
  | { ok: true; response: Response; payload: unknown }
  | { ok: false; status: number; message: string; retryAfterSeconds?: number };

export function playgroundClient(config: ClientConfig): void {
  const ids = config.ids;

  function byId<T extends HTMLElement>(id: string): T {
    const found = document.getElementById(id);
    if (!found) throw new Error(`playground: element #${id} is missing from the page`);
    return found as T;
  }

  function make<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const form = byId<HTMLFormElement>(ids.form);
  const modelSelect = byId<HTMLSelectElement>(ids.model);
  const source = byId<HTMLTextAreaElement>(ids.source);
  const compareList = byId<HTMLOListElement>(ids.compare);
  const addButton = byId<HTMLButtonElement>(ids.add);
  const runButton = byId<HTMLButtonElement>(ids.run);
  const keyBox = byId<HTMLDivElement>(ids.keyBox);
  const keyInput = byId<HTMLInputElement>(ids.key);
  const keySave = byId<HTMLButtonElement>(ids.keySave);
  const keyForget = byId<HTMLButtonElement>(ids.keyForget);
  const status = byId<HTMLElement>(ids.status);
  const errorBox = byId<HTMLElement>(ids.error);
  const results = byId<HTMLElement>(ids.results);
  const summary = byId<HTMLElement>(ids.summary);
  const meta = byId<HTMLElement>(ids.meta);
  const ranking = byId<HTMLOListElement>(ids.ranking);
  const vectors = byId<HTMLElement>(ids.vectors);
  const snippetCurl = byId<HTMLElement>(ids.snippetCurl);
  const snippetOpenai = byId<HTMLElement>(ids.snippetOpenai);
  const snippetLangchain = byId<HTMLElement>(ids.snippetLangchain);
  const exampleButtons = Array.from(byId<HTMLElement>(ids.examples).querySelectorAll<HTMLButtonElement>('button[data-example]'));

  let models: ModelCard[] = [];
  /** What to do again once the user has given an API key after a 401. */
  const retry = { models: false, run: false };
  let rowSerial = 0;
  // The server answers 503 while it loads the model; the list is asked again, a bounded number of times.
  let modelListAttempts = 0;
  // Fallback when sessionStorage is unavailable (some privacy modes throw on access).
  let keyInMemory = '';

  // ---- API key (sessionStorage only) ----
  function storedKey(): string {
    try {
      return sessionStorage.getItem(config.keyStorage) ?? '';
    } catch {
      return keyInMemory;
    }
  }
  function storeKey(key: string): void {
    keyInMemory = key;
    try {
      if (key) sessionStorage.setItem(config.keyStorage, key);
      else sessionStorage.removeItem(config.keyStorage);
    } catch {
      // Kept in memory for this page only.
    }
  }
  function showKeyBox(): void {
    keyBox.hidden = false;
    keyInput.value = storedKey();
  }

  // ---- messages ----
  function say(text: string): void {
    status.textContent = text;
  }
  function showError(text: string): void {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }
  function clearError(): void {
    errorBox.textContent = '';
    errorBox.hidden = true;
  }

  /** fetch with the API key, turning every failure into one readable line. */
  async function callApi(path: string, body?: unknown): Promise<ApiResult> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const key = storedKey();
    if (key) headers.Authorization = `Bearer ${key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method: body === undefined ? 'GET' : 'POST', headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      return { ok: false, status: 0, message: `无法连接服务（${path}）：${error instanceof Error ? error.message : String(error)}` };
    }
    let payload: unknown;
    try {
      payload = await response.json();
    } catch {
      return { ok: false, status: response.status, message: `HTTP ${response.status}：服务返回的不是 JSON（${path}）` };
    }
    if (!response.ok) {
      const error = (payload as { error?: { message?: unknown; type?: unknown; code?: unknown } } | null)?.error;
      const detail = typeof error?.message === 'string' ? error.message : JSON.stringify(payload);
      const kind = [error?.type, error?.code].filter((part): part is string => typeof part === 'string' && part.length > 0).join(' / ');
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        ok: false,
        status: response.status,
        message: `HTTP ${response.status}${kind ? `（${kind}）` : ''}：${detail}`,
        ...(retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
      };
    }
    return { ok: true, response, payload };
  }

  function needKey(message: string, what: 'models' | 'run'): void {
    retry[what] = true;
    showKeyBox();
    showError(`${message}\n需要 API Key：请在下方输入后点击“保存并重试”。`);
    say('需要 API Key');
    keyInput.focus();
  }

  // ---- models ----
  /** Fills the model selector; false when the list could not be read. */
  async function loadModels(): Promise<boolean> {
    const result = await callApi('/v1/models');
    if (!result.ok) {
      if (result.status === 401) needKey(result.message, 'models');
      else if (result.status === 503 && ++modelListAttempts <= 60) {
        say(`服务正在加载模型，稍后自动重试…（${result.message}）`);
        setTimeout(() => void loadModels(), Math.min(result.retryAfterSeconds ?? 1, 10) * 1000);
      } else showError(`无法加载模型列表：${result.message}`);
      return false;
    }
    modelListAttempts = 0;
    if (status.textContent?.startsWith('服务正在加载模型')) say('模型已就绪');
    const data = (result.payload as { data?: unknown } | null)?.data;
    models = Array.isArray(data) ? (data as ModelCard[]).filter((m) => m && typeof m.id === 'string') : [];
    const previous = modelSelect.value;
    modelSelect.replaceChildren(
      ...models.map((m) => {
        const option = make('option', undefined, `${m.id}（${m.dimensions} 维 · ${m.dtype} · ${m.backend}）`);
        option.value = m.id;
        return option;
      }),
    );
    if (models.length === 0) {
      const option = make('option', undefined, '（服务没有可用的模型）');
      option.value = '';
      modelSelect.append(option);
    } else if (models.some((m) => m.id === previous)) {
      modelSelect.value = previous;
    }
    modelSelect.disabled = models.length === 0;
    updateSnippets();
    return true;
  }

  // ---- sentences to compare ----
  function compareRows(): HTMLLIElement[] {
    return Array.from(compareList.children) as HTMLLIElement[];
  }
  function renumberRows(): void {
    compareRows().forEach((row, index) => {
      const label = row.querySelector('label');
      const remove = row.querySelector('button');
      if (label) label.textContent = `句子 ${index + 1}`;
      if (remove) remove.setAttribute('aria-label', `删除句子 ${index + 1}`);
    });
  }
  function addRow(text: string): HTMLTextAreaElement {
    const id = `pg-compare-${++rowSerial}`;
    const row = make('li', 'pg-row');
    const label = make('label', 'pg-row-label');
    label.htmlFor = id;
    const body = make('div', 'pg-row-body');
    const textarea = make('textarea');
    textarea.id = id;
    textarea.name = 'sentences_to_compare';
    textarea.rows = 2;
    textarea.value = text;
    const remove = make('button', 'pg-button pg-remove', '删除');
    remove.type = 'button';
    remove.addEventListener('click', () => {
      const rows = compareRows();
      const next = rows[rows.indexOf(row) + 1] ?? rows[rows.indexOf(row) - 1];
      row.remove();
      renumberRows();
      inputChanged();
      (next?.querySelector('textarea') ?? addButton).focus();
    });
    body.append(textarea, remove);
    row.append(label, body);
    compareList.append(row);
    renumberRows();
    return textarea;
  }

  function loadExample(index: number): void {
    const example = config.examples[index];
    if (!example) return;
    source.value = example.source;
    compareList.replaceChildren();
    for (const text of example.compare) addRow(text);
    exampleButtons.forEach((button, i) => button.setAttribute('aria-pressed', String(i === index)));
    clearError();
    updateSnippets();
    say(`已载入${example.label}：1 个源句子，${example.compare.length} 个待比较句子`);
  }

  function inputChanged(): void {
    exampleButtons.forEach((button) => button.setAttribute('aria-pressed', 'false'));
    updateSnippets();
  }

  function currentRequest(): PipelineRequest {
    const compare = compareRows().map((row) => row.querySelector('textarea')?.value ?? '');
    return {
      ...(modelSelect.value ? { model: modelSelect.value } : {}),
      input: { source_sentence: [source.value], ...(compare.length > 0 ? { sentences_to_compare: compare } : {}) },
    };
  }

  // ---- code snippets for the same input ----
  function updateSnippets(): void {
    const request = currentRequest();
    const origin = location.origin;
    const keyed = storedKey() !== '';
    const model = request.model ?? (models[0]?.id || 'corom-base');
    const texts = [...request.input.source_sentence, ...(request.input.sentences_to_compare ?? [])];
    const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
    const js = (value: unknown, indent: string): string => JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`);

    snippetCurl.textContent = [
      `curl -sS ${origin}/v1/sentence-embedding \\`,
      `  -H 'Content-Type: application/json' \\`,
      ...(keyed ? ['  -H "Authorization: Bearer $COROM_API_KEY" \\'] : []),
      `  -d ${shellQuote(JSON.stringify(request, null, 2))}`,
    ].join('\n');

    snippetOpenai.textContent = [
      `import OpenAI from 'openai';`,
      ``,
      `const client = new OpenAI({ baseURL: '${origin}/v1', apiKey: process.env.COROM_API_KEY ?? 'unused' });`,
      `const { data } = await client.embeddings.create({`,
      `  model: ${JSON.stringify(model)},`,
      `  input: ${js(texts, '  ')},`,
      `  encoding_format: 'float',`,
      `});`,
      `// Unit-length vectors: the dot product of the first with each other one is the cosine column.`,
      `const dot = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0);`,
      `console.log(data.slice(1).map((d) => dot(data[0].embedding, d.embedding)));`,
    ].join('\n');

    snippetLangchain.textContent = [
      `import { CoromEmbeddings } from 'corom-edge/langchain';`,
      ``,
      `// The API key comes from env COROM_API_KEY (or pass apiKey).`,
      `const embeddings = new CoromEmbeddings({ baseUrl: '${origin}', model: ${JSON.stringify(model)} });`,
      `const query = await embeddings.embedQuery(${JSON.stringify(texts[0] ?? '')});`,
      `const documents = await embeddings.embedDocuments(${js(texts.slice(1), '')});`,
      `// Unit-length vectors by default: these dot products are the cosine column.`,
      `const dot = (a, b) => a.reduce((sum, x, i) => sum + x * b[i], 0);`,
      `console.log(documents.map((d) => dot(query, d)));`,
    ].join('\n');
  }

  async function copySnippet(target: HTMLElement, label: string): Promise<void> {
    const text = target.textContent ?? '';
    try {
      await navigator.clipboard.writeText(text);
      say(`已复制${label}`);
    } catch {
      // No clipboard API outside secure contexts (plain http on a LAN address): select it instead.
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      say(`无法直接复制${label}：已选中文本，请按 Ctrl+C / ⌘C`);
    }
  }

  // ---- run ----
  function formatNumber(value: number, digits: number): string {
    return Number.isFinite(value) ? value.toFixed(digits) : '—';
  }
  function norm(vector: readonly number[]): number {
    let sum = 0;
    for (const x of vector) sum += x * x;
    return Math.sqrt(sum);
  }
  function cosine(a: readonly number[], b: readonly number[]): number {
    let dot = 0;
    for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
    return dot / (norm(a) * norm(b));
  }

  function isNumberMatrix(value: unknown, rows: number): value is number[][] {
    return (
      Array.isArray(value) &&
      value.length === rows &&
      value.every((row) => Array.isArray(row) && row.length > 0 && row.every((x) => typeof x === 'number'))
    );
  }

  async function run(): Promise<void> {
    clearError();
    const request = currentRequest();
    if (!source.value.trim()) {
      showError('请输入源句子。');
      source.focus();
      return;
    }
    const blank = compareRows().findIndex((row) => !(row.querySelector('textarea')?.value ?? '').trim());
    if (blank >= 0) {
      showError(`句子 ${blank + 1} 是空的：请填写或删除它。`);
      compareRows()[blank]?.querySelector('textarea')?.focus();
      return;
    }

    runButton.disabled = true;
    results.setAttribute('aria-busy', 'true');
    say('计算中…');
    const started = performance.now();
    const result = await callApi('/v1/sentence-embedding', request);
    const latency = performance.now() - started;
    runButton.disabled = false;
    results.setAttribute('aria-busy', 'false');

    if (!result.ok) {
      if (result.status === 401) return needKey(result.message, 'run');
      say('请求失败');
      showError(result.message);
      return;
    }
    const texts = [...request.input.source_sentence, ...(request.input.sentences_to_compare ?? [])];
    const output = (result.payload ?? {}) as { text_embedding?: unknown; scores?: unknown };
    const scores = output.scores;
    if (
      !isNumberMatrix(output.text_embedding, texts.length) ||
      !Array.isArray(scores) ||
      scores.length !== texts.length - 1 ||
      !scores.every((s) => typeof s === 'number')
    ) {
      say('请求失败');
      showError(`服务返回的结果格式不对：需要 ${texts.length} 个向量和 ${texts.length - 1} 个分数。`);
      return;
    }
    const modelId = request.model ?? models[0]?.id ?? '默认模型';
    const backend =
      result.response.headers.get('x-corom-backend') ?? models.find((m) => m.id === modelId)?.backend ?? '未知（/v1/models 不可用）';
    renderResults(texts, output.text_embedding, scores as number[], {
      modelId,
      backend,
      latency,
      requestId: result.response.headers.get('x-request-id') ?? '—',
    });
    say(`完成：${scores.length} 个句子已排序，用时 ${Math.round(latency)} ms`);
  }

  function renderResults(
    texts: string[],
    embedding: number[][],
    scores: number[],
    info: { modelId: string; backend: string; latency: number; requestId: string },
  ): void {
    results.hidden = false;

    const metaItems: Array<[string, string]> = [
      ['模型', info.modelId],
      ['后端', info.backend],
      ['延迟', `${Math.round(info.latency)} ms（往返）`],
      ['维度', String(embedding[0].length)],
      ['请求 ID', info.requestId],
    ];
    meta.replaceChildren(
      ...metaItems.map(([term, value]) => {
        const item = make('div', 'pg-meta-item');
        item.append(make('dt', undefined, term), make('dd', undefined, value));
        item.dataset.field = term;
        return item;
      }),
    );

    const first = embedding[0];
    const order = scores.map((score, index) => ({ score, index, cos: cosine(first, embedding[index + 1]) }));
    order.sort((a, b) => b.score - a.score || a.index - b.index);
    const scale = Math.max(...scores.map(Math.abs), Number.MIN_VALUE);
    ranking.replaceChildren(
      ...order.map((hit, rank) => {
        const item = make('li', 'pg-hit');
        item.dataset.index = String(hit.index);
        item.dataset.score = String(hit.score);
        item.dataset.cosine = String(hit.cos);
        const head = make('div', 'pg-hit-head');
        head.append(make('span', 'pg-rank', `#${rank + 1}`), make('span', 'pg-hit-text', texts[hit.index + 1]));
        const bar = make('div', 'pg-bar');
        bar.setAttribute('aria-hidden', 'true');
        const fill = make('span', hit.score < 0 ? 'pg-bar-fill pg-negative' : 'pg-bar-fill');
        fill.style.width = `${(Math.abs(hit.score) / scale) * 100}%`;
        bar.append(fill);
        const numbers = make('div', 'pg-hit-numbers');
        const dot = make('span', 'pg-score', '点积 ');
        dot.append(make('strong', undefined, formatNumber(hit.score, 4)));
        const cos = make('span', 'pg-cosine', '余弦 ');
        cos.append(make('strong', undefined, formatNumber(hit.cos, 4)));
        numbers.append(dot, cos, make('span', 'pg-origin', `（输入第 ${hit.index + 1} 句）`));
        item.append(head, bar, numbers);
        return item;
      }),
    );

    const shown = Math.min(config.previewDimensions, embedding[0].length);
    const table = make('table', 'pg-table');
    table.append(make('caption', undefined, `每个向量的前 ${shown} 维（共 ${embedding[0].length} 维，原始 [CLS] 向量，未归一化）`));
    const headRow = make('tr');
    headRow.append(make('th', undefined, '句子'), make('th', undefined, 'L2 范数'));
    for (let d = 0; d < shown; d++) headRow.append(make('th', undefined, `d${d}`));
    const thead = make('thead');
    thead.append(headRow);
    const tbody = make('tbody');
    embedding.forEach((vector, row) => {
      const tr = make('tr');
      const name = make('th', undefined, row === 0 ? '源句子' : `句子 ${row}`);
      name.scope = 'row';
      name.title = texts[row];
      tr.append(name, make('td', undefined, formatNumber(norm(vector), 3)));
      for (let d = 0; d < shown; d++) tr.append(make('td', undefined, formatNumber(vector[d], 4)));
      tbody.append(tr);
    });
    table.append(thead, tbody);
    vectors.replaceChildren(table);

    const best = order[0];
    summary.textContent = best
      ? `结果：${order.length} 个句子按点积从高到低排序；最相近的是输入第 ${best.index + 1} 句（点积 ${formatNumber(best.score, 4)}，余弦 ${formatNumber(best.cos, 4)}）。`
      : '结果：没有待比较的句子，只返回了源句子的向量。';
  }

  // ---- wiring ----
  exampleButtons.forEach((button) => button.addEventListener('click', () => loadExample(Number(button.dataset.example))));
  addButton.addEventListener('click', () => {
    addRow('').focus();
    inputChanged();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run();
  });
  form.addEventListener('input', (event) => {
    if (event.target !== keyInput) inputChanged();
  });
  modelSelect.addEventListener('change', updateSnippets);
  // Ctrl/⌘+Enter runs from any text box (plain Enter inserts a line break in a textarea).
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && event.target instanceof HTMLTextAreaElement) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  async function saveKey(): Promise<void> {
    const key = keyInput.value.trim();
    storeKey(key);
    clearError();
    updateSnippets();
    say(key ? '已保存 API Key（仅保存在本标签页的 sessionStorage）' : '已清除 API Key');
    const again = { models: retry.models || models.length === 0, run: retry.run };
    retry.models = retry.run = false;
    // The model list first, so a retried run uses the selected model; stop if the key is refused again.
    if (again.models && !(await loadModels())) {
      retry.run ||= again.run;
      return;
    }
    if (again.run) await run();
  }
  keySave.addEventListener('click', () => void saveKey());
  keyInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      void saveKey();
    }
  });
  keyForget.addEventListener('click', () => {
    keyInput.value = '';
    storeKey('');
    updateSnippets();
    say('已清除 API Key');
    keyInput.focus();
  });
  document.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((button) =>
    button.addEventListener('click', () => {
      const target = document.getElementById(button.dataset.copy ?? '');
      if (target) void copySnippet(target, button.dataset.label ?? '');
    }),
  );

  if (storedKey()) showKeyBox();
  loadExample(0);
  say('');
  void loadModels();
}
