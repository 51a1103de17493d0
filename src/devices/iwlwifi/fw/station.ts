/**
 * Contexts, stations and the data path.
 *
 * PHY_CONTEXT / MAC_CONTEXT / BINDING_CONTEXT: action ADD (id must be free),
 * MODIFY and REMOVE (id must exist with the same color); a violation gets
 * STATUS_BAD_PARAM + guestErr. A binding needs its PHY context and every
 * listed MAC context to exist; removing a PHY context or MAC still bound is
 * refused. ADD_STA: sta_id 0..15; add (0) or modify (1) an existing station;
 * the MAC context must exist. Statuses: ADD_STA_SUCCESS (1),
 * ADD_STA_STATIONS_OVERLOAD (2, sta_id out of range),
 * ADD_STA_MODIFY_NON_EXIST (8, modify of an unknown station or unknown MAC).
 * PHY_CONTEXT bands are PHY_BAND_24 (1) and PHY_BAND_5 (0), as Linux's.
 *
 * TX (0x1C, any queue): iwl_tx_cmd (56 bytes) + 802.11 frame of TX_CMD.LEN
 * bytes. Station unknown, or its MAC not bound to a PHY context: TX response
 * FAIL_STA_INVALID. RF-kill: FAIL_LONG_LIMIT with 0 retries (nothing sent).
 * Otherwise the frame goes on the air TX_START after the command on the
 * bound PHY's channel; the TX response (iwl_mvm_tx_resp_v3) follows after
 * its air time: SUCCESS when acked or group addressed, else FAIL_LONG_LIMIT
 * after data_retry_limit retries (0 = LONG_RETRY_LIMIT). Frames the
 * AP sends back are delivered at their times (RX_PHY + RX_MPDU) if addressed
 * to one of our MAC addresses (MAC contexts' node addresses and the NVM MAC)
 * or group addressed, and only while a PHY context is on their channel.
 */
import { fnvArray, fnvNumber } from '../../../sim/hash.js';
import { us } from '../../../sim/time.js';
import {
  ADD_STA, ADD_STA_SUCCESS, ADD_STA_V10, BINDING_CONTEXT, BINDING_CONTEXT_V2, CMD, FW_CTXT_ACTION, FW_CTXT_INVALID, GROUP,
  LMAC_24G_INDEX, LMAC_5G_INDEX, MAC_CONTEXT, PHY_BAND_24, PHY_BAND_5, PHY_CONTEXT, REMOVE_STA_SIZE, STA_TYPE, STATUS_OK, TX_CMD,
  TX_STATUS,
} from '../fw-api.js';
import { API, CAPA } from '../firmware/tlv.js';
import type { AirFrame } from '../rf/types.js';
import type { FwCore } from './cpu.js';
import { HostileFwTiming } from './hostile-timing.js';
import { postFrame } from './scan.js';
import { WLAN, airtimeUs, rate500kOf, rd16, rd32, sameAddr, statusPayload, txRespPayload } from './packets.js';

export const MAX_STATIONS = 16;
export const ADD_STA_STATIONS_OVERLOAD = 2;
export const ADD_STA_MODIFY_NON_EXIST = 8;
/** Command to air. */
export const TX_START = us(20);
/** SIFS + ACK after a frame. */
export const ACK_TIME = us(44);
export const LONG_RETRY_LIMIT = 15;

export interface PhyCtxt { color: number; channel: number; band: number }
export interface MacCtxt { color: number; type: number; node: Uint8Array; bssid: Uint8Array; assoc: boolean; assocId: number }
export interface Binding { color: number; macs: number[]; phy: number }
export interface Station { macId: number; addr: Uint8Array; flags: number; queues: number }

export interface StationState {
  phys: Map<number, PhyCtxt>;
  macs: Map<number, MacCtxt>;
  bindings: Map<number, Binding>;
  stas: Map<number, Station>;
  /** MAC contexts whose BSS beacons the radio is listening for. */
  watching: Set<number>;
}

export function newStationState(): StationState {
  return { phys: new Map(), macs: new Map(), bindings: new Map(), stas: new Map(), watching: new Set() };
}

export interface PendingTx {
  channel: number;
  frame: Uint8Array;
  seq: number;
  rateNFlags: number;
  staId: number;
  tid: number;
  /** Transmissions after the first when there is no ACK. */
  retryLimit: number;
  /** Extra response delay (FwFaults.delayCmd). */
  extra: number;
}

