import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/sim/rng.js';

describe('Rng', () => {
  it('is reproducible from the seed', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const xs = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(xs);
    expect(new Set(xs).size).toBeGreaterThan(15);
  });

  it('gives different streams for different seeds and names', () => {
    const s1 = new Rng(1).fork('nvme0').nextU32();
    const s2 = new Rng(2).fork('nvme0').nextU32();
    const s3 = new Rng(1).fork('nvme1').nextU32();
    expect(new Set([s1, s2, s3]).size).toBe(3);
  });

  it('forks independently of how much the parent or siblings consumed', () => {
    const a = new Rng(9);
    const fa = a.fork('dev').nextU32();
    const b = new Rng(9);
    b.nextU32(); b.nextU32();
    b.fork('other').nextU32();
    expect(b.fork('dev').nextU32()).toBe(fa);
  });

  it('int stays within bounds and covers them', () => {
    const r = new Rng(5);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 7);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(7);
      seen.add(v);
    }
    expect(seen.size).toBe(5);
  });
});
