/**
 * Acceptance: the official `openai` client (default base64, and float) and LangChain's
 * OpenAIEmbeddings against the real server on the fixture model; vectors equal the engine's.
 */
import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPECTED } from '../helpers/fixture.js';
import { FIXTURE_MODEL, maxAbsDiff, postJson, startServer, type TestServer } from './server-helpers.js';

const example4 = EXPECTED[3];
const texts = [...example4.source_sentence, ...example4.sentences_to_compare];
const API_KEY = 'sk-test-clients';

let server: TestServer;
let sentBodies: Array<Record<string, unknown>>;

/** Records what the client puts on the wire, so the test knows which encoding it asked for. */
const recordingFetch: typeof fetch = async (input, init) => {
  if (typeof init?.body === 'string') sentBodies.push(JSON.parse(init.body) as Record<string, unknown>);
  return fetch(input, init);
};

beforeAll(async () => {
  server = await startServer({ apiKeys: [API_KEY] });
});
afterAll(async () => {
  await server?.close();
});

describe('OpenAI-compatible clients', () => {
  it('openai client, default settings (base64 on the wire): vectors equal engine.embed(normalize)', async () => {
    sentBodies = [];
    const client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.url}v1`, fetch: recordingFetch, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'tiny-bert', input: texts });
    expect(sentBodies[0]?.encoding_format).toBe('base64');
    const reference = await server.engine.embed(texts, { normalize: true });
    expect(res.object).toBe('list');
    expect(res.model).toBe('tiny-bert');
    expect(res.data.map((d) => d.index)).toEqual(texts.map((_, i) => i));
    res.data.forEach((d, i) => expect(maxAbsDiff(d.embedding, reference[i])).toBeLessThan(1e-5));
    const tokens = example4.input_ids.reduce((n, ids) => n + ids.length, 0);
    expect(res.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it("openai client, encoding_format 'float'", async () => {
    sentBodies = [];
    const client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.url}v1`, fetch: recordingFetch, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'tiny-bert', input: texts[1], encoding_format: 'float' });
    expect(sentBodies[0]?.encoding_format).toBe('float');
    const [reference] = await server.engine.embed([texts[1]], { normalize: true });
    expect(res.data).toHaveLength(1);
    expect(maxAbsDiff(res.data[0].embedding, reference)).toBeLessThan(1e-5);
  });

  it('openai client: dimensions truncates and re-normalizes; a wrong key is a 401 AuthenticationError', async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.url}v1`, maxRetries: 0 });
    const res = await client.embeddings.create({ model: 'tiny-bert', input: texts[0], dimensions: 8 });
    const [raw] = await server.engine.embed([texts[0]]);
    const head = raw.slice(0, 8);
    const norm = Math.hypot(...head);
    expect(res.data[0].embedding).toHaveLength(8);
    expect(maxAbsDiff(res.data[0].embedding, Array.from(head, (x) => x / norm))).toBeLessThan(1e-5);

    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${server.url}v1`, maxRetries: 0 });
    await expect(wrong.embeddings.create({ model: 'tiny-bert', input: 'x' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('openai client lists the served model', async () => {
    const client = new OpenAI({ apiKey: API_KEY, baseURL: `${server.url}v1`, maxRetries: 0 });
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    expect(models.map((m) => m.id)).toEqual(['tiny-bert']);
    const one = (await client.models.retrieve('tiny-bert')) as unknown as Record<string, unknown>;
    expect(one).toMatchObject({ id: 'tiny-bert', object: 'model', dimensions: 32, max_length: 128, dtype: 'fp32' });
  });

  it('LangChain OpenAIEmbeddings through configuration.baseURL', async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'tiny-bert', apiKey: API_KEY, configuration: { baseURL: `${server.url}v1` }, maxRetries: 0 });
    const docs = await embeddings.embedDocuments(texts.slice(1));
    const query = await embeddings.embedQuery(texts[0]);
    const reference = await server.engine.embed(texts, { normalize: true });
    expect(maxAbsDiff(query, reference[0])).toBeLessThan(1e-5);
    docs.forEach((d, i) => expect(maxAbsDiff(d, reference[i + 1])).toBeLessThan(1e-5));
  });

  it('/v1/sentence-embedding on the model card example 4 equals Engine.pipeline and the reference', async () => {
    const body = { input: { source_sentence: example4.source_sentence, sentences_to_compare: example4.sentences_to_compare } };
    const res = await postJson(`${server.url}v1/sentence-embedding`, body, { Authorization: `Bearer ${API_KEY}` });
    expect(res.status).toBe(200);
    const pipeline = await server.engine.pipeline(body.input);
    res.json.text_embedding.forEach((v: number[], i: number) => {
      expect(maxAbsDiff(v, pipeline.text_embedding[i])).toBeLessThan(1e-6);
      expect(maxAbsDiff(v, example4.text_embedding[i])).toBeLessThan(1e-4);
    });
    res.json.scores.forEach((s: number, i: number) => {
      expect(Math.abs(s - pipeline.scores[i])).toBeLessThan(1e-4);
      expect(Math.abs(s - example4.scores[i]) / Math.abs(example4.scores[i])).toBeLessThan(1e-3);
    });
  });

  it('token-id input gives the same vector as the text it came from, with or without [CLS]/[SEP]', async () => {
    const auth = { Authorization: `Bearer ${API_KEY}` };
    const ids = example4.input_ids[0];
    const fromText = await postJson(`${server.url}v1/embeddings`, { input: texts[0], model: 'tiny-bert' }, auth);
    const fromIds = await postJson(`${server.url}v1/embeddings`, { input: [ids, ids.slice(1, -1)] }, auth);
    expect(fromIds.status).toBe(200);
    expect(maxAbsDiff(fromIds.json.data[0].embedding, fromText.json.data[0].embedding)).toBeLessThan(1e-6);
    expect(maxAbsDiff(fromIds.json.data[1].embedding, fromText.json.data[0].embedding)).toBeLessThan(1e-6);
    expect(fromIds.json.usage.prompt_tokens).toBe(2 * ids.length);
    // Too long: truncated to 128 tokens ([CLS] + 126 + [SEP]), not rejected.
    const long = await postJson(`${server.url}v1/embeddings`, { input: new Array(300).fill(1391) }, auth);
    expect(long.status).toBe(200);
    expect(long.json.usage.prompt_tokens).toBe(128);
  });

  it('/tokenize and /v1/rerank answer in their documented shapes', async () => {
    const auth = { Authorization: `Bearer ${API_KEY}` };
    const tok = await postJson(`${server.url}tokenize`, { inputs: texts[0] }, auth);
    expect(tok.status).toBe(200);
    expect(tok.json.data[0].ids).toEqual(example4.input_ids[0]);
    expect(tok.json.data[0].tokens[0]).toBe('[CLS]');

    const rerank = await postJson(`${server.url}v1/rerank`, { query: texts[0], documents: [texts[1], { text: texts[2] }, texts[3]], top_n: 2, return_documents: true }, auth);
    expect(rerank.status).toBe(200);
    const vectors = await server.engine.embed(texts.slice(0, 4), { normalize: true });
    const cos = (i: number) => vectors[0].reduce((s, x, k) => s + x * vectors[i][k], 0);
    const expected = [1, 2, 3].map((i) => ({ index: i - 1, score: cos(i) })).sort((a, b) => b.score - a.score).slice(0, 2);
    expect(rerank.json.results.map((r: { index: number }) => r.index)).toEqual(expected.map((e) => e.index));
    rerank.json.results.forEach((r: { relevance_score: number; document: { text: string } }, k: number) => {
      expect(Math.abs(r.relevance_score - expected[k].score)).toBeLessThan(1e-5);
      expect(r.document.text).toBe(texts[expected[k].index + 1]);
    });
  });
});
