/**
 * Bad model files and bad input lines: one clear line naming the file or line, a non-zero exit,
 * and no stack trace unless --debug.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeRandomBert } from '../../scripts/lib/random-bert.js';
import { runCli } from '../helpers/cli.js';
import { FIXTURE_DIR, convertedFixture } from '../helpers/fixture.js';

async function fixtureCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'corom-bad-'));
  await cp(FIXTURE_DIR, dir, { recursive: true });
  return dir;
}

/** A pickle that would call os.system if a real unpickler ran it. */
function maliciousCheckpoint(): Uint8Array {
  const enc = new TextEncoder();
  const cmd = enc.encode('echo pwned');
  const pkl = new Uint8Array([0x80, 0x02, 0x63, ...enc.encode('os\nsystem\n'), 0x28, 0x58, cmd.length, 0, 0, 0, ...cmd, 0x74, 0x52, 0x2e]);
  return zipSync({ 'archive/data.pkl': [pkl, { level: 0 }], 'archive/version': [enc.encode('3\n'), { level: 0 }] });
}

interface Case {
  name: string;
  prepare: (dir: string) => Promise<void>;
  message: RegExp;
}

const CONVERT_CASES: Case[] = [
  { name: 'missing config.json', prepare: (d) => rm(join(d, 'config.json')), message: /config\.json: file not found/ },
  { name: 'missing vocab.txt', prepare: (d) => rm(join(d, 'vocab.txt')), message: /vocab\.txt: file not found/ },
  { name: 'missing weights', prepare: (d) => rm(join(d, 'pytorch_model.bin')), message: /no weights found \(expected model\.safetensors or pytorch_model\.bin\)/ },
  {
    name: 'truncated checkpoint',
    prepare: async (d) => {
      const bytes = await readFile(join(d, 'pytorch_model.bin'));
      await writeFile(join(d, 'pytorch_model.bin'), bytes.subarray(0, bytes.length >> 1));
    },
    message: /pytorch_model\.bin: truncated or corrupt zip archive/,
  },
  {
    name: 'corrupt checkpoint (not a zip)',
    prepare: (d) => writeFile(join(d, 'pytorch_model.bin'), 'this is not a checkpoint'),
    message: /pytorch_model\.bin: not a PyTorch zip checkpoint/,
  },
  {
    name: 'legacy pickle checkpoint',
    prepare: (d) => writeFile(join(d, 'pytorch_model.bin'), new Uint8Array([0x80, 0x02, 0x8a, 0x0a])),
    message: /legacy \(pre-1\.6, non-zip\) PyTorch format is not supported/,
  },
  {
    name: 'checkpoint whose pickle calls os.system',
    prepare: (d) => writeFile(join(d, 'pytorch_model.bin'), maliciousCheckpoint()),
    message: /refusing to load: the checkpoint references os\.system/,
  },
  {
    name: 'unknown architecture',
    prepare: async (d) => {
      const c = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
      await writeFile(join(d, 'config.json'), JSON.stringify({ ...c, model_type: 'gpt2', architectures: ['GPT2Model'] }));
    },
    message: /config\.json: unsupported architecture \(model_type "gpt2"\)/,
  },
  { name: 'config.json not JSON', prepare: (d) => writeFile(join(d, 'config.json'), '{"hidden_size": 32,'), message: /config\.json: invalid JSON/ },
  {
    name: 'config shape disagrees with the weights',
    prepare: async (d) => {
      const c = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
      await writeFile(join(d, 'config.json'), JSON.stringify({ ...c, intermediate_size: 128 }));
    },
    message: /tensor bert\.encoder\.layer\.0\.intermediate\.dense\.weight has shape \[64,32\] but config\.json implies \[128,32\]/,
  },
  {
    name: 'missing tensor',
    prepare: async (d) => {
      const c = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
      await writeFile(join(d, 'config.json'), JSON.stringify({ ...c, num_hidden_layers: 3 }));
    },
    message: /missing tensor bert\.encoder\.layer\.2\.attention\.self\.query\.weight/,
  },
];

