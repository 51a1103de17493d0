/**
 * Display frame records through the trace layers: recorder and reader
 * (format version 5 only for traces holding frames), content-addressed
 * pixels, inspect, the verdict (functional vs timing-only) and the
 * structural diff.
 */
import { describe, expect, it } from 'vitest';
import { MemoryTracer, type Tracer } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, readHeader, traceSummary, type SeqEvent } from '../../src/trace/reader.js';
import { ETH_FORMAT_VERSION, FORMAT_VERSION, FRAME_FORMAT_VERSION } from '../../src/trace/format.js';
import { ObservedTracer } from '../../src/trace/observed.js';
import { RingTracer } from '../../src/machine/replay/ring-tracer.js';
import { runInspect } from '../../src/trace/inspect.js';
import { judgeTraces } from '../../src/trace/verdict/judge.js';
import { runDiff } from '../../src/trace/diff/index.js';
import { sameEvent, sameShape } from '../../src/trace/compare/events.js';
import { comparePixels, describePixelDiff, fourccName, frameHash, parsePipe, pipeName } from '../../src/trace/frames.js';
import { emitAllKinds } from './helpers.js';
import { DISPLAY, VBLANK, XR24, emitFrames, frameHeader, frameTrace, pattern } from './frame-helpers.js';

type FrameEv = SeqEvent & { kind: 'frame' };
const framesOf = (buf: Uint8Array): FrameEv[] => [...openTrace(buf).events({ kinds: ['frame'] })] as FrameEv[];
const decoders = new Map();

function build(f: (t: Tracer) => void, layout: 'columns' | 'records' = 'columns'): Buffer {
  const rec = TraceRecorder.toBuffer(frameHeader(), { layout });
  f(rec);
  return rec.close().buffer!;
}

/** A picture with the pixels at the given positions changed to #102030. */
function edited(n: number, at: readonly [number, number][], w = 64, h = 48): Uint8Array {
  const d = pattern(w, h, n);
  for (const [x, y] of at) {
    const o = (y * w + x) * 4;
    d[o] = 0x30; d[o + 1] = 0x20; d[o + 2] = 0x10;
  }
  return d;
}

