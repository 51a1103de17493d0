import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, readHeader, traceSummary, type SeqEvent } from '../../src/trace/reader.js';
import { COLUMN_FORMAT_VERSION, MAGIC } from '../../src/trace/format.js';
import { MemoryTracer, Rec, type Tracer, type TraceEvent } from '../../src/sim/tracer.js';
import { emitAllKinds, makeHeader, rawRecords, tmpDir } from './helpers.js';

/** Emits into both tracers. */
function tee(a: Tracer, b: Tracer): Tracer {
  const t = {} as Record<string, unknown>;
  for (const m of ['mmio', 'pio', 'cfg', 'dma', 'intx', 'msi', 'schemeReq', 'schemeReply', 'milestone', 'log', 'guestErr', 'proc'] as const) {
    t[m] = (...args: unknown[]) => {
      (a[m] as (...x: unknown[]) => void)(...args);
      (b[m] as (...x: unknown[]) => void)(...args);
    };
  }
  t.enabled = true;
  return t as unknown as Tracer;
}

/** Events with DMA data as hex (vitest's deep equality is slow on big typed arrays). */
type Plain = Record<string, unknown>;
function plain(e: SeqEvent): Plain {
  return e.kind === 'dma' ? { ...e, data: Buffer.from(e.data).toString('hex') } : { ...e };
}

function withSeq(events: TraceEvent[]): Plain[] {
  return events.map((e, seq) => plain({ seq, ...e }));
}

function readAll(src: string | Uint8Array): Plain[] {
  return [...openTrace(src).events()].map(plain);
}

