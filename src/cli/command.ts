import type { Readable, Writable } from 'node:stream';

/** Standard streams a command reads and writes; injected so tests can drive commands in-process. */
export interface CommandIO {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** One `corom <name>` subcommand. `run` returns the exit code; user errors are thrown as CoromError. */
export interface Command {
  name: string;
  /** One line for `corom --help`. */
  summary: string;
  /** Full usage text for `corom <name> --help`. */
  usage: string;
  run(argv: string[], io: CommandIO): Promise<number>;
}
