/** corom rank against the tiny-ranker fixture, and the error conventions around model kinds. */
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { convertedFixture } from '../helpers/fixture.js';
import { RANKER_CASES, RANKER_DIR, RANK_SCORE_ABS_TOL, convertedRanker } from '../helpers/ranker-fixture.js';

describe('corom rank on the tiny-ranker fixture', () => {
  for (const backend of ['node', 'wasm']) {
    it(`{scores} equal the reference within 1e-5, in input order (${backend})`, async () => {
      const dir = await convertedRanker('fp32');
      for (const c of RANKER_CASES) {
        const r = await runCli(['rank', '--model', dir, '--backend', backend], JSON.stringify({ source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare }));
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as Record<string, number[]>;
        expect(Object.keys(out)).toEqual(['scores']);
        expect(out.scores).toHaveLength(c.scores.length);
        out.scores!.forEach((s, i) => expect(Math.abs(s - c.scores[i]!)).toBeLessThan(RANK_SCORE_ABS_TOL));
      }
    });
  }

  it('--logits adds the raw logits; a string query and an empty passage list are accepted', async () => {
    const dir = await convertedRanker('fp32');
    const c = RANKER_CASES[1]!;
    const r = await runCli(['rank', '--model', dir, '--logits'], JSON.stringify({ source_sentence: c.source_sentence[0], sentences_to_compare: c.sentences_to_compare }));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { scores: number[]; logits: number[] };
    out.logits.forEach((l, i) => expect(Math.abs(l - c.logits[i]!)).toBeLessThan(1e-4));
    const empty = await runCli(['rank', '--model', dir], JSON.stringify({ source_sentence: ['q'], sentences_to_compare: [] }));
    expect(JSON.parse(empty.stdout)).toEqual({ scores: [] });
  });

  it('runs on the raw checkpoint folder (converted on first use)', async () => {
    const c = RANKER_CASES[0]!;
    const raw = await mkdtemp(join(tmpdir(), 'corom-raw-ranker-'));
    await cp(RANKER_DIR, raw, { recursive: true });
    const r = await runCli(['rank', '--model', raw, '--dtype', 'int8'], JSON.stringify({ source_sentence: c.source_sentence, sentences_to_compare: c.sentences_to_compare }));
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { scores: number[] }).scores).toHaveLength(c.scores.length);
  });

  const oneLine = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => !l.startsWith('converting '));

  it('usage, model-file and input errors: exit 2, 3, 1 with one line and no stack', async () => {
    const dir = await convertedRanker('fp32');
    const cases: [string[], string, number, RegExp][] = [
      [['rank'], '{}', 2, /missing --model/],
      [['rank', '--model', dir, '--dtype', 'fp16'], '{}', 2, /dtype/],
      [['rank', '--model', '/nonexistent/ranker'], '{"source_sentence":["q"],"sentences_to_compare":["p"]}', 3, /model folder not found/],
      [['rank', '--model', dir], 'not json', 1, /not valid JSON/],
      [['rank', '--model', dir], '{"source_sentence":["a","b"],"sentences_to_compare":["p"]}', 1, /exactly one query/],
      [['rank', '--model', dir], '{"source_sentence":["a"]}', 1, /"sentences_to_compare" is required/],
      [['rank', '--model', dir], '{"source_sentence":["a"],"sentences_to_compare":[1]}', 1, /list of strings/],
    ];
    for (const [args, stdin, code, message] of cases) {
      const r = await runCli(args, stdin);
      expect(r.code, `${args.join(' ')} <<< ${stdin}: ${r.stderr}`).toBe(code);
      expect(oneLine(r.stderr)).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('embed / pipeline on a ranker and rank on an embedder are usage errors naming the kind', async () => {
    const ranker = await convertedRanker('fp32');
    const embedder = await convertedFixture('fp32');
    const embed = await runCli(['embed', '--model', ranker], '"text"\n');
    expect(embed.code).toBe(2);
    expect(oneLine(embed.stderr)).toHaveLength(1);
    expect(embed.stderr).toMatch(/is a rerank model .*use `corom rank`/);
    const pipeline = await runCli(['pipeline', '--model', ranker], '{"source_sentence":["a"]}');
    expect(pipeline.code).toBe(2);
    expect(pipeline.stderr).toMatch(/is a rerank model/);
    const rank = await runCli(['rank', '--model', embedder], '{"source_sentence":["a"],"sentences_to_compare":["b"]}');
    expect(rank.code).toBe(2);
    expect(rank.stderr).toMatch(/is an embedding model/);
  });
});
