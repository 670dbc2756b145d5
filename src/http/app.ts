/**
 * The corom-edge HTTP service as one Hono app, runtime-neutral: Web-standard Request/Response
 * only, so the Node server (src/node) and the Cloudflare Worker (worker/) both serve it.
 *
 * Middleware order: request id -> metrics -> CORS -> auth -> load shedding -> body limit -> plain
 * UTF-8 bodies -> over-long lists refused before parsing -> the host's extra middleware
 * (AppOptions.middleware) -> routes. The queue, batching and model kinds
 * live in the core (src/core); every failure, thrown anywhere (core errors included, mapped by
 * ./core-errors.ts), ends in onError / notFound and leaves in OpenAI's error shape with the
 * request id header.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { CoreError, type AnyCoreError } from '../core/errors.js';
import { ModelRegistry } from '../core/model-registry.js';
import { BackendUnavailableError } from '../errors.js';
import { ApiError, clientClosedRequest } from './api-error.js';
import type { AppEnv } from './app-env.js';
import { coreErrorToApiError } from './core-errors.js';
import { bearerAuth } from './middleware/auth.js';
import { bodyTooLarge, boundedLists, readsOwnBody } from './middleware/list-limits.js';
import { plainUtf8Bodies } from './middleware/plain-utf8-body.js';
import { shedWhenFull } from './middleware/load-shedding.js';
import { requestMetrics } from './middleware/request-metrics.js';
import { ServiceMetrics } from './metrics.js';
import { resolveOptions, type AppOptions } from './options.js';
import { docsRouter, type OpenApiDocument } from './routes/docs.js';
import { embeddingsRouter } from './routes/embeddings.js';
import { modelsRouter } from './routes/models.js';
import { opsRouter } from './routes/ops.js';
import { rerankRouter } from './routes/rerank.js';
import { sentenceEmbeddingRouter } from './routes/sentence-embedding.js';
import { tokenizeRouter } from './routes/tokenize.js';
import { buildSchemas } from './schemas.js';
import { newRouter, type Service } from './service.js';

/** Routes that never ask for an API key (probes and documentation). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/', '/health', '/ready', '/docs', '/openapi.json']);

/** Routes whose requests go through a model queue (refused early with 429 when every queue is full). */
const INFERENCE_PATHS: ReadonlySet<string> = new Set(['/v1/embeddings', '/v1/rerank', '/v2/rerank', '/v1/text-ranking', '/v1/sentence-embedding']);

export type CoromApp = OpenAPIHono<AppEnv>;

function respond(c: Context<AppEnv>, error: ApiError): Response {
  c.set('errorType', error.type);
  return c.json(error.toJSON(), error.status, error.headers);
}

/** Hono's own exceptions (malformed JSON, wrong media type) in the service's words. */
function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 400) {
    return new ApiError(400, 'The request body is not valid JSON; fix its syntax (a JSON object is expected)', { code: 'invalid_json' });
  }
  if (err.status === 415) {
    return new ApiError(415, "Content-Type must be 'application/json' (with curl, add -H 'Content-Type: application/json')", {
      code: 'unsupported_media_type',
    });
  }
  return new ApiError(err.status === 413 ? 413 : 400, err.message || 'Bad request');
}

/**
 * True when reading the body failed because the client disconnected mid-request (Node's
 * `Error: aborted` with code ECONNRESET from the body stream, or a parse failure of a request
 * whose signal is already aborted).
 */
function clientClosed(err: Error, c: Context<AppEnv>): boolean {
  if ((err as { code?: unknown }).code === 'ECONNRESET') return true;
  return err instanceof HTTPException && c.req.raw.signal?.aborted === true;
}

/** Compiled `/v1/models/:id`-style templates, to tell 405 (known path, wrong method) from 404. */
function methodsByPath(app: CoromApp): Array<{ pattern: RegExp; method: string }> {
  return app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({
      pattern: new RegExp(`^${r.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\/:[^/]+/g, '/[^/]+')}$`),
      method: r.method,
    }));
}

/**
 * Host middleware may answer with a Response it built (a cache hit, an origin's answer) rather than
 * through the context, which drops the request-id header set before it: put it back.
 */
function keepRequestId(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const id = c.get('requestId');
    if (id && !c.res.headers.has('X-Request-Id')) {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('X-Request-Id', id);
    }
  };
}

