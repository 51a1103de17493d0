/**
 * redox-drm's atomic interface against the intel-display model: properties
 * by name, a TEST_ONLY commit that checks a whole modeset and changes
 * nothing (no register written), ALLOW_MODESET required, the real commit,
 * an atomic flip with PAGE_FLIP_EVENT.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Co, Sys } from '../../../src/kernel/sys.js';
import type { SeqEvent } from '../../../src/trace/reader.js';
import { C, call, cleanup, connector, createBlob, draw, driverLogs, dumbFb, ERR, objProps, OBJ, openCard, readEvents, resources, runDrm, type DrmEvent } from './client.js';

afterAll(cleanup);

/** MODE_ATOMIC with objs → [prop id, value][]. */
function* atomic(sys: Sys, fd: number, flags: number, objs: [number, [number, bigint][]][], userData = 0n): Co<number> {
  const n = objs.length, total = objs.reduce((a, [, p]) => a + p.length, 0);
  const objsAt = 56, countsAt = objsAt + 4 * n, propsAt = countsAt + 4 * n, valsAt = (propsAt + 4 * total + 7) & ~7;
  return (yield* call(sys, fd, C.ATOMIC, 56, (v) => {
    v.setUint32(0, flags, true); v.setUint32(4, n, true);
    v.setBigUint64(8, BigInt(objsAt), true); v.setBigUint64(16, BigInt(countsAt), true);
    v.setBigUint64(24, BigInt(propsAt), true); v.setBigUint64(32, BigInt(valsAt), true); v.setBigUint64(48, userData, true);
    let k = 0;
    objs.forEach(([id, props], i) => {
      v.setUint32(objsAt + 4 * i, id, true); v.setUint32(countsAt + 4 * i, props.length, true);
      for (const [p, val] of props) { v.setUint32(propsAt + 4 * k, p, true); v.setBigUint64(valsAt + 8 * k, val, true); k++; }
    });
  }, valsAt - 56 + 8 * total)).r;
}

