/**
 * The simulated firmware speaks the command layouts its image announces (API flags and
 * capabilities carried in the SIMF boot section): ADD_STA v10 with STA_TYPE, BINDING_CONTEXT v2
 * with BINDING_CDB_SUPPORT (lmac_id checked against the PHY's band with CDB_SUPPORT), SCAN_REQ_UMAC
 * v7 with ADAPTIVE_DWELL. Offsets are Linux's fw/api/{sta,binding,scan}.h, written out here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CMD, FW_CTXT_ACTION, FW_CTXT_INVALID, MAC_TYPE_BSS_STA, STATUS_BAD_PARAM, STATUS_OK, idAndColor } from '../../../../src/devices/iwlwifi/fw-api.js';
import { parseFirmware } from '../../../../src/devices/iwlwifi/firmware/index.js';
import { FakeAir, IMAGE, MAC, MS, boot, dv, rig, scanCfgPayload, scanReqPayload, send, u32, type Rig } from './helpers.js';

const NEWER = parseFirmware(readFileSync(fileURLToPath(new URL('../../../../fixtures/firmware/newer-api/iwlwifi-7265D-29.ucode', import.meta.url))),
  { fileName: 'iwlwifi-7265D-29.ucode' });
const BSSID = new Uint8Array([2, 0x11, 0x22, 0x33, 0x44, 0x55]);

function phyCtxt(channel: number): Uint8Array {
  const b = new Uint8Array(36);
  dv(b).setUint32(0, idAndColor(0, 1), true);
  dv(b).setUint32(4, FW_CTXT_ACTION.ADD, true);
  b[16] = channel <= 14 ? 1 : 0;
  b[17] = channel;
  dv(b).setUint32(20, 0x3, true);
  return b;
}
function macCtxt(): Uint8Array {
  const b = new Uint8Array(148);
  dv(b).setUint32(0, idAndColor(0, 1), true);
  dv(b).setUint32(4, FW_CTXT_ACTION.ADD, true);
  dv(b).setUint32(8, MAC_TYPE_BSS_STA, true);
  b.set(MAC, 16);
  b.set(BSSID, 24);
  return b;
}
/** BINDING_CONTEXT: v1 is 24 bytes; v2 appends le32 lmac_id at 24. */
function binding(size: 24 | 28, lmac = 0): Uint8Array {
  const b = new Uint8Array(size);
  const d = dv(b);
  d.setUint32(0, idAndColor(0, 1), true);
  d.setUint32(4, FW_CTXT_ACTION.ADD, true);
  d.setUint32(8, idAndColor(0, 1), true);
  d.setUint32(12, FW_CTXT_INVALID, true);
  d.setUint32(16, FW_CTXT_INVALID, true);
  d.setUint32(20, idAndColor(0, 1), true);
  if (size === 28) d.setUint32(24, lmac, true);
  return b;
}
/** ADD_STA: v7 is 44 bytes; v10 is 48 with u8 station_type at 35. */
function addSta(size: 44 | 48, type = 0): Uint8Array {
  const b = new Uint8Array(size);
  dv(b).setUint32(4, idAndColor(0, 1), true);
  b.set(BSSID, 8);
  dv(b).setUint32(40, (1 << 5) | (1 << 10), true);
  if (size === 48) b[35] = type;
  return b;
}

function runtime(image = NEWER, air?: FakeAir): Rig {
  const r = rig({ air: air ?? null });
  boot(r, 'runtime', image.sections.runtime);
  return r;
}

function statuses(r: Rig): number[] {
  r.host.run(1 * MS);
  return r.host.take().map((p) => u32(p.payload, 0));
}