describe('corom convert on bad model folders', () => {
  for (const c of CONVERT_CASES) {
    it(`${c.name}: one clear line, non-zero exit`, async () => {
      const dir = await fixtureCopy();
      await c.prepare(dir);
      const r = await runCli(['convert', dir, join(dir, 'out')]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a truncated safetensors file names the tensor', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corom-bad-st-'));
    await writeRandomBert(dir, { vocabSize: 21128, hiddenSize: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxPositions: 16 }, { vocabFile: join(FIXTURE_DIR, 'vocab.txt') });
    const bytes = await readFile(join(dir, 'model.safetensors'));
    await writeFile(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 100));
    const r = await runCli(['convert', dir, join(dir, 'out')]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/model\.safetensors: tensor bert\.\S+: data runs past the end of the file \(truncated\)/);
  });
});

describe('bad vocabularies and input lines', () => {
  let converted: string;
  beforeAll(async () => {
    converted = await convertedFixture('fp32');
  });

  it('a vocab without [CLS] is refused, naming the file', async () => {
    const dir = await fixtureCopy();
    const vocab = (await readFile(join(dir, 'vocab.txt'), 'utf8')).replace('[CLS]\n', '[NOT_CLS]\n');
    await writeFile(join(dir, 'vocab.txt'), vocab);
    const r = await runCli(['tokenize', '--model', dir], '"你好"\n');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/vocab\.txt.*\[CLS\]/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a non-JSON stdin line is named by its number; lines before it are already written', async () => {
    const r = await runCli(['tokenize', '--model', converted], '"一"\n"二"\nnot json\n"四"\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('corom tokenize: stdin line 3: not valid JSON ("not json")\n');
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('embed: a JSON line that is not a string', async () => {
    const r = await runCli(['embed', '--model', converted], '"一"\n{"text": "二"}\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('corom embed: stdin line 2: expected a JSON string, got an object\n');
  });

  it('pipeline: input without source_sentence', async () => {
    const r = await runCli(['pipeline', '--model', converted], '{"sentences_to_compare": ["a"]}');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('corom pipeline: stdin: "source_sentence" is required\n');
  });

  it('usage errors exit 2: unknown flag, bad dtype, missing --model, unknown command', async () => {
    expect(await runCli(['embed', '--model', converted, '--fast'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/Unknown option '--fast'/) });
    expect(await runCli(['embed', '--model', converted, '--dtype', 'fp16'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/--dtype must be one of fp32, int8, q4 \(got 'fp16'\)/) });
    expect(await runCli(['embed'])).toMatchObject({ code: 2, stderr: 'corom embed: missing --model DIR\n' });
    expect(await runCli(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringMatching(/unknown command 'frobnicate'/) });
  });

  it('a model folder that does not exist', async () => {
    const r = await runCli(['embed', '--model', '/nonexistent/corom'], '"x"\n');
    expect(r).toMatchObject({ code: 3, stderr: 'corom embed: /nonexistent/corom: model folder not found\n' });
  });

  it('a corrupt ONNX file in a converted folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corom-bad-onnx-'));
    await cp(converted, dir, { recursive: true });
    const bytes = await readFile(join(dir, 'model.fp32.onnx'));
    await writeFile(join(dir, 'model.fp32.onnx'), bytes.subarray(0, 5000));
    const r = await runCli(['embed', '--model', dir], '"x"\n');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/model\.fp32\.onnx: onnxruntime cannot load it .*corrupt or truncated/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('the installed binary prints no stack trace without --debug, and one with it', async () => {
    const run = promisify(execFile);
    const bin = join(process.cwd(), 'dist/src/cli/main.js');
    type Failure = { code?: number; stderr: string };
    const plain: Failure = await run(process.execPath, [bin, 'embed', '--model', '/nonexistent/x']).catch((e: Failure) => e);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toBe('corom embed: /nonexistent/x: model folder not found\n');
    const debug: Failure = await run(process.execPath, [bin, 'embed', '--model', '/nonexistent/x', '--debug']).catch((e: Failure) => e);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});
