/**
 * Request and response schemas of every route. The same zod objects validate requests (through
 * @hono/zod-openapi) and generate /openapi.json and /docs, so the contract has one source.
 * Messages are predicates completed with the parameter path by the validation hook
 * ("input[2] must not be an empty string"), or full sentences starting with the path.
 */
import { z } from '@hono/zod-openapi';
import { hasTokenizableChar } from '../tokenizer/char-classes.js';
import { describeTextOrTokensProblem, NO_TOKENS, textListProblem, textOrTokensProblem } from './input-problems.js';

/** Type-error message that tells a missing field from a wrong one. */
function expected(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

const notTokenId = (issue: { input?: unknown }) => `must be a token id (a non-negative integer), got ${String(issue.input)}`;
const TokenId = z
  .number({ error: expected('a token id (a non-negative integer)') })
  .int({ error: notTokenId })
  .nonnegative({ error: notTokenId });

const NonEmptyText = z
  .string({ error: expected('a string') })
  .min(1, { error: 'must not be an empty string' })
  .refine(hasTokenizableChar, { error: NO_TOKENS });

/**
 * `schema` behind the linear checks of ./input-problems.ts, run on the raw body first: `check`
 * names the first problem of the body's list fields (item counts, element kinds, then each
 * element once), so zod never walks a huge or malformed array (item 1 of issue 14). zod then
 * validates what passed, and /openapi.json still documents `schema`.
 */
function checkedFirst<T extends z.ZodType>(schema: T, check: (body: Record<string, unknown>) => { field: string; message: string } | undefined) {
  return z.preprocess((body, ctx) => {
    if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
      const problem = check(body as Record<string, unknown>);
      if (problem) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.field], input: undefined });
    }
    return body;
  }, schema);
}

/** The first problem of the named list fields, each checked only when present. */
function firstProblem(checks: Array<[field: string, value: unknown, problem: (value: unknown) => string | undefined]>) {
  for (const [field, value, problem] of checks) {
    if (value === undefined) continue;
    const message = problem(value);
    if (message) return { field, message };
  }
  return undefined;
}

function textList(name: string, maxItems: number) {
  return z
    .array(NonEmptyText, { error: expected('an array of strings') })
    .min(1, { error: 'must not be an empty array' })
    .max(maxItems, { error: (issue) => `${name} has ${(issue.input as unknown[]).length} items; at most ${maxItems} are allowed per request, split it into several requests` });
}

const ModelField = z.string({ error: expected('a string naming a served model (see GET /v1/models)') }).min(1, { error: 'must not be empty' });

export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string().openapi({ example: "input[1] must not be an empty string" }),
      type: z.string().openapi({ example: 'invalid_request_error' }),
      param: z.string().nullable().openapi({ example: 'input[1]' }),
      code: z.string().nullable().openapi({ example: 'invalid_parameter' }),
    }),
  })
  .openapi('Error');

export const UsageSchema = z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }).openapi('Usage');

