/**
 * Precise messages for a field that may be text or token ids, used when zod's union cannot tell
 * which form the client meant (`input: [1, "a"]`, `input: []`, too many items ...). Each message
 * starts with the exact parameter path, so the client sees what to fix.
 */

const FORMS = 'a string, an array of strings, an array of token ids, or an array of token-id arrays';

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
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

/** Why `value` is not a valid text-or-token-ids field named `name` holding at most `maxItems` inputs. */
export function describeTextOrTokensProblem(name: string, value: unknown, maxItems: number, options: { tokens: boolean } = { tokens: true }): string {
  const forms = options.tokens ? FORMS : 'a string or an array of strings';
  if (value === undefined) return `${name} is required: ${forms}`;
  if (typeof value === 'string') return value.length === 0 ? `${name} must not be an empty string` : `${name} is not valid`;
  if (!Array.isArray(value)) return `${name} must be ${forms}, got ${kindOf(value)}`;
  if (value.length === 0) return `${name} must not be an empty array; send at least one input`;
  if (value.length > maxItems) return `${name} has ${value.length} items; at most ${maxItems} are allowed per request, split it into several requests`;
  const first = kindOf(value[0]);
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
  if (first === 'string') {
    const empty = value.findIndex((s) => s === '');
    if (empty >= 0) return `${name}[${empty}] must not be an empty string`;
  }
  if (first === 'number') return checkTokenIds(value, name) ?? `${name} is not valid`;
  if (first === 'array') {
    for (let i = 0; i < value.length; i++) {
      const problem = checkTokenIds(value[i] as unknown[], `${name}[${i}]`);
      if (problem) return problem;
    }
  }
  return `${name} must be ${forms}`;
}
