/**
 * The Playground: the model card's widget as a web page at `/`. Runtime-neutral (Web APIs only),
 * so the Node server and the Cloudflare Worker can both mount it:
 *
 *   app.route('/', playgroundRoutes());
 *
 * The page is static, so it is rendered once per process and served with an ETag. Its script is
 * the client (client/, TypeScript) bundled at build time by scripts/build-playground.ts into
 * client-bundle.generated.ts; the script and the style are inlined (with API keys on, only `/`
 * itself is open, so no extra asset route) and allowed by hash in a strict
 * Content-Security-Policy. The client talks to /v1/models and /v1/sentence-embedding on the same
 * origin only.
 */
import { Hono } from 'hono';
import { etag } from 'hono/etag';
import { renderPlaygroundPage } from './page.js';
import { PLAYGROUND_CLIENT_JS } from './client-bundle.generated.js';
import { PLAYGROUND_CSS } from './styles.js';

export { MODEL_CARD_EXAMPLES, RANKING_CARD_EXAMPLE, type PlaygroundExample } from './examples.js';
export { API_KEY_STORAGE, PLAYGROUND_IDS, PREVIEW_DIMENSIONS } from './ids.js';

export interface RenderedPlayground {
  html: string;
  /** Response headers: Content-Security-Policy and friends. */
  headers: Record<string, string>;
}

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The page and its headers (exported for tests and for hosts that are not Hono apps). */
export async function renderPlayground(): Promise<RenderedPlayground> {
  const script = PLAYGROUND_CLIENT_JS;
  const css = PLAYGROUND_CSS;
  const [scriptHash, styleHash] = await Promise.all([sha256Base64(script), sha256Base64(css)]);
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}'`,
    `style-src 'sha256-${styleHash}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return {
    html: await renderPlaygroundPage({ css, script }),
    headers: {
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Revalidate every time (cheap: 304 by ETag) so a new version shows up at once.
      'Cache-Control': 'no-cache',
    },
  };
}

/** A Hono sub-app serving GET `/` (and HEAD). Mount it at `/`. */
export function playgroundRoutes(): Hono {
  let rendered: Promise<RenderedPlayground> | undefined;
  const routes = new Hono();
  routes.get('/', etag(), async (c) => {
    rendered ??= renderPlayground().catch((error: unknown) => {
      rendered = undefined;
      throw error;
    });
    const page = await rendered;
    return c.html(page.html, 200, page.headers);
  });
  return routes;
}