describe('redox-drm: atomic commits', () => {
  const seen: Record<string, unknown> = {};
  let testWindow: [number, number] = [0, 0];
  const out = runDrm({ displays: 'small.json', simTime: '300ms', record: true }, function* (sys) {
    const fd = yield* openCard(sys);
    const res = yield* resources(sys, fd);
    const conn = res.connectors[0]!, crtc = res.crtcs[0]!;
    const c = yield* connector(sys, fd, conn);
    const mode = c.modes[0]!;
    seen.noCap = yield* atomic(sys, fd, 0x100, []);
    yield* call(sys, fd, C.SET_CLIENT_CAP, 16, (v) => { v.setBigUint64(0, 3n, true); v.setBigUint64(8, 1n, true); });
    const pr = yield* call(sys, fd, C.GETPLANERESOURCES, 16, (v) => { v.setBigUint64(0, 16n, true); v.setUint32(8, 3, true); }, 12);
    const plane = pr.v.getUint32(16, true);
    const cp = yield* objProps(sys, fd, conn, OBJ.CONNECTOR);
    const kp = yield* objProps(sys, fd, crtc, OBJ.CRTC);
    const pp = yield* objProps(sys, fd, plane, OBJ.PLANE);
    seen.names = [[...cp.keys()], [...kp.keys()], [...pp.keys()]];
    seen.planeType = pp.get('type')![1];
    seen.wrongType = (yield* call(sys, fd, C.OBJ_GETPROPERTIES, 32, (v) => { v.setUint32(20, crtc, true); v.setUint32(24, OBJ.PLANE, true); })).r;
    const fb = yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay);
    const fb2 = yield* dumbFb(sys, fd, mode.hdisplay, mode.vdisplay);
    draw(fb, 0);
    draw(fb2, 1);
    const blob = yield* createBlob(sys, fd, mode.raw);
    const P = (m: Map<string, [number, bigint]>, n: string) => m.get(n)![0];
    const W = BigInt(mode.hdisplay), H = BigInt(mode.vdisplay);
    const full: [number, [number, bigint][]][] = [
      [conn, [[P(cp, 'CRTC_ID'), BigInt(crtc)]]],
      [crtc, [[P(kp, 'ACTIVE'), 1n], [P(kp, 'MODE_ID'), BigInt(blob)]]],
      [plane, [[P(pp, 'FB_ID'), BigInt(fb.fb)], [P(pp, 'CRTC_ID'), BigInt(crtc)], [P(pp, 'SRC_X'), 0n], [P(pp, 'SRC_Y'), 0n],
        [P(pp, 'SRC_W'), W << 16n], [P(pp, 'SRC_H'), H << 16n], [P(pp, 'CRTC_X'), 0n], [P(pp, 'CRTC_Y'), 0n], [P(pp, 'CRTC_W'), W], [P(pp, 'CRTC_H'), H]]],
    ];
    const t0 = sys.now;
    seen.testOnly = yield* atomic(sys, fd, 0x100 | 0x400, full);
    testWindow = [t0, sys.now];
    const k1 = yield* objProps(sys, fd, crtc, OBJ.CRTC);
    seen.activeAfterTest = k1.get('ACTIVE')![1];
    seen.noModeset = yield* atomic(sys, fd, 0, full);
    seen.badSrc = yield* atomic(sys, fd, 0x100 | 0x400, [...full.slice(0, 2), [plane, [...full[2]![1].slice(0, 4), [P(pp, 'SRC_W'), (W + 8n) << 16n]]]]);
    seen.immutable = yield* atomic(sys, fd, 0x100 | 0x400, [[conn, [[P(cp, 'EDID'), 0n]]]]);
    seen.badFlags = yield* atomic(sys, fd, 0x8000, full);
    seen.commit = yield* atomic(sys, fd, 0x400, full);
    const k2 = yield* objProps(sys, fd, crtc, OBJ.CRTC);
    seen.active = [k2.get('ACTIVE')![1], k2.get('MODE_ID')![1] === BigInt(blob)];
    seen.flip = yield* atomic(sys, fd, 0x01 | 0x200, [[plane, [[P(pp, 'FB_ID'), BigInt(fb2.fb)]]]], 4242n);
    seen.flipBusy = yield* atomic(sys, fd, 0x01, [[plane, [[P(pp, 'FB_ID'), BigInt(fb.fb)]]]], 1n);
    seen.events = yield* readEvents(sys, fd);
  });

  it('finds properties by name, tests a whole modeset without touching a register, requires ALLOW_MODESET, commits, flips with an event', () => {
    expect(out.result.crashes).toEqual([]);
    expect(driverLogs(out).filter((l) => l.startsWith('error'))).toEqual([]);
    expect(seen.noCap).toBe(ERR.EINVAL);
    expect(seen.names).toEqual([['EDID', 'DPMS', 'CRTC_ID'], ['ACTIVE', 'MODE_ID'],
      ['type', 'FB_ID', 'CRTC_ID', 'SRC_X', 'SRC_Y', 'SRC_W', 'SRC_H', 'CRTC_X', 'CRTC_Y', 'CRTC_W', 'CRTC_H']]);
    expect(seen.planeType).toBe(1n);
    expect(seen.wrongType).toBe(ERR.ENOENT);
    expect(seen.testOnly).toBe(0);
    const w = out.events().filter((e: SeqEvent) => e.kind === 'mmio' && e.write && e.time >= testWindow[0] && e.time <= testWindow[1]);
    expect(w).toEqual([]);
    expect(seen.activeAfterTest).toBe(0n);
    expect(seen.noModeset).toBe(ERR.EINVAL);
    expect(seen.badSrc).toBe(ERR.EINVAL);
    expect(seen.immutable).toBe(ERR.EINVAL);
    expect(seen.badFlags).toBe(ERR.EINVAL);
    expect(seen.commit).toBe(0);
    expect(seen.active).toEqual([1n, true]);
    expect(seen.flip).toBe(0);
    expect(seen.flipBusy).toBe(ERR.EBUSY);
    const evs = seen.events as DrmEvent[];
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ type: 2, userData: 4242n });
    expect(out.result.guestErrors).toBe(0);
  });
});
