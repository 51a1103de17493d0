/**
 * A small DRM client for the redox-drm tests: libdrm's calls as scheme
 * calls on drm:card0 (docs/DRM-SCHEME.md), with the layouts written out
 * here (the test's own definitions), and a machine builder: the
 * intel-display device, redox-drm and a client process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario, type RunOutcome } from '../../../src/machine/run.js';
import type { Co, Sys } from '../../../src/kernel/sys.js';
import { openTrace, type SeqEvent } from '../../../src/trace/reader.js';
import { ROOT } from '../../e2e/helpers.js';

export const C = {
  VERSION: 0xC0406400, GEM_CLOSE: 0x40086409, GET_CAP: 0xC010640C, SET_CLIENT_CAP: 0x4010640D, WAIT_VBLANK: 0xC018643A,
  GETRESOURCES: 0xC04064A0, GETCRTC: 0xC06864A1, SETCRTC: 0xC06864A2, GETENCODER: 0xC01464A6, GETCONNECTOR: 0xC05064A7,
  GETPROPERTY: 0xC04064AA, GETPROPBLOB: 0xC01064AC, ADDFB: 0xC01C64AE, RMFB: 0xC00464AF, PAGE_FLIP: 0xC01864B0,
  CREATE_DUMB: 0xC02064B2, MAP_DUMB: 0xC01064B3, DESTROY_DUMB: 0xC00464B4, GETPLANERESOURCES: 0xC01064B5, GETPLANE: 0xC02064B6,
  ADDFB2: 0xC06864B8, OBJ_GETPROPERTIES: 0xC02064B9, ATOMIC: 0xC03864BC, CREATEPROPBLOB: 0xC01064BD, DESTROYPROPBLOB: 0xC00464BE,
} as const;
export const XR24 = 0x34325258;
export const OBJ = { CRTC: 0xcccccccc, CONNECTOR: 0xc0c0c0c0, PLANE: 0xeeeeeeee };
export const ERR = { ENOENT: -2, EIO: -5, EBADF: -9, EAGAIN: -11, EFAULT: -14, EBUSY: -16, EINVAL: -22, ENOTTY: -25, ETIMEDOUT: -110 };

export const tmp = mkdtempSync(join(tmpdir(), 'simrun-redox-drm-'));
let runs = 0;
export const cleanup = () => rmSync(tmp, { recursive: true, force: true });

export interface Mode {
  clock: number; hdisplay: number; hsyncStart: number; hsyncEnd: number; htotal: number; vdisplay: number;
  vsyncStart: number; vsyncEnd: number; vtotal: number; vrefresh: number; flags: number; type: number; name: string; raw: Uint8Array;
}

export function decodeMode(b: Uint8Array): Mode {
  const v = new DataView(b.buffer, b.byteOffset, 68);
  const name = new TextDecoder().decode(b.subarray(36, 68)).replace(/\0.*$/s, '');
  return {
    clock: v.getUint32(0, true), hdisplay: v.getUint16(4, true), hsyncStart: v.getUint16(6, true), hsyncEnd: v.getUint16(8, true),
    htotal: v.getUint16(10, true), vdisplay: v.getUint16(14, true), vsyncStart: v.getUint16(16, true), vsyncEnd: v.getUint16(18, true),
    vtotal: v.getUint16(20, true), vrefresh: v.getUint32(24, true), flags: v.getUint32(28, true), type: v.getUint32(32, true), name, raw: b.slice(0, 68),
  };
}

/** One call: a buffer of `size` (+ `extra` for arrays) filled by `fill`; the result and the buffer's view. */
export function* call(sys: Sys, fd: number, code: number, size: number, fill: (v: DataView) => void = () => {}, extra = 0): Co<{ r: number; v: DataView; b: Uint8Array }> {
  const b = new Uint8Array(size + extra);
  const v = new DataView(b.buffer);
  fill(v);
  const r = yield* sys.call(fd, b, code);
  return { r, v, b };
}

export function* openCard(sys: Sys, flags = 0): Co<number> {
  for (let i = 0; i < 500; i++) {
    const fd = yield* sys.open('drm:card0', flags);
    if (fd >= 0) return fd;
    yield* sys.sleep(1e9); // 1 ms
  }
  throw new Error('drm:card0 never appeared');
}

