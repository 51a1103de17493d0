import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { uncompressSync } from 'lz4-napi';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, type SeqEvent } from '../../src/trace/reader.js';
import { COL_BYTES, COL_DT, COL_KINDS, ColumnBlock, ColumnEncoder, decodeColumns, fieldColumn } from '../../src/trace/columns.js';
import { COLUMN_FORMAT_VERSION } from '../../src/trace/format.js';
import { MemoryTracer, Rec, type Tracer } from '../../src/sim/tracer.js';
import { emitAllKinds, makeHeader, rawRecords } from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

/** Events as plain JSON-able values (payloads as hex). */
const plain = (e: unknown): string => JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

function recordBoth(emit: (t: Tracer) => void, opts: { chunkBytes?: number; blobWindowBytes?: number } = {}): { columns: Buffer; records: Buffer; mem: MemoryTracer } {
  const mem = new MemoryTracer();
  const c = TraceRecorder.toBuffer(makeHeader(), { ...opts, layout: 'columns' });
  const r = TraceRecorder.toBuffer(makeHeader(), { ...opts, layout: 'records' });
  emit(c);
  emit(r);
  emit(mem);
  return { columns: c.close().buffer!, records: r.close().buffer!, mem };
}

const VALID: boolean[] = Array.from({ length: 32 }, (_, k) => k !== Rec.Str && k !== Rec.Blob && k > 0 && k <= Rec.DmaDelta);

/** The raw bytes of a one-chunk trace's only chunk, and its event count. */
function onlyChunk(buf: Buffer): { raw: Uint8Array; count: number } {
  const t = openTrace(buf);
  expect(t.index).toHaveLength(1);
  const e = t.index![0]!;
  const len = buf.readUInt32LE(e.offset);
  return { raw: new Uint8Array(uncompressSync(buf.subarray(e.offset + 32, e.offset + 32 + len))), count: e.count };
}

