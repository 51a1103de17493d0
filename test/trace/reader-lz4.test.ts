/**
 * The reader's LZ4 block decompression (src/trace/lz4.ts) against lz4-napi's:
 * the same bytes for whatever the recorder compresses, and a reason, never an
 * exception or a write out of bounds, for damaged blocks.
 */
import { describe, expect, it } from 'vitest';
import { compressSync, uncompressSync } from 'lz4-napi';
import { lz4DecompressInto } from '../../src/trace/lz4.js';

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
}

/** Bytes with runs, repeats at short and long distances, and incompressible stretches. */
function sample(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const what = r() % 4;
    const len = Math.min(n - i, 1 + (r() % (what === 3 ? 5000 : 300)));
    if (what === 0) b.fill(r() & 0xff, i, i + len);
    else if (what === 1 && i > 0) for (let k = 0; k < len; k++) b[i + k] = b[i - 1 - (r() % Math.min(i, 70000)) + (k % 1)]!;
    else if (what === 2 && i > 8) { const d = 1 + (r() % Math.min(i, 16)); for (let k = 0; k < len; k++) b[i + k] = b[i + k - d]!; }
    else for (let k = 0; k < len; k++) b[i + k] = r() & 0xff;
    i += len;
  }
  return b;
}

describe('lz4DecompressInto', () => {
  it('gives what lz4-napi gives, for every size from empty to 200 KiB', () => {
    const r = rng(3);
    for (const n of [0, 1, 4, 15, 16, 31, 32, 33, 100, 255, 256, 4096, 65535, 65536, 70000, 200_000]) {
      for (let t = 0; t < 3; t++) {
        const raw = sample(r, n);
        const comp = compressSync(Buffer.from(raw));
        const out = new Uint8Array(n + 7).fill(0xaa);
        expect(lz4DecompressInto(comp, out, n)).toBeUndefined();
        expect(Buffer.from(out.subarray(0, n)).equals(uncompressSync(comp))).toBe(true);
        expect(out.subarray(n).every((x) => x === 0xaa)).toBe(true);
      }
    }
  });

  it('reports damaged blocks (flipped, cut or lengthened) without writing past the output', () => {
    const r = rng(11);
    let reported = 0;
    for (let t = 0; t < 400; t++) {
      const raw = sample(r, 1 + (r() % 5000));
      const comp = new Uint8Array(compressSync(Buffer.from(raw)));
      const bad = t % 3 === 0 ? comp.subarray(0, 4 + (r() % (comp.length - 4))) : comp.slice();
      if (t % 3 === 1) {
        const at = 4 + (r() % (bad.length - 4));
        bad[at] = bad[at]! ^ (1 << (r() % 8));
      }
      const want = t % 3 === 2 ? raw.length + 1 + (r() % 10) : raw.length;
      const out = new Uint8Array(want + 16).fill(0xaa);
      const why = lz4DecompressInto(bad, out, want);
      if (why !== undefined) reported++;
      expect(out.subarray(want).every((x) => x === 0xaa)).toBe(true);
    }
    expect(reported).toBeGreaterThan(250);
  });
});