/** Common ADD/MODIFY/REMOVE checks; returns the action or null (already answered). */
function ctxtAction<T extends { color: number }>(core: FwCore, what: string, map: Map<number, T>, idColor: number, action: number): number | null {
  const id = idColor & 0xff;
  const color = (idColor >>> 8) & 0xff;
  const cur = map.get(id);
  if (action === FW_CTXT_ACTION.ADD) {
    if (cur !== undefined) { core.badParam('fw.ctxt', `${what} ${id} already exists`); return null; }
    return action;
  }
  if (action === FW_CTXT_ACTION.MODIFY || action === FW_CTXT_ACTION.REMOVE) {
    if (cur === undefined) { core.badParam('fw.ctxt', `${what} ${id} does not exist`); return null; }
    if (cur.color !== color) { core.badParam('fw.ctxt', `${what} ${id} has color ${cur.color}, the command says ${color}`); return null; }
    return action;
  }
  core.badParam('fw.ctxt', `${what} action ${action} is not ADD, MODIFY or REMOVE`);
  return null;
}

export function phyContext(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, PHY_CONTEXT.SIZE)) return;
  const idColor = rd32(p, PHY_CONTEXT.ID_AND_COLOR);
  const id = idColor & 0xff;
  const st = core.sta;
  const action = ctxtAction(core, 'PHY context', st.phys, idColor, rd32(p, PHY_CONTEXT.ACTION));
  if (action === null) return;
  if (action === FW_CTXT_ACTION.REMOVE) {
    for (const b of st.bindings.values()) {
      if ((b.phy & 0xff) === id) { core.badParam('fw.ctxt', `PHY context ${id} is still bound`); return; }
    }
    st.phys.delete(id);
    core.milestone('fw.phy-ctxt', id, 0);
    core.replyStatus(STATUS_OK);
    return;
  }
  const channel = p[PHY_CONTEXT.CHANNEL]!;
  const band = p[PHY_CONTEXT.BAND]!;
  if ((band !== PHY_BAND_24 && band !== PHY_BAND_5) || (band === PHY_BAND_24) !== (channel >= 1 && channel <= 14)) {
    core.badParam('fw.ctxt', `PHY context ${id}: channel ${channel} is not in band ${band} (PHY_BAND_24 = 1, PHY_BAND_5 = 0)`);
    return;
  }
  st.phys.set(id, { color: (idColor >>> 8) & 0xff, channel, band });
  core.milestone('fw.phy-ctxt', id, channel);
  core.replyStatus(STATUS_OK);
}

export function macContext(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, MAC_CONTEXT.SIZE)) return;
  const idColor = rd32(p, MAC_CONTEXT.ID_AND_COLOR);
  const id = idColor & 0xff;
  const st = core.sta;
  const action = ctxtAction(core, 'MAC context', st.macs, idColor, rd32(p, MAC_CONTEXT.ACTION));
  if (action === null) return;
  if (action === FW_CTXT_ACTION.REMOVE) {
    if (bindingOf(st, id) !== null) { core.badParam('fw.ctxt', `MAC context ${id} is still bound`); return; }
    st.macs.delete(id);
    core.milestone('fw.mac-ctxt', id, 0xff);
    core.replyStatus(STATUS_OK);
    return;
  }
  const assoc = rd32(p, MAC_CONTEXT.IS_ASSOC) !== 0;
  st.macs.set(id, {
    color: (idColor >>> 8) & 0xff,
    type: rd32(p, MAC_CONTEXT.MAC_TYPE),
    node: p.slice(MAC_CONTEXT.NODE_ADDR, MAC_CONTEXT.NODE_ADDR + 6),
    bssid: p.slice(MAC_CONTEXT.BSSID, MAC_CONTEXT.BSSID + 6),
    assoc,
    assocId: rd32(p, MAC_CONTEXT.ASSOC_ID),
  });
  core.milestone('fw.mac-ctxt', id, assoc ? 1 : 0);
  core.replyStatus(STATUS_OK);
  if (assoc && !st.watching.has(id)) {
    st.watching.add(id);
    core.later(0, { k: 'bcn-watch', mac: id });
  }
}

/** How far ahead the associated radio listens for its BSS's beacons at a time. */
const BEACON_WATCH_PERIOD = us(102_400);

