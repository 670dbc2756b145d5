/**
 * The bundled client that the page inlines: it is current with its TypeScript sources, it is one
 * self-contained classic script, and it starts by looking up the page's elements.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { bundlePlaygroundClient, GENERATED_MODULE, generatedModule } from '../../scripts/build-playground.js';
import { PLAYGROUND_CLIENT_JS } from '../../src/playground/client-bundle.generated.js';
import { PLAYGROUND_IDS } from '../../src/playground/index.js';

describe('client-bundle.generated.ts', () => {
  it('matches what scripts/build-playground.ts builds from src/playground/client/ now (else: npm run build:playground)', async () => {
    const fresh = generatedModule(await bundlePlaygroundClient());
    expect(readFileSync(GENERATED_MODULE, 'utf8') === fresh, 'client-bundle.generated.ts is stale: run npm run build:playground').toBe(true);
  });

  it('is a classic script: no import/export, no require, nothing loaded from elsewhere', () => {
    expect(PLAYGROUND_CLIENT_JS).not.toMatch(/(^|[;}])\s*(import|export)\s*[{*\w]/);
    expect(PLAYGROUND_CLIENT_JS).not.toMatch(/\brequire\(/);
    expect(PLAYGROUND_CLIENT_JS).not.toMatch(/https?:\/\//);
  });

  it('runs on its own and fails clearly on a page without the Playground markup', () => {
    const asked: string[] = [];
    const document = {
      getElementById(id: string) {
        asked.push(id);
        return null;
      },
    };
    expect(() => runInNewContext(PLAYGROUND_CLIENT_JS, { document })).toThrow(`playground: element #${PLAYGROUND_IDS.model} is missing from the page`);
    expect(asked).toEqual([PLAYGROUND_IDS.model]);
  });
});
