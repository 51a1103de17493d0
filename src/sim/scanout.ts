/**
 * Where a display model hands the frames it scans out, besides the trace:
 * the machine keeps a short log of content hashes per pipe so a workload can
 * check that the frame shown at a vblank holds what it drew (the same pixels
 * a `frame` trace record carries). Capturing a frame walks the framebuffer,
 * so a display model captures only when `wanted` (someone keeps hashes) or
 * the tracer records.
 */
import { FNV_OFFSET, fnvWords, fnvWordsOfBytes } from './hash.js';

export interface ScanoutSink {
  readonly wanted: boolean;
  /** Same arguments as `Tracer.frame`: the packed pixels of frame `seq` on `pipe` of device `dev`. */
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void;
}

/** One scanned-out frame as the log keeps it. */
export interface ScanoutEntry {
  time: number;
  seq: number;
  width: number;
  height: number;
  format: number;
  /** `frameHash` of the packed pixels. */
  hash: number;
}

/**
 * The content hash of packed pixels [offset, offset + length) of `data`:
 * FNV-1a over its little-endian 32-bit words (pixels are 4 bytes), seeded
 * with the length; the same value at any alignment. A workload computing
 * what it drew uses this too (drm/pattern.ts `packedHash`).
 */
export function frameHash(data: Uint8Array, offset: number, length: number): number {
  const at = data.byteOffset + offset;
  const n = length >>> 2;
  if (at % 4 !== 0) return fnvWordsOfBytes(FNV_OFFSET ^ length, data, offset, n);
  return fnvWords(FNV_OFFSET ^ length, new Uint32Array(data.buffer, at, n), 0, n);
}

/** Nothing looks at the pixels. */
export const NO_SCANOUT: ScanoutSink = { wanted: false, frame() {} };

/**
 * The last `depth` frames of every (device, pipe), by frame counter. Entries
 * are reused in a ring: a long run keeps a fixed amount of memory.
 */
export class ScanoutLog implements ScanoutSink {
  wanted = false;
  private readonly rings = new Map<number, { next: number; entries: ScanoutEntry[] }>();

  constructor(readonly depth = 512) {}

  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    const key = dev * 16 + pipe;
    let ring = this.rings.get(key);
    if (ring === undefined) {
      ring = { next: 0, entries: [] };
      this.rings.set(key, ring);
    }
    const hash = frameHash(data, offset, length);
    if (ring.entries.length < this.depth) {
      ring.entries.push({ time, seq, width, height, format, hash });
    } else {
      const e = ring.entries[ring.next]!;
      e.time = time; e.seq = seq; e.width = width; e.height = height; e.format = format; e.hash = hash;
      ring.next = (ring.next + 1) % this.depth;
    }
  }

  /** Frame `seq` of `pipe` on device `dev`, if it is still in the log. */
  find(dev: number, pipe: number, seq: number): ScanoutEntry | undefined {
    const ring = this.rings.get(dev * 16 + pipe);
    if (ring === undefined) return undefined;
    for (const e of ring.entries) if (e.seq === seq) return e;
    return undefined;
  }

  /** Frame `seq` of `pipe` on whichever device has one (the first by device index). */
  findOnPipe(pipe: number, seq: number): ScanoutEntry | undefined {
    const keys = [...this.rings.keys()].filter((k) => k % 16 === pipe).sort((a, b) => a - b);
    for (const k of keys) {
      const e = this.find(Math.floor(k / 16), pipe, seq);
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** The newest frame of `pipe` on device `dev`. */
  latest(dev: number, pipe: number): ScanoutEntry | undefined {
    const ring = this.rings.get(dev * 16 + pipe);
    if (ring === undefined || ring.entries.length === 0) return undefined;
    return ring.entries[(ring.next + ring.entries.length - 1) % ring.entries.length];
  }
}
