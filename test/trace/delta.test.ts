/**
 * Format 6 word deltas (Rec.DmaDelta): whatever the sequence of DMA payloads, chunk boundaries
 * and reader filters, every payload reads back as recorded, and a delta costs only its changed words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeltaBases, deltaKey } from '../../src/trace/delta.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { makeHeader } from './helpers.js';

interface Op { dev: number; tag: number; write: boolean; len: number; base: number; changes: [number, number][]; mmio: boolean }

const TAGS = ['nvme.sqe', 'nvme.cqe', 'data', 'virtio.desc'];
const LENS = [4, 8, 12, 16, 32, 64, 100, 128, 132, 512];

function payloads(ops: Op[]): Uint8Array[] {
  // Each payload starts from its stream's previous one (as queue entries do) and changes some bytes.
  const last = new Map<string, Uint8Array>();
  return ops.map((o) => {
    const k = `${o.dev}/${o.tag}/${o.write}/${o.len}`;
    const prev = last.get(k);
    const b = prev === undefined ? Uint8Array.from({ length: o.len }, (_, i) => (i * 7 + o.base) & 0xff) : prev.slice();
    for (const [at, v] of o.changes) b[at % o.len] = v;
    last.set(k, b);
    return b;
  });
}

function record(ops: Op[], data: Uint8Array[], chunkBytes: number): Buffer {
  const r = TraceRecorder.toBuffer(makeHeader(), { chunkBytes });
  ops.forEach((o, i) => {
    if (o.mmio) r.mmio(true, 10 * i, 0, o.dev, 0, 0x1000, 4, i);
    r.dma(o.write, 10 * i + 1, o.dev, 0x1000 * i, data[i]!, 0, data[i]!.length, TAGS[o.tag]!);
  });
  return r.close().buffer!;
}

const opArb = fc.record({
  dev: fc.integer({ min: 0, max: 1 }),
  tag: fc.integer({ min: 0, max: TAGS.length - 1 }),
  write: fc.boolean(),
  len: fc.constantFrom(...LENS),
  base: fc.integer({ min: 0, max: 255 }),
  changes: fc.array(fc.tuple(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  mmio: fc.boolean(),
});

describe('trace format 6: word deltas of small DMA payloads', () => {
  it('every payload reads back exactly, with any chunk size and any filter', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), fc.constantFrom(64, 300, 4096, 65536), (ops, chunkBytes) => {
      const data = payloads(ops);
      const buf = record(ops, data, chunkBytes);
      const t = openTrace(buf);
      const all = [...t.events({ kinds: ['dma'] })];
      expect(t.damage).toEqual([]);
      expect(all.map((e) => e.kind === 'dma' && Buffer.from(e.data).toString('hex'))).toEqual(data.map((d) => Buffer.from(d).toString('hex')));
      // Filters skip records; the skipped ones still keep their streams' bases.
      const dev1 = [...openTrace(buf).events({ kinds: ['dma'], devs: [1] })];
      expect(dev1.map((e) => e.kind === 'dma' && Buffer.from(e.data).toString('hex')))
        .toEqual(data.filter((_d, i) => ops[i]!.dev === 1).map((d) => Buffer.from(d).toString('hex')));
      const late = Math.floor(ops.length / 2);
      const tail = [...openTrace(buf).events({ kinds: ['dma'], fromTime: 10 * late })];
      expect(tail.map((e) => e.kind === 'dma' && Buffer.from(e.data).toString('hex'))).toEqual(data.slice(late).map((d) => Buffer.from(d).toString('hex')));
    }), { numRuns: 150 });
  });

  it('a 64-byte queue entry that changed in 3 words costs about 20 bytes, not a new 64-byte blob', () => {
    const ops: Op[] = Array.from({ length: 400 }, (_, i) => ({ dev: 0, tag: 0, write: false, len: 64, base: 1, changes: [[0, i & 0xff], [24, (i * 13) & 0xff], [40, (i * 101) & 0xff]], mmio: false }));
    const data = payloads(ops);
    const r = TraceRecorder.toBuffer(makeHeader());
    data.forEach((d, i) => r.dma(false, i, 0, 0x1000, d, 0, 64, 'nvme.sqe'));
    const res = r.close();
    expect(res.deltas).toBe(399);
    expect(res.buffer!.readUInt32LE(8)).toBe(7);
    // Columns: the changed words, a zero mask delta and small field deltas; well under 20 bytes each.
    expect(res.bytes).toBeLessThan(400 * 20);
    const t = openTrace(res.buffer!);
    expect([...t.events()].every((e, i) => e.kind === 'dma' && Buffer.from(e.data).equals(Buffer.from(data[i]!)))).toBe(true);
  });

  it('in the record layout, a trace without small repeated payloads keeps its version 3 bytes', () => {
    const r = TraceRecorder.toBuffer(makeHeader(), { layout: 'records' });
    r.dma(false, 1, 0, 0x1000, new Uint8Array(64).fill(1), 0, 64, 'nvme.sqe');
    r.dma(false, 2, 0, 0x1000, new Uint8Array(64).fill(2), 0, 64, 'nvme.sqe'); // every word changed: stored whole
    r.dma(false, 3, 0, 0x1000, new Uint8Array(4096), 0, 4096, 'data');
    const res = r.close();
    expect([res.deltas, res.buffer!.readUInt32LE(8)]).toEqual([0, 3]);
  });
});

describe('DeltaBases.swap: a word at a time from long-lived buffers', () => {
  it('gives the same masks as a byte at a time, whatever the payload\'s array, offset and alignment', () => {
    const step = fc.record({
      stream: fc.integer({ min: 0, max: 2 }),
      buffer: fc.integer({ min: 0, max: 2 }),
      offset: fc.integer({ min: 0, max: 900 }),
      changes: fc.array(fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }),
    });
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      // Three 4 KiB "queue memories" (word path when the payload starts on a word), one of them a
      // view at byte offset 4 into a larger buffer; short copies of the same bytes take the byte path.
      const big = new Uint8Array(8192);
      const memories = [new Uint8Array(4096), new Uint8Array(4096), new Uint8Array(big.buffer, 4, 4096)];
      const byWords = new DeltaBases();
      const byBytes = new DeltaBases();
      const last = [0, 1, 2].map(() => new Uint8Array(64));
      for (const s of steps) {
        const len = s.stream === 1 ? 16 : 64;
        const p = last[s.stream]!;
        for (const [at, v] of s.changes) p[at % len] = v;
        const mem = memories[s.buffer]!;
        mem.set(p.subarray(0, len), s.offset);
        const key = deltaKey(0, s.stream, false, len);
        const words = byWords.swap(key, mem, s.offset, len);
        const bytes = byBytes.swap(key, p.slice(0, len), 0, len);
        expect(words).toBe(bytes);
      }
    }), { numRuns: 200 });
  });

  it('records the same trace whether queue entries come from a device\'s queue memory or from copies', () => {
    const mem = new Uint8Array(4096);
    let deltas = 0;
    const traceOf = (fromMemory: boolean): Buffer => {
      const r = TraceRecorder.toBuffer(makeHeader());
      for (let i = 0; i < 200; i++) {
        const at = (i % 64) * 64;
        mem[at] = 2; mem[at + 2] = i & 63; mem[at + 40] = i; mem[at + 41] = i >> 8; mem[at + 24] = (i * 13) & 0xff;
        if (fromMemory) r.dma(false, 10 * i, 0, 0x9000 + at, mem, at, 64, 'nvme.sqe');
        else r.dma(false, 10 * i, 0, 0x9000 + at, mem.slice(at, at + 64), 0, 64, 'nvme.sqe');
      }
      const res = r.close();
      deltas = res.deltas;
      return res.buffer!;
    };
    const a = traceOf(true);
    // Most entries are deltas (an entry changes a few words of the one before it).
    expect(deltas).toBeGreaterThan(150);
    expect(a.equals(traceOf(false))).toBe(true);
    const back = [...openTrace(a).events()];
    expect(back.length).toBe(200);
    expect(back[199]!.kind === 'dma' && Array.from(back[199]!.data)).toEqual(Array.from(mem.subarray(7 * 64, 8 * 64)));
  });
});
