import { loadRanker } from '../../engine/load.js';
import { parseRankingInput } from '../../engine/pipeline-input.js';
import { CoromError } from '../../errors.js';
import { parseFlags } from '../../flags.js';
import type { Command } from '../command.js';
import { engineOptions, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../model-flags.js';
import { readJson } from '../stdin-lines.js';

export const rankCommand: Command = {
  name: 'rank',
  summary: 'ModelScope text-ranking pipeline with a cross-encoder: stdin {source_sentence: [query], sentences_to_compare} -> {scores}',
  usage: `Usage: corom rank --model DIR [--dtype ...] [--backend ...] [--max-length N] < input.json

The model must be a passage-ranking cross-encoder (e.g. damo/nlp_corom_passage-ranking_chinese-base).
stdin: one JSON object {"source_sentence": [query], "sentences_to_compare": [passages...]}.
stdout: {"scores": [...]}: sigmoid of the model's logit for each (query, passage) pair, in input
order. Each pair is read as [CLS] query [SEP] passage [SEP], truncated longest-first to the max length.
${MODEL_FLAGS_USAGE}
  --logits              also print the raw logits: {"scores": [...], "logits": [...]}`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...MODEL_FLAGS, logits: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const options = engineOptions(values, (l) => io.stderr.write(l + '\n'));
    const raw = await readJson(io.stdin, 'one object {"source_sentence": [query], "sentences_to_compare": [...]}');
    const input = parseRankingInput(raw, (m) => new CoromError(`stdin: ${m}`));
    const ranker = await loadRanker(options);
    try {
      const out = await ranker.pipeline(input);
      io.stdout.write(JSON.stringify(values.logits ? out : { scores: out.scores }) + '\n');
    } finally {
      await ranker.close();
    }
    return 0;
  },
};
