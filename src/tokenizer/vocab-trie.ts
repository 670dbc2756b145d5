/**
 * The WordPiece vocabulary as a trie over code points, so greedy longest-match walks the word's
 * code points once instead of building and hashing candidate substrings. Two roots: one for
 * word-initial pieces, one for "##" continuation pieces (stored without the "##").
 *
 * Edges live in one open-addressing hash table of (node, code point) -> child, packed in an
 * Int32Array: no per-node objects, no allocation while tokenizing.
 */

export const WORD_ROOT = 0;
export const CONTINUATION_ROOT = 1;
const CONTINUATION_PREFIX = '##';

export class VocabTrie {
  /** Vocabulary id of the piece ending at each node, or -1. */
  private readonly nodeIds: Int32Array;
  /** Triples [node, codePoint, child]; node -1 marks an empty slot. */
  private readonly edges: Int32Array;
  private readonly shift: number;
  private readonly mask: number;

  /** Builds from the vocabulary lines; a token that occurs twice keeps its last id, as HF does. */
  constructor(tokens: readonly string[]) {
    // Every code point of every piece may open a node: that bounds nodes and edges, so the
    // table is sized once (load factor <= 1/2) and built without rehashing.
    let units = 0;
    for (const token of tokens) units += token.startsWith(CONTINUATION_PREFIX) ? 2 * token.length : token.length;
    let bits = 4;
    while (1 << bits < units * 2) bits++;
    this.shift = 32 - bits;
    this.mask = (1 << bits) - 1;
    this.edges = new Int32Array(3 << bits).fill(-1);
    const nodeIds = new Int32Array(units + 2).fill(-1);
    let nodes = 2;

    const insert = (root: number, piece: string, from: number, id: number): void => {
      let node = root;
      for (let i = from; i < piece.length; ) {
        const cp = piece.codePointAt(i)!;
        i += cp > 0xffff ? 2 : 1;
        let slot = this.slotOf(node, cp);
        for (;;) {
          const base = 3 * slot;
          if (this.edges[base] === -1) {
            this.edges[base] = node;
            this.edges[base + 1] = cp;
            this.edges[base + 2] = nodes;
            node = nodes++;
            break;
          }
          if (this.edges[base] === node && this.edges[base + 1] === cp) {
            node = this.edges[base + 2];
            break;
          }
          slot = (slot + 1) & this.mask;
        }
      }
      // The empty piece (an empty vocabulary line) can never be matched: pieces are non-empty.
      if (node !== root) nodeIds[node] = id;
    };
    tokens.forEach((token, id) => {
      insert(WORD_ROOT, token, 0, id);
      if (token.length > CONTINUATION_PREFIX.length && token.startsWith(CONTINUATION_PREFIX)) {
        insert(CONTINUATION_ROOT, token, CONTINUATION_PREFIX.length, id);
      }
    });
    this.nodeIds = nodeIds.slice(0, nodes);
  }

  private slotOf(node: number, cp: number): number {
    return Math.imul(Math.imul(node, 0x85ebca6b) ^ cp, 0x9e3779b1) >>> this.shift;
  }

  /** The child of `node` along code point `cp`, or -1. */
  child(node: number, cp: number): number {
    const edges = this.edges;
    let slot = Math.imul(Math.imul(node, 0x85ebca6b) ^ cp, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const base = 3 * slot;
      const n = edges[base];
      if (n === node && edges[base + 1] === cp) return edges[base + 2];
      if (n === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The vocabulary id of the piece spelled by the path to `node`, or -1. */
  idAt(node: number): number {
    return this.nodeIds[node];
  }
}
