import { describe, expect, it } from 'vitest';
import { diffArrays } from 'diff';
import { diffRuns } from '../../../src/trace/diff/window-diff.js';

/** jsdiff's runs as diffRuns gives them (count and kind only). */
function reference(a: number[], b: number[], maxEditLength: number): { count: number; added: boolean; removed: boolean }[] | undefined {
  return diffArrays(a, b, { maxEditLength })?.map((c) => ({ count: c.count!, added: c.added === true, removed: c.removed === true }));
}

/** A deterministic xorshift stream. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** b as a copy of a with some removals, insertions and changes (from an alphabet of `alphabet` values, so equal items recur). */
function perturbed(r: () => number, n: number, edits: number, alphabet: number): [number[], number[]] {
  const a = Array.from({ length: n }, () => 2 ** 40 + Math.floor(r() * alphabet));
  const b = a.slice();
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * (b.length + 1));
    const what = r();
    if (what < 0.35 && b.length > 0) b.splice(Math.min(at, b.length - 1), 1);
    else if (what < 0.7) b.splice(at, 0, 2 ** 40 + Math.floor(r() * alphabet));
    else if (b.length > 0) b[Math.min(at, b.length - 1)] = 2 ** 40 + Math.floor(r() * alphabet);
  }
  return [a, b];
}

describe('diffRuns (jsdiff on windows of typed arrays)', () => {
  it('gives the runs of jsdiff diffArrays on the windows, edit budget included', () => {
    const r = rng(7);
    let compared = 0;
    let overBudget = 0;
    for (let t = 0; t < 3000; t++) {
      const n = 1 + Math.floor(r() * (t % 10 === 0 ? 300 : 40));
      const [a, b] = perturbed(r, n, Math.floor(r() * (t % 3 === 0 ? 40 : 8)), t % 2 === 0 ? 4 : 1000);
      const max = t % 4 === 0 ? a.length + b.length : Math.floor(r() * 16);
      const want = reference(a, b, max);
      // Windows inside bigger arrays, as the aligner passes its buffers.
      const fa = new Float64Array(a.length + 5);
      fa.set(a, 3);
      const fb = new Float64Array(b.length + 2);
      fb.set(b, 1);
      expect(diffRuns(fa, 3, a.length, fb, 1, b.length, max)).toEqual(want);
      compared++;
      if (want === undefined) overBudget++;
    }
    expect(compared).toBe(3000);
    expect(overBudget).toBeGreaterThan(100);
  });

  it('handles empty and identical windows', () => {
    const x = new Float64Array([1, 2, 3]);
    const e = new Float64Array(0);
    expect(diffRuns(x, 0, 3, x, 0, 3, 10)).toEqual(reference([1, 2, 3], [1, 2, 3], 10));
    expect(diffRuns(x, 0, 3, e, 0, 0, 10)).toEqual(reference([1, 2, 3], [], 10));
    expect(diffRuns(e, 0, 0, x, 0, 3, 10)).toEqual(reference([], [1, 2, 3], 10));
    expect(diffRuns(e, 0, 0, e, 0, 0, 10)).toEqual(reference([], [], 10));
  });
});
