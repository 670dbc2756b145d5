/**
 * The Playground page markup (server-rendered with hono/jsx): the model card's widget -- a source
 * sentence, sentences to compare, the four examples, a Run button -- plus results and code
 * snippets; then the ranking view (query, passages, the ranker card's example, scores). The script (client/, bundled) fills in models, rows and results.
 */
import type { FC } from 'hono/jsx';
import { raw } from 'hono/html';
import { PLAYGROUND_IDS as ID } from './ids.js';
import { MODEL_CARD_EXAMPLES, RANKING_CARD_EXAMPLE } from './examples.js';

export interface PageAssets {
  css: string;
  script: string;
}

const SNIPPETS = [
  { id: ID.snippetCurl, title: 'curl', note: 'POST /v1/sentence-embedding，与 pipeline 输出相同' },
  { id: ID.snippetOpenai, title: 'OpenAI Node 客户端', note: 'POST /v1/embeddings（默认返回单位长度向量）' },
  { id: ID.snippetLangchain, title: 'LangChain（CoromEmbeddings）', note: 'POST /v1/embeddings' },
] as const;

const Page: FC<{ assets: PageAssets }> = ({ assets }) => (
  <html lang="zh-CN">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>coROM 中文句向量 · Playground</title>
      <meta name="description" content="coROM 中文句向量模型在线试用：计算句子向量与相似度分数" />
      {/* No favicon request: with API keys on it would be a 401 in the console. */}
      <link rel="icon" href="data:," />
      <style>{raw(assets.css)}</style>
    </head>
    <body>
      <main>
        <header>
          <h1>coROM 中文句向量 Playground</h1>
          <nav aria-label="文档">
            <a href="/docs">API 文档</a> · <a href="/openapi.json">OpenAPI</a>
          </nav>
        </header>
        <p class="pg-lead">
          输入一个源句子和若干待比较的句子：服务返回每个句子的向量（最后一层 [CLS]，未归一化）和源句子与每个句子的点积分数，
          与 ModelScope 模型卡上的 sentence-embedding pipeline 相同。
        </p>
        <noscript>
          <p class="pg-error">
            此页面需要 JavaScript。也可以直接调用 API，见 <a href="/docs">API 文档</a>。
          </p>
        </noscript>

        <form id={ID.form} novalidate>
          <div class="pg-field">
            <label for={ID.model}>模型</label>
            <select id={ID.model} name="model">
              <option value="">加载中…</option>
            </select>
          </div>

          <fieldset>
            <legend class="pg-legend">模型卡示例</legend>
            <div class="pg-examples" id={ID.examples}>
              {MODEL_CARD_EXAMPLES.map((example, index) => (
                <button type="button" class="pg-button" data-example={String(index)} aria-pressed="false" title={example.source}>
                  {example.label}
                </button>
              ))}
            </div>
          </fieldset>

          <div class="pg-field">
            <label for={ID.source}>
              源句子 <span class="pg-hint">source_sentence</span>
            </label>
            <textarea id={ID.source} name="source_sentence" rows={2} required></textarea>
          </div>

          <fieldset>
            <legend class="pg-legend">
              待比较的句子 <span class="pg-hint">sentences_to_compare</span>
            </legend>
            <ol id={ID.compare} class="pg-rows"></ol>
            <button type="button" id={ID.add} class="pg-button">
              ＋ 添加句子
            </button>
          </fieldset>

          <div id={ID.keyBox} class="pg-key-box" hidden>
            <label for={ID.key} class="pg-legend">
              API Key <span class="pg-hint">服务启用了鉴权（HTTP 401）。Key 只保存在本标签页的 sessionStorage 中，关闭标签页即清除。</span>
            </label>
            <div class="pg-key-row">
              <input id={ID.key} type="password" autocomplete="off" spellcheck={false} />
              <button type="button" id={ID.keySave} class="pg-button">
                保存并重试
              </button>
              <button type="button" id={ID.keyForget} class="pg-button">
                清除
              </button>
            </div>
          </div>

          <div class="pg-actions">
            <button type="submit" id={ID.run} class="pg-button pg-primary">
              运行
            </button>
            <span class="pg-hint">在文本框中按 Ctrl+Enter / ⌘+Enter 也可运行</span>
          </div>
        </form>

        <p id={ID.status} class="pg-status" role="status" aria-live="polite"></p>
        <div id={ID.error} class="pg-error" role="alert" hidden></div>

        <section id={ID.results} aria-labelledby="pg-results-title">
          <h2 id="pg-results-title">结果</h2>
          <p id={ID.summary} aria-live="polite">
            点击“运行”后，这里按分数从高到低列出待比较的句子。
          </p>
          <dl id={ID.meta} class="pg-meta"></dl>
          <ol id={ID.ranking} class="pg-ranking"></ol>
          <div id={ID.vectors} class="pg-scroll"></div>
        </section>

        <section aria-labelledby="pg-code-title">
          <h2 id="pg-code-title">代码</h2>
          <p>用同样的输入调用服务：</p>
          {SNIPPETS.map((snippet) => (
            <div class="pg-snippet">
              <div class="pg-snippet-head">
                <h3>
                  {snippet.title} <span class="pg-hint">{snippet.note}</span>
                </h3>
                <button type="button" class="pg-button" data-copy={snippet.id} data-label={snippet.title}>
                  复制
                </button>
              </div>
              <pre tabindex={0} aria-label={`${snippet.title} 代码`}>
                <code id={snippet.id}></code>
              </pre>
            </div>
          ))}
        </section>

        <section aria-labelledby="pg-rank-title">
          <h2 id="pg-rank-title">段落排序（cross-encoder）</h2>
          <p class="pg-lead">
            用排序模型（如 coROM passage-ranking）同时读入查询和每个段落，给出 0 到 1 的相关性分数（logit 的 sigmoid），与
            ModelScope 的 text-ranking pipeline 相同：POST /v1/text-ranking。每对输入按 longest_first 截断到 128 个词元。
          </p>
          <form id={ID.rankForm} novalidate>
            <div class="pg-field">
              <label for={ID.rankModel}>排序模型</label>
              <select id={ID.rankModel} name="model">
                <option value="">加载中…</option>
              </select>
            </div>
            <div class="pg-examples">
              <button type="button" id={ID.rankExample} class="pg-button" aria-pressed="false" title={RANKING_CARD_EXAMPLE.query}>
                {RANKING_CARD_EXAMPLE.label}
              </button>
            </div>
            <div class="pg-field">
              <label for={ID.rankQuery}>
                查询 <span class="pg-hint">source_sentence</span>
              </label>
              <textarea id={ID.rankQuery} name="source_sentence" rows={2} required></textarea>
            </div>
            <div class="pg-field">
              <label for={ID.rankPassages}>
                段落 <span class="pg-hint">sentences_to_compare，每行一个</span>
              </label>
              <textarea id={ID.rankPassages} name="sentences_to_compare" rows={6} required></textarea>
            </div>
            <div class="pg-actions">
              <button type="submit" id={ID.rankRun} class="pg-button pg-primary">
                排序
              </button>
            </div>
          </form>
          <div id={ID.rankResults} hidden>
            <p id={ID.rankSummary} aria-live="polite"></p>
            <dl id={ID.rankMeta} class="pg-meta"></dl>
            <ol id={ID.rankList} class="pg-ranking"></ol>
          </div>
        </section>
      </main>
      <script>{raw(assets.script)}</script>
    </body>
  </html>
);

/** The whole page as an HTML document string. */
export async function renderPlaygroundPage(assets: PageAssets): Promise<string> {
  return `<!doctype html>${await (<Page assets={assets} />).toString()}`;
}
