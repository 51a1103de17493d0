import { describe, expect, it } from 'vitest';
import { bisectSearch, stepsFor, type Verdict } from '../../../src/machine/bisect/search.js';

/** Items 0..n-1; bad from `firstBad` on; `skip` untestable. */
function oracle(firstBad: number, skip: number[] = []) {
  const calls: number[] = [];
  const probe = (i: number): Verdict => {
    calls.push(i);
    if (skip.includes(i)) return 'skip';
    return i >= firstBad ? 'bad' : 'good';
  };
  return { probe, calls };
}

describe('bisectSearch', () => {
  it('finds the first bad item for every position and list length, in at most ceil(log2) probes, never probing the ends', () => {
    for (let n = 2; n <= 40; n++) {
      for (let k = 1; k < n; k++) {
        const o = oracle(k);
        const r = bisectSearch(n, o.probe);
        expect(r).toMatchObject({ status: 'found', firstBad: k, lastGood: k - 1, skipped: [] });
        expect(o.calls.length).toBeLessThanOrEqual(stepsFor(n - 2));
        expect(o.calls.every((i) => i > 0 && i < n - 1)).toBe(true);
        expect(new Set(o.calls).size).toBe(o.calls.length);
        expect(r.probed).toEqual(o.calls);
      }
    }
  });

  it('steps around untestable items that are not next to the answer', () => {
    const o = oracle(4, [2]);
    const r = bisectSearch(6, o.probe);
    expect(r).toMatchObject({ status: 'found', firstBad: 4, lastGood: 3 });
    expect(o.calls).toEqual([2, 3, 4]);
  });

  it('reports a range when untestable items hide the answer', () => {
    const o = oracle(4, [3]);
    const r = bisectSearch(6, o.probe);
    expect(r).toMatchObject({ status: 'ambiguous', lastGood: 2, firstBad: 4, skipped: [3] });
    const all = bisectSearch(5, () => 'skip');
    expect(all).toMatchObject({ status: 'ambiguous', lastGood: 0, firstBad: 4, skipped: [1, 2, 3], probed: [2, 3, 1] });
  });

  it('passes how much is left to each probe', () => {
    const states: number[] = [];
    bisectSearch(10, (i, s) => { states.push(s.left); return i >= 7 ? 'bad' : 'good'; });
    expect(states[0]).toBe(8);
    expect(states).toEqual([...states].sort((a, b) => b - a));
  });

  it('needs both ends', () => {
    expect(() => bisectSearch(1, () => 'good')).toThrow(RangeError);
    expect(stepsFor(0)).toBe(0);
    expect(stepsFor(1)).toBe(1);
    expect(stepsFor(7)).toBe(3);
    expect(stepsFor(8)).toBe(4);
  });
});