/**
 * While a MAC context is associated and bound, the radio stays on its
 * channel and hears the BSS's beacons. The firmware filters them (beacon
 * filtering: nothing reaches the host) but they are on the air, so the
 * trace records them. One look ahead per period; each beacon is traced at
 * its own time.
 */
export function beaconWatch(core: FwCore, macId: number): void {
  const st = core.sta;
  const mac = st.macs.get(macId);
  const channel = mac?.assoc === true ? boundChannel(st, macId) : null;
  const air = core.cfg.air;
  if (mac === undefined || channel === null || air === null || !core.running) {
    st.watching.delete(macId);
    return;
  }
  const now = core.now();
  for (const f of air.listen(channel, now, now + BEACON_WATCH_PERIOD, null)) {
    if (f.data.length >= 22 && (f.data[0]! & 0xfc) === 0x80 && sameAddr(f.data, 16, mac.bssid, 0)) core.later(f.timePs - now, { k: 'bcn', frame: f });
  }
  core.later(BEACON_WATCH_PERIOD, { k: 'bcn-watch', mac: macId });
}

export function beaconHeard(core: FwCore, f: AirFrame): void {
  if (core.rfKilled) return;
  core.host.tracer.air(core.now(), core.host.dev, false, f.channel, f.signalDbm, f.rate500k, f.data, 0, f.data.length);
  core.counters.rxFiltered++;
}

/**
 * BINDING_CONTEXT: v1 (24 bytes), or v2 (28 bytes, lmac_id) when the image
 * has capability BINDING_CDB_SUPPORT. The lmac_id must be the LMAC of the
 * PHY context's band: 1 for 5 GHz when the image also has CDB_SUPPORT, else
 * 0 (Linux iwl_mvm_get_lmac_id).
 */
export function bindingContext(core: FwCore, p: Uint8Array): void {
  const v2 = core.hasCapa(CAPA.BINDING_CDB_SUPPORT);
  if (!core.need(p, v2 ? BINDING_CONTEXT_V2.SIZE : BINDING_CONTEXT.SIZE)) return;
  const idColor = rd32(p, BINDING_CONTEXT.ID_AND_COLOR);
  const id = idColor & 0xff;
  const st = core.sta;
  const action = ctxtAction(core, 'binding', st.bindings, idColor, rd32(p, BINDING_CONTEXT.ACTION));
  if (action === null) return;
  if (action === FW_CTXT_ACTION.REMOVE) {
    st.bindings.delete(id);
    core.milestone('fw.binding', id, 0xff);
    core.replyStatus(STATUS_OK);
    return;
  }
  const macs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const m = rd32(p, BINDING_CONTEXT.MACS + 4 * i);
    if (m === FW_CTXT_INVALID) continue;
    if (!st.macs.has(m & 0xff)) { core.badParam('fw.ctxt', `binding ${id}: MAC context ${m & 0xff} does not exist`); return; }
    macs.push(m & 0xff);
  }
  const phy = rd32(p, BINDING_CONTEXT.PHY);
  const phyCtxt = st.phys.get(phy & 0xff);
  if (phyCtxt === undefined) { core.badParam('fw.ctxt', `binding ${id}: PHY context ${phy & 0xff} does not exist`); return; }
  if (v2) {
    const want = core.hasCapa(CAPA.CDB_SUPPORT) && phyCtxt.band === PHY_BAND_5 ? LMAC_5G_INDEX : LMAC_24G_INDEX;
    const lmac = rd32(p, BINDING_CONTEXT_V2.LMAC_ID);
    if (lmac !== want) {
      core.badParam('fw.ctxt', `binding ${id}: lmac_id ${lmac}, but PHY context ${phy & 0xff} (channel ${phyCtxt.channel}) runs on LMAC ${want}`);
      return;
    }
  }
  st.bindings.set(id, { color: (idColor >>> 8) & 0xff, macs, phy: phy & 0xff });
  core.milestone('fw.binding', id, phy & 0xff);
  core.replyStatus(STATUS_OK);
}

/**
 * ADD_STA: v7 (44 bytes), or v10 (48 bytes, station_type) when the image has
 * the STA_TYPE API flag. A v10 station type outside enum iwl_sta_type is
 * refused with ADD_STA_MODIFY_NON_EXIST; a station for the MAC context's BSS
 * whose type is not LINK is accepted with a guest error.
 */
