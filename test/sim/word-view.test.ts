import { describe, expect, it } from 'vitest';
import { WordView } from '../../src/sim/word-view.js';

describe('WordView', () => {
  it('views the whole buffer of a long-lived array once, with the array\'s offset', () => {
    const buf = new ArrayBuffer(4096);
    const a = new Uint8Array(buf, 256, 1024);
    new Uint32Array(buf)[64 + 3] = 0xdeadbeef; // a's bytes 12..15
    const v = new WordView();
    const w = v.of(a)!;
    expect(w.length).toBe(1024);
    expect(v.offset).toBe(256);
    expect(w[(v.offset + 12) >>> 2]).toBe(0xdeadbeef);
    expect(v.of(a)).toBe(w); // remembered
    const b = new Uint8Array(8192);
    expect(v.of(b)).not.toBe(w);
    expect(v.offset).toBe(0);
  });

  it('makes no view for arrays on short buffers (they may be new per payload)', () => {
    const v = new WordView();
    expect(v.of(new Uint8Array(64))).toBeUndefined();
    expect(v.of(new Uint8Array(new ArrayBuffer(1000), 0, 16))).toBeUndefined();
  });

  it('looks at an array once, a short one too (its buffer and offset are not read per payload)', () => {
    const v = new WordView();
    for (const length of [64, 4096]) {
      const a = new Uint8Array(length);
      const buffer = a.buffer;
      let reads = 0;
      Object.defineProperty(a, 'buffer', { get: () => { reads++; return buffer; } });
      const first = v.of(a);
      for (let i = 0; i < 5; i++) expect(v.of(a)).toBe(first);
      expect(reads, `${length}-byte array`).toBe(1);
    }
  });

  it('makes a new view once the array\'s buffer was detached and replaced', () => {
    const v = new WordView();
    const a = new Uint8Array(2048);
    expect(v.of(a)!.length).toBe(512);
    structuredClone(a.buffer, { transfer: [a.buffer] });
    expect(a.length).toBe(0);
    // The remembered view is of a detached buffer: asked again, the array's (empty) buffer is too short.
    expect(v.of(a)).toBeUndefined();
  });
});
