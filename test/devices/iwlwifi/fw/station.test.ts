/** Contexts, stations and an association-like TX exchange against a fake Air. */
import { describe, expect, it } from 'vitest';
import {
  ADD_STA_SUCCESS, BINDING_CONTEXT, CMD, FW_CTXT_ACTION, FW_CTXT_INVALID, MAC_TYPE_BSS_STA,
  STATUS_BAD_PARAM, STATUS_OK, TXQ, TX_RESP, TX_STATUS, idAndColor, seqOf,
} from '../../../../src/devices/iwlwifi/fw-api.js';
import { LONG_RETRY_LIMIT } from '../../../../src/devices/iwlwifi/fw/index.js';
import { FakeAir, MAC, MS, boot, dv, mgmt, mpduFrame, rig, send, txPayload, u16, u32, type Rig } from './helpers.js';

const BSSID = new Uint8Array([2, 0x11, 0x22, 0x33, 0x44, 0x55]);
const OTHER = new Uint8Array([2, 0xde, 0xad, 0xbe, 0xef, 0x00]);
const AP = { bssid: BSSID, ssid: 'simnet', channel: 6, signalDbm: -50, beaconTu: 100 };

/** PHY_CONTEXT v1 (36 bytes): channel info at 16 { band (PHY_BAND_24 = 1, PHY_BAND_5 = 0), channel, width, ctrl_pos }. */
function phyCtxt(action: number, channel: number, id = 0, color = 1): Uint8Array {
  const b = new Uint8Array(36);
  const d = dv(b);
  d.setUint32(0, idAndColor(id, color), true);
  d.setUint32(4, action, true);
  b[16] = channel <= 14 ? 1 : 0;
  b[17] = channel;
  d.setUint32(20, 0x3, true);
  return b;
}
/** MAC_CONTEXT v1 (148 bytes): node at 16, BSSID at 24, station data at 100 (is_assoc), assoc_id at 136. */
function macCtxt(action: number, assoc = false, id = 0, color = 1): Uint8Array {
  const b = new Uint8Array(148);
  const d = dv(b);
  d.setUint32(0, idAndColor(id, color), true);
  d.setUint32(4, action, true);
  d.setUint32(8, MAC_TYPE_BSS_STA, true);
  b.set(MAC, 16);
  b.set(BSSID, 24);
  d.setUint32(100, assoc ? 1 : 0, true);
  d.setUint32(136, assoc ? 1 : 0, true);
  return b;
}
function binding(action: number, phy = 0, mac = 0): Uint8Array {
  const b = new Uint8Array(BINDING_CONTEXT.SIZE);
  const d = dv(b);
  d.setUint32(BINDING_CONTEXT.ID_AND_COLOR, idAndColor(phy, 1), true);
  d.setUint32(BINDING_CONTEXT.ACTION, action, true);
  d.setUint32(BINDING_CONTEXT.MACS, idAndColor(mac, 1), true);
  d.setUint32(BINDING_CONTEXT.MACS + 4, FW_CTXT_INVALID, true);
  d.setUint32(BINDING_CONTEXT.MACS + 8, FW_CTXT_INVALID, true);
  d.setUint32(BINDING_CONTEXT.PHY, idAndColor(phy, 1), true);
  return b;
}
/** ADD_STA v7 (44 bytes): add_modify 0, mac_id_n_color 4, addr 8, sta_id 16, tfd_queue_msk 40. */
function addSta(staId: number, addr: Uint8Array, macId = 0, modify = 0): Uint8Array {
  const b = new Uint8Array(44);
  b[0] = modify;
  b[16] = staId;
  dv(b).setUint32(4, idAndColor(macId, 1), true);
  b.set(addr, 8);
  dv(b).setUint32(40, (1 << 5) | (1 << 10), true);
  return b;
}

