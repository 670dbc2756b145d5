/**
 * The model card's widget: a source sentence, sentences to compare, the four examples and Run ->
 * POST /v1/sentence-embedding, then the ranked scores with cosines, the vectors' first dimensions
 * and code snippets for the same input.
 */
import { MODEL_CARD_EXAMPLES } from '../examples.js';
import { PLAYGROUND_IDS as ID, PREVIEW_DIMENSIONS } from '../ids.js';
import { byId, make } from './dom.js';
import { isRunShortcut } from './keyboard.js';
import { answeringBackend, modelsOfKind } from './models.js';
import { buildPipelineRequest, checkPipelineInput, parsePipelineOutput, requestTexts, type PipelineRequest } from './pipeline.js';
import { renderFacts, renderRanking, renderVectorTable } from './render.js';
import { rankHits, resultSummary } from './scores.js';
import { buildSnippets } from './snippets.js';
import type { PlaygroundShell, PlaygroundView } from './view.js';
import { sendViewRequest, showRequestFailure } from './view-request.js';

export const similarityView: PlaygroundView = {
  name: 'similarity',
  start(shell: PlaygroundShell): void {
    const form = byId<HTMLFormElement>(ID.form);
    const source = byId<HTMLTextAreaElement>(ID.source);
    const compareList = byId<HTMLOListElement>(ID.compare);
    const addButton = byId<HTMLButtonElement>(ID.add);
    const runButton = byId<HTMLButtonElement>(ID.run);
    const results = byId<HTMLElement>(ID.results);
    const summary = byId<HTMLElement>(ID.summary);
    const meta = byId<HTMLElement>(ID.meta);
    const ranking = byId<HTMLOListElement>(ID.ranking);
    const vectors = byId<HTMLElement>(ID.vectors);
    const snippetTargets = { curl: byId(ID.snippetCurl), openai: byId(ID.snippetOpenai), langchain: byId(ID.snippetLangchain) };
    const exampleButtons = Array.from(byId(ID.examples).querySelectorAll<HTMLButtonElement>('button[data-example]'));
    let rowSerial = 0;

    // ---- sentences to compare ----
    const compareRows = (): HTMLLIElement[] => Array.from(compareList.children) as HTMLLIElement[];
    const compareTexts = (): string[] => compareRows().map((row) => row.querySelector('textarea')?.value ?? '');

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
      const example = MODEL_CARD_EXAMPLES[index];
      if (!example) return;
      source.value = example.source;
      compareList.replaceChildren();
      for (const text of example.compare) addRow(text);
      exampleButtons.forEach((button, i) => button.setAttribute('aria-pressed', String(i === index)));
      shell.clearError();
      updateSnippets();
      shell.say(`已载入${example.label}：1 个源句子，${example.compare.length} 个待比较句子`);
    }

    function inputChanged(): void {
      exampleButtons.forEach((button) => button.setAttribute('aria-pressed', 'false'));
      updateSnippets();
    }

    const currentRequest = (): PipelineRequest => buildPipelineRequest(shell.selectedModel(), source.value, compareTexts());

    // ---- code snippets for the same input ----
    function updateSnippets(): void {
      const request = currentRequest();
      const model = request.model ?? (modelsOfKind(shell.models(), 'embedding')[0]?.id || 'corom-base');
      const snippets = buildSnippets({ origin: location.origin, request, model, keyed: shell.keyed() });
      snippetTargets.curl.textContent = snippets.curl;
      snippetTargets.openai.textContent = snippets.openai;
      snippetTargets.langchain.textContent = snippets.langchain;
    }

    async function copySnippet(target: HTMLElement, label: string): Promise<void> {
      try {
        await navigator.clipboard.writeText(target.textContent ?? '');
        shell.say(`已复制${label}`);
      } catch {
        // No clipboard API outside secure contexts (plain http on a LAN address): select it instead.
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        shell.say(`无法直接复制${label}：已选中文本，请按 Ctrl+C / ⌘C`);
      }
    }

    // ---- run ----
    async function run(): Promise<void> {
      shell.clearError();
      const problem = checkPipelineInput(source.value, compareTexts());
      if (problem) {
        shell.showError(problem.message);
        (problem.focus === 'source' ? source : compareRows()[problem.focus]?.querySelector('textarea'))?.focus();
        return;
      }
      const request = currentRequest();
      const sent = await sendViewRequest(shell, '/v1/sentence-embedding', request, { button: runButton, results, busyText: '计算中…', name: 'run', retry: run });
      if (!sent) return;
      const { result, latencyMs } = sent;
      const texts = requestTexts(request);
      const parsed = parsePipelineOutput(result.payload, texts.length);
      if (!parsed.ok) return showRequestFailure(shell, parsed.message);
      const { embedding, scores } = parsed.output;
      const modelId = request.model ?? modelsOfKind(shell.models(), 'embedding')[0]?.id ?? '默认模型';
      const ranked = rankHits(embedding, scores);
      results.hidden = false;
      renderFacts(meta, {
        modelId,
        backend: answeringBackend(result.headers.get('x-corom-backend'), shell.models(), modelId),
        latencyMs,
        dimensions: embedding[0].length,
        requestId: result.headers.get('x-request-id') ?? '—',
      });
      renderRanking(ranking, ranked, texts.slice(1));
      renderVectorTable(vectors, embedding, texts, PREVIEW_DIMENSIONS);
      summary.textContent = resultSummary(ranked);
      shell.say(`完成：${scores.length} 个句子已排序，用时 ${Math.round(latencyMs)} ms`);
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
      if ((event.target as HTMLElement | null)?.id !== ID.key) inputChanged();
    });
    form.addEventListener('keydown', (event) => {
      if (isRunShortcut(event) && event.target instanceof HTMLTextAreaElement) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    document.querySelectorAll<HTMLButtonElement>('button[data-copy]').forEach((button) =>
      button.addEventListener('click', () => {
        const target = document.getElementById(button.dataset.copy ?? '');
        if (target) void copySnippet(target, button.dataset.label ?? '');
      }),
    );
    shell.onChange(updateSnippets);

    loadExample(0);
    shell.say('');
  },
};
