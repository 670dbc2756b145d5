/** POST /v1/embeddings: the OpenAI embeddings contract. */
import { createRoute } from '@hono/zod-openapi';
import { invalidParam } from '../api-error.js';
import { answeredBy, errorResponses, newRouter, submitOptions, type Service } from '../service.js';
import { shapeVector, toBase64Floats, toJsonFloats } from '../vectors.js';

export function embeddingsRouter(service: Service) {
  const { EmbeddingRequest, EmbeddingResponse } = service.schemas;
  const route = createRoute({
    method: 'post',
    path: '/v1/embeddings',
    tags: ['OpenAI-compatible'],
    summary: 'Embed texts or token ids (OpenAI contract)',
    description:
      'Unit-length vectors by default (`normalize: false` for the raw [CLS] vector). Long inputs are truncated to the model max length; ' +
      '`usage` counts tokens after truncation, [CLS] and [SEP] included.',
    request: { body: { required: true, content: { 'application/json': { schema: EmbeddingRequest } } } },
    responses: {
      200: { description: 'One embedding per input, in input order', content: { 'application/json': { schema: EmbeddingResponse } } },
      ...errorResponses(400, 401, 404, 413, 415, 429, 500, 503),
    },
  });

  return newRouter().openapi(route, async (c) => {
    const body = c.req.valid('json');
    const runner = service.models.get('embedding', body.model ?? undefined);
    const hidden = runner.model.info.dimensions;
    if (body.dimensions != null && body.dimensions > hidden) {
      throw invalidParam('dimensions', `dimensions must be an integer between 1 and ${hidden} for model '${runner.id}', got ${body.dimensions}`);
    }
    const submit = submitOptions(service, c);
    const input = body.input;
    const result =
      typeof input === 'string'
        ? await runner.embedTexts([input], submit)
        : typeof input[0] === 'string'
          ? await runner.embedTexts(input as string[], submit)
          : typeof input[0] === 'number'
            ? await runner.embedTokenIds([input as number[]], { name: 'input', nested: false }, submit)
            : await runner.embedTokenIds(input as number[][], { name: 'input', nested: true }, submit);

    answeredBy(c, runner.id, result.backends);
    const shape = { dimensions: body.dimensions ?? undefined, normalize: body.normalize !== false };
    const encode = body.encoding_format === 'base64' ? toBase64Floats : toJsonFloats;
    const tokens = result.tokenCounts.reduce((a, b) => a + b, 0);
    return c.json(
      {
        object: 'list' as const,
        data: result.vectors.map((vector, index) => ({ object: 'embedding' as const, index, embedding: encode(shapeVector(vector, shape)) })),
        model: runner.id,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      },
      200,
    );
  });
}
