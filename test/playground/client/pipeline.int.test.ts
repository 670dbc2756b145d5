import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildPipelineRequest, checkPipelineInput, parsePipelineOutput, requestTexts } from '../../../src/playground/client/pipeline.js';
import { buildSnippets, shellQuote } from '../../../src/playground/client/snippets.js';

describe('pipeline request', () => {
  it('is the model card pipeline input; no model means the server default, no rows no sentences_to_compare', () => {
    expect(buildPipelineRequest('m', 's', ['a', 'b'])).toEqual({ model: 'm', input: { source_sentence: ['s'], sentences_to_compare: ['a', 'b'] } });
    expect(buildPipelineRequest('', 's', [])).toEqual({ input: { source_sentence: ['s'] } });
    expect(requestTexts(buildPipelineRequest('', 's', ['a', 'b']))).toEqual(['s', 'a', 'b']);
  });

  it('refuses a blank source or a blank row before sending, naming the box to focus', () => {
    expect(checkPipelineInput(' \n', ['a'])).toEqual({ message: '请输入源句子。', focus: 'source' });
    expect(checkPipelineInput('s', ['a', '  ', ''])).toEqual({ message: '句子 2 是空的：请填写或删除它。', focus: 1 });
    expect(checkPipelineInput('s', [])).toBeUndefined();
    expect(checkPipelineInput('s', ['a'])).toBeUndefined();
  });
});

describe('parsePipelineOutput', () => {
  const good = { text_embedding: [[1, 0], [0, 1], [1, 1]], scores: [0, 1] };

  it('accepts one vector per text and one score per sentence to compare', () => {
    expect(parsePipelineOutput(good, 3)).toEqual({ ok: true, output: { embedding: good.text_embedding, scores: good.scores } });
    expect(parsePipelineOutput({ text_embedding: [[1, 2]], scores: [] }, 1)).toMatchObject({ ok: true });
  });

  it.each([
    ['no body', null],
    ['too few vectors', { ...good, text_embedding: good.text_embedding.slice(1) }],
    ['ragged vectors', { ...good, text_embedding: [[1, 0], [0], [1, 1]] }],
    ['empty vector', { ...good, text_embedding: [[], [], []] }],
    ['a string component', { ...good, text_embedding: [[1, 0], [0, '1'], [1, 1]] }],
    ['too many scores', { ...good, scores: [0, 1, 2] }],
    ['a null score', { ...good, scores: [0, null] }],
  ])('refuses %s with the expected shape', (_name, payload) => {
    expect(parsePipelineOutput(payload, 3)).toEqual({ ok: false, message: '服务返回的结果格式不对：需要 3 个向量和 2 个分数。' });
  });
});

describe('snippets', () => {
  const request = buildPipelineRequest('tiny-bert', "it's 桥", ['a']);
  const origin = 'http://127.0.0.1:8080';

  it('shell-quotes any text into one word (checked by a real shell)', () => {
    for (const text of ["it's", "'", '$HOME `x` "y" \\', '多行\n文本']) {
      expect(execFileSync('bash', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' })).toBe(text);
    }
  });

  it('curl posts the exact request body, with the key header only when the server wants one', () => {
    const open = buildSnippets({ origin, request, model: 'tiny-bert', keyed: false }).curl;
    expect(open).toContain(`curl -sS ${origin}/v1/sentence-embedding`);
    expect(open).not.toContain('Authorization');
    const body = execFileSync('bash', ['-c', `printf %s ${open.slice(open.indexOf(' -d ') + 4)}`], { encoding: 'utf8' });
    expect(JSON.parse(body)).toEqual(request);
    expect(buildSnippets({ origin, request, model: 'tiny-bert', keyed: true }).curl).toContain('-H "Authorization: Bearer $COROM_API_KEY"');
  });

  it('the OpenAI and LangChain snippets name the model and every text as JS literals', () => {
    const { openai, langchain } = buildSnippets({ origin, request, model: 'tiny-bert', keyed: false });
    expect(openai).toContain(`baseURL: '${origin}/v1'`);
    expect(openai).toContain('model: "tiny-bert"');
    expect(openai).toContain('"it\'s 桥",\n    "a"');
    expect(langchain).toContain(`embedQuery("it's 桥")`);
    expect(langchain).toContain('embedDocuments([\n  "a"\n])');
  });
});
