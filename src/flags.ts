/**
 * Flag parsing for subcommands on top of node:util parseArgs, turning its errors and bad values
 * into UsageError (exit 2, one line). Lives below both entry points that parse argv (`src/cli`
 * and `src/node/serve-config.ts`), so neither imports the other for it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parsed flag values: strings, or booleans for `type: 'boolean'` flags. */
export type FlagValues<O extends Options> = { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : string };

export function parseFlags<O extends Options>(
  argv: string[],
  options: O,
  positionals: { min: number; max: number; names: string },
): { values: FlagValues<O>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    throw new UsageError(n < positionals.min ? `missing ${positionals.names}` : `unexpected argument '${parsed.positionals[positionals.max]}'`);
  }
  return { values: parsed.values as FlagValues<O>, positionals: parsed.positionals };
}

export function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')} (got '${value}')`);
  return value as T;
}

export function positiveInt(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} must be a positive integer (got '${value}')`);
  return n;
}
