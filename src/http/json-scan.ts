/**
 * A structural pass over JSON, before JSON.parse: finds an over-long list of non-numbers.
 *
 * Why: parsing `{"input": [[], [], ... 1.39 million]}` (4.17 MB) allocates 1.39 million arrays,
 * about a second of blocked event loop and ~100 MB before any schema can say "at most 2048
 * items". No route takes more than `maxItems` strings, objects or lists in one array; only a flat
 * list of token ids (numbers, which V8 stores unboxed) may be longer. This pass looks at each
 * byte once, allocates nothing per element, and gives up (leaving the verdict to JSON.parse) on
 * input it cannot follow.
 *
 * It is resumable: `ListScanner` is fed the body's bytes chunk by chunk as they arrive, so the
 * HTTP layer can refuse the list as soon as its element number maxItems + 1 is seen, a few KB into
 * a 4 MB body, instead of after reading all of it (reading 4 MB alone costs tens of ms). It scans
 * bytes, not text: every character it acts on (quotes, backslashes, brackets, commas, colons,
 * whitespace, the first letter of a number or literal) is ASCII, and no byte of a multi-byte UTF-8
 * sequence is below 0x80, so a chunk may end anywhere (inside a string, an escape or a character).
 */

export type OverlongList =
  | {
      /** Where the list is, as the validation messages write it: `input`, `input.source_sentence`, `documents`; '' for the body itself. */
      path: string;
      /** How many elements it holds (known once the list has been read to its end). */
      items: number;
    }
  | {
      path: string;
      /** Seen while the list is still arriving: it holds more than this many elements (maxItems). */
      moreThan: number;
    }
  | {
      path: string;
      /** A list of numbers longer than maxItems with something else at this index (reported at once). */
      mixedAt: number;
      kind: 'string' | 'array' | 'object' | 'boolean' | 'null';
    };

type ValueKind = 'number' | 'string' | 'array' | 'object' | 'boolean' | 'null';

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

/**
 * Containers nested deeper than this are not followed (the scan gives up): every route's body is
 * at most four levels deep, and a frame per `[` of a 4 MB `[[[[...` would cost more than the parse.
 */
const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const BOM = [0xef, 0xbb, 0xbf];

// What the scanner is in the middle of when a chunk ends.
/** Between tokens: the next byte starts a value, a key, or is structure. */
const STRUCTURE = 0;
/** Inside a string (a key or a value). */
const STRING = 1;
/** Inside a number or literal (true, false, null): skipped to its end. */
const SCALAR = 2;
/** The over-long list has been found: counting its elements to its closing bracket. */
const COUNTING = 3;
/** Inside a string while counting. */
const COUNTING_STRING = 4;
/** A verdict (or giving up) is final; the rest is not looked at. */
const DONE = 5;

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

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

const keyDecoder = new TextDecoder();

/**
 * Fed a JSON document's bytes in chunks (`push`), reports the first array holding more than
 * `maxItems` elements, not all numbers:
 * - `push` returns a refusal as soon as one is certain: `{path, moreThan}` at element maxItems + 1
 *   of such a list, `{path, mixedAt, kind}` at the first non-number past maxItems in a list of
 *   numbers. It keeps returning that refusal for later chunks.
 * - `end` returns what the whole document says: the list with its exact element count, or the
 *   mixed element; undefined when there is none, or when the input is not JSON this pass can
 *   follow (then JSON.parse gives the verdict), including a list that never closes.
 * A leading UTF-8 byte-order mark is skipped, as `Request.text()` drops it.
 */
export class ListScanner {
  private readonly stack: Frame[] = [{ array: false, at: undefined, count: 0, allNumbers: true, key: '', expectingKey: false }];
  private mode = STRUCTURE;
  /** STRING/COUNTING_STRING: the previous byte was an unpaired backslash. */
  private escaped = false;
  /** STRING: whether the string is an object key, and its bytes so far (held only across chunks). */
  private stringIsKey = false;
  private keyParts: Uint8Array[] = [];
  /** Bytes of the byte-order mark matched so far; -1 once past the start of the document. */
  private bom = 0;
  /** COUNTING: the over-long list's depth, elements counted so far and the nesting inside it. */
  private found = -1;
  private items = 0;
  private depth = 0;
  private refusal: OverlongList | undefined;
  private verdict: OverlongList | undefined;
  /** A mixed element that is a string: refused at its opening quote, the verdict once it closes. */
  private mixedString: OverlongList | undefined;

