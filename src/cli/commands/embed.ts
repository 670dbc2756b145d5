import { loadEngine } from '../../engine/load.js';
import { parseFlags, positiveInt } from '../../flags.js';
import type { Command } from '../command.js';
import { engineOptions, MODEL_FLAGS, MODEL_FLAGS_USAGE } from '../model-flags.js';
import { stringLines } from '../stdin-lines.js';

/** Texts embedded per engine call: large enough to batch well, small enough to stream output. */
const CHUNK = 256;

export const embedCommand: Command = {
  name: 'embed',
  summary: 'embed JSON Lines strings from stdin (one JSON array of numbers per line)',
  usage: `Usage: corom embed --model DIR [--dtype ...] [--backend ...] [--normalize] < texts.jsonl

stdin: one JSON string per line. stdout: one JSON array (the vector) per line, in input order,
written as each chunk of ${CHUNK} lines is done. Raw [CLS] vectors unless --normalize.
${MODEL_FLAGS_USAGE}
  --normalize           unit-length vectors
  --batch N             texts per engine call (default ${CHUNK})`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { ...MODEL_FLAGS, normalize: { type: 'boolean' }, batch: { type: 'string' } }, { min: 0, max: 0, names: '' });
    const chunkSize = positiveInt('batch', values.batch) ?? CHUNK;
    const engine = await loadEngine(engineOptions(values, (l) => io.stderr.write(l + '\n')));
    try {
      let pending: string[] = [];
      const flush = async (): Promise<void> => {
        const vectors = await engine.embed(pending, { normalize: values.normalize ?? false });
        io.stdout.write(vectors.map((v) => JSON.stringify(Array.from(v))).join('\n') + '\n');
        pending = [];
      };
      for await (const text of stringLines(io.stdin)) {
        pending.push(text);
        if (pending.length >= chunkSize) await flush();
      }
      if (pending.length > 0) await flush();
    } finally {
      await engine.close();
    }
    return 0;
  },
};
