import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KNOWN_MODELS, findKnownModel, type KnownModel } from '../../../models/registry.js';
import { listCachedModels, type CachedModel } from '../../hub/cache.js';
import { coromHome } from '../../hub/paths.js';
import { parseFlags } from '../../flags.js';
import type { Command } from '../command.js';

interface ModelRow {
  name: string | null;
  hubId: string;
  aliases: string[];
  /** `embedding` or `rerank`; from the registry, else the cached conversion's corom.json. */
  kind: string | null;
  language: string | null;
  domain: string | null;
  dimensions: number | null;
  layers: number | null;
  maxLength: number | null;
  pooling: string | null;
  license: string | null;
  /** The checkpoint is downloaded and complete. */
  source: boolean;
  /** Converted dtypes available. */
  dtypes: string[];
  /** Folder to serve (converted), when any dtype is available. */
  path: string | null;
}

/** Sizes from the cached model itself (corom.json, else config.json) fill what the registry leaves open. */
async function cachedSizes(cached: CachedModel | undefined): Promise<{ dimensions?: number; layers?: number }> {
  if (!cached) return {};
  if (cached.metadata) return { dimensions: cached.metadata.hidden, layers: cached.metadata.layers };
  if (!cached.source) return {};
  try {
    const config = JSON.parse(await readFile(path.join(cached.paths.source, 'config.json'), 'utf8')) as Record<string, unknown>;
    return {
      ...(typeof config.hidden_size === 'number' ? { dimensions: config.hidden_size } : {}),
      ...(typeof config.num_hidden_layers === 'number' ? { layers: config.num_hidden_layers } : {}),
    };
  } catch {
    return {};
  }
}

async function toRow(known: KnownModel | undefined, hubId: string, cached: CachedModel | undefined): Promise<ModelRow> {
  const sizes = await cachedSizes(cached);
  const kind = known?.kind ?? (cached?.metadata ? (cached.metadata.task ?? 'embedding') : null);
  return {
    name: known?.name ?? null,
    hubId,
    aliases: known ? [...known.aliases] : [],
    kind,
    language: known?.language ?? null,
    domain: known?.domain ?? null,
    // A ranker gives one score per pair, not a vector.
    dimensions: kind === 'rerank' ? null : (known?.dimensions ?? sizes.dimensions ?? null),
    layers: known?.layers ?? sizes.layers ?? null,
    maxLength: known?.maxLength ?? cached?.metadata?.maxLength ?? null,
    pooling: kind === 'rerank' ? null : (known?.pooling ?? cached?.metadata?.pooling ?? null),
    license: known?.license ?? null,
    source: cached?.source !== undefined,
    dtypes: cached ? [...cached.dtypes] : [],
    path: cached && cached.dtypes.length > 0 ? cached.paths.onnx : null,
  };
}

function cachedLabel(row: ModelRow): string {
  if (row.dtypes.length > 0) return row.dtypes.join(',');
  return row.source ? 'source only' : '-';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export const modelsCommand: Command = {
  name: 'models',
  summary: 'list the known coROM models and which are cached locally (with which dtypes)',
  usage: `Usage: corom models [--json]

Lists the coROM models corom knows by name, with their kind (embedding: sentence vectors; rerank:
a cross-encoder scoring query-passage pairs, for 'corom rank') (fetch one with 'corom fetch NAME'),
plus any other model in the cache, with the converted dtypes found in $COROM_HOME
(default ~/.cache/corom). --json prints the same as a JSON array.`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const home = coromHome(io.env);
    const cached = await listCachedModels(home);
    const rows: ModelRow[] = [];
    for (const known of KNOWN_MODELS) {
      rows.push(await toRow(known, known.hubId, cached.find((c) => findKnownModel(c.hubId) === known)));
    }
    for (const other of cached) {
      if (!findKnownModel(other.hubId) && (other.source || other.dtypes.length > 0)) rows.push(await toRow(undefined, other.hubId, other));
    }
    if (values.json) {
      io.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      return 0;
    }
    const lines = [['NAME', 'HUB ID', 'KIND', 'LANG', 'DIM', 'LAYERS', 'CACHED']];
    for (const r of rows) {
      const dim = r.kind === 'rerank' ? '-' : (r.dimensions?.toString() ?? '?');
      lines.push([r.name ?? '-', r.hubId, r.kind ?? '?', r.language ?? '-', dim, r.layers?.toString() ?? '?', cachedLabel(r)]);
    }
    io.stdout.write(table(lines));
    io.stdout.write(`\ncache: ${home}  (named models: max 128 tokens, Apache-2.0; embedding models pool [CLS]; DIM - = a ranker gives one score per pair; ? = known once fetched)\n`);
    return 0;
  },
};
