/**
 * Liveness, readiness, service info and Prometheus metrics. /health and /ready are open (no key):
 * with API keys configured they say only their status, never which models or backends are served.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { NotReadyError } from '../../core/errors.js';
import { ApiError } from '../api-error.js';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.js';
import { errorResponses, newRouter, type Service } from '../service.js';
import { modelCard } from './models.js';

export function opsRouter(service: Service) {
  const keyed = service.options.apiKeys.length > 0;
  /** Why /ready answers 503, if it does: the models first (a failed loader is retried), then the host's check. */
  const notReadyReason = async (): Promise<string | undefined> => {
    if (!service.models.ready) {
      try {
        service.models.checkReady();
      } catch (err) {
        if (err instanceof NotReadyError) return err.reason;
        throw err;
      }
    }
    if (!service.hooks.readiness) return undefined;
    // A check that throws is a failed check, not a server error.
    return service.hooks.readiness().then(
      (reason) => reason ?? undefined,
      (err: unknown) => `readiness check failed: ${err instanceof Error ? err.message : String(err)}`,
    );
  };
  const health = createRoute({
    method: 'get',
    path: '/health',
    tags: ['Operations'],
    summary: 'Liveness (always 200 while the process serves HTTP; no auth)',
    security: [],
    responses: { 200: { description: 'Alive', content: { 'application/json': { schema: z.object({ status: z.literal('ok') }).passthrough() } } } },
  });
  const ready = createRoute({
    method: 'get',
    path: '/ready',
    tags: ['Operations'],
    summary: 'Readiness (503 until the models are loaded; no auth)',
    security: [],
    responses: {
      200: {
        description: 'Ready (model ids only when no API keys are configured)',
        content: { 'application/json': { schema: z.object({ status: z.literal('ready'), models: z.array(z.string()).optional() }) } },
      },
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
            }).passthrough(),
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
    .openapi(health, (c) => c.json({ ...(keyed ? {} : service.hooks.health?.()), status: 'ok' as const }, 200))
    .openapi(ready, async (c) => {
      const reason = await notReadyReason();
      if (reason !== undefined) {
        throw new ApiError(503, keyed ? 'Not ready' : `Not ready: ${reason}`, { code: 'model_not_ready', headers: { 'Retry-After': '1' } });
      }
      return c.json(keyed ? { status: 'ready' as const } : { status: 'ready' as const, models: service.models.list().map((r) => r.id) }, 200);
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
