/** Dataset loaders on tiny files in a temp folder, good and bad. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetError, detectDatasetFormat, loadDataset } from '../../src/eval/datasets/index.js';
import { jsonErrorOffset } from '../../src/eval/datasets/json-position.js';

let root: string;
let n = 0;
/** A fresh folder holding `files` (path -> content). */
async function makeDir(files: Record<string, string>): Promise<string> {
  const dir = join(root, `d${n++}`);
  for (const [name, content] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'corom-eval-datasets-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const rel = (ds: { relevant: Int32Array[] }) => ds.relevant.map((r) => Array.from(r));

describe('SQuAD-style JSON (CMRC 2018, DRCD)', () => {
  const squad = {
    version: 'v1.0',
    data: [
      {
        paragraphs: [
          { id: 'P1', context: '北京是首都。', qas: [{ id: 'Q1', question: '首都是哪里？' }, { id: 'Q2', question: '北京是什么？' }] },
          { id: 'P2', context: '上海很大。', qas: [{ question: '哪里很大？' }] },
        ],
      },
      // Same context again under another id: one passage, both questions relevant to it.
      { paragraphs: [{ id: 'P3', context: '北京是首都。', qas: [{ id: 'Q4', question: '首都？' }, { id: 'Q5', question: '  ' }] }] },
    ],
  };

  it('makes each distinct context a passage and each question a query relevant to it', async () => {
    const dir = await makeDir({ 'cmrc.json': JSON.stringify(squad, null, 2) });
    const ds = await loadDataset(join(dir, 'cmrc.json'));
    expect(ds.format).toBe('squad');
    expect(ds.passageIds).toEqual(['P1', 'P2']);
    expect(ds.queryIds).toEqual(['Q1', 'Q2', 'data[0].paragraphs[1].qas[0]', 'Q4']);
    expect(rel(ds)).toEqual([[0], [0], [1], [0]]);
    expect(ds.skippedQueries).toEqual([{ id: 'Q5', where: expect.stringContaining('data[1].paragraphs[0].qas[1]'), reason: 'empty query text' }]);
  });

  it('reads the real CMRC 2018 trial file (1002 questions, 2 of them empty)', async () => {
    const ds = await loadDataset('data/cmrc2018/cmrc2018_trial.json');
    expect(ds.passageIds.length).toBe(256);
    expect(ds.queryIds.length + ds.skippedQueries.length).toBe(1002);
    expect(ds.skippedQueries.map((q) => q.id)).toEqual(['TRIAL_776_QUERY_4', 'TRIAL_20_QUERY_0']);
  });

  it.each([
    ['invalid JSON', '{\n  "data": [\n    {"paragraphs": [}\n  ]\n}', /bad\.json:3:\d+: invalid JSON/],
    ['an empty file', '', /bad\.json: file is empty/],
    ['no data array', '{"version": "v1"}', /not SQuAD-style JSON/],
    ['a missing context', '{"data":[{"paragraphs":[{"qas":[]}]}]}', /data\[0\]\.paragraphs\[0\]: "context" is missing/],
    ['qas that is not an array', '{"data":[{"paragraphs":[{"context":"x","qas":{}}]}]}', /"qas" is missing or not an array/],
    ['a question that is not a string', '{"data":[{"paragraphs":[{"context":"x","qas":[{"id":"a","question":3}]}]}]}', /qas\[0\]: "question" is missing/],
    ['duplicate question ids', '{"data":[{"paragraphs":[{"context":"x","qas":[{"id":"a","question":"q"},{"id":"a","question":"r"}]}]}]}', /qas\[1\]: query id 'a' was already used at .*qas\[0\]/],
    ['only empty questions', '{"data":[{"paragraphs":[{"context":"x","qas":[{"id":"a","question":""}]}]}]}', /no usable queries/],
  ])('rejects %s with the file and place', async (_what, content, message) => {
    const dir = await makeDir({ 'bad.json': content });
    const error = await loadDataset(join(dir, 'bad.json')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(join(dir, 'bad.json'));
  });
});

describe('MS MARCO TSVs', () => {
  const good = {
    'collection.tsv': '0\tpassage zero\n1\tpassage one\n2\tpassage\twith a tab\n',
    'queries.dev.tsv': '10\tfirst query\n11\tsecond query\n12\tquery without qrels\n',
    'qrels.dev.tsv': '10\t0\t1\t1\n11 0 0 1\n11 0 2 1\n10\t0\t2\t0\n',
  };

  it('loads passages, queries and positive qrels (relevance 0 ignored)', async () => {
    const dir = await makeDir(good);
    expect(await detectDatasetFormat(dir)).toBe('msmarco');
    const ds = await loadDataset(dir);
    expect(ds.passageIds).toEqual(['0', '1', '2']);
    expect(ds.passageTexts[2]).toBe('passage\twith a tab');
    expect(ds.queryIds).toEqual(['10', '11', '12']);
    expect(rel(ds)).toEqual([[1], [0, 2], []]);
  });

  it('asks for --split when several query sets are present, and uses the one named', async () => {
    const dir = await makeDir({ ...good, 'queries.eval.tsv': '20\tq\n', 'qrels.eval.tsv': '20 0 0 1\n' });
    await expect(loadDataset(dir)).rejects.toThrow(/several query sets \(dev, eval\); choose one with --split/);
    const ds = await loadDataset(dir, { split: 'eval' });
    expect(ds.queryIds).toEqual(['20']);
    await expect(loadDataset(dir, { split: 'test' })).rejects.toThrow(/no queries\.test\.tsv/);
  });

  it.each([
    ['a collection line with one column', { 'collection.tsv': '0\tok\n1\n' }, /collection\.tsv:2: expected 2 tab-separated columns \(pid, passage\), found 1/],
    ['an empty collection', { 'collection.tsv': '\n\n' }, /collection\.tsv: file is empty/],
    ['a duplicate passage id', { 'collection.tsv': '0\ta\n0\tb\n' }, /collection\.tsv:2: passage id '0' was already used at .*collection\.tsv:1/],
    ['qrels naming an unknown passage', { 'qrels.dev.tsv': '10 0 1 1\n11 0 99 1\n' }, /qrels\.dev\.tsv:2: qrels name passage '99', which is not in the passage collection/],
    ['qrels naming an unknown query', { 'qrels.dev.tsv': '77 0 1 1\n' }, /qrels\.dev\.tsv:1: qrels name query '77', which is not in the query set/],
    ['qrels with 3 columns', { 'qrels.dev.tsv': '10 0 1\n' }, /qrels\.dev\.tsv:1: expected 4 columns \(qid 0 pid relevance\), found 3/],
    ['a non-numeric relevance', { 'qrels.dev.tsv': '10 0 1 yes\n' }, /relevance 'yes' is not a number/],
    ['no qrels file at all', { 'qrels.dev.tsv': undefined }, /no queries\*\.tsv with a matching qrels\*\.tsv/],
  ])('rejects %s', async (_what, override, message) => {
    const files: Record<string, string> = { ...good };
    for (const [name, content] of Object.entries(override)) {
      if (content === undefined) delete files[name];
      else files[name] = content;
    }
    const dir = await makeDir(files);
    await expect(loadDataset(dir)).rejects.toThrow(message);
  });
});

describe('DuReader-retrieval release layout', () => {
  const passageLine = (text: string) => `null\tnull\t${text}\tnull\n`;
  const good = {
    'passage-collection/part-00': passageLine('第一段') + passageLine('第二段'),
    'passage-collection/part-01': passageLine('第三段'),
    'passage-collection/passage2id.map.json': JSON.stringify({ 0: 'pa', 1: 'pb', 2: 'pc' }),
    'dev/dev.json': [
      { question_id: 'q1', question: '问题一', answer_paragraphs: [{ paragraph_id: 'pc', paragraph_text: '第三段' }] },
      { question_id: 'q2', question: '问题二', answer_paragraphs: [] },
      { question_id: 'q1', question: '问题一', answer_paragraphs: [{ paragraph_id: 'pa', paragraph_text: '第一段' }] },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  };

  it('numbers passages across the parts, maps them to paragraph ids and merges repeated questions', async () => {
    const dir = await makeDir(good);
    expect(await detectDatasetFormat(dir)).toBe('dureader');
    const ds = await loadDataset(dir);
    expect(ds.passageIds).toEqual(['pa', 'pb', 'pc']);
    expect(ds.passageTexts).toEqual(['第一段', '第二段', '第三段']);
    expect(ds.queryIds).toEqual(['q1', 'q2']);
    expect(rel(ds)).toEqual([[0, 2], []]);
    // The JSON Lines file itself also works, and is detected as DuReader.
    const devJson = join(dir, 'dev', 'dev.json');
    expect(await detectDatasetFormat(devJson)).toBe('dureader');
    expect((await loadDataset(devJson)).queryIds).toEqual(['q1', 'q2']);
  });

  it('uses line indices as ids without passage2id.map.json', async () => {
    const files: Record<string, string> = { ...good };
    delete files['passage-collection/passage2id.map.json'];
    files['dev/dev.json'] = JSON.stringify({ question_id: 'q1', question: '问', answer_paragraphs: [{ paragraph_id: '2' }] });
    const ds = await loadDataset(await makeDir(files));
    expect(ds.passageIds).toEqual(['0', '1', '2']);
    expect(rel(ds)).toEqual([[2]]);
  });

  it.each([
    ['a passage line with too few columns', { 'passage-collection/part-01': 'null\tonly two\n' }, /part-01:1: expected 3 tab-separated columns \(null, null, passage_text, null\), found 2/],
    ['an invalid JSON line', { 'dev/dev.json': '{"question_id": "q1", "question": "x"}\n{oops\n' }, /dev\.json:2: invalid JSON/],
    ['a line that is not an object', { 'dev/dev.json': '[1,2]\n' }, /dev\.json:1: expected a JSON object per line/],
    ['an unknown answer paragraph', { 'dev/dev.json': JSON.stringify({ question_id: 'q1', question: 'x', answer_paragraphs: [{ paragraph_id: 'zz' }] }) }, /dev\.json:1: qrels name passage 'zz'/],
    ['a missing question_id', { 'dev/dev.json': JSON.stringify({ question: 'x' }) }, /dev\.json:1: "question_id" is missing/],
    ['a line index missing from the id map', { 'passage-collection/passage2id.map.json': '{"0": "pa", "1": "pb"}' }, /part-01:1: passage line index 2 has no entry in .*passage2id\.map\.json/],
    ['an id map that is not JSON', { 'passage-collection/passage2id.map.json': '{"0": ' }, /passage2id\.map\.json:1:\d+: invalid JSON/],
    ['an empty part file', { 'passage-collection/part-01': '' }, /part-01: file is empty/],
  ])('rejects %s', async (_what, override, message) => {
    const dir = await makeDir({ ...good, ...override });
    await expect(loadDataset(dir)).rejects.toThrow(message);
  });

  it('says what is missing when the folder has no dev split', async () => {
    const files: Record<string, string> = { ...good };
    delete files['dev/dev.json'];
    await expect(loadDataset(await makeDir(files))).rejects.toThrow(/no dev\/dev\.json/);
  });
});

describe('format detection', () => {
  it('explains folders and files it cannot place', async () => {
    await expect(detectDatasetFormat(join(root, 'does-not-exist'))).rejects.toThrow(/no such file or folder/);
    await expect(detectDatasetFormat(await makeDir({ 'readme.txt': 'x' }))).rejects.toThrow(/cannot tell the dataset format/);
    const dir = await makeDir({ 'collection.tsv': '0\tx\n', 'notes.txt': 'hello\n' });
    await expect(detectDatasetFormat(join(dir, 'collection.tsv'))).rejects.toThrow(/pass the folder holding collection\.tsv/);
    await expect(detectDatasetFormat(join(dir, 'notes.txt'))).rejects.toThrow(/pass --format/);
  });

  it('honours --format over the layout', async () => {
    const dir = await makeDir({ 'x.json': '{"data": []}' });
    await expect(loadDataset(join(dir, 'x.json'), { format: 'msmarco' })).rejects.toThrow(/MS MARCO format expects a folder/);
    await expect(loadDataset(join(dir, 'x.json'), { format: 'squad' })).rejects.toThrow(/no passages found/);
    await expect(loadDataset(join(dir, 'x.json'), { split: 'dev' })).rejects.toThrow(/a SQuAD-style file has only one/);
  });
});

describe('jsonErrorOffset (line:column for JSON errors V8 gives no position for)', () => {
  it('agrees with JSON.parse on validity, for valid JSON and for damaged copies', () => {
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', '}', ']', ',', '"', ':', 'x', '\n'), (text, at, insert) => {
        const cut = at % (text.length + 1);
        for (const candidate of [text, text.slice(0, cut) + insert + text.slice(cut), text.slice(0, cut)]) {
          let valid = true;
          try {
            JSON.parse(candidate);
          } catch {
            valid = false;
          }
          const offset = jsonErrorOffset(candidate);
          expect(offset === undefined).toBe(valid);
          if (offset !== undefined) expect(offset).toBeLessThanOrEqual(candidate.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('points at the offending character', () => {
    expect(jsonErrorOffset('{"a":1,}')).toBe(7);
    expect(jsonErrorOffset('[1, 2')).toBe(5);
    expect(jsonErrorOffset('{"a":tru}')).toBe(5);
  });
});
