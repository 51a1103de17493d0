/**
 * redox-drm against the intel-display model: async page flips
 * (DRM_MODE_PAGE_FLIP_ASYNC, PLANE_CTL bit 9) and leaving async mode the
 * way Linux does on Skylake / Kaby Lake, whose async bit is double-buffered
 * and latched at the start of vblank (intel_crtc_async_flip_disable_wa: a
 * flip of the same surface with the bit cleared, then one vblank), before
 * sync flips and before the CRTC is turned off.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SeqEvent } from '../../../src/trace/reader.js';
import { C, call, cleanup, connector, draw, driverLogs, dumbFb, ERR, openCard, pageFlip, pattern, readEvents, resources, runDrm, setCrtc, type DrmEvent } from './client.js';

afterAll(cleanup);

const EVENT = 0x01;
const ASYNC = 0x02;
const ASYNC_FLIPS = 4;
const SYNC_FLIPS = 3;

type Mmio = Extract<SeqEvent, { kind: 'mmio' }>;
type Frame = Extract<SeqEvent, { kind: 'frame' }>;

interface Flip { n: number; async: boolean; r: number; t0: number; t1: number; events: DrmEvent[] }

describe('redox-drm: async page flips, then sync flips, then the CRTC off (640x480)', () => {
  const flips: Flip[] = [];
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'small.json', simTime: '500ms', record: true }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    const mode = c.modes[0]!;
    const bufs = [yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay), yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay)];
    draw(bufs[0]!, 0);
    seen.cap = (yield* call(sys, fd, C.GET_CAP, 16, (v) => v.setBigUint64(0, 7n, true))).v.getBigUint64(8, true);
    seen.setcrtc = yield* setCrtc(sys, fd, res.crtcs[0]!, bufs[0]!.fb, res.connectors[0]!, mode);
    yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1, true); v.setUint32(4, 1, true); });
    for (let n = 1; n <= ASYNC_FLIPS + SYNC_FLIPS; n++) {
      const async = n <= ASYNC_FLIPS;
      const b = bufs[n % 2]!;
      draw(b, n);
      const t0 = sys.now;
      const r = yield* pageFlip(sys, fd, res.crtcs[0]!, b.fb, EVENT | (async ? ASYNC : 0), BigInt(100 + n));
      const events: DrmEvent[] = [];
      if (r === 0) {
        const evs = yield* readEvents(sys, fd);
        if (typeof evs === 'number') throw new Error(`flip ${n}: read ${evs}`);
        events.push(...evs);
      }
      flips.push({ n, async, r, t0, t1: sys.now, events });
    }
    const off0 = sys.now;
    seen.off = yield* setCrtc(sys, fd, res.crtcs[0]!, 0, 0, undefined);
    seen.offAt = [off0, sys.now];
    seen.flipOff = yield* pageFlip(sys, fd, res.crtcs[0]!, bufs[0]!.fb, EVENT | ASYNC, 0n);
  });
  const events = out.events();
  const frames = events.filter((e): e is Frame => e.kind === 'frame' && e.pipe === 0);
  const pictureOf = (f: Frame): number => {
    const v = new DataView(f.data.buffer, f.data.byteOffset, f.data.byteLength);
    for (let n = 0; n <= ASYNC_FLIPS + SYNC_FLIPS; n++) {
      if ([0, 1, 100, 200].every((k) => { const x = (k * 3) % 640, y = (k * 2) % 480; return (v.getUint32((y * f.width + x) * 4, true) & 0xffffff) === pattern(n, x, y); })) return n;
    }
    return -1;
  };

  it('runs with no guest error, no driver error or warning, and turns the CRTC off', () => {
    expect(out.result.crashes).toEqual([]);
    expect(events.filter((e) => e.kind === 'guestErr')).toEqual([]);
    expect(out.result.guestErrors).toBe(0);
    expect(driverLogs(out).filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([]);
    expect(seen.cap).toBe(1n);
    expect(seen.setcrtc).toBe(0);
    expect(seen.off).toBe(0);
    expect(seen.flipOff).toBe(ERR.EINVAL);
  });

  it('delivers every flip-complete event with its user data, one per flip, sequences never going back', () => {
    expect(flips.map((f) => f.r)).toEqual(flips.map(() => 0));
    expect(flips.map((f) => f.events.map((e) => [e.type, e.userData]))).toEqual(flips.map((f) => [[2, BigInt(100 + f.n)]]));
    const seqs = flips.map((f) => f.events[0]!.sequence);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThanOrEqual(seqs[i - 1]!);
  });

  it('async flips after the first complete within a millisecond, without waiting for a vblank', () => {
    // The first one sets the async bit, which the hardware latches at the next vblank start.
    for (const f of flips.filter((x) => x.async && x.n > 1)) {
      expect(f.t1 - f.t0, `async flip ${f.n}`).toBeLessThan(1e9);
      const ev = f.events[0]!;
      expect(ev.sec * 1e6 + ev.usec, `async flip ${f.n} event time`).toBeLessThanOrEqual(f.t1 / 1e6);
    }
  });

  it('sync flips complete at a vblank after their picture is latched: the frame of the event\'s sequence shows it', () => {
    for (const f of flips.filter((x) => !x.async)) {
      const seq = f.events[0]!.sequence;
      const frame = frames.find((fr) => fr.counter === seq);
      expect(frame, `frame ${seq}`).toBeDefined();
      expect(pictureOf(frame!), `sync flip ${f.n} (event sequence ${seq})`).toBe(f.n);
    }
  });

  it('scans out every picture in order', () => {
    const shown = frames.map(pictureOf);
    const distinct = shown.filter((n, i) => n >= 0 && shown[i - 1] !== n);
    // Async flips 2..4 can replace a picture within the frame it was written in; the last async one and every sync one is seen.
    expect(distinct[0]).toBe(0);
    expect(distinct.slice(-SYNC_FLIPS - 1)).toEqual([ASYNC_FLIPS, ...Array.from({ length: SYNC_FLIPS }, (_, i) => ASYNC_FLIPS + 1 + i)]);
  });

  it('leaves async mode with a flip of the same surface with bit 9 cleared, then a vblank, before the first sync flip', () => {
    const firstSync = flips.find((f) => !f.async)!;
    const w = events.filter((e): e is Mmio => e.kind === 'mmio' && e.write && e.bar === 0 && e.time >= firstSync.t0 && e.time <= firstSync.t1);
    const plane = w.filter((e) => e.offset === 0x70180 || e.offset === 0x7019c);
    expect(plane.length).toBeGreaterThanOrEqual(3);
    const [ctl, surf, next] = plane;
    expect(ctl!.offset).toBe(0x70180);
    expect((ctl!.value >>> 9) & 1).toBe(0);
    expect(ctl!.value >>> 31).toBe(1);
    expect(surf!.offset).toBe(0x7019c);
    const lastAsyncSurf = events.filter((e): e is Mmio => e.kind === 'mmio' && e.write && e.offset === 0x7019c && e.time < firstSync.t0).at(-1)!;
    expect(surf!.value).toBe(lastAsyncSurf.value);
    // The sync flip's SURF comes a vblank later.
    expect(next!.offset).toBe(0x7019c);
    expect(next!.value).not.toBe(surf!.value);
    const vblanksBetween = frames.filter((f) => f.time > surf!.time && f.time < next!.time).length;
    expect(vblanksBetween).toBeGreaterThanOrEqual(1);
  });
});

describe('redox-drm: an async flip may change only the surface', () => {
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'small.json', simTime: '300ms', record: true }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    const mode = c.modes[0]!;
    const a = yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay);
    const b = yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay);
    const wide = yield* dumbFb(sys, fd, 800, mode.vdisplay);
    seen.pitches = [a.pitch, wide.pitch];
    seen.set = yield* setCrtc(sys, fd, res.crtcs[0]!, a.fb, res.connectors[0]!, mode);
    seen.async = yield* pageFlip(sys, fd, res.crtcs[0]!, b.fb, ASYNC, 0n);
    yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1, true); v.setUint32(4, 1, true); });
    seen.wideAsync = yield* pageFlip(sys, fd, res.crtcs[0]!, wide.fb, ASYNC, 0n);
    seen.wideSync = yield* pageFlip(sys, fd, res.crtcs[0]!, wide.fb, EVENT, 9n);
    seen.ev = yield* readEvents(sys, fd);
    seen.off = yield* setCrtc(sys, fd, res.crtcs[0]!, 0, 0, undefined);
  });

  it('refuses with EINVAL an async flip to a framebuffer of another pitch (Linux: intel_async_flip_check_hw), which a sync flip then shows', () => {
    expect(out.result.crashes).toEqual([]);
    expect(seen.pitches).toEqual([2560, 3200]);
    expect([seen.set, seen.async, seen.wideAsync, seen.wideSync, seen.off]).toEqual([0, 0, ERR.EINVAL, 0, 0]);
    expect((seen.ev as DrmEvent[]).map((e) => e.userData)).toEqual([9n]);
    const stride = out.events().filter((e): e is Mmio => e.kind === 'mmio' && e.write && e.offset === 0x70188).map((e) => e.value);
    expect(stride).toEqual([2560 / 64, 3200 / 64]);
    expect(out.events().filter((e) => e.kind === 'guestErr')).toEqual([]);
  });
});
