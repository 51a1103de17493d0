import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PendingTimes } from '../../src/trace/latency.js';

type Op = { op: 'set'; key: number; time: number } | { op: 'get'; key: number } | { op: 'delete'; key: number } | { op: 'clear' };

/** Runs `ops` on a PendingTimes and a Map side by side; every answer and the size must agree. */
function agree(ops: Op[]): void {
  const p = new PendingTimes();
  const m = new Map<number, number>();
  for (const o of ops) {
    switch (o.op) {
      case 'set': p.set(o.key, o.time); m.set(o.key, o.time); break;
      case 'get': expect(p.get(o.key)).toBe(m.get(o.key)); break;
      case 'delete': expect(p.delete(o.key)).toBe(m.delete(o.key)); break;
      case 'clear': p.clear(); m.clear(); break;
    }
    expect(p.size).toBe(m.size);
  }
  for (const k of m.keys()) expect(p.get(k)).toBe(m.get(k));
}

describe('PendingTimes', () => {
  it('answers as a Map<number, number> does, for any sequence of operations', () => {
    // Few distinct keys (so operations meet), some large, negative and fractional; bursts of sets
    // to make the table grow and deletions in the middle of probe runs.
    const key = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: -5, max: 2 ** 40 }).map((k) => k * 65536), fc.constantFrom(0.5, -0, 2 ** 53, NaN));
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), key, time: fc.double({ noNaN: true }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('get' as const), key }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), agree), { numRuns: 300 });
  });

  it('keeps every key through growth and deletions of colliding keys', () => {
    // Sequential command keys (queue id * 65536 + cid), as the NVMe timing phases use them.
    const ops: Op[] = [];
    for (let i = 0; i < 5000; i++) ops.push({ op: 'set', key: (i % 3) * 65536 + i, time: i * 1000 });
    for (let i = 0; i < 5000; i += 2) ops.push({ op: 'delete', key: (i % 3) * 65536 + i });
    for (let i = 0; i < 5000; i++) ops.push({ op: 'get', key: (i % 3) * 65536 + i });
    agree(ops);
  });
});
