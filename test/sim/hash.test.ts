import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FNV_OFFSET, fnvArray, fnvNumber, fnvWord } from '../../src/sim/hash.js';

/** The definition: FNV-1a over the number's low and high 32-bit halves, low first. */
const byDefinition = (h: number, n: number): number => fnvWord(fnvWord(h, n >>> 0), Math.floor(n / 4294967296) >>> 0);

describe('state digests (FNV-1a)', () => {
  it('fnvWord is FNV-1a over the word\'s four bytes, low first', () => {
    let h = FNV_OFFSET;
    for (const b of [0x78, 0x56, 0x34, 0x12]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnvWord(FNV_OFFSET, 0x12345678)).toBe(h);
  });

  it('fnvNumber folds both halves, whatever shortcut it takes for values below 2^32', () => {
    const edge = [0, 1, 255, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 5, -1, -(2 ** 33), 0.5, 4294967295.5, NaN, Infinity, -Infinity, 1e300];
    for (const n of edge) expect(fnvNumber(FNV_OFFSET, n)).toBe(byDefinition(FNV_OFFSET, n));
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.oneof(fc.integer(), fc.double(), fc.maxSafeInteger()), (h, n) => {
      expect(fnvNumber(h, n)).toBe(byDefinition(h, n));
    }));
  });

  it('fnvArray is fnvNumber over the elements in order', () => {
    const a = new Float64Array([3, 2 ** 45, 7.5, 0]);
    let h = FNV_OFFSET;
    for (const v of a) h = byDefinition(h, v);
    expect(fnvArray(FNV_OFFSET, a)).toBe(h);
  });
});
