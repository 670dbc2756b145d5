/** POST /tokenize: what the model sees for a text (TEI-like request). */
import { createRoute } from '@hono/zod-openapi';
import { errorResponses, newRouter, type Service } from '../service.js';

export function tokenizeRouter(service: Service) {
  const { TokenizeRequest, TokenizeResponse } = service.schemas;
  const route = createRoute({
    method: 'post',
    path: '/tokenize',
    tags: ['Tokenizer'],
    summary: 'Token ids and tokens of texts',
    description: 'Complete sequences as embedded: [CLS] ... [SEP], truncated to the model max length. Models that take text only answer 400.',
    request: { body: { required: true, content: { 'application/json': { schema: TokenizeRequest } } } },
    responses: {
      200: { description: 'One entry per input', content: { 'application/json': { schema: TokenizeResponse } } },
      ...errorResponses(400, 401, 404, 413, 415, 503),
    },
  });

  return newRouter().openapi(route, (c) => {
    const body = c.req.valid('json');
    const runner = service.models.get('embedding', body.model ?? undefined);
    const texts = typeof body.inputs === 'string' ? [body.inputs] : body.inputs;
    const data = runner.tokenize(texts, 'model').map((t, index) => ({ index, ids: Array.from(t.ids), tokens: t.tokens }));
    const tokens = data.reduce((sum, d) => sum + d.ids.length, 0);
    return c.json({ model: runner.id, data, usage: { prompt_tokens: tokens, total_tokens: tokens } }, 200);
  });
}
