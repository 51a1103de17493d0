/**
 * redox-drm: hot-plug (a monitor plugged in at 50 ms: the event on every
 * open handle, the connector re-probed), reads (blocking, O_NONBLOCK,
 * too-small buffers, readiness through event:), EDID NAK (connected, no
 * modes, no EDID blob), a PLL that never locks (the modeset fails with
 * ETIMEDOUT, the register named), the firmware's pipe adopted, and the
 * error codes of bad requests.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { O_NONBLOCK } from '../../../src/kernel/types.js';
import { EVENT_READ } from '../../../src/kernel/readiness.js';
import type { SeqEvent } from '../../../src/trace/reader.js';
import { C, call, cleanup, connector, draw, driverLogs, dumbFb, ERR, objProps, OBJ, openCard, pageFlip, readEvents, resources, runDrm, setCrtc, type DrmEvent } from './client.js';

afterAll(cleanup);

describe('redox-drm: hot-plug', () => {
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'hotplug.json', simTime: '200ms' }, function* (sys) {
    const fd = yield* openCard(sys);
    const nb = yield* openCard(sys, O_NONBLOCK);
    const q = yield* sys.openOrThrow('event:');
    seen.subscribed = sys.subscribe(q, nb, EVENT_READ, 55);
    const res = yield* resources(sys, fd);
    const before = yield* connector(sys, fd, res.connectors[0]!);
    seen.before = [before.connection, before.modes.length];
    seen.nbEmpty = (yield* readEvents(sys, nb));
    seen.tooSmall = -1;
    const evs = yield* readEvents(sys, fd); // blocks until the monitor is plugged in (50 ms)
    seen.at = sys.now;
    seen.events = evs;
    const ready = yield* sys.waitEvent(q, sys.clock() + 1e9);
    seen.ready = ready?.data;
    seen.tooSmall = yield* sys.read(nb, new Uint8Array(8));
    seen.nbEvents = yield* readEvents(sys, nb);
    const after = yield* connector(sys, fd, res.connectors[0]!);
    seen.after = [after.connection, after.modes.map((m) => m.name)];
  });

  it('delivers SIMRUN_EVENT_HOTPLUG to every open handle (readiness posted to an event: subscriber) and the connector then lists the monitor\'s modes', () => {
    expect(out.result.crashes).toEqual([]);
    expect(seen.before).toEqual([2, 0]);
    expect(seen.nbEmpty).toBe(ERR.EAGAIN);
    expect(seen.at as number).toBeGreaterThan(50e9);
    const evs = seen.events as DrmEvent[];
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: 0x80000001, length: 16, connection: 1 });
    expect(seen.subscribed).toBe(0);
    expect(seen.ready).toBe(55);
    expect(seen.tooSmall).toBe(ERR.EINVAL);
    expect((seen.nbEvents as DrmEvent[]).map((e) => [e.type, e.connection])).toEqual([[0x80000001, 1]]);
    expect(seen.after).toEqual([1, ['1920x1080', '1280x720']]);
    expect(driverLogs(out)).toContain('info: HDMI-A-1 (DDI B): hot-plug (disconnected -> connected)');
    expect(out.result.guestErrors).toBe(0);
  });
});

describe('redox-drm: a monitor whose EDID is NAKed', () => {
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'edid-nak.json', simTime: '200ms' }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    seen.conn = [c.connection, c.modes.length, c.mmWidth];
    seen.edidProp = (yield* objProps(sys, fd, res.connectors[0]!, OBJ.CONNECTOR)).get('EDID')![1];
    const fb = yield* dumbFb(sys, fd, 1920, 1080);
    const mode = new Uint8Array(68);
    const v = new DataView(mode.buffer);
    [[0, 148500, 4], [4, 1920, 2], [6, 2008, 2], [8, 2052, 2], [10, 2200, 2], [14, 1080, 2], [16, 1084, 2], [18, 1089, 2], [20, 1125, 2]].forEach(([o, x, s]) => s === 4 ? v.setUint32(o!, x!, true) : v.setUint16(o!, x!, true));
    seen.set = yield* setCrtc(sys, fd, res.crtcs[0]!, fb.fb, res.connectors[0]!, { raw: mode } as never);
  });

  it('reports the connector connected without modes or EDID, after the NAK retry; a modeset onto it is EINVAL', () => {
    expect(out.result.crashes).toEqual([]);
    expect(seen.conn).toEqual([1, 0, 0]);
    expect(seen.edidProp).toBe(0n);
    expect(seen.set).toBe(ERR.EINVAL);
    expect(driverLogs(out).some((l) => /EDID cannot be read: EIO/.test(l))).toBe(true);
  });
});

describe('redox-drm: a PLL that never locks', () => {
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'small.json', device: { pllNeverLocks: 1 }, simTime: '200ms' }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    const fb = yield* dumbFb(sys, fd, c.modes[0]!.hdisplay, c.modes[0]!.vdisplay);
    seen.set = yield* setCrtc(sys, fd, res.crtcs[0]!, fb.fb, res.connectors[0]!, c.modes[0]!);
    const gc = yield* call(sys, fd, C.GETCRTC, 104, (v) => v.setUint32(12, res.crtcs[0]!, true));
    seen.modeValid = gc.v.getUint32(32, true);
  });

  it('fails the modeset with ETIMEDOUT, names DPLL_STATUS in the log and leaves the CRTC off', () => {
    expect(out.result.crashes).toEqual([]);
    expect(seen.set).toBe(ERR.ETIMEDOUT);
    expect(seen.modeValid).toBe(0);
    expect(driverLogs(out)).toContain('error: timeout waiting for DPLL_STATUS (DPLL lock)');
  });
});

describe('redox-drm: firmware handoff', () => {
  const seen: Record<string, unknown> = {};
  let window: [number, number] = [0, 0];
  const out = runDrm({ displays: 'small.json', device: { firmwareHandoff: true }, simTime: '200ms', record: true }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    seen.fbs = res.fbs.length;
    const gc = yield* call(sys, fd, C.GETCRTC, 104, (v) => v.setUint32(12, res.crtcs[0]!, true));
    seen.crtc = [gc.v.getUint32(16, true) === res.fbs[0], gc.v.getUint32(32, true)];
    const c = yield* connector(sys, fd, res.connectors[0]!);
    const fb = yield* dumbFb(sys, fd, c.modes[0]!.hdisplay, c.modes[0]!.vdisplay);
    draw(fb, 3);
    const t0 = sys.now;
    seen.set = yield* setCrtc(sys, fd, res.crtcs[0]!, fb.fb, res.connectors[0]!, c.modes[0]!);
    window = [t0, sys.now];
    seen.flip = yield* pageFlip(sys, fd, res.crtcs[0]!, fb.fb, 1, 9n);
    seen.ev = yield* readEvents(sys, fd);
  });

  it('adopts the running pipe (a framebuffer object, the CRTC on with its mode); SETCRTC with that mode only flips', () => {
    expect(out.result.crashes).toEqual([]);
    expect(driverLogs(out).some((l) => /firmware pipe A: 640x480 on DDI B .*adopted/.test(l))).toBe(true);
    expect(seen.fbs).toBe(1);
    expect(seen.crtc).toEqual([true, 1]);
    expect(seen.set).toBe(0);
    const w = out.events().filter((e): e is Extract<SeqEvent, { kind: 'mmio' }> => e.kind === 'mmio' && e.write && e.time >= window[0] && e.time <= window[1]);
    expect(w.some((e) => e.offset === 0x70008 || e.offset === 0x6c058 || e.offset === 0x45404)).toBe(false);
    expect(w.some((e) => e.offset === 0x7019c)).toBe(true);
    expect(seen.flip).toBe(0);
    expect((seen.ev as DrmEvent[])[0]).toMatchObject({ type: 2, userData: 9n });
    expect(out.result.guestErrors).toBe(0);
  });
});

describe('redox-drm: bad requests', () => {
  const seen: Record<string, number> = {};
  runDrm({ displays: 'small.json', simTime: '200ms' }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    seen.badPath = yield* sys.open('drm:card7', 0);
    seen.unknownCode = yield* sys.call(fd, new Uint8Array(64), 0xC04064FF);
    seen.shortBuffer = yield* sys.call(fd, new Uint8Array(16), C.GETRESOURCES);
    seen.noCrtc = (yield* call(sys, fd, C.GETCRTC, 104, (v) => v.setUint32(12, 9999, true))).r;
    seen.arrayPastEnd = (yield* call(sys, fd, C.GETRESOURCES, 64, (v) => { v.setBigUint64(8, 60n, true); v.setUint32(36, 3, true); })).r;
    seen.dumbBpp = (yield* call(sys, fd, C.CREATE_DUMB, 32, (v) => { v.setUint32(0, 10, true); v.setUint32(4, 10, true); v.setUint32(8, 16, true); })).r;
    const fb = yield* dumbFb(sys, fd, 640, 480);
    seen.fbBadPitch = (yield* call(sys, fd, C.ADDFB2, 104, (v) => { v.setUint32(4, 640, true); v.setUint32(8, 480, true); v.setUint32(12, 0x34325258, true); v.setUint32(20, fb.handle, true); v.setUint32(36, 640 * 4 + 4, true); })).r;
    seen.fbBadHandle = (yield* call(sys, fd, C.ADDFB2, 104, (v) => { v.setUint32(4, 64, true); v.setUint32(8, 64, true); v.setUint32(12, 0x34325258, true); v.setUint32(20, 999, true); v.setUint32(36, 256, true); })).r;
    seen.fbBadFormat = (yield* call(sys, fd, C.ADDFB2, 104, (v) => { v.setUint32(4, 64, true); v.setUint32(8, 64, true); v.setUint32(12, 0x36314752, true); v.setUint32(20, fb.handle, true); v.setUint32(36, 256, true); })).r;
    const small = yield* dumbFb(sys, fd, 320, 240);
    seen.smallFb = yield* setCrtc(sys, fd, res.crtcs[0]!, small.fb, res.connectors[0]!, c.modes[0]!);
    const odd = { ...c.modes[0]!, raw: c.modes[0]!.raw.slice() };
    new DataView(odd.raw.buffer).setUint32(0, 30000, true);
    seen.unlistedMode = yield* setCrtc(sys, fd, res.crtcs[0]!, fb.fb, res.connectors[0]!, odd);
    seen.noFb = yield* setCrtc(sys, fd, res.crtcs[0]!, 4242, res.connectors[0]!, c.modes[0]!);
    seen.flipOff = yield* pageFlip(sys, fd, res.crtcs[0]!, fb.fb, 1, 0n);
    seen.flipFlags = yield* pageFlip(sys, fd, res.crtcs[0]!, fb.fb, 0x80, 0n);
    seen.rmfbUnknown = (yield* call(sys, fd, C.RMFB, 4, (v) => v.setUint32(0, 4242, true))).r;
    seen.fmapBad = (yield* sys.fmap(fd, 12345, 4096)) as number;
    const other = yield* openCard(sys);
    seen.otherHandle = (yield* call(sys, other, C.MAP_DUMB, 16, (v) => v.setUint32(0, fb.handle, true))).r;
    seen.otherRmfb = (yield* call(sys, other, C.RMFB, 4, (v) => v.setUint32(0, fb.fb, true))).r;
    seen.destroy = (yield* call(sys, fd, C.DESTROY_DUMB, 4, (v) => v.setUint32(0, fb.handle, true))).r;
    seen.destroyAgain = (yield* call(sys, fd, C.DESTROY_DUMB, 4, (v) => v.setUint32(0, fb.handle, true))).r;
    seen.write = yield* sys.write(fd, new Uint8Array(4));
  });

  it('answers each with Linux\'s errno and no partial reply', () => {
    expect(seen).toEqual({
      badPath: ERR.ENOENT, unknownCode: ERR.ENOTTY, shortBuffer: ERR.EINVAL, noCrtc: ERR.ENOENT, arrayPastEnd: ERR.EFAULT,
      dumbBpp: ERR.EINVAL, fbBadPitch: ERR.EINVAL, fbBadHandle: ERR.ENOENT, fbBadFormat: ERR.EINVAL, smallFb: ERR.EINVAL,
      unlistedMode: ERR.EINVAL, noFb: ERR.ENOENT, flipOff: ERR.EINVAL, flipFlags: ERR.EINVAL, rmfbUnknown: ERR.ENOENT,
      fmapBad: ERR.EINVAL, otherHandle: ERR.ENOENT, otherRmfb: ERR.ENOENT, destroy: 0, destroyAgain: ERR.ENOENT, write: ERR.EINVAL,
    });
  });
});
