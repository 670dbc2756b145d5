/**
 * The Worker serves the same Playground as `corom serve`: the page at / in workerd (bundled by
 * wrangler from worker/index.ts, as `wrangler deploy` does) inlines the committed client bundle,
 * and its CSP admits that script by hash. No model is needed for the page: the bucket is empty.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLAYGROUND_CLIENT_JS } from '../../src/playground/client-bundle.generated.js';
import { PLAYGROUND_IDS } from '../../src/playground/index.js';
import { startWorkerd, type WorkerdWorker } from '../worker/workerd-harness.js';

let worker: WorkerdWorker;

beforeAll(async () => {
  worker = await startWorkerd({ vars: { MODEL_ID: 'absent', MODEL_PREFIX: 'nothing-here/', API_KEYS: 'playground-key' } });
}, 90_000);

afterAll(async () => {
  await worker?.dispose();
});

describe('the Playground in workerd', () => {
  it('serves / without a key, with the bundled client inline and admitted by its CSP hash', async () => {
    const page = await worker.get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
    const html = page.body as string;
    expect(html).toContain(`<form id="${PLAYGROUND_IDS.form}"`);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
    expect(scripts).toEqual([PLAYGROUND_CLIENT_JS]);
    const hash = createHash('sha256').update(PLAYGROUND_CLIENT_JS, 'utf8').digest('base64');
    expect(page.headers.get('content-security-policy')).toContain(`script-src 'sha256-${hash}'`);
    // The API behind it still asks for the key the page then prompts for.
    expect((await worker.get('/v1/models')).status).toBe(401);
  });
});
