/** POST /v1/rerank: Jina / Cohere / TEI rerank shape, scored by bi-encoder cosine similarity. */
import { createRoute } from '@hono/zod-openapi';
import { answeredBy, errorResponses, newRouter, type Service } from '../service.js';
import { dot, shapeVector } from '../vectors.js';

export function rerankRouter(service: Service) {
  const { RerankRequest, RerankResponse } = service.schemas;
  const route = createRoute({
    method: 'post',
    path: '/v1/rerank',
    tags: ['Rerank'],
    summary: 'Rank documents against a query',
    description:
      'Scores are cosine similarities of the query and document embeddings (a bi-encoder, not a cross-encoder), best first; ties keep input order.',
    request: { body: { required: true, content: { 'application/json': { schema: RerankRequest } } } },
    responses: {
      200: { description: 'Results, best first', content: { 'application/json': { schema: RerankResponse } } },
      ...errorResponses(400, 401, 404, 413, 415, 429, 500, 503),
    },
  });

  return newRouter().openapi(route, async (c) => {
    const body = c.req.valid('json');
    const runner = service.models.get('embedding', body.model ?? undefined);
    const documents = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
    const { vectors, tokenCounts, backends } = await runner.embedTexts([body.query, ...documents], {
      timeoutMs: service.options.limits.requestTimeoutMs,
      requestId: c.get('requestId'),
      signal: c.req.raw.signal,
    });
    answeredBy(c, runner.id, backends);
    const [query, ...docs] = vectors.map((v) => shapeVector(v, { normalize: true }));
    const ranked = docs
      .map((vector, index) => ({ index, relevance_score: dot(query, vector) }))
      .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
      .slice(0, body.top_n ?? docs.length)
      .map((r) => (body.return_documents ? { ...r, document: { text: documents[r.index] } } : r));
    const tokens = tokenCounts.reduce((a, b) => a + b, 0);
    return c.json({ model: runner.id, results: ranked, usage: { prompt_tokens: tokens, total_tokens: tokens } }, 200);
  });
}
