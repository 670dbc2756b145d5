/**
 * A Cloudflare Worker using corom-edge/langchain in remote mode (bundled by wrangler, run in
 * workerd by workerd.test.ts). POST {texts, query} -> the vectors and rerank results it got from
 * the corom server at env.COROM_URL, and what in-process mode says in a Worker.
 */
import { CoromEmbeddings, CoromReranker } from '../../integrations/langchain/index.js';

interface Env {
  COROM_URL: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const { texts, query } = (await request.json()) as { texts: string[]; query: string };
    const embeddings = new CoromEmbeddings({ baseUrl: env.COROM_URL, maxRetries: 0 });
    const vectors = await embeddings.embedDocuments(texts);
    const ranked = await new CoromReranker({ baseUrl: env.COROM_URL, maxRetries: 0 }).rerank(texts, query, { topN: 3 });
    const inProcess = await new CoromEmbeddings({ modelPath: '/models/corom' }).embedQuery(query).then(
      () => 'unexpectedly worked',
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    return Response.json({ mode: embeddings.mode, vectors, ranked, inProcess });
  },
};
