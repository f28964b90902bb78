/**
 * A set of archive indices kept as sorted, disjoint `[first, last]` ranges: archives finish nearly
 * in order, so a chunk of 5,000 videos stays a range or two in the run record, not 5,000 numbers.
 */
export type IndexRanges = Array<[number, number]>;

export function hasIndex(ranges: IndexRanges, index: number): boolean {
  return ranges.some(([first, last]) => index >= first && index <= last);
}

export function withIndex(ranges: IndexRanges, index: number): IndexRanges {
  if (hasIndex(ranges, index)) return ranges;
  const merged: IndexRanges = [];
  for (const [first, last] of [...ranges, [index, index] as [number, number]].sort((a, b) => a[0] - b[0])) {
    const previous = merged[merged.length - 1];
    if (previous && first <= previous[1] + 1) previous[1] = Math.max(previous[1], last);
    else merged.push([first, last]);
  }
  return merged;
}

export function countIndices(ranges: IndexRanges): number {
  return ranges.reduce((n, [first, last]) => n + last - first + 1, 0);
}