export function addSta(core: FwCore, p: Uint8Array): void {
  const v10 = core.hasApi(API.STA_TYPE);
  if (!core.need(p, v10 ? ADD_STA_V10.SIZE : ADD_STA.SIZE)) return;
  const modify = p[ADD_STA.ADD_MODIFY]! !== 0;
  const staId = p[ADD_STA.STA_ID]!;
  const macId = rd32(p, ADD_STA.MAC_ID_N_COLOR) & 0xff;
  const st = core.sta;
  if (v10) {
    const type = p[ADD_STA_V10.STATION_TYPE]!;
    const mac = st.macs.get(macId);
    const toBss = mac !== undefined && sameAddr(p, ADD_STA.ADDR, mac.bssid, 0);
    if (type > STA_TYPE.AUX_ACTIVITY) {
      core.err('fw.add-sta', `station ${staId}: station_type ${type} is not a type of enum iwl_sta_type`);
      core.reply(statusPayload(ADD_STA_MODIFY_NON_EXIST));
      return;
    }
    // Accepted (what firmware does with such a station is not known), but recorded: the AP is a LINK station.
    if (toBss && type !== STA_TYPE.LINK) {
      core.err('fw.add-sta', `station ${staId} for the BSS of MAC context ${macId} has station_type ${type}, not LINK (${STA_TYPE.LINK})`);
    }
  }
  if (staId >= MAX_STATIONS) {
    core.err('fw.add-sta', `station id ${staId} is beyond the ${MAX_STATIONS}-entry table`);
    core.reply(statusPayload(ADD_STA_STATIONS_OVERLOAD));
    return;
  }
  if ((modify && !st.stas.has(staId)) || !st.macs.has(macId)) {
    core.err('fw.add-sta', modify && !st.stas.has(staId) ? `modify of unknown station ${staId}` : `station ${staId}: MAC context ${macId} does not exist`);
    core.reply(statusPayload(ADD_STA_MODIFY_NON_EXIST));
    return;
  }
  st.stas.set(staId, {
    macId, addr: p.slice(ADD_STA.ADDR, ADD_STA.ADDR + 6), flags: rd32(p, ADD_STA.STATION_FLAGS), queues: rd32(p, ADD_STA.TFD_QUEUE_MSK),
  });
  core.milestone('fw.add-sta', staId, macId);
  core.reply(statusPayload(ADD_STA_SUCCESS));
}

export function removeSta(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, REMOVE_STA_SIZE)) return;
  const staId = p[0]!;
  if (!core.sta.stas.delete(staId)) {
    core.badParam('fw.remove-sta', `station ${staId} does not exist`);
    return;
  }
  core.milestone('fw.remove-sta', staId, 0);
  core.replyStatus(STATUS_OK);
}

/** Channel of the PHY context the MAC is bound to, or null. */
function boundChannel(st: StationState, macId: number): number | null {
  const b = bindingOf(st, macId);
  return b === null ? null : st.phys.get(b.phy)?.channel ?? null;
}

function bindingOf(st: StationState, macId: number): Binding | null {
  for (const b of st.bindings.values()) if (b.macs.includes(macId)) return b;
  return null;
}

export function txCmd(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, TX_CMD.SIZE)) return;
  const len = rd16(p, TX_CMD.LEN);
  if (len < WLAN.ADDR1 + 6 || TX_CMD.SIZE + len > p.length) {
    core.badParam('fw.tx-len', `TX_CMD.len ${len}: the command holds ${p.length - TX_CMD.SIZE} frame bytes and a frame needs at least ${WLAN.ADDR1 + 6}`);
    return;
  }
  const frame = p.slice(TX_CMD.SIZE, TX_CMD.SIZE + len);
  const rateNFlags = rd32(p, TX_CMD.RATE_N_FLAGS);
  const staId = p[TX_CMD.STA_ID]!;
  const tid = p[TX_CMD.TID_TSPEC]! & 0xf;
  const st = core.sta;
  const sta = st.stas.get(staId);
  const binding = sta === undefined ? null : bindingOf(st, sta.macId);
  const phy = binding === null ? undefined : st.phys.get(binding.phy);
  const resp = (status: number): Uint8Array => txRespPayload({
    status, retries: 0, initialRate: rateNFlags, mediaTimeUs: 0, seqCtl: rd16(frame, WLAN.SEQ_CTL), byteCnt: len,
    frameCtrl: rd16(frame, WLAN.FC), staId, tid, cmdSeq: core.cur.seq,
  });
  if (phy === undefined) {
    core.err('fw.tx-no-binding', `TX for station ${staId}: ${sta === undefined ? 'unknown station' : 'its MAC is not bound to a PHY context'}`);
    core.reply(resp(TX_STATUS.FAIL_STA_INVALID));
    return;
  }
  if (core.rfKilled) {
    core.reply(resp(TX_STATUS.FAIL_LONG_LIMIT));
    return;
  }
  const retryLimit = p[TX_CMD.DATA_RETRY_LIMIT]! || LONG_RETRY_LIMIT;
  core.later(core.delay(TX_START, HostileFwTiming.TX_START), {
    k: 'tx', tx: { channel: phy.channel, frame, seq: core.cur.seq, rateNFlags, staId, tid, retryLimit, extra: core.cur.extra },
  });
}

