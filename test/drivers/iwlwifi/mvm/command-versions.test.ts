/**
 * The driver picks each command layout from the firmware file's TLVs, as Linux does:
 * ADD_STA v7/v10 by the STA_TYPE API flag (iwl_mvm_add_sta_cmd_size), BINDING_CONTEXT v1/v2 by
 * capability BINDING_CDB_SUPPORT (lmac_id by band with CDB_SUPPORT), SCAN_REQ_UMAC v1/v7 by the
 * ADAPTIVE_DWELL API flag. Offsets are Linux's fw/api/{sta,binding,scan}.h, written out here.
 */
import { describe, expect, it } from 'vitest';
import { CMD } from '../../../../src/devices/iwlwifi/fw-api.js';
import { AP_MAC, beacon, defaultScript, runMvm, testImage, type FwScript } from './fake-trans.js';

const STA_TYPE = 30;
const ADAPTIVE_DWELL = 32;
const BINDING_CDB_SUPPORT = 39;
const CDB_SUPPORT = 40;

function script(channel: number): FwScript {
  const s = defaultScript();
  s.scanFrames = [{ channel, energy: 40, frame: beacon({ bssid: AP_MAC, ssid: 'simnet', channel }) }];
  return s;
}

function image(api: number[], capa: number[]) {
  const img = testImage();
  for (const a of api) img.apiFlags.add(a);
  for (const c of capa) img.capabilities.add(c);
  return img;
}

function connect(channel: number, api: number[], capa: number[]) {
  let r = 1;
  const res = runMvm(script(channel), function* (mvm) {
    yield* mvm.start();
    yield* mvm.scan();
    r = yield* mvm.connect('simnet');
  }, {}, image(api, capa));
  expect(res.kernel.crashes).toEqual([]);
  expect(r).toBe(0);
  const of = (id: number) => res.trans.cmds.filter((c) => c.id === id).map((c) => ({ b: c.payload, d: new DataView(c.payload.buffer, c.payload.byteOffset, c.payload.byteLength) }));
  return { add: of(CMD.ADD_STA), bind: of(CMD.BINDING_CONTEXT), scan: of(CMD.SCAN_REQ_UMAC) };
}

describe('iwlwifi command versions from the firmware TLVs', () => {
  it('without the flags: ADD_STA v7 (44 B), BINDING v1 (24 B), SCAN_REQ_UMAC v1 (channels at 36)', () => {
    const { add, bind, scan } = connect(6, [], []);
    expect(add.map((c) => c.b.length)).toEqual([44, 44]);
    expect(bind.map((c) => c.b.length)).toEqual([24]);
    const s = scan[0]!;
    const n = s.b[33]!;
    expect(s.b.length).toBe(36 + 8 * n + 1220);
    expect(s.d.getUint16(12, true) & (1 << 13)).toBe(0);
    expect([s.b[17], s.b[18], s.b[19]]).toEqual([10, 110, 44]);
    expect(s.b[36 + 4]).toBe(1); // first channel entry at 36
  });

  it('STA_TYPE: ADD_STA v10 (48 B) with station_type LINK at 35', () => {
    const { add } = connect(6, [STA_TYPE], []);
    expect(add.map((c) => [c.b.length, c.b[16], c.b[35], c.d.getUint32(40, true) !== 0])).toEqual([[48, 0, 0, true], [48, 0, 0, true]]);
  });

  it('ADAPTIVE_DWELL: SCAN_REQ_UMAC v7 with the adaptive-dwell defaults, channels at 48', () => {
    const { scan } = connect(6, [ADAPTIVE_DWELL], []);
    const s = scan[0]!;
    const n = s.b[45]!;
    expect(n).toBeGreaterThan(10);
    expect(s.b.length).toBe(48 + 8 * n + 1220);
    expect(s.d.getUint16(12, true) & (1 << 13)).toBe(1 << 13); // IWL_UMAC_SCAN_GEN_FLAGS_ADAPTIVE_DWELL
    expect([s.b[16], s.b[17], s.b[18], s.b[19], s.b[20]]).toEqual([10, 110, 44, 2, 10]);
    expect(s.d.getUint16(22, true)).toBe(300); // full scan budget (no SSID)
    expect(s.d.getUint32(40, true)).toBe(6); // IWL_SCAN_PRIORITY_EXT_6
    expect(s.b[48 + 4]).toBe(1); // first channel entry at 48
  });

  it('BINDING_CDB_SUPPORT: BINDING v2 (28 B); lmac_id 1 only for 5 GHz with CDB_SUPPORT', () => {
    expect(connect(6, [], [BINDING_CDB_SUPPORT]).bind.map((c) => [c.b.length, c.d.getUint32(24, true)])).toEqual([[28, 0]]);
    expect(connect(6, [], [BINDING_CDB_SUPPORT, CDB_SUPPORT]).bind.map((c) => [c.b.length, c.d.getUint32(24, true)])).toEqual([[28, 0]]);
    expect(connect(36, [], [BINDING_CDB_SUPPORT]).bind.map((c) => [c.b.length, c.d.getUint32(24, true)])).toEqual([[28, 0]]);
    expect(connect(36, [], [BINDING_CDB_SUPPORT, CDB_SUPPORT]).bind.map((c) => [c.b.length, c.d.getUint32(24, true)])).toEqual([[28, 1]]);
  });
});
