import { describe, expect, it } from 'vitest';
import { CMD, NVM_SECTION, TXQ, TX_FIFO } from '../../../../src/devices/iwlwifi/fw-api.js';
import { parseNvm } from '../../../../src/drivers/iwlwifi/mvm/mvm.js';
import { defaultScript, hwSection, notif, runMvm, swSection } from './fake-trans.js';

describe('iwlwifi mvm bring-up', () => {
  it('runs the INIT then the runtime flow in Linux order and comes up with the NVM MAC', () => {
    let r = 1;
    const res = runMvm(defaultScript(), function* (mvm) { r = yield* mvm.start(); });
    expect(res.kernel.crashes).toEqual([]);
    expect(r).toBe(0);
    const { trans: t, mvm } = res;
    const seq = t.events.filter((e) => !e.startsWith('cmd:0x88'));
    expect(seq).toEqual([
      'startHw', 'startFw:init', 'fwAlive:0x800', 'cmd:0x8c', 'cmd:0x9b', 'cmd:0x98', 'cmd:0x6a', 'stopDevice',
      'startHw', 'startFw:runtime', 'fwAlive:0x800', 'cmd:0x8c', 'cmd:0x6c', 'cmd:0x6c', 'cmd:0x98', 'cmd:0x6a', 'cmd:0x9b', 'cmd:0x77', 'cmd:0xc',
      `txqEnable:${TXQ.MGMT}:${TX_FIFO.VO}`, `txqEnable:${TXQ.DATA}:${TX_FIFO.BE}`,
    ]);
    // NVM: HW (1 chunk, short), SW, CALIBRATION, PRODUCTION (absent) between BT_CONFIG and TX_ANT_CONFIG.
    const nvm = t.cmds.filter((c) => c.id === CMD.NVM_ACCESS).map((c) => c.payload[2]);
    expect(nvm).toEqual([NVM_SECTION.HW, NVM_SECTION.SW, NVM_SECTION.CALIBRATION, NVM_SECTION.PRODUCTION]);
    // PHY DB sent back in type order, PHY_CONFIGURATION carries the image's DEF_CALIB triggers.
    const phyDb = t.cmds.filter((c) => c.id === CMD.PHY_DB).map((c) => [...c.payload]);
    expect(phyDb).toEqual([[1, 0, 4, 0, 1, 2, 3, 4], [2, 0, 2, 0, 9, 9]]);
    // iwl_phy_cfg_cmd_v1: phy_cfg, then iwl_calib_ctrl { flow_trigger, event_trigger }.
    const phyCfg = t.cmds.filter((c) => c.id === CMD.PHY_CONFIGURATION).map((c) => new DataView(c.payload.buffer));
    expect(phyCfg.map((d) => d.byteLength)).toEqual([12, 12]);
    expect(phyCfg.map((d) => [d.getUint32(0, true), d.getUint32(4, true), d.getUint32(8, true)])).toEqual([[0x330000, 0x11, 0x22], [0x330000, 0x33, 0x44]]);
    // iwl_bt_coex_cmd: 8 bytes, mode BT_COEX_WIFI (3), no modules.
    const bt = t.cmds.filter((c) => c.id === CMD.BT_CONFIG).map((c) => [...c.payload]);
    expect(bt).toEqual([[3, 0, 0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 0, 0, 0]]);
    // SHARED_MEM_CFG after each ALIVE (no payload); POWER_TABLE: iwl_device_power_cmd with POWER_SAVE_ENA (bit 0), Linux's balanced default.
    expect(t.cmds.filter((c) => c.id === CMD.SHARED_MEM_CFG).map((c) => c.payload.length)).toEqual([0, 0]);
    expect([...t.cmds.find((c) => c.id === CMD.POWER_TABLE)!.payload]).toEqual([0x01, 0x00, 0, 0]);
    // iwl_scan_config_v1: MAC at 28, aux station at 34, channel array at 36 sized by N_SCAN_CHANNELS (40 by default).
    const scanCfg = t.cmds.find((c) => c.id === CMD.SCAN_CFG)!;
    expect(scanCfg.group).toBe(1);
    expect(scanCfg.payload.length).toBe(36 + 40);
    expect([...scanCfg.payload.subarray(28, 34)]).toEqual([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    expect(scanCfg.payload[34]).toBe(15);
    expect([...scanCfg.payload.subarray(36)].filter((c) => c !== 0)).toHaveLength(35); // 39 NVM channels minus 4 invalid
    expect(mvm.state).toBe('up');
    expect(mvm.statusText()).toContain('mac=00:1b:21:aa:bb:cc\n');
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0 up, MAC 00:1b:21:aa:bb:cc');
  });

  it('fails with -110 when ALIVE never comes, after 1 s, and stops the device', () => {
    const s = defaultScript();
    s.alive = 'none';
    let r = 0;
    let took = 0;
    const res = runMvm(s, function* (mvm, _t, _k, sys) { const t0 = sys.now; r = yield* mvm.start(); took = sys.now - t0; });
    expect(r).toBe(-110);
    expect(took).toBeGreaterThanOrEqual(1000e9);
    expect(took).toBeLessThan(1010e9);
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: timeout waiting for ALIVE (1000 ms)');
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: Failed to start INIT ucode: -110');
    expect(res.trans.events.at(-1)).toBe('stopDevice');
    expect(res.mvm.state).toBe('down');
  });

  it('rejects an ALIVE with a bad status and one of the wrong length', () => {
    const bad = defaultScript();
    bad.alive = 'bad-status';
    let r = 0;
    const a = runMvm(bad, function* (mvm) { r = yield* mvm.start(); });
    expect(r).toBe(-5);
    expect(a.logs).toContain('error iwlwifi 0000:03:00.0: Invalid ALIVE response: status 0xdead');
    const short = defaultScript();
    short.alive = 'short';
    const b = runMvm(short, function* (mvm) { r = yield* mvm.start(); });
    expect(r).toBe(-5);
    expect(b.logs.some((l) => l.includes('Invalid ALIVE response length 64 (ALIVE v3 is 68 bytes)'))).toBe(true);
  });

  it('times out waiting for INIT_COMPLETE after 2 s', () => {
    const s = defaultScript();
    s.initComplete = false;
    let r = 0;
    const res = runMvm(s, function* (mvm) { r = yield* mvm.start(); });
    expect(r).toBe(-110);
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: Timeout waiting for INIT_COMPLETE (2000 ms)');
    expect(res.trans.events).not.toContain('startFw:runtime');
  });

  it('fails cleanly when the NVM has no MAC address', () => {
    const s = defaultScript();
    s.nvm.set(NVM_SECTION.HW, hwSection(new Uint8Array(6)));
    let r = 0;
    const res = runMvm(s, function* (mvm) { r = yield* mvm.start(); });
    expect(r).toBe(-22);
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: NVM: invalid MAC address 00:00:00:00:00:00 in the HW section');
  });

  it('reads a section in chunks until a short read', () => {
    const s = defaultScript();
    s.nvm.set(NVM_SECTION.CALIBRATION, new Uint8Array(2048 * 2 + 10).fill(7));
    const res = runMvm(s, function* (mvm) { yield* mvm.start(); });
    const reads = res.trans.cmds.filter((c) => c.id === CMD.NVM_ACCESS && c.payload[2] === NVM_SECTION.CALIBRATION)
      .map((c) => new DataView(c.payload.buffer).getUint16(4, true));
    expect(reads).toEqual([0, 2048, 4096]);
  });

  it('parses MAC, SKU bands and channel flags from the NVM', () => {
    const n = parseNvm(hwSection(), swSection(0x1, [1, 2]));
    if (typeof n === 'string') throw new Error(n);
    expect([...n.mac]).toEqual([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    expect(n.channels.map((c) => c.channel)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]); // 2.4 GHz only
    expect(n.channels.every((c) => c.active)).toBe(true);
    expect(n.radioCfg).toBe(0x3312);
    expect([n.validTxAnt, n.validRxAnt, n.nHwAddrs]).toEqual([3, 3, 1]);
    expect(parseNvm(undefined, swSection())).toBe('HW section missing');
    expect(parseNvm(hwSection(), new Uint8Array(8))).toMatch(/SW section is 8 bytes/);
  });

  it('reads the 7000-family byte order: MAC words swapped at byte 0x2a, channel flags from SW byte 0x40', () => {
    const hw = new Uint8Array(0x300);
    hw.set([0x1b, 0x00, 0xaa, 0x21, 0xcc, 0xbb], 0x2a); // 00:1b:21:aa:bb:cc as three le16 words
    const sw = new Uint8Array(0x100);
    sw.set([0x1f, 0x0e, 0x12, 0x33, 0x01, 0x00, 0x01, 0x00], 0); // version, radio cfg, SKU 2.4 GHz, 1 address
    sw.set([0x09, 0x00], 0x40 + 2 * 5); // channel 6: valid + active
    sw.set([0x01, 0x00], 0x40 + 2 * 11); // channel 12: valid, passive
    sw.set([0x09, 0x00], 0x20); // what a reader at byte 0x20 would take as channel 1
    const n = parseNvm(hw, sw);
    if (typeof n === 'string') throw new Error(n);
    expect([...n.mac]).toEqual([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    expect(n.channels).toEqual([{ channel: 6, active: true }, { channel: 12, active: false }]);
    // The address stored as displayed reads as 1b:00:aa:21:cc:bb, a multicast address: refused, as Linux's NVM init refuses it.
    const flat = new Uint8Array(0x300);
    flat.set([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc], 0x2a);
    expect(parseNvm(flat, sw)).toMatch(/invalid MAC address 1b:00:aa:21:cc:bb/);
    const radar = sw.slice();
    radar.set([0x19, 0x00], 0x40 + 2 * 5); // valid + active + radar: passive
    const r = parseNvm(hw, radar);
    if (typeof r === 'string') throw new Error(r);
    expect(r.channels[0]).toEqual({ channel: 6, active: false });
    const noBand = sw.slice();
    noBand.set([0x00, 0x00], 4);
    expect(parseNvm(hw, noBand)).toMatch(/SKU 0x0 enables no band/);
  });

  it('logs a REPLY_ERROR (20-byte iwl_error_resp) as Linux does: type, cmd_id, bad sequence, service, timestamp', () => {
    const res = runMvm(defaultScript(), function* (mvm, t, _k, sys) {
      yield* mvm.start();
      const p = new Uint8Array(20);
      const dv = new DataView(p.buffer);
      dv.setUint32(0, 0, true); // FW_ERR_UNKNOWN_CMD
      p[4] = 0x7e;
      dv.setUint16(6, 0x0012, true);
      dv.setUint32(8, 0, true);
      dv.setUint32(12, 0x1234, true);
      dv.setUint32(16, 0x1, true);
      t.post([notif(CMD.REPLY_ERROR, p)], 1);
      yield* sys.sleep(5e9);
    });
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: FW Error notification: type 0x00000000 cmd_id 0x7e (UNKNOWN (0x7e))');
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: FW Error notification: seq 0x0012 service 0x00000000');
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: FW Error notification: timestamp 0x0000000100001234');
  });
});