export function buildSchemas(maxInputs: number) {
  const EmbeddingInput = z
    .union(
      [
        NonEmptyText.openapi({ title: 'text', example: '吃完海鲜可以喝牛奶吗?' }),
        // Before the lists of texts: a union tries its options in order, and a long flat list of
        // ids should not first fail as texts element by element.
        z
          .array(TokenId)
          .min(1, { error: 'must not be an empty array' })
          .openapi({ title: 'token ids', example: [101, 1391, 102] }),
        textList('input', maxInputs).openapi({ title: 'texts' }),
        z
          .array(z.array(TokenId).min(1, { error: 'must not be an empty token-id array' }))
          .min(1, { error: 'must not be an empty array' })
          .max(maxInputs, { error: (issue) => `input has ${(issue.input as unknown[]).length} items; at most ${maxInputs} are allowed per request, split it into several requests` })
          .openapi({ title: 'token-id arrays' }),
      ],
      { error: (issue) => describeTextOrTokensProblem('input', issue.input, maxInputs) },
    )
    .openapi({
      description:
        `Text to embed: a string or up to ${maxInputs} strings, or token ids (one array: one input of any length within the body limit; or up to ${maxInputs} arrays). ` +
        'A text must hold something to tokenize (not only whitespace, control, zero-width or combining characters). ' +
        'Token ids must be within the vocabulary; they are wrapped as [CLS] ... [SEP] unless the array already starts with [CLS] / ends with [SEP]. ' +
        "Inputs longer than the model's max length are truncated, not rejected.",
    });

  const EmbeddingRequest = checkedFirst(
    z
      .object(
        {
          input: EmbeddingInput,
          model: ModelField.nullish().openapi({ description: 'A served model id; the default model when omitted.', example: 'corom-base' }),
          encoding_format: z
            .enum(['float', 'base64'], { error: "must be 'float' or 'base64'" })
            .nullish()
            .openapi({ description: "'float' (default): arrays of numbers. 'base64': little-endian float32 bytes, standard base64." }),
          dimensions: z
            .number({ error: 'must be an integer between 1 and the model dimensions' })
            .int({ error: 'must be an integer between 1 and the model dimensions' })
            .min(1, { error: 'must be an integer between 1 and the model dimensions' })
            .nullish()
            .openapi({ description: 'Keep the first N components, then re-normalize (unless normalize is false).' }),
          user: z.string({ error: 'must be a string' }).nullish().openapi({ description: 'Accepted for OpenAI compatibility; unused.' }),
          normalize: z
            .boolean({ error: 'must be true or false' })
            .nullish()
            .openapi({ description: 'Extension: false returns the raw [CLS] vector (the ModelScope pipeline output). Default true (unit length).' }),
        },
        { error: expected('a JSON object') },
      )
      .openapi('EmbeddingRequest'),
    (body) => firstProblem([['input', body.input, (v) => textOrTokensProblem('input', v, maxInputs)]]),
  );

  const EmbeddingResponse = z
    .object({
      object: z.literal('list'),
      data: z.array(
        z.object({
          object: z.literal('embedding'),
          index: z.number().int(),
          embedding: z.union([z.array(z.number()), z.string()]).openapi({ description: 'Numbers, or a base64 string for encoding_format=base64.' }),
        }),
      ),
      model: z.string(),
      usage: UsageSchema,
    })
    .openapi('EmbeddingResponse');

  const Model = z
    .object({
      id: z.string().openapi({ example: 'corom-base' }),
      object: z.literal('model'),
      created: z.number().int(),
      owned_by: z.string(),
      kind: z.enum(['embedding', 'rerank']).openapi({
        description:
          "What the model does. 'embedding': a bi-encoder (vectors; its /v1/rerank scores are cosines of query and document vectors). " +
          "'rerank': a cross-encoder (one relevance score per query-document pair; /v1/rerank, /v2/rerank and /v1/text-ranking only).",
      }),
      dimensions: z.number().int().optional().openapi({ description: 'Vector size (embedding models).' }),
      max_length: z.number().int(),
      backend: z.string(),
      dtype: z.string(),
      pooling: z.string().optional().openapi({ description: 'How vectors are pooled (embedding models).' }),
      hidden: z.number().int().optional().openapi({ description: 'Hidden size of the encoder (rerank models).' }),
      vocab_size: z.number().int(),
      accepts_token_ids: z.boolean(),
    })
    .openapi('Model');

  const ModelList = z.object({ object: z.literal('list'), data: z.array(Model) }).openapi('ModelList');

  const Document = z.union([
    NonEmptyText,
    z.object({ text: NonEmptyText }, { error: 'must be a string or an object {"text": string}' }),
  ], {
    error: (issue) => (issue.input === '' ? 'must not be an empty string' : 'must be a string or an object {"text": string}'),
  });

  const RerankRequest = z
    .object(
      {
        model: ModelField.nullish(),
        query: NonEmptyText.openapi({ example: '吃完海鲜可以喝牛奶吗?' }),
        documents: z
          .array(Document, { error: expected('an array of strings or {"text": string} objects') })
          .min(1, { error: 'must not be an empty array' })
          .max(maxInputs, { error: (issue) => `documents has ${(issue.input as unknown[]).length} items; at most ${maxInputs} are allowed per request` })
          .openapi({ example: ['不可以，早晨喝牛奶不科学', '吃海鲜是不能同时喝牛奶吃水果，这个至少间隔6小时以上才可以。'] }),
        top_n: z
          .number({ error: 'must be a positive integer' })
          .int({ error: 'must be a positive integer' })
          .min(1, { error: 'must be a positive integer' })
          .nullish()
          .openapi({ description: 'Return only the best N results (default: all).' }),
        return_documents: z.boolean({ error: 'must be true or false' }).nullish().openapi({ description: 'Include each document text in its result (default false).' }),
        ...rankingRequestExtras(),
      },
      { error: expected('a JSON object') },
    )
    .openapi('RerankRequest');

  const RerankResponse = z
    .object({
      id: z.string().openapi({ description: "Cohere's response id: this request's id (the X-Request-Id header)." }),
      model: z.string(),
      results: z.array(
        z.object({
          index: z.number().int(),
          relevance_score: z.number().openapi({
            description:
              'A rerank model (cross-encoder): sigmoid of its logit, in (0, 1), or the logit itself with raw_scores. ' +
              'An embedding model: cosine similarity of the query and document vectors, in [-1, 1].',
          }),
          document: z.object({ text: z.string() }).optional(),
        }),
      ),
      usage: UsageSchema,
      meta: RerankMeta,
    })
    .openapi('RerankResponse');

  const SentenceList = (name: string) =>
    z
      .array(NonEmptyText, { error: expected('an array of strings') })
      .max(maxInputs, { error: (issue) => `${name} has ${(issue.input as unknown[]).length} items; at most ${maxInputs} are allowed per request` });

  const SentenceEmbeddingRequest = checkedFirst(
    z
      .object(
        {
          model: ModelField.nullish(),
          input: z
            .object(
              {
                source_sentence: SentenceList('input.source_sentence')
                  .min(1, { error: 'must hold at least one sentence' })
                  .openapi({ example: ['吃完海鲜可以喝牛奶吗?'] }),
                sentences_to_compare: SentenceList('input.sentences_to_compare')
                  .optional()
                  .openapi({ example: ['不可以，早晨喝牛奶不科学', '吃海鲜是不能同时喝牛奶吃水果，这个至少间隔6小时以上才可以。'] }),
              },
              { error: expected('an object {"source_sentence": [...], "sentences_to_compare": [...]}') },
            )
            .openapi({ description: 'The ModelScope sentence-embedding pipeline input.' }),
        },
        { error: expected('a JSON object') },
      )
      .openapi('SentenceEmbeddingRequest'),
    (body) => {
      const input = body.input;
      if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
      const { source_sentence, sentences_to_compare } = input as Record<string, unknown>;
      return firstProblem([
        ['input', source_sentence, (v) => textListProblem('input.source_sentence', v, maxInputs)],
        ['input', sentences_to_compare, (v) => textListProblem('input.sentences_to_compare', v, maxInputs)],
      ]);
    },
  );

  const SentenceEmbeddingResponse = z
    .object({
      text_embedding: z.array(z.array(z.number())).openapi({ description: 'Raw [CLS] vectors: source sentences, then sentences to compare.' }),
      scores: z.array(z.number()).openapi({ description: 'Dot product of the first vector with each of the others.' }),
    })
    .openapi('SentenceEmbeddingResponse');

  const TokenizeRequest = checkedFirst(
    z
      .object(
        {
          inputs: z
            .union([NonEmptyText, textList('inputs', maxInputs)], {
              error: (issue) => describeTextOrTokensProblem('inputs', issue.input, maxInputs, { tokens: false }),
            })
            .openapi({ example: '吃完海鲜可以喝牛奶吗?' }),
          model: ModelField.nullish(),
        },
        { error: expected('a JSON object') },
      )
      .openapi('TokenizeRequest'),
    (body) => firstProblem([['inputs', body.inputs, (v) => textOrTokensProblem('inputs', v, maxInputs, { tokens: false })]]),
  );

  const TokenizeResponse = z
    .object({
      model: z.string(),
      data: z.array(z.object({ index: z.number().int(), ids: z.array(z.number().int()), tokens: z.array(z.string()) })),
      usage: UsageSchema,
    })
    .openapi('TokenizeResponse');

  const { TextRankingRequest, TextRankingResponse } = rankingSchemas(maxInputs);

  return {
    TextRankingRequest,
    TextRankingResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    Model,
    ModelList,
    RerankRequest,
    RerankResponse,
    SentenceEmbeddingRequest,
    SentenceEmbeddingResponse,
    TokenizeRequest,
    TokenizeResponse,
  };
}