describe('trace round trip', () => {
  it('reads back every record kind, with sequence numbers, from memory and from a file', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader());
    emitAllKinds(tee(mem, rec));
    const res = rec.close();
    expect(res.records).toBe(mem.events.length);
    expect(res.path).toBeNull();
    const events = readAll(res.buffer!);
    expect(events).toEqual(withSeq(mem.events));

    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, 't.trace');
      const frec = TraceRecorder.create(file, makeHeader());
      emitAllKinds(frec);
      const fres = frec.close();
      expect(fres.path).toBe(file);
      expect(fres.bytes).toBe(fs.statSync(file).size);
      expect(readAll(file)).toEqual(withSeq(mem.events));
      // The file and the in-memory trace are the same bytes.
      expect(fs.readFileSync(file).equals(res.buffer!)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('keeps the header, with the format version filled in', () => {
    const rec = TraceRecorder.toBuffer(makeHeader({ createdBy: 'test' }));
    const buf = rec.close().buffer!;
    expect(buf.subarray(0, 8).equals(Buffer.from(MAGIC))).toBe(true);
    const h = readHeader(buf);
    expect(h).toEqual({ formatVersion: COLUMN_FORMAT_VERSION, ...makeHeader({ createdBy: 'test' }) });
    const t = openTrace(buf);
    expect(t.footer).toMatchObject({ totalRecords: 0 });
    expect([...t.events()]).toEqual([]);
    expect(t.damage).toEqual([]);
  });

  it('round-trips awkward numbers: large times, negative and 64-bit values, fractions', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader());
    const t = tee(mem, rec);
    const big = 2 ** 53 - 1;
    t.mmio(true, 5_000_000_000_000, 0, 0, 2, 0x1_0000_0000, 8, 0xffff_ffff_ffff);
    t.mmio(false, 5_000_000_000_001, 0, 0, 0, 0, 4, 0xffffffff);
    t.schemeReply(5_000_000_000_002, 3, 'disk', 1, -22);
    t.schemeReply(5_000_000_000_003, 3, 'disk', 2, -(2 ** 40));
    t.milestone(5_000_000_000_004, 0, 'x', 0.5, -0.25);
    t.msi(big, 0, 0xfee0_0000, 0x4021, 0, 255);
    t.intx(big, 1, 0, 0); // equal times
    const buf = rec.close().buffer!;
    expect(readAll(buf)).toEqual(withSeq(mem.events));
  });

  it('produces byte-identical traces for identical input', () => {
    const once = (): Buffer => {
      const r = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 512 });
      for (let i = 0; i < 50; i++) emitAllKinds(r, i * 1000);
      return r.close().buffer!;
    };
    const a = once();
    const b = once();
    expect(a.length).toBeGreaterThan(1000);
    expect(a.equals(b)).toBe(true);
  });

  it('stores a repeated DMA payload once (one Blob record), even from another address or buffer', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    const a = new Uint8Array(256).map((_, i) => i);
    const b = new Uint8Array(300);
    // 132 bytes: above the word-delta range (delta.test.ts covers smaller payloads).
    b.set(a.subarray(0, 132), 5); // same 132 bytes at an unaligned offset of another buffer
    rec.dma(false, 1, 0, 0x1000, a, 0, 132, 'nvme.sqe');
    rec.dma(false, 2, 0, 0x2000, a, 0, 132, 'nvme.sqe');
    rec.dma(true, 3, 0, 0x3000, b, 5, 132, 'data');
    a[10] = 99; // changed content -> a new blob
    rec.dma(false, 4, 0, 0x1000, a, 0, 132, 'nvme.sqe');
    const res = rec.close();
    expect(res.blobs).toBe(2);
    const recs = rawRecords(res.buffer!);
    expect(recs.filter((r) => r[0] === Rec.Blob)).toHaveLength(2);
    const dmas = recs.filter((r) => r[0] === Rec.DmaRead || r[0] === Rec.DmaWrite);
    expect(dmas.map((r) => r[5])).toEqual([0, 0, 0, 1]);
    const ev = [...openTrace(res.buffer!).events()];
    expect(ev.map((e) => (e.kind === 'dma' ? e.data[10] : -1))).toEqual([10, 10, 10, 99]);
    expect(ev[2]).toMatchObject({ kind: 'dma', write: true, addr: 0x3000, tag: 'data' });
  });

  it('does not merge payloads that differ only in one byte or in length', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    const mem = new MemoryTracer();
    const t = tee(mem, rec);
    const d = new Uint8Array(4096);
    for (let i = 0; i < 200; i++) {
      d.fill(0);
      d[(i * 37) % 4096] = 1 + (i % 255);
      t.dma(true, i, 0, 0, d, 0, 4096, 'data');
      t.dma(true, i, 0, 0, d, 0, 4095, 'data');
    }
    const res = rec.close();
    expect(readAll(res.buffer!)).toEqual(withSeq(mem.events));
  });

  it('gives the same id to the same content only, whether or not the source address repeats', () => {
    const rec = TraceRecorder.toBuffer(makeHeader(), { blobWindowBytes: 2500 });
    const ram = new Uint8Array(8192);
    const a = new Uint8Array(1024).fill(0xaa);
    const b = new Uint8Array(1024).fill(0xbb);
    const c = new Uint8Array(1024).fill(0xcc);
    const emit = (content: Uint8Array, at: number): void => {
      ram.set(content, at);
      rec.dma(true, 0, 0, 0, ram, at, 1024, 'data');
    };
    emit(a, 0); // blob 0
    emit(b, 0); // blob 1 (same address, new content)
    emit(a, 0); // 0 again
    emit(a, 4096); // 0, from another address
    emit(b, 4096); // 1
    emit(c, 0); // window full: new epoch starting at 2
    emit(a, 0); // defined again in the new epoch: 3
    emit(a, 4096); // 3
    const recs = rawRecords(rec.close().buffer!);
    const dmas = recs.filter((r) => r[0] === Rec.DmaWrite).map((r) => r[5]);
    expect(dmas).toEqual([0, 1, 0, 0, 1, 2, 3, 3]);
    expect(recs.filter((r) => r[0] === Rec.Blob).map((r) => [r[1], r[3]])).toEqual([[0, 0], [1, 0], [2, 2], [3, 2]]);
  });

  it('stores payloads of up to 16 bytes inline, not as blobs', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    const d = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    rec.dma(true, 1, 0, 0x10, d, 0, 16, 'nvme.cqe');
    rec.dma(true, 2, 0, 0x10, d, 0, 17, 'nvme.cqe');
    const res = rec.close();
    expect(res.blobs).toBe(1);
    const ev = [...openTrace(res.buffer!).events()];
    expect(ev.map((e) => (e.kind === 'dma' ? e.data.length : 0))).toEqual([16, 17]);
  });

  it('interns repeated strings: one Str definition before first use', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    const d = new Uint8Array(8);
    for (let i = 0; i < 10; i++) {
      rec.dma(false, i, 0, 0, d, 0, 8, 'nvme.sqe');
      rec.milestone(i, 0, 'sq.doorbell', i, 0);
      rec.schemeReq(i, 3, 'disk.nvme', 'read', i, 0, 0);
      rec.guestErr(i, 0, 'nvme.badDoorbell', `message ${i}`);
    }
    const recs = rawRecords(rec.close().buffer!);
    const strs = recs.filter((r) => r[0] === Rec.Str);
    expect(strs.map((r) => r[2])).toEqual(['nvme.sqe', 'sq.doorbell', 'disk.nvme', 'read', 'nvme.badDoorbell']);
    const firstUse = recs.findIndex((r) => r[0] === Rec.Milestone);
    expect(recs.findIndex((r) => r[0] === Rec.Str && r[2] === 'sq.doorbell')).toBeLessThan(firstUse);
    // Free text (guestErr messages) stays inline.
    expect(recs.filter((r) => r[0] === Rec.GuestErr).map((r) => r[4])).toContain('message 3');
  });

  it('spreads records over many chunks with an index, and reads them all back', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 256 });
    const t = tee(mem, rec);
    for (let i = 0; i < 300; i++) emitAllKinds(t, i * 100);
    const res = rec.close();
    const r = openTrace(res.buffer!);
    expect(r.index!.length).toBeGreaterThan(100);
    let seq = 0;
    for (const e of r.index!) {
      expect(e.firstSeq).toBe(seq);
      seq += e.count;
    }
    expect(seq).toBe(mem.events.length);
    expect([...r.events()].map(plain)).toEqual(withSeq(mem.events));
    expect(r.damage).toEqual([]);
    expect(r.footer).toMatchObject({ totalRecords: mem.events.length, endTime: 299 * 100 + 18 });
  });

  it('starts a new blob epoch when the window fills, and the reader follows', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 4096, blobWindowBytes: 10_000 });
    const t = tee(mem, rec);
    const d = new Uint8Array(1024);
    for (let i = 0; i < 100; i++) {
      d[0] = i % 13; // 13 distinct payloads, 13 KiB > window
      t.dma(true, i, 0, 0, d, 0, 1024, 'data');
    }
    const res = rec.close();
    expect(res.blobs).toBeGreaterThan(13);
    const recs = rawRecords(res.buffer!);
    const epochs = new Set(recs.filter((r) => r[0] === Rec.Blob).map((r) => r[3]));
    expect(epochs.size).toBeGreaterThan(1);
    expect(readAll(res.buffer!)).toEqual(withSeq(mem.events));
  });

  it('applies event filters (kind, device, seq and time ranges)', () => {
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 256 });
    for (let i = 0; i < 20; i++) emitAllKinds(rec, i * 100);
    const buf = rec.close().buffer!;
    const r = openTrace(buf);
    const all = [...r.events()];
    expect([...r.events({ kinds: ['msi'] })]).toEqual(all.filter((e) => e.kind === 'msi'));
    expect([...r.events({ devs: [1] })]).toEqual(all.filter((e) => 'dev' in e && e.dev === 1));
    expect([...r.events({ fromSeq: 30, toSeq: 40 })]).toEqual(all.filter((e) => e.seq >= 30 && e.seq <= 40));
    expect([...r.events({ fromTime: 1200, toTime: 1500 })]).toEqual(all.filter((e) => e.time >= 1200 && e.time <= 1500));
    // Definitions in skipped records still apply to later ones.
    const late = [...r.events({ fromSeq: all.length - 18, kinds: ['dma'] })];
    expect(late.every((e) => e.kind === 'dma' && e.tag !== '' && !e.missing)).toBe(true);
  });

  it('summarises a trace: counts per kind and device, time span', () => {
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 256 });
    for (let i = 0; i < 10; i++) emitAllKinds(rec, 10_000 + i * 100);
    const s = traceSummary(rec.close().buffer!);
    expect(s.records).toBe(180);
    expect(s.byKind).toEqual({ mmio: 20, pio: 20, cfg: 20, dma: 40, intx: 10, msi: 10, schemeReq: 10, schemeReply: 10, milestone: 10, log: 10, guestErr: 10, proc: 10 });
    expect(s.byDevice.nvme0!.total).toBe(20 + 20 + 40 + 10 + 10 + 10);
    expect(s.byDevice.wifi0!.byKind).toEqual({ pio: 20, intx: 10 });
    expect(s.firstTime).toBe(10_001);
    expect(s.lastTime).toBe(10_000 + 900 + 18);
    expect(s.firstSeq).toBe(0);
    expect(s.lastSeq).toBe(179);
    expect(s.damage).toEqual([]);
    expect(s.indexed).toBe(true);
  });

  it('round-trips arbitrary event sequences (property)', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    const num = fc.oneof(u32, fc.integer({ min: -(2 ** 31), max: -1 }), fc.maxSafeNat());
    const str = fc.constantFrom('a', 'nvme.sqe', 'data', 'ünïcødé', '');
    const ev = fc.oneof(
      fc.record({ k: fc.constant('mmio' as const), w: fc.boolean(), v: num, o: u32, s: fc.constantFrom(1, 2, 4, 8) }),
      fc.record({ k: fc.constant('dma' as const), w: fc.boolean(), len: fc.integer({ min: 0, max: 300 }), at: fc.integer({ min: 0, max: 100 }), tag: str }),
      fc.record({ k: fc.constant('log' as const), text: fc.string() }),
      fc.record({ k: fc.constant('sreq' as const), s: str, op: str, a: num }),
    );
    const pool = new Uint8Array(512).map((_, i) => (i * 31) & 0xff);
    fc.assert(fc.property(fc.array(fc.tuple(ev, fc.integer({ min: 0, max: 1_000_000 })), { maxLength: 60 }), fc.integer({ min: 64, max: 2048 }), (evs, chunkBytes) => {
      const mem = new MemoryTracer();
      const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes });
      const t = tee(mem, rec);
      let time = 0;
      for (const [e, dt] of evs) {
        time += dt;
        switch (e.k) {
          case 'mmio': t.mmio(e.w, time, 0, 0, 0, e.o, e.s, e.v); break;
          case 'dma': t.dma(e.w, time, 0, 0x1000, pool, e.at, Math.min(e.len, pool.length - e.at), e.tag); break;
          case 'log': t.log(time, 1, 'info', e.text); break;
          case 'sreq': t.schemeReq(time, 2, e.s, e.op, 1, e.a, 0); break;
        }
      }
      const buf = rec.close().buffer!;
      expect(readAll(buf)).toEqual(withSeq(mem.events));
    }), { numRuns: 150, seed: 2 });
  });

  it('round-trips very long interned and inline strings and big payloads right after a chunk fills', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 100 });
    const t = tee(mem, rec);
    const long = (c: string): string => c.repeat(10_000);
    const big = new Uint8Array(100_000).map((_, i) => i * 13);
    for (let i = 0; i < 3; i++) {
      t.mmio(true, i, 0, 0, 0, 0, 4, i);
      t.schemeReq(i, 1, long('s') + i, long('o') + i, i, 2 ** 40, -5);
      t.schemeReply(i, 1, long('r') + i, i, 0);
      t.milestone(i, 0, long('m') + i, 1, 2);
      t.guestErr(i, 0, long('g') + i, long('x'));
      t.proc(i, 1, 'exit', long('p') + i, long('d'));
      t.log(i, 1, 'error', long('l'));
      t.dma(true, i, 0, 0, big, i, 100_000 - i, long('t') + i);
    }
    expect(readAll(rec.close().buffer!)).toEqual(withSeq(mem.events));
  });

  it('keeps room for the record after a definition that nearly fills the chunk buffer', () => {
    const mem = new MemoryTracer();
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 100 }); // buffer: 100 + 4096 bytes
    const t = tee(mem, rec);
    const d = new Uint8Array(30_000).map((_, i) => i);
    for (let len = 4000; len < 17_000; len += 7) { // the buffer grows to 8 KiB, then 16 KiB
      t.schemeReq(len, 1, 'x'.repeat(len), 'op', len, 2 ** 40 + len, -(2 ** 40));
      t.dma(true, len, 0, 2 ** 40, d, len - 4000, len, 'data');
    }
    expect(readAll(rec.close().buffer!)).toEqual(withSeq(mem.events));
  });

  it('lets go of the chunk assembly buffer after one outsized chunk, and the trace stays whole', () => {
    const mem = new MemoryTracer();
    // The recorder's own buffer: no chunk goes to the writer thread, whatever SIMRUN_TRACE_THREAD says.
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 4096, writerThread: 'never' });
    const t = tee(mem, rec);
    const asmLength = (): number => (rec as unknown as { asm: { buf: Uint8Array } }).asm.buf.length;
    const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) >>> 3);
    for (let i = 0; i < 3000; i++) t.mmio(false, i, 0, 0, 0, 4 * i, 4, i);
    const normal = asmLength();
    expect(normal).toBeGreaterThan(0);
    expect(normal).toBeLessThanOrEqual(4 * (4096 + 4096));
    t.dma(true, 3000, 0, 0x1000, big, 0, big.length, 'huge'); // one chunk of more than a MiB
    for (let i = 0; i < 3000; i++) t.mmio(true, 3001 + i, 0, 0, 0, 4 * i, 4, i); // more chunks after it
    expect(asmLength()).toBeLessThanOrEqual(4 * (4096 + 4096));
    expect(readAll(rec.close().buffer!)).toEqual(withSeq(mem.events));
  });

  it('refuses use after close', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    rec.close();
    expect(() => rec.intx(1, 0, 0, 1)).toThrow(/closed/);
    expect(() => rec.close()).toThrow(/closed/);
  });
});
