import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_NAME, KNOWN_MODELS, findKnownModel } from '../../models/registry.js';
import { UsageError } from '../../src/errors.js';
import { resolveHubUrl, resolveModelRef } from '../../src/hub/fetch-model.js';
import { modelCachePaths } from '../../src/hub/paths.js';
import { createProgress, formatBytes } from '../../src/hub/progress.js';
import { retryPolicyFrom } from '../../src/hub/retry.js';
import { backoffDelay } from '../../src/retry.js';
import { memoryStream } from './fake-hub.js';

describe('model registry', () => {
  it('knows corom-base by short name, iic/ id and damo/ alias', () => {
    const base = findKnownModel(DEFAULT_MODEL_NAME)!;
    expect(base.hubId).toBe('iic/nlp_corom_sentence-embedding_chinese-base');
    expect(findKnownModel('damo/nlp_corom_sentence-embedding_chinese-base')).toBe(base);
    expect(findKnownModel('IIC/nlp_corom_sentence-embedding_chinese-base')).toBe(base);
    expect(base).toMatchObject({ dimensions: 768, hidden: 768, layers: 12, maxLength: 128, pooling: 'cls', license: 'Apache-2.0' });
    expect(findKnownModel('corom-tiny')!.hubId).toBe('iic/nlp_corom_sentence-embedding_chinese-tiny');
    expect(findKnownModel('nope')).toBeUndefined();
  });

  it('has unique names and ids', () => {
    const keys = KNOWN_MODELS.flatMap((m) => [m.name, m.hubId, ...m.aliases]);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('resolves model references and rejects junk', () => {
    expect(resolveModelRef('corom-base').candidates).toEqual([
      'iic/nlp_corom_sentence-embedding_chinese-base',
      'damo/nlp_corom_sentence-embedding_chinese-base',
    ]);
    expect(resolveModelRef('me/my-bert')).toMatchObject({ id: 'me/my-bert', hubId: 'me/my-bert', candidates: ['me/my-bert'] });
    for (const bad of ['../etc', 'a/../b', 'a/b/c', 'corom base', '']) expect(() => resolveModelRef(bad), bad).toThrow(UsageError);
    expect(() => modelCachePaths('/tmp', '../x')).toThrow(UsageError);
  });

  it('takes the hub URL from the flag, then COROM_HUB_URL, then ModelScope', () => {
    expect(resolveHubUrl({})).toBe('https://www.modelscope.cn');
    expect(resolveHubUrl({ COROM_HUB_URL: 'http://mirror.local:8080/' })).toBe('http://mirror.local:8080');
    expect(resolveHubUrl({ COROM_HUB_URL: 'http://mirror.local' }, 'https://hf-mirror.com')).toBe('https://hf-mirror.com');
    expect(() => resolveHubUrl({ COROM_HUB_URL: 'not a url' })).toThrow(/COROM_HUB_URL: 'not a url' is not a URL/);
  });
});

describe('retry policy', () => {
  it('reads its knobs from the environment and backs off exponentially, capped', () => {
    const policy = retryPolicyFrom({ COROM_HUB_RETRIES: '2', COROM_HUB_BACKOFF_MS: '10', COROM_HUB_TIMEOUT_MS: '1500' });
    expect(policy).toMatchObject({ retries: 2, baseDelayMs: 10, maxDelayMs: 160, stallTimeoutMs: 1500 });
    const delays = [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy));
    expect(delays[0]).toBeGreaterThanOrEqual(8);
    expect(delays[0]).toBeLessThanOrEqual(12);
    expect(delays[3]).toBeGreaterThanOrEqual(64);
    expect(Math.max(...delays)).toBeLessThanOrEqual(192);
    expect(() => retryPolicyFrom({ COROM_HUB_RETRIES: 'many' })).toThrow(UsageError);
  });
});

describe('progress output', () => {
  it('prints periodic lines off a terminal, not one per chunk', () => {
    const stream = memoryStream();
    const progress = createProgress(stream, 'auto', { intervalMs: 60_000 });
    progress.begin('pytorch_model.bin', 400 * 1024 * 1024, 0);
    for (let i = 0; i < 10_000; i++) progress.advance(4096);
    progress.end();
    const lines = stream.text().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^downloading pytorch_model\.bin \(400 MiB\)$/), expect.stringMatching(/^ {2}pytorch_model\.bin: 39.1 MiB in /)]);
  });

  it('formats sizes', () => {
    expect(formatBytes(436)).toBe('436 B');
    expect(formatBytes(409_000_000)).toBe('390 MiB');
    expect(formatBytes(2_859_753)).toBe('2.7 MiB');
  });
});
