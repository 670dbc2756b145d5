import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError } from '../../src/errors.js';
import { loadTokenizer } from '../../src/tokenizer/load.js';

const TINY_BERT = fileURLToPath(new URL('../fixtures/tiny-bert', import.meta.url));
const MINIMAL_VOCAB = '[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\ncafe\ncafé\nhel\n##lo\n';

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'corom-tokenizer-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modelDir(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = join(root, `m${counter++}`);
  await mkdir(dir);
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

async function loadError(dir: string): Promise<ModelFileError> {
  const error = await loadTokenizer(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFileError);
  return error as ModelFileError;
}

describe('loadTokenizer', () => {
  it('loads the tiny-bert folder with HF defaults (no tokenizer_config.json)', async () => {
    const t = await loadTokenizer(TINY_BERT);
    expect(t.vocabSize).toBe(21128);
    expect(t.doLowerCase).toBe(true);
    expect(t.stripAccents).toBe(true);
    expect(Array.from(t.encode('Café你好'))).toEqual([101, 8377, 872, 1962, 102]);
  });

  it('honours do_lower_case, strip_accents and tokenize_chinese_chars', async () => {
    const cased = await loadTokenizer(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"do_lower_case": false}' }));
    expect(cased.doLowerCase).toBe(false);
    expect(cased.tokenize('Hello hello café')).toEqual(['[UNK]', 'hello', 'café']);
    const keepAccents = await loadTokenizer(
      await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"do_lower_case": true, "strip_accents": false, "model_max_length": 512}' }),
    );
    expect(keepAccents.tokenize('CAFÉ')).toEqual(['café']);
    const nullAccents = await loadTokenizer(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"strip_accents": null}' }));
    expect(nullAccents.tokenize('CAFÉ')).toEqual(['cafe']);
    const glued = await loadTokenizer(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"tokenize_chinese_chars": false}' }));
    expect(glued.tokenizeChineseChars).toBe(false);
  });

  it('takes renamed special tokens from tokenizer_config.json and special_tokens_map.json', async () => {
    const dir = await modelDir({
      'vocab.txt': '<pad>\n<unk>\n<cls>\n<sep>\nab\n',
      'tokenizer_config.json': JSON.stringify({ unk_token: '<unk>', cls_token: { content: '<cls>', lstrip: false }, pad_token: '[PAD]', sep_token: '<sep>' }),
      'special_tokens_map.json': JSON.stringify({ pad_token: '<pad>' }),
    });
    const t = await loadTokenizer(dir);
    expect([t.padId, t.unkId, t.clsId, t.sepId]).toEqual([0, 1, 2, 3]);
    expect(Array.from(t.encode('ab zz'))).toEqual([2, 4, 1, 3]);
  });

  it('names vocab.txt when it is missing', async () => {
    const dir = await modelDir({ 'config.json': '{}' });
    const error = await loadError(dir);
    expect(error.file).toBe(join(dir, 'vocab.txt'));
    expect(error.message).toMatch(/vocab\.txt: not found/);
    expect(error.exitCode).toBe(3);
  });

  it('names the folder problem when the model path does not exist or is a file', async () => {
    expect((await loadError(join(root, 'does-not-exist'))).message).toMatch(/does-not-exist[/\\]vocab\.txt: not found/);
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    expect((await loadError(file)).message).toMatch(/not a directory/);
  });

  it('rejects an empty vocabulary', async () => {
    expect((await loadError(await modelDir({ 'vocab.txt': '' }))).message).toMatch(/vocab\.txt: the vocabulary is empty/);
    expect((await loadError(await modelDir({ 'vocab.txt': '\n\n' }))).message).toMatch(/the vocabulary is empty/);
  });

  it('says which special tokens the vocabulary lacks', async () => {
    const noCls = await loadError(await modelDir({ 'vocab.txt': '[PAD]\n[UNK]\n[SEP]\nab\n' }));
    expect(noCls.message).toMatch(/vocab\.txt: the vocabulary has no \[CLS\] token \(a BERT vocabulary needs/);
    const several = await loadError(await modelDir({ 'vocab.txt': 'ab\n[CLS]\n' }));
    expect(several.message).toMatch(/has no \[SEP\], \[UNK\], \[PAD\] tokens/);
    const noPad = await loadError(await modelDir({ 'vocab.txt': '[UNK]\n[CLS]\n[SEP]\n' }));
    expect(noPad.message).toMatch(/has no \[PAD\] token/);
  });

  it('rejects a vocab.txt that is not UTF-8', async () => {
    const error = await loadError(await modelDir({ 'vocab.txt': new Uint8Array([0x5b, 0x50, 0xff, 0xfe, 0x0a]) }));
    expect(error.message).toMatch(/vocab\.txt: is not valid UTF-8/);
  });

  it('names tokenizer_config.json when it is invalid JSON or has wrong types', async () => {
    const broken = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"do_lower_case": tru' }));
    expect(broken.message).toMatch(/tokenizer_config\.json: is not valid JSON/);
    const array = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '[]' }));
    expect(array.message).toMatch(/tokenizer_config\.json: must hold a JSON object/);
    const wrongType = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"do_lower_case": "yes"}' }));
    expect(wrongType.message).toMatch(/"do_lower_case" must be true or false, got "yes"/);
    const wrongAccents = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"strip_accents": 1}' }));
    expect(wrongAccents.message).toMatch(/"strip_accents" must be true, false or null/);
    const wrongToken = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'tokenizer_config.json': '{"unk_token": 5}' }));
    expect(wrongToken.message).toMatch(/"unk_token" must be a string/);
  });

  it('names special_tokens_map.json when it is invalid JSON', async () => {
    const error = await loadError(await modelDir({ 'vocab.txt': MINIMAL_VOCAB, 'special_tokens_map.json': 'nope' }));
    expect(error.message).toMatch(/special_tokens_map\.json: is not valid JSON/);
  });

  it('reports a vocab.txt that is a directory', async () => {
    const dir = await modelDir({});
    await mkdir(join(dir, 'vocab.txt'));
    expect((await loadError(dir)).message).toMatch(/vocab\.txt: is a directory/);
  });
});
