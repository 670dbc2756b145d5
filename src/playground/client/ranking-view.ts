/**
 * The ranking view: a query and passages (one per line) -> POST /v1/text-ranking with the selected
 * ranker -> the passages best first, each with its score (sigmoid of the cross-encoder's logit) and
 * a bar. The model list shows the rankers when /v1/models reports kinds, every model otherwise.
 */
import { RANKING_CARD_EXAMPLE } from '../examples.js';
import { PLAYGROUND_IDS as ID } from '../ids.js';
import { byId, make } from './dom.js';
import { isRunShortcut } from './keyboard.js';
import { fillModelSelect } from './model-select.js';
import { answeringBackend, modelsOfKind } from './models.js';
import { buildRankingRequest, checkRankingInput, parseRankingOutput, rankingSummary, rankPassages, splitPassages, type RankedPassage } from './ranking.js';
import { hitItem, labelledNumber, renderFactList } from './render.js';
import type { PlaygroundShell, PlaygroundView } from './view.js';
import { sendViewRequest, showRequestFailure } from './view-request.js';

function renderRanked(target: HTMLOListElement, ranked: readonly RankedPassage[], passages: readonly string[]): void {
  target.replaceChildren(
    ...ranked.map((hit, rank) =>
      hitItem(rank, hit, passages[hit.index], [labelledNumber('pg-score', '相关性 ', hit.score), make('span', 'pg-origin', `（输入第 ${hit.index + 1} 段）`)]),
    ),
  );
}

export const rankingView: PlaygroundView = {
  name: 'ranking',
  start(shell: PlaygroundShell): void {
    const form = byId<HTMLFormElement>(ID.rankForm);
    const modelSelect = byId<HTMLSelectElement>(ID.rankModel);
    const exampleButton = byId<HTMLButtonElement>(ID.rankExample);
    const query = byId<HTMLTextAreaElement>(ID.rankQuery);
    const passagesBox = byId<HTMLTextAreaElement>(ID.rankPassages);
    const runButton = byId<HTMLButtonElement>(ID.rankRun);
    const results = byId<HTMLElement>(ID.rankResults);
    const summary = byId<HTMLElement>(ID.rankSummary);
    const meta = byId<HTMLElement>(ID.rankMeta);
    const list = byId<HTMLOListElement>(ID.rankList);

    function fillModels(): void {
      fillModelSelect(modelSelect, shell.models(), 'rerank', '（服务没有排序模型）');
    }

    function loadExample(): void {
      query.value = RANKING_CARD_EXAMPLE.query;
      passagesBox.value = RANKING_CARD_EXAMPLE.passages.join('\n');
      exampleButton.setAttribute('aria-pressed', 'true');
    }

    async function run(): Promise<void> {
      shell.clearError();
      const passages = splitPassages(passagesBox.value);
      const problem = checkRankingInput(query.value, passages);
      if (problem) {
        shell.showError(problem.message);
        (problem.focus === 'query' ? query : passagesBox).focus();
        return;
      }
      const request = buildRankingRequest(modelSelect.value, query.value, passages);
      const sent = await sendViewRequest(shell, '/v1/text-ranking', request, { button: runButton, results, busyText: '排序中…', name: 'rank', retry: run });
      if (!sent) return;
      const { result, latencyMs } = sent;
      const parsed = parseRankingOutput(result.payload, passages.length);
      if (!parsed.ok) return showRequestFailure(shell, parsed.message);
      const ranked = rankPassages(parsed.scores);
      const modelId = request.model ?? modelsOfKind(shell.models(), 'rerank')[0]?.id ?? '默认模型';
      results.hidden = false;
      const facts: Array<[string, string]> = [
        ['模型', modelId],
        ['后端', answeringBackend(result.headers.get('x-corom-backend'), shell.models(), modelId)],
        ['延迟', `${Math.round(latencyMs)} ms（往返）`],
        ['请求 ID', result.headers.get('x-request-id') ?? '—'],
      ];
      renderFactList(meta, facts);
      renderRanked(list, ranked, passages);
      summary.textContent = rankingSummary(ranked);
      shell.say(`完成：${ranked.length} 个段落已排序，用时 ${Math.round(latencyMs)} ms`);
    }

    exampleButton.addEventListener('click', () => {
      loadExample();
      shell.say(`已载入${RANKING_CARD_EXAMPLE.label}：1 个查询，${RANKING_CARD_EXAMPLE.passages.length} 个段落`);
    });
    form.addEventListener('input', () => exampleButton.setAttribute('aria-pressed', 'false'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void run();
    });
    form.addEventListener('keydown', (event) => {
      if (isRunShortcut(event) && event.target instanceof HTMLTextAreaElement) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    shell.onChange(fillModels);
    fillModels();
    loadExample();
  },
};
