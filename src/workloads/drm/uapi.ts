/**
 * The client's own definitions of the drm scheme (docs/DRM-SCHEME.md):
 * Linux's DRM ioctl numbers and structure layouts (include/uapi/drm/drm.h,
 * drm_mode.h), written for the workloads; the daemon has its own.
 */

/** Linux `_IOC(dir, 'd', nr, size)`: dir 1 = W, 3 = RW. */
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (0x64 << 8) | nr) >>> 0;
}

export const DRM_IOCTL = {
  VERSION: ioc(3, 0x00, 64),
  GEM_CLOSE: ioc(1, 0x09, 8),
  GET_CAP: ioc(3, 0x0c, 16),
  SET_CLIENT_CAP: ioc(1, 0x0d, 16),
  WAIT_VBLANK: ioc(3, 0x3a, 24),
  MODE_GETRESOURCES: ioc(3, 0xa0, 64),
  MODE_GETCRTC: ioc(3, 0xa1, 104),
  MODE_SETCRTC: ioc(3, 0xa2, 104),
  MODE_GETENCODER: ioc(3, 0xa6, 20),
  MODE_GETCONNECTOR: ioc(3, 0xa7, 80),
  MODE_GETPROPERTY: ioc(3, 0xaa, 64),
  MODE_GETPROPBLOB: ioc(3, 0xac, 16),
  MODE_ADDFB: ioc(3, 0xae, 28),
  MODE_RMFB: ioc(3, 0xaf, 4),
  MODE_PAGE_FLIP: ioc(3, 0xb0, 24),
  MODE_CREATE_DUMB: ioc(3, 0xb2, 32),
  MODE_MAP_DUMB: ioc(3, 0xb3, 16),
  MODE_DESTROY_DUMB: ioc(3, 0xb4, 4),
  MODE_GETPLANERESOURCES: ioc(3, 0xb5, 16),
  MODE_GETPLANE: ioc(3, 0xb6, 32),
  MODE_ADDFB2: ioc(3, 0xb8, 104),
  MODE_OBJ_GETPROPERTIES: ioc(3, 0xb9, 32),
  MODE_ATOMIC: ioc(3, 0xbc, 56),
  MODE_CREATEPROPBLOB: ioc(3, 0xbd, 16),
  MODE_DESTROYPROPBLOB: ioc(3, 0xbe, 4),
} as const;

export const DRM_CAP_DUMB_BUFFER = 0x1;
export const DRM_CLIENT_CAP_UNIVERSAL_PLANES = 2;
export const DRM_CLIENT_CAP_ATOMIC = 3;

export const DRM_MODE_CONNECTED = 1;
export const DRM_MODE_DISCONNECTED = 2;
export const DRM_MODE_TYPE_PREFERRED = 1 << 3;
export const DRM_MODE_PAGE_FLIP_EVENT = 0x01;
export const DRM_MODE_ATOMIC_TEST_ONLY = 0x0100;
export const DRM_MODE_ATOMIC_ALLOW_MODESET = 0x0400;
export const DRM_VBLANK_RELATIVE = 0x1;

export const DRM_MODE_OBJECT_CRTC = 0xcccccccc;
export const DRM_MODE_OBJECT_CONNECTOR = 0xc0c0c0c0;
export const DRM_MODE_OBJECT_PLANE = 0xeeeeeeee;

export const DRM_EVENT_VBLANK = 0x01;
export const DRM_EVENT_FLIP_COMPLETE = 0x02;
export const SIMRUN_EVENT_HOTPLUG = 0x80000001;

export const DRM_FORMAT_XRGB8888 = 0x34325258;

/** `drm_mode_modeinfo` (68 bytes). */
export const MODEINFO_SIZE = 68;
export interface ModeInfo {
  clock: number;
  hdisplay: number; hsyncStart: number; hsyncEnd: number; htotal: number; hskew: number;
  vdisplay: number; vsyncStart: number; vsyncEnd: number; vtotal: number; vscan: number;
  vrefresh: number; flags: number; type: number; name: string;
}

export function readMode(dv: DataView, at: number): ModeInfo {
  const u16 = (o: number) => dv.getUint16(at + o, true);
  let name = '';
  for (let i = 0; i < 32; i++) {
    const c = dv.getUint8(at + 36 + i);
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return {
    clock: dv.getUint32(at, true),
    hdisplay: u16(4), hsyncStart: u16(6), hsyncEnd: u16(8), htotal: u16(10), hskew: u16(12),
    vdisplay: u16(14), vsyncStart: u16(16), vsyncEnd: u16(18), vtotal: u16(20), vscan: u16(22),
    vrefresh: dv.getUint32(at + 24, true), flags: dv.getUint32(at + 28, true), type: dv.getUint32(at + 32, true), name,
  };
}

export function writeMode(dv: DataView, at: number, m: ModeInfo): void {
  dv.setUint32(at, m.clock, true);
  const f = [m.hdisplay, m.hsyncStart, m.hsyncEnd, m.htotal, m.hskew, m.vdisplay, m.vsyncStart, m.vsyncEnd, m.vtotal, m.vscan];
  f.forEach((v, i) => dv.setUint16(at + 4 + 2 * i, v, true));
  dv.setUint32(at + 24, m.vrefresh, true);
  dv.setUint32(at + 28, m.flags, true);
  dv.setUint32(at + 32, m.type, true);
  for (let i = 0; i < 32; i++) dv.setUint8(at + 36 + i, i < m.name.length ? m.name.charCodeAt(i) & 0x7f : 0);
}

/** A DRM event read from the card fd. */
export interface DrmEvent {
  type: number;
  userData: bigint;
  /** tv_sec * 1e6 + tv_usec. */
  timeUs: number;
  sequence: number;
  crtcId: number;
  /** SIMRUN_EVENT_HOTPLUG. */
  connectorId: number;
  connection: number;
}

/** Splits a read of the card fd into events; a malformed length ends the list (reported by the caller). */
export function parseEvents(buf: Uint8Array, n: number): DrmEvent[] | string {
  const dv = new DataView(buf.buffer, buf.byteOffset, n);
  const out: DrmEvent[] = [];
  let at = 0;
  while (at < n) {
    if (n - at < 8) return `event at byte ${at}: ${n - at} bytes, shorter than an event header`;
    const type = dv.getUint32(at, true);
    const length = dv.getUint32(at + 4, true);
    if (length < 8 || at + length > n) return `event at byte ${at}: length ${length} does not fit the ${n} bytes read`;
    if ((type === DRM_EVENT_VBLANK || type === DRM_EVENT_FLIP_COMPLETE) && length >= 32) {
      out.push({
        type, userData: dv.getBigUint64(at + 8, true), timeUs: dv.getUint32(at + 16, true) * 1e6 + dv.getUint32(at + 20, true),
        sequence: dv.getUint32(at + 24, true), crtcId: dv.getUint32(at + 28, true), connectorId: 0, connection: 0,
      });
    } else if (type === SIMRUN_EVENT_HOTPLUG && length >= 16) {
      out.push({ type, userData: 0n, timeUs: 0, sequence: 0, crtcId: 0, connectorId: dv.getUint32(at + 8, true), connection: dv.getUint32(at + 12, true) });
    } else {
      return `event at byte ${at}: unknown type 0x${type.toString(16)} or short length ${length}`;
    }
    at += length;
  }
  return out;
}
