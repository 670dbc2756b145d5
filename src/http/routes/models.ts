/** GET /v1/models and GET /v1/models/{id}: OpenAI's model list, plus what an embedding client needs. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ModelRunner } from '../../core/model-registry.js';
import { errorResponses, newRouter, type Service } from '../service.js';

/**
 * A served model as /v1/models, /v1/models/{id} and /info describe it. `kind` says what it does:
 * `embedding` (a bi-encoder: vectors; its /v1/rerank is the cosine of query and document vectors)
 * or `rerank` (a cross-encoder: one relevance logit per (query, document) pair; /v1/rerank,
 * /v2/rerank and /v1/text-ranking only). `dimensions` and `pooling` belong to embedding models,
 * `hidden` to rankers.
 */
export function modelCard(runner: ModelRunner) {
  const common = {
    object: 'model' as const,
    created: runner.created,
    owned_by: 'corom-edge',
    kind: runner.task,
  };
  if (runner.task === 'rerank') {
    const info = runner.model.info;
    return {
      id: info.id,
      ...common,
      max_length: info.maxLength,
      backend: info.backend,
      dtype: info.dtype,
      hidden: info.hidden,
      vocab_size: info.vocabSize,
      accepts_token_ids: runner.acceptsTokenIds,
    };
  }
  const info = runner.model.info;
  return {
    id: info.id,
    ...common,
    dimensions: info.dimensions,
    max_length: info.maxLength,
    backend: info.backend,
    dtype: info.dtype,
    pooling: info.pooling,
    vocab_size: info.vocabSize,
    accepts_token_ids: runner.acceptsTokenIds,
  };
}

export function modelsRouter(service: Service) {
  const { Model, ModelList } = service.schemas;
  const list = createRoute({
    method: 'get',
    path: '/v1/models',
    tags: ['OpenAI-compatible'],
    summary: 'List the served models',
    responses: { 200: { description: 'The served models', content: { 'application/json': { schema: ModelList } } }, ...errorResponses(401, 503) },
  });
  const one = createRoute({
    method: 'get',
    path: '/v1/models/{id}',
    tags: ['OpenAI-compatible'],
    summary: 'Describe one served model',
    request: { params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'corom-base' }) }) },
    responses: { 200: { description: 'The model', content: { 'application/json': { schema: Model } } }, ...errorResponses(401, 404, 503) },
  });

  const router = newRouter()
    .openapi(list, (c) => {
      service.models.checkReady(); // 503 until loaded
      return c.json({ object: 'list' as const, data: service.models.list().map(modelCard) }, 200);
    })
    .openapi(one, (c) => c.json(modelCard(service.models.find(c.req.valid('param').id, 'id')), 200));
  // ModelScope-style ids hold one slash (owner/name); route them too, outside the spec.
  router.get('/v1/models/:owner/:name', (c) => c.json(modelCard(service.models.find(`${c.req.param('owner')}/${c.req.param('name')}`, 'id')), 200));
  return router;
}
