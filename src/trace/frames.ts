/**
 * Display frames in traces (`frame` records: one per vblank per enabled
 * pipe, the scanned-out pixels content-addressed like DMA payloads): names
 * (pipe letters, DRM fourccs), content hashes, pixel comparisons, conversion
 * to RGB(A) for PNG export and difference images, and fetching given frames
 * back out of a trace (for reports that show them).
 *
 * Pixels are rows packed without padding, 4 bytes a pixel, in the DRM
 * fourcc's byte order: XRGB8888 / ARGB8888 are B, G, R, X|A in memory,
 * XBGR8888 / ABGR8888 are R, G, B, X|A. Comparisons are of whole 32-bit
 * pixels (the X byte included: the content hash covers every byte).
 */
import { PNG } from 'pngjs';
import { crc32 } from './format.js';
import { openTrace, type EventFilter, type SeqEvent, type TraceSource } from './reader.js';

/** DRM fourccs ('XR24' is 0x34325258: the four characters little-endian). */
export const DRM_FORMAT_XRGB8888 = 0x34325258;
export const DRM_FORMAT_ARGB8888 = 0x34325241;
export const DRM_FORMAT_XBGR8888 = 0x34324258;
export const DRM_FORMAT_ABGR8888 = 0x34324241;

/** A frame event as read from a trace. */
export type FrameEvent = Extract<SeqEvent, { kind: 'frame' }>;

/** "A" for pipe 0, "B", "C", ...; past "Z" the number. */
export function pipeName(pipe: number): string {
  return pipe >= 0 && pipe < 26 ? String.fromCharCode(65 + pipe) : String(pipe);
}

/** A pipe given by letter ("A", "b") or number ("0"); undefined when it is neither. */
export function parsePipe(s: string): number | undefined {
  const t = s.trim();
  if (/^[A-Za-z]$/.test(t)) return t.toUpperCase().charCodeAt(0) - 65;
  if (/^pipe[A-Za-z]$/i.test(t)) return t.slice(4).toUpperCase().charCodeAt(0) - 65;
  if (/^\d{1,3}$/.test(t)) return Number(t);
  return undefined;
}

