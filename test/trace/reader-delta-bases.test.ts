/**
 * Word-delta bases on the reader's side (DeltaBases.refer): a base held as a
 * reference is copied only when a delta applies, and the payloads a cursor's
 * view gives read back as recorded whatever mix of blobs, inline bytes and
 * deltas came before.
 */
import { describe, expect, it } from 'vitest';
import { DeltaBases, deltaKey } from '../../src/trace/delta.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { makeHeader } from './helpers.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('DeltaBases.refer', () => {
  it('holds a referenced base until a delta needs it, then copies it', () => {
    const d = new DeltaBases();
    const key = deltaKey(0, 3, true, 16);
    const src = bytes(40, 1);
    d.refer(key, src, 8, 16);
    const len = d.baseLength(key);
    expect(len).toBe(16);
    expect(Array.from(d.store.subarray(d.at, d.at + len))).toEqual(Array.from(src.subarray(8, 24)));
    // Copied: writing the source afterwards does not change the base.
    src.fill(0);
    expect(Array.from(d.store.subarray(d.at, d.at + 16))).toEqual(Array.from(bytes(40, 1).subarray(8, 24)));
  });

  it('is forgotten by reset and forget, and replaced by set and swap', () => {
    const d = new DeltaBases();
    const key = deltaKey(1, 2, false, 8);
    d.refer(key, bytes(8, 5), 0, 8);
    d.reset();
    expect(d.baseLength(key)).toBe(-1);
    d.refer(key, bytes(8, 5), 0, 8);
    d.forget(key);
    expect(d.baseLength(key)).toBe(-1);
    d.refer(key, bytes(8, 5), 0, 8);
    d.set(key, bytes(8, 9), 0, 8);
    expect(Array.from(d.store.subarray(d.at, d.at + d.baseLength(key)))).toEqual(Array.from(bytes(8, 9)));
    // The recorder's swap compares against a referenced base as against a copy.
    d.refer(key, bytes(8, 5), 0, 8);
    const next = bytes(8, 5);
    next[5] = 0xee;
    expect(d.swap(key, next, 0, 8)).toBe(1 << 1);
  });
});

describe('DeltaBases with many streams', () => {
  it('finds each stream\'s base when more streams than its table of recent keys are in use', () => {
    const d = new DeltaBases();
    const keys: number[] = [];
    for (let dev = 0; dev < 20; dev++) for (let tag = 0; tag < 15; tag++) keys.push(deltaKey(dev, tag * 37, (tag & 1) === 1, 8));
    keys.forEach((k, i) => (i % 2 === 0 ? d.set(k, bytes(8, i), 0, 8) : d.refer(k, bytes(8, i), 0, 8)));
    for (let round = 0; round < 2; round++) {
      keys.forEach((k, i) => {
        expect(d.baseLength(k)).toBe(8);
        expect(Array.from(d.store.subarray(d.at, d.at + 8))).toEqual(Array.from(bytes(8, i)));
      });
    }
    d.forget(keys[7]!);
    expect(d.baseLength(keys[7]!)).toBe(-1);
    expect(d.baseLength(keys[8]!)).toBe(8);
  });
});

describe("the cursor's view over word deltas", () => {
  it('gives every payload as recorded when bases come from blobs, inline bytes and deltas', () => {
    const r = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 4096 });
    const want: string[] = [];
    let x = 7;
    const rnd = (): number => {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      return x >>> 0;
    };
    // A few recurring 64-byte entries (blobs), 16-byte entries changed a word at a time (deltas), and fresh ones.
    const pool = [bytes(64, 1), bytes(64, 2), bytes(64, 3)];
    const small = bytes(16, 4);
    for (let i = 0; i < 3000; i++) {
      const c = rnd() % 4;
      let p: Uint8Array;
      if (c === 0) p = pool[rnd() % 3]!;
      else if (c === 1) { small[rnd() % 16] = rnd() & 0xff; p = small; }
      else if (c === 2) { p = pool[rnd() % 3]!.slice(); p[rnd() % 64] = rnd() & 0xff; }
      else p = bytes(16, rnd() & 0xff);
      r.dma(c !== 0, 10 * i, 0, 0x1000 * i, p, 0, p.length, c === 1 || c === 3 ? 'nvme.cqe' : 'nvme.sqe');
      want.push(Buffer.from(p).toString('hex'));
    }
    const buf = r.close().buffer!;
    const t = openTrace(buf);
    const c = t.cursor();
    const got: string[] = [];
    // Every third view also builds its event, which must be what next() gives (its payload not looked up twice).
    const byObject = openTrace(buf).cursor();
    let n = 0;
    while (c.advance()) {
      const p = c.view.payload;
      got.push(Buffer.from(p.data.subarray(p.at, p.at + p.length)).toString('hex'));
      const e = byObject.next()!;
      if (n++ % 3 === 0) expect(c.view.event()).toEqual(e);
    }
    expect(t.damage).toEqual([]);
    expect(got).toEqual(want);
  });
});
