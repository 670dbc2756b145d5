#!/usr/bin/env node
/**
 * `corom` command-line entry. Each subcommand lives in its own file under ./commands and is
 * registered in ./commands/index.ts. User errors (CoromError) print one line and exit with their
 * code; anything else is a bug and prints a stack only with --debug.
 */
import { CoromError } from '../errors.js';
import type { CommandIO } from './command.js';
import { COMMANDS } from './commands/index.js';

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'corom: coROM Chinese sentence embeddings without Python',
    '',
    'Usage: corom <command> [options]    (corom <command> --help for details)',
    '',
    'Commands:',
    ...lines,
    '',
    'Global options: --debug (print stack traces), --help',
    '',
  ].join('\n');
}

export async function main(argv: string[], io: CommandIO): Promise<number> {
  const debug = argv.includes('--debug') || io.env.COROM_DEBUG === '1';
  const args = argv.filter((a) => a !== '--debug');
  const name = args[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write('corom-edge 0.1.0\n');
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.stderr.write(`corom: unknown command '${name}' (run 'corom --help' for the list)\n`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(command.usage.endsWith('\n') ? command.usage : command.usage + '\n');
    return 0;
  }
  try {
    return await command.run(args.slice(1), io);
  } catch (err) {
    if (err instanceof CoromError) {
      io.stderr.write(`corom ${name}: ${err.message}\n`);
      if (debug && err.stack) io.stderr.write(err.stack + '\n');
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`corom ${name}: internal error: ${message}${debug ? '' : ' (rerun with --debug for details)'}\n`);
    if (debug && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
    return 70; // EX_SOFTWARE
  }
}

// Run only when executed as a program, not when imported by tests.
const invokedAs = process.argv[1] ?? '';
if (/(?:^|[\\/])(?:main\.(?:js|ts)|corom)$/.test(invokedAs)) {
  main(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`corom: internal error: ${String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