/** The fourcc's four characters ("XR24"), or its hex value when they are not printable. */
export function fourccName(format: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = (format >>> (8 * i)) & 0xff;
    if (c < 0x20 || c > 0x7e) return `0x${(format >>> 0).toString(16).padStart(8, '0')}`;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Byte offsets of red, green and blue within a pixel, for the formats simrun can show; undefined for others. */
export function channelOffsets(format: number): { r: number; g: number; b: number } | undefined {
  if (format === DRM_FORMAT_XRGB8888 || format === DRM_FORMAT_ARGB8888) return { r: 2, g: 1, b: 0 };
  if (format === DRM_FORMAT_XBGR8888 || format === DRM_FORMAT_ABGR8888) return { r: 0, g: 1, b: 2 };
  return undefined;
}

const hashCache = new WeakMap<Uint8Array, string>();

/**
 * Content hash of a frame's pixels: CRC-32 of every byte, 8 hex digits.
 * Cached per array: a trace reader hands out one array per blob, so an
 * unchanged frame is hashed once per pass.
 */
export function frameHash(data: Uint8Array): string {
  let h = hashCache.get(data);
  if (h === undefined) {
    h = crc32(data).toString(16).padStart(8, '0');
    hashCache.set(data, h);
  }
  return h;
}

/** Makes `frameHash(to)` answer `frameHash(from)` (a normalised event whose pixels were dropped keeps its hash). */
export function carryFrameHash(from: Uint8Array, to: Uint8Array): void {
  hashCache.set(to, frameHash(from));
}

/** One line of a frame event's content: "pipe A #12 640x480 XR24 hash 1a2b3c4d". */
export function describeFrameEvent(ev: { pipe: number; counter: number; width: number; height: number; format: number; data: Uint8Array }): string {
  const expect = ev.width * ev.height * 4;
  const size = ev.data.length === expect || ev.data.length === 0 ? '' : ` (${ev.data.length} bytes, ${expect} expected)`;
  return `pipe ${pipeName(ev.pipe)} #${ev.counter} ${ev.width}x${ev.height} ${fourccName(ev.format)} hash ${frameHash(ev.data)}${size}`;
}

/** A pixel as "#rrggbb" (with the fourth byte when it is not 0: "#rrggbb/x=ff"). */
export function pixelText(data: Uint8Array, index: number, format: number): string {
  const o = index * 4;
  const ch = channelOffsets(format) ?? { r: 2, g: 1, b: 0 };
  const hx = (v: number | undefined): string => (v ?? 0).toString(16).padStart(2, '0');
  const x = data[o + 3] ?? 0;
  return `#${hx(data[o + ch.r])}${hx(data[o + ch.g])}${hx(data[o + ch.b])}${x !== 0 ? `/x=${hx(x)}` : ''}`;
}

export interface PixelDiff {
  /** Pixels that differ (whole 32-bit pixels). */
  differing: number;
  /** Pixels compared (the smaller frame's). */
  total: number;
  /** The first differing pixel in raster order. */
  first?: { x: number; y: number; expected: string; actual: string };
  /** Bounding box of the differing pixels. */
  box?: { x0: number; y0: number; x1: number; y1: number };
}

/**
 * Compares two frames of the same size pixel by pixel (32-bit words: four
 * bytes at a time). Frames of different sizes are compared over the shared
 * top-left rectangle.
 */
export function comparePixels(a: FrameLike, b: FrameLike): PixelDiff {
  const w = Math.min(a.width, b.width);
  const h = Math.min(a.height, b.height);
  let differing = 0;
  let first: PixelDiff['first'];
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  const wa = words(a.data);
  const wb = words(b.data);
  for (let y = 0; y < h; y++) {
    const ra = y * a.width;
    const rb = y * b.width;
    if (ra + w > wa.length || rb + w > wb.length) break;
    for (let x = 0; x < w; x++) {
      if (wa[ra + x] === wb[rb + x]) continue;
      differing++;
      if (first === undefined) first = { x, y, expected: pixelText(a.data, ra + x, a.format), actual: pixelText(b.data, rb + x, b.format) };
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      y1 = y;
    }
  }
  const d: PixelDiff = { differing, total: w * h };
  if (first !== undefined) {
    d.first = first;
    d.box = { x0, y0, x1, y1 };
  }
  return d;
}

/** The pixels as 32-bit words (copied when the bytes are not 4-byte aligned). */
function words(data: Uint8Array): Uint32Array {
  if ((data.byteOffset & 3) === 0) return new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
  const c = data.slice();
  return new Uint32Array(c.buffer, 0, c.length >>> 2);
}

/** The fields of a frame that images are made from. */
export interface FrameLike {
  width: number;
  height: number;
  format: number;
  data: Uint8Array;
}

/** One line on how two frames differ: "1,234 of 307,200 pixels differ, first at (10, 20): expected #ff0000, got #00ff00". */
export function describePixelDiff(a: FrameLike, b: FrameLike): string {
  if (a.width !== b.width || a.height !== b.height) return `size ${a.width}x${a.height} → ${b.width}x${b.height}`;
  if (a.format !== b.format) return `format ${fourccName(a.format)} → ${fourccName(b.format)}`;
  const d = comparePixels(a, b);
  if (d.first === undefined) return a.data.length !== b.data.length ? `${a.data.length} → ${b.data.length} bytes of pixels` : 'same pixels';
  const n = (v: number): string => v.toLocaleString('en-US');
  return `${n(d.differing)} of ${n(d.total)} pixels differ, first at (${d.first.x}, ${d.first.y}): expected ${d.first.expected}, got ${d.first.actual}`;
}

/** RGBA bytes (alpha 255) of a frame, for PNG encoding; undefined for a format simrun cannot show. */
export function frameRgba(f: FrameLike): Uint8Array | undefined {
  const ch = channelOffsets(f.format);
  if (ch === undefined) return undefined;
  const n = f.width * f.height;
  const out = new Uint8Array(n * 4);
  const src = f.data;
  const m = Math.min(n, src.length >>> 2);
  for (let i = 0, o = 0; i < m; i++, o += 4) {
    out[o] = src[o + ch.r]!;
    out[o + 1] = src[o + ch.g]!;
    out[o + 2] = src[o + ch.b]!;
    out[o + 3] = 255;
  }
  // Pixels missing from a short frame (damage) stay black.
  for (let o = m * 4 + 3; o < out.length; o += 4) out[o] = 255;
  return out;
}

/**
 * A difference image of two frames (RGBA, the expected frame's size):
 * unchanged pixels as a faded grey of the expected picture, changed pixels
 * in full magenta (#ff00ff), so even a one-pixel change stands out.
 */
export function differenceRgba(a: FrameLike, b: FrameLike): Uint8Array {
  const ra = frameRgba(a) ?? new Uint8Array(a.width * a.height * 4);
  const wa = words(a.data);
  const wb = words(b.data);
  const out = new Uint8Array(a.width * a.height * 4);
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = y * a.width + x;
      const o = i * 4;
      const j = y * b.width + x;
      const same = x < b.width && y < b.height && j < wb.length && i < wa.length && wa[i] === wb[j];
      if (same) {
        const grey = (ra[o]! * 77 + ra[o + 1]! * 150 + ra[o + 2]! * 29) >>> 8;
        const v = 160 + (grey >>> 2); // 160..223: faded, so the marks stand out
        out[o] = v; out[o + 1] = v; out[o + 2] = v;
      } else {
        out[o] = 255; out[o + 1] = 0; out[o + 2] = 255;
      }
      out[o + 3] = 255;
    }
  }
  return out;
}

