/**
 * A structural pass over JSON text, before JSON.parse: finds an over-long list of non-numbers.
 *
 * Why: parsing `{"input": [[], [], ... 1.39 million]}` (4.17 MB) allocates 1.39 million arrays,
 * about a second of blocked event loop and ~100 MB before any schema can say "at most 2048
 * items". No route takes more than `maxItems` strings, objects or lists in one array; only a flat
 * list of token ids (numbers, which V8 stores unboxed) may be longer. This pass looks at each
 * character once, allocates nothing per element, and gives up (leaving the verdict to JSON.parse)
 * on text it cannot follow.
 */

export type OverlongList =
  | {
      /** Where the list is, as the validation messages write it: `input`, `input.source_sentence`, `documents`; '' for the body itself. */
      path: string;
      /** How many elements it holds. */
      items: number;
    }
  | {
      path: string;
      /** A list of numbers longer than maxItems with something else at this index (reported at once). */
      mixedAt: number;
      kind: 'string' | 'array' | 'object' | 'boolean' | 'null';
    };

interface Frame {
  array: boolean;
  /** The key or index of this container in its parent (undefined for the body). */
  at: string | number | undefined;
  /** Arrays: elements seen so far, and whether all of them were numbers. */
  count: number;
  allNumbers: boolean;
  /** Objects: the key of the member being read, and whether the next string is a key. */
  key: string;
  expectingKey: boolean;
}

function pathOf(stack: readonly Frame[], upTo: number): string {
  let out = '';
  // stack[0] stands for "outside the body", stack[1] is the body itself.
  for (let d = 2; d <= upTo; d++) {
    const at = stack[d].at;
    if (typeof at === 'number') out += `[${at}]`;
    else out += out ? `.${at}` : String(at);
  }
  return out;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index of the quote that closes the string opening at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  for (;;) {
    j = text.indexOf('"', j);
    if (j < 0) return -1;
    let backslashes = 0;
    for (let k = j - 1; text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return j;
    j++;
  }
}

/**
 * The element count of the array being read at `start` (past `counted` elements), read to its
 * closing bracket with a depth counter only; -1 if it does not close.
 */
function countToClose(text: string, start: number, counted: number): number {
  let depth = 0;
  let items = counted;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return -1;
    } else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (depth === 0) return items;
      depth--;
    } else if (c === 0x2c && depth === 0) items++;
  }
  return -1;
}

/**
 * The first array in `text` (JSON) that holds more than `maxItems` elements, not all numbers: with
 * its exact count, or, for a list of numbers with something else past `maxItems`, that element's
 * index and kind. Undefined when there is none, or when `text` is not JSON this pass can follow.
 */
export function findOverlongList(text: string, maxItems: number): OverlongList | undefined {
  // An array of more than maxItems elements takes at least 2 * maxItems + 3 characters.
  if (text.length < 2 * maxItems + 3) return undefined;
  const stack: Frame[] = [{ array: false, at: undefined, count: 0, allNumbers: true, key: '', expectingKey: false }];
  /** Depth of the over-long array once found (then only its elements are counted, to its end). */
  let found = -1;
  const result = (i: number): OverlongList | undefined => {
    const items = countToClose(text, i, stack[found].count);
    return items < 0 ? undefined : { path: pathOf(stack, found), items };
  };

  let mixed: OverlongList | undefined;
  const value = (kind: 'number' | 'string' | 'array' | 'object' | 'boolean' | 'null'): string | number | undefined => {
    const parent = stack[stack.length - 1];
    if (!parent.array) return parent.key;
    parent.count++;
    if (kind !== 'number' && parent.allNumbers) {
      parent.allNumbers = false;
      if (parent.count > maxItems) mixed = { path: pathOf(stack, stack.length - 1), mixedAt: parent.count - 1, kind };
    }
    if (parent.count > maxItems && !parent.allNumbers && found < 0) found = stack.length - 1;
    return parent.count - 1;
  };

  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c /* , */ || c === 0x3a /* : */) {
      if (c === 0x2c && !stack[stack.length - 1].array) stack[stack.length - 1].expectingKey = true;
      continue;
    }
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      const top = stack[stack.length - 1];
      if (!top.array && top.expectingKey) {
        const raw = text.slice(i + 1, end);
        try {
          top.key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        } catch {
          return undefined;
        }
        top.expectingKey = false;
      } else {
        value('string');
        if (mixed) return mixed;
        if (found >= 0) return result(i);
      }
      i = end;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const at = stack.length === 1 ? undefined : value(c === 0x5b ? 'array' : 'object');
      if (mixed) return mixed;
      if (found >= 0) return result(i);
      stack.push({ array: c === 0x5b, at, count: 0, allNumbers: true, key: '', expectingKey: c === 0x7b });
      continue;
    }
    if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (stack.length <= 1) return undefined;
      stack.pop();
      continue;
    }
    // A number or a literal (true, false, null): skip to its end.
    if (!(c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e)) return undefined;
    const kind = c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39) ? 'number' : c === 0x6e /* n */ ? 'null' : 'boolean';
    if (stack.length > 1) value(kind);
    if (mixed) return mixed;
    if (found >= 0) return result(i);
    while (i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d === 0x2c || d === 0x5d || d === 0x7d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      i++;
    }
  }
  return undefined;
}
