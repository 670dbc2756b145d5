import type { Command } from '../command.js';

/** Every `corom` subcommand, in the order `corom --help` lists them. Add new commands here. */
export const COMMANDS: Command[] = [];
