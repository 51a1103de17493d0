/**
 * A DRM client over the drm scheme (docs/DRM-SCHEME.md), the calls a simple
 * compositor makes, as libdrm's wrappers do: each returns its result or a
 * negative errno. Arrays are placed after the structure in the call buffer
 * and their `..._ptr` fields hold those offsets.
 */
import type { Co } from '../../sim/scheduler.js';
import type { MappedMemory, Sys } from '../../kernel/sys.js';
import {
  DRM_IOCTL, DRM_MODE_OBJECT_CONNECTOR, MODEINFO_SIZE, parseEvents, readMode, writeMode, type DrmEvent, type ModeInfo,
} from './uapi.js';

export interface Resources {
  fbs: number[];
  crtcs: number[];
  connectors: number[];
  encoders: number[];
  minWidth: number; maxWidth: number; minHeight: number; maxHeight: number;
}

export interface Connector {
  id: number;
  type: number;
  typeId: number;
  connection: number;
  encoderId: number;
  mmWidth: number;
  mmHeight: number;
  modes: ModeInfo[];
  encoders: number[];
  props: { id: number; value: bigint }[];
}

export interface Encoder {
  id: number;
  type: number;
  crtcId: number;
  possibleCrtcs: number;
}

export interface DumbBuffer {
  handle: number;
  pitch: number;
  size: number;
  width: number;
  height: number;
  map: MappedMemory;
}

/** A buffer of `size` bytes and a little-endian view of it. */
function callBuf(size: number): { buf: Uint8Array; dv: DataView } {
  const buf = new Uint8Array(size);
  return { buf, dv: new DataView(buf.buffer) };
}

const u32s = (dv: DataView, at: number, n: number): number[] => Array.from({ length: n }, (_, i) => dv.getUint32(at + 4 * i, true));

export class DrmCard {
  constructor(readonly sys: Sys, readonly fd: number) {}

  call(buf: Uint8Array, code: number): Co<number> {
    return this.sys.call(this.fd, buf, code);
  }

  /** VERSION: the driver's name, or an errno. */
  *version(): Co<{ major: number; minor: number; patch: number; name: string; desc: string } | number> {
    const { buf, dv } = callBuf(64 + 64 + 64 + 128);
    dv.setBigUint64(16, 64n, true); dv.setBigUint64(24, 64n, true);
    dv.setBigUint64(32, 64n, true); dv.setBigUint64(40, 128n, true);
    dv.setBigUint64(48, 128n, true); dv.setBigUint64(56, 192n, true);
    const r = yield* this.call(buf, DRM_IOCTL.VERSION);
    if (r < 0) return r;
    const str = (lenAt: number, at: number, cap: number) => {
      const n = Math.min(Number(dv.getBigUint64(lenAt, true)), cap);
      return String.fromCharCode(...buf.subarray(at, at + n));
    };
    return { major: dv.getInt32(0, true), minor: dv.getInt32(4, true), patch: dv.getInt32(8, true), name: str(16, 64, 64), desc: str(48, 192, 128) };
  }

  *getCap(cap: number): Co<bigint | number> {
    const { buf, dv } = callBuf(16);
    dv.setBigUint64(0, BigInt(cap), true);
    const r = yield* this.call(buf, DRM_IOCTL.GET_CAP);
    return r < 0 ? r : dv.getBigUint64(8, true);
  }

  *setClientCap(cap: number, value: number): Co<number> {
    const { buf, dv } = callBuf(16);
    dv.setBigUint64(0, BigInt(cap), true);
    dv.setBigUint64(8, BigInt(value), true);
    return yield* this.call(buf, DRM_IOCTL.SET_CLIENT_CAP);
  }

  /** GETRESOURCES, twice: counts, then the ids. */
  *resources(): Co<Resources | number> {
    const first = callBuf(64);
    let r = yield* this.call(first.buf, DRM_IOCTL.MODE_GETRESOURCES);
    if (r < 0) return r;
    const counts = [32, 36, 40, 44].map((o) => first.dv.getUint32(o, true));
    const total = counts.reduce((a, b) => a + b, 0);
    const { buf, dv } = callBuf(64 + 4 * total);
    let at = 64;
    counts.forEach((n, i) => {
      dv.setUint32(32 + 4 * i, n, true);
      if (n > 0) dv.setBigUint64(8 * i, BigInt(at), true);
      at += 4 * n;
    });
    r = yield* this.call(buf, DRM_IOCTL.MODE_GETRESOURCES);
    if (r < 0) return r;
    const lists: number[][] = [];
    at = 64;
    for (let i = 0; i < 4; i++) {
      const n = Math.min(counts[i]!, dv.getUint32(32 + 4 * i, true));
      lists.push(u32s(dv, at, n));
      at += 4 * counts[i]!;
    }
    return {
      fbs: lists[0]!, crtcs: lists[1]!, connectors: lists[2]!, encoders: lists[3]!,
      minWidth: dv.getUint32(48, true), maxWidth: dv.getUint32(52, true), minHeight: dv.getUint32(56, true), maxHeight: dv.getUint32(60, true),
    };
  }