/** Runtime firmware with PHY 0 on `channel`, MAC 0, binding, station 0 = the AP. */
function associatedRig(channel = 6, air = new FakeAir([AP])): Rig {
  const r = rig({ air });
  boot(r, 'runtime');
  send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.ADD, channel));
  send(r, CMD.MAC_CONTEXT, 0, macCtxt(FW_CTXT_ACTION.ADD));
  send(r, CMD.BINDING_CONTEXT, 0, binding(FW_CTXT_ACTION.ADD));
  send(r, CMD.ADD_STA, 0, addSta(0, BSSID));
  r.host.run(1 * MS);
  const resp = r.host.take();
  expect(resp.map((p) => p.cmd)).toEqual([CMD.PHY_CONTEXT, CMD.MAC_CONTEXT, CMD.BINDING_CONTEXT, CMD.ADD_STA]);
  expect(resp.map((p) => u32(p.payload, 0))).toEqual([STATUS_OK, STATUS_OK, STATUS_OK, ADD_STA_SUCCESS]);
  return r;
}

describe('contexts', () => {
  it('refuses duplicate adds, unknown ids, wrong colors, and removing a bound PHY', () => {
    const r = associatedRig();
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.ADD, 6));
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.MODIFY, 6, 1));
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.MODIFY, 11, 0, 2));
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.REMOVE, 6));
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.MODIFY, 11));
    send(r, CMD.ADD_STA, 0, addSta(3, BSSID, 0, 1));
    r.host.run(1 * MS);
    expect(r.host.take().map((p) => u32(p.payload, 0))).toEqual([STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_BAD_PARAM, STATUS_OK, 8]);
    expect(r.host.milestones('fw.phy-ctxt').at(-1)).toMatchObject({ a: 0, b: 11 });
  });
});

