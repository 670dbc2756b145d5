import { DTYPES } from '../../engine/types.js';
import { convertCheckpoint } from '../../store/convert.js';
import { convertShards } from '../../store/shards.js';
import { UsageError } from '../../errors.js';
import { choice, parseFlags, positiveInt } from '../../flags.js';
import type { Command } from '../command.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a ModelScope/Hugging Face BERT checkpoint folder to ONNX (fp32, int8, q4)',
  usage: `Usage: corom convert SRC OUT [--dtype fp32|int8|q4] [--pooling cls|mean] [--max-length N]

Reads SRC/config.json and SRC/model.safetensors or SRC/pytorch_model.bin and writes
OUT/model.<dtype>.onnx, OUT/vocab.txt, OUT/config.json and OUT/corom.json.
  --dtype      fp32 (default); int8 (per-channel weights, dynamic activations); q4 (4-bit weights,
               8-bit embedding table: the edge artifact). Comma-separate to write several.
  --pooling    cls (default: raw [CLS] of the last layer, as coROM) or mean (sentence-transformers)
  --max-length longest input in tokens recorded for the runtime (default 128)
  --external-data
               write the weights to model.<dtype>.onnx.data beside the graph (ONNX external
               data): onnxruntime-web then needs ~1.1x the weights in memory instead of ~3.4x
  --q4-block N 4-bit block size along the input dimension (16, 32, 64, 128; default 32)
  --shards N   split the model by encoder layers into N graphs (even split; each fits one Worker
               isolate): OUT/model.<dtype>.shard<k>of<N>.onnx, described in corom.json "shards"
  --split-at L,M  explicit split points instead of an even split (e.g. 6 for layers 0-5 | 6-11)
  --ort-format also write each shard in onnxruntime's ORT format (.ort), which the edge loader
               reads without copying its weights`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(
      argv,
      {
        dtype: { type: 'string' },
        pooling: { type: 'string' },
        'max-length': { type: 'string' },
        'external-data': { type: 'boolean' },
        'q4-block': { type: 'string' },
        shards: { type: 'string' },
        'split-at': { type: 'string' },
        'ort-format': { type: 'boolean' },
      },
      { min: 2, max: 2, names: 'SRC and OUT folders' },
    );
    const [src, out] = positionals as [string, string];
    const dtypes = (values.dtype ?? 'fp32').split(',').map((d) => choice('dtype', d.trim(), DTYPES, 'fp32'));
    const pooling = choice('pooling', values.pooling, ['cls', 'mean'] as const, 'cls');
    const maxLength = positiveInt('max-length', values['max-length']);
    const q4Block = positiveInt('q4-block', values['q4-block']);
    if (q4Block !== undefined && ![16, 32, 64, 128].includes(q4Block)) throw new UsageError(`--q4-block must be 16, 32, 64 or 128 (got ${q4Block})`);
    const shardCount = values.shards === undefined ? undefined : positiveInt('shards', values.shards);
    const splits = values['split-at']?.split(',').map((p) => {
      const n = Number(p.trim());
      if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--split-at takes layer numbers like 6 or 4,8 (got '${values['split-at']}')`);
      return n;
    });
    if (shardCount !== undefined && splits && splits.length + 1 !== shardCount) {
      throw new UsageError(`--shards ${shardCount} and --split-at ${values['split-at']} disagree (${splits.length + 1} shards)`);
    }
    if (values['ort-format'] && shardCount === undefined && !splits) throw new UsageError('--ort-format applies to --shards');
    if (shardCount !== undefined || splits) {
      if (values['external-data']) throw new UsageError('--external-data does not apply to --shards');
      for (const dtype of dtypes) {
        const started = Date.now();
        const { set, paths } = await convertShards(src, out, {
          dtype,
          pooling,
          ...(maxLength ? { maxLength } : {}),
          ...(q4Block ? { q4BlockSize: q4Block } : {}),
          ...(splits ? { splits } : { shards: shardCount! }),
          ortFormat: values['ort-format'] ?? false,
        });
        const layers = set.shards.map((s) => `${s.layers[0]}-${s.layers[1] - 1}`).join(' | ');
        io.stderr.write(`wrote ${set.count} ${dtype} shards (layers ${layers}): ${paths.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      }
      return 0;
    }
    for (const dtype of dtypes) {
      const started = Date.now();
      const result = await convertCheckpoint(src, out, {
        dtype,
        pooling,
        ...(maxLength ? { maxLength } : {}),
        ...(q4Block ? { q4BlockSize: q4Block } : {}),
        externalData: values['external-data'] ?? false,
      });
      io.stderr.write(`wrote ${result.modelPath} (${(result.bytes / 1e6).toFixed(1)} MB, ${dtype}, ${result.kind}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    return 0;
  },
};
