/**
 * The picture the drm-flip workload draws: eight colour bars, a white band
 * that moves down 4 lines a frame, and the frame number in green digits on
 * a black box at the top left. `patternPixel` is the definition (tests check
 * exported PNGs against it); `drawPattern` draws the same pixels fast.
 * Pixels are XRGB8888 values 0x00RRGGBB (bytes B, G, R, X in memory).
 */
import { FNV_OFFSET, fnvWords, fnvWordsOfBytes } from '../../sim/hash.js';

const BARS = [0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000, 0xc000c0, 0xc00000, 0x0000c0, 0x101010] as const;
const BAND = 0xffffff;
const BOX = 0x000000;
const DIGIT = 0x00ff00;
const DIGITS = 6;

/** 3x5 glyphs of 0-9, one row per 3 bits (bit 2 = left column). */
const GLYPHS: readonly (readonly number[])[] = [
  [7, 5, 5, 5, 7], [2, 6, 2, 2, 7], [7, 1, 7, 4, 7], [7, 1, 7, 1, 7], [5, 5, 7, 1, 1],
  [7, 4, 7, 1, 7], [7, 4, 7, 5, 7], [7, 1, 1, 1, 1], [7, 5, 7, 5, 7], [7, 5, 7, 1, 7],
];

/** Geometry of the counter box for a picture of `height` lines. */
function counterBox(height: number): { s: number; x0: number; y0: number; w: number; h: number } {
  const s = Math.max(1, Math.floor(height / 60));
  // Each digit is 3 cells wide plus a 1-cell gap; a 1-cell margin all round.
  return { s, x0: s, y0: s, w: (DIGITS * 4 + 1) * s, h: 7 * s };
}

function bandTop(frame: number, height: number): number {
  return (frame * 4) % height;
}

function bandHeight(height: number): number {
  return Math.max(2, Math.floor(height / 30));
}

/** The pixel at (x, y) of frame `frame` in a width x height picture. */
export function patternPixel(x: number, y: number, frame: number, width: number, height: number): number {
  const box = counterBox(height);
  if (x >= box.x0 && x < box.x0 + box.w && y >= box.y0 && y < box.y0 + box.h) {
    const cx = Math.floor((x - box.x0) / box.s) - 1;
    const cy = Math.floor((y - box.y0) / box.s) - 1;
    if (cx < 0 || cy < 0 || cy >= 5) return BOX;
    const d = Math.floor(cx / 4);
    const col = cx % 4;
    if (d >= DIGITS || col === 3) return BOX;
    const digit = Math.floor(frame / 10 ** (DIGITS - 1 - d)) % 10;
    return ((GLYPHS[digit]![cy]! >> (2 - col)) & 1) === 1 ? DIGIT : BOX;
  }
  const top = bandTop(frame, height);
  if (y >= top && y < top + bandHeight(height)) return BAND;
  return BARS[Math.min(7, Math.floor((x * 8) / width))]!;
}

/**
 * Draws frame `frame` into `dst` (a buffer of `pitch`-byte rows); `row` is
 * scratch of at least `width` pixels. Returns the CPU cycles the drawing
 * costs (for `sys.spend`): about one cycle a pixel for the copies, more for
 * the counter's pixels.
 */
export function drawPattern(dst: Uint8Array, pitch: number, width: number, height: number, frame: number, row: Uint32Array): number {
  const words = new Uint32Array(dst.buffer, dst.byteOffset, (pitch * height) >>> 2);
  const stride = pitch >>> 2;
  for (let x = 0; x < width; x++) row[x] = BARS[Math.min(7, Math.floor((x * 8) / width))]!;
  const bars = row.subarray(0, width);
  const top = bandTop(frame, height);
  const bandEnd = top + bandHeight(height);
  for (let y = 0; y < height; y++) {
    const at = y * stride;
    if (y >= top && y < bandEnd) words.fill(BAND, at, at + width);
    else words.set(bars, at);
  }
  const box = counterBox(height);
  let slow = 0;
  for (let y = box.y0; y < Math.min(height, box.y0 + box.h); y++) {
    for (let x = box.x0; x < Math.min(width, box.x0 + box.w); x++) {
      words[y * stride + x] = patternPixel(x, y, frame, width, height);
      slow++;
    }
  }
  return width * height + slow * 8;
}

/**
 * The scanout log's `frameHash` of the picture's packed rows (width * 4
 * bytes each, without the pitch's padding): what the display's frame of it
 * hashes to.
 */
export function packedHash(src: Uint8Array, pitch: number, width: number, height: number): number {
  const length = width * 4 * height;
  let h = FNV_OFFSET ^ length;
  if ((src.byteOffset + pitch) % 4 !== 0 || src.byteOffset % 4 !== 0) {
    for (let y = 0; y < height; y++) h = fnvWordsOfBytes(h, src, y * pitch, width);
    return h;
  }
  const words = new Uint32Array(src.buffer, src.byteOffset, (pitch * (height - 1) + width * 4) >>> 2);
  const stride = pitch >>> 2;
  for (let y = 0; y < height; y++) h = fnvWords(h, words, y * stride, width);
  return h;
}
