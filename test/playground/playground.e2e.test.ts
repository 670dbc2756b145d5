/**
 * Acceptance test of the Playground: headless Chromium against the real server (`corom serve`'s
 * runServer, API keys on, the tiny-bert fixture) on 127.0.0.1. It gives the page an API key after
 * the 401, clicks 示例4, runs it, and reads the scores from the page: they must equal
 * /v1/sentence-embedding's for the same input, fetched directly. The copy-paste snippets are run
 * too. Screenshots: test-results/playground.png (desktop) and test-results/playground-390.png.
 *
 * Needs Chromium (scripts/install-chromium.sh). Without one the test is skipped LOUDLY;
 * COROM_REQUIRE_BROWSER=1 turns that skip into a failure (for CI).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningServer } from '../../src/node/http-server.js';
import { MODEL_CARD_EXAMPLES, PLAYGROUND_IDS as ID } from '../../src/playground/index.js';
import { ARTIFACTS, describeInChromium, openChromiumPage, REPO } from '../helpers/chromium.js';
import { convertedFixture, cosine, EXPECTED, SCORE_REL_TOL } from '../helpers/fixture.js';
import { serveInProcess } from '../helpers/serve-in-process.js';

const API_KEY = 'playground-test-key';
const MODEL_ID = 'tiny-bert';
const EXAMPLE_4 = MODEL_CARD_EXAMPLES[3];
const run = promisify(execFile);

interface PipelineOutput {
  text_embedding: number[][];
  scores: number[];
}

describeInChromium('Playground e2e', 'Playground in headless Chromium against corom serve', () => {
  let server: RunningServer;
  let stopServer: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let consoleProblems: string[] = [];

  beforeAll(async () => {
    const model = await convertedFixture('fp32');
    ({ server, stop: stopServer } = await serveInProcess(['--model', model, '--model-id', MODEL_ID, '--dtype', 'fp32', '--host', '127.0.0.1', '--port', '0', '--api-key', API_KEY]));

    // Fail every test at once, with the fix, rather than each one by timeout.
    const root = await (await fetch(server.url)).text();
    if (!root.includes(`id="${ID.form}"`)) {
      throw new Error(
        `GET / is not the Playground (got ${JSON.stringify(root.slice(0, 80))}): mount it in createApp (src/http/app.ts) ` +
          "with app.route('/', playgroundRoutes()) before the other routers, and drop the JSON root route",
      );
    }

    // The 401s the test provokes on purpose are logged by Chromium as failed loads.
    ({ browser, page, problems: consoleProblems } = await openChromiumPage({ expectedErrors: /status of 401/ }));
  });

  afterAll(async () => {
    await browser?.close();
    await stopServer?.();
  });

  async function direct(path: string, body?: unknown, key: string = API_KEY): Promise<Response> {
    return fetch(new URL(path, server.url), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  it('serves the Playground at / without a key while the API asks for one', async () => {
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toContain(`id="${ID.form}"`);
    expect((await fetch(new URL('/v1/models', server.url))).status).toBe(401);
  });

  it('asks for the API key after a 401, shows the API error for a wrong key, and fills the models with the right one', async () => {
    await page.goto(server.url);
    const keyBox = page.locator(`#${ID.keyBox}`);
    const error = page.locator(`#${ID.error}`);
    await expect.poll(() => keyBox.isVisible()).toBe(true);
    await expect.poll(() => error.textContent()).toContain('HTTP 401');
    await expect.poll(() => page.evaluate((id) => document.activeElement?.id, ID.key)).toBe(ID.key);

    await page.fill(`#${ID.key}`, 'wrong-key');
    await page.press(`#${ID.key}`, 'Enter');
    await expect.poll(() => error.textContent()).toContain('Invalid API key');

    await page.fill(`#${ID.key}`, API_KEY);
    await page.click(`#${ID.keySave}`);
    await expect.poll(() => page.locator(`#${ID.model} option`).evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value))).toEqual([MODEL_ID]);
    expect(await error.isVisible()).toBe(false);
    // Kept for the tab only.
    const storage = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.values(localStorage) }));
    expect(storage).toEqual({ session: [API_KEY], local: [] });
  });

  it('示例4 + 运行 shows the same scores as /v1/sentence-embedding, ranked, with cosines, vectors, latency and backend', async () => {
    // Keyboard only: the examples are real buttons.
    await page.focus(`#${ID.examples} button:nth-of-type(4)`);
    await page.keyboard.press('Enter');
    expect(await page.inputValue(`#${ID.source}`)).toBe(EXAMPLE_4.source);
    const rows = await page.locator(`#${ID.compare} textarea`).evaluateAll((boxes) => boxes.map((b) => (b as HTMLTextAreaElement).value));
    expect(rows).toEqual(EXAMPLE_4.compare);

    await page.getByRole('button', { name: '运行' }).click();
    const hits = page.locator(`#${ID.ranking} > li`);
    await expect.poll(() => hits.count(), { timeout: 20_000 }).toBe(EXAMPLE_4.compare.length);

    const shown = await hits.evaluateAll((items) =>
      items.map((li) => ({
        index: Number((li as HTMLElement).dataset.index),
        score: Number((li as HTMLElement).dataset.score),
        cosine: Number((li as HTMLElement).dataset.cosine),
        text: li.querySelector('.pg-hit-text')?.textContent ?? '',
        scoreText: li.querySelector('.pg-score strong')?.textContent ?? '',
        cosineText: li.querySelector('.pg-cosine strong')?.textContent ?? '',
        bar: (li.querySelector('.pg-bar-fill') as HTMLElement | null)?.style.width ?? '',
      })),
    );

    const response = await direct('/v1/sentence-embedding', {
      model: MODEL_ID,
      input: { source_sentence: [EXAMPLE_4.source], sentences_to_compare: [...EXAMPLE_4.compare] },
    });
    expect(response.status).toBe(200);
    const expected = (await response.json()) as PipelineOutput;

    // Every sentence once, ranked by score, each showing the API's score and the cosine of the API's vectors.
    expect(shown.map((s) => s.index).sort()).toEqual([0, 1, 2, 3]);
    const ranked = expected.scores.map((score, index) => ({ score, index })).sort((a, b) => b.score - a.score);
    expect(shown.map((s) => s.index)).toEqual(ranked.map((r) => r.index));
    for (const hit of shown) {
      const score = expected.scores[hit.index];
      expect(hit.score).toBeCloseTo(score, 5);
      expect(hit.scoreText).toBe(score.toFixed(4));
      expect(hit.text).toBe(EXAMPLE_4.compare[hit.index]);
      const cos = cosine(expected.text_embedding[0], expected.text_embedding[hit.index + 1]);
      expect(hit.cosineText).toBe(cos.toFixed(4));
      expect(hit.cosine).toBeCloseTo(cos, 6);
      expect(parseFloat(hit.bar)).toBeCloseTo((Math.abs(score) / Math.max(...expected.scores.map(Math.abs))) * 100, 3);
    }
    // And they are the model card pipeline's numbers for this fixture.
    const reference = EXPECTED.find((c) => c.name === EXAMPLE_4.id)!;
    expected.scores.forEach((s, i) => expect(Math.abs(s - reference.scores[i])).toBeLessThanOrEqual(Math.abs(reference.scores[i]) * SCORE_REL_TOL));

    // First dimensions of each vector.
    const table = await page.locator(`#${ID.vectors} tbody tr`).evaluateAll((trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')),
    );
    expect(table).toHaveLength(1 + EXAMPLE_4.compare.length);
    table.forEach((cells, row) => {
      expect(cells.slice(1)).toEqual(expected.text_embedding[row].slice(0, 8).map((x) => x.toFixed(4)));
    });

    // Latency and the backend that answered.
    const meta = Object.fromEntries(
      await page.locator(`#${ID.meta} .pg-meta-item`).evaluateAll((items) =>
        items.map((item) => [item.querySelector('dt')?.textContent ?? '', item.querySelector('dd')?.textContent ?? '']),
      ),
    );
    const models = (await (await direct('/v1/models')).json()) as { data: Array<{ id: string; backend: string }> };
    expect(meta['模型']).toBe(MODEL_ID);
    expect(meta['后端']).toBe(models.data[0].backend);
    expect(meta['延迟']).toMatch(/^\d+ ms/);
    expect(meta['请求 ID']).toMatch(/^[0-9a-f-]{8,}$/);
    expect(await page.locator(`#${ID.summary}`).textContent()).toContain(`输入第 ${ranked[0].index + 1} 句`);

    await page.screenshot({ path: join(ARTIFACTS, 'playground.png'), fullPage: true });
  });

  it('gives curl, OpenAI-client and LangChain snippets that reproduce the same numbers when run', async () => {
    const curl = (await page.locator(`#${ID.snippetCurl}`).textContent()) ?? '';
    const curlRun = await run('bash', ['-c', curl], { env: { ...process.env, COROM_API_KEY: API_KEY }, timeout: 20_000 });
    const viaCurl = JSON.parse(curlRun.stdout) as PipelineOutput;
    const shown = await page.locator(`#${ID.ranking} > li`).evaluateAll((items) =>
      items.map((li) => ({ index: Number((li as HTMLElement).dataset.index), score: Number((li as HTMLElement).dataset.score), cosine: Number((li as HTMLElement).dataset.cosine) })),
    );
    const byIndex = shown.sort((a, b) => a.index - b.index);
    expect(viaCurl.scores).toHaveLength(byIndex.length);
    viaCurl.scores.forEach((s, i) => expect(s).toBeCloseTo(byIndex[i].score, 4));

    // The OpenAI snippet asks /v1/embeddings for unit vectors: its dot products are the page's cosines.
    const openai = (await page.locator(`#${ID.snippetOpenai}`).textContent()) ?? '';
    const scriptPath = join(ARTIFACTS, 'playground-openai-snippet.mjs'); // inside the repo, so `openai` resolves
    writeFileSync(scriptPath, openai);
    const openaiRun = await run(process.execPath, [scriptPath], { env: { ...process.env, COROM_API_KEY: API_KEY }, timeout: 20_000 });
    const dots = JSON.parse(openaiRun.stdout.replace(/\s+/g, '')) as number[];
    expect(dots).toHaveLength(byIndex.length);
    dots.forEach((d, i) => expect(d).toBeCloseTo(byIndex[i].cosine, 4));

    // The LangChain snippet imports the package's ./langchain export; run it against the source
    // of that export (tsx), so it needs no build.
    const exportsMap = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).exports as Record<string, unknown>;
    expect(exportsMap['./langchain']).toBeDefined();
    const langchain = (await page.locator(`#${ID.snippetLangchain}`).textContent()) ?? '';
    const specifier = "from 'corom-edge/langchain'";
    expect(langchain).toContain(specifier);
    const langchainPath = join(ARTIFACTS, 'playground-langchain-snippet.mjs');
    writeFileSync(langchainPath, langchain.replace(specifier, `from ${JSON.stringify(pathToFileURL(join(REPO, 'integrations/langchain/index.ts')).href)}`));
    const langchainRun = await run(process.execPath, ['--import', 'tsx', langchainPath], {
      cwd: REPO,
      env: { ...process.env, COROM_API_KEY: API_KEY },
      timeout: 30_000,
    });
    const langchainDots = JSON.parse(langchainRun.stdout.replace(/\s+/g, '')) as number[];
    expect(langchainDots).toHaveLength(byIndex.length);
    langchainDots.forEach((d, i) => expect(d).toBeCloseTo(byIndex[i].cosine, 4));
  });

  it('labels every control, and fits a 390 px phone screen without sideways scrolling', async () => {
    const unlabelled = await page.evaluate(() =>
      Array.from(document.querySelectorAll('input, textarea, select'))
        .filter((el) => (el as HTMLInputElement).labels?.length === 0 && !el.getAttribute('aria-label'))
        .map((el) => el.id || el.outerHTML.slice(0, 60)),
    );
    expect(unlabelled).toEqual([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-390.png'), fullPage: true });
    expect(consoleProblems).toEqual([]);
  });
});
