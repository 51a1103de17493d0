/**
 * `simrun export --frames <trace> -o dir/`: the display frames of a trace
 * (`frame` records) as PNG files, one per frame,
 * `<device>-pipe<P>-<frame counter, 6 digits>.png` (8-bit RGB), and a
 * contact sheet, `contact-sheet.png`: thumbnails in a grid, each labelled
 * with its pipe and frame number.
 *
 * Filters: one pipe (`pipe`), a range of frame numbers (`from`..`to`,
 * inclusive), devices (`device`). Streams: the trace is read chunk by chunk;
 * what is kept is the contact sheet's thumbnails (at most MAX_THUMBS: past
 * that every other one is dropped and the stride doubles, so a long run's
 * sheet still spans it evenly) and the PNG of the last few distinct frames
 * (an unchanged screen is encoded once). The output is deterministic: the
 * same trace and options give the same files, byte for byte.
 *
 * A frame counter seen twice on one pipe (the counter restarts when the pipe
 * is enabled again) gets "-1", "-2", ... after the number.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TraceFormatError, type DamageReport } from '../format.js';
import { resolveDevices } from '../inspect.js';
import { openTrace, type EventFilter, type TraceReader } from '../reader.js';
import { encodePng, fourccName, frameHash, frameRgba, pipeName, type FrameEvent } from '../frames.js';

export interface ExportFramesOptions {
  /** Trace file (or in-memory trace bytes; then `label` names it in messages). */
  trace: string | Uint8Array;
  /** Output directory (created if missing). */
  outDir: string;
  /** Only this pipe (0 = A). */
  pipe?: number | undefined;
  /** Only frames whose counter is in from..to (inclusive). */
  from?: number | undefined;
  to?: number | undefined;
  /** Only frames of these devices (ids or types). */
  device?: string | readonly string[] | undefined;
  /** Warnings and notes (stderr in the CLI). */
  err: (line: string) => void;
}

export interface ExportFramesResult {
  /** 0 written; 2 bad input (no such pipe, empty range, no frames, unwritable directory) or a damaged trace. */
  exitCode: 0 | 2;
  /** The error, when nothing could be written. */
  error?: string;
  /** PNG files written (paths), in trace order. */
  files: string[];
  /** The contact sheet written, if any. */
  contactSheet?: string;
  /** Frames whose pixels were lost to damage, or in a format simrun cannot show. */
  skipped: number;
  damage: DamageReport[];
}

/** Thumbnail box of the contact sheet (a frame is scaled to fit, aspect kept). */
export const THUMB_W = 160;
export const THUMB_H = 120;
/** Thumbnails per row of the contact sheet. */
export const SHEET_COLUMNS = 8;
/** Most thumbnails kept for the sheet. */
export const MAX_THUMBS = 512;
/** Label band under each thumbnail, and the gap around cells. */
export const LABEL_H = 12;
export const GAP = 4;
const BG = [0x20, 0x20, 0x20] as const;
const FG = [0xf0, 0xf0, 0xf0] as const;