export function* resources(sys: Sys, fd: number): Co<{ fbs: number[]; crtcs: number[]; connectors: number[]; encoders: number[]; limits: number[] }> {
  const a = yield* call(sys, fd, C.GETRESOURCES, 64);
  if (a.r !== 0) throw new Error(`GETRESOURCES ${a.r}`);
  const n = [32, 36, 40, 44].map((o) => a.v.getUint32(o, true));
  const at = [64, 64 + 4 * n[0]!, 64 + 4 * (n[0]! + n[1]!), 64 + 4 * (n[0]! + n[1]! + n[2]!)];
  const b = yield* call(sys, fd, C.GETRESOURCES, 64, (v) => {
    [0, 8, 16, 24].forEach((o, k) => { v.setBigUint64(o, BigInt(n[k]! > 0 ? at[k]! : 0), true); v.setUint32(32 + 4 * k, n[k]!, true); });
  }, 4 * n.reduce((x, y) => x + y, 0));
  if (b.r !== 0) throw new Error(`GETRESOURCES ${b.r}`);
  const list = (k: number) => Array.from({ length: n[k]! }, (_, i) => b.v.getUint32(at[k]! + 4 * i, true));
  return { fbs: list(0), crtcs: list(1), connectors: list(2), encoders: list(3), limits: [48, 52, 56, 60].map((o) => b.v.getUint32(o, true)) };
}

export interface ConnectorInfo {
  r: number; connection: number; type: number; typeId: number; mmWidth: number; mmHeight: number; encoderId: number;
  modes: Mode[]; props: number[]; values: bigint[]; encoders: number[];
}

/** GETCONNECTOR the libdrm way: counts first (this probes), then the arrays. */
export function* connector(sys: Sys, fd: number, id: number): Co<ConnectorInfo> {
  const a = yield* call(sys, fd, C.GETCONNECTOR, 80, (v) => v.setUint32(48, id, true));
  if (a.r !== 0) return { r: a.r, connection: 0, type: 0, typeId: 0, mmWidth: 0, mmHeight: 0, encoderId: 0, modes: [], props: [], values: [], encoders: [] };
  const nm = a.v.getUint32(32, true), np = a.v.getUint32(36, true), ne = a.v.getUint32(40, true);
  const modesAt = 80, propsAt = modesAt + 68 * nm, valsAt = propsAt + 4 * np, encAt = valsAt + 8 * np;
  const b = yield* call(sys, fd, C.GETCONNECTOR, 80, (v) => {
    v.setUint32(48, id, true);
    v.setBigUint64(0, BigInt(ne ? encAt : 0), true); v.setBigUint64(8, BigInt(nm ? modesAt : 0), true);
    v.setBigUint64(16, BigInt(np ? propsAt : 0), true); v.setBigUint64(24, BigInt(np ? valsAt : 0), true);
    v.setUint32(32, nm, true); v.setUint32(36, np, true); v.setUint32(40, ne, true);
  }, 68 * nm + 12 * np + 4 * ne);
  const v = b.v;
  return {
    r: b.r, connection: v.getUint32(60, true), type: v.getUint32(52, true), typeId: v.getUint32(56, true),
    mmWidth: v.getUint32(64, true), mmHeight: v.getUint32(68, true), encoderId: v.getUint32(44, true),
    modes: Array.from({ length: Math.min(nm, v.getUint32(32, true)) }, (_, i) => decodeMode(b.b.subarray(modesAt + 68 * i, modesAt + 68 * (i + 1)))),
    props: Array.from({ length: np }, (_, i) => v.getUint32(propsAt + 4 * i, true)),
    values: Array.from({ length: np }, (_, i) => v.getBigUint64(valsAt + 8 * i, true)),
    encoders: Array.from({ length: ne }, (_, i) => v.getUint32(encAt + 4 * i, true)),
  };
}

export function* propertyName(sys: Sys, fd: number, id: number): Co<{ name: string; flags: number; values: bigint[]; enums: [bigint, string][] }> {
  const a = yield* call(sys, fd, C.GETPROPERTY, 64, (v) => v.setUint32(16, id, true));
  const nv = a.v.getUint32(56, true), ne = a.v.getUint32(60, true);
  const b = yield* call(sys, fd, C.GETPROPERTY, 64, (v) => {
    v.setUint32(16, id, true); v.setUint32(56, nv, true); v.setUint32(60, ne, true);
    v.setBigUint64(0, BigInt(nv ? 64 : 0), true); v.setBigUint64(8, BigInt(ne ? 64 + 8 * nv : 0), true);
  }, 8 * nv + 40 * ne);
  const dec = (o: number, n: number) => new TextDecoder().decode(b.b.subarray(o, o + n)).replace(/\0.*$/s, '');
  return {
    name: dec(24, 32), flags: b.v.getUint32(20, true),
    values: Array.from({ length: nv }, (_, i) => b.v.getBigUint64(64 + 8 * i, true)),
    enums: Array.from({ length: ne }, (_, i) => [b.v.getBigUint64(64 + 8 * nv + 40 * i, true), dec(64 + 8 * nv + 40 * i + 8, 32)]),
  };
}

