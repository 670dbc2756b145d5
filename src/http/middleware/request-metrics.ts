/** Counts every response by route template and status, and times it. */
import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../app-env.js';
import type { ServiceMetrics } from '../metrics.js';

/** The route template that handled the request (`/v1/models/:id`), or `unmatched`: bounded label values. */
function routeLabel(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const handlers = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return handlers.length ? handlers[handlers.length - 1].path : 'unmatched';
}

export function requestMetrics(metrics: ServiceMetrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const route = routeLabel(c);
    const status = String(c.res.status);
    metrics.requests.inc({ route, method: c.req.method, status });
    metrics.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
    const answered = c.get('answered');
    // One count per answer, labelled like its x-corom-backend header.
    if (answered && c.res.status < 400) metrics.answers.inc({ model: answered.model, backend: answered.backends.join(',') });
    if (c.res.status >= 400) metrics.errors.inc({ route, status, type: c.get('errorType') ?? 'unknown' });
  };
}
