/**
 * redox-drm against the intel-display model: discovery (GETRESOURCES,
 * GETCONNECTOR with the EDID's modes and the EDID blob), dumb buffers
 * drawn and scanned out (ADDFB2, SETCRTC), the modeset's register writes in
 * the facts sheet's order, page flips with their events, vblank waits,
 * disable in reverse order.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { SeqEvent } from '../../../src/trace/reader.js';
import { C, call, cleanup, connector, draw, driverLogs, dumbFb, ERR, objProps, OBJ, blob, openCard, pageFlip, pattern, readEvents, resources, runDrm, setCrtc, type DrmEvent, type Mode } from './client.js';

afterAll(cleanup);

type Mmio = Extract<SeqEvent, { kind: 'mmio' }>;
const writes = (evs: SeqEvent[]) => evs.filter((e): e is Mmio => e.kind === 'mmio' && e.write && e.bar === 0);

describe('redox-drm: discovery', () => {
  const seen: Record<string, unknown> = {};
  const out = runDrm({ displays: 'default.json', simTime: '200ms' }, function* (sys) {
    const fd = yield* openCard(sys);
    const v = yield* call(sys, fd, C.VERSION, 64, (d) => { d.setBigUint64(16, 8n, true); d.setBigUint64(24, 64n, true); }, 8);
    seen.version = [v.r, v.v.getInt32(0, true), Number(v.v.getBigUint64(16, true)), new TextDecoder().decode(v.b.subarray(64, 68))];
    const res = yield* resources(sys, fd);
    seen.res = res;
    const c = yield* connector(sys, fd, res.connectors[0]!);
    seen.conn = c;
    const props = yield* objProps(sys, fd, res.connectors[0]!, OBJ.CONNECTOR);
    seen.propNames = [...props.keys()];
    seen.edid = yield* blob(sys, fd, Number(props.get('EDID')![1]));
    const enc = yield* call(sys, fd, C.GETENCODER, 20, (d) => d.setUint32(0, c.encoders[0]!, true));
    seen.encoder = [enc.r, enc.v.getUint32(4, true), enc.v.getUint32(12, true)];
    const cap = yield* call(sys, fd, C.GET_CAP, 16, (d) => d.setBigUint64(0, 1n, true));
    seen.dumbCap = [cap.r, cap.v.getBigUint64(8, true)];
    seen.badCap = (yield* call(sys, fd, C.GET_CAP, 16, (d) => d.setBigUint64(0, 0x99n, true))).r;
    const pr0 = yield* call(sys, fd, C.GETPLANERESOURCES, 16);
    seen.planesLegacy = pr0.v.getUint32(8, true);
    yield* call(sys, fd, C.SET_CLIENT_CAP, 16, (d) => { d.setBigUint64(0, 2n, true); d.setBigUint64(8, 1n, true); });
    seen.planesUniversal = (yield* call(sys, fd, C.GETPLANERESOURCES, 16)).v.getUint32(8, true);
  });

  it('lists 3 CRTCs, one HDMI connector on DDI B with the EDID\'s detailed timings (preferred first), its size and EDID blob', () => {
    expect(out.result.crashes).toEqual([]);
    expect(seen.version).toEqual([0, 1, 4, 'i915']);
    const res = seen.res as { crtcs: number[]; connectors: number[]; encoders: number[]; fbs: number[]; limits: number[] };
    expect(res.crtcs).toHaveLength(3);
    expect(res.connectors).toHaveLength(1);
    expect(res.encoders).toHaveLength(1);
    expect(res.fbs).toEqual([]);
    const c = seen.conn as { connection: number; type: number; typeId: number; mmWidth: number; mmHeight: number; modes: Mode[] };
    expect(c).toMatchObject({ connection: 1, type: 11, typeId: 1, mmWidth: 527, mmHeight: 296 });
    expect(c.modes.map((m) => `${m.name}@${m.vrefresh}`)).toEqual(['1920x1080@60', '1280x720@60']);
    expect(c.modes[0]!.type & 8).toBe(8);
    expect(c.modes[1]!.type & 8).toBe(0);
    expect(c.modes[0]!.clock).toBe(148500);
    expect(seen.propNames).toEqual(['EDID', 'DPMS']);
    const edid = seen.edid as Uint8Array;
    expect(edid.length).toBe(128);
    expect([...edid.subarray(0, 8)]).toEqual([0, 255, 255, 255, 255, 255, 255, 0]);
    expect(edid.reduce((a, b) => (a + b) & 0xff, 0)).toBe(0);
    expect(seen.encoder).toEqual([0, 2, 7]);
    expect(seen.dumbCap).toEqual([0, 1n]);
    expect(seen.badCap).toBe(ERR.EINVAL);
    expect(seen.planesLegacy).toBe(0);
    expect(seen.planesUniversal).toBe(3);
    expect(out.result.guestErrors).toBe(0);
  });
});

describe('redox-drm: modeset, flips and vblank waits on a 640x480 monitor', () => {
  const seen: Record<string, unknown> = {};
  const flips: DrmEvent[] = [];
  let drawnAt: number[] = [];
  let modesetAt: [number, number] = [0, 0];
  const out = runDrm({ displays: 'small.json', simTime: '400ms', record: true }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const c = yield* connector(sys, fd, res.connectors[0]!);
    const mode = c.modes[0]!;
    const bufs = [yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay), yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay)];
    draw(bufs[0]!, 0);
    seen.pitch = bufs[0]!.pitch;
    const t0 = sys.now;
    seen.setcrtc = yield* setCrtc(sys, fd, res.crtcs[0]!, bufs[0]!.fb, res.connectors[0]!, mode);
    modesetAt = [t0, sys.now];
    const gc = yield* call(sys, fd, C.GETCRTC, 104, (v) => v.setUint32(12, res.crtcs[0]!, true));
    seen.getcrtc = [gc.r, gc.v.getUint32(16, true) === bufs[0]!.fb, gc.v.getUint32(32, true)];
    seen.mode = mode;
    // Picture 0 is shown for a frame before the flips start.
    yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1, true); v.setUint32(4, 1, true); });
    drawnAt = [];
    for (let n = 1; n <= 6; n++) {
      const b = bufs[n % 2]!;
      draw(b, n);
      drawnAt.push(n);
      const r = yield* pageFlip(sys, fd, res.crtcs[0]!, b.fb, 1, BigInt(1000 + n));
      if (r !== 0) throw new Error(`flip ${n}: ${r}`);
      if (n === 1) seen.busy = yield* pageFlip(sys, fd, res.crtcs[0]!, b.fb, 1, 0n);
      const evs = yield* readEvents(sys, fd);
      if (typeof evs === 'number') throw new Error(`read ${evs}`);
      flips.push(...evs);
    }
    // WAIT_VBLANK relative 2: the reply's sequence is 2 frames on.
    const w0 = yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1, true); v.setUint32(4, 0, true); });
    const w = yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1, true); v.setUint32(4, 2, true); });
    seen.vblank = [w0.r, w.r, w.v.getUint32(4, true) - w0.v.getUint32(4, true), Number(w.v.getBigInt64(8, true)) * 1e6 + Number(w.v.getBigInt64(16, true))];
    seen.vblankNow = sys.now;
    // A vblank event (type RELATIVE | EVENT) with a signal value.
    const we = yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1 | 0x04000000, true); v.setUint32(4, 1, true); v.setBigUint64(8, 77n, true); });
    const ev = yield* readEvents(sys, fd);
    seen.vblankEvent = [we.r, we.v.getUint32(4, true), ev];
    seen.badCrtc = (yield* call(sys, fd, C.WAIT_VBLANK, 24, (v) => { v.setUint32(0, 1 | (2 << 1), true); v.setUint32(4, 1, true); })).r;
    const off0 = sys.now;
    seen.off = yield* setCrtc(sys, fd, res.crtcs[0]!, 0, 0, undefined);
    seen.offAt = [off0, sys.now];
    seen.flipOff = yield* pageFlip(sys, fd, res.crtcs[0]!, bufs[0]!.fb, 1, 0n);
  });

  it('sets the mode, flips six times with events carrying user data, frame counter and time, then turns the pipe off', () => {
    expect(out.result.crashes).toEqual([]);
    expect(driverLogs(out).filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([]);
    expect(seen.pitch).toBe(2560);
    expect(seen.setcrtc).toBe(0);
    expect(seen.getcrtc).toEqual([0, true, 1]);
    expect(seen.busy).toBe(ERR.EBUSY);
    expect(flips.map((e) => [e.type, e.length, e.userData])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [2, 32, BigInt(1000 + n)]));
    const seqs = flips.map((e) => e.sequence);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]! - seqs[i - 1]!).toBe(1);
    const times = flips.map((e) => e.sec * 1e6 + e.usec);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(16000), expect(times[i]! - times[i - 1]!).toBeLessThan(17500);
    expect(new Set(flips.map((e) => e.crtc)).size).toBe(1);
    expect(seen.off).toBe(0);
    expect(seen.flipOff).toBe(ERR.EINVAL);
    expect(out.result.guestErrors).toBe(0);
  });

  it('answers vblank waits: RELATIVE 2 two frames on with the vblank time; EVENT at once then a DRM_EVENT_VBLANK; a CRTC that is off is EINVAL', () => {
    const [r0, r, delta, us] = seen.vblank as number[];
    expect([r0, r, delta]).toEqual([0, 0, 2]);
    expect(us! * 1e6).toBeLessThanOrEqual(seen.vblankNow as number);
    const [wr, wseq, evs] = seen.vblankEvent as [number, number, DrmEvent[]];
    expect(wr).toBe(0);
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: 1, userData: 77n, sequence: wseq });
    expect(seen.badCrtc).toBe(ERR.EINVAL);
  });

  it('writes the modeset in the facts sheet\'s order: power wells, PLL, DDI clock, transcoder clock, buffers and watermarks, timings, PIPE_MISC, DDI function, TRANSCONF, DDI buffer, plane, SURF last', () => {
    const w = writes(out.events()).filter((e) => e.time >= modesetAt[0] * 1 - 0 && e.time <= modesetAt[1]);
    const first = (off: number) => w.findIndex((e) => e.offset === off);
    const steps: [string, number][] = [
      ['PWR_WELL_CTL2', 0x45404], ['DPLL_CTRL1', 0x6c058], ['DPLL1_CFGCR1', 0x6c040], ['DPLL1_CFGCR2', 0x6c044], ['LCPLL2_CTL', 0x46014],
      ['DPLL_CTRL2', 0x6c05c], ['TRANS_CLK_SEL_A', 0x46140], ['PLANE_BUF_CFG_1_A', 0x7027c], ['PLANE_WM_1_A_0', 0x70240],
      ['HTOTAL_A', 0x60000], ['VSYNC_A', 0x60014], ['PIPESRC_A', 0x6001c], ['PIPE_MISC_A', 0x70030], ['TRANS_DDI_FUNC_CTL_A', 0x60400],
      ['TRANSCONF_A', 0x70008], ['DDI_BUF_CTL_B', 0x64100], ['PLANE_SIZE_1_A', 0x70190], ['PLANE_STRIDE_1_A', 0x70188],
      ['PLANE_CTL_1_A', 0x70180], ['PLANE_SURF_1_A', 0x7019c],
    ];
    const at = steps.map(([n, o]) => [n, first(o)] as const);
    for (const [n, i] of at) expect(i, n).toBeGreaterThanOrEqual(0);
    for (let k = 1; k < at.length; k++) expect(at[k]![1], `${at[k]![0]} after ${at[k - 1]![0]}`).toBeGreaterThan(at[k - 1]![1]);
    // SURF is the last plane register written by the modeset.
    const planeWrites = w.filter((e) => e.offset >= 0x70180 && e.offset < 0x70200);
    expect(planeWrites.at(-1)!.offset).toBe(0x7019c);
    const val = (off: number) => w.filter((e) => e.offset === off).at(-1)!.value;
    // Enable, DDI B, HDMI mode, 8 bpc, the mode's sync polarities.
    const mode = seen.mode as Mode;
    expect(val(0x60400) >>> 0).toBe((0x90000000 | (mode.flags & 1 ? 1 << 16 : 0) | (mode.flags & 4 ? 1 << 17 : 0)) >>> 0);
    expect(val(0x70188)).toBe(2560 / 64);
    expect(val(0x70190)).toBe((479 << 16) | 639);
    expect(val(0x6001c)).toBe((639 << 16) | 479);
  });

  it('disables in reverse: plane off and SURF, TRANSCONF off then its state bit polled clear, DDI function off, DDI buffer off, PLL off', () => {
    const [a, b] = seen.offAt as [number, number];
    const w = writes(out.events()).filter((e) => e.time >= a && e.time <= b);
    const order = [0x70180, 0x7019c, 0x70008, 0x60400, 0x64100, 0x46014].map((o) => w.findIndex((e) => e.offset === o));
    for (const i of order) expect(i).toBeGreaterThanOrEqual(0);
    for (let k = 1; k < order.length; k++) expect(order[k]!).toBeGreaterThan(order[k - 1]!);
    expect(w.find((e) => e.offset === 0x70180)!.value).toBe(0);
    expect((w.find((e) => e.offset === 0x70008)!.value >>> 31)).toBe(0);
  });

  it('scans out what was drawn: the frames after each flip show its picture', () => {
    const frames = out.events().filter((e): e is Extract<SeqEvent, { kind: 'frame' }> => e.kind === 'frame' && e.pipe === 0);
    expect(frames.length).toBeGreaterThan(6);
    const pictureOf = (data: Uint8Array, w: number) => {
      const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let n = 0; n <= 6; n++) {
        if ([0, 1, 100, 200].every((k) => { const x = (k * 3) % 640, y = (k * 2) % 480; return (v.getUint32((y * w + x) * 4, true) & 0xffffff) === pattern(n, x, y); })) return n;
      }
      return -1;
    };
    const shown = frames.map((f) => pictureOf(f.data, f.width));
    // Every picture 0..6 appears, in order.
    const distinct = shown.filter((n, i) => n >= 0 && shown[i - 1] !== n);
    expect(distinct).toEqual(drawnAt.length === 6 ? [0, 1, 2, 3, 4, 5, 6] : []);
  });
});

describe('redox-drm: two monitors on pipes A and B, determinism', () => {
  const run = () => {
    const seen: Record<string, unknown> = {};
    const out = runDrm({ displays: 'two-monitors.json', simTime: '300ms', record: true }, function* (sys) {
      const fd = yield* openCard(sys);
      const res = yield* resources(sys, fd);
      const sets: number[] = [];
      const fbs = [];
      for (let k = 0; k < 2; k++) {
        const c = yield* connector(sys, fd, res.connectors[k]!);
        const m = c.modes.at(-1)!;
        const fb = yield* dumbFb(sys, fd, m.hdisplay, m.vdisplay);
        draw(fb, k);
        fbs.push(fb);
        sets.push(yield* setCrtc(sys, fd, res.crtcs[k]!, fb.fb, res.connectors[k]!, m));
      }
      seen.sets = sets;
      seen.flip = yield* pageFlip(sys, fd, res.crtcs[1]!, fbs[1]!.fb, 0x01, 5n);
      seen.ev = yield* readEvents(sys, fd);
    });
    return { out, seen };
  };
  const a = run();

  it('drives both pipes, flips pipe B with its event, turns both off when the card is closed', () => {
    expect(a.out.result.crashes).toEqual([]);
    expect(driverLogs(a.out).filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([]);
    // Closing the card removed the framebuffers: both pipes were turned off cleanly .
    expect(driverLogs(a.out)).toEqual(expect.arrayContaining(['info: pipe A: disable', 'info: pipe B: disable']));
    expect(a.out.events().filter((e) => e.kind === 'guestErr')).toEqual([]);
    expect(a.seen.sets).toEqual([0, 0]);
    expect(a.seen.flip).toBe(0);
    expect((a.seen.ev as DrmEvent[])[0]).toMatchObject({ type: 2, userData: 5n });
    const pipes = new Set(a.out.events().filter((e) => e.kind === 'frame').map((e) => (e as { pipe: number }).pipe));
    expect([...pipes].sort()).toEqual([0, 1]);
    expect(a.out.result.guestErrors).toBe(0);
  });

  it('records the same events when run again (only the scenario file name in the header differs)', () => {
    const b = run();
    const key = (o: typeof a.out) => o.events().filter((e) => e.kind !== 'proc').map((e) => e.kind === 'mmio' ? `${e.time} ${e.write} ${e.offset} ${e.value}` : e.kind === 'frame' ? `${e.time} frame ${e.pipe} ${e.counter}` : `${e.time} ${e.kind}`);
    const ka = key(a.out), kb = key(b.out);
    expect(ka.length).toBeGreaterThan(1000);
    expect(kb).toEqual(ka);
  });
});
