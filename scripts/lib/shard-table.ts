/**
 * `scripts/edge-memory.ts --record DIR [--record DIR ...]` on folders converted with
 * `corom convert --shards N --ort-format`: measures every shard of each folder's shard set as the
 * Worker loads it (shard-peak-child.ts), at each batch size of `rows` x maxLength tokens, one
 * fresh process per measurement, sequentially. The batch cap is the largest size at which every
 * shard's peak is within `capBudgetBytes`; each shard's peak at the cap (and the WASM memory to
 * grow to up front) goes into the folder's corom.json. Prints the tables and, with `outDir`,
 * writes them into docs/edge-memory.md (a marked section the full run keeps) and
 * edge-memory-shards.json.
 */
import { cpus } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Dtype } from '../../src/engine/types.js';
import { readConvertedMetadata } from '../../src/store/files.js';
import { METADATA_FILE, type ConvertedMetadata } from '../../src/store/metadata.js';
import type { ShardSet } from '../../src/store/shard-metadata.js';
import { measureShardPeak, type ShardPeakRequest, type ShardPeakResult } from './shard-peak.js';

export interface ShardTableOptions {
  dtype?: Dtype;
  rows: number[];
  capBudgetBytes: number;
  compareLoading: boolean;
  outDir?: string;
  command: string;
}

export const SECTION_BEGIN = '<!-- edge-memory shards: begin (scripts/edge-memory.ts --record DIR on shard sets) -->';
export const SECTION_END = '<!-- edge-memory shards: end -->';
const QUERY_TOKENS = 20;

interface Row {
  dir: string;
  set: string;
  dtype: Dtype;
  shard: string;
  layers: string;
  rows: number;
  format: string;
  growth: string;
  fileMB: number;
  result: ShardPeakResult;
}

const mb = (b: number): string => (b / 1e6).toFixed(1);
const log = (s: string): void => void process.stderr.write(s + '\n');

function pickSet(meta: ConvertedMetadata, dir: string, dtype: Dtype | undefined): ShardSet {
  const sets = meta.shards ?? {};
  const chosen = dtype ? sets[dtype] : Object.values(sets).length === 1 ? Object.values(sets)[0] : undefined;
  if (!chosen) throw new Error(`${dir}: no${dtype ? ` ${dtype}` : ''} shard set (or several: pass --dtype)`);
  if (chosen.shards.some((s) => !s.ortFile)) throw new Error(`${dir}: convert with --ort-format (the Worker loads the ORT-format shards)`);
  return chosen;
}

