/** GET /v1/models and GET /v1/models/{id}: OpenAI's model list, plus what an embedding client needs. */
import { createRoute, z } from '@hono/zod-openapi';
import type { ModelRunner } from '../../core/model-registry.js';
import { errorResponses, newRouter, type Service } from '../service.js';

export function modelCard(runner: ModelRunner) {
  const info = runner.model.info;
  return {
    id: info.id,
    object: 'model' as const,
    created: runner.created,
    owned_by: 'corom-edge',
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
