import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseServeConfig, SERVE_ENV, SERVE_USAGE } from '../../src/node/serve-config.js';

describe('corom serve configuration', () => {
  it('has sane defaults', () => {
    const c = parseServeConfig([], {});
    // fp32, the one default precision (issue 14, item 13); int8 and q4 are --dtype away.
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8080, dtype: 'fp32', backend: 'node', device: 'cpu', batching: true, apiKeys: [], corsOrigins: [] });
    expect(c.model).toBeUndefined();
  });

  it('reads every setting from flags, repeatable keys and origins included', () => {
    const c = parseServeConfig(
      [
        '--model', 'm', '--model-id', 'corom', '--port', '0', '--host', '::1', '--dtype', 'q4', '--backend', 'wasm', '--threads', '2',
        '--api-key', 'a', '--api-key', 'b', '--cors-origin', 'https://x.example', '--max-batch-tokens', '4096', '--max-batch-size', '8',
        '--max-queue', '3', '--batch-wait-ms', '0', '--request-timeout-ms', '100', '--max-body-bytes', '999', '--drain-timeout-ms', '5',
        '--no-batching', '--max-length', '64',
      ],
      {},
    );
    expect(c).toMatchObject({
      model: 'm', modelOrigin: '--model', modelId: 'corom', port: 0, host: '::1', dtype: 'q4', backend: 'wasm', threads: 2,
      apiKeys: ['a', 'b'], corsOrigins: ['https://x.example'], maxBatchTokens: 4096, maxBatchSize: 8, maxQueue: 3, batchWaitMs: 0,
      requestTimeoutMs: 100, maxBodyBytes: 999, drainTimeoutMs: 5, batching: false, maxLength: 64,
    });
  });

  it('reads COROM_* variables, and a flag wins over its variable', () => {
    const env = {
      COROM_MODEL: '/models/x', COROM_PORT: '9000', COROM_API_KEYS: 'k1, k2', COROM_CORS_ORIGINS: '*', COROM_BATCHING: 'off',
      COROM_MAX_QUEUE: '7', COROM_DEVICE: 'cuda', COROM_MODEL_ID: 'named',
    };
    const c = parseServeConfig(['--port', '9001'], env);
    expect(c).toMatchObject({ model: '/models/x', modelOrigin: 'COROM_MODEL', port: 9001, apiKeys: ['k1', 'k2'], corsOrigins: ['*'], batching: false, maxQueue: 7, device: 'cuda', modelId: 'named' });
    expect(parseServeConfig(['--api-key', 'flag'], env).apiKeys).toEqual(['flag']);
  });

  it.each([
    [['--port', '70000'], {}, /--port must be an integer from 0 to 65535 \(got '70000'\)/],
    [[], { COROM_PORT: 'http' }, /COROM_PORT must be an integer/],
    [['--dtype', 'fp16'], {}, /--dtype must be one of fp32, int8, q4/],
    [['--max-queue', '0'], {}, /--max-queue must be an integer from 1/],
    [['--batch-wait-ms=-1'], {}, /--batch-wait-ms must be an integer from 0/],
    [['--backend', 'wasm', '--device', 'cuda'], {}, /--device cuda needs --backend node/],
    // A key no client can send must not switch auth off or lock everyone out (issue 14, item 4).
    [[], { COROM_API_KEYS: ' , ' }, /COROM_API_KEYS \(key 1 of 2\) is empty/],
    [[], { COROM_API_KEYS: '   ' }, /COROM_API_KEYS is empty/],
    [[], { COROM_API_KEYS: 'k1,,k2' }, /COROM_API_KEYS \(key 2 of 3\) is empty/],
    [['--api-key', 'my key'], {}, /--api-key contains white space/],
    [['--api-key', ''], {}, /--api-key is empty/],
    [['--api-key', 'ok', '--api-key', ' '], {}, /--api-key \(key 2 of 2\) is empty/],
    [[], { COROM_REQUIRE_DEVICE: 'maybe' }, /COROM_REQUIRE_DEVICE must be 1 or 0/],
    [[], { COROM_BATCHING: 'maybe' }, /COROM_BATCHING must be on or off/],
    [['--model', 'a', '--model-id', 'x', '--model-id', 'y'], {}, /--model-id gives 2 ids for 1 model: give one id per --model/],
    [[], { COROM_MODEL: 'a,b', COROM_MODEL_ID: 'x,x' }, /COROM_MODEL_ID gives the id 'x' twice/],
    [['--bogus'], {}, /bogus/],
    [['extra'], {}, /unexpected argument 'extra'/],
  ] as const)('%j %j is a usage error', (argv, env, message) => {
    expect(() => parseServeConfig([...argv], { ...env })).toThrow(UsageError);
    expect(() => parseServeConfig([...argv], { ...env })).toThrow(message);
  });

  it('--model and --model-id repeat in the same order (several models, each its own id); COROM_MODEL is comma-separated', () => {
    const flags = parseServeConfig(['--model', 'ranker-dir', '--model', 'corom-base', '--model-id', 'ranker'], {});
    expect(flags.models).toEqual([
      { spec: 'ranker-dir', origin: '--model', id: 'ranker' },
      { spec: 'corom-base', origin: '--model' },
    ]);
    expect(flags).toMatchObject({ model: 'ranker-dir', modelId: 'ranker' });
    const env = parseServeConfig([], { COROM_MODEL: 'a, b', COROM_MODEL_ID: 'x,y' });
    expect(env.models).toEqual([
      { spec: 'a', origin: 'COROM_MODEL', id: 'x' },
      { spec: 'b', origin: 'COROM_MODEL', id: 'y' },
    ]);
    // A flag wins over the variable as a whole.
    expect(parseServeConfig(['--model', 'c'], { COROM_MODEL: 'a,b' }).models).toEqual([{ spec: 'c', origin: '--model' }]);
    // No --model: the default model, optionally under one --model-id.
    expect(parseServeConfig(['--model-id', 'base'], {})).toMatchObject({ models: [], modelId: 'base' });
  });

  it('shows in --help the defaults that parsing uses', () => {
    const config = parseServeConfig([], {});
    const shown: Array<[string, string | number]> = [
      ['dtype fp32|int8|q4', config.dtype],
      ['host ADDR', config.host],
      ['port N', config.port],
      ['max-body-bytes N', config.maxBodyBytes],
      ['request-timeout-ms N', config.requestTimeoutMs],
      ['drain-timeout-ms N', config.drainTimeoutMs],
      ['max-batch-tokens N', config.maxBatchTokens],
      ['max-batch-size N', config.maxBatchSize],
      ['max-queue N', config.maxQueue],
      ['batch-wait-ms N', config.batchWaitMs],
    ];
    for (const [flag, value] of shown) {
      const line = SERVE_USAGE.split('\n').find((l) => l.startsWith(`  --${flag} `));
      expect(line, flag).toContain(`(default ${value})`);
    }
  });

  it('documents every flag with its environment variable', () => {
    for (const [flag, variable] of Object.entries(SERVE_ENV)) {
      expect(SERVE_USAGE).toContain(`--${flag}`);
      expect(SERVE_USAGE).toContain(variable);
    }
  });
});
