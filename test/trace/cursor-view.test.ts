import { describe, expect, it } from 'vitest';
import { makeDiffBenchTraces } from '../../bench/support/diff-workload.js';
import { openTrace } from '../../src/trace/reader.js';
import { Hasher } from '../../src/trace/diff/hash.js';
import { Rec } from '../../src/sim/tracer.js';

describe("the cursor's column view", () => {
  it('gives each event as next() does: DMA tag, payload bytes (blob, inline and word delta), missing', () => {
    const { a } = makeDiffBenchTraces(30_000);
    const r = openTrace(a);
    const byObject = r.cursor();
    const byView = r.cursor();
    const v = byView.view;
    let dma = 0;
    let shared = 0;
    for (let ev = byObject.next(); ev !== undefined; ev = byObject.next()) {
      expect(byView.advance()).toBe(true);
      expect(v.seq).toBe(ev.seq);
      expect(v.block.time[v.i]).toBe(ev.time);
      if (ev.kind !== 'dma') continue;
      dma++;
      const p = v.payload;
      expect(v.tag).toBe(ev.tag);
      expect(v.missing).toBe(ev.missing);
      expect(Array.from(p.data.subarray(p.at, p.at + p.length))).toEqual(Array.from(ev.data));
      if (p.own) {
        shared++;
        expect(p.at === 0 && p.length === p.data.length).toBe(true); // a blob: its whole array
      }
    }
    expect(byView.advance()).toBe(false);
    expect(dma).toBeGreaterThan(10_000);
    expect(shared).toBeGreaterThan(0);
    expect(shared).toBeLessThan(dma);
  });

  it('says which payload bytes stay as they are (stable): blobs and inline bytes, not word deltas', () => {
    const { a } = makeDiffBenchTraces(30_000);
    const c = openTrace(a).cursor();
    const v = c.view;
    const kept: { data: Uint8Array; at: number; copy: number[] }[] = [];
    let unstable = 0;
    while (c.advance()) {
      const p = v.payload;
      const k = v.block.kind[v.i]!;
      if (k !== Rec.DmaRead && k !== Rec.DmaWrite && k !== Rec.DmaImage && k !== Rec.DmaDelta) continue;
      if (!p.stable) {
        unstable++;
        continue;
      }
      if (kept.length < 5000) kept.push({ data: p.data, at: p.at, copy: Array.from(p.data.subarray(p.at, p.at + Math.min(p.length, 32))) });
    }
    expect(unstable).toBeGreaterThan(0);
    expect(kept.length).toBe(5000);
    // Read after the whole trace went by: the same bytes.
    for (const k of kept) expect(Array.from(k.data.subarray(k.at, k.at + k.copy.length))).toEqual(k.copy);
  });

  it('hashes a window into a bigger buffer as a copy of its bytes (Hasher.bytes origin)', () => {
    const buf = new Uint8Array(300);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 37) & 0xff;
    for (const at of [0, 1, 2, 3, 5, 64]) {
      for (const len of [16, 63, 64, 100, 200]) {
        const copy = buf.slice(at, at + len);
        const want = new Hasher().start(1).bytes(copy, 0, len).value();
        expect(new Hasher().start(1).bytes(buf, at, at + len, -at).value(), `at ${at} len ${len}`).toBe(want);
      }
    }
  });
});
