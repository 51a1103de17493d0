import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FreeList, type Span } from '../../src/kernel/free-list.js';

describe('FreeList', () => {
  it('hands out aligned, non-overlapping spans inside its range and coalesces them back into one', () => {
    fc.assert(fc.property(fc.array(fc.record({ size: fc.integer({ min: 1, max: 5000 }), alignLog: fc.integer({ min: 0, max: 12 }), free: fc.boolean() }), { maxLength: 60 }), (ops) => {
      const start = 4096;
      const size = 1 << 20;
      const fl = new FreeList(start, size);
      const live: Span[] = [];
      for (const op of ops) {
        const align = 1 << op.alignLog;
        const s = fl.alloc(op.size, align);
        if (s === undefined) continue;
        expect(s.start % align).toBe(0);
        expect(s.start).toBeGreaterThanOrEqual(start);
        expect(s.start + s.size).toBeLessThanOrEqual(start + size);
        for (const o of live) expect(s.start + s.size <= o.start || o.start + o.size <= s.start).toBe(true);
        live.push(s);
        if (op.free) fl.release(live.splice(live.length >> 1, 1)[0]!);
      }
      for (const s of live.splice(0)) fl.release(s);
      expect(fl.allocated).toBe(0);
      expect(fl.alloc(size, 1)).toEqual({ start, size }); // all one span again
    }));
  });

  it('is first-fit and deterministic', () => {
    const fl = new FreeList(0, 100);
    const a = fl.alloc(10, 1)!;
    const b = fl.alloc(10, 1)!;
    fl.release(a);
    expect(fl.alloc(5, 1)).toEqual({ start: 0, size: 5 });
    expect(b).toEqual({ start: 10, size: 10 });
    expect(fl.alloc(200, 1)).toBeUndefined();
  });
});
