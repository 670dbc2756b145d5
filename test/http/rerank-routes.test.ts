/**
 * Rerank routes in-process (app.request, no sockets): the tiny-ranker cross-encoder served beside
 * an embedding model. /v1/rerank, /v2/rerank and /v1/text-ranking on the ranker give the fixture's
 * scores (= Ranker.rank, what `corom rank` prints); Cohere's `id` / `meta`, `raw_scores`, `top_n`,
 * `return_documents`; /v1/models says each model's kind; the wrong kind is a 400 naming it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedRanker } from '../../src/core/served-model.js';
import { loadRanker } from '../../src/engine/load.js';
import type { Ranker } from '../../src/engine/ranker.js';
import { createApp, type CoromApp } from '../../src/http/app.js';
import { convertedRanker, RANK_SCORE_ABS_TOL, RANKER_CASES } from '../helpers/ranker-fixture.js';
import { fakeTokenModel } from './fake-models.js';

let ranker: Ranker;
let app: CoromApp;
const embedder = fakeTokenModel({ id: 'embedder' });

beforeAll(async () => {
  ranker = await loadRanker({ model: await convertedRanker('fp32'), id: 'ranker' });
  // The embedder first: a rerank request without `model` still goes to the ranker.
  app = createApp({ models: [embedder, servedRanker(ranker)] });
});
afterAll(() => ranker?.close());

async function post(path: string, body: unknown) {
  const res = await app.request(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, json: (await res.json()) as any };
}

const example = RANKER_CASES[0]!;

describe('rerank routes with a cross-encoder', () => {
  it('/v1/text-ranking gives the pipeline scores (the fixture, within 1e-5) for every fixture case', async () => {
    for (const c of RANKER_CASES) {
      const answer = await post('/v1/text-ranking', { model: 'ranker', input: { source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare } });
      expect(answer.status).toBe(200);
      expect(Object.keys(answer.json)).toEqual(['scores']);
      expect(answer.json.scores).toHaveLength(c.scores.length);
      answer.json.scores.forEach((s: number, i: number) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
      const direct = await ranker.rank(c.source_sentence[0]!, c.sentences_to_compare);
      expect(answer.json.scores).toEqual(direct.scores);
    }
  });

  it.each(['/v1/rerank', '/v2/rerank'])('%s: sigmoid scores best first, top_n, documents, id and meta', async (path) => {
    const documents = example.sentences_to_compare;
    const answer = await post(path, { query: example.source_sentence[0], documents, top_n: 2, return_documents: true });
    expect(answer.status).toBe(200);
    expect(answer.json.model).toBe('ranker');
    expect(answer.headers.get('x-corom-backend')).toBe(ranker.info.backend);
    const order = example.scores.map((s, index) => ({ s, index })).sort((a, b) => b.s - a.s || a.index - b.index);
    expect(answer.json.results.map((r: { index: number }) => r.index)).toEqual(order.slice(0, 2).map((o) => o.index));
    for (const r of answer.json.results) {
      expect(Math.abs(r.relevance_score - example.scores[r.index]!)).toBeLessThan(RANK_SCORE_ABS_TOL);
      expect(r.document).toEqual({ text: documents[r.index] });
    }
    expect(answer.json.id).toBe(answer.headers.get('x-request-id'));
    expect(answer.json.meta).toEqual({ api_version: { version: path === '/v2/rerank' ? '2' : '1' }, billed_units: { search_units: 1 } });
    expect(answer.json.usage.total_tokens).toBeGreaterThan(0);
  });

  it('raw_scores returns the logits; Cohere fields are accepted and ignored', async () => {
    const answer = await post('/v2/rerank', {
      model: 'ranker',
      query: example.source_sentence[0],
      documents: example.sentences_to_compare.map((text) => ({ text, title: 'ignored' })),
      raw_scores: true,
      rank_fields: ['text'],
      max_chunks_per_doc: 10,
      max_tokens_per_doc: 4096,
      priority: 0,
    });
    expect(answer.status).toBe(200);
    expect(answer.json.results).toHaveLength(example.logits.length);
    for (const r of answer.json.results) expect(Math.abs(r.relevance_score - example.logits[r.index]!)).toBeLessThan(1e-4);
    expect(answer.json.results[0].document).toBeUndefined();
  });

  it('an embedding model named in /v1/rerank keeps the bi-encoder cosine, with id and meta', async () => {
    const answer = await post('/v1/rerank', { model: 'embedder', query: 'ab', documents: ['ab', 'xyz'] });
    expect(answer.status).toBe(200);
    expect(answer.json.model).toBe('embedder');
    expect(answer.json.results[0]).toEqual({ index: 0, relevance_score: expect.closeTo(1, 6) });
    expect(answer.json.meta.billed_units.search_units).toBe(1);
  });

  it('/v1/models and /v1/models/{id} give each model its kind', async () => {
    const list = (await (await app.request('/v1/models')).json()) as { data: Array<Record<string, unknown>> };
    expect(list.data.map((m) => [m.id, m.kind])).toEqual([
      ['embedder', 'embedding'],
      ['ranker', 'rerank'],
    ]);
    const card = (await (await app.request('/v1/models/ranker')).json()) as Record<string, unknown>;
    expect(card).toMatchObject({ id: 'ranker', kind: 'rerank', hidden: ranker.info.hidden, max_length: ranker.info.maxLength, accepts_token_ids: false });
    expect(card.dimensions).toBeUndefined();
    const info = (await (await app.request('/info')).json()) as { models: Array<{ kind: string }> };
    expect(info.models.map((m) => m.kind)).toEqual(['embedding', 'rerank']);
  });

  it.each([
    ['/v1/embeddings', { model: 'ranker', input: 'a' }, 'rerank', 'embedding'],
    ['/v1/sentence-embedding', { model: 'ranker', input: { source_sentence: ['a'] } }, 'rerank', 'embedding'],
    ['/tokenize', { model: 'ranker', inputs: 'a' }, 'rerank', 'embedding'],
    ['/v1/text-ranking', { model: 'embedder', input: { source_sentence: ['q'], sentences_to_compare: ['a'] } }, 'embedding', 'rerank'],
  ])('%s with a model of the other kind is a 400 naming its kind', async (path, body, kind, wanted) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('wrong_model_task');
    expect(answer.json.error.param).toBe('model');
    expect(answer.json.error.message).toContain(`serves ${kind}, not ${wanted}`);
  });

  it('without a model, embeddings go to the first embedding model and text-ranking to the first ranker', async () => {
    expect((await post('/v1/embeddings', { input: 'a' })).json.model).toBe('embedder');
    expect((await post('/v1/text-ranking', { input: { source_sentence: ['q'], sentences_to_compare: ['a'] } })).status).toBe(200);
  });

  it('text-ranking input is checked: exactly one query, at least one sentence', async () => {
    const two = await post('/v1/text-ranking', { input: { source_sentence: ['a', 'b'], sentences_to_compare: ['c'] } });
    expect(two.status).toBe(400);
    expect(two.json.error.message).toMatch(/input\.source_sentence must hold exactly one query/);
    const none = await post('/v1/text-ranking', { input: { source_sentence: ['a'], sentences_to_compare: [] } });
    expect(none.status).toBe(400);
    expect(none.json.error.param).toBe('input.sentences_to_compare');
  });

  it('the OpenAPI document has the three routes', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
    for (const path of ['/v1/rerank', '/v2/rerank', '/v1/text-ranking']) expect(doc.paths[path]).toBeDefined();
    for (const schema of ['TextRankingRequest', 'TextRankingResponse', 'RerankMeta']) expect(doc.components.schemas[schema]).toBeDefined();
  });
});
