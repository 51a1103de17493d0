import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { num } from '../../src/trace/recorder.js';
import { crc32, crc32Fallback } from '../../src/trace/format.js';

const packr = new Packr({ useRecords: false });
const enc = (v: number): Buffer => {
  const b = Buffer.alloc(16);
  return b.subarray(0, num(b, 0, v));
};

describe('record encoding', () => {
  it('writes numbers exactly as msgpackr does (edge values)', () => {
    const edges = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffffff, 2 ** 32, 2 ** 53 - 1, 2 ** 53, -1, -0x20, -0x21,
      -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53), 0.5, -0.5, 1e-300, -0, NaN, Infinity, -Infinity];
    for (const v of edges) expect(enc(v).toString('hex'), String(v)).toBe(packr.pack(v).toString('hex'));
  });

  it('writes numbers exactly as msgpackr does (property)', () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), fc.maxSafeInteger(), fc.double()), (v) => {
      expect(enc(v).equals(packr.pack(v))).toBe(true);
    }), { numRuns: 2000, seed: 1 });
  });

  it('computes CRC-32 the same with zlib and with the fallback table', () => {
    expect(crc32Fallback(Buffer.from('123456789'))).toBe(0xcbf43926);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (d) => {
      expect(crc32(d)).toBe(crc32Fallback(d));
    }));
  });
});