describe('frame records: recorder and reader', () => {
  it('round-trip every field, the pixels as recorded, with other kinds around them', () => {
    const mem = new MemoryTracer();
    const buf = build((rec) => {
      for (const t of [rec, mem]) {
        emitAllKinds(t, 0);
        emitFrames(t, { frames: 4 });
        emitFrames(t, { frames: 2, pipe: 1, width: 32, height: 16, time: (n) => n * VBLANK + 2_000_000_000 });
      }
    });
    const got = framesOf(buf);
    const want = mem.events.filter((e) => e.kind === 'frame');
    expect(got).toHaveLength(6);
    got.forEach((e, i) => {
      const { seq: _seq, ...rest } = e;
      expect(rest).toEqual(want[i]);
    });
    expect(got[0]!.counter).toBe(0);
    expect(got[3]!.counter).toBe(3);
    expect(got[4]!.pipe).toBe(1);
    expect(got[4]!.width).toBe(32);
    expect(got[0]!.format).toBe(XR24);
    expect(Buffer.compare(got[2]!.data, pattern(64, 48, 2))).toBe(0);
    // Every other kind still reads.
    const kinds = new Set([...openTrace(buf).events()].map((e) => e.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(13);
    expect(kinds.has('frame')).toBe(true);
  });

  it('in the record layout, a trace with a frame is format version 5; without, its bytes are what they were (version 3, or 4 with Ethernet)', () => {
    const withFrames = build((t) => { emitAllKinds(t, 0); emitFrames(t, { frames: 1 }); }, 'records');
    expect(readHeader(withFrames).formatVersion).toBe(FRAME_FORMAT_VERSION);
    expect(withFrames.readUInt32LE(8)).toBe(5);
    const plain = build((t) => emitAllKinds(t, 0), 'records');
    expect(readHeader(plain).formatVersion).toBe(FORMAT_VERSION);
    // A recorder that never sees a frame writes exactly what a recorder without frame support wrote:
    // the same records give the same bytes as the trace with the frame, minus the frame and the version.
    const eth = build((t) => { const f = new Uint8Array(60); f[12] = 8; t.eth(5, 1, true, 0, f, 0, 60); }, 'records');
    expect(readHeader(eth).formatVersion).toBe(ETH_FORMAT_VERSION);
    const ethThenFrame = build((t) => { const f = new Uint8Array(60); f[12] = 8; t.eth(5, 1, true, 0, f, 0, 60); emitFrames(t, { frames: 1 }); }, 'records');
    expect(readHeader(ethThenFrame).formatVersion).toBe(FRAME_FORMAT_VERSION);
    expect([...openTrace(ethThenFrame).events()].map((e) => e.kind)).toEqual(['eth', 'frame']);
  });

  it('in the record layout, recording to a file rewrites the header in place, so a file is version 5 from its first frame on', async () => {
    const { tmpDir } = await import('./helpers.js');
    const { dir, cleanup } = tmpDir();
    try {
      const path = `${dir}/f.simtrace`;
      const rec = TraceRecorder.create(path, frameHeader(), { layout: 'records' });
      emitAllKinds(rec, 0);
      emitFrames(rec, { frames: 3 });
      rec.close();
      expect(readHeader(path).formatVersion).toBe(5);
      expect(framesOf(new Uint8Array(await import('node:fs').then((fs) => fs.readFileSync(path))))).toHaveLength(3);
    } finally {
      cleanup();
    }
  });

  it('identical frames are one blob: an unchanged screen costs a reference per vblank', () => {
    const still = pattern(64, 48, 0);
    const one = frameTrace({ frames: 1, picture: () => still });
    const many = frameTrace({ frames: 100, picture: () => still });
    const changing = frameTrace({ frames: 100 });
    const s = traceSummary(many);
    expect(s.blobs).toBe(1);
    expect(traceSummary(changing).blobs).toBe(100);
    // 99 more records of a few bytes each.
    expect(many.length - one.length).toBeLessThan(99 * 40);
    // Two alternating buffers (double buffering): two blobs.
    const ab = frameTrace({ frames: 50, picture: (n) => pattern(64, 48, n % 2) });
    expect(traceSummary(ab).blobs).toBe(2);
  });

  it('the same records give the same bytes (deterministic)', () => {
    expect(Buffer.compare(frameTrace({ frames: 10 }), frameTrace({ frames: 10 }))).toBe(0);
  });

  it('ObservedTracer counts frames; RingTracer keeps a copy of the pixels (the scanout buffer is reused)', () => {
    const mem = new MemoryTracer();
    const obs = new ObservedTracer(mem);
    emitFrames(obs, { frames: 3 });
    expect(obs.frames).toBe(3);
    expect(obs.count).toBe(3);
    expect(mem.events).toHaveLength(3);
    const ring = new RingTracer(4);
    emitFrames(ring, { frames: 3 });
    const snap = ring.snapshot() as FrameEv[];
    expect(snap.map((e) => e.counter)).toEqual([0, 1, 2]);
    expect(Buffer.compare(snap[0]!.data, pattern(64, 48, 0))).toBe(0);
  });
});

describe('frame helpers', () => {
  it('names pipes and fourccs, parses pipes', () => {
    expect(pipeName(0)).toBe('A');
    expect(pipeName(2)).toBe('C');
    expect(parsePipe('A')).toBe(0);
    expect(parsePipe('b')).toBe(1);
    expect(parsePipe('pipeC')).toBe(2);
    expect(parsePipe('1')).toBe(1);
    expect(parsePipe('AB')).toBeUndefined();
    expect(fourccName(XR24)).toBe('XR24');
    expect(fourccName(0x01020304)).toBe('0x01020304');
  });

  it('compares pixels: count, first position and values', () => {
    const a = { width: 64, height: 48, format: XR24, data: pattern(64, 48, 1) };
    const b = { ...a, data: edited(1, [[10, 5], [3, 7], [63, 47]]) };
    const d = comparePixels(a, b);
    expect(d.differing).toBe(3);
    expect(d.total).toBe(64 * 48);
    expect(d.first).toMatchObject({ x: 10, y: 5, actual: '#102030' });
    expect(d.box).toEqual({ x0: 3, y0: 5, x1: 63, y1: 47 });
    expect(describePixelDiff(a, b)).toMatch(/^3 of 3,072 pixels differ, first at \(10, 5\): expected #[0-9a-f]{6}, got #102030$/);
    expect(comparePixels(a, a).differing).toBe(0);
  });
});

describe('inspect', () => {
  it('one line per frame record, filterable by kind', () => {
    const buf = build((t) => { emitAllKinds(t, 0); emitFrames(t, { frames: 3 }); });
    const lines: string[] = [];
    const r = runInspect({ path: buf, decoders, kind: 'frame', out: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0);
    expect(lines).toHaveLength(3);
    const h = frameHash(pattern(64, 48, 2));
    expect(lines[2]).toMatch(new RegExp(`display0\\s+frame\\s+pipe A #2 64x48 XR24 hash ${h}$`));
    const json: string[] = [];
    runInspect({ path: buf, decoders, kind: 'frame', json: true, out: (l) => json.push(l) });
    const o = JSON.parse(json[0]!) as Record<string, unknown>;
    expect(o).toMatchObject({ kind: 'frame', device: 'display0', pipe: 0, pipeName: 'A', counter: 0, width: 64, height: 48, fourcc: 'XR24', length: 64 * 48 * 4 });
    expect(o.data).toBeUndefined();
    expect(json[0]!.length).toBeLessThan(600);
  });
});

describe('verdict and diff', () => {
  const base = frameTrace({ frames: 12 });

  it('the same frames at other times: TIMING-ONLY', () => {
    const later = frameTrace({ frames: 12, time: (n) => n * VBLANK + 1_300_000_000 });
    const r = judgeTraces(base, later, decoders);
    expect(r.verdict).toBe('TIMING-ONLY');
    expect(judgeTraces(base, frameTrace({ frames: 12 }), decoders).verdict).toBe('IDENTICAL');
  });

  it('a frame with other pixels: FUNCTIONAL, "frame 5 on pipe A differs" with the first pixel and the count', () => {
    const other = frameTrace({ frames: 12, picture: (n) => (n === 5 ? edited(5, [[7, 9], [8, 9]]) : pattern(64, 48, n)) });
    const r = judgeTraces(base, other, decoders);
    expect(r.verdict).toBe('FUNCTIONAL');
    expect(r.differences).toHaveLength(1);
    const d = r.differences[0]!;
    expect(d.stream).toBe('frames:pipe A');
    expect(d.frame).toEqual({ device: 'display0', pipe: 0, counter: 5, status: 'differs', alsoDiffer: [] });
    expect(d.headline).toMatch(/^display0 frame 5 on pipe A differs: 2 of 3,072 pixels differ, first at \(7, 9\): expected #[0-9a-f]{6}, got #102030 \(1 frame differs of 12 expected frames\)$/);
    expect(r.headlines[0]).toBe(d.headline);
  });

  it('a missing frame and an extra frame: FUNCTIONAL', () => {
    const missing = frameTrace({ frames: 12, skip: [4] });
    const m = judgeTraces(base, missing, decoders);
    expect(m.verdict).toBe('FUNCTIONAL');
    expect(m.headlines[0]).toBe('display0 frame 4 on pipe A missing from the actual run (1 missing of 12 expected frames)');
    const extra = frameTrace({ frames: 13 });
    const e = judgeTraces(base, extra, decoders);
    expect(e.verdict).toBe('FUNCTIONAL');
    expect(e.headlines[0]).toBe('display0 frame 12 on pipe A only in the actual run (1 extra of 12 expected frames)');
  });

  it('pipes are separate streams: a change on pipe B names pipe B', () => {
    const two = (edit: boolean): Buffer => build((t) => {
      emitFrames(t, { frames: 4 });
      emitFrames(t, { frames: 4, pipe: 1, picture: (n) => (edit && n === 2 ? edited(2, [[0, 0]]) : pattern(64, 48, n)) });
    });
    const r = judgeTraces(two(false), two(true), decoders);
    expect(r.verdict).toBe('FUNCTIONAL');
    expect(r.differences.map((d) => d.stream)).toEqual(['frames:pipe B']);
    expect(r.headlines[0]).toMatch(/^display0 frame 2 on pipe B differs: 1 of 3,072 pixels differ, first at \(0, 0\)/);
  });

  it('simrun diff: the frame stream per pipe, the changed row says which frame, exit 1 / 0', () => {
    const other = frameTrace({ frames: 12, picture: (n) => (n === 5 ? edited(5, [[1, 1]]) : pattern(64, 48, n)) });
    const out: string[] = [];
    const r = runDiff({ a: base, b: other, decoders, out: (l) => out.push(l) });
    expect(r.exitCode).toBe(1);
    expect(r.result.streams.map((s) => s.stream)).toEqual(['display0 frame:pipe A']);
    const s = r.result.streams[0]!;
    expect([s.same, s.changed, s.inserted, s.removed]).toEqual([11, 1, 0, 0]);
    const row = r.result.divergences[0]!.rows.find((x) => x.op === 'changed')!;
    expect(row.detail).toMatch(/^frame 5 on pipe A differs: pixels differ \(hash [0-9a-f]{8} → [0-9a-f]{8}\)$/);
    expect(out.join('\n')).toContain('frame 5 on pipe A differs: 1 of 3,072 pixels differ');
    const later = frameTrace({ frames: 12, time: (n) => n * VBLANK + 1_300_000_000 });
    const t = runDiff({ a: base, b: later, decoders, out: () => {} });
    expect(t.exitCode).toBe(0);
    expect(t.verdict!.verdict).toBe('TIMING-ONLY');
  });

  it('replay comparison: frames with other pixels are not the same event, the same frame number is the same place', () => {
    const a = framesOf(base);
    const b = framesOf(frameTrace({ frames: 12, picture: (n) => (n === 5 ? edited(5, [[1, 1]]) : pattern(64, 48, n)) }));
    expect(sameEvent(a[4]!, b[4]!)).toBe(true);
    expect(sameEvent(a[5]!, b[5]!)).toBe(false);
    expect(sameShape(a[5]!, b[5]!)).toBe(true);
    expect(sameShape(a[5]!, b[6]!)).toBe(false);
  });
});

export { DISPLAY };