export function createApp(appOptions: AppOptions): CoromApp {
  const options = resolveOptions(appOptions);
  const metrics = new ServiceMetrics();
  const models = new ModelRegistry(appOptions.models, options.batching, (model, report) => {
    metrics.batchSize.observe({ model }, report.size);
    metrics.batchPaddedTokens.observe({ model }, report.paddedTokens);
    metrics.inferenceSeconds.observe({ model }, report.seconds);
    if (report.ok) metrics.tokens.inc({ model }, report.tokens);
    // The backend said why it cannot compute and the client gets that 503; the backend logs it once.
    else if (report.error instanceof BackendUnavailableError) return;
    else {
      metrics.inferenceFailures.inc({ model });
      const reason = report.error instanceof Error ? report.error.message : String(report.error);
      options.log(`inference failed for model ${model} (batch of ${report.size}, request ids ${report.tags.join(' ')}): ${reason}`);
    }
  });
  metrics.trackQueues(() => models.list().map((r) => ({ model: r.id, ...r.queue })));
  const hooks = { readiness: appOptions.readiness, info: appOptions.info, health: appOptions.health };
  const service: Service = { models, options, metrics, schemas: buildSchemas(options.limits.maxInputs), hooks };

  const app = newRouter();
  app.use(requestId());
  app.use(requestMetrics(metrics));
  if (options.corsOrigins.length > 0) {
    const origins = [...options.corsOrigins];
    app.use(
      cors({
        origin: origins.includes('*') ? '*' : origins,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposeHeaders: ['X-Request-Id', 'Retry-After', 'X-Corom-Backend'],
        maxAge: 600,
      }),
    );
  }
  app.use(bearerAuth(options.apiKeys, OPEN_PATHS));
  app.use(shedWhenFull(models, INFERENCE_PATHS));
  const limitBody = bodyLimit({
    maxSize: options.limits.maxBodyBytes,
    onError: () => {
      throw bodyTooLarge(options.limits.maxBodyBytes);
    },
  });
  // A chunked JSON body is counted by boundedLists as it arrives instead of buffered whole here.
  app.use((c, next) => (readsOwnBody(c) ? next() : limitBody(c, next)));
  app.use(plainUtf8Bodies(), boundedLists(options.limits.maxInputs, options.limits.maxBodyBytes, { drainRefused: options.limits.drainRefusedBodies }));

  if (appOptions.middleware?.length) {
    app.use(keepRequestId());
    for (const middleware of appOptions.middleware) app.use(middleware);
  }
  // After the host's middleware: a cache hit needs no model, and the host's keep-alive wraps the wait.
  if (appOptions.waitForModels) {
    app.use(async (c, next) => {
      if (c.req.path !== '/health') await models.settled();
      return next();
    });
  }

  app.route('/', embeddingsRouter(service));
  app.route('/', modelsRouter(service));
  app.route('/', rerankRouter(service));
  app.route('/', sentenceEmbeddingRouter(service));
  app.route('/', tokenizeRouter(service));
  app.route('/', opsRouter(service));

  if (options.apiKeys.length) app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  const documentConfig = {
    openapi: '3.0.0',
    ...(options.apiKeys.length ? { security: [{ bearerAuth: [] }] } : {}),
    info: {
      title: 'corom-edge',
      version: options.version,
      description:
        'coROM Chinese sentence embeddings: OpenAI-compatible /v1/embeddings, rerank, the ModelScope pipeline and operations routes.' +
        (options.apiKeys.length ? ' Send `Authorization: Bearer <key>` on every route except /, /health, /ready, /docs and /openapi.json.' : ''),
    },
  };
  let document: OpenApiDocument | undefined;
  app.route(
    '/',
    docsRouter(service, () => (document ??= app.getOpenAPIDocument(documentConfig) as unknown as OpenApiDocument)),
  );

  let routeMethods: Array<{ pattern: RegExp; method: string }> | undefined;
  app.notFound((c) => {
    routeMethods ??= methodsByPath(app);
    const allowed = [...new Set(routeMethods.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method))];
    if (allowed.length > 0) {
      return respond(
        c,
        new ApiError(405, `Method ${c.req.method} is not allowed on ${c.req.path}; use ${allowed.join(' or ')}`, {
          code: 'method_not_allowed',
          headers: { Allow: allowed.join(', ') },
        }),
      );
    }
    return respond(c, new ApiError(404, `Unknown route: ${c.req.method} ${c.req.path} (see /docs for the routes)`, { code: 'unknown_route' }));
  });

  app.onError((err, c) => {
    if (err instanceof ApiError) return respond(c, err);
    if (err instanceof CoreError) return respond(c, coreErrorToApiError(err as AnyCoreError, c.get('requestId') ?? 'unknown'));
    if (clientClosed(err, c)) {
      // Nobody reads this answer; keep it out of the 5xx counts and the internal-error log.
      return respond(c, clientClosedRequest());
    }
    if (err instanceof HTTPException) return respond(c, fromHttpException(err));
    const id = c.get('requestId') ?? 'unknown';
    options.log(`internal error (request id ${id}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return respond(c, new ApiError(500, `Internal server error (request id ${id}); this is a bug, please report it with the request id`, { code: 'internal_error' }));
  });

  return app;
}