/** OBJ_GETPROPERTIES: name → [prop id, value]. */
export function* objProps(sys: Sys, fd: number, obj: number, type: number): Co<Map<string, [number, bigint]>> {
  const a = yield* call(sys, fd, C.OBJ_GETPROPERTIES, 32, (v) => { v.setUint32(20, obj, true); v.setUint32(24, type, true); });
  if (a.r !== 0) throw new Error(`OBJ_GETPROPERTIES ${a.r}`);
  const n = a.v.getUint32(16, true);
  const b = yield* call(sys, fd, C.OBJ_GETPROPERTIES, 32, (v) => {
    v.setUint32(20, obj, true); v.setUint32(24, type, true); v.setUint32(16, n, true);
    v.setBigUint64(0, 32n, true); v.setBigUint64(8, BigInt(32 + 4 * n), true);
  }, 12 * n);
  const out = new Map<string, [number, bigint]>();
  for (let i = 0; i < n; i++) {
    const id = b.v.getUint32(32 + 4 * i, true);
    const p = yield* propertyName(sys, fd, id);
    out.set(p.name, [id, b.v.getBigUint64(32 + 4 * n + 8 * i, true)]);
  }
  return out;
}

export function* blob(sys: Sys, fd: number, id: number): Co<Uint8Array> {
  const a = yield* call(sys, fd, C.GETPROPBLOB, 16, (v) => v.setUint32(0, id, true));
  const n = a.v.getUint32(4, true);
  const b = yield* call(sys, fd, C.GETPROPBLOB, 16, (v) => { v.setUint32(0, id, true); v.setUint32(4, n, true); v.setBigUint64(8, 16n, true); }, n);
  return b.b.slice(16, 16 + n);
}

export function* createBlob(sys: Sys, fd: number, data: Uint8Array): Co<number> {
  const a = yield* call(sys, fd, C.CREATEPROPBLOB, 16, (v) => { v.setBigUint64(0, 16n, true); v.setUint32(8, data.length, true); }, data.length);
  a.b.set(data, 16);
  const r = yield* sys.call(fd, a.b, C.CREATEPROPBLOB);
  if (r !== 0) throw new Error(`CREATEPROPBLOB ${r}`);
  return a.v.getUint32(12, true);
}

export interface Dumb { handle: number; pitch: number; size: number; width: number; height: number; mem: { bytes(): Uint8Array }; fb: number }

/** CREATE_DUMB, MAP_DUMB, fmap, ADDFB2 (XR24). */
export function* dumbFb(sys: Sys, fd: number, width: number, height: number): Co<Dumb> {
  const c = yield* call(sys, fd, C.CREATE_DUMB, 32, (v) => { v.setUint32(0, height, true); v.setUint32(4, width, true); v.setUint32(8, 32, true); });
  if (c.r !== 0) throw new Error(`CREATE_DUMB ${c.r}`);
  const handle = c.v.getUint32(16, true), pitch = c.v.getUint32(20, true), size = Number(c.v.getBigUint64(24, true));
  const m = yield* call(sys, fd, C.MAP_DUMB, 16, (v) => v.setUint32(0, handle, true));
  if (m.r !== 0) throw new Error(`MAP_DUMB ${m.r}`);
  const mem = yield* sys.fmap(fd, Number(m.v.getBigUint64(8, true)), size);
  if (typeof mem === 'number') throw new Error(`fmap ${mem}`);
  const f = yield* call(sys, fd, C.ADDFB2, 104, (v) => {
    v.setUint32(4, width, true); v.setUint32(8, height, true); v.setUint32(12, XR24, true);
    v.setUint32(20, handle, true); v.setUint32(36, pitch, true);
  });
  if (f.r !== 0) throw new Error(`ADDFB2 ${f.r}`);
  return { handle, pitch, size, width, height, mem, fb: f.v.getUint32(0, true) };
}