describe('firmware command versions from the image', () => {
  it('the fixture announces STA_TYPE, ADAPTIVE_DWELL, BINDING_CDB_SUPPORT and CDB_SUPPORT; the 29 image none of them', () => {
    expect([...NEWER.apiFlags].filter((a) => a === 30 || a === 32)).toEqual([30, 32]);
    expect([...NEWER.capabilities].filter((c) => c === 39 || c === 40)).toEqual([39, 40]);
    expect([...IMAGE.apiFlags].filter((a) => a === 30 || a === 32)).toEqual([]);
    expect([...IMAGE.capabilities].filter((c) => c === 39 || c === 40)).toEqual([]);
  });

  it('STA_TYPE: a 44-byte ADD_STA is too short; v10 is accepted; an unknown station_type is refused', () => {
    const r = runtime();
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(6));
    send(r, CMD.MAC_CONTEXT, 0, macCtxt());
    send(r, CMD.BINDING_CONTEXT, 0, binding(28, 0));
    expect(statuses(r)).toEqual([STATUS_OK, STATUS_OK, STATUS_OK]);
    send(r, CMD.ADD_STA, 0, addSta(44));
    send(r, CMD.ADD_STA, 0, addSta(48, 9));
    send(r, CMD.ADD_STA, 0, addSta(48, 0));
    expect(statuses(r)).toEqual([STATUS_BAD_PARAM, 8, 1]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.cmd-short', 'fw.add-sta']);
    // The AP's station as GENERAL_PURPOSE: accepted, but a guest error.
    send(r, CMD.ADD_STA, 0, addSta(48, 1));
    expect(statuses(r)).toEqual([1]);
    expect(r.host.errs.at(-1)!.message).toMatch(/station_type 1, not LINK/);
  });

  it('the API-29 image takes v7 ADD_STA and v1 BINDING (longer commands are read as their prefix)', () => {
    const r = runtime(IMAGE);
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(6));
    send(r, CMD.MAC_CONTEXT, 0, macCtxt());
    send(r, CMD.BINDING_CONTEXT, 0, binding(24));
    send(r, CMD.ADD_STA, 0, addSta(44));
    expect(statuses(r)).toEqual([STATUS_OK, STATUS_OK, STATUS_OK, 1]);
    expect(r.host.errs).toEqual([]);
  });

  it('BINDING_CDB_SUPPORT: v1 is too short; lmac_id must be the band\'s LMAC (1 on 5 GHz with CDB)', () => {
    for (const [channel, good, bad] of [[6, 0, 1], [36, 1, 0]] as const) {
      const r = runtime();
      send(r, CMD.PHY_CONTEXT, 0, phyCtxt(channel));
      send(r, CMD.MAC_CONTEXT, 0, macCtxt());
      send(r, CMD.BINDING_CONTEXT, 0, binding(24));
      send(r, CMD.BINDING_CONTEXT, 0, binding(28, bad));
      send(r, CMD.BINDING_CONTEXT, 0, binding(28, good));
      expect(statuses(r)).toEqual([STATUS_OK, STATUS_OK, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_OK]);
      expect(r.host.errs.map((e) => e.code)).toEqual(['fw.cmd-short', 'fw.ctxt']);
      expect(r.host.errs[1]!.message).toMatch(new RegExp(`lmac_id ${bad}.*LMAC ${good}`));
    }
  });
});

/** A v1 SCAN_REQ_UMAC rewritten as v7: bytes 16.. move by 12 (channels at 48), adaptive dwell fields filled in. */
function v7(v1: Uint8Array, nAps: number, nApsSocial: number, adaptive: boolean): Uint8Array {
  const b = new Uint8Array(v1.length + 12);
  b.set(v1.subarray(0, 16), 0);
  b.set(v1.subarray(36), 48);
  const d = dv(b);
  b[16] = v1[17]!; b[17] = v1[18]!; b[18] = v1[19]!;
  b[19] = nAps; b[20] = nApsSocial;
  d.setUint16(22, 300, true);
  d.setUint32(40, 6, true);
  b[45] = v1[33]!;
  if (adaptive) d.setUint16(12, d.getUint16(12, true) | (1 << 13), true);
  return b;
}

describe('SCAN_REQ_UMAC v7 (ADAPTIVE_DWELL)', () => {
  const APS = [1, 2, 3].map((i) => ({ bssid: new Uint8Array([2, 0, 0, 0, 0, i]), ssid: `ap${i}`, channel: 6, signalDbm: -50 - i, beaconTu: 100 }));

  function scan(req: Uint8Array): { done: number; frames: number; errs: string[] } {
    const r = runtime(NEWER, new FakeAir(APS));
    send(r, CMD.SCAN_CFG, 1, scanCfgPayload(MAC, [1, 6, 11]));
    send(r, CMD.SCAN_REQ_UMAC, 1, req);
    r.host.run(2000 * MS);
    const posted = r.host.take();
    const done = posted.find((p) => p.cmd === CMD.SCAN_COMPLETE_UMAC);
    return { done: done === undefined ? -1 : done.time, frames: posted.filter((p) => p.cmd === CMD.RX_MPDU).length, errs: r.host.errs.map((e) => e.code) };
  }

  it('channels are read at 48; a v1 request is not understood', () => {
    const full = scan(v7(scanReqPayload(1, [6], [''], 0, 100), 0, 0, false));
    expect(full.errs).toEqual([]);
    expect(full.frames).toBeGreaterThanOrEqual(3); // probe responses and beacons of the three APs
    const old = scan(scanReqPayload(1, [6], [''], 0, 100));
    expect(old.errs.length).toBeGreaterThan(0);
  });

  it('adaptive dwell ends the active dwell after adwell_default_n_aps transmitters', () => {
    const full = scan(v7(scanReqPayload(1, [6], [''], 0, 100), 1, 1, false));
    const cut = scan(v7(scanReqPayload(1, [6], [''], 0, 100), 1, 1, true));
    expect(cut.errs).toEqual([]);
    expect(cut.frames).toBe(1);
    expect(cut.done).toBeLessThan(full.done);
  });
});