  constructor(private readonly maxItems: number) {}

  /** Scans the next chunk; the refusal known so far (see the class comment). */
  push(chunk: Uint8Array): OverlongList | undefined {
    let i = 0;
    const n = chunk.length;
    if (this.bom >= 0) {
      while (i < n && this.bom < BOM.length && chunk[i] === BOM[this.bom]) {
        this.bom++;
        i++;
      }
      if (this.bom === BOM.length) this.bom = -1;
      else if (i < n) {
        // A byte that breaks off a started mark is not UTF-8 this pass can follow.
        if (this.bom > 0) this.giveUp();
        this.bom = -1;
      }
    }
    while (i < n && this.mode !== DONE) {
      switch (this.mode) {
        case STRUCTURE:
          i = this.structure(chunk, i);
          break;
        case STRING:
        case COUNTING_STRING:
          i = this.string(chunk, i);
          break;
        case SCALAR:
          i = this.scalar(chunk, i);
          break;
        case COUNTING:
          i = this.count(chunk, i);
          break;
      }
    }
    return this.refusal;
  }

  /** The verdict on the whole document, once every chunk has been pushed. */
  end(): OverlongList | undefined {
    return this.mode === DONE ? this.verdict : undefined;
  }

  private giveUp(): void {
    this.mode = DONE;
    this.verdict = undefined;
  }

  /** Counts an element of the innermost container (a member of an object is not counted). */
  private value(kind: ValueKind): string | number | undefined {
    const stack = this.stack;
    const parent = stack[stack.length - 1];
    if (!parent.array) return parent.key;
    parent.count++;
    if (kind !== 'number' && parent.allNumbers) {
      parent.allNumbers = false;
      if (parent.count > this.maxItems) {
        const mixed: OverlongList = { path: pathOf(stack, stack.length - 1), mixedAt: parent.count - 1, kind };
        this.refusal = mixed;
        if (kind === 'string') this.mixedString = mixed;
        else {
          this.mode = DONE;
          this.verdict = mixed;
        }
        return undefined;
      }
    }
    if (parent.count > this.maxItems && !parent.allNumbers) {
      this.found = stack.length - 1;
      this.items = parent.count;
      this.depth = 0;
      this.refusal = { path: pathOf(stack, this.found), moreThan: this.maxItems };
      // The element that made the list over-long is read again by the counter (a `[` nests).
      this.mode = COUNTING;
    }
    return parent.count - 1;
  }

