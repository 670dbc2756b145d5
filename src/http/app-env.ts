/** The typed Hono context every router and middleware of the service shares. */
import type { RequestIdVariables } from 'hono/request-id';

export interface AppEnv {
  Variables: RequestIdVariables & {
    /** Set by the error handler so the metrics middleware can count errors by OpenAI error type. */
    errorType?: string;
    /** Set by a model route (or a middleware that answers, e.g. the edge cache): counted by /metrics per model and backend. */
    answered?: { model: string; backends: readonly string[] };
  };
}