/** The 'tx' action: the frame goes on the air. */
export function txSend(core: FwCore, tx: PendingTx): void {
  const now = core.now();
  const rate = rate500kOf(tx.rateNFlags, tx.channel);
  core.host.tracer.air(now, core.host.dev, true, tx.channel, 0, rate, tx.frame, 0, tx.frame.length);
  core.counters.txFrames++;
  const group = ((tx.frame[WLAN.ADDR1] ?? 0) & 1) !== 0;
  const res = core.cfg.air?.transmit(tx.channel, now, tx.frame) ?? { acked: false, replies: [] };
  const air = airtimeUs(tx.frame.length, rate);
  const ok = res.acked || group;
  const retries = ok ? 0 : tx.retryLimit;
  const ackUs = ACK_TIME / 1_000_000;
  const media = ok ? air + (group ? 0 : ackUs) : (retries + 1) * (air + ackUs);
  const done = us(media) + core.delay(0, HostileFwTiming.TX_DONE);
  core.later(done + tx.extra, {
    k: 'post', cmd: CMD.TX, group: GROUP.LEGACY, seq: tx.seq, notif: false,
    payload: txRespPayload({
      status: ok ? TX_STATUS.SUCCESS : TX_STATUS.FAIL_LONG_LIMIT, retries, initialRate: tx.rateNFlags, mediaTimeUs: media,
      seqCtl: rd16(tx.frame, WLAN.SEQ_CTL), byteCnt: tx.frame.length, frameCtrl: rd16(tx.frame, WLAN.FC), staId: tx.staId, tid: tx.tid,
      cmdSeq: tx.seq,
    }),
  });
  // A reply cannot arrive before the exchange it answers ended on the air (the TX response goes first).
  for (const r of res.replies) core.later(Math.max(done, r.timePs - now), { k: 'rx', frame: r });
}

/** The 'rx' action: a frame from an AP arrives. */
export function deliverRx(core: FwCore, f: AirFrame): void {
  const st = core.sta;
  let tuned = false;
  for (const p of st.phys.values()) if (p.channel === f.channel) tuned = true;
  const group = ((f.data[WLAN.ADDR1] ?? 0) & 1) !== 0;
  let ours = sameAddr(f.data, WLAN.ADDR1, core.cfg.mac);
  for (const m of st.macs.values()) if (sameAddr(f.data, WLAN.ADDR1, m.node)) ours = true;
  if (!tuned || !(group || ours) || f.data.length < WLAN.ADDR1 + 6) {
    core.counters.rxFiltered++;
    return;
  }
  postFrame(core, f);
}

export function stationHash(st: StationState, h: number): number {
  const ids = (m: Map<number, unknown>) => [...m.keys()].sort((a, b) => a - b);
  for (const id of ids(st.phys)) { const c = st.phys.get(id)!; h = fnvArray(h, [id, c.color, c.channel, c.band]); }
  for (const id of ids(st.macs)) {
    const c = st.macs.get(id)!;
    h = fnvArray(fnvArray(fnvArray(h, [id, c.color, c.type, c.assoc ? 1 : 0, c.assocId]), c.node), c.bssid);
  }
  for (const id of ids(st.bindings)) { const b = st.bindings.get(id)!; h = fnvArray(fnvArray(h, [id, b.color, b.phy]), b.macs); }
  for (const id of ids(st.stas)) { const s = st.stas.get(id)!; h = fnvArray(fnvNumber(h, id), [s.macId, s.flags, s.queues, ...s.addr]); }
  return h;
}
