import { describe, expect, it } from 'vitest';
import { PageTable } from '../../../src/trace/diff/pages.js';

describe('PageTable', () => {
  it('finds every page added, across growth, and nothing else', () => {
    const t = new PageTable();
    const pages: number[] = [];
    // Small, 32-bit-wrapping and high (above 2^32) page numbers, some sharing their low word.
    for (let i = 0; i < 5000; i++) pages.push(i * 7, 0x1_0000_0000 + i * 7, 2 ** 41 - 1 - i);
    pages.forEach((p, r) => {
      expect(t.get(p)).toBe(-1);
      expect(t.add(p, r % 3, r)).toBe(r);
    });
    expect(t.size).toBe(pages.length);
    pages.forEach((p, r) => {
      expect(t.get(p)).toBe(r);
      expect(t.ns(r)).toBe(r % 3);
      expect(t.idx(r)).toBe(r);
    });
    expect(t.get(1)).toBe(-1);
    expect(t.get(0x1_0000_0001)).toBe(-1);
    expect(t.get(2 ** 41)).toBe(-1);
  });
});
