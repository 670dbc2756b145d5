/** POST /v1/sentence-embedding: the ModelScope sentence-embedding pipeline over HTTP. */
import { createRoute } from '@hono/zod-openapi';
import { invalidParam } from '../api-error.js';
import { answeredBy, errorResponses, newRouter, submitOptions, type Service } from '../service.js';
import { dot, toJsonFloats } from '../vectors.js';

export function sentenceEmbeddingRouter(service: Service) {
  const { SentenceEmbeddingRequest, SentenceEmbeddingResponse } = service.schemas;
  const route = createRoute({
    method: 'post',
    path: '/v1/sentence-embedding',
    tags: ['ModelScope-compatible'],
    summary: 'ModelScope pipeline: raw vectors and dot-product scores',
    description:
      'Same output as `pipeline(Tasks.sentence_embedding, model)(input=...)` and `Engine.pipeline`: `text_embedding` holds the raw [CLS] vectors of ' +
      'source_sentence then sentences_to_compare, `scores` the dot product of the first vector with each of the others.',
    request: { body: { required: true, content: { 'application/json': { schema: SentenceEmbeddingRequest } } } },
    responses: {
      200: { description: 'Vectors and scores', content: { 'application/json': { schema: SentenceEmbeddingResponse } } },
      ...errorResponses(400, 401, 404, 413, 415, 429, 500, 503),
    },
  });

  return newRouter().openapi(route, async (c) => {
    const body = c.req.valid('json');
    const runner = service.models.get('embedding', body.model ?? undefined);
    const texts = [...body.input.source_sentence, ...(body.input.sentences_to_compare ?? [])];
    const maxInputs = service.options.limits.maxInputs;
    if (texts.length > maxInputs) {
      throw invalidParam('input', `input holds ${texts.length} sentences in all; at most ${maxInputs} are allowed per request`);
    }
    const { vectors, backends } = await runner.embedTexts(texts, submitOptions(service, c));
    answeredBy(c, runner.id, backends);
    const scores = vectors.slice(1).map((v) => dot(vectors[0], v));
    return c.json({ text_embedding: vectors.map(toJsonFloats), scores }, 200);
  });
}
