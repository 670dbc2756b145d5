/**
 * The model card's sentence-embedding pipeline as an API call: the request body from the form's
 * values, the checks before sending, and the checks on the answer.
 */

export interface PipelineRequest {
  model?: string;
  input: { source_sentence: string[]; sentences_to_compare?: string[] };
}

export interface PipelineOutput {
  /** One vector per text: the source first, then each sentence to compare. */
  embedding: number[][];
  /** source · sentence i, one per sentence to compare. */
  scores: number[];
}

/** The body for POST /v1/sentence-embedding; no `model` means the server's default. */
export function buildPipelineRequest(model: string, source: string, compare: readonly string[]): PipelineRequest {
  return {
    ...(model ? { model } : {}),
    input: { source_sentence: [source], ...(compare.length > 0 ? { sentences_to_compare: [...compare] } : {}) },
  };
}

/** Every text of a request in answer order: the source, then the sentences to compare. */
export function requestTexts(request: PipelineRequest): string[] {
  return [...request.input.source_sentence, ...(request.input.sentences_to_compare ?? [])];
}

/** What is wrong with the form before anything is sent: the message and the box to focus. */
export interface InputProblem {
  message: string;
  /** 'source', or the index of the sentence to compare. */
  focus: 'source' | number;
}

export function checkPipelineInput(source: string, compare: readonly string[]): InputProblem | undefined {
  if (!source.trim()) return { message: '请输入源句子。', focus: 'source' };
  const blank = compare.findIndex((text) => !text.trim());
  if (blank >= 0) return { message: `句子 ${blank + 1} 是空的：请填写或删除它。`, focus: blank };
  return undefined;
}

function isNumberMatrix(value: unknown, rows: number): value is number[][] {
  return (
    Array.isArray(value) &&
    value.length === rows &&
    value.every((row) => Array.isArray(row) && row.length > 0 && row.length === value[0].length && row.every((x) => typeof x === 'number'))
  );
}

/** The answer for `textCount` texts, or the message saying what shape was expected. */
export function parsePipelineOutput(payload: unknown, textCount: number): { ok: true; output: PipelineOutput } | { ok: false; message: string } {
  const body = (payload ?? {}) as { text_embedding?: unknown; scores?: unknown };
  const scores = body.scores;
  if (
    !isNumberMatrix(body.text_embedding, textCount) ||
    !Array.isArray(scores) ||
    scores.length !== textCount - 1 ||
    !scores.every((s) => typeof s === 'number')
  ) {
    return { ok: false, message: `服务返回的结果格式不对：需要 ${textCount} 个向量和 ${textCount - 1} 个分数。` };
  }
  return { ok: true, output: { embedding: body.text_embedding, scores: scores as number[] } };
}
