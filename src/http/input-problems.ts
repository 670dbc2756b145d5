/**
 * Precise, linear checks of the list fields (text or token ids), run on the parsed body before zod
 * walks it (see `checkedFirst` in ./schemas.ts) and used as the message when zod's union cannot
 * tell which form the client meant (`input: [1, "a"]`, `input: []`, too many items ...).
 *
 * Why before zod: zod parses every element of an array before its length check, and a union tries
 * every option, so `{"input": [[], [], ... 1.39 million]}` built millions of issue objects (5.6 s of
 * blocked event loop, +1.3 GB RSS) before answering 400. Here the cheap limits come first (the
 * item count, the first element's kind, one kind for all), each element is looked at once, and
 * the first problem ends the walk. Each message starts with the exact parameter path, so the
 * client sees what to fix.
 */
import { hasTokenizableChar } from '../tokenizer/char-classes.js';

const FORMS = 'a string, an array of strings, an array of token ids, or an array of token-id arrays';

/** The predicate for a text input without tokens (completed with its path). */
export const NO_TOKENS = 'has no tokens after normalization (only whitespace, control, zero-width or combining characters); send some text';

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Why a text input is not embeddable (a predicate), or undefined. */
export function textPredicate(text: string): string | undefined {
  if (text.length === 0) return 'must not be an empty string';
  if (!hasTokenizableChar(text)) return NO_TOKENS;
  return undefined;
}

function checkTokenIds(ids: readonly unknown[], at: string): string | undefined {
  if (ids.length === 0) return `${at} must not be an empty token-id array`;
  for (let j = 0; j < ids.length; j++) {
    const id = ids[j];
    if (typeof id !== 'number') return `${at}[${j}] must be a token id (a non-negative integer), got ${kindOf(id)}`;
    if (!Number.isSafeInteger(id) || id < 0) return `${at}[${j}] must be a token id (a non-negative integer), got ${id}`;
  }
  return undefined;
}

/**
 * Why `value` is not a valid text-or-token-ids field named `name`, or undefined when it is valid.
 * A list of strings or of token-id arrays holds at most `maxItems` inputs; a flat list of token ids
 * is ONE input, bounded only by the body limit (and truncated to the model's max length), so a bad
 * id in it is named (`input[1000000]`) rather than counted.
 */
export function textOrTokensProblem(name: string, value: unknown, maxItems: number, options: { tokens: boolean } = { tokens: true }): string | undefined {
  const forms = options.tokens ? FORMS : 'a string or an array of strings';
  if (value === undefined) return `${name} is required: ${forms}`;
  if (typeof value === 'string') {
    const problem = textPredicate(value);
    return problem && `${name} ${problem}`;
  }
  if (!Array.isArray(value)) return `${name} must be ${forms}, got ${kindOf(value)}`;
  if (value.length === 0) return `${name} must not be an empty array; send at least one input`;
  const first = kindOf(value[0]);
  if (options.tokens && first === 'number') {
    for (let i = 0; i < value.length; i++) {
      const kind = kindOf(value[i]);
      if (kind === 'string' || kind === 'array') return `${name}[${i}] is a ${kind} but ${name}[0] is a number; one request must not mix text, token ids and token-id arrays`;
    }
    return checkTokenIds(value, name);
  }
  if (value.length > maxItems) return `${name} has ${value.length} items; at most ${maxItems} are allowed per request, split it into several requests`;
  const allowed = options.tokens ? ['string', 'number', 'array'] : ['string'];
  for (let i = 0; i < value.length; i++) {
    const kind = kindOf(value[i]);
    if (!allowed.includes(kind)) {
      return options.tokens
        ? `${name}[${i}] must be a string, a token id or a token-id array, got ${kind}`
        : `${name}[${i}] must be a string, got ${kind}`;
    }
    if (kind !== first) return `${name}[${i}] is a ${kind} but ${name}[0] is a ${first}; one request must not mix text, token ids and token-id arrays`;
  }
  for (let i = 0; i < value.length; i++) {
    const problem = first === 'string' ? textPredicate(value[i] as string) : checkTokenIds(value[i] as unknown[], `${name}[${i}]`);
    if (problem) return first === 'string' ? `${name}[${i}] ${problem}` : problem;
  }
  return undefined;
}

/** Why `value` is not a valid text-or-token-ids field: the message for zod's union error. */
export function describeTextOrTokensProblem(name: string, value: unknown, maxItems: number, options: { tokens: boolean } = { tokens: true }): string {
  return textOrTokensProblem(name, value, maxItems, options) ?? `${name} must be ${options.tokens ? FORMS : 'a string or an array of strings'}`;
}

/**
 * Why a list of texts named `name` (rerank documents aside) is not valid, or undefined; only
 * arrays are looked at (anything else fails zod's first, cheap type check).
 */
export function textListProblem(name: string, value: unknown, maxItems: number): string | undefined {
  if (!Array.isArray(value)) return undefined;
  if (value.length > maxItems) return `${name} has ${value.length} items; at most ${maxItems} are allowed per request`;
  for (let i = 0; i < value.length; i++) {
    const text = value[i];
    if (typeof text !== 'string') return `${name}[${i}] must be a string, got ${kindOf(text)}`;
    const problem = textPredicate(text);
    if (problem) return `${name}[${i}] ${problem}`;
  }
  return undefined;
}
