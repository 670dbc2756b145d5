/**
 * The HTTP error/validation table: request -> status, message, param. Runs in-process through
 * app.request() against a fake served model shaped like the tiny-bert fixture (id tiny-bert,
 * 32 dims, vocab 21128, max 128 tokens): test/http/errors-in-process.test.ts.
 */

export interface BadCase {
  name: string;
  path?: string;
  method?: string;
  body?: unknown;
  contentType?: string;
  status: number;
  message: RegExp;
  param?: string | null;
}

export const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `句子${i}`);

export const BAD_INPUTS: BadCase[] = [
  { name: 'malformed JSON', body: '{"input": ', status: 400, message: /not valid JSON/ },
  { name: 'empty body', body: '', status: 400, message: /not valid JSON/ },
  { name: 'body is an array', body: [], status: 400, message: /request body must be a JSON object/ },
  { name: 'body is a string', body: '"hello"', status: 400, message: /request body must be a JSON object/ },
  { name: 'input missing', body: { model: 'tiny-bert' }, status: 400, message: /^input is required/, param: 'input' },
  { name: 'input empty string', body: { input: '' }, status: 400, message: /^input must not be an empty string/, param: 'input' },
  { name: 'input empty array', body: { input: [] }, status: 400, message: /^input must not be an empty array/, param: 'input' },
  { name: 'empty string in list', body: { input: ['a', ''] }, status: 400, message: /^input\[1\] must not be an empty string/, param: 'input[1]' },
  { name: 'too many inputs', body: { input: many(2049) }, status: 400, message: /has more than 2048 items; at most 2048/, param: 'input' },
  { name: 'too many token arrays', body: { input: Array.from({ length: 2049 }, () => [101]) }, status: 400, message: /at most 2048/ },
  { name: 'input is a boolean', body: { input: true }, status: 400, message: /input must be a string, an array of strings, an array of token ids/ },
  { name: 'input is null', body: { input: null }, status: 400, message: /input must be a string.*got null/ },
  { name: 'input is an object', body: { input: { text: 'a' } }, status: 400, message: /input must be .*got object/ },
  { name: 'boolean in list', body: { input: [true] }, status: 400, message: /input\[0\] must be a string, a token id or a token-id array, got boolean/, param: 'input[0]' },
  { name: 'mixed text and ids', body: { input: ['a', 1] }, status: 400, message: /input\[1\] is a number but input\[0\] is a string; .*must not mix/, param: 'input[1]' },
  { name: 'fractional token id', body: { input: [101, 1.5] }, status: 400, message: /input\[1\] must be a token id \(a non-negative integer\), got 1\.5/, param: 'input[1]' },
  { name: 'negative token id', body: { input: [-1] }, status: 400, message: /input\[0\] must be a token id .*got -1/ },
  { name: 'token id beyond vocab', body: { input: [101, 21128] }, status: 400, message: /input\[1\]: token id 21128 is outside this model's vocabulary; ids must be integers from 0 to 21127/, param: 'input[1]' },
  { name: 'nested token id beyond vocab', body: { input: [[101], [5, 99999]] }, status: 400, message: /input\[1\]\[1\]: token id 99999/, param: 'input[1][1]' },
  { name: 'empty token-id array', body: { input: [[101], []] }, status: 400, message: /input\[1\] must not be an empty token-id array/ },
  { name: 'string inside token array', body: { input: [[101, 'a']] }, status: 400, message: /input\[0\]\[1\] must be a token id/ },
  { name: 'unknown model', body: { input: 'a', model: 'text-embedding-3-small' }, status: 404, message: /model 'text-embedding-3-small' does not exist.*'tiny-bert'/, param: 'model' },
  { name: 'model not a string', body: { input: 'a', model: 5 }, status: 400, message: /^model must be a string/, param: 'model' },
  { name: 'bad encoding_format', body: { input: 'a', encoding_format: 'int8' }, status: 400, message: /encoding_format must be 'float' or 'base64'/, param: 'encoding_format' },
  { name: 'dimensions 0', body: { input: 'a', dimensions: 0 }, status: 400, message: /dimensions must be an integer between 1/, param: 'dimensions' },
  { name: 'dimensions above hidden', body: { input: 'a', dimensions: 33 }, status: 400, message: /dimensions must be an integer between 1 and 32 for model 'tiny-bert', got 33/ },
  { name: 'dimensions fractional', body: { input: 'a', dimensions: 1.5 }, status: 400, message: /dimensions must be an integer/ },
  { name: 'dimensions as string', body: { input: 'a', dimensions: '8' }, status: 400, message: /dimensions must be an integer/ },
  { name: 'normalize not boolean', body: { input: 'a', normalize: 'no' }, status: 400, message: /normalize must be true or false/ },
  { name: 'user not string', body: { input: 'a', user: 42 }, status: 400, message: /user must be a string/ },
  { name: 'form content type', body: 'input=a', contentType: 'application/x-www-form-urlencoded', status: 415, message: /Content-Type must be 'application\/json'/ },
  { name: 'text/plain content type', body: '{"input":"a"}', contentType: 'text/plain', status: 415, message: /Content-Type must be/ },
  { name: 'rerank: query missing', path: '/v1/rerank', body: { documents: ['a'] }, status: 400, message: /^query is required/, param: 'query' },
  { name: 'rerank: no documents', path: '/v1/rerank', body: { query: 'q', documents: [] }, status: 400, message: /documents must not be an empty array/ },
  { name: 'rerank: bad document', path: '/v1/rerank', body: { query: 'q', documents: [{ txt: 'a' }] }, status: 400, message: /documents\[0\] must be a string or an object \{"text": string\}/ },
  { name: 'rerank: top_n 0', path: '/v1/rerank', body: { query: 'q', documents: ['a'], top_n: 0 }, status: 400, message: /top_n must be a positive integer/ },
  { name: 'pipeline: source missing', path: '/v1/sentence-embedding', body: { input: {} }, status: 400, message: /input\.source_sentence is required/ },
  { name: 'pipeline: source is a string', path: '/v1/sentence-embedding', body: { input: { source_sentence: 'x' } }, status: 400, message: /input\.source_sentence must be an array of strings/ },
  { name: 'pipeline: empty compare sentence', path: '/v1/sentence-embedding', body: { input: { source_sentence: ['x'], sentences_to_compare: [''] } }, status: 400, message: /input\.sentences_to_compare\[0\] must not be an empty string/ },
  { name: 'tokenize: token ids', path: '/tokenize', body: { inputs: [1, 2] }, status: 400, message: /inputs\[0\] must be a string, got number/ },
  { name: 'unknown model id', path: '/v1/models/nope', method: 'GET', status: 404, message: /model 'nope' does not exist/ },
  { name: 'wrong method', path: '/v1/embeddings', method: 'PUT', body: { input: 'a' }, status: 405, message: /Method PUT is not allowed on \/v1\/embeddings; use POST/ },
  { name: 'unknown route', path: '/v1/completions', body: { prompt: 'a' }, status: 404, message: /Unknown route: POST \/v1\/completions/ },
];