  /** GETCONNECTOR, twice (it probes the monitor each time, as Linux's does). */
  *connector(id: number): Co<Connector | number> {
    const first = callBuf(80);
    first.dv.setUint32(48, id, true);
    let r = yield* this.call(first.buf, DRM_IOCTL.MODE_GETCONNECTOR);
    if (r < 0) return r;
    const nModes = first.dv.getUint32(32, true);
    const nProps = first.dv.getUint32(36, true);
    const nEnc = first.dv.getUint32(40, true);
    const encAt = 80;
    const modesAt = encAt + 4 * nEnc;
    const propsAt = modesAt + MODEINFO_SIZE * nModes;
    const valuesAt = (propsAt + 4 * nProps + 7) & ~7;
    const { buf, dv } = callBuf(valuesAt + 8 * nProps);
    dv.setUint32(48, id, true);
    dv.setUint32(32, nModes, true); dv.setUint32(36, nProps, true); dv.setUint32(40, nEnc, true);
    if (nEnc > 0) dv.setBigUint64(0, BigInt(encAt), true);
    if (nModes > 0) dv.setBigUint64(8, BigInt(modesAt), true);
    if (nProps > 0) { dv.setBigUint64(16, BigInt(propsAt), true); dv.setBigUint64(24, BigInt(valuesAt), true); }
    r = yield* this.call(buf, DRM_IOCTL.MODE_GETCONNECTOR);
    if (r < 0) return r;
    // A monitor plugged in between the two calls may have more modes now: keep what fit.
    const gotModes = Math.min(nModes, dv.getUint32(32, true));
    const gotProps = Math.min(nProps, dv.getUint32(36, true));
    const gotEnc = Math.min(nEnc, dv.getUint32(40, true));
    return {
      id, type: dv.getUint32(52, true), typeId: dv.getUint32(56, true), connection: dv.getUint32(60, true),
      encoderId: dv.getUint32(44, true), mmWidth: dv.getUint32(64, true), mmHeight: dv.getUint32(68, true),
      modes: Array.from({ length: gotModes }, (_, i) => readMode(dv, modesAt + MODEINFO_SIZE * i)),
      encoders: u32s(dv, encAt, gotEnc),
      props: Array.from({ length: gotProps }, (_, i) => ({ id: dv.getUint32(propsAt + 4 * i, true), value: dv.getBigUint64(valuesAt + 8 * i, true) })),
    };
  }

  *encoder(id: number): Co<Encoder | number> {
    const { buf, dv } = callBuf(20);
    dv.setUint32(0, id, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_GETENCODER);
    if (r < 0) return r;
    return { id, type: dv.getUint32(4, true), crtcId: dv.getUint32(8, true), possibleCrtcs: dv.getUint32(12, true) };
  }

  /** A property's name (GETPROPERTY). */
  *propertyName(id: number): Co<string | number> {
    const { buf, dv } = callBuf(64);
    dv.setUint32(16, id, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_GETPROPERTY);
    if (r < 0) return r;
    let name = '';
    for (let i = 24; i < 56 && buf[i] !== 0; i++) name += String.fromCharCode(buf[i]!);
    return name;
  }

  /** The properties of an object (OBJ_GETPROPERTIES, twice) by name. */
  *objectProperties(objId: number, objType: number): Co<Map<string, { id: number; value: bigint }> | number> {
    const first = callBuf(32);
    first.dv.setUint32(20, objId, true);
    first.dv.setUint32(24, objType, true);
    let r = yield* this.call(first.buf, DRM_IOCTL.MODE_OBJ_GETPROPERTIES);
    if (r < 0) return r;
    const n = first.dv.getUint32(16, true);
    const idsAt = 32;
    const valuesAt = (idsAt + 4 * n + 7) & ~7;
    const { buf, dv } = callBuf(valuesAt + 8 * n);
    dv.setUint32(20, objId, true); dv.setUint32(24, objType, true); dv.setUint32(16, n, true);
    if (n > 0) { dv.setBigUint64(0, BigInt(idsAt), true); dv.setBigUint64(8, BigInt(valuesAt), true); }
    r = yield* this.call(buf, DRM_IOCTL.MODE_OBJ_GETPROPERTIES);
    if (r < 0) return r;
    const out = new Map<string, { id: number; value: bigint }>();
    const got = Math.min(n, dv.getUint32(16, true));
    for (let i = 0; i < got; i++) {
      const id = dv.getUint32(idsAt + 4 * i, true);
      const name = yield* this.propertyName(id);
      if (typeof name === 'number') return name;
      out.set(name, { id, value: dv.getBigUint64(valuesAt + 8 * i, true) });
    }
    return out;
  }

