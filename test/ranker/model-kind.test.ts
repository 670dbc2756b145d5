/** How a checkpoint's kind is detected, and how corom.json records it. */
import { describe, expect, it } from 'vitest';
import { modelKindOf } from '../../src/checkpoint/model-kind.js';
import { convertedKind, type ConvertedMetadata } from '../../src/store/metadata.js';

describe('modelKindOf', () => {
  it('config.json: BertForTextRanking, or BertForSequenceClassification with one label, is a ranker', () => {
    expect(modelKindOf({ architectures: ['BertForTextRanking'] }, undefined)).toBe('rerank');
    expect(modelKindOf({ architectures: ['BertForSequenceClassification'], num_labels: 1 }, undefined)).toBe('rerank');
    expect(modelKindOf({ architectures: ['BertForSequenceClassification'], id2label: { 0: 'LABEL_0' } }, undefined)).toBe('rerank');
    expect(modelKindOf({ architectures: ['BertForSequenceClassification'], num_labels: 2 }, undefined)).toBe('embedding');
    expect(modelKindOf({ architectures: ['BertModel'] }, undefined)).toBe('embedding');
    expect(modelKindOf({}, undefined)).toBe('embedding');
  });

  it('configuration.json: task (or pipeline type) text-ranking or the older passage-ranking is a ranker', () => {
    expect(modelKindOf({ architectures: ['BertModel'] }, { task: 'text-ranking' })).toBe('rerank');
    expect(modelKindOf({}, { task: 'passage-ranking' })).toBe('rerank');
    expect(modelKindOf({}, { task: 'other', pipeline: { type: 'text-ranking' } })).toBe('rerank');
    expect(modelKindOf({}, { task: 'sentence-embedding', pipeline: { type: 'sentence-embedding' } })).toBe('embedding');
    expect(modelKindOf(null, 'nonsense')).toBe('embedding');
  });

  it('a corom.json written before rankers existed (no task) is an embedding model', () => {
    const meta = { format: 1, hidden: 32, maxLength: 128 } as ConvertedMetadata;
    expect(convertedKind(meta)).toBe('embedding');
    expect(convertedKind({ ...meta, task: 'rerank' })).toBe('rerank');
  });
});