describe('format 7: chunks in columns', () => {
  it('is what the recorder writes, and reads back every kind exactly as the record layout does', () => {
    const { columns, records, mem } = recordBoth((t) => { for (let i = 0; i < 40; i++) emitAllKinds(t, i * 1000); }, { chunkBytes: 2048 });
    expect(columns.readUInt32LE(8)).toBe(COLUMN_FORMAT_VERSION);
    const a = [...openTrace(columns).events()];
    expect(openTrace(columns).damage).toEqual([]);
    expect(a.map(plain)).toEqual([...openTrace(records).events()].map(plain));
    expect(a.map(({ seq, ...e }) => { void seq; return plain(e); })).toEqual(mem.events.map(plain));
    expect(openTrace(columns).index!.length).toBeGreaterThan(3);
  });

  it('round-trips random events of every kind, any chunk size, with filters (property)', () => {
    const num = fc.oneof(
      fc.integer({ min: 0, max: 0xff }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      fc.constantFrom(2 ** 53 - 1, 2 ** 64, -(2 ** 60), 0.5, -1.25, 1e300, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
    );
    const ev = fc.record({ kind: fc.integer({ min: 0, max: 9 }), a: num, b: num, c: fc.integer({ min: 0, max: 3 }), dt: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 2 ** 40 })), len: fc.constantFrom(0, 4, 8, 16, 17, 64, 300) });
    fc.assert(fc.property(fc.array(ev, { maxLength: 120 }), fc.integer({ min: 64, max: 4096 }), (evs, chunkBytes) => {
      const emit = (t: Tracer): void => {
        const payload = new Uint8Array(512);
        let time = 0;
        for (const [i, e] of evs.entries()) {
          time += e.dt;
          payload[e.len & 511] = i & 0xff;
          payload[(e.len >>> 1) & 511] = e.c;
          switch (e.kind) {
            case 0: t.mmio(e.c === 1, time, e.c, e.c, e.c, e.a, 4, e.b); break;
            case 1: t.dma(e.c > 1, time, e.c, e.a, payload, e.c, e.len, ['nvme.sqe', 'nvme.cqe', 'data', 'x'][e.c]!); break;
            case 2: t.msi(time, e.c, e.a, e.b, e.c, e.c); break;
            case 3: t.schemeReq(time, e.c, 'disk', ['read', 'write'][e.c & 1]!, e.a, e.b, e.a); break;
            case 4: t.schemeReply(time, e.c, 'disk', e.a, e.b); break;
            case 5: t.milestone(time, e.c, `m${e.c}`, e.a, e.b); break;
            case 6: t.log(time, e.c, 'info', `log ${e.a} é ${i}`); break;
            case 7: t.guestErr(time, e.c, 'x.y', `message ${e.b}`); break;
            case 8: t.eth(time, e.c, e.c === 0, e.c, payload, 0, Math.min(e.len, 64)); break;
            default: t.frame(time, e.c, e.c, i, 4, 4, 0x34325258, payload, 0, 64); break;
          }
        }
      };
      const { columns, mem } = recordBoth(emit, { chunkBytes });
      const t = openTrace(columns);
      const got = [...t.events()];
      expect(t.damage).toEqual([]);
      expect(got.map(({ seq, ...e }) => { void seq; return plain(e); })).toEqual(mem.events.map(plain));
      // A filtered read keeps the word-delta bases of the events it skips.
      const dmas = [...openTrace(columns).events({ kinds: ['dma'], devs: [1] })].map(plain);
      expect(dmas).toEqual(got.filter((e) => e.kind === 'dma' && e.dev === 1).map(plain));
    }), { numRuns: 120, seed: 20261207 });
  });

  it('numbers cost bytes by their change: a repeated register write is a few bytes, a 64-bit address escapes to 8', () => {
    const size = (emit: (t: Tracer) => void): number => onlyChunk(recordBoth(emit).columns).raw.length;
    const same = size((t) => { for (let i = 0; i < 1000; i++) t.mmio(true, i * 10, 0, 0, 0, 0x1000, 4, 5); });
    // Per event: a kind byte, the time delta (one byte) and six one-byte zero deltas.
    expect(same).toBeLessThan(1000 * 9 + 64);
    const wide = size((t) => { for (let i = 0; i < 100; i++) t.mmio(true, i * 10, 0, 0, 0, 0x1000, 8, 2 ** 60 + i * 4096); });
    expect(wide).toBeGreaterThan(100 * 9);
    const { columns } = recordBoth((t) => { for (let i = 0; i < 100; i++) t.mmio(true, i * 10, 0, 0, 0, 0x1000, 8, 2 ** 60 + i * 4096); });
    expect([...openTrace(columns).events()].map((e) => e.kind === 'mmio' && e.value)).toEqual(Array.from({ length: 100 }, (_, i) => 2 ** 60 + i * 4096));
  });

  it('a new blob epoch starts a new chunk (a chunk applies its definitions before its events)', () => {
    const buf = new Uint8Array(4096);
    const { columns, records } = recordBoth((t) => {
      for (let i = 0; i < 20; i++) { buf[0] = i; t.dma(true, i, 0, 0x1000, buf, 0, 4096, 'data'); t.dma(true, i, 0, 0x1000, buf, 0, 4096, 'data'); }
    }, { blobWindowBytes: 3 * 4096, chunkBytes: 1 << 20 });
    const t = openTrace(columns);
    expect(t.index!.length).toBeGreaterThan(4);
    expect([...t.events()].map(plain)).toEqual([...openTrace(records).events()].map(plain));
    expect(t.damage).toEqual([]);
    const epochs = rawRecords(columns).filter((r) => r[0] === Rec.Blob).map((r) => r[3] as number);
    expect(new Set(epochs).size).toBeGreaterThan(3);
  });

  it('strings past the intern table are stored inline and read back', () => {
    const { columns } = recordBoth((t) => {
      for (let i = 0; i < 65_540; i++) t.milestone(i, 0, `n${i}`, i, 0);
    }, { chunkBytes: 1 << 20 });
    const names = [...openTrace(columns).events({ fromSeq: 65_530 })].map((e) => e.kind === 'milestone' && e.name);
    expect(names).toEqual(Array.from({ length: 10 }, (_, i) => `n${65_530 + i}`));
  });

  it('chunks() hands out typed arrays, the same events without an object each', () => {
    const { columns } = recordBoth((t) => { for (let i = 0; i < 200; i++) emitAllKinds(t, i * 1000); }, { chunkBytes: 4096 });
    const r = openTrace(columns);
    const kinds: number[] = [];
    const times: number[] = [];
    const tags: string[] = [];
    for (const c of r.chunks()) {
      expect(c.block).toBeInstanceOf(ColumnBlock);
      for (let i = 0; i < c.block.n; i++) {
        kinds.push(c.block.kind[i]!);
        times.push(c.block.time[i]!);
        const k = c.block.kind[i]!;
        if (k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaDelta || k === Rec.DmaImage) tags.push(c.str(c.block.f[2]![i]!));
      }
    }
    const evs: SeqEvent[] = [...openTrace(columns).events()];
    expect(times).toEqual(evs.map((e) => e.time));
    expect(kinds.length).toBe(evs.length);
    expect(tags).toEqual(evs.filter((e) => e.kind === 'dma').map((e) => e.kind === 'dma' && e.tag));
    expect(r.damage).toEqual([]);
  });

  it('cursor() pulls the events of events(), filters included, and close() ends it', () => {
    const { columns } = recordBoth((t) => { for (let i = 0; i < 300; i++) emitAllKinds(t, i * 1000); }, { chunkBytes: 2048 });
    const r = openTrace(columns);
    for (const filter of [{}, { kinds: ['dma', 'msi'] as const }, { devs: [1] }, { fromSeq: 1000, toSeq: 2500 }, { fromTime: 50_000, toTime: 90_000 }]) {
      const want = [...r.events(filter as never)].map(plain);
      const c = r.cursor(filter as never);
      const got: string[] = [];
      for (let e = c.next(); e !== undefined; e = c.next()) got.push(plain(e));
      expect(got).toEqual(want);
      expect(c.next()).toBeUndefined();
    }
    const c = r.cursor();
    expect(c.next()?.seq).toBe(0);
    c.close();
    expect(c.next()).toBeUndefined();
    c.close(); // twice is harmless
  });

  describe('a chunk whose columns do not add up is damage, with the reason', () => {
    const { raw, count } = onlyChunk(recordBoth((t) => emitAllKinds(t)).columns);
    const valid = VALID;
    const out = new ColumnBlock();
    it('decodes as recorded', () => {
      expect(decodeColumns(raw, count, valid, out)).toBeUndefined();
      expect(out.n).toBe(count);
    });
    it('copies blobs out of the chunk, each 8-byte aligned (hashing reads them as words)', () => {
      const b = raw.slice();
      expect(decodeColumns(b, count, valid, out)).toBeUndefined();
      const blobs = out.defs.filter((d) => d.blob);
      expect(blobs.length).toBeGreaterThan(0);
      const before = blobs.map((d) => Buffer.from(d.data).toString('hex'));
      b.fill(0xa5);
      expect(blobs.map((d) => Buffer.from(d.data).toString('hex'))).toEqual(before);
      for (const d of blobs) expect(d.data.byteOffset % 8).toBe(0);
    });
    it('a wrong record count', () => {
      expect(decodeColumns(raw, count + 1, valid, out)).toMatch(/holds \d+ records, expected/);
    });
    it('a trailing byte, or one missing', () => {
      const longer = new Uint8Array(raw.length + 1);
      longer.set(raw);
      expect(decodeColumns(longer, count, valid, out)).toMatch(/columns cover \d+ bytes, the chunk has/);
      expect(decodeColumns(raw.subarray(0, raw.length - 1), count, valid, out)).toMatch(/columns cover/);
    });
    it('a kind not allowed, or unknown', () => {
      const noMmio = valid.map((v, k) => v && k !== Rec.MmioRead);
      expect(decodeColumns(raw, count, noMmio, out)).toMatch(/record 0: kind 1 is not valid here/);
    });
    it('every single flipped bit in the column bytes is caught or changes nothing (never a throw)', () => {
      for (let o = 0; o < raw.length; o++) {
        const b = raw.slice();
        b[o]! ^= 0x40;
        expect(() => decodeColumns(b, count, valid, out)).not.toThrow();
      }
    });
  });

  it('the encoder writes the column table in id order: kinds, time deltas, fields, bytes', () => {
    const e = new ColumnEncoder();
    e.begin(Rec.MmioWrite, 5);
    for (let j = 0; j < 6; j++) e.num(fieldColumn(Rec.MmioWrite, j), j);
    e.begin(Rec.DmaRead, 1);
    e.num(fieldColumn(Rec.DmaRead, 0), 0);
    e.num(fieldColumn(Rec.DmaRead, 1), 0x1000);
    e.str(fieldColumn(Rec.DmaRead, 2), 'inline tag');
    e.payload(fieldColumn(Rec.DmaRead, 3), -1, new Uint8Array([1, 2, 3]), 0, 3);
    const out = { buf: new Uint8Array(0) };
    const n = e.finish(out);
    const raw = out.buf.subarray(0, n);
    const ids: number[] = [];
    let p = 1;
    for (let i = 0; i < raw[0]!; i++) { ids.push(raw[p]!); p += 2; }
    expect(ids.slice(0, 3)).toEqual([COL_KINDS, COL_DT, COL_BYTES]);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const block = new ColumnBlock();
    expect(decodeColumns(raw, 2, VALID, block)).toBeUndefined();
    expect([block.kind[0], block.kind[1], block.time[0], block.time[1]]).toEqual([Rec.MmioWrite, Rec.DmaRead, 5, 6]);
    expect(block.strs).toEqual(['inline tag']);
    expect(block.f[2]![1]).toBe(-1);
    expect(Array.from(block.bytes.subarray(-(block.f[3]![1]! + 1), -(block.f[3]![1]! + 1) + block.aux[1]!))).toEqual([1, 2, 3]);
    // The encoder starts over.
    expect(e.empty).toBe(true);
  });

  it('a format-6 trace (msgpack records) reads to the same events as its format-7 re-recording', () => {
    const v6 = openTrace(path.join(ROOT, 'test/fixtures/format-v6-nvme-jitter.simtrace'));
    const v7 = openTrace(path.join(ROOT, 'traces/nvme-jitter.simtrace'));
    expect([v6.header.formatVersion, v7.header.formatVersion]).toEqual([6, 7]);
    const a = [...v6.events()].map(plain);
    const b = [...v7.events()].map(plain);
    expect(v6.damage).toEqual([]);
    expect(v7.damage).toEqual([]);
    expect(a.length).toBeGreaterThan(2000);
    expect(a).toEqual(b);
  });
});
