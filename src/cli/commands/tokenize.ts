import { loadTokenizer } from '../../tokenizer/load.js';
import { UsageError } from '../../errors.js';
import { parseFlags, positiveInt } from '../../flags.js';
import type { Command } from '../command.js';
import { stringLines } from '../stdin-lines.js';

export const tokenizeCommand: Command = {
  name: 'tokenize',
  summary: 'tokenize JSON Lines strings from stdin into input ids (one JSON array per line)',
  usage: `Usage: corom tokenize --model DIR [--max-length N] < texts.jsonl

stdin: one JSON string per line. stdout: one JSON array of input ids per line ([CLS] ... [SEP],
truncated to --max-length, default 128), in input order.`,
  async run(argv, io) {
    const { values } = parseFlags(argv, { model: { type: 'string' }, 'max-length': { type: 'string' } }, { min: 0, max: 0, names: '' });
    if (!values.model) throw new UsageError('missing --model DIR');
    const maxLength = positiveInt('max-length', values['max-length']) ?? 128;
    const tokenizer = await loadTokenizer(values.model);
    for await (const text of stringLines(io.stdin)) {
      io.stdout.write(JSON.stringify(Array.from(tokenizer.encode(text, maxLength))) + '\n');
    }
    return 0;
  },
};
