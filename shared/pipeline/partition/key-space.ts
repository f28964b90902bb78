/** The symbol of "the key ends here": below every character. */
const END = -1;
/**
 * Character classes filled in at a position whose keys vary: a class seen there at all is taken
 * whole (hex letters as a-f while no letter past f is seen), since a character never sampled
 * would otherwise have no room in the space and its keys would go uncounted; room without keys
 * costs only a sample that finds it empty.
 */
const DIGITS = 0x30;
const CLASSES: Array<{ from: number; to: number; hexTo?: number }> = [
  { from: 0x30, to: 0x39 }, // 0-9
  { from: 0x41, to: 0x5a, hexTo: 0x46 }, // A-Z (A-F)
  { from: 0x61, to: 0x7a, hexTo: 0x66 }, // a-z (a-f)
];
/** Positions are read while the product of their alphabet sizes stays a finite double. */
const MAX_SPAN = 1e250;

/**
 * A numbering of the keys under a prefix learnt from sample keys: each position after the prefix
 * is a digit whose alphabet is the characters seen there (in code point order, which is the
 * stores' key order), so a key's value is a mixed-radix number that grows with the key. A folder
 * of numbered names (`img_000000` … `img_199999`) maps onto 0 … 199,999 exactly; random hex names
 * onto their hex value. A character not seen at a position sits at the edge of the next one up.
 * Values turn back into keys (any string is a valid bound), so ranges can be cut at value
 * quantiles without ever listing the keys.
 */
export class KeySpace {
  private readonly alphabets: number[][] = [];
  private readonly weights: number[] = [];
  /** One above the value of every key of the space. */
  readonly size: number;

  constructor(
    readonly prefix: string,
    keys: Iterable<string>,
    /** Characters added to every position (a wide space for exploring before much is known). */
    extra = '',
  ) {
    const seen: Array<Set<number>> = [];
    const extraPoints = [...extra].map((c) => c.codePointAt(0)!);
    for (const key of keys) {
      const points = codePoints(key.slice(prefix.length));
      for (let i = 0; i <= points.length; i++) (seen[i] ??= new Set()).add(i < points.length ? points[i]! : END);
    }
    let span = 1;
    for (const symbols of seen) {
      for (const p of extraPoints) symbols.add(p);
      const varies = [...symbols].filter((s) => s !== END).length >= 2;
      for (const { from, to, hexTo } of CLASSES) {
        const inClass = [...symbols].filter((s) => s >= from && s <= to);
        if (inClass.length > 0 && (varies || from === DIGITS)) {
          const top = hexTo !== undefined && Math.max(...inClass) <= hexTo ? hexTo : to;
          for (let s = from; s <= top; s++) symbols.add(s);
        }
      }
      const alphabet = [...symbols].sort((a, b) => a - b);
      if (span * alphabet.length > MAX_SPAN) break;
      span *= alphabet.length;
      this.alphabets.push(alphabet);
    }
    let weight = 1;
    for (let i = this.alphabets.length - 1; i >= 0; i--) {
      this.weights[i] = weight;
      weight *= this.alphabets[i]!.length;
    }
    this.size = weight;
  }

  /** The key's place in the space (keys past the positions learnt share their value). */
  valueOf(key: string): number {
    const points = codePoints(key.slice(this.prefix.length));
    let value = 0;
    for (let i = 0; i < this.alphabets.length; i++) {
      const symbol = i < points.length ? points[i]! : END;
      const alphabet = this.alphabets[i]!;
      const rank = lowerBound(alphabet, symbol);
      value += rank * this.weights[i]!;
      // Unseen here: the key sorts after everything below `rank` and before the next symbol's keys.
      if (alphabet[rank] !== symbol || symbol === END) return value;
    }
    return value;
  }

  /** The greatest key of the space (to the positions learnt) whose value is at most `value`. */
  keyAt(value: number): string {
    let key = this.prefix;
    let rest = Math.max(0, value);
    for (let i = 0; i < this.alphabets.length; i++) {
      const alphabet = this.alphabets[i]!;
      const digit = Math.min(alphabet.length - 1, Math.floor(rest / this.weights[i]!));
      rest -= digit * this.weights[i]!;
      const symbol = alphabet[digit]!;
      if (symbol === END) break;
      key += String.fromCodePoint(symbol);
    }
    return key;
  }
}

function codePoints(text: string): number[] {
  return Array.from(text, (c) => c.codePointAt(0)!);
}

/** Index of the first entry not below `value` in a sorted array. */
function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