  /** A property blob's bytes (GETPROPBLOB, twice). */
  *blob(id: number): Co<Uint8Array | number> {
    const first = callBuf(16);
    first.dv.setUint32(0, id, true);
    let r = yield* this.call(first.buf, DRM_IOCTL.MODE_GETPROPBLOB);
    if (r < 0) return r;
    const len = first.dv.getUint32(4, true);
    const { buf, dv } = callBuf(16 + len);
    dv.setUint32(0, id, true); dv.setUint32(4, len, true);
    if (len > 0) dv.setBigUint64(8, 16n, true);
    r = yield* this.call(buf, DRM_IOCTL.MODE_GETPROPBLOB);
    if (r < 0) return r;
    return buf.slice(16, 16 + Math.min(len, dv.getUint32(4, true)));
  }

  /** The connector's EDID blob, or an errno (ENOENT: it has none). */
  *edid(connectorId: number): Co<Uint8Array | number> {
    const props = yield* this.objectProperties(connectorId, DRM_MODE_OBJECT_CONNECTOR);
    if (typeof props === 'number') return props;
    const p = props.get('EDID');
    if (p === undefined || p.value === 0n) return -2;
    return yield* this.blob(Number(p.value));
  }

  /** CREATE_DUMB (32 bpp) + MAP_DUMB + fmap. */
  *createDumb(width: number, height: number): Co<DumbBuffer | number> {
    const c = callBuf(32);
    c.dv.setUint32(0, height, true); c.dv.setUint32(4, width, true); c.dv.setUint32(8, 32, true);
    let r = yield* this.call(c.buf, DRM_IOCTL.MODE_CREATE_DUMB);
    if (r < 0) return r;
    const handle = c.dv.getUint32(16, true);
    const pitch = c.dv.getUint32(20, true);
    const size = Number(c.dv.getBigUint64(24, true));
    const m = callBuf(16);
    m.dv.setUint32(0, handle, true);
    r = yield* this.call(m.buf, DRM_IOCTL.MODE_MAP_DUMB);
    if (r < 0) return r;
    const map = yield* this.sys.fmap(this.fd, Number(m.dv.getBigUint64(8, true)), size);
    if (typeof map === 'number') return map;
    return { handle, pitch, size, width, height, map };
  }

  *destroyDumb(handle: number): Co<number> {
    const { buf, dv } = callBuf(4);
    dv.setUint32(0, handle, true);
    return yield* this.call(buf, DRM_IOCTL.MODE_DESTROY_DUMB);
  }

  /** ADDFB2 of one dumb buffer; the framebuffer id or an errno. */
  *addFb2(b: DumbBuffer, format: number): Co<number> {
    const { buf, dv } = callBuf(104);
    dv.setUint32(4, b.width, true); dv.setUint32(8, b.height, true); dv.setUint32(12, format, true);
    dv.setUint32(20, b.handle, true); dv.setUint32(36, b.pitch, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_ADDFB2);
    return r < 0 ? r : dv.getUint32(0, true);
  }

  *rmFb(fbId: number): Co<number> {
    const { buf, dv } = callBuf(4);
    dv.setUint32(0, fbId, true);
    return yield* this.call(buf, DRM_IOCTL.MODE_RMFB);
  }

  /** SETCRTC: a mode on one connector with `fbId` (0: the CRTC off). */
  *setCrtc(crtcId: number, fbId: number, connectorId: number, mode: ModeInfo | null): Co<number> {
    const { buf, dv } = callBuf(104 + 4);
    dv.setUint32(12, crtcId, true);
    dv.setUint32(16, fbId, true);
    if (mode !== null) {
      dv.setBigUint64(0, 104n, true);
      dv.setUint32(8, 1, true);
      dv.setUint32(104, connectorId, true);
      dv.setUint32(32, 1, true);
      writeMode(dv, 36, mode);
    }
    return yield* this.call(buf, DRM_IOCTL.MODE_SETCRTC);
  }

  /** GETCRTC: fb, position and mode (null when mode_valid is 0). */
  *getCrtc(crtcId: number): Co<{ fbId: number; x: number; y: number; mode: ModeInfo | null } | number> {
    const { buf, dv } = callBuf(104);
    dv.setUint32(12, crtcId, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_GETCRTC);
    if (r < 0) return r;
    return { fbId: dv.getUint32(16, true), x: dv.getUint32(20, true), y: dv.getUint32(24, true), mode: dv.getUint32(32, true) === 0 ? null : readMode(dv, 36) };
  }