export async function measureShardSets(dirs: string[], options: ShardTableOptions): Promise<void> {
  const rows: Row[] = [];
  const sets: Record<string, unknown>[] = [];
  for (const dir of dirs) {
    const meta = (await readConvertedMetadata(dir))!;
    const set = pickSet(meta, dir, options.dtype);
    const label = `${set.dtype}, ${set.count === 1 ? 'unsplit' : `${set.count} shards (layers ${set.shards.map((x) => `${x.layers[0]}-${x.layers[1] - 1}`).join(' | ')})`}`;
    const perShard: Map<number, Map<number, ShardPeakResult>> = new Map();
    for (const shard of set.shards) {
      const byRows = new Map<number, ShardPeakResult>();
      for (const n of options.rows) {
        const request: ShardPeakRequest = { dir, dtype: set.dtype, index: shard.index, rows: n, format: 'ort', growth: 'tight', queryTokens: QUERY_TOKENS };
        const result = await measureShardPeak(request);
        byRows.set(n, result);
        const total = result.wasmPeakBytes + result.jsPeakBytes;
        log(`${basename(dir)} shard ${shard.index + 1}/${set.count} x${n}: ${mb(total)} MB (WASM ${mb(result.wasmPeakBytes)} + JS ${mb(result.jsPeakBytes)}), batch ${result.batchCpuMs.toFixed(0)} CPU ms, query ${result.queryCpuMs.toFixed(1)} CPU ms`);
        rows.push({ dir: basename(dir), set: label, dtype: set.dtype, shard: `${shard.index + 1}/${set.count}`, layers: `${shard.layers[0]}-${shard.layers[1] - 1}`, rows: n, format: 'ort', growth: 'tight', fileMB: shard.ortBytes! / 1e6, result });
      }
      perShard.set(shard.index, byRows);
    }
    // The cap: the largest measured batch at which every shard fits the budget.
    const fitting = options.rows.filter((n) => set.shards.every((s) => { const r = perShard.get(s.index)!.get(n)!; return r.wasmPeakBytes + r.jsPeakBytes <= options.capBudgetBytes; }));
    const cap = fitting.length ? Math.max(...fitting) : undefined;
    if (cap !== undefined) {
      for (const shard of set.shards) {
        const r = perShard.get(shard.index)!.get(cap)!;
        shard.edge = { peakBytes: r.wasmPeakBytes + r.jsPeakBytes, wasmBytes: r.wasmPeakBytes, jsBytes: r.jsPeakBytes, batchRows: cap, maxLength: meta.maxLength, reserveBytes: r.wasmPeakBytes };
      }
      set.batchCap = { rows: cap, maxLength: meta.maxLength };
    } else {
      for (const shard of set.shards) delete shard.edge;
      delete set.batchCap;
    }
    meta.shards![set.dtype] = set;
    await writeFile(join(dir, METADATA_FILE), JSON.stringify(meta, null, 2) + '\n');
    log(`${dir}: ${cap === undefined ? `no batch size fits ${mb(options.capBudgetBytes)} MB; nothing recorded` : `batch cap ${cap} x ${meta.maxLength} recorded in corom.json`}`);
    const at = (n: number | undefined, pick: (r: ShardPeakResult) => number): number | undefined =>
      n === undefined ? undefined : set.shards.reduce((sum, s) => sum + pick(perShard.get(s.index)!.get(n)!), 0);
    sets.push({
      set: label,
      dir: basename(dir),
      command: options.command,
      shards: set.count,
      cap,
      maxPeakAtCapMB: cap === undefined ? undefined : Math.max(...set.shards.map((s) => s.edge!.peakBytes)) / 1e6,
      queryCpuMs: at(options.rows[0], (r) => r.queryCpuMs),
      capBatchCpuMs: at(cap, (r) => r.batchCpuMs),
      capBatchFirstCpuMs: at(cap, (r) => r.firstBatchCpuMs),
    });

    if (options.compareLoading && dir === dirs[0]) {
      // What each trick saves: the largest shard at the largest batch, loaded without it, and
      // with memory grown up front to the recorded need (what the Worker does).
      const n = Math.max(...options.rows);
      const shard = set.shards[0]!;
      const variants: Pick<ShardPeakRequest, 'format' | 'growth' | 'reserveBytes'>[] = [
        { format: 'onnx', growth: 'tight' },
        { format: 'ort', growth: 'emscripten' },
        { format: 'ort', growth: 'tight', reserveBytes: perShard.get(0)!.get(n)!.wasmPeakBytes },
      ];
      for (const v of variants) {
        const result = await measureShardPeak({ dir, dtype: set.dtype, index: 0, rows: n, queryTokens: QUERY_TOKENS, ...v });
        log(`${basename(dir)} shard 1 x${n} ${v.format}/${v.growth}${v.reserveBytes ? '/grown up front' : ''}: ${mb(result.wasmPeakBytes + result.jsPeakBytes)} MB`);
        rows.push({ dir: basename(dir), set: label, dtype: set.dtype, shard: `${shard.index + 1}/${set.count}`, layers: `${shard.layers[0]}-${shard.layers[1] - 1}`, rows: n, format: v.format, growth: v.reserveBytes ? 'grown up front' : v.growth, fileMB: (v.format === 'ort' ? shard.ortBytes! : shard.bytes) / 1e6, result });
      }
    }
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const jsonPath = options.outDir ? join(options.outDir, 'edge-memory-shards.json') : undefined;
  // Sets measured by earlier runs (other folders) stay in the table; a folder measured again replaces its rows.
  const previous = jsonPath ? ((await readFile(jsonPath, 'utf8').then(JSON.parse).catch(() => undefined)) as { sets: any[]; rows: Row[]; command?: string } | undefined) : undefined;
  // Files from before rows named their folder and sets their command: recover them from the set label and the file's command.
  for (const x of previous?.sets ?? []) x.command ??= previous!.command;
  for (const r of previous?.rows ?? []) r.dir ??= previous!.sets.find((x) => x.set === r.set)?.dir;
  const measured = new Set(dirs.map((d) => basename(d)));
  const allSets = [...(previous?.sets ?? []).filter((x) => !measured.has(x.dir)), ...sets];
  const allRows = [...(previous?.rows ?? []).filter((x) => !measured.has(x.dir)), ...rows];
  const commands = [...new Set(allSets.map((x: any) => x.command as string))];
  const md = renderSection({ commands, cpu, capBudgetBytes: options.capBudgetBytes, rows: allRows, sets: allSets });
  process.stdout.write(md);
  if (options.outDir) {
    const path = join(options.outDir, 'edge-memory.md');
    await writeFile(path, replaceSection(await readFile(path, 'utf8').catch(() => '# Edge memory\n'), md));
    await writeFile(jsonPath!, JSON.stringify({ cpu, capBudgetMB: options.capBudgetBytes / 1e6, sets: allSets, rows: allRows }, null, 2) + '\n');
    log(`wrote ${path} and edge-memory-shards.json`);
  }
}

/** `doc` with its shards section replaced by (or, without one, followed by) `section`. */
export function replaceSection(doc: string, section: string): string {
  const a = doc.indexOf(SECTION_BEGIN);
  const b = doc.indexOf(SECTION_END);
  if (a >= 0 && b > a) return doc.slice(0, a) + section.trimEnd() + doc.slice(b + SECTION_END.length);
  return doc.trimEnd() + '\n\n' + section;
}

/**
 * The shards section of `doc` and everything after it (the workerd CPU section, from
 * scripts/edge-cpu.ts runs), to keep when the full run rewrites the artifact table; or ''.
 */
export function shardsSection(doc: string): string {
  const a = doc.indexOf(SECTION_BEGIN);
  const b = doc.indexOf(SECTION_END);
  return a >= 0 && b > a ? doc.slice(a).trimEnd() + '\n' : '';
}

interface SectionData {
  commands: string[];
  cpu: string;
  capBudgetBytes: number;
  rows: Row[];
  sets: any[];
}

/** A table cell: a pipe would end it. */
const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The markdown section from measurements (also used to re-render docs from edge-memory-shards.json). */
export function renderSection(data: SectionData): string {
  return [
    SECTION_BEGIN,
    '## Layer shards, as the Worker loads them',
    '',
    `Produced by ${data.commands.map((c) => `\`${c}\``).join(' and ')} on folders converted with \`corom convert SRC OUT --dtype D --shards N --ort-format\` from the coROM-base-shaped random checkpoint, on ${data.cpu} (${cpus().length} cores, shared).`,
    'Each shard is loaded in a fresh Node process with the Worker\'s code path: `onnxruntime-web/wasm` through src/runtime/ort-web-workerd.ts (one thread, precompiled module), the ORT-format file read in 1 MB chunks straight into WASM memory (src/runtime/ort-web-low-memory.ts: ORT\'s malloc, `session.use_ort_model_bytes_for_initializers=1`, model buffer kept alive, tight heap growth), then one run of `rows` x 128 tokens (a hidden state of that size for later shards).',
    'Peak = WASM linear memory after the run + peak JS memory (V8 heap + ArrayBuffers, sampled, above the baseline of a started runtime; includes the 1 MB read chunk and the hidden state in and out).',
    `The batch cap is the largest measured batch at which every shard of the set is within ${mb(data.capBudgetBytes)} MB; it and each shard's peak at the cap are recorded in the folder's corom.json (\`shards.<dtype>\`).`,
    `CPU ms = process CPU time (user + system) around \`session.run\`, onnxruntime-web single thread under Node (not workerd), ORT's WebAssembly compiled eagerly by TurboFan (\`--no-liftoff\`) so that V8's background compilation is not counted (a fresh isolate's first requests cost more): a ${QUERY_TOKENS}-token query (median of 3) and the full batch at the cap (a second run; the first also grows memory and warms up the WASM code).`,
    '',
    '| set | shard | layers | format | growth | file MB | rows x 128 | WASM MB | JS MB | total MB | fits cap budget | load ms |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...data.rows.map((r) => {
      const total = r.result.wasmPeakBytes + r.result.jsPeakBytes;
      return `| ${cell(r.set)} | ${r.shard} | ${r.layers} | ${r.format} | ${r.growth} | ${r.fileMB.toFixed(1)} | ${r.rows} | ${mb(r.result.wasmPeakBytes)} | ${mb(r.result.jsPeakBytes)} | ${mb(total)} | ${total <= data.capBudgetBytes ? 'yes' : '**no**'} | ${r.result.loadMs.toFixed(0)} |`;
    }),
    '',
    '| set | batch cap (rows x 128) | largest shard peak at cap MB | CPU ms, 20-token query (all shards) | CPU ms, batch at cap (all shards) | CPU ms, first batch at cap |',
    '|---|---|---|---|---|---|',
    ...data.sets.map((s: any) => `| ${cell(s.set)} | ${s.cap ?? 'none fits'} | ${s.maxPeakAtCapMB?.toFixed(1) ?? '-'} | ${s.queryCpuMs?.toFixed(1) ?? '-'} | ${s.capBatchCpuMs?.toFixed(0) ?? '-'} | ${s.capBatchFirstCpuMs?.toFixed(0) ?? '-'} |`),
    SECTION_END,
    '',
  ].join('\n');
}

/** Re-renders the docs section from `outDir`/edge-memory-shards.json without measuring again. */
export async function renderFromJson(outDir: string): Promise<void> {
  const data = JSON.parse(await readFile(join(outDir, 'edge-memory-shards.json'), 'utf8')) as { cpu: string; capBudgetMB: number; rows: Row[]; sets: any[] };
  const commands = [...new Set(data.sets.map((x) => x.command as string))];
  const md = renderSection({ commands, cpu: data.cpu, capBudgetBytes: data.capBudgetMB * 1e6, rows: data.rows, sets: data.sets });
  const path = join(outDir, 'edge-memory.md');
  await writeFile(path, replaceSection(await readFile(path, 'utf8'), md));
  process.stdout.write(md);
}
