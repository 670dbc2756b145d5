/**
 * The public coROM checkpoints on ModelScope that corom-edge knows by a short name: sentence-embedding
 * bi-encoders (kind `embedding`) and passage-ranking cross-encoders (kind `rerank`).
 *
 * Every hub id below appears in ModelScope's own pipeline test
 * (modelscope/modelscope, tests/pipelines/test_sentence_embedding.py), under the old `damo/`
 * namespace; ModelScope later moved DAMO's models to `iic/` and answers both, so `iic/` is the
 * canonical id here and `damo/` an alias. All are BERT encoders whose sentence vector is the raw
 * [CLS] row of the last layer, trained with max_sequence_length 128, under Apache-2.0.
 *
 * `dimensions`, `hidden` and `layers` are filled in only where the model card states them (the base
 * models: "向量维度768", BERT-base). The tiny models' cards copy the base card's "768", which public
 * users of the tiny model contradict, so their sizes are left undefined here and read from the
 * downloaded config.json instead.
 *
 * The passage-ranking models (ModelScope task `text-ranking`, model BertForTextRanking: BERT with its
 * pooler and a Linear(hidden, 1) classifier, pairs `[CLS] query [SEP] passage [SEP]`, max length
 * 128) are the family issue 15 lists; `damo/nlp_rom_passage-ranking_chinese-base` and
 * `damo/nlp_corom_passage-ranking_english-base` are the ids of ModelScope's own text-ranking
 * pipeline test (tests/pipelines/test_text_ranking.py). Their sizes are read from config.json once
 * fetched. Note the general Chinese ranker is a `rom` repository, not `corom`.
 */
import type { ModelKind } from '../src/engine/types.js';

export type ModelLanguage = 'zh' | 'en';
export type ModelDomain = 'general' | 'ecommerce' | 'medical';

export interface KnownModel {
  /** Short name used on the command line and as the served model id, e.g. "corom-base". */
  name: string;
  /** Canonical ModelScope id. */
  hubId: string;
  /** Other ids the hub knows the same repository by (the pre-rename `damo/` namespace). */
  aliases: readonly string[];
  language: ModelLanguage;
  domain: ModelDomain;
  /** `embedding` (sentence vectors) or `rerank` (a cross-encoder scoring query-passage pairs). */
  kind: ModelKind;
  /** Output vector size (embedding models); undefined when the model card does not state it reliably. */
  dimensions?: number;
  hidden?: number;
  layers?: number;
  /** Longest input in tokens, [CLS] and [SEP] included. */
  maxLength: 128;
  pooling: 'cls';
  license: 'Apache-2.0';
  description: string;
}

/** The model served when nothing else is configured. */
export const DEFAULT_MODEL_NAME = 'corom-base';

/** The base models' sizes, as their model cards state them (BERT-base, "向量维度768"). */
const BERT_BASE = { dimensions: 768, hidden: 768, layers: 12 } as const;

/** A model published on ModelScope as `iic/<repo>` (formerly `damo/<repo>`), of either kind. */
function modelscope(
  name: string,
  repo: string,
  language: ModelLanguage,
  domain: ModelDomain,
  kind: ModelKind,
  description: string,
  sizes: Pick<KnownModel, 'dimensions' | 'hidden' | 'layers'> = {},
): KnownModel {
  return {
    name,
    hubId: `iic/${repo}`,
    aliases: [`damo/${repo}`],
    language,
    domain,
    kind,
    ...sizes,
    maxLength: 128,
    pooling: 'cls',
    license: 'Apache-2.0',
    description,
  };
}

function corom(
  name: string,
  suffix: string,
  language: ModelLanguage,
  domain: ModelDomain,
  size: 'base' | 'tiny',
  description: string,
): KnownModel {
  return modelscope(name, `nlp_corom_sentence-embedding_${suffix}`, language, domain, 'embedding', description, size === 'base' ? BERT_BASE : {});
}

function ranker(name: string, repo: string, language: ModelLanguage, domain: ModelDomain, description: string): KnownModel {
  return modelscope(name, repo, language, domain, 'rerank', description);
}

export const KNOWN_MODELS: readonly KnownModel[] = [
  corom('corom-base', 'chinese-base', 'zh', 'general', 'base', 'Chinese, general domain (DuReader retrieval), BERT-base'),
  corom('corom-tiny', 'chinese-tiny', 'zh', 'general', 'tiny', 'Chinese, general domain, tiny'),
  corom('corom-base-ecom', 'chinese-base-ecom', 'zh', 'ecommerce', 'base', 'Chinese, e-commerce search, BERT-base'),
  corom('corom-tiny-ecom', 'chinese-tiny-ecom', 'zh', 'ecommerce', 'tiny', 'Chinese, e-commerce search, tiny'),
  corom('corom-base-medical', 'chinese-base-medical', 'zh', 'medical', 'base', 'Chinese, medical domain, BERT-base'),
  corom('corom-tiny-medical', 'chinese-tiny-medical', 'zh', 'medical', 'tiny', 'Chinese, medical domain, tiny'),
  corom('corom-english-base', 'english-base', 'en', 'general', 'base', 'English, general domain (MS MARCO), BERT-base'),
  corom('corom-english-tiny', 'english-tiny', 'en', 'general', 'tiny', 'English, general domain, tiny'),
  ranker('rom-ranker-base', 'nlp_rom_passage-ranking_chinese-base', 'zh', 'general', 'Chinese passage ranking (cross-encoder), general domain, ROM base'),
  ranker('corom-ranker-tiny', 'nlp_corom_passage-ranking_chinese-tiny', 'zh', 'general', 'Chinese passage ranking (cross-encoder), general domain, tiny'),
  ranker('corom-ranker-english-base', 'nlp_corom_passage-ranking_english-base', 'en', 'general', 'English passage ranking (cross-encoder), MS MARCO, base'),
  ranker('corom-ranker-base-ecom', 'nlp_corom_passage-ranking_chinese-base-ecom', 'zh', 'ecommerce', 'Chinese passage ranking (cross-encoder), e-commerce, base'),
  ranker('corom-ranker-tiny-ecom', 'nlp_corom_passage-ranking_chinese-tiny-ecom', 'zh', 'ecommerce', 'Chinese passage ranking (cross-encoder), e-commerce, tiny'),
  ranker('corom-ranker-base-medical', 'nlp_corom_passage-ranking_chinese-base-medical', 'zh', 'medical', 'Chinese passage ranking (cross-encoder), medical, base'),
];

/** Looks a model up by short name or by hub id (canonical or alias), case-insensitively. */
export function findKnownModel(nameOrHubId: string): KnownModel | undefined {
  const key = nameOrHubId.trim().toLowerCase();
  return KNOWN_MODELS.find(
    (m) => m.name === key || m.hubId.toLowerCase() === key || m.aliases.some((a) => a.toLowerCase() === key),
  );
}
