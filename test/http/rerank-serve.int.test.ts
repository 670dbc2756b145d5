/**
 * Acceptance (issue 15, issue 14 item 11): `corom serve --model <ranker> --model <embedder>` as a
 * child process. /v1/rerank, /v2/rerank and /v1/text-ranking on the ranker equal `corom rank`
 * (scores within 1e-5); embeddings on the embedder equal the engine's; and unchanged third-party
 * clients work against it: cohere-ai's v1 CohereClient.rerank and v2 CohereClientV2.rerank, and
 * the Vercel AI SDK's rerank() with @ai-sdk/cohere.
 */
import { createCohere } from '@ai-sdk/cohere';
import { rerank } from 'ai';
import { CohereClient, CohereClientV2 } from 'cohere-ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoromReranker } from '../../integrations/langchain/index.js';
import { runCli } from '../helpers/cli.js';
import { EXPECTED, FIXTURE_DIR, maxAbsDiff } from '../helpers/fixture.js';
import { convertedRanker, RANK_SCORE_ABS_TOL, RANKER_CASES } from '../helpers/ranker-fixture.js';
import { startServe, type ServeProcess } from '../langchain/serve-process.js';
import { fixtureEngine, postJson } from './server-helpers.js';

let server: ServeProcess;
let rankerDir: string;
const example = RANKER_CASES[3]!;
const query = example.source_sentence[0]!;
const documents = example.sentences_to_compare;
/** What `corom rank` prints for the example: the reference every route must equal. */
let cliScores: number[];

beforeAll(async () => {
  rankerDir = await convertedRanker('fp32');
  const cli = await runCli(['rank', '--model', rankerDir], JSON.stringify({ source_sentence: [query], sentences_to_compare: documents }));
  expect(cli.code, cli.stderr).toBe(0);
  cliScores = (JSON.parse(cli.stdout) as { scores: number[] }).scores;
  server = await startServe(['--model', rankerDir, '--model', FIXTURE_DIR, '--model-id', 'ranker', '--model-id', 'tiny-bert', '--dtype', 'fp32', '--threads', '1']);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

/** Results (best first) as scores by input index. */
function byIndex(results: ReadonlyArray<{ index: number; relevanceScore?: number; relevance_score?: number }>): number[] {
  const scores: number[] = [];
  for (const r of results) scores[r.index] = r.relevanceScore ?? r.relevance_score!;
  return scores;
}

function expectCliScores(scores: number[]): void {
  expect(scores).toHaveLength(cliScores.length);
  scores.forEach((s, i) => expect(Math.abs(s - cliScores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
}

describe('corom serve with a ranker and an embedder', () => {
  it('the startup line lists both models with their kind; /v1/models says each kind', async () => {
    expect(server.stderr()).toMatch(/ready: 2 models: rerank model 'ranker' \(fp32, [^)]*hidden, max 128 tokens\), embedding model 'tiny-bert' \(fp32, [^)]*, 32 dims, max 128 tokens\)/);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: Array<{ id: string; kind: string }> };
    expect(models.data.map((m) => [m.id, m.kind])).toEqual([
      ['ranker', 'rerank'],
      ['tiny-bert', 'embedding'],
    ]);
  });

  it('/v1/rerank, /v2/rerank and /v1/text-ranking equal corom rank', async () => {
    for (const path of ['/v1/rerank', '/v2/rerank']) {
      const answer = await postJson(`${server.url}${path}`, { model: 'ranker', query, documents });
      expect(answer.status).toBe(200);
      expectCliScores(byIndex(answer.json.results));
    }
    const pipeline = await postJson(`${server.url}/v1/text-ranking`, { model: 'ranker', input: { source_sentence: [query], sentences_to_compare: documents } });
    expect(pipeline.status).toBe(200);
    expect(pipeline.json.scores).toEqual(cliScores);
    // Every fixture case, against the independent reference.
    for (const c of RANKER_CASES) {
      const r = await postJson(`${server.url}/v1/text-ranking`, { input: { source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare } });
      r.json.scores.forEach((s: number, i: number) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
    }
  });

  it('embeddings on the embedder are unchanged; a ranker asked for embeddings is a 400 naming its kind', async () => {
    const texts = [...EXPECTED[3]!.source_sentence, ...EXPECTED[3]!.sentences_to_compare];
    const answer = await postJson(`${server.url}/v1/embeddings`, { model: 'tiny-bert', input: texts, encoding_format: 'float' });
    expect(answer.status).toBe(200);
    const reference = await (await fixtureEngine()).embed(texts, { normalize: true });
    answer.json.data.forEach((d: { embedding: number[] }, i: number) => expect(maxAbsDiff(d.embedding, reference[i]!)).toBeLessThan(1e-5));
    const wrong = await postJson(`${server.url}/v1/embeddings`, { model: 'ranker', input: 'a' });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toMatchObject({ code: 'wrong_model_task', param: 'model' });
    expect(wrong.json.error.message).toContain("model 'ranker' serves rerank, not embedding");
  });

  it('cohere-ai v1 CohereClient.rerank, unchanged', async () => {
    const client = new CohereClient({ token: 'unused', environment: server.url });
    const res = await client.rerank({ model: 'ranker', query, documents, topN: 2, returnDocuments: true }, { maxRetries: 0 });
    expect(res.results).toHaveLength(2);
    res.results.forEach((r) => {
      expect(Math.abs(r.relevanceScore - cliScores[r.index]!)).toBeLessThan(RANK_SCORE_ABS_TOL);
      expect(r.document?.text).toBe(documents[r.index]);
    });
    expect(res.results[0]!.relevanceScore).toBeGreaterThanOrEqual(res.results[1]!.relevanceScore);
    expect(res.id).toMatch(/\S/);
    expect(res.meta?.billedUnits?.searchUnits).toBe(1);
  });

  it('cohere-ai v2 CohereClientV2.rerank and CohereClient.v2.rerank, unchanged', async () => {
    const v2 = new CohereClientV2({ token: 'unused', environment: server.url });
    const res = await v2.rerank({ model: 'ranker', query, documents, maxTokensPerDoc: 512 }, { maxRetries: 0 });
    expectCliScores(byIndex(res.results));
    expect(res.meta?.apiVersion?.version).toBe('2');
    const viaV1 = await new CohereClient({ token: 'unused', environment: server.url }).v2.rerank({ model: 'ranker', query, documents, topN: 1 }, { maxRetries: 0 });
    expect(viaV1.results).toHaveLength(1);
  });

  it('Vercel AI SDK rerank() with @ai-sdk/cohere, unchanged', async () => {
    const cohere = createCohere({ baseURL: `${server.url}/v2`, apiKey: 'unused' });
    const { ranking, rerankedDocuments } = await rerank({ model: cohere.reranking('ranker'), query, documents, topN: 3, maxRetries: 0 });
    expect(ranking).toHaveLength(3);
    ranking.forEach((r) => expect(Math.abs(r.score - cliScores[r.originalIndex]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
    expect(rerankedDocuments).toEqual(ranking.map((r) => documents[r.originalIndex]));
  });

  it('LangChain CoromReranker (remote) on the ranker gives the cross-encoder scores', async () => {
    const results = await new CoromReranker({ baseUrl: server.url, model: 'ranker', maxRetries: 0 }).rerank(documents, query);
    expectCliScores(byIndex(results));
  });
});
