/**
 * Images of differing display frames for the HTML diff report: for each of
 * the verdict's first few differing frames, the expected frame, the actual
 * frame and a difference image (changed pixels in magenta over a faded
 * grey of the expected picture), as PNG data: URIs.
 */
import type { TraceSource } from '../reader.js';
import {
  comparePixels, describePixelDiff, differenceRgba, encodePng, fetchFrames, frameRefKey, framePng, pipeName, type FrameRef,
} from '../frames.js';

/** Differing frames shown with images, at most. */
export const MAX_FRAME_IMAGES = 4;

export interface FrameImages {
  device: string;
  pipe: number;
  counter: number;
  /** "frame 12 on pipe A" */
  title: string;
  /** How they differ: "1,234 of 307,200 pixels differ, first at (10, 20): ..." */
  detail: string;
  width: number;
  height: number;
  /** Pixels that differ. */
  differing: number;
  /** PNG data: URIs. */
  expected: string;
  actual: string;
  difference: string;
}

const uri = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

/** Images of the differing frames among `refs` (the first `max`); frames that cannot be read or shown are left out. */
export function frameImages(a: TraceSource, b: TraceSource, refs: readonly FrameRef[], max = MAX_FRAME_IMAGES): FrameImages[] {
  const want = refs.slice(0, max);
  if (want.length === 0) return [];
  const fa = fetchFrames(a, want);
  const fb = fetchFrames(b, want);
  const out: FrameImages[] = [];
  for (const r of want) {
    const ea = fa.get(frameRefKey(r));
    const eb = fb.get(frameRefKey(r));
    if (ea === undefined || eb === undefined) continue;
    const pa = framePng(ea);
    const pb = framePng(eb);
    if (pa === undefined || pb === undefined) continue;
    out.push({
      device: r.device, pipe: r.pipe, counter: r.counter,
      title: `frame ${r.counter} on pipe ${pipeName(r.pipe)}`,
      detail: describePixelDiff(ea, eb),
      width: ea.width, height: ea.height,
      differing: comparePixels(ea, eb).differing,
      expected: uri(pa), actual: uri(pb), difference: uri(encodePng(ea.width, ea.height, differenceRgba(ea, eb))),
    });
  }
  return out;
}
