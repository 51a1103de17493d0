import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, traceSummary, readHeader, type SeqEvent } from '../../src/trace/reader.js';
import { CHUNK_HEADER_SIZE, FOOTER_SIZE, COLUMN_FORMAT_VERSION, COMPACT_FORMAT_VERSION, FORMAT_VERSION, PREAMBLE_SIZE, TraceFormatError, type IndexEntry } from '../../src/trace/format.js';
import { emitAllKinds, makeHeader, tmpDir } from './helpers.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

interface Fixture {
  buf: Buffer;
  index: IndexEntry[];
  indexOffset: number;
  total: number;
}

function fixture(): Fixture {
  const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 512 });
  for (let i = 0; i < 200; i++) emitAllKinds(rec, i * 100);
  const buf = rec.close().buffer!;
  const t = openTrace(buf);
  return { buf, index: [...t.index!], indexOffset: t.footer!.indexOffset, total: t.footer!.totalRecords };
}

const fx = fixture();

function read(buf: Uint8Array): { events: SeqEvent[]; damage: { offset: number; length: number; reason: string }[] } {
  const t = openTrace(buf);
  const events = [...t.events()];
  return { events, damage: t.damage };
}

const seqs = (events: SeqEvent[]): number[] => events.map((e) => e.seq);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe('damaged traces', () => {
  it('has many chunks to work with', () => {
    expect(fx.index.length).toBeGreaterThan(20);
  });

  it('recovers every complete chunk of a file cut in the middle of a chunk, naming the offset', () => {
    const k = 10;
    const e = fx.index[k]!;
    for (const cut of [e.offset + 5, e.offset + CHUNK_HEADER_SIZE + 10]) {
      const { events, damage } = read(fx.buf.subarray(0, cut));
      expect(seqs(events)).toEqual(range(0, e.firstSeq));
      expect(damage.some((d) => d.offset === e.offset && /truncated/.test(d.reason))).toBe(true);
      expect(damage.some((d) => /no footer/.test(d.reason))).toBe(true);
    }
  });

  it('recovers everything from a file cut in the index or footer, naming the index offset', () => {
    for (const cut of [fx.indexOffset + 3, fx.indexOffset + 12, fx.buf.length - 1]) {
      const { events, damage } = read(fx.buf.subarray(0, cut));
      expect(events).toHaveLength(fx.total);
      expect(damage.some((d) => d.offset === fx.indexOffset && /index/.test(d.reason))).toBe(true);
    }
    // Cut exactly where the index starts.
    const { events, damage } = read(fx.buf.subarray(0, fx.indexOffset));
    expect(events).toHaveLength(fx.total);
    expect(damage.some((d) => d.offset === fx.indexOffset && /index and footer missing/.test(d.reason))).toBe(true);
  });

  it('fails with TraceFormatError naming the offset when cut in the header', () => {
    const headerEnd = fx.index[0]!.offset;
    for (const cut of [0, 5, 12, 30, headerEnd - 1]) {
      let err: unknown;
      try {
        openTrace(fx.buf.subarray(0, cut));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TraceFormatError);
      expect((err as TraceFormatError).path).toBe('<buffer>');
      expect((err as TraceFormatError).offset).toBeLessThanOrEqual(cut);
    }
    expect(() => openTrace(fx.buf.subarray(0, 30))).toThrow(/truncated in the header.*file ends at 30/);
  });

  it('reports a corrupted chunk by offset and recovers the chunks before and after (index intact)', () => {
    const k = 7;
    const e = fx.index[k]!;
    const next = fx.index[k + 1]!;
    const bad = Buffer.from(fx.buf);
    bad[e.offset + CHUNK_HEADER_SIZE + 20]! ^= 0x40;
    const { events, damage } = read(bad);
    const lost = new Set(range(e.firstSeq, next.firstSeq));
    expect(seqs(events).filter((s) => !lost.has(s))).toEqual(range(0, fx.total).filter((s) => !lost.has(s)));
    expect(seqs(events).some((s) => lost.has(s))).toBe(false);
    const d = damage.find((x) => x.offset === e.offset);
    expect(d?.reason).toMatch(/CRC/);
    expect(d?.reason).toContain(`records ${e.firstSeq}..${next.firstSeq - 1} lost`);
    expect(d?.length).toBe(next.offset - e.offset);
  });

  it('resynchronises by scanning when there is no index (corrupted body and corrupted header)', () => {
    const k = 5;
    const e = fx.index[k]!;
    const next = fx.index[k + 1]!;
    for (const at of [e.offset + CHUNK_HEADER_SIZE + 3, e.offset + 1 /* compressed length */, e.offset + 9 /* raw length */]) {
      const bad = Buffer.from(fx.buf.subarray(0, fx.indexOffset)); // no index, no footer
      bad[at]! ^= 0x11;
      const { events, damage } = read(bad);
      const got = seqs(events);
      expect(got).toEqual([...range(0, e.firstSeq), ...range(next.firstSeq, fx.total)]);
      const d = damage.find((x) => x.offset === e.offset);
      expect(d, JSON.stringify(damage)).toBeDefined();
      expect(d!.reason).toContain(`resynchronised at byte ${next.offset}`);
      expect(d!.length).toBe(next.offset - e.offset);
    }
  });

  it('reports references to definitions that were in a lost chunk, naming the blob id', () => {
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 64 });
    const d = new Uint8Array(132).map((_, i) => i);
    for (let i = 0; i < 10; i++) rec.dma(false, i, 0, 0x1000, d, 0, 132, 'nvme.sqe');
    const buf = rec.close().buffer!;
    const t0 = openTrace(buf);
    const first = t0.index![0]!;
    const bad = Buffer.from(buf);
    bad[first.offset + CHUNK_HEADER_SIZE + 8]! ^= 0xff;
    const t = openTrace(bad);
    const events = [...t.events()];
    expect(events).toHaveLength(10 - first.count);
    for (const e of events) {
      expect(e.missing).toBe('string 0, blob 0');
      expect(e.kind === 'dma' && e.data.length).toBe(0);
    }
    expect(t.damage.filter((x) => /references blob 0,/.test(x.reason))).toHaveLength(1);
    expect(t.damage.filter((x) => /references string 0,/.test(x.reason))).toHaveLength(1);
    expect(t.damage.some((x) => x.offset === first.offset && /CRC/.test(x.reason))).toBe(true);
  });

  it('falls back to scanning when the index is corrupted', () => {
    const bad = Buffer.from(fx.buf);
    bad[fx.indexOffset + 10]! ^= 0x01;
    const { events, damage } = read(bad);
    expect(events).toHaveLength(fx.total);
    expect(damage.some((d) => d.offset === fx.indexOffset && /index .* corrupted/.test(d.reason))).toBe(true);
  });

  it('skips garbage between chunks', () => {
    const k = 3;
    const e = fx.index[k]!;
    const garbage = Buffer.alloc(1000, 0xab);
    const bad = Buffer.concat([fx.buf.subarray(0, e.offset), garbage, fx.buf.subarray(e.offset, fx.indexOffset)]);
    const { events, damage } = read(bad);
    expect(events).toHaveLength(fx.total);
    expect(damage.some((d) => d.offset === e.offset && d.length === 1000)).toBe(true);
  });

  it('never throws past the header, returns only true events and reports every loss, whatever bytes are corrupted (property)', () => {
    const rec = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 256 });
    for (let i = 0; i < 30; i++) emitAllKinds(rec, i * 100);
    const buf = rec.close().buffer!;
    const t0 = openTrace(buf);
    const headerEnd = t0.index![0]!.offset;
    const indexOffset = t0.footer!.indexOffset;
    const key = (e: SeqEvent): string => JSON.stringify(e, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    const original = [...t0.events()].map(key);
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: headerEnd, max: buf.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      (flips, dropIndex) => {
        const bad = Buffer.from(dropIndex ? buf.subarray(0, indexOffset) : buf);
        for (const [at, x] of flips) if (at < bad.length) bad[at]! ^= x;
        const t = openTrace(bad);
        let prev = -1;
        let n = 0;
        for (const e of t.events()) {
          n++;
          if (e.seq <= prev) throw new Error(`sequence ${e.seq} after ${prev}`);
          prev = e.seq;
          // With one flipped byte, an event is either intact or marked missing.
          if (flips.length === 1 && !e.missing && key(e) !== original[e.seq]) throw new Error(`event ${e.seq} altered`);
        }
        if (n < original.length || dropIndex) expect(t.damage.length).toBeGreaterThan(0);
      },
    ), { numRuns: 300, seed: 20261122 });
  });

  it('rejects another format version, naming it', () => {
    const bad = Buffer.from(fx.buf);
    bad.writeUInt32LE(8, 8);
    expect(() => openTrace(bad)).toThrow(TraceFormatError);
    expect(() => openTrace(bad)).toThrow('trace format version 8 is not supported by this simrun (supports 1, 2, 3, 4, 5, 6, 7)');
    expect(() => readHeader(bad)).toThrow(/version 8/);
  });

  it('rejects a file that is not a trace (bad magic), naming the path and offset', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, 'x.trace');
      fs.writeFileSync(file, '{"not": "a trace"}\n');
      let err: TraceFormatError | undefined;
      try {
        openTrace(file);
      } catch (e) {
        err = e as TraceFormatError;
      }
      expect(err).toBeInstanceOf(TraceFormatError);
      expect(err!.path).toBe(file);
      expect(err!.offset).toBe(0);
      expect(err!.message).toMatch(/bad magic/);
      expect(() => openTrace(path.join(dir, 'missing.trace'))).toThrow(/cannot open trace \(ENOENT\)/);
      expect(() => openTrace(dir)).toThrow(/not a regular file/);
    } finally {
      cleanup();
    }
  });

  it('rejects a corrupted header', () => {
    const bad = Buffer.from(fx.buf);
    bad[25]! ^= 0x01;
    expect(() => openTrace(bad)).toThrow(/header CRC mismatch/);
  });

  it('recovers from a file truncated while recording (crash: header and flushed chunks only)', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, 'crash.trace');
      // The recorder's own writes, whatever SIMRUN_TRACE_THREAD says (the writer thread's reach the file later).
      const rec = TraceRecorder.create(file, makeHeader(), { chunkBytes: 512, writerThread: 'never' });
      for (let i = 0; i < 50; i++) emitAllKinds(rec, i * 100);
      // No close(): what is on disk is what a crash would leave.
      const onDisk = fs.readFileSync(file);
      const s = traceSummary(file);
      expect(s.records).toBeGreaterThan(0);
      expect(s.records).toBeLessThan(rec.records);
      expect(s.indexed).toBe(false);
      expect(s.damage.some((d) => d.offset === onDisk.length)).toBe(true);
      rec.close();
      expect(traceSummary(file).records).toBe(50 * 18);
    } finally {
      cleanup();
    }
  });

  describe('every byte of the preamble, header, chunk headers, index and footer is under a check (format 3)', () => {
    /** True when reading `buf` notices something: it throws, or reports damage. */
    const noticed = (buf: Uint8Array): boolean => {
      try {
        const t = openTrace(buf);
        const n = [...t.events()].length;
        return t.damage.length > 0 || n !== fx.total;
      } catch (e) {
        if (e instanceof TraceFormatError) return true;
        throw e;
      }
    };
    /** Flips bits at every byte of [from, to) (or every `step`th, plus the last 16, for a long region); returns those not noticed. */
    const flipAll = (from: number, to: number, step = 1): number[] => {
      const missed: number[] = [];
      for (let o = from; o < to; o = o + step < to - 16 ? o + step : o + 1) {
        for (const bit of [0x01, 0x80]) {
          const b = Buffer.from(fx.buf);
          b[o]! ^= bit;
          if (!noticed(b)) missed.push(o);
        }
      }
      return missed;
    };

    it('is the current version', () => {
      // Chunks in columns (same checks as 3).
      expect(openTrace(fx.buf).header.formatVersion).toBe(COLUMN_FORMAT_VERSION);
      expect([FORMAT_VERSION, COMPACT_FORMAT_VERSION, COLUMN_FORMAT_VERSION]).toEqual([3, 6, 7]);
    });

    it('detects damage to the footer\'s end time (and any other footer byte)', () => {
      const t = openTrace(fx.buf);
      const footerAt = fx.buf.length - FOOTER_SIZE;
      const b = Buffer.from(fx.buf);
      b.writeDoubleLE(t.footer!.endTime + 1000, footerAt + 24);
      const r = openTrace(b);
      expect(r.footer).toBeUndefined();
      expect(r.damage[0]!.offset).toBe(footerAt);
      expect(r.damage[0]!.reason).toMatch(/footer at byte \d+ .*is corrupted \(CRC mismatch\)/);
      // Every chunk is still recovered (by scanning).
      expect([...r.events()]).toHaveLength(fx.total);
      expect(flipAll(footerAt, fx.buf.length)).toEqual([]);
    });

    it('detects a flipped bit anywhere in the preamble and header', () => {
      const headerEnd = PREAMBLE_SIZE + fx.buf.readUInt32LE(12);
      expect(flipAll(0, headerEnd)).toEqual([]);
    });

    it('detects a flipped bit anywhere in the index', () => {
      const end = fx.buf.length - FOOTER_SIZE;
      expect(flipAll(fx.indexOffset, end, Math.max(1, Math.floor((end - fx.indexOffset) / 150)))).toEqual([]);
    });

    it('detects a flipped bit anywhere in a chunk header', () => {
      for (const e of [fx.index[0]!, fx.index[5]!, fx.index[fx.index.length - 1]!]) {
        expect(flipAll(e.offset, e.offset + CHUNK_HEADER_SIZE)).toEqual([]);
      }
    });
  });

  it('still reads format 1 and format 2 traces', () => {
    for (const [file, version] of [['format-v1-nvme-jitter.simtrace', 1], ['format-v2-nvme-jitter.simtrace', 2]] as const) {
      const t = openTrace(path.join(ROOT, 'test/fixtures', file));
      expect(t.header.formatVersion).toBe(version);
      const events = [...t.events()];
      expect(t.damage).toEqual([]);
      expect(events.length).toBe(t.footer!.totalRecords);
      expect(events.length).toBeGreaterThan(1000);
    }
  });
});
