/**
 * Per-code-point lower-casing and accent stripping, as HF's BertNormalizer does them:
 * strip_accents = NFD then drop nonspacing marks, then lowercase = each char's full lower-case
 * mapping (per char, so no final-sigma rule: "Σ" always becomes "σ", as in HF's Rust code).
 *
 * Results are computed with the engine's String.prototype.normalize / toLowerCase the first time a
 * code point is seen and cached, so the hot loop never allocates for characters it has met before.
 */
import { charFlags, hfDecomposesAstral, NONSPACING_MARK } from './char-classes.js';

const UNKNOWN = -2;
/** Returned by `map` when the result is not exactly one code point: read `mapped(cp)`. */
export const MAPS_TO_SEQUENCE = -1;

const EMPTY = new Int32Array(0);

function codePointsOf(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    out.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

export class CharNormalizer {
  /** True when neither lower-casing nor accent stripping is on: every code point maps to itself. */
  readonly identity: boolean;
  private readonly bmp = new Int32Array(0x10000).fill(UNKNOWN);
  private readonly astral = new Map<number, number>();
  private readonly sequences = new Map<number, Int32Array>();

  constructor(
    readonly lowercase: boolean,
    readonly stripAccents: boolean,
  ) {
    this.identity = !lowercase && !stripAccents;
    for (let cp = 0; cp < 0x80; cp++) {
      this.bmp[cp] = lowercase && cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp;
    }
  }

  /** The single code point `cp` becomes, or MAPS_TO_SEQUENCE (then call `mapped`). */
  map(cp: number): number {
    if (cp < 0x10000) {
      const known = this.bmp[cp];
      if (known !== UNKNOWN) return known;
      return (this.bmp[cp] = this.compute(cp));
    }
    const known = this.astral.get(cp);
    if (known !== undefined) return known;
    const computed = this.compute(cp);
    this.astral.set(cp, computed);
    return computed;
  }

  /** The code points `cp` becomes when `map(cp)` returned MAPS_TO_SEQUENCE (possibly none). */
  mapped(cp: number): Int32Array {
    return this.sequences.get(cp) ?? EMPTY;
  }

  private compute(cp: number): number {
    let chars = [cp];
    if (this.stripAccents) {
      if (cp < 0x10000 || hfDecomposesAstral(cp)) chars = codePointsOf(String.fromCodePoint(cp).normalize('NFD'));
      chars = chars.filter((c) => (charFlags(c) & NONSPACING_MARK) === 0);
    }
    if (this.lowercase) {
      chars = chars.flatMap((c) => codePointsOf(String.fromCodePoint(c).toLowerCase()));
    }
    if (chars.length === 1) return chars[0];
    this.sequences.set(cp, Int32Array.from(chars));
    return MAPS_TO_SEQUENCE;
  }
}
