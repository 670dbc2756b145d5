/** `corom convert --shards`: the artifact, and usage errors (exit 2, one clear line) for impossible splits. */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

describe('corom convert --shards', () => {
  it('writes the shards, their ORT-format copies and corom.json', async () => {
    const out = await mkdtemp(join(tmpdir(), 'corom-cli-shards-'));
    const r = await runCli(['convert', FIXTURE_DIR, out, '--dtype', 'int8', '--shards', '2', '--ort-format']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote 2 int8 shards \(layers 0-0 \| 1-1\)/);
    expect(await readdir(out)).toEqual(
      expect.arrayContaining(['model.int8.shard1of2.onnx', 'model.int8.shard2of2.onnx', 'model.int8.shard1of2.ort', 'model.int8.shard2of2.ort', 'corom.json', 'vocab.txt']),
    );
    const meta = JSON.parse(await readFile(join(out, 'corom.json'), 'utf8'));
    expect(meta.shards.int8.count).toBe(2);
    expect(meta.shards.int8.shards[1].ortFile).toBe('model.int8.shard2of2.ort');
  });

  const cases: [string[], RegExp][] = [
    [['--shards', '0'], /--shards must be a positive integer \(got '0'\)/],
    [['--shards', '-1'], /--shards/],
    [['--shards', 'two'], /--shards must be a positive integer/],
    [['--shards', '3'], /cannot split 2 layers into 3 shards/],
    [['--split-at', '2'], /split points must be increasing integers strictly between 0 and 2/],
    [['--split-at', 'x'], /--split-at takes layer numbers/],
    [['--shards', '3', '--split-at', '1'], /--shards 3 and --split-at 1 disagree/],
    [['--ort-format'], /--ort-format applies to --shards/],
    [['--shards', '2', '--external-data'], /--external-data does not apply to --shards/],
  ];
  for (const [flags, message] of cases) {
    it(`${flags.join(' ')} is a usage error`, async () => {
      const out = await mkdtemp(join(tmpdir(), 'corom-cli-shards-bad-'));
      const r = await runCli(['convert', FIXTURE_DIR, out, '--dtype', 'int8', ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await readdir(out)).toEqual([]);
    });
  }
});