  private structure(chunk: Uint8Array, start: number): number {
    const stack = this.stack;
    const n = chunk.length;
    for (let i = start; i < n; i++) {
      const c = chunk[i];
      if (isWhitespace(c) || c === COMMA || c === 0x3a /* : */) {
        if (c === COMMA && !stack[stack.length - 1].array) stack[stack.length - 1].expectingKey = true;
        continue;
      }
      if (c === QUOTE) {
        const top = stack[stack.length - 1];
        if (!top.array && top.expectingKey) {
          this.stringIsKey = true;
          this.keyParts = [];
        } else {
          this.stringIsKey = false;
          this.value('string');
          if (this.mode !== STRUCTURE) return i;
        }
        this.mode = STRING;
        this.escaped = false;
        return i + 1;
      }
      if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        const at = stack.length === 1 ? undefined : this.value(c === 0x5b ? 'array' : 'object');
        if (this.mode !== STRUCTURE) return i;
        if (stack.length > MAX_DEPTH) {
          this.giveUp();
          return n;
        }
        stack.push({ array: c === 0x5b, at, count: 0, allNumbers: true, key: '', expectingKey: c === 0x7b });
        continue;
      }
      if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (stack.length <= 1) {
          this.giveUp();
          return n;
        }
        stack.pop();
        continue;
      }
      // A number or a literal (true, false, null): skipped to its end.
      const number = c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39);
      if (!(number || c === 0x74 /* t */ || c === 0x66 /* f */ || c === 0x6e /* n */)) {
        this.giveUp();
        return n;
      }
      if (stack.length > 1) this.value(number ? 'number' : c === 0x6e ? 'null' : 'boolean');
      if (this.mode !== STRUCTURE) return i;
      this.mode = SCALAR;
      return i + 1;
    }
    return n;
  }

  private scalar(chunk: Uint8Array, start: number): number {
    const n = chunk.length;
    for (let i = start; i < n; i++) {
      const c = chunk[i];
      if (c === COMMA || c === 0x5d || c === 0x7d || isWhitespace(c)) {
        this.mode = STRUCTURE;
        return i;
      }
    }
    return n;
  }

  /** Skips to the closing quote (past escapes, across chunks); a key's bytes are kept. */
  private string(chunk: Uint8Array, start: number): number {
    const n = chunk.length;
    let j = start;
    if (this.escaped) {
      if (j >= n) return n;
      this.escaped = false;
      j++;
    }
    // From j on, no byte is escaped by what came before.
    for (;;) {
      const q = chunk.indexOf(QUOTE, j);
      if (q < 0) {
        let run = 0;
        for (let k = n - 1; k >= j && chunk[k] === BACKSLASH; k--) run++;
        this.escaped = run % 2 === 1;
        if (this.stringIsKey && this.mode === STRING && start < n) this.keyParts.push(chunk.slice(start, n));
        return n;
      }
      let run = 0;
      for (let k = q - 1; k >= j && chunk[k] === BACKSLASH; k--) run++;
      if (run % 2 === 1) {
        j = q + 1;
        continue;
      }
      if (this.mode === COUNTING_STRING) this.mode = COUNTING;
      else if (this.mixedString !== undefined) {
        this.mode = DONE;
        this.verdict = this.mixedString;
      } else {
        this.mode = STRUCTURE;
        if (this.stringIsKey) this.setKey(chunk.subarray(start, q));
      }
      return q + 1;
    }
  }

  private setKey(last: Uint8Array): void {
    const parts = this.keyParts;
    this.keyParts = [];
    let bytes = last;
    if (parts.length > 0) {
      bytes = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0) + last.length);
      let offset = 0;
      for (const p of parts) {
        bytes.set(p, offset);
        offset += p.length;
      }
      bytes.set(last, offset);
    }
    const raw = keyDecoder.decode(bytes);
    const top = this.stack[this.stack.length - 1];
    try {
      top.key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
    } catch {
      this.giveUp();
      return;
    }
    top.expectingKey = false;
  }

  /** Counts the over-long list's elements (commas at its own level) up to its closing bracket. */
  private count(chunk: Uint8Array, start: number): number {
    const n = chunk.length;
    for (let i = start; i < n; i++) {
      const c = chunk[i];
      if (c === QUOTE) {
        this.mode = COUNTING_STRING;
        this.escaped = false;
        return i + 1;
      }
      if (c === 0x5b || c === 0x7b) this.depth++;
      else if (c === 0x5d || c === 0x7d) {
        if (this.depth === 0) {
          this.mode = DONE;
          this.verdict = { path: pathOf(this.stack, this.found), items: this.items };
          return n;
        }
        this.depth--;
      } else if (c === COMMA && this.depth === 0) this.items++;
    }
    return n;
  }
}

const encoder = new TextEncoder();

/**
 * The first array in `text` (JSON) that holds more than `maxItems` elements, not all numbers: with
 * its exact count, or, for a list of numbers with something else past `maxItems`, that element's
 * index and kind. Undefined when there is none, or when `text` is not JSON this pass can follow.
 * (`ListScanner` fed the whole text at once.)
 */
export function findOverlongList(text: string, maxItems: number): OverlongList | undefined {
  // An array of more than maxItems elements takes at least 2 * maxItems + 3 characters.
  if (text.length < 2 * maxItems + 3) return undefined;
  const scanner = new ListScanner(maxItems);
  scanner.push(encoder.encode(text));
  return scanner.end();
}
