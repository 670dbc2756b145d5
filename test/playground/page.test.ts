/**
 * The Playground route without a browser: the examples are the model card's, the page is complete
 * and self-contained, its CSP admits exactly its own inline script and style, and it stays
 * runtime-neutral for the Worker.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MODEL_CARD_EXAMPLES, PLAYGROUND_IDS, playgroundRoutes, renderPlayground } from '../../src/playground/index.js';
import { EXPECTED } from '../helpers/fixture.js';

const SRC_DIR = fileURLToPath(new URL('../../src/playground/', import.meta.url));

function inlineBlocks(html: string, tag: 'script' | 'style'): string[] {
  return [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

describe('Playground examples', () => {
  it('are the first four fixture cases (the model card widget examples), texts verbatim', () => {
    expect(MODEL_CARD_EXAMPLES.map((e) => e.label)).toEqual(['示例1', '示例2', '示例3', '示例4']);
    MODEL_CARD_EXAMPLES.forEach((example, i) => {
      const fixture = EXPECTED[i];
      expect(example.id).toBe(`example-${i + 1}`);
      expect(fixture.name).toBe(example.id);
      expect([example.source]).toEqual(fixture.source_sentence);
      expect(example.compare).toEqual(fixture.sentences_to_compare);
    });
  });
});

describe('GET / (playgroundRoutes)', () => {
  it('serves the page as HTML with a CSP that admits exactly its inline script and style', async () => {
    const response = await playgroundRoutes().request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i);
    const html = await response.text();
    expect(html.startsWith('<!doctype html><html lang="zh-CN">')).toBe(true);

    const scripts = inlineBlocks(html, 'script');
    const styles = inlineBlocks(html, 'style');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src 'sha256-${sha256(scripts[0])}'`);
    expect(csp).toContain(`style-src 'sha256-${sha256(styles[0])}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    // Nothing loaded from elsewhere: the page works offline.
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//);
    // The script compiles (syntax) -- it runs in the browser test.
    expect(() => new Function(scripts[0])).not.toThrow();
  });

  it('holds the widget controls, labelled, with the four examples as buttons and a link to /docs', async () => {
    const html = await (await playgroundRoutes().request('/')).text();
    for (const label of ['示例1', '示例2', '示例3', '示例4']) {
      expect(html).toMatch(new RegExp(`<button type="button" class="pg-button" data-example="\\d" aria-pressed="false" title="[^"]*">${label}</button>`));
    }
    expect(html).toContain('<a href="/docs">API 文档</a>');
    for (const id of [PLAYGROUND_IDS.model, PLAYGROUND_IDS.source, PLAYGROUND_IDS.key]) expect(html).toContain(`<label for="${id}"`);
    expect(html).toContain(`<button type="submit" id="${PLAYGROUND_IDS.run}"`);
    expect(html).toMatch(new RegExp(`id="${PLAYGROUND_IDS.status}"[^>]*aria-live="polite"`));
    expect(html).toMatch(new RegExp(`id="${PLAYGROUND_IDS.summary}"[^>]*aria-live="polite"`));
    expect(html).toMatch(new RegExp(`id="${PLAYGROUND_IDS.error}"[^>]*role="alert"`));
    // Every example text is in the bundled client as data (UTF-8, not \u escapes).
    const script = inlineBlocks(html, 'script')[0];
    for (const example of MODEL_CARD_EXAMPLES) {
      for (const text of [example.source, ...example.compare]) expect(script).toContain(text);
    }
    expect(script).not.toMatch(/<\/script|<!--/i);
  });

  it('answers a matching If-None-Match with 304 and only serves GET /', async () => {
    const routes = playgroundRoutes();
    const first = await routes.request('/');
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await routes.request('/', { headers: { 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
    expect((await routes.request('/', { method: 'POST' })).status).toBe(404);
    expect((await routes.request('/v1/models')).status).toBe(404);
  });

  it('renders the same page every time (static, rendered once per process)', async () => {
    const [a, b] = await Promise.all([renderPlayground(), renderPlayground()]);
    expect(a.html).toBe(b.html);
    expect(a.headers).toEqual(b.headers);
  });
});

describe('runtime neutrality (the Worker serves the same page)', () => {
  it('src/playground (server side and client) imports no Node built-ins', () => {
    const files = readdirSync(SRC_DIR, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(files.map((f) => f.name)).toContain('main.ts');
    for (const file of files) {
      const text = readFileSync(join(file.parentPath, file.name), 'utf8');
      expect(text, file.name).not.toMatch(/from ['"](node:|fs|path|os|crypto)['"/]/);
    }
  });
});
