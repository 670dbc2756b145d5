import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { doctorCommand } from './doctor.js';
import { embedCommand } from './embed.js';
import { evalCommand } from './eval.js';
import { fetchCommand } from './fetch.js';
import { modelsCommand } from './models.js';
import { pipelineCommand } from './pipeline.js';
import { rankCommand } from './rank.js';
import { serveCommand } from './serve.js';
import { tokenizeCommand } from './tokenize.js';
import { uploadR2Command } from './upload-r2.js';

/** Every `corom` subcommand, in the order `corom --help` lists them. Add new commands here. */
export const COMMANDS: Command[] = [
  convertCommand,
  tokenizeCommand,
  embedCommand,
  pipelineCommand,
  rankCommand,
  serveCommand,
  evalCommand,
  fetchCommand,
  modelsCommand,
  uploadR2Command,
  doctorCommand,
];
