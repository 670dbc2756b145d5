/**
 * The passage-ranking models in the registry: `corom fetch` by short name or by either namespace
 * against the fake hub on 127.0.0.1 (serving the tiny-ranker fixture), conversion recording the
 * kind, `corom models` listing it, resolution for serving, and `corom rank` on the result.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KNOWN_MODELS, findKnownModel } from '../../models/registry.js';
import { resolveModelFolder } from '../../src/hub/resolve.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { RANKER_CASES, RANKER_DIR, RANK_SCORE_ABS_TOL } from '../helpers/ranker-fixture.js';
import { memoryStream, startFakeHub, type FakeHub, type HubFile } from './fake-hub.js';

const ROM_ID = 'iic/nlp_rom_passage-ranking_chinese-base';
const TINY_ID = 'iic/nlp_corom_passage-ranking_chinese-tiny';

function rankerRepo(): HubFile[] {
  return ['config.json', 'configuration.json', 'vocab.txt', 'pytorch_model.bin'].map((name) => ({ path: name, bytes: readFileSync(path.join(RANKER_DIR, name)) }));
}

let home: string;
let hub: FakeHub | undefined;
beforeEach(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'corom-rankers-test-'));
});
afterEach(async () => {
  await hub?.close();
  hub = undefined;
  await rm(home, { recursive: true, force: true });
});

/** `corom` in-process with this test's home and one quick hub retry. */
function corom(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCli(args, stdin, { COROM_HOME: home, COROM_HUB_RETRIES: '1', COROM_HUB_BACKOFF_MS: '1', ...env });
}

describe('ranking models in the registry', () => {
  it('lists the six passage-ranking models as kind rerank, iic/ canonical and damo/ alias', () => {
    const rankers = KNOWN_MODELS.filter((m) => m.kind === 'rerank');
    expect(rankers.map((m) => m.aliases[0])).toEqual([
      'damo/nlp_rom_passage-ranking_chinese-base',
      'damo/nlp_corom_passage-ranking_chinese-tiny',
      'damo/nlp_corom_passage-ranking_english-base',
      'damo/nlp_corom_passage-ranking_chinese-base-ecom',
      'damo/nlp_corom_passage-ranking_chinese-tiny-ecom',
      'damo/nlp_corom_passage-ranking_chinese-base-medical',
    ]);
    expect(findKnownModel('rom-ranker-base')!.hubId).toBe(ROM_ID);
    expect(findKnownModel('DAMO/nlp_rom_passage-ranking_chinese-base')!.name).toBe('rom-ranker-base');
    expect(findKnownModel('corom-base')!.kind).toBe('embedding');
  });

  it('corom fetch rom-ranker-base converts a ranker (task rerank) that corom rank runs', async () => {
    hub = await startFakeHub({ models: { [ROM_ID]: rankerRepo() } });
    const fetched = await corom(['fetch', 'rom-ranker-base', '--hub', hub.url, '--dtype', 'fp32']);
    expect(fetched.code, fetched.stderr).toBe(0);
    const onnx = fetched.stdout.trim();
    expect(onnx).toBe(path.join(home, 'models', ROM_ID, 'onnx'));
    const meta = JSON.parse(await readFile(path.join(onnx, 'corom.json'), 'utf8'));
    expect(meta.task).toBe('rerank');

    const c = RANKER_CASES[0]!;
    const ranked = await corom(['rank', '--model', onnx], JSON.stringify({ source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare }));
    expect(ranked.code, ranked.stderr).toBe(0);
    (JSON.parse(ranked.stdout) as { scores: number[] }).scores.forEach((s, i) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));

    const listed = await corom(['models', '--json']);
    const rows = JSON.parse(listed.stdout) as { name: string; kind: string; dtypes: string[]; dimensions: number | null }[];
    expect(rows.find((r) => r.name === 'rom-ranker-base')).toMatchObject({ kind: 'rerank', dtypes: ['fp32'], dimensions: null });
    expect(rows.find((r) => r.name === 'corom-base')).toMatchObject({ kind: 'embedding' });
    const table = await corom(['models']);
    expect(table.stdout).toMatch(/^NAME\s+HUB ID\s+KIND/);
    expect(table.stdout).toMatch(/rom-ranker-base\s+iic\/nlp_rom_passage-ranking_chinese-base\s+rerank\s+zh\s+-\s+2\s+fp32/);
  });

  it('resolves a ranker by its damo/ id for serving (fetch + convert on first use)', async () => {
    hub = await startFakeHub({ models: { [TINY_ID]: rankerRepo() } });
    const dir = await resolveModelFolder('damo/nlp_corom_passage-ranking_chinese-tiny', { env: { COROM_HOME: home, COROM_HUB_URL: hub.url, COROM_HUB_RETRIES: '1', COROM_HUB_BACKOFF_MS: '1' }, stderr: memoryStream(), dtype: 'int8' }, '--model');
    expect(dir).toBe(path.join(home, 'models', TINY_ID, 'onnx'));
    const meta = JSON.parse(await readFile(path.join(dir, 'corom.json'), 'utf8'));
    expect(meta).toMatchObject({ task: 'rerank' });
    expect(Object.keys(meta.dtypes)).toEqual(['int8']);
  });
});
