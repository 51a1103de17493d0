import { describe, expect, it } from 'vitest';
import { makeDiffBenchTraces } from '../../bench/support/diff-workload.js';
import { openTrace } from '../../src/trace/reader.js';
import { Hasher } from '../../src/trace/diff/hash.js';
import { Rec } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { CHUNK_HEADER_SIZE } from '../../src/trace/format.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { Normaliser } from '../../src/trace/diff/normalise.js';
import { EventStore, inColumns } from '../../src/trace/diff/store.js';
import { makeHeader } from './helpers.js';

/** Scheme requests and replies of two schemes and a few operations, in chunks of about 64 bytes. */
function schemeTrace(): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 64 });
  for (let i = 0; i < 40; i++) {
    const scheme = i % 3 === 0 ? 'net' : 'disk.nvme';
    rec.schemeReq(i * 100, 3 + (i % 2), scheme, i % 4 === 0 ? 'write' : 'read', i, i * 4096, 4096);
    rec.schemeReply(i * 100 + 50, 3 + (i % 2), scheme, i, i % 5 === 0 ? -5 : 4096);
  }
  return rec.close().buffer!;
}

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

  it("gives a scheme request's or reply's scheme, operation and lost definitions as next() does, and the diff's store gives the event back", () => {
    const intact = schemeTrace();
    // The first chunk holds the strings' definitions: lost, the later events name them missing.
    const lost = Buffer.from(intact);
    lost[openTrace(intact).index![0]!.offset + CHUNK_HEADER_SIZE + 8]! ^= 0xff;
    for (const buf of [intact, lost]) {
      const r = openTrace(buf);
      const byObject = r.cursor();
      const byView = r.cursor();
      const v = byView.view;
      const norm = new Normaliser<number>(r.header, deviceDecoders(), () => 0);
      const store = new EventStore();
      let n = 0;
      let missing = 0;
      for (let ev = byObject.next(); ev !== undefined; ev = byObject.next()) {
        expect(byView.advance()).toBe(true);
        if (ev.kind !== 'schemeReq' && ev.kind !== 'schemeReply') throw new Error(`unexpected ${ev.kind}`);
        n++;
        expect(v.scheme).toBe(ev.scheme);
        if (ev.kind === 'schemeReq') expect(v.op).toBe(ev.op);
        expect(v.missing).toBe(ev.missing);
        if (ev.missing !== undefined) missing++;
        // Held in the store's columns (no event object), given back equal to the reader's.
        expect(inColumns(v.block.kind[v.i]!)).toBe(true);
        norm.item(v, undefined);
        const slot = store.put(v, norm);
        expect(store.item(slot).ev).toEqual(ev);
        store.release(slot);
      }
      expect(byView.advance()).toBe(false);
      expect(n).toBeGreaterThan(buf === intact ? 79 : 40);
      if (buf === intact) expect(missing).toBe(0);
      else expect(missing).toBeGreaterThan(10);
    }
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
