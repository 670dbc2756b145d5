/**
 * How the front Worker and a shard Worker talk over a service binding (worker/shard-chain.ts,
 * worker/shard-worker.ts): `POST /run` with one shard message (src/runtime/shard-wire.ts: a token
 * batch for the first shard, a hidden state for the others) as the body, and these headers so a
 * binding that points at the wrong shard or at another upload of the model is refused instead of
 * computing garbage. The answer is the next message (a hidden state, or the embeddings from the
 * last shard) with status 200, or `{"error": {"message", "code"}}` with a 4xx/5xx status.
 */
export const SHARD_RUN_PATH = '/run';
/**
 * GET with the same headers (no body): 200 when a run would find the shard (worker/shard-worker.ts
 * ShardHost.ready), else the error JSON. The front Worker's /ready asks every shard this.
 */
export const SHARD_READY_PATH = '/ready';
/** `k/N`, 1-based: the shard the caller expects this Worker to run. */
export const SHARD_HEADER = 'x-corom-shard';
/** The ORT-format file of that shard (corom.json `ortFile`). */
export const SHARD_FILE_HEADER = 'x-corom-shard-file';
/** corom.json `weights.sha256` the caller's corom.json records (when it has one). */
export const SHARD_WEIGHTS_HEADER = 'x-corom-weights';

export interface ShardErrorBody {
  error: { message: string; code: string };
}

export function shardErrorResponse(status: number, code: string, message: string): Response {
  const body: ShardErrorBody = { error: { message, code } };
  return Response.json(body, { status });
}
