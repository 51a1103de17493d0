import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRM_IOCTL, parseEvents, readMode, writeMode, type ModeInfo } from '../../../src/workloads/drm/uapi.js';

describe('drm client definitions', () => {
  it('every ioctl code is the one docs/DRM-SCHEME.md documents (Linux _IOC numbers with sizes)', () => {
    const doc = readFileSync(new URL('../../../docs/DRM-SCHEME.md', import.meta.url), 'utf8');
    for (const [name, code] of Object.entries(DRM_IOCTL)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| ${name} `));
      expect(row, name).toBeDefined();
      expect(row, name).toContain(`0x${code.toString(16).toUpperCase().padStart(8, '0')}`);
    }
    // Two spot checks against Linux's headers: DRM_IOCTL_MODE_GETRESOURCES and DRM_IOCTL_MODE_PAGE_FLIP.
    expect(DRM_IOCTL.MODE_GETRESOURCES).toBe(0xc04064a0);
    expect(DRM_IOCTL.MODE_PAGE_FLIP).toBe(0xc01864b0);
  });

  it('drm_mode_modeinfo round-trips through its 68-byte layout', () => {
    const m: ModeInfo = {
      clock: 148500, hdisplay: 1920, hsyncStart: 2008, hsyncEnd: 2052, htotal: 2200, hskew: 0,
      vdisplay: 1080, vsyncStart: 1084, vsyncEnd: 1089, vtotal: 1125, vscan: 0, vrefresh: 60, flags: 5, type: 0x48, name: '1920x1080',
    };
    const dv = new DataView(new ArrayBuffer(68 + 4));
    writeMode(dv, 4, m);
    expect(readMode(dv, 4)).toEqual(m);
    expect(dv.getUint16(4 + 10, true)).toBe(2200);
    expect(dv.getUint8(4 + 36)).toBe('1'.charCodeAt(0));
  });

  it('events split by their lengths; a malformed length is reported', () => {
    const buf = new Uint8Array(48);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, 2, true); dv.setUint32(4, 32, true); dv.setBigUint64(8, 42n, true);
    dv.setUint32(16, 3, true); dv.setUint32(20, 500, true); dv.setUint32(24, 180, true); dv.setUint32(28, 77, true);
    dv.setUint32(32, 0x80000001, true); dv.setUint32(36, 16, true); dv.setUint32(40, 71, true); dv.setUint32(44, 1, true);
    const ev = parseEvents(buf, 48);
    expect(ev).toEqual([
      { type: 2, userData: 42n, timeUs: 3_000_500, sequence: 180, crtcId: 77, connectorId: 0, connection: 0 },
      { type: 0x80000001, userData: 0n, timeUs: 0, sequence: 0, crtcId: 0, connectorId: 71, connection: 1 },
    ]);
    dv.setUint32(4, 64, true);
    expect(parseEvents(buf, 48)).toMatch(/length 64 does not fit/);
  });
});
