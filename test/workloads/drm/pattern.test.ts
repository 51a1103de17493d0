import { describe, expect, it } from 'vitest';
import { drawPattern, packedHash, patternPixel } from '../../../src/workloads/drm/pattern.js';
import { frameHash } from '../../../src/sim/scanout.js';

describe('drm-flip picture', () => {
  it.each([[64, 48, 0], [640, 480, 7], [641, 37, 123456], [1920, 1080, 999999]])('drawPattern draws exactly patternPixel (%ix%i, frame %i), rows padded to the pitch', (w, h, frame) => {
    const pitch = Math.ceil((w * 4) / 64) * 64 + 64;
    const buf = new Uint8Array(pitch * h);
    buf.fill(0xee);
    drawPattern(buf, pitch, w, h, frame, new Uint32Array(8192));
    const dv = new DataView(buf.buffer);
    // Every pixel of small pictures; a grid plus the counter box of large ones.
    const step = w * h > 100_000 ? 7 : 1;
    for (let y = 0; y < h; y += step) {
      for (let x = 0; x < w; x += step) expect.soft(dv.getUint32(y * pitch + 4 * x, true)).toBe(patternPixel(x, y, frame, w, h));
    }
    for (let y = 0; y < Math.min(h, 40); y++) for (let x = 0; x < Math.min(w, 200); x++) expect(dv.getUint32(y * pitch + 4 * x, true)).toBe(patternPixel(x, y, frame, w, h));
    // Padding past width*4 is not touched.
    expect(buf[w * 4]).toBe(0xee);
  });

  it('frames differ from each other (counter and band) and the counter digits are drawn', () => {
    const a = [0, 1, 2].map((f) => {
      const buf = new Uint8Array(640 * 480 * 4);
      drawPattern(buf, 640 * 4, 640, 480, f, new Uint32Array(8192));
      return packedHash(buf, 640 * 4, 640, 480);
    });
    expect(new Set(a).size).toBe(3);
    // "000001": the last digit's glyph "1" has its centre column lit (green), the first digit "0" its centre dark.
    const s = Math.floor(480 / 60);
    const cell = (d: number, col: number, row: number) => patternPixel(s + (1 + d * 4 + col) * s, s + (1 + row) * s, 1, 640, 480);
    expect(cell(5, 1, 0)).toBe(0x00ff00);
    expect(cell(0, 1, 2)).toBe(0x000000);
    expect(cell(0, 0, 2)).toBe(0x00ff00);
  });

  it('packedHash is the scanout log\'s frameHash of the rows without their padding, at any alignment', () => {
    const w = 10, h = 3, pitch = 64;
    const buf = new Uint8Array(pitch * h);
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31) & 0xff;
    const packed = new Uint8Array(w * 4 * h);
    for (let y = 0; y < h; y++) packed.set(buf.subarray(y * pitch, y * pitch + w * 4), y * w * 4);
    expect(packedHash(buf, pitch, w, h)).toBe(frameHash(packed, 0, packed.length));
    // Unaligned copies hash the same; one changed byte changes the hash.
    const odd = new Uint8Array(buf.length + 1);
    odd.set(buf, 1);
    expect(packedHash(odd.subarray(1), pitch, w, h)).toBe(frameHash(packed, 0, packed.length));
    const oddPacked = new Uint8Array(packed.length + 3);
    oddPacked.set(packed, 3);
    expect(frameHash(oddPacked, 3, packed.length)).toBe(frameHash(packed, 0, packed.length));
    packed[17] = packed[17]! ^ 1;
    expect(frameHash(packed, 0, packed.length)).not.toBe(packedHash(buf, pitch, w, h));
  });
});
