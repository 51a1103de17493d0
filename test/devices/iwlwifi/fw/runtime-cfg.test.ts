/** Runtime configuration commands with Linux's sizes: SHARED_MEM_CFG, POWER_TABLE, BT_CONFIG, MAC_PM_POWER_TABLE, TIME_EVENT, LQ, SF_CFG. */
import { describe, expect, it } from 'vitest';
import { CMD, SEQ_UNSOLICITED, STATUS_BAD_PARAM, STATUS_OK, idAndColor } from '../../../../src/devices/iwlwifi/fw-api.js';
import { MAC, MS, boot, dv, le, rig, send, u32, type Rig } from './helpers.js';

const BSSID = new Uint8Array([2, 0x11, 0x22, 0x33, 0x44, 0x55]);

/** Runtime image with MAC context 0 and station 0. */
function withStation(): Rig {
  const r = rig();
  boot(r, 'runtime');
  const mac = new Uint8Array(148);
  dv(mac).setUint32(0, idAndColor(0, 0), true);
  dv(mac).setUint32(4, 1, true);
  dv(mac).setUint32(8, 5, true);
  mac.set(MAC, 16);
  mac.set(BSSID, 24);
  send(r, CMD.MAC_CONTEXT, 0, mac);
  const sta = new Uint8Array(44);
  dv(sta).setUint32(4, idAndColor(0, 0), true);
  sta.set(BSSID, 8);
  send(r, CMD.ADD_STA, 0, sta);
  r.host.run(1 * MS);
  expect(r.host.take().map((p) => u32(p.payload, 0))).toEqual([STATUS_OK, 1]);
  return r;
}

describe('runtime configuration commands', () => {
  it('SHARED_MEM_CFG (no payload) answers iwl_shared_mem_cfg_v1: 68 bytes, TX FIFO sizes at 20, RX FIFO sizes at 52', () => {
    const r = rig();
    boot(r);
    const seq = send(r, CMD.SHARED_MEM_CFG, 0, new Uint8Array(0));
    r.host.run(1 * MS);
    const [resp] = r.host.take();
    expect(resp).toMatchObject({ cmd: CMD.SHARED_MEM_CFG, seq });
    expect(resp!.payload.length).toBe(68);
    expect(u32(resp!.payload, 0)).toBe(0); // shared_mem_addr: 0 before the 8000 family
    expect(u32(resp!.payload, 20)).toBeGreaterThan(0);
    expect(u32(resp!.payload, 52)).toBeGreaterThan(0);
  });

  it('BT_CONFIG is the 8-byte iwl_bt_coex_cmd: modes 0-3 accepted, others refused', () => {
    const r = rig();
    boot(r);
    for (const mode of [0, 3, 4]) send(r, CMD.BT_CONFIG, 0, le([mode, 4], [0, 4]));
    send(r, CMD.BT_CONFIG, 0, new Uint8Array(7));
    r.host.run(1 * MS);
    expect(r.host.take().map((p) => u32(p.payload, 0))).toEqual([STATUS_OK, STATUS_OK, STATUS_BAD_PARAM, STATUS_BAD_PARAM]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.bt-config', 'fw.cmd-short']);
    expect(r.host.milestones('fw.bt-config').map((m) => m.a)).toEqual([0, 3]);
  });

  it('POWER_TABLE (4 bytes), MAC_PM_POWER_TABLE (40), LQ (88), SF_CFG (92): status OK, refused when short or naming nothing', () => {
    const r = withStation();
    send(r, CMD.POWER_TABLE, 0, le([1 << 13, 2], [0, 2]));
    send(r, CMD.MAC_PM_POWER_TABLE, 0, new Uint8Array(40));
    const lq = new Uint8Array(88);
    dv(lq).setUint32(20, 10 | (1 << 9) | (1 << 14), true);
    send(r, CMD.LQ, 0, lq);
    send(r, CMD.SF_CFG, 0, new Uint8Array(92));
    send(r, CMD.POWER_TABLE, 0, new Uint8Array(3));
    send(r, CMD.MAC_PM_POWER_TABLE, 0, new Uint8Array(39));
    send(r, CMD.LQ, 0, new Uint8Array(87));
    send(r, CMD.SF_CFG, 0, new Uint8Array(91));
    const lq9 = lq.slice();
    lq9[0] = 9;
    send(r, CMD.LQ, 0, lq9);
    r.host.run(1 * MS);
    expect(r.host.take().map((p) => u32(p.payload, 0))).toEqual([
      STATUS_OK, STATUS_OK, STATUS_OK, STATUS_OK, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_BAD_PARAM,
    ]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.cmd-short', 'fw.cmd-short', 'fw.cmd-short', 'fw.cmd-short', 'fw.lq']);
  });

  it('TIME_EVENT (36 bytes): response with a unique id, START notification, END after the duration; REMOVE cancels', () => {
    const r = withStation();
    const te = new Uint8Array(36);
    dv(te).setUint32(0, idAndColor(0, 0), true);
    dv(te).setUint32(4, 1, true); // ADD
    dv(te).setUint32(8, 0, true); // TE_BSS_STA_AGGRESSIVE_ASSOC
    dv(te).setUint32(28, 100, true); // 100 TU
    const seq = send(r, CMD.TIME_EVENT, 0, te);
    r.host.run(200 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => [p.cmd, p.seq])).toEqual([
      [CMD.TIME_EVENT, seq], [CMD.TIME_EVENT_NOTIFICATION, SEQ_UNSOLICITED], [CMD.TIME_EVENT_NOTIFICATION, SEQ_UNSOLICITED],
    ]);
    const [resp, start, end] = posted;
    expect(resp!.payload.length).toBe(16);
    expect(u32(resp!.payload, 0)).toBe(0);
    const uid = u32(resp!.payload, 8);
    expect(start!.payload.length).toBe(24);
    expect([u32(start!.payload, 8), u32(start!.payload, 16), u32(start!.payload, 20)]).toEqual([uid, 1, 1]);
    expect([u32(end!.payload, 8), u32(end!.payload, 16)]).toEqual([uid, 2]);
    expect(end!.time - start!.time).toBe(100 * 1024 * 1_000_000);
    // A second event removed before its end: no END.
    send(r, CMD.TIME_EVENT, 0, te);
    r.host.run(1 * MS);
    const uid2 = u32(r.host.take()[0]!.payload, 8);
    const rm = te.slice();
    dv(rm).setUint32(4, 3, true);
    dv(rm).setUint32(8, uid2, true);
    send(r, CMD.TIME_EVENT, 0, rm);
    r.host.run(300 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.TIME_EVENT]);
  });
});
