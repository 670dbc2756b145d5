/** `corom serve`: the HTTP service on Node, until SIGTERM or SIGINT. */
import type { Command } from '../command.js';
import { runServer } from '../../node/serve.js';
import { parseServeConfig, SERVE_USAGE } from '../../node/serve-config.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the model over HTTP (OpenAI-compatible embeddings, rerank, ModelScope pipeline)',
  usage: SERVE_USAGE,
  async run(argv, io) {
    const config = parseServeConfig(argv, io.env);
    const shutdown = new AbortController();
    const stop = (): void => shutdown.abort();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    try {
      return await runServer(config, io, { shutdown: shutdown.signal });
    } finally {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
  },
};
