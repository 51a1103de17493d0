/**
 * Synthetic display frames for the trace tests: XRGB8888 patterns (bytes B,
 * G, R, X) and traces of them built with TraceRecorder + frame() calls, as a
 * display model would make them at each vblank.
 */
import type { Tracer } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import type { RecorderOptions } from '../../src/trace/recorder.js';
import { DRM_FORMAT_XRGB8888 } from '../../src/trace/frames.js';
import { makeHeader } from './helpers.js';

export const XR24 = DRM_FORMAT_XRGB8888;
/** Device index of display0 in frameHeader(). */
export const DISPLAY = 2;
/** One vblank at 60 Hz, in ps. */
export const VBLANK = 16_666_667_000;

export function frameHeader(): ReturnType<typeof makeHeader> {
  return makeHeader({
    devices: [
      { index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' },
      { index: 1, id: 'wifi0', type: 'iwlwifi', bdf: '00:05.0' },
      { index: 2, id: 'display0', type: 'test-display', bdf: '00:02.0' },
    ],
  });
}

/** A deterministic picture for frame `n`: a gradient, a band that moves with n, a counter block. */
export function pattern(width: number, height: number, n: number): Uint8Array {
  const d = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const band = ((x + n * 8) % 64) < 8;
      d[o] = band ? 0xff : (x * 255 / Math.max(1, width - 1)) & 0xff; // B
      d[o + 1] = (y * 255 / Math.max(1, height - 1)) & 0xff; // G
      d[o + 2] = ((n * 37) & 0xff); // R: the frame number
      d[o + 3] = 0; // X
    }
  }
  return d;
}

/** RGB of pixel (x, y) of an XRGB8888 frame. */
export function rgbAt(d: Uint8Array, width: number, x: number, y: number): [number, number, number] {
  const o = (y * width + x) * 4;
  return [d[o + 2]!, d[o + 1]!, d[o]!];
}

export interface FrameRun {
  width?: number;
  height?: number;
  frames?: number;
  pipe?: number;
  /** Picture of frame n (default: pattern(w, h, n)). */
  picture?: (n: number) => Uint8Array;
  /** Time of frame n (default: n * VBLANK + 1 ms). */
  time?: (n: number) => number;
  /** Frame counters to leave out. */
  skip?: readonly number[];
  /** Other records first (a trace with more than frames). */
  before?: (t: Tracer) => void;
}

/** Emits frames 0..n-1 as a display model would (one scanout buffer, reused). */
export function emitFrames(t: Tracer, o: FrameRun = {}): void {
  const w = o.width ?? 64;
  const h = o.height ?? 48;
  const scanout = new Uint8Array(w * h * 4 + 64);
  for (let n = 0; n < (o.frames ?? 8); n++) {
    if (o.skip?.includes(n)) continue;
    const pic = (o.picture ?? ((k: number) => pattern(w, h, k)))(n);
    scanout.set(pic, 16);
    t.frame((o.time ?? ((k: number) => k * VBLANK + 1_000_000_000))(n), DISPLAY, o.pipe ?? 0, n, w, h, XR24, scanout, 16, w * h * 4);
  }
}

/** A trace of frames (in memory). */
export function frameTrace(o: FrameRun = {}, opts: RecorderOptions = {}): Buffer {
  const rec = TraceRecorder.toBuffer(frameHeader(), opts);
  o.before?.(rec);
  emitFrames(rec, o);
  return rec.close().buffer!;
}