/** The file name of a frame: "display0-pipeA-000012.png". */
export function framePngName(device: string, pipe: number, counter: number, repeat = 0): string {
  const safe = device.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${safe}-pipe${pipeName(pipe)}-${String(counter).padStart(6, '0')}${repeat > 0 ? `-${repeat}` : ''}.png`;
}

interface Thumb {
  label: string;
  w: number;
  h: number;
  rgb: Uint8Array;
}

/** Box-filtered thumbnail (RGB) of RGBA pixels, fitting THUMB_W x THUMB_H. */
function thumbnail(rgba: Uint8Array, width: number, height: number): { w: number; h: number; rgb: Uint8Array } {
  const scale = Math.min(1, THUMB_W / width, THUMB_H / height);
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const rgb = new Uint8Array(w * h * 3);
  for (let ty = 0; ty < h; ty++) {
    const y0 = Math.floor((ty * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * height) / h));
    for (let tx = 0; tx < w; tx++) {
      const x0 = Math.floor((tx * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * width) / w));
      let r = 0, g = 0, b = 0;
      for (let y = y0; y < y1; y++) {
        let o = (y * width + x0) * 4;
        for (let x = x0; x < x1; x++, o += 4) { r += rgba[o]!; g += rgba[o + 1]!; b += rgba[o + 2]!; }
      }
      const n = (y1 - y0) * (x1 - x0);
      const t = (ty * w + tx) * 3;
      rgb[t] = Math.round(r / n); rgb[t + 1] = Math.round(g / n); rgb[t + 2] = Math.round(b / n);
    }
  }
  return { w, h, rgb };
}

// A 3x5 pixel font for the labels (rows top to bottom, 3 bits each, high bit left).
const FONT: Record<string, readonly number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 3, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  'A': [2, 5, 7, 5, 5], 'B': [6, 5, 6, 5, 6], 'C': [3, 4, 4, 4, 3], 'D': [6, 5, 5, 5, 6], 'E': [7, 4, 6, 4, 7],
  'F': [7, 4, 6, 4, 4], 'G': [3, 4, 5, 5, 3], 'H': [5, 5, 7, 5, 5], '#': [5, 7, 5, 7, 5], '-': [0, 0, 7, 0, 0],
  ' ': [0, 0, 0, 0, 0],
};
/** Font scale: each font pixel is 2x2. */
const FS = 2;

/** Draws `text` into an RGB image at (x, y) (top-left), in FG. */
function drawText(img: Uint8Array, imgW: number, x: number, y: number, text: string): void {
  let cx = x;
  for (const ch of text) {
    const g = FONT[ch] ?? FONT[' ']!;
    for (let row = 0; row < 5; row++) {
      for (let col = 0; col < 3; col++) {
        if (((g[row]! >> (2 - col)) & 1) === 0) continue;
        for (let dy = 0; dy < FS; dy++) {
          for (let dx = 0; dx < FS; dx++) {
            const o = ((y + row * FS + dy) * imgW + cx + col * FS + dx) * 3;
            if (o < 0 || o + 2 >= img.length) continue;
            img[o] = FG[0]; img[o + 1] = FG[1]; img[o + 2] = FG[2];
          }
        }
      }
    }
    cx += 4 * FS;
  }
}

/** Width in pixels of a label drawn by drawText. */
export function labelWidth(text: string): number {
  return text.length * 4 * FS;
}

/** The contact sheet as a PNG: cells of THUMB_W x (THUMB_H + LABEL_H) with GAP around them, SHEET_COLUMNS to a row. */
export function contactSheetPng(thumbs: readonly Thumb[]): { png: Buffer; width: number; height: number } {
  const cols = Math.max(1, Math.min(SHEET_COLUMNS, thumbs.length));
  const rows = Math.max(1, Math.ceil(thumbs.length / cols));
  const cellW = THUMB_W + GAP;
  const cellH = THUMB_H + LABEL_H + GAP;
  const width = cols * cellW + GAP;
  const height = rows * cellH + GAP;
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = BG[0]; rgba[i * 4 + 1] = BG[1]; rgba[i * 4 + 2] = BG[2]; rgba[i * 4 + 3] = 255;
  }
  const label = new Uint8Array(width * height * 3); // text layer (RGB), merged below
  thumbs.forEach((t, i) => {
    const cx = GAP + (i % cols) * cellW;
    const cy = GAP + Math.floor(i / cols) * cellH;
    const ox = cx + ((THUMB_W - t.w) >> 1);
    const oy = cy + ((THUMB_H - t.h) >> 1);
    for (let y = 0; y < t.h; y++) {
      for (let x = 0; x < t.w; x++) {
        const s = (y * t.w + x) * 3;
        const o = ((oy + y) * width + ox + x) * 4;
        rgba[o] = t.rgb[s]!; rgba[o + 1] = t.rgb[s + 1]!; rgba[o + 2] = t.rgb[s + 2]!;
      }
    }
    drawText(label, width, cx + ((THUMB_W - labelWidth(t.label)) >> 1), cy + THUMB_H + 1, t.label);
  });
  for (let i = 0, o = 0; i < label.length; i += 3, o += 4) {
    if (label[i] !== 0) { rgba[o] = label[i]!; rgba[o + 1] = label[i + 1]!; rgba[o + 2] = label[i + 2]!; }
  }
  return { png: encodePng(width, height, rgba), width, height };
}

/** PNGs of the last few distinct frames, by pixel hash and size (a still screen is encoded once). */
class PngCache {
  private readonly m = new Map<string, Buffer>();
  get(ev: FrameEvent): Buffer | undefined {
    const k = `${frameHash(ev.data)}:${ev.width}x${ev.height}:${ev.format}:${ev.data.length}`;
    const hit = this.m.get(k);
    if (hit !== undefined) return hit;
    const rgba = frameRgba(ev);
    if (rgba === undefined) return undefined;
    const png = encodePng(ev.width, ev.height, rgba);
    if (this.m.size >= 8) this.m.delete(this.m.keys().next().value!);
    this.m.set(k, png);
    return png;
  }
}

export function runExportFrames(o: ExportFramesOptions): ExportFramesResult {
  const fail = (error: string, damage: DamageReport[] = []): ExportFramesResult => {
    o.err(`error: ${error}`);
    return { exitCode: 2, error, files: [], skipped: 0, damage };
  };
  if (o.from !== undefined && o.to !== undefined && o.from > o.to) return fail(`empty frame range: --from ${o.from} is after --to ${o.to}`);
  let reader: TraceReader;
  try {
    reader = openTrace(o.trace);
  } catch (e) {
    return fail(e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`);
  }
  const filter: EventFilter = { kinds: ['frame'] };
  try {
    const devs = resolveDevices(o.device, reader.header);
    if (devs) filter.devs = devs;
  } catch (e) {
    return fail((e as Error).message);
  }
  try {
    fs.mkdirSync(o.outDir, { recursive: true });
    if (!fs.statSync(o.outDir).isDirectory()) return fail(`${o.outDir}: not a directory (-o takes the directory for the PNG files)`);
    fs.accessSync(o.outDir, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(`${o.outDir}: cannot write PNG files there (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : code ?? (e as Error).message})`);
  }
  const devName = new Map(reader.header.devices.map((d) => [d.index, d.id] as const));
  const files: string[] = [];
  const seenNames = new Map<string, number>();
  let thumbs: Thumb[] = [];
  let stride = 1;
  let matched = 0;
  let skipped = 0;
  const pipesSeen = new Set<number>();
  let anyFrames = 0;
  let lo = Infinity;
  let hi = -Infinity;
  const cache = new PngCache();
  const formats = new Set<string>();
  try {
    for (const ev of reader.events(filter)) {
      if (ev.kind !== 'frame') continue;
      anyFrames++;
      pipesSeen.add(ev.pipe);
      if (o.pipe !== undefined && ev.pipe !== o.pipe) continue;
      if (ev.counter < lo) lo = ev.counter;
      if (ev.counter > hi) hi = ev.counter;
      if ((o.from !== undefined && ev.counter < o.from) || (o.to !== undefined && ev.counter > o.to)) continue;
      matched++;
      const expect = ev.width * ev.height * 4;
      if (ev.missing !== undefined || ev.data.length !== expect) {
        skipped++;
        continue;
      }
      const png = cache.get(ev);
      if (png === undefined) {
        skipped++;
        formats.add(fourccName(ev.format));
        continue;
      }
      const dev = devName.get(ev.dev) ?? `dev${ev.dev}`;
      const base = framePngName(dev, ev.pipe, ev.counter);
      const rep = seenNames.get(base) ?? 0;
      seenNames.set(base, rep + 1);
      const file = path.join(o.outDir, rep === 0 ? base : framePngName(dev, ev.pipe, ev.counter, rep));
      fs.writeFileSync(file, png);
      files.push(file);
      // Every stride-th frame goes on the sheet; when the sheet is full, keep every other one.
      if ((files.length - 1) % stride === 0) {
        const t = thumbnail(frameRgba(ev)!, ev.width, ev.height);
        thumbs.push({ label: `${pipeName(ev.pipe)}#${ev.counter}`, ...t });
        if (thumbs.length > MAX_THUMBS) {
          thumbs = thumbs.filter((_, i) => i % 2 === 0);
          stride *= 2;
        }
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined) return fail(`${o.outDir}: cannot write PNG files there (${code})`, [...reader.damage]);
    return fail(`reading ${reader.path} failed: ${(e as Error).message}`, [...reader.damage]);
  }
  const damage = [...reader.damage];
  if (anyFrames === 0) {
    return fail(`${reader.path} has no display frames${filter.devs ? ' of that device' : ''} (frame records): nothing to export`, damage);
  }
  if (o.pipe !== undefined && !pipesSeen.has(o.pipe)) {
    return fail(`${reader.path} has no frames on pipe ${pipeName(o.pipe)} (pipes with frames: ${[...pipesSeen].sort((a, b) => a - b).map(pipeName).join(', ')})`, damage);
  }
  if (matched === 0) {
    return fail(`no frames numbered ${o.from ?? lo}..${o.to ?? hi}${o.pipe !== undefined ? ` on pipe ${pipeName(o.pipe)}` : ''} (frame numbers in the trace: ${lo}..${hi})`, damage);
  }
  if (formats.size > 0) o.err(`note: ${skipped} frame${skipped === 1 ? '' : 's'} in a pixel format simrun cannot show (${[...formats].join(', ')}) not written`);
  else if (skipped > 0) o.err(`warning: ${skipped} frame${skipped === 1 ? '' : 's'} whose pixels were lost to damage not written`);
  const res: ExportFramesResult = { exitCode: damage.length > 0 ? 2 : 0, files, skipped, damage };
  if (thumbs.length > 0) {
    const sheet = path.join(o.outDir, 'contact-sheet.png');
    try {
      fs.writeFileSync(sheet, contactSheetPng(thumbs).png);
      res.contactSheet = sheet;
    } catch (e) {
      return fail(`${sheet}: cannot write the contact sheet (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, damage);
    }
    if (stride > 1) o.err(`note: the contact sheet shows every ${stride}th of the ${files.length} frames`);
  }
  if (damage.length > 0) o.err(`warning: ${reader.path} is damaged: ${o.outDir} holds the frames of its intact chunks`);
  return res;
}
