/**
 * POST /v1/rerank and POST /v2/rerank (one handler; Jina / Cohere v1 and v2 / TEI shapes), and the
 * ModelScope text-ranking pipeline, POST /v1/text-ranking.
 *
 * What a score is depends on the model's kind (GET /v1/models says it):
 * - a rerank model (cross-encoder) reads query and document together: relevance_score is
 *   sigmoid(logit), or the logit with `raw_scores: true` -- ModelScope's text-ranking scores;
 * - an embedding model (bi-encoder) embeds each: relevance_score is the cosine of the vectors.
 * Without `model`, the first rerank model answers, else the first embedding model.
 */
import { createRoute } from '@hono/zod-openapi';
import type { ModelRunner } from '../../core/model-registry.js';
import { sigmoid } from '../../engine/ranker.js';
import { answeredBy, errorResponses, newRouter, submitOptions, type Service } from '../service.js';
import { dot, shapeVector } from '../vectors.js';

/** Cohere bills one search unit per query with up to 100 documents; reported, never billed. */
const DOCUMENTS_PER_SEARCH_UNIT = 100;

/** The model a rerank request names, or the default: the first rerank model, else the first embedding model. */
function rerankRunner(service: Service, id: string | undefined): ModelRunner {
  if (id !== undefined) return service.models.find(id, 'model');
  service.models.checkReady();
  const runners = service.models.list();
  return runners.find((r) => r.task === 'rerank') ?? runners[0]!;
}

export function rerankRouter(service: Service) {
  const { RerankRequest, RerankResponse, TextRankingRequest, TextRankingResponse } = service.schemas;
  const rerankRoute = (path: '/v1/rerank' | '/v2/rerank') =>
    createRoute({
      method: 'post',
      path,
      tags: ['Rerank'],
      summary: path === '/v1/rerank' ? 'Rank documents against a query' : 'Rank documents against a query (Cohere v2 path, same handler)',
      description:
        'With a rerank model (kind `rerank`, a cross-encoder): relevance_score = sigmoid(logit) of each (query, document) pair, or the logit with raw_scores. ' +
        'With an embedding model (kind `embedding`, a bi-encoder): the cosine similarity of query and document vectors. Best first; ties keep input order. ' +
        'Without `model`, the first rerank model answers, else the first embedding model. ' +
        'Cohere fields rank_fields, max_chunks_per_doc, max_tokens_per_doc and priority, and document keys other than `text`, are accepted and ignored.',
      request: { body: { required: true, content: { 'application/json': { schema: RerankRequest } } } },
      responses: {
        200: { description: 'Results, best first', content: { 'application/json': { schema: RerankResponse } } },
        ...errorResponses(400, 401, 404, 413, 415, 429, 500, 503),
      },
    });

  const textRanking = createRoute({
    method: 'post',
    path: '/v1/text-ranking',
    tags: ['ModelScope-compatible'],
    summary: 'ModelScope text-ranking pipeline: sigmoid scores of a cross-encoder',
    description:
      'Same output as `pipeline(Tasks.text_ranking, model)(input=...)` and `corom rank`: `scores` holds sigmoid(logit) of the query ' +
      '(the one source_sentence) with each of sentences_to_compare, in input order. Rerank models only; an embedding model answers 400 wrong_model_task.',
    request: { body: { required: true, content: { 'application/json': { schema: TextRankingRequest } } } },
    responses: {
      200: { description: 'Scores in input order', content: { 'application/json': { schema: TextRankingResponse } } },
      ...errorResponses(400, 401, 404, 413, 415, 429, 500, 503),
    },
  });

  const router = newRouter();
  for (const path of ['/v1/rerank', '/v2/rerank'] as const) {
    router.openapi(rerankRoute(path), async (c) => {
      const body = c.req.valid('json');
      const runner = rerankRunner(service, body.model ?? undefined);
      const documents = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
      let scores: number[];
      let tokenCounts: number[];
      if (runner.task === 'rerank') {
        const ranked = await runner.rank(body.query, documents, submitOptions(service, c));
        answeredBy(c, runner.id, ranked.backends);
        scores = body.raw_scores ? ranked.logits : ranked.logits.map(sigmoid);
        tokenCounts = ranked.tokenCounts;
      } else {
        const embedded = await runner.embedTexts([body.query, ...documents], submitOptions(service, c));
        answeredBy(c, runner.id, embedded.backends);
        const [query, ...docs] = embedded.vectors.map((v) => shapeVector(v, { normalize: true }));
        scores = docs.map((vector) => dot(query, vector));
        tokenCounts = embedded.tokenCounts;
      }
      const results = scores
        .map((relevance_score, index) => ({ index, relevance_score }))
        .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
        .slice(0, body.top_n ?? documents.length)
        .map((r) => (body.return_documents ? { ...r, document: { text: documents[r.index]! } } : r));
      const tokens = tokenCounts.reduce((a, b) => a + b, 0);
      return c.json(
        {
          id: c.get('requestId'),
          model: runner.id,
          results,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
          meta: {
            api_version: { version: path === '/v2/rerank' ? '2' : '1' },
            billed_units: { search_units: Math.ceil(documents.length / DOCUMENTS_PER_SEARCH_UNIT) },
          },
        },
        200,
      );
    });
  }

  router.openapi(textRanking, async (c) => {
    const body = c.req.valid('json');
    const runner = service.models.get('rerank', body.model ?? undefined);
    const { logits, backends } = await runner.rank(body.input.source_sentence[0]!, body.input.sentences_to_compare, submitOptions(service, c));
    answeredBy(c, runner.id, backends);
    return c.json({ scores: logits.map(sigmoid) }, 200);
  });
  return router;
}