export type Schemas = ReturnType<typeof buildSchemas>;

// ---- Ranking (cross-encoder rerank models): Cohere's extra fields, `meta`, ModelScope's text-ranking. ----

/**
 * Fields of Cohere's v1 / v2 and TEI's rerank bodies beyond query, documents, top_n and
 * return_documents. `raw_scores` is honoured; the others are accepted so unchanged clients work,
 * and ignored (documents are truncated to the model's max length as a pair, one chunk each).
 * Unknown fields, and keys of a document object other than `text`, are dropped, not refused.
 */
function rankingRequestExtras() {
  const ignored = (what: string) => `Accepted for Cohere compatibility and ignored: ${what}.`;
  return {
    raw_scores: z
      .boolean({ error: 'must be true or false' })
      .nullish()
      .openapi({ description: "TEI's option. With a rerank model, true returns the logits (before the sigmoid) as relevance_score. An embedding model's cosine is already raw: no change." }),
    rank_fields: z.array(z.string({ error: 'must be a string' }), { error: 'must be an array of strings' }).nullish().openapi({ description: ignored("only a document's `text` is ranked") }),
    max_chunks_per_doc: z.number({ error: 'must be a number' }).nullish().openapi({ description: ignored('each document is one chunk') }),
    max_tokens_per_doc: z.number({ error: 'must be a number' }).nullish().openapi({ description: ignored("query and document are truncated together to the model's max length (longest_first)") }),
    priority: z.number({ error: 'must be a number' }).nullish().openapi({ description: ignored('requests are served in arrival order') }),
  };
}

