import { describe, expect, it } from 'vitest';
import { DEFAULT_ALIGN, StreamAligner, type AlignParams, type RowOp } from '../../../src/trace/diff/align.js';
import type { Item } from '../../../src/trace/diff/normalise.js';

/** Items whose key is the given number and whose shape is key's "register" (key >> 8). */
function items(keys: number[], seq0 = 0): Item[] {
  return keys.map((k, i) => ({
    key: k, shape: k >> 8, len: 0, addr: 0, addrNs: '',
    ev: { kind: 'mmio', seq: seq0 + i, time: i, write: true, core: 0, dev: 0, bar: 0, offset: k >> 8, size: 4, value: k & 0xff },
  }));
}

interface Row { op: RowOp; a?: number; b?: number }

/** Aligns a and b, pushing to the side with fewer events buffered (as the engine's read balance does). */
function align(a: number[], b: number[], p: Partial<AlignParams> = {}): Row[] {
  const rows: Row[] = [];
  const al = new StreamAligner({ ...DEFAULT_ALIGN, ...p }, {
    row: (op, x, y) => rows.push({ op, ...(x ? { a: x.key } : {}), ...(y ? { b: y.key } : {}) }),
  });
  const ia = items(a);
  const ib = items(b);
  let i = 0;
  let j = 0;
  while (i < ia.length || j < ib.length) {
    if (j >= ib.length || (i < ia.length && al.a.length <= al.b.length)) al.push(0, ia[i++]!);
    else al.push(1, ib[j++]!);
  }
  al.finish();
  return rows;
}

const count = (rows: Row[]) => {
  const c = { same: 0, changed: 0, inserted: 0, removed: 0 };
  for (const r of rows) c[r.op]++;
  return c;
};
const seqOf = (n: number, base = 0): number[] => Array.from({ length: n }, (_, i) => base + ((i * 7919) % 100_003) * 256 + (i & 0xff));

describe('windowed alignment', () => {
  it('emits every event of both sides exactly once, in order', () => {
    const a = seqOf(5000);
    const b = [...a.slice(0, 1000), ...a.slice(1100, 3000), 42, 43, ...a.slice(3000)];
    const rows = align(a, b, { window: 256, maxBuffer: 2048 });
    expect(rows.filter((r) => r.a !== undefined).map((r) => r.a)).toEqual(a);
    expect(rows.filter((r) => r.b !== undefined).map((r) => r.b)).toEqual(b);
    expect(count(rows)).toEqual({ same: 4900, changed: 0, inserted: 2, removed: 100 });
  });

  it('lines up an insertion that straddles window edges', () => {
    const a = seqOf(3000);
    const extra = seqOf(700, 50_000_000);
    for (const at of [255, 256, 1000, 2999]) {
      const b = [...a.slice(0, at), ...extra, ...a.slice(at)];
      expect(count(align(a, b, { window: 256, maxBuffer: 4096 })), `at ${at}`).toEqual({ same: 3000, changed: 0, inserted: 700, removed: 0 });
    }
  });

  it('pairs a changed value as "changed" and keeps the rest aligned', () => {
    const a = seqOf(2000);
    const b = [...a];
    b[1234] = (b[1234]! & ~0xff) | ((b[1234]! + 1) & 0xff); // same register, other value
    const rows = align(a, b, { window: 256 });
    expect(count(rows)).toEqual({ same: 1999, changed: 1, inserted: 0, removed: 0 });
    expect(rows.findIndex((r) => r.op === 'changed')).toBe(1234);
  });

  it('recovers after an insertion longer than its buffers instead of drifting for ever', () => {
    const a = seqOf(20_000);
    const burst = seqOf(3000, 90_000_000);
    const b = [...a.slice(0, 10_000), ...burst, ...a.slice(10_000)];
    const rows = align(a, b, { window: 64, maxBuffer: 512 });
    expect(rows.filter((r) => r.a !== undefined)).toHaveLength(20_000);
    expect(rows.filter((r) => r.b !== undefined)).toHaveLength(23_000);
    // Resynchronised: the last several thousand rows are all the same.
    expect(rows.slice(-5000).every((r) => r.op === 'same')).toBe(true);
    expect(count(rows).same).toBeGreaterThan(16_000);
  });

  it('gives up on unalignable heads with bounded buffers and bounded work', () => {
    const a = seqOf(30_000);
    const b = seqOf(30_000, 1 << 30);
    const rows = align(a, b, { window: 256, maxBuffer: 1024 });
    const c = count(rows);
    expect(c.same).toBe(0);
    expect(c.changed + c.removed).toBe(30_000);
    expect(c.changed + c.inserted).toBe(30_000);
  });
});