/** Pixel (x, y) of picture `n`: XRGB8888. */
export const pattern = (n: number, x: number, y: number) => (((x * 7 + n * 40) & 0xff) << 16) | (((y * 3 + n * 20) & 0xff) << 8) | ((x ^ y ^ n) & 0xff);

export function draw(d: Dumb, n: number): void {
  const b = d.mem.bytes();
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) v.setUint32(y * d.pitch + 4 * x, pattern(n, x, y), true);
}

export function* setCrtc(sys: Sys, fd: number, crtc: number, fb: number, conn: number, mode: Mode | undefined, x = 0, y = 0): Co<number> {
  const a = yield* call(sys, fd, C.SETCRTC, 104, (v) => {
    v.setUint32(12, crtc, true); v.setUint32(16, fb, true); v.setUint32(20, x, true); v.setUint32(24, y, true);
    if (mode !== undefined) {
      v.setBigUint64(0, 104n, true); v.setUint32(8, 1, true); v.setUint32(104, conn, true); v.setUint32(32, 1, true);
      new Uint8Array(v.buffer).set(mode.raw, 36);
    }
  }, 4);
  return a.r;
}

export function* pageFlip(sys: Sys, fd: number, crtc: number, fb: number, flags: number, userData: bigint): Co<number> {
  return (yield* call(sys, fd, C.PAGE_FLIP, 24, (v) => {
    v.setUint32(0, crtc, true); v.setUint32(4, fb, true); v.setUint32(8, flags, true); v.setBigUint64(16, userData, true);
  })).r;
}

export interface DrmEvent { type: number; length: number; userData: bigint; sec: number; usec: number; sequence: number; crtc: number; connector?: number; connection?: number }

export function parseEvents(b: Uint8Array, n: number): DrmEvent[] {
  const v = new DataView(b.buffer, b.byteOffset, n);
  const out: DrmEvent[] = [];
  for (let o = 0; o + 8 <= n;) {
    const type = v.getUint32(o, true), length = v.getUint32(o + 4, true);
    if (type === 0x80000001) out.push({ type, length, userData: 0n, sec: 0, usec: 0, sequence: 0, crtc: 0, connector: v.getUint32(o + 8, true), connection: v.getUint32(o + 12, true) });
    else out.push({ type, length, userData: v.getBigUint64(o + 8, true), sec: v.getUint32(o + 16, true), usec: v.getUint32(o + 20, true), sequence: v.getUint32(o + 24, true), crtc: v.getUint32(o + 28, true) });
    o += length || 8;
  }
  return out;
}

export function* readEvents(sys: Sys, fd: number, cap = 256): Co<DrmEvent[] | number> {
  const b = new Uint8Array(cap);
  const n = yield* sys.read(fd, b);
  return n < 0 ? n : parseEvents(b, n);
}

/** A scenario with the intel-display device (monitors file, device props), redox-drm (params) and a client process. */
export function runDrm(opts: { displays: string; device?: Record<string, unknown>; driver?: Record<string, unknown>; simTime?: string; record?: boolean },
  client: (sys: Sys) => Co<void>): RunOutcome & { events: () => SeqEvent[] } {
  const p = join(tmp, `drm-${++runs}.json`);
  writeFileSync(p, JSON.stringify({
    name: 'redox-drm-test', seed: 1,
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'intel-display', id: 'gfx0', bdf: '00:02.0', props: { displays: join(ROOT, 'fixtures/displays', opts.displays), ...opts.device } }] },
    drivers: { 'redox-drm': opts.driver ?? {} },
    limits: { simTime: opts.simTime ?? '500ms' },
  }));
  let failure: unknown;
  const out = runScenario(p, {
    recordToBuffer: opts.record ?? false,
    onBuilt: (m) => m.kernel.spawn('client', function* (sys: Sys) {
      try { yield* client(sys); } catch (e) { failure = e; }
      return 0;
    }),
  });
  if (failure !== undefined) throw failure;
  const buffer = out.trace?.buffer;
  return { ...out, events: () => (buffer === undefined ? [] : [...openTrace(buffer).events()]) };
}

export const driverLogs = (out: RunOutcome) => out.machine.kernel.logs.filter((l) => l.proc.startsWith('redox-drm')).map((l) => `${l.level}: ${l.text}`);
