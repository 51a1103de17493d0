import { describe, expect, it } from 'vitest';
import { Hasher } from '../../../src/trace/diff/hash.js';

const key = (d: Uint8Array, skip?: readonly (readonly [number, number])[]) =>
  (skip === undefined ? new Hasher().start(1).bytes(d, 0, d.length) : new Hasher().start(1).bytesWithout(d, skip)).value();

describe('Hasher.bytesWithout', () => {
  it('ignores exactly the skipped ranges', () => {
    const a = Uint8Array.from({ length: 40 }, (_, i) => i);
    const b = a.slice();
    b[10] = 0xff; // inside [8, 16)
    b[33] = 0xee; // inside [32, 40)
    const skip = [[8, 8], [32, 8]] as const;
    expect(key(a, skip)).toBe(key(b, skip));
    expect(key(a)).not.toBe(key(b));
    const c = a.slice();
    c[16] = 0xaa; // just after the first range
    expect(key(a, skip)).not.toBe(key(c, skip));
    // Ranges past the end and an empty list are harmless.
    expect(key(a, [[100, 8]])).toBe(key(a, []));
    expect(key(a, [])).toBe(key(a));
  });
});

describe('Hasher.num', () => {
  it('mixes an integer as its low and high 32-bit words, anything else as its text', () => {
    const values = [0, 1, -1, 0x7fffffff, -0x80000000, 0x80000000, 2 ** 40 + 3, -(2 ** 40) - 3, 2 ** 53 - 1, -(2 ** 53) + 1, 0.5, 2 ** 60, NaN, -0];
    for (const v of values) {
      const viaWords = Number.isSafeInteger(v)
        ? new Hasher().start(9).word(v | 0).word(Math.floor(v / 4294967296) | 0).value()
        : new Hasher().start(9).str(String(v)).value();
      expect(new Hasher().start(9).num(v).value()).toBe(viaWords);
    }
  });
});

describe('Hasher.nums', () => {
  it('mixes parts[0..n) as num mixes each, whatever the parts past n hold', () => {
    const values = [0, -1, 0x80000000, 2 ** 40 + 3, -(2 ** 53) + 1, 0.5, NaN, 7, 2 ** 52];
    for (let n = 0; n <= 8; n++) {
      const one = new Hasher().start(3);
      for (let i = 0; i < n; i++) one.num(values[i]!);
      const h = new Hasher();
      h.parts.set(values.slice(0, 8));
      expect(h.start(3).nums(n).value()).toBe(one.value());
    }
  });
});

describe('Hasher values', () => {
  it('stay as they were (keys of short and long payloads, words, numbers and text)', () => {
    const d = Uint8Array.from({ length: 203 }, (_, i) => (i * 37 + 11) & 0xff);
    expect([
      new Hasher().start(5).word(-1).word(0x7fffffff).num(2 ** 40 + 3).value(),
      new Hasher().start(13).bytes(d, 0, 24).value(),
      new Hasher().start(13).bytes(d, 3, 203).value(),
      new Hasher().start(13).bytes(d, 8, 200).str('nvme.sqe').value(),
    ]).toEqual([703520478721546, 7421474840461919, 411418682557562, 7720062145498138]);
  });
});
