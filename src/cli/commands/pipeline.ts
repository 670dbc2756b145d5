import { loadEngine } from '../../engine/load.js';
import { CoromError } from '../../errors.js';
import { parsePipelineInput } from '../../engine/pipeline-input.js';
import { parseFlags } from '../../flags.js';
import type { Command } from '../command.js';
import { engineOptions, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../model-flags.js';
import { readJson } from '../stdin-lines.js';

export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: "ModelScope sentence-embedding pipeline: stdin {source_sentence, sentences_to_compare?} -> {text_embedding, scores}",
  usage: `Usage: corom pipeline --model DIR [--dtype ...] [--backend ...] < input.json

stdin: one JSON object {"source_sentence": [...], "sentences_to_compare": [...]} (the second key
optional). stdout: {"text_embedding": [[...], ...], "scores": [...]}: raw vectors of every source
then every compared sentence, and the dot product of the first vector with each of the others.
${MODEL_FLAGS_USAGE}`,
  async run(argv, io) {
    const { values } = parseFlags(argv, MODEL_FLAGS, { min: 0, max: 0, names: '' });
    const raw = await readJson(io.stdin, 'one object {"source_sentence": [...], "sentences_to_compare": [...]}');
    const input = parsePipelineInput(raw, (m) => new CoromError(`stdin: ${m}`));
    const engine = await loadEngine(engineOptions(values, (l) => io.stderr.write(l + '\n')));
    try {
      io.stdout.write(JSON.stringify(await engine.pipeline(input)) + '\n');
    } finally {
      await engine.close();
    }
    return 0;
  },
};
