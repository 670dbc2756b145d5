/** The flags every model-using command shares: --model, --dtype, --backend, --threads. */
import { BACKENDS, DTYPES } from '../engine/types.js';
import type { LoadEngineOptions } from '../engine/load.js';
import { UsageError } from '../errors.js';
import { choice, positiveInt } from '../flags.js';

export const MODEL_FLAGS = {
  model: { type: 'string' },
  dtype: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  'max-length': { type: 'string' },
} as const;

export const MODEL_FLAGS_USAGE = `  --model DIR           converted folder or raw checkpoint folder (converted once, cached)
  --dtype fp32|int8|q4  weights to run (default fp32)
  --backend node|wasm   onnxruntime-node (native) or onnxruntime-web (WASM, one thread); default node
  --threads N           native backend threads (default: all cores)
  --max-length N        truncate inputs to N tokens ([CLS] and [SEP] included; default from the model, 128)`;

export function engineOptions(values: Record<string, string | boolean | undefined>, log: (line: string) => void): LoadEngineOptions {
  const model = values.model;
  if (typeof model !== 'string' || model === '') throw new UsageError('missing --model DIR');
  const threads = positiveInt('threads', values.threads as string | undefined);
  const maxLength = positiveInt('max-length', values['max-length'] as string | undefined);
  return {
    model,
    dtype: choice('dtype', values.dtype as string | undefined, DTYPES, 'fp32'),
    backend: choice('backend', values.backend as string | undefined, BACKENDS, 'node'),
    ...(threads ? { threads } : {}),
    ...(maxLength ? { maxLength } : {}),
    log,
  };
}
