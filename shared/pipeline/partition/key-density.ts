import { compareKeys } from './key-order';
import type { KeySpace } from './key-space';

/** One listing page read for planning: the keys right after `after`, in key order. */
export interface Sample {
  after: string;
  keys: string[];
  /** The listing ended within this page: no key lies past its last one. */
  complete: boolean;
}

/** A stretch of the key space whose keys are all known: exactly `keys` lie after `after`, up to `upTo` (to the end when unset). */
interface Known {
  after: string;
  upTo?: string;
  keys: string[];
}

/** Keys at a stretch's edge that measure the density next to it. */
const EDGE_KEYS = 100;
/** Probes looking for where the listing ends, at most. */
const MAX_END_PROBES = 24;

/** A known key, or a gap between samples with its estimated count (`last`: the listing ends in it). */
type Piece = { key: string } | { lo: number; hi: number; count: number; density: number; last: boolean };

/**
 * How many keys lie where, after `from`, as far as samples tell: where samples read the keys they
 * are counted exactly; in a gap between two samples the count is the gap's width in the key space
 * times the mean of the densities (keys per unit of width) measured at the samples' edges next to
 * it. Past the last sample, when no listing ended, the gap up to the end of the space is counted
 * at half the density before it (the keys end somewhere in it).
 */
export class KeyEstimate {
  private readonly pieces: Piece[] = [];
  readonly total: number;

  constructor(
    private readonly space: KeySpace,
    samples: Sample[],
    private readonly from: string,
  ) {
    const stretches = known(samples);
    const start = space.valueOf(from);
    stretches.forEach((stretch, i) => {
      for (const key of stretch.keys) if (compareKeys(key, from) > 0) this.pieces.push({ key });
      if (stretch.upTo === undefined) return;
      const next = stretches[i + 1];
      const lo = Math.max(space.valueOf(stretch.upTo), start);
      const hi = next ? space.valueOf(next.after) : space.size;
      const density = (this.densityAtEnd(stretch) + (next ? this.densityAtStart(next) : 0)) / 2;
      if (hi > lo) this.pieces.push({ lo, hi, count: (hi - lo) * density, density, last: !next || next.upTo === undefined });
    });
    this.total = this.pieces.reduce((sum, p) => sum + ('key' in p ? 1 : p.count), 0);
  }

  /**
   * Bounds cutting the keys after `from` into `ranges` ranges of about the same estimated count:
   * strictly increasing and above `from`; fewer when there are fewer keys.
   */
  bounds(ranges: number): string[] {
    const bounds: string[] = [];
    const push = (bound: string) => {
      if (compareKeys(bound, bounds.at(-1) ?? this.from) > 0) bounds.push(bound);
    };
    const share = (n: number) => (n * this.total) / ranges;
    let counted = 0;
    let wanted = 1;
    for (const piece of this.pieces) {
      if (wanted >= ranges) break;
      if ('key' in piece) {
        counted++;
        if (counted < share(wanted)) continue;
        push(piece.key);
        while (wanted < ranges && counted >= share(wanted)) wanted++;
        continue;
      }
      while (wanted < ranges && counted + piece.count >= share(wanted)) {
        push(this.space.keyAt(piece.lo + ((share(wanted) - counted) / piece.count) * (piece.hi - piece.lo)));
        wanted++;
      }
      counted += piece.count;
    }
    return bounds;
  }

  /**
   * Points to sample next: inside each gap estimated to hold at least half a range's share of
   * the keys, evenly, about one per share (about `budget` in all, the largest gaps first), and
   * back from the end of the gap where the listing ends.
   */
  probes(ranges: number, budget: number): string[] {
    const share = this.total / ranges;
    const gaps = this.pieces.filter((p): p is Extract<Piece, { lo: number }> => 'lo' in p && p.count >= share / 2);
    const wanted = gaps.map((g) => Math.max(1, Math.round(g.count / share)));
    const scale = Math.min(1, budget / wanted.reduce((a, b) => a + b, 0));
    const order = gaps.map((_, i) => i).sort((a, b) => gaps[b]!.count - gaps[a]!.count);
    const points: string[] = [];
    for (const i of order) {
      const gap = gaps[i]!;
      const n = Math.min(budget - points.length, Math.max(1, Math.floor(wanted[i]! * scale)));
      for (let j = 1; j <= n; j++) points.push(this.space.keyAt(gap.lo + ((gap.hi - gap.lo) * j) / (n + 1)));
      // Where the listing ends, points at doubling distances back from the gap's end: the one
      // just before the last keys reads them, so the end is known, not guessed.
      if (gap.last) {
        for (let distance = EDGE_KEYS / gap.density, k = 0; distance < gap.hi - gap.lo && k < MAX_END_PROBES; distance *= 2, k++) {
          points.push(this.space.keyAt(gap.hi - distance));
        }
      }
      if (points.length >= budget) break;
    }
    return [...new Set(points)];
  }

  /** Keys per unit of width over the last keys of a stretch. */
  private densityAtEnd(stretch: Known): number {
    const edge = stretch.keys.slice(-EDGE_KEYS);
    if (edge.length < 2) return this.densityAtStart(stretch);
    return (edge.length - 1) / this.width(edge[0]!, edge.at(-1)!);
  }

  /** Keys per unit of width from a stretch's start over its first keys (the empty lead counts). */
  private densityAtStart(stretch: Known): number {
    const edge = stretch.keys.slice(0, EDGE_KEYS);
    if (edge.length === 0) return 0;
    return edge.length / this.width(stretch.after, edge.at(-1)!);
  }

  private width(from: string, to: string): number {
    return Math.max(this.space.size * Number.EPSILON, this.space.valueOf(to) - this.space.valueOf(from));
  }
}

/** The samples merged where they overlap or touch, in key order. */
function known(samples: Sample[]): Known[] {
  const sorted = [...samples].sort((a, b) => compareKeys(a.after, b.after));
  const merged: Known[] = [];
  for (const sample of sorted) {
    const upTo = sample.complete ? undefined : sample.keys.at(-1) ?? sample.after;
    const last = merged.at(-1);
    if (last && (last.upTo === undefined || compareKeys(sample.after, last.upTo) <= 0)) {
      if (last.upTo === undefined) continue;
      last.keys.push(...sample.keys.filter((k) => compareKeys(k, last.upTo!) > 0));
      if (upTo === undefined || compareKeys(upTo, last.upTo) > 0) last.upTo = upTo;
      continue;
    }
    merged.push({ after: sample.after, upTo, keys: [...sample.keys] });
  }
  return merged;
}
