/** Liveness, readiness, service info and Prometheus metrics. */
import { createRoute, z } from '@hono/zod-openapi';
import { ApiError } from '../api-error.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.js';
import { errorResponses, newRouter, type Service } from '../service.js';
import { modelCard } from './models.js';

export function opsRouter(service: Service) {
  const health = createRoute({
    method: 'get',
    path: '/health',
    tags: ['Operations'],
    summary: 'Liveness (always 200 while the process serves HTTP; no auth)',
    security: [],
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } } } },
  });
  const ready = createRoute({
    method: 'get',
    path: '/ready',
    tags: ['Operations'],
    summary: 'Readiness (503 until the models are loaded; no auth)',
    security: [],
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready'), models: z.array(z.string()) }) } } },
      ...errorResponses(503),
    },
  });
  const info = createRoute({
    method: 'get',
    path: '/info',
    tags: ['Operations'],
    summary: 'Version, models, limits and batching configuration',
    responses: {
      200: {
        description: 'Service description',
        content: {
          'application/json': {
            schema: z.object({
              name: z.string(),
              version: z.string(),
              ready: z.boolean(),
              models: z.array(service.schemas.Model),
              limits: z.object({ max_inputs: z.number(), max_body_bytes: z.number(), request_timeout_ms: z.number() }),
              batching: z.object({
                enabled: z.boolean(),
                max_batch_tokens: z.number(),
                max_batch_size: z.number(),
                max_queue: z.number(),
                batch_wait_ms: z.number(),
                concurrency: z.number(),
              }),
              auth: z.boolean(),
            }),
          },
        },
      },
      ...errorResponses(401),
    },
  });
  const metrics = createRoute({
    method: 'get',
    path: '/metrics',
    tags: ['Operations'],
    summary: 'Prometheus metrics (text exposition format 0.0.4)',
    responses: { 200: { description: 'Metrics', content: { 'text/plain': { schema: z.string() } } }, ...errorResponses(401) },
  });

  return newRouter()
    // Hook extras (a Worker's memory) only without API keys: /health answers anyone.
    .openapi(health, (c) => c.json({ status: 'ok' as const, ...(service.options.apiKeys.length === 0 ? service.hooks.health?.() : {}) }, 200))
    .openapi(ready, async (c) => {
      if (!service.models.ready) {
        throw new ApiError(503, `Not ready: ${service.models.notReadyReason}`, { code: 'model_not_ready', headers: { 'Retry-After': '1' } });
      }
      const reason = await service.hooks.readiness?.();
      if (reason !== undefined) throw new ApiError(503, `Not ready: ${reason}`, { code: 'model_not_ready', headers: { 'Retry-After': '30' } });
      return c.json({ status: 'ready' as const, models: service.models.list().map((r) => r.id) }, 200);
    })
    .openapi(info, async (c) => {
      const { limits, batching, apiKeys, version } = service.options;
      const extra = (await service.hooks.info?.()) ?? {};
      return c.json(
        {
          ...extra,
          name: 'corom-edge',
          version,
          ready: service.models.ready,
          models: service.models.list().map(modelCard),
          limits: { max_inputs: limits.maxInputs, max_body_bytes: limits.maxBodyBytes, request_timeout_ms: limits.requestTimeoutMs },
          batching: {
            enabled: batching.enabled,
            max_batch_tokens: batching.maxBatchTokens,
            max_batch_size: batching.maxBatchSize,
            max_queue: batching.maxQueue,
            batch_wait_ms: batching.batchWaitMs,
            concurrency: batching.concurrency,
          },
          auth: apiKeys.length > 0,
        },
        200,
      );
    })
    .openapi(metrics, (c) => c.text(service.metrics.registry.render(), 200, { 'Content-Type': PROMETHEUS_CONTENT_TYPE }));
}