  *pageFlip(crtcId: number, fbId: number, flags: number, userData: bigint): Co<number> {
    const { buf, dv } = callBuf(24);
    dv.setUint32(0, crtcId, true); dv.setUint32(4, fbId, true); dv.setUint32(8, flags, true);
    dv.setBigUint64(16, userData, true);
    return yield* this.call(buf, DRM_IOCTL.MODE_PAGE_FLIP);
  }

  /** WAIT_VBLANK relative to now on CRTC index `crtcIndex`; the vblank's sequence and time (us). */
  *waitVblank(crtcIndex: number, relative: number): Co<{ sequence: number; timeUs: number } | number> {
    const { buf, dv } = callBuf(24);
    dv.setUint32(0, 0x1 | ((crtcIndex & 0x1f) << 1), true);
    dv.setUint32(4, relative, true);
    const r = yield* this.call(buf, DRM_IOCTL.WAIT_VBLANK);
    if (r < 0) return r;
    return { sequence: dv.getUint32(4, true), timeUs: Number(dv.getBigInt64(8, true)) * 1e6 + Number(dv.getBigInt64(16, true)) };
  }

  /** GETPLANERESOURCES (twice): plane ids (primary planes only with UNIVERSAL_PLANES set). */
  *planes(): Co<number[] | number> {
    const first = callBuf(16);
    let r = yield* this.call(first.buf, DRM_IOCTL.MODE_GETPLANERESOURCES);
    if (r < 0) return r;
    const n = first.dv.getUint32(8, true);
    const { buf, dv } = callBuf(16 + 4 * n);
    dv.setUint32(8, n, true);
    if (n > 0) dv.setBigUint64(0, 16n, true);
    r = yield* this.call(buf, DRM_IOCTL.MODE_GETPLANERESOURCES);
    if (r < 0) return r;
    return u32s(dv, 16, Math.min(n, dv.getUint32(8, true)));
  }

  /** GETPLANE: which CRTCs the plane can feed (bit i = CRTC index i) and what it shows. */
  *plane(id: number): Co<{ crtcId: number; fbId: number; possibleCrtcs: number } | number> {
    const { buf, dv } = callBuf(32);
    dv.setUint32(0, id, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_GETPLANE);
    if (r < 0) return r;
    return { crtcId: dv.getUint32(4, true), fbId: dv.getUint32(8, true), possibleCrtcs: dv.getUint32(12, true) };
  }

  *createBlob(data: Uint8Array): Co<number> {
    const { buf, dv } = callBuf(16 + data.length);
    buf.set(data, 16);
    dv.setBigUint64(0, 16n, true);
    dv.setUint32(8, data.length, true);
    const r = yield* this.call(buf, DRM_IOCTL.MODE_CREATEPROPBLOB);
    return r < 0 ? r : dv.getUint32(12, true);
  }

  /** MODE_ATOMIC: objects with their (property, value) pairs. */
  *atomic(flags: number, objects: { id: number; props: [number, bigint][] }[], userData: bigint): Co<number> {
    const nObjs = objects.length;
    const nProps = objects.reduce((a, o) => a + o.props.length, 0);
    const objsAt = 56;
    const countsAt = objsAt + 4 * nObjs;
    const propsAt = countsAt + 4 * nObjs;
    const valuesAt = (propsAt + 4 * nProps + 7) & ~7;
    const { buf, dv } = callBuf(valuesAt + 8 * nProps);
    dv.setUint32(0, flags, true);
    dv.setUint32(4, nObjs, true);
    dv.setBigUint64(8, BigInt(objsAt), true);
    dv.setBigUint64(16, BigInt(countsAt), true);
    dv.setBigUint64(24, BigInt(propsAt), true);
    dv.setBigUint64(32, BigInt(valuesAt), true);
    dv.setBigUint64(48, userData, true);
    let k = 0;
    objects.forEach((o, i) => {
      dv.setUint32(objsAt + 4 * i, o.id, true);
      dv.setUint32(countsAt + 4 * i, o.props.length, true);
      for (const [p, v] of o.props) {
        dv.setUint32(propsAt + 4 * k, p, true);
        dv.setBigUint64(valuesAt + 8 * k, v, true);
        k++;
      }
    });
    return yield* this.call(buf, DRM_IOCTL.MODE_ATOMIC);
  }

  /** Reads queued events (a non-blocking fd gives -EAGAIN when there are none). */
  *readEvents(scratch: Uint8Array): Co<DrmEvent[] | number | string> {
    const n = yield* this.sys.read(this.fd, scratch);
    if (n < 0) return n;
    return parseEvents(scratch, n);
  }
}