/**
 * A PNG (8-bit RGB, no alpha) of RGBA pixels. Deterministic: the same pixels
 * give the same bytes (fixed filter and compression settings, no time stamp
 * or other ancillary chunk).
 */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 6, bitDepth: 8, inputHasAlpha: true, deflateLevel: 6, deflateStrategy: 1 });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
  return PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true, bitDepth: 8, deflateLevel: 6, deflateStrategy: 1 });
}

/** A frame as a PNG; undefined for a format simrun cannot show. */
export function framePng(f: FrameLike): Buffer | undefined {
  const rgba = frameRgba(f);
  return rgba === undefined ? undefined : encodePng(f.width, f.height, rgba);
}

/** Which frame: the device (id, as in the trace header), pipe and frame counter. */
export interface FrameRef {
  device: string;
  pipe: number;
  counter: number;
}

const refKey = (device: string, pipe: number, counter: number): string => `${device}\u0000${pipe}\u0000${counter}`;

/**
 * The given frames of a trace (first occurrence of each), read in one pass
 * over its frame records. Frames not found (or whose pixels were lost to
 * damage) are absent from the map, which is keyed by `frameRefKey`.
 */
export function fetchFrames(source: TraceSource, refs: readonly FrameRef[]): Map<string, FrameEvent> {
  const out = new Map<string, FrameEvent>();
  if (refs.length === 0) return out;
  const r = openTrace(source);
  const idx = new Map<number, string>();
  for (const d of r.header.devices) idx.set(d.index, d.id);
  const want = new Set(refs.map((x) => refKey(x.device, x.pipe, x.counter)));
  const devs = [...new Set(refs.map((x) => r.header.devices.find((d) => d.id === x.device)?.index).filter((x): x is number => x !== undefined))];
  if (devs.length === 0) return out;
  const filter: EventFilter = { kinds: ['frame'], devs };
  for (const ev of r.events(filter)) {
    if (ev.kind !== 'frame' || ev.missing !== undefined) continue;
    const k = refKey(idx.get(ev.dev) ?? `dev${ev.dev}`, ev.pipe, ev.counter);
    if (!want.has(k) || out.has(k)) continue;
    out.set(k, ev);
    if (out.size === want.size) break;
  }
  return out;
}

export function frameRefKey(f: FrameRef): string {
  return refKey(f.device, f.pipe, f.counter);
}

/** The fact stream of a device's frames on one pipe ("frames:pipe A"), and back. */
export function frameStreamName(pipe: number): string {
  return `frames:pipe ${pipeName(pipe)}`;
}
export function pipeOfFrameStream(stream: string): number | undefined {
  const m = /^frames:pipe (\S+)$/.exec(stream);
  return m ? parsePipe(m[1]!) : undefined;
}

/** A frame as a behaviour fact: "frame=12 size=640x480 format=XR24 hash=1a2b3c4d". */
export function frameFact(ev: { counter: number; width: number; height: number; format: number; data: Uint8Array }): string {
  return `frame=${ev.counter} size=${ev.width}x${ev.height} format=${fourccName(ev.format)} hash=${frameHash(ev.data)}`;
}
/** The frame counter of a frame fact. */
export function counterOfFact(fact: string): number | undefined {
  const m = /^frame=(\d+) /.exec(fact);
  return m ? Number(m[1]) : undefined;
}
