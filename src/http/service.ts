/** What every router gets from createApp: the models, the resolved options, hooks, metrics and schemas. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { SubmitOptions } from '../core/batched-runner.js';
import type { ModelRegistry } from '../core/model-registry.js';
import type { AppEnv } from './app-env.js';
import type { ServiceMetrics } from './metrics.js';
import type { AppHooks, ResolvedOptions } from './options.js';
import { ErrorSchema, type Schemas } from './schemas.js';
import { validationHook } from './validation.js';

export interface Service {
  models: ModelRegistry;
  options: ResolvedOptions;
  metrics: ServiceMetrics;
  schemas: Schemas;
  hooks: Pick<AppHooks, 'readiness' | 'info' | 'health'>;
}

/** Header naming the backend(s) that computed a model route's answer. */
export const BACKEND_HEADER = 'x-corom-backend';

/**
 * Marks a model route's answer with the backends that computed it; the metrics middleware counts
 * it per model and backend once the status is known (a middleware that answers by itself, such as
 * the Worker's edge cache, sets the same context variable).
 */
export function answeredBy(c: Context<AppEnv>, model: string, backends: readonly string[]): void {
  c.header(BACKEND_HEADER, backends.join(','));
  c.set('answered', { model, backends });
}

/**
 * How a model route submits its work: the request's deadline, id and signal, and, where the
 * runtime has an execution context (workerd), its waitUntil so that a batch this request's
 * context runs for other requests too is not cancelled when this request ends or its client goes away.
 */
export function submitOptions(service: Service, c: Context<AppEnv>): SubmitOptions {
  const options: SubmitOptions = { timeoutMs: service.options.limits.requestTimeoutMs, requestId: c.get('requestId'), signal: c.req.raw.signal };
  const waitUntil = executionWaitUntil(c);
  if (waitUntil) options.keepAlive = (work) => waitUntil(work.catch(() => undefined));
  return options;
}

function executionWaitUntil(c: Context<AppEnv>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work);
  } catch {
    // Node (@hono/node-server) has no execution context: nothing is cancelled with the request.
    return undefined;
  }
}

/** A router whose request validation failures become OpenAI-shaped 400s. */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** OpenAPI response entries for the error statuses a route can answer with. */
export function errorResponses(...statuses: Array<400 | 401 | 404 | 413 | 415 | 429 | 500 | 503>) {
  const descriptions: Record<number, string> = {
    400: 'Invalid request (the message names the parameter to fix)',
    401: 'Missing or invalid API key',
    404: 'Unknown model',
    413: 'Request body too large',
    415: 'Content-Type is not application/json',
    429: 'Queue full; retry after the Retry-After seconds',
    500: 'Inference failed for this request (carries the request id)',
    503: 'Not ready yet, or the request timed out in the queue',
  };
  return Object.fromEntries(
    statuses.map((status) => [status, { description: descriptions[status], content: { 'application/json': { schema: ErrorSchema } } }]),
  );
}
