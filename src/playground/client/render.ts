/** The similarity results as DOM: the facts line, the ranked sentences, the vector table. */
import { make } from './dom.js';
import { formatNumber, norm, type RankedHit } from './scores.js';

export interface ResultFacts {
  modelId: string;
  backend: string;
  latencyMs: number;
  dimensions: number;
  requestId: string;
}

export function renderFacts(target: HTMLElement, facts: ResultFacts): void {
  const items: Array<[string, string]> = [
    ['模型', facts.modelId],
    ['后端', facts.backend],
    ['延迟', `${Math.round(facts.latencyMs)} ms（往返）`],
    ['维度', String(facts.dimensions)],
    ['请求 ID', facts.requestId],
  ];
  renderFactList(target, items);
}

/** A results facts line: one term and value per fact, each item tagged data-field with its term. */
export function renderFactList(target: HTMLElement, facts: ReadonlyArray<readonly [string, string]>): void {
  target.replaceChildren(
    ...facts.map(([term, value]) => {
      const item = make('div', 'pg-meta-item');
      item.append(make('dt', undefined, term), make('dd', undefined, value));
      item.dataset.field = term;
      return item;
    }),
  );
}

/** One list item per sentence, best first; the raw numbers ride along in data-* for tests and tools. */
export function renderRanking(target: HTMLOListElement, ranked: readonly RankedHit[], sentences: readonly string[]): void {
  target.replaceChildren(
    ...ranked.map((hit, rank) => {
      const item = hitItem(rank, hit, sentences[hit.index], [
        labelledNumber('pg-score', '点积 ', hit.score),
        labelledNumber('pg-cosine', '余弦 ', hit.cosine),
        make('span', 'pg-origin', `（输入第 ${hit.index + 1} 句）`),
      ]);
      item.dataset.cosine = String(hit.cosine);
      return item;
    }),
  );
}

/**
 * One ranked hit of either view: its rank and text, a bar of `barPercent` (marked negative below
 * zero), then `numbers`; its input index and score ride along in data-*.
 */
export function hitItem(rank: number, hit: { index: number; score: number; barPercent: number }, text: string, numbers: readonly HTMLElement[]): HTMLLIElement {
  const item = make('li', 'pg-hit');
  item.dataset.index = String(hit.index);
  item.dataset.score = String(hit.score);
  const head = make('div', 'pg-hit-head');
  head.append(make('span', 'pg-rank', `#${rank + 1}`), make('span', 'pg-hit-text', text));
  const bar = make('div', 'pg-bar');
  bar.setAttribute('aria-hidden', 'true');
  const fill = make('span', hit.score < 0 ? 'pg-bar-fill pg-negative' : 'pg-bar-fill');
  fill.style.width = `${hit.barPercent}%`;
  bar.append(fill);
  const row = make('div', 'pg-hit-numbers');
  row.append(...numbers);
  item.append(head, bar, row);
  return item;
}

/** `label` then the value to 4 decimals in bold. */
export function labelledNumber(className: string, label: string, value: number): HTMLSpanElement {
  const span = make('span', className, label);
  span.append(make('strong', undefined, formatNumber(value, 4)));
  return span;
}

/** The first `previewDimensions` components and the L2 norm of every vector (source first). */
export function renderVectorTable(target: HTMLElement, embedding: readonly (readonly number[])[], texts: readonly string[], previewDimensions: number): void {
  const dimensions = embedding[0].length;
  const shown = Math.min(previewDimensions, dimensions);
  const table = make('table', 'pg-table');
  table.append(make('caption', undefined, `每个向量的前 ${shown} 维（共 ${dimensions} 维，原始 [CLS] 向量，未归一化）`));
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
  target.replaceChildren(table);
}
