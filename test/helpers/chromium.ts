/**
 * Headless Chromium (playwright-core driving the system's Chromium) for the Playground's browser
 * tests. Without a Chromium those tests are skipped LOUDLY; COROM_REQUIRE_BROWSER=1 turns the skip
 * into a failure (for CI).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { describe, it } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** Where the browser tests leave screenshots (and the snippets they run). */
export const ARTIFACTS = join(REPO, 'test-results');

const browserMissing = !existsSync(CHROMIUM);

/**
 * `describe(title, tests)` where there is a Chromium (or one is required); elsewhere a loud
 * warning and one skipped test saying that `what` did not run and how to get a Chromium.
 */
export function describeInChromium(what: string, title: string, tests: () => void): void {
  if (browserMissing && process.env.COROM_REQUIRE_BROWSER !== '1') {
    console.warn(
      `\n${'!'.repeat(100)}\n!!! ${what} SKIPPED: no Chromium at ${CHROMIUM}.\n` +
        `!!! Run scripts/install-chromium.sh (Debian: apt-get install -y chromium fonts-wqy-microhei curl) or set CHROMIUM_PATH.\n${'!'.repeat(100)}\n`,
    );
    it.skip(`${what} SKIPPED -- no Chromium at ${CHROMIUM} (run scripts/install-chromium.sh or set CHROMIUM_PATH)`, () => {});
    return;
  }
  describe(title, tests);
}

export interface ChromiumPage {
  browser: Browser;
  page: Page;
  /** Page errors and console errors as they come, for a test to expect none. */
  problems: string[];
}

/**
 * A desktop-sized (1280x900), zh-CN page in a fresh headless Chromium, 15 s per action, its errors
 * collected in `problems` (console errors matching `expectedErrors` left out); ARTIFACTS exists.
 */
export async function openChromiumPage(options: { expectedErrors?: RegExp } = {}): Promise<ChromiumPage> {
  if (browserMissing) throw new Error(`COROM_REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM}; run scripts/install-chromium.sh`);
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const problems: string[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !options.expectedErrors?.test(message.text())) problems.push(message.text());
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    return { browser, page, problems };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