describe('TX', () => {
  it('auth / assoc exchange: TX_RESP SUCCESS, replies delivered as RX_PHY + RX_MPDU, others filtered', () => {
    const air = new FakeAir([AP]);
    const r = associatedRig(6, air);
    const auth = mgmt(0xb0, BSSID, MAC, BSSID, new Uint8Array([0, 0, 1, 0, 0, 0]), 0x10);
    const seq = send(r, CMD.TX, 0, txPayload(0, auth), TXQ.MGMT);
    expect(seq).toBe(seqOf(TXQ.MGMT, 0));
    r.host.run(5 * MS);
    let posted = r.host.take();
    expect(posted.map((p) => p.cmd)).toEqual([CMD.TX, CMD.RX_PHY, CMD.RX_MPDU]);
    const resp = posted[0]!;
    expect(resp.seq).toBe(seq);
    expect(resp.payload.length).toBe(44); // iwl_mvm_tx_resp_v3 + one agg_tx_status + the SCD SSN
    expect(u32(resp.payload, 40)).toBe((seq & 0xff) + 1);
    expect(resp.payload[33]).toBe(0x00); // ra_tid: station 0, TID 0
    expect(u16(resp.payload, 30)).toBe(auth.length);
    expect(u16(resp.payload, 34)).toBe(0xb0);
    expect(u16(resp.payload, 36)).toBe(TX_STATUS.SUCCESS);
    expect(resp.payload[TX_RESP.FRAME_COUNT]).toBe(1);
    expect(resp.payload[TX_RESP.FAILURE_FRAME]).toBe(0);
    expect(u16(resp.payload, TX_RESP.SEQ_CTL)).toBe(0x10);
    const rx = mpduFrame(posted[2]!.payload);
    expect(u16(rx, 0)).toBe(0xb0);
    expect([...rx.subarray(4, 10)]).toEqual([...MAC]);
    expect(air.transmitted).toHaveLength(1);
    expect(air.transmitted[0]!.channel).toBe(6);
    expect(air.transmitted[0]!.frame).toEqual(auth);

    // Association request: the response comes back; the frame for another station is filtered.
    send(r, CMD.TX, 0, txPayload(0, mgmt(0x00, BSSID, MAC, BSSID, new Uint8Array(4), 0x20)), TXQ.MGMT);
    r.host.run(5 * MS);
    posted = r.host.take();
    expect(posted.map((p) => p.cmd)).toEqual([CMD.TX, CMD.RX_PHY, CMD.RX_MPDU]);
    expect(u16(mpduFrame(posted[2]!.payload), 0)).toBe(0x10);
    expect(r.cpu.stats()).toMatchObject({ txFrames: 2, rxFrames: 2, rxFiltered: 1 });
    const airTrace = r.host.airEvents();
    expect(airTrace.map((e) => e.tx)).toEqual([true, false, true, false]);
    expect(airTrace[1]!.signal).toBe(-50);

    // Associated MAC context (modify) works.
    send(r, CMD.MAC_CONTEXT, 0, macCtxt(FW_CTXT_ACTION.MODIFY, true));
    r.host.run(1 * MS);
    expect(u32(r.host.take()[0]!.payload, 0)).toBe(STATUS_OK);
    expect(r.host.milestones('fw.mac-ctxt').at(-1)).toMatchObject({ a: 0, b: 1 });
  });

  it('no ACK: FAIL_LONG_LIMIT with retries; broadcast: SUCCESS', () => {
    const r = associatedRig();
    send(r, CMD.TX, 0, txPayload(0, mgmt(0xb0, OTHER, MAC, OTHER)), TXQ.MGMT);
    send(r, CMD.TX, 0, txPayload(0, mgmt(0xd0, new Uint8Array(6).fill(0xff), MAC, BSSID)), TXQ.MGMT);
    r.host.run(50 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => p.cmd)).toEqual([CMD.TX, CMD.TX]);
    const bySeq = new Map(posted.map((p) => [p.seq, p.payload]));
    const noAck = bySeq.get(seqOf(TXQ.MGMT, 0))!;
    expect(u16(noAck, 36)).toBe(TX_STATUS.FAIL_LONG_LIMIT);
    expect(noAck[TX_RESP.FAILURE_FRAME]).toBe(LONG_RETRY_LIMIT);
    expect(u16(bySeq.get(seqOf(TXQ.MGMT, 1))!, 36)).toBe(TX_STATUS.SUCCESS);
  });

  it('unknown station or unbound MAC: FAIL_NO_BINDING; RF-kill: FAIL_LONG_LIMIT, nothing sent', () => {
    const air = new FakeAir([AP]);
    const r = rig({ air });
    boot(r, 'runtime');
    send(r, CMD.TX, 0, txPayload(0, mgmt(0xb0, BSSID, MAC, BSSID)), TXQ.MGMT);
    send(r, CMD.MAC_CONTEXT, 0, macCtxt(FW_CTXT_ACTION.ADD));
    send(r, CMD.ADD_STA, 0, addSta(0, BSSID));
    send(r, CMD.TX, 0, txPayload(0, mgmt(0xb0, BSSID, MAC, BSSID)), TXQ.MGMT);
    r.host.run(5 * MS);
    const tx = r.host.take().filter((p) => p.cmd === CMD.TX);
    expect(tx.map((p) => u16(p.payload, 36))).toEqual([TX_STATUS.FAIL_STA_INVALID, TX_STATUS.FAIL_STA_INVALID]);
    expect(air.transmitted).toHaveLength(0);

    const k = associatedRig(6, air);
    k.cpu.rfKill(true);
    send(k, CMD.TX, 0, txPayload(0, mgmt(0xb0, BSSID, MAC, BSSID)), TXQ.MGMT);
    k.host.run(5 * MS);
    const [resp] = k.host.take();
    expect(u16(resp!.payload, 36)).toBe(TX_STATUS.FAIL_LONG_LIMIT);
    expect(resp!.payload[TX_RESP.FAILURE_FRAME]).toBe(0);
    expect(air.transmitted).toHaveLength(0);
  });

  it('replies are dropped when no PHY context is on their channel any more', () => {
    const air = new FakeAir([AP], 2 * MS);
    const r = associatedRig(6, air);
    send(r, CMD.TX, 0, txPayload(0, mgmt(0xb0, BSSID, MAC, BSSID)), TXQ.MGMT);
    r.host.run(1 * MS);
    send(r, CMD.PHY_CONTEXT, 0, phyCtxt(FW_CTXT_ACTION.MODIFY, 11));
    r.host.run(10 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.TX, CMD.PHY_CONTEXT]);
    expect(r.cpu.stats()['rxFiltered']).toBe(1);
  });

  it('a TX_CMD whose len runs past the command: STATUS_BAD_PARAM', () => {
    const r = associatedRig();
    const p = txPayload(0, mgmt(0xb0, BSSID, MAC, BSSID));
    dv(p).setUint16(0, 500, true);
    send(r, CMD.TX, 0, p, TXQ.MGMT);
    r.host.run(1 * MS);
    expect(u32(r.host.take()[0]!.payload, 0)).toBe(STATUS_BAD_PARAM);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.tx-len']);
  });
});
