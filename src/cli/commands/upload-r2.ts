import { stat } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { CoromError, UsageError } from '../../errors.js';
import { DTYPES, type Dtype } from '../../engine/types.js';
import { inspectCachedModel } from '../../hub/cache.js';
import { convertMissing, resolveModelRef } from '../../hub/fetch-model.js';
import { coromHome } from '../../hub/paths.js';
import { createProgress, formatBytes } from '../../hub/progress.js';
import { EDGE_DTYPE, edgeArtifactObjects, edgeKeyPrefix, runWrangler, shellQuote, wranglerCommand, wranglerPutArgs } from '../../hub/r2-upload.js';
import { parseFlags } from '../../flags.js';
import type { Command, CommandIO } from '../command.js';

export const DEFAULT_R2_BUCKET = 'corom-models';

/** The converted folder holding the q4 artifact, and the id its keys are named after. */
async function locateEdgeArtifact(spec: string, io: CommandIO, shards: boolean): Promise<{ id: string; onnxDir: string }> {
  const isDir = await stat(spec).then((s) => s.isDirectory(), () => false);
  if (isDir) return { id: path.basename(path.resolve(spec)), onnxDir: path.resolve(spec) };
  const ref = resolveModelRef(spec);
  const cached = await inspectCachedModel(coromHome(io.env), ref.hubId);
  // A shard set is never converted here: its split and cap are chosen with scripts/edge-memory.ts.
  if (shards) return { id: ref.id, onnxDir: cached.paths.onnx };
  if (!cached.dtypes.includes(EDGE_DTYPE)) {
    if (!cached.source) {
      throw new CoromError(`${ref.id} is not in the cache; run 'corom fetch ${ref.id}' first (it converts to q4 by default)`);
    }
    await convertMissing(cached.source, cached.paths.source, cached.paths.onnx, [EDGE_DTYPE], createProgress(io.stderr));
  }
  return { id: ref.id, onnxDir: cached.paths.onnx };
}

export const uploadR2Command: Command = {
  name: 'upload-r2',
  summary: 'upload the edge artifact (q4 ONNX or a layer-shard set, vocab.txt, corom.json) to Cloudflare R2 with wrangler',
  usage: `Usage: corom upload-r2 [MODEL] [--shards DTYPE] [--bucket NAME] [--key PREFIX] [--local] [--dry-run]

MODEL is a cached model name or hub id (default ${DEFAULT_MODEL_NAME}; converted to q4 from the cached
checkpoint if needed) or a converted folder. For each file it runs
  wrangler r2 object put BUCKET/PREFIX/<file> --file <path> --content-type <type> --remote
with PREFIX = models/<model id>, so the Worker finds models/<id>/model.q4.onnx,
models/<id>/vocab.txt, models/<id>/corom.json (and tokenizer_config.json when the model has one).
  --shards DTYPE upload the layer-shard set of DTYPE instead (corom convert --dtype DTYPE --shards N
                 --ort-format): every model.DTYPE.shard<k>of<N>.onnx and .ort, for the front Worker's
                 MODEL_SHARDS and the shard Workers (docs/edge.md)
  --bucket NAME  R2 bucket (default $COROM_R2_BUCKET, else ${DEFAULT_R2_BUCKET})
  --key PREFIX   key prefix instead of models/<model id>
  --local        write to wrangler's local R2 storage (for wrangler dev) instead of --remote
  --dry-run      print the commands without running them
wrangler is taken from COROM_WRANGLER, else node_modules/.bin/wrangler, else npx wrangler; it needs
Cloudflare credentials (wrangler login or CLOUDFLARE_API_TOKEN) for --remote.`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(
      argv,
      { bucket: { type: 'string' }, key: { type: 'string' }, shards: { type: 'string' }, local: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
      { min: 0, max: 1, names: 'MODEL' },
    );
    const bucket = (values.bucket ?? io.env.COROM_R2_BUCKET ?? DEFAULT_R2_BUCKET).trim();
    // R2 bucket names: lowercase letters, digits and hyphens, 3-63 characters.
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`bucket name '${bucket}' is not a valid R2 bucket name`);
    const prefixFlag = values.key?.trim();
    if (prefixFlag !== undefined && (prefixFlag === '' || prefixFlag.split('/').some((p) => p === '..'))) {
      throw new UsageError(`--key '${values.key}' is not a usable key prefix`);
    }

    const shards = values.shards?.trim();
    if (shards !== undefined && !(DTYPES as readonly string[]).includes(shards)) throw new UsageError(`--shards must be one of ${DTYPES.join(', ')} (got '${values.shards}')`);
    const { id, onnxDir } = await locateEdgeArtifact(positionals[0] ?? DEFAULT_MODEL_NAME, io, shards !== undefined);
    const objects = await edgeArtifactObjects(onnxDir, prefixFlag ?? edgeKeyPrefix(id), shards ? { shards: shards as Dtype } : {});
    const { command, prefixArgs } = wranglerCommand(io.env);
    const target = values.local ? 'local' : 'remote';
    for (const object of objects) {
      const args = [...prefixArgs, ...wranglerPutArgs(bucket, object, target)];
      io.stdout.write(`${shellQuote([command, ...args])}\n`);
      if (values['dry-run']) continue;
      io.stderr.write(`uploading ${object.key} (${formatBytes(object.bytes)}) ...\n`);
      await runWrangler(command, args, io);
    }
    if (!values['dry-run']) io.stderr.write(`uploaded ${objects.length} objects to r2://${bucket}/${objects[0]!.key.replace(/\/[^/]*$/, '/')}\n`);
    return 0;
  },
};
