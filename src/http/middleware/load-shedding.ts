/**
 * Answers 429 before reading the body when every served model's queue is full. Under overload a
 * refused request would otherwise still be decoded, parsed, validated and tokenized -- measured
 * with 64 connections against --max-queue 32: the event loop spent most of its time on requests
 * it then refused, the inference thread sat idle 65% of the time and 429s took 40-200 ms.
 */
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.js';
import type { ModelRegistry } from '../../core/model-registry.js';

export function shedWhenFull(models: ModelRegistry, inferencePaths: ReadonlySet<string>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method !== 'POST' || !models.ready || !inferencePaths.has(c.req.path)) return next();
    const runners = models.list();
    // Only when all are full: the body may name a model that still has room.
    if (runners.length > 0 && runners.every((r) => r.full)) throw runners[0]!.queueFull();
    return next();
  };
}
