import { DEFAULT_MODEL_NAME } from '../../../models/registry.js';
import { DTYPES, type Dtype } from '../../engine/types.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_FETCH_DTYPES, fetchModel } from '../../hub/fetch-model.js';
import { DEFAULT_HUB_URL, HUB_LAYOUTS } from '../../hub/hub-client.js';
import { choice, parseFlags } from '../../flags.js';
import type { Command } from '../command.js';

function parseDtypes(raw: string | undefined): Dtype[] {
  if (raw === undefined) return [...DEFAULT_FETCH_DTYPES];
  const list = raw
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (list.length === 0) throw new UsageError('--dtype needs at least one of fp32, int8, q4');
  return list.map((d) => choice('dtype', d, DTYPES, 'int8'));
}

export const fetchCommand: Command = {
  name: 'fetch',
  summary: 'download a coROM model from ModelScope (or a mirror), verify it and convert it to ONNX',
  usage: `Usage: corom fetch [MODEL] [--hub URL] [--hub-layout auto|modelscope|huggingface] [--revision REV]
                   [--dtype fp32,q4] [--no-convert] [--force] [--quiet]

MODEL is a name from 'corom models' (default ${DEFAULT_MODEL_NAME}) or a ModelScope id such as
iic/nlp_corom_sentence-embedding_chinese-base (damo/... is accepted too).
Downloads config.json, vocab.txt, the optional configuration.json / tokenizer_config.json and the
weights (model.safetensors, else pytorch_model.bin) into $COROM_HOME/models/<id>/source/, resuming
interrupted downloads and checking sizes and sha256 sums the hub lists; then converts them into
$COROM_HOME/models/<id>/onnx/. Prints the converted folder (or the source folder with --no-convert).
  --hub URL        hub base URL (default $COROM_HUB_URL, else ${DEFAULT_HUB_URL})
  --hub-layout L   modelscope (/api/v1/models/... API), huggingface ({base}/{id}/resolve/{rev}/{file},
                   e.g. a hf-mirror), or auto (default: detect)
  --revision REV   branch or tag (default master on ModelScope, main on Hugging Face)
  --dtype LIST     dtypes to convert to, comma-separated from fp32,int8,q4 (default fp32,q4:
                   fp32 for the server, q4 for Cloudflare Workers)
  --no-convert     download only
  --force          download and convert again even when cached
  --quiet          no progress output
Environment: COROM_HOME (cache, default ~/.cache/corom), COROM_HUB_URL, COROM_HUB_RETRIES (default 4),
COROM_HUB_BACKOFF_MS (first retry delay, default 500, doubling), COROM_HUB_TIMEOUT_MS (stall timeout,
default 60000).`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(
      argv,
      {
        hub: { type: 'string' },
        'hub-layout': { type: 'string' },
        revision: { type: 'string' },
        dtype: { type: 'string' },
        'no-convert': { type: 'boolean' },
        force: { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
      { min: 0, max: 1, names: 'MODEL' },
    );
    if (values['no-convert'] && values.dtype !== undefined) throw new UsageError('--dtype and --no-convert contradict each other');
    const revision = values.revision?.trim();
    if (revision !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision)) {
      throw new UsageError(`--revision '${values.revision}' is not a branch, tag or commit name`);
    }
    const result = await fetchModel({
      model: positionals[0] ?? DEFAULT_MODEL_NAME,
      env: io.env,
      stderr: io.stderr,
      layout: choice('hub-layout', values['hub-layout'], HUB_LAYOUTS, 'auto'),
      dtypes: values['no-convert'] ? [] : parseDtypes(values.dtype),
      force: values.force === true,
      progress: values.quiet ? 'none' : 'auto',
      ...(values.hub !== undefined ? { hubUrl: values.hub } : {}),
      ...(revision !== undefined ? { revision } : {}),
    });
    if (!values.quiet) {
      const fetched = result.downloaded.length > 0 ? `downloaded ${result.downloaded.join(', ')}` : 'all files cached';
      const dtypes = result.dtypes.length > 0 ? `; converted: ${result.dtypes.join(', ')}` : '';
      io.stderr.write(`${result.id}: ${fetched}${dtypes}\n`);
    }
    io.stdout.write(`${values['no-convert'] ? result.sourceDir : result.onnxDir}\n`);
    return 0;
  },
};
