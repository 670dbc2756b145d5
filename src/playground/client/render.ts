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
  target.replaceChildren(
    ...items.map(([term, value]) => {
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
      const item = make('li', 'pg-hit');
      item.dataset.index = String(hit.index);
      item.dataset.score = String(hit.score);
      item.dataset.cosine = String(hit.cosine);
      const head = make('div', 'pg-hit-head');
      head.append(make('span', 'pg-rank', `#${rank + 1}`), make('span', 'pg-hit-text', sentences[hit.index]));
      const bar = make('div', 'pg-bar');
      bar.setAttribute('aria-hidden', 'true');
      const fill = make('span', hit.score < 0 ? 'pg-bar-fill pg-negative' : 'pg-bar-fill');
      fill.style.width = `${hit.barPercent}%`;
      bar.append(fill);
      const numbers = make('div', 'pg-hit-numbers');
      const dot = make('span', 'pg-score', '点积 ');
      dot.append(make('strong', undefined, formatNumber(hit.score, 4)));
      const cos = make('span', 'pg-cosine', '余弦 ');
      cos.append(make('strong', undefined, formatNumber(hit.cosine, 4)));
      numbers.append(dot, cos, make('span', 'pg-origin', `（输入第 ${hit.index + 1} 句）`));
      item.append(head, bar, numbers);
      return item;
    }),
  );
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
