/** `corom upload-r2 --shards DTYPE`: which objects a layer-shard set uploads, and the refusals. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { edgeArtifactObjects } from '../../src/hub/r2-upload.js';
import { convertShards } from '../../src/store/shards.js';
import { FIXTURE_DIR } from '../helpers/fixture.js';

let withOrt: string;
let withoutOrt: string;

beforeAll(async () => {
  [withOrt, withoutOrt] = await Promise.all([mkdtemp(join(tmpdir(), 'corom-r2-shards-')), mkdtemp(join(tmpdir(), 'corom-r2-shards-noort-'))]);
  await convertShards(FIXTURE_DIR, withOrt, { dtype: 'int8', shards: 2, ortFormat: true });
  await convertShards(FIXTURE_DIR, withoutOrt, { dtype: 'int8', shards: 2 });
}, 60_000);

afterAll(async () => {
  await Promise.all([withOrt, withoutOrt].filter(Boolean).map((d) => rm(d, { recursive: true, force: true })));
});

describe('upload-r2 objects of a shard set', () => {
  it('lists every shard (.onnx and .ort) under its own name, with corom.json and the vocabulary', async () => {
    const objects = await edgeArtifactObjects(withOrt, 'models/corom-base/', { shards: 'int8' });
    expect(objects.map((o) => o.key)).toEqual([
      'models/corom-base/model.int8.shard1of2.onnx',
      'models/corom-base/model.int8.shard1of2.ort',
      'models/corom-base/model.int8.shard2of2.onnx',
      'models/corom-base/model.int8.shard2of2.ort',
      'models/corom-base/vocab.txt',
      'models/corom-base/corom.json',
    ]);
    expect(objects.every((o) => o.bytes > 0 && o.file.startsWith(withOrt))).toBe(true);
  });

  it('refuses a folder without that shard set, or without the ORT-format files', async () => {
    await expect(edgeArtifactObjects(withOrt, 'm', { shards: 'q4' })).rejects.toThrow(/has no q4 shard set \(has: int8\); convert with `corom convert SRC .* --dtype q4 --shards N --ort-format`/);
    await expect(edgeArtifactObjects(withoutOrt, 'm', { shards: 'int8' })).rejects.toThrow(/model\.int8\.shard1of2\.onnx: has no ORT-format copy/);
  });
});
