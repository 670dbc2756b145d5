/**
 * GET /openapi.json (generated from the route schemas), GET /docs (a self-contained HTML page
 * rendered from that same document; no CDN, so it works offline and under strict CSP) and GET /,
 * the Playground page.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { playgroundRoutes } from '../../playground/index.js';
import { newRouter, type Service } from '../service.js';

/** The generated OpenAPI document, as far as the docs page reads it. */
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation | undefined> | undefined>;
  components?: { schemas?: Record<string, unknown> };
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

function renderOperation(path: string, method: string, op: Operation): HtmlEscapedString | Promise<HtmlEscapedString> {
  const id = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-');
  const body = op.requestBody?.content?.['application/json']?.schema;
  const responses = Object.entries(op.responses ?? {});
  return html`<section id="${id}">
  <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
  ${op.summary ? html`<p><strong>${op.summary}</strong></p>` : ''}
  ${op.description ? html`<p>${op.description}</p>` : ''}
  ${op.parameters?.length ? html`<p>Parameters: ${op.parameters.map((p) => html`<code>${p.name}</code> (${p.in}) `)}</p>` : ''}
  ${body ? html`<details open><summary>Request body (application/json)</summary><pre>${JSON.stringify(body, null, 2)}</pre></details>` : ''}
  <table><tr><th>Status</th><th>Meaning</th></tr>${responses.map(([status, r]) => html`<tr><td>${status}</td><td>${r.description ?? ''}</td></tr>`)}</table>
</section>`;
}

export function renderDocsPage(doc: OpenApiDocument): HtmlEscapedString | Promise<HtmlEscapedString> {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item?.[m]).map((m) => ({ path, method: m, op: item![m]! })),
  );
  const schemas = Object.entries(doc.components?.schemas ?? {});
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${doc.info.title} ${doc.info.version} - API</title>
<style>${raw(`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f5f5f5;padding:.75rem;overflow:auto;max-height:24rem}
section{border-top:1px solid #ddd;padding:.5rem 0}.method{display:inline-block;min-width:3.5rem;padding:0 .4rem;border-radius:3px;color:#fff;text-align:center}
.get{background:#2b7de9}.post{background:#1f9d55}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .6rem;text-align:left}`)}</style>
</head><body>
<h1>${doc.info.title} <small>${doc.info.version}</small></h1>
<p>${doc.info.description ?? ''}</p>
<p>Machine-readable: <a href="/openapi.json"><code>/openapi.json</code></a> (OpenAPI 3.0). Errors always have the OpenAI shape
<code>{"error": {"message", "type", "param", "code"}}</code>; every response carries <code>x-request-id</code>.</p>
<h2>Routes</h2>
<ul>${operations.map(({ path, method, op }) => html`<li><a href="#${`${method}-${path}`.replace(/[^A-Za-z0-9]+/g, '-')}"><code>${method.toUpperCase()} ${path}</code></a> ${op.summary ?? ''}</li>`)}</ul>
${operations.map(({ path, method, op }) => renderOperation(path, method, op))}
<h2>Schemas</h2>
${schemas.map(([name, schema]) => html`<details><summary><code>${name}</code></summary><pre>${JSON.stringify(schema, null, 2)}</pre></details>`)}
</body></html>`;
}

export function docsRouter(service: Service, document: () => OpenApiDocument) {
  const spec = createRoute({
    method: 'get',
    path: '/openapi.json',
    tags: ['Documentation'],
    summary: 'This OpenAPI document (no auth)',
    security: [],
    responses: { 200: { description: 'OpenAPI 3.0 document', content: { 'application/json': { schema: z.object({}).passthrough() } } } },
  });
  const page = createRoute({
    method: 'get',
    path: '/docs',
    tags: ['Documentation'],
    summary: 'Human-readable API documentation (no auth)',
    security: [],
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
  });
  // GET / is the Playground (the model card's widget); listed here so the API reference and
  // /openapi.json name every route. Open like /docs: the page asks for a key when the API does.
  const root = createRoute({
    method: 'get',
    path: '/',
    tags: ['Documentation'],
    summary: 'Playground: the model card widget as a web page (no auth)',
    security: [],
    responses: { 200: { description: 'HTML page', content: { 'text/html': { schema: z.string() } } } },
  });
  const playground = playgroundRoutes();
  return newRouter()
    .openapi(spec, (c) => c.json(document() as unknown as Record<string, never>, 200))
    .openapi(page, async (c) => c.html(await renderDocsPage(document()), 200))
    .openapi(root, (c) => playground.fetch(c.req.raw) as unknown as ReturnType<typeof c.html>);
}