const RerankMeta = z
  .object({
    api_version: z.object({ version: z.string() }),
    billed_units: z.object({ search_units: z.number().int().openapi({ description: "Cohere's unit: one query with up to 100 documents. Nothing is billed here." }) }),
  })
  .openapi('RerankMeta');

function rankingSchemas(maxInputs: number) {
  const Sentences = (name: string) =>
    z
      .array(NonEmptyText, { error: expected('an array of strings') })
      .min(1, { error: 'must hold at least one sentence' })
      .max(maxInputs, { error: (issue) => `${name} has ${(issue.input as unknown[]).length} items; at most ${maxInputs} are allowed per request` });

  const TextRankingRequest = z
    .object(
      {
        model: ModelField.nullish().openapi({ description: 'A served rerank model id; the first rerank model when omitted.' }),
        input: z
          .object(
            {
              source_sentence: Sentences('input.source_sentence')
                .max(1, { error: 'must hold exactly one query (the pipeline ranks one query against sentences_to_compare)' })
                .openapi({ example: ['功和功率的区别'] }),
              sentences_to_compare: Sentences('input.sentences_to_compare').openapi({
                example: ['功反映做功多少，功率反映做功快慢。', '什么是有功功率和无功功率?无功功率有什么用什么是有功功率和无功功率?'],
              }),
            },
            { error: expected('an object {"source_sentence": [query], "sentences_to_compare": [...]}') },
          )
          .openapi({ description: 'The ModelScope text-ranking pipeline input.' }),
      },
      { error: expected('a JSON object') },
    )
    .openapi('TextRankingRequest');

  const TextRankingResponse = z
    .object({ scores: z.array(z.number()).openapi({ description: 'sigmoid(logit) of each sentence to compare, in input order (the pipeline output).' }) })
    .openapi('TextRankingResponse');

  return { TextRankingRequest, TextRankingResponse };
}
