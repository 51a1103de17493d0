/**
 * The search itself, independent of what is being bisected (commits or
 * machine variants): items 0..n-1 in order, item 0 known good, item n-1
 * known bad, and the assumption that once an item is bad every later one is
 * bad too. Items that cannot be tested ("skip": the scenario does not load
 * there, the install failed) are stepped around, as `git bisect skip` does;
 * if they end up between the last good and the first bad item, the answer is
 * a range rather than one item.
 */

export type Verdict = 'good' | 'bad' | 'skip';

export interface SearchState {
  /** Index of the last item known good. */
  lastGood: number;
  /** Index of the first item known bad. */
  firstBad: number;
  /** Items between the two that still need testing (skipped ones excluded). */
  left: number;
  /** Roughly how many more probes, this one included. */
  steps: number;
}

export interface SearchResult {
  /** `found`: lastGood + 1 === firstBad. `ambiguous`: untestable items lie between them. */
  status: 'found' | 'ambiguous';
  lastGood: number;
  firstBad: number;
  /** Untestable items between lastGood and firstBad (empty when found). */
  skipped: number[];
  /** Indices probed, in order (the endpoints are not included). */
  probed: number[];
}

/** How many probes a binary search over `left` untested items takes at most. */
export function stepsFor(left: number): number {
  return left <= 0 ? 0 : Math.ceil(Math.log2(left + 1));
}

/**
 * Binary search over 1..n-2 between a good item 0 and a bad item n-1.
 * `probe(i, state)` classifies item i; it is called once per probed item.
 */
export function bisectSearch(n: number, probe: (i: number, state: SearchState) => Verdict): SearchResult {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`bisectSearch needs at least 2 items, got ${n}`);
  let lo = 0;
  let hi = n - 1;
  const skipped = new Set<number>();
  const probed: number[] = [];
  for (;;) {
    const i = nextProbe(lo, hi, skipped);
    if (i === undefined) break;
    let left = 0;
    for (let j = lo + 1; j < hi; j++) if (!skipped.has(j)) left++;
    const v = probe(i, { lastGood: lo, firstBad: hi, left, steps: stepsFor(left) });
    probed.push(i);
    if (v === 'good') lo = i;
    else if (v === 'bad') hi = i;
    else skipped.add(i);
  }
  const between: number[] = [];
  for (let j = lo + 1; j < hi; j++) between.push(j);
  return { status: between.length === 0 ? 'found' : 'ambiguous', lastGood: lo, firstBad: hi, skipped: between, probed };
}

/** The untested item in (lo, hi) nearest the middle, or undefined when there is none. */
function nextProbe(lo: number, hi: number, skipped: ReadonlySet<number>): number | undefined {
  if (hi - lo < 2) return undefined;
  const mid = lo + Math.floor((hi - lo) / 2);
  for (let d = 0; mid - d > lo || mid + d < hi; d++) {
    if (mid + d < hi && !skipped.has(mid + d)) return mid + d;
    if (d > 0 && mid - d > lo && !skipped.has(mid - d)) return mid - d;
  }
  return undefined;
}
