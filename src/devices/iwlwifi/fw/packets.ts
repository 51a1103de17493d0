/**
 * Byte-level encoders for what the simulated firmware sends (responses and
 * notifications, fw-api.ts layouts) and for the 802.11 frames it builds
 * itself (probe requests). Plain functions over Uint8Array; nothing throws
 * on short input (readers return 0 past the end).
 */
import {
  ALIVE_V3, NVM_ACCESS_RESP, PHY_DB, RATE_MCS_CCK, RATE_PLCP_1M, RATE_PLCP_6M, REPLY_ERROR, RX_MPDU,
  RX_MPDU_STATUS_CRC_OK, RX_MPDU_STATUS_OVERRUN_OK, RX_PHY, RX_PHY_FLAGS_BAND_24, SCAN_COMPLETE, SCAN_ITER_COMPLETE_SIZE,
  SHARED_MEM_CFG, TIME_EVENT_NOTIF, TIME_EVENT_RESP, TX_RESP,
} from '../fw-api.js';

// ---- little-endian access (0 past the end, writes past the end dropped) ----------------
export function rd8(b: Uint8Array, off: number): number {
  return b[off] ?? 0;
}
export function rd16(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}
export function rd32(b: Uint8Array, off: number): number {
  return ((b[off] ?? 0) | ((b[off + 1] ?? 0) << 8) | ((b[off + 2] ?? 0) << 16) | ((b[off + 3] ?? 0) << 24)) >>> 0;
}
export function wr16(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff; b[off + 1] = (v >>> 8) & 0xff;
}
export function wr32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff; b[off + 1] = (v >>> 8) & 0xff; b[off + 2] = (v >>> 16) & 0xff; b[off + 3] = (v >>> 24) & 0xff;
}
/** A 64-bit little-endian unsigned value (exact below 2^53). */
export function wr64(b: Uint8Array, off: number, v: number): void {
  wr32(b, off, v >>> 0);
  wr32(b, off + 4, Math.floor(v / 4294967296) >>> 0);
}

// ---- responses and notifications --------------------------------------------------------

/** Generic command response: le32 status. */
export function statusPayload(status: number): Uint8Array {
  const p = new Uint8Array(4);
  wr32(p, 0, status);
  return p;
}

/** Plausible SRAM addresses of the firmware's tables, reported in ALIVE (simrun's choice, inside backed SRAM). */
export const ALIVE_PTRS = {
  ERROR_EVENT_TABLE: 0x00800a00,
  LOG_EVENT_TABLE: 0x00800c00,
  CPU_REGISTER: 0x00800e00,
  DBGM_CONFIG: 0x00801000,
  ALIVE_COUNTER: 0x00801100,
  ST_FWRD_ADDR: 0x00456800,
  ST_FWRD_SIZE: 0x800,
  UMAC_ERROR_INFO: 0x00801200,
  UMAC_DBG_PRINT_BUFF: 0x00801400,
} as const;

export interface AliveFields {
  status: number;
  lmacMajor: number;
  lmacMinor: number;
  /** Image kind code (1 INIT, 2 runtime, 3 WoWLAN) in ver_type. */
  verType: number;
  verSubtype: number;
  timestampUs: number;
  scdBase: number;
  umacMajor: number;
  umacMinor: number;
}

/** ALIVE v3, exactly ALIVE_V3.SIZE (68) bytes. */
export function alivePayload(f: AliveFields): Uint8Array {
  const p = new Uint8Array(ALIVE_V3.SIZE);
  wr16(p, ALIVE_V3.STATUS, f.status);
  wr16(p, ALIVE_V3.FLAGS, 0);
  wr32(p, ALIVE_V3.LMAC_MAJOR, f.lmacMajor);
  wr32(p, ALIVE_V3.LMAC_MINOR, f.lmacMinor);
  p[ALIVE_V3.VER_SUBTYPE] = f.verSubtype & 0xff;
  p[ALIVE_V3.VER_TYPE] = f.verType & 0xff;
  p[ALIVE_V3.MAC] = 1;
  p[ALIVE_V3.OPT] = 0;
  wr32(p, ALIVE_V3.TIMESTAMP, f.timestampUs >>> 0);
  wr32(p, ALIVE_V3.ERROR_EVENT_TABLE_PTR, ALIVE_PTRS.ERROR_EVENT_TABLE);
  wr32(p, ALIVE_V3.LOG_EVENT_TABLE_PTR, ALIVE_PTRS.LOG_EVENT_TABLE);
  wr32(p, ALIVE_V3.CPU_REGISTER_PTR, ALIVE_PTRS.CPU_REGISTER);
  wr32(p, ALIVE_V3.DBGM_CONFIG_PTR, ALIVE_PTRS.DBGM_CONFIG);
  wr32(p, ALIVE_V3.ALIVE_COUNTER_PTR, ALIVE_PTRS.ALIVE_COUNTER);
  wr32(p, ALIVE_V3.SCD_BASE_PTR, f.scdBase);
  wr32(p, ALIVE_V3.ST_FWRD_ADDR, ALIVE_PTRS.ST_FWRD_ADDR);
  wr32(p, ALIVE_V3.ST_FWRD_SIZE, ALIVE_PTRS.ST_FWRD_SIZE);
  wr32(p, ALIVE_V3.UMAC_MAJOR, f.umacMajor);
  wr32(p, ALIVE_V3.UMAC_MINOR, f.umacMinor);
  wr32(p, ALIVE_V3.UMAC_ERROR_INFO_ADDR, ALIVE_PTRS.UMAC_ERROR_INFO);
  wr32(p, ALIVE_V3.UMAC_DBG_PRINT_BUFF_ADDR, ALIVE_PTRS.UMAC_DBG_PRINT_BUFF);
  return p;
}

/** REPLY_ERROR (struct iwl_error_resp): error_type, the command's id and sequence, error_service, timestamp (us). */
export function replyErrorPayload(type: number, cmd: number, seq: number, service: number, timestampUs: number): Uint8Array {
  const p = new Uint8Array(REPLY_ERROR.SIZE);
  wr32(p, REPLY_ERROR.ERROR_TYPE, type);
  p[REPLY_ERROR.CMD_ID] = cmd & 0xff;
  wr16(p, REPLY_ERROR.BAD_CMD_SEQ, seq);
  wr32(p, REPLY_ERROR.ERROR_SERVICE, service);
  wr64(p, REPLY_ERROR.TIMESTAMP, timestampUs);
  return p;
}

/** SHARED_MEM_CFG response (iwl_shared_mem_cfg_v1) of a 7265D: TX FIFO sizes per FIFO, two RX FIFOs; no shared memory or sample buffer addresses. */
export function sharedMemCfgPayload(): Uint8Array {
  const p = new Uint8Array(SHARED_MEM_CFG.SIZE);
  wr32(p, SHARED_MEM_CFG.TXFIFO_ADDR, 0x00a00000);
  const tx = [0x4000, 0x8000, 0x4000, 0x4000, 0x1000, 0x1000, 0x1000, 0x800];
  tx.forEach((v, i) => wr32(p, SHARED_MEM_CFG.TXFIFO_SIZE + 4 * i, v));
  wr32(p, SHARED_MEM_CFG.RXFIFO_SIZE, 0x8000);
  wr32(p, SHARED_MEM_CFG.RXFIFO_SIZE + 4, 0x2000);
  wr32(p, SHARED_MEM_CFG.PAGE_BUFF_ADDR, 0x00a40000);
  wr32(p, SHARED_MEM_CFG.PAGE_BUFF_SIZE, 0x8000);
  return p;
}

export function timeEventRespPayload(status: number, id: number, uniqueId: number, idColor: number): Uint8Array {
  const p = new Uint8Array(TIME_EVENT_RESP.SIZE);
  wr32(p, TIME_EVENT_RESP.STATUS, status);
  wr32(p, TIME_EVENT_RESP.ID, id);
  wr32(p, TIME_EVENT_RESP.UNIQUE_ID, uniqueId);
  wr32(p, TIME_EVENT_RESP.ID_AND_COLOR, idColor);
  return p;
}

export function timeEventNotifPayload(timestampUs: number, uniqueId: number, idColor: number, action: number, status: number): Uint8Array {
  const p = new Uint8Array(TIME_EVENT_NOTIF.SIZE);
  wr32(p, TIME_EVENT_NOTIF.TIMESTAMP, timestampUs >>> 0);
  wr32(p, TIME_EVENT_NOTIF.SESSION_ID, 0);
  wr32(p, TIME_EVENT_NOTIF.UNIQUE_ID, uniqueId);
  wr32(p, TIME_EVENT_NOTIF.ID_AND_COLOR, idColor);
  wr32(p, TIME_EVENT_NOTIF.ACTION, action);
  wr32(p, TIME_EVENT_NOTIF.STATUS, status);
  return p;
}

/** NVM_ACCESS response: header + data. */
export function nvmRespPayload(offset: number, type: number, status: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(NVM_ACCESS_RESP.HDR + data.length);
  wr16(p, NVM_ACCESS_RESP.OFFSET, offset);
  wr16(p, NVM_ACCESS_RESP.LENGTH, data.length);
  wr16(p, NVM_ACCESS_RESP.TYPE, type);
  wr16(p, NVM_ACCESS_RESP.STATUS, status);
  p.set(data, NVM_ACCESS_RESP.DATA);
  return p;
}

/** CALIB_RES_NOTIF_PHY_DB / PHY_DB: le16 type, le16 length, data. */
export function phyDbPayload(type: number, data: Uint8Array): Uint8Array {
  const p = new Uint8Array(PHY_DB.HDR + data.length);
  wr16(p, PHY_DB.TYPE, type);
  wr16(p, PHY_DB.LENGTH, data.length);
  p.set(data, PHY_DB.DATA);
  return p;
}

export function scanCompletePayload(uid: number, status: number, lastIter: number, timeUs: number): Uint8Array {
  const p = new Uint8Array(SCAN_COMPLETE.SIZE);
  wr32(p, SCAN_COMPLETE.UID, uid);
  p[SCAN_COMPLETE.LAST_SCHEDULE] = 0;
  p[SCAN_COMPLETE.LAST_ITER] = lastIter & 0xff;
  p[SCAN_COMPLETE.STATUS] = status;
  p[SCAN_COMPLETE.EBS_STATUS] = 0;
  wr32(p, SCAN_COMPLETE.TIME, timeUs >>> 0);
  return p;
}

/** SCAN_ITERATION_COMPLETE_UMAC: le32 uid, u8 scanned_channels, u8 status, u8 bt_status, u8 last_channel, le64 start_tsf. */
export function scanIterPayload(uid: number, scanned: number, status: number, lastChannel: number, startTsfUs: number): Uint8Array {
  const p = new Uint8Array(SCAN_ITER_COMPLETE_SIZE);
  wr32(p, 0, uid);
  p[4] = scanned & 0xff;
  p[5] = status & 0xff;
  p[6] = 0;
  p[7] = lastChannel & 0xff;
  wr64(p, 8, startTsfUs);
  return p;
}

// ---- rates --------------------------------------------------------------------------------

/** Legacy rates: 500 kb/s units <-> rate_n_flags (PLCP value, CCK flag). */
const RATES: readonly { r500k: number; plcp: number; cck: boolean }[] = [
  { r500k: 2, plcp: RATE_PLCP_1M, cck: true }, { r500k: 4, plcp: 20, cck: true }, { r500k: 11, plcp: 55, cck: true },
  { r500k: 22, plcp: 110, cck: true }, { r500k: 12, plcp: RATE_PLCP_6M, cck: false }, { r500k: 18, plcp: 15, cck: false },
  { r500k: 24, plcp: 5, cck: false }, { r500k: 36, plcp: 7, cck: false }, { r500k: 48, plcp: 9, cck: false },
  { r500k: 72, plcp: 11, cck: false }, { r500k: 96, plcp: 1, cck: false }, { r500k: 108, plcp: 3, cck: false },
];

export const isBand24 = (channel: number): boolean => channel >= 1 && channel <= 14;

/** The basic rate of a band in 500 kb/s units: 1 Mb/s CCK on 2.4 GHz, 6 Mb/s OFDM on 5 GHz. */
export function basicRate500k(channel: number): number {
  return isBand24(channel) ? 2 : 12;
}

/** rate_n_flags of a legacy rate (unknown rates: the band's basic rate). */
export function rateNFlags(rate500k: number, channel: number): number {
  const r = RATES.find((x) => x.r500k === rate500k) ?? RATES.find((x) => x.r500k === basicRate500k(channel))!;
  return r.plcp | (r.cck ? RATE_MCS_CCK : 0);
}

/** 500 kb/s units of a rate_n_flags (unknown: the band's basic rate). */
export function rate500kOf(rateNFlagsValue: number, channel: number): number {
  const plcp = rateNFlagsValue & 0xff;
  const cck = (rateNFlagsValue & RATE_MCS_CCK) !== 0;
  return RATES.find((x) => x.plcp === plcp && x.cck === cck)?.r500k ?? basicRate500k(channel);
}

/** Air time of a frame in microseconds (long preamble for CCK, 20 us for OFDM, +4 bytes FCS). */
export function airtimeUs(len: number, rate500k: number): number {
  const cck = rate500k === 2 || rate500k === 4 || rate500k === 11 || rate500k === 22;
  const bits = (len + 4) * 8;
  return (cck ? 192 : 20) + Math.ceil((bits * 2) / rate500k);
}

// ---- RX ---------------------------------------------------------------------------------------

export interface RxPhyFields {
  channel: number;
  signalDbm: number;
  timePs: number;
  rate500k: number;
  byteCount: number;
}

/** RX_PHY (iwl_rx_phy_info), 68 bytes. Energy as -dBm on chains A and B; rate_n_flags of the band's basic rate. */
export function rxPhyPayload(f: RxPhyFields): Uint8Array {
  const p = new Uint8Array(RX_PHY.SIZE);
  const us = Math.floor(f.timePs / 1_000_000);
  p[RX_PHY.NON_CFG_PHY_CNT] = 8;
  p[1] = 0; // cfg_phy_cnt
  p[2] = 0; // stat_id
  wr32(p, RX_PHY.SYSTEM_TIMESTAMP, us >>> 0);
  wr64(p, RX_PHY.TIMESTAMP, us);
  wr32(p, RX_PHY.BEACON_TIME_STAMP, us >>> 0);
  wr16(p, RX_PHY.PHY_FLAGS, isBand24(f.channel) ? RX_PHY_FLAGS_BAND_24 : 0);
  wr16(p, RX_PHY.CHANNEL, f.channel);
  const energy = Math.min(255, Math.max(0, Math.round(-f.signalDbm)));
  wr32(p, RX_PHY.ENERGY_WORD, energy | (energy << 8));
  wr32(p, RX_PHY.RATE_N_FLAGS, isBand24(f.channel) ? RATE_PLCP_1M | RATE_MCS_CCK : RATE_PLCP_6M);
  wr32(p, RX_PHY.BYTE_COUNT, f.byteCount);
  p[64] = 1; // mac_active_msk
  p[65] = 0; // mac_context_info
  wr16(p, RX_PHY.FRAME_TIME, Math.min(0xffff, airtimeUs(f.byteCount, f.rate500k)));
  return p;
}

/** RX_MPDU: le16 byte_count, le16 assist, frame, le32 status (CRC_OK | OVERRUN_OK). */
export function rxMpduPayload(frame: Uint8Array): Uint8Array {
  const p = new Uint8Array(RX_MPDU.HDR + frame.length + 4);
  wr16(p, RX_MPDU.BYTE_COUNT, frame.length);
  wr16(p, RX_MPDU.ASSIST, 0);
  p.set(frame, RX_MPDU.FRAME);
  wr32(p, RX_MPDU.FRAME + frame.length, RX_MPDU_STATUS_CRC_OK | RX_MPDU_STATUS_OVERRUN_OK);
  return p;
}

// ---- TX response ------------------------------------------------------------------------------

export interface TxRespFields {
  status: number;
  retries: number;
  initialRate: number;
  mediaTimeUs: number;
  /** The frame's sequence control, byte count and frame control. */
  seqCtl: number;
  byteCnt: number;
  frameCtrl: number;
  staId: number;
  tid: number;
  /** The TX command's sequence (queue and TFD index). */
  cmdSeq: number;
}

/** TX response (iwl_mvm_tx_resp_v3, one frame): status at 36, then the SCD SSN (the TFD index after this frame). */
export function txRespPayload(f: TxRespFields): Uint8Array {
  const p = new Uint8Array(TX_RESP.SIZE);
  p[TX_RESP.FRAME_COUNT] = 1;
  p[TX_RESP.FAILURE_RTS] = 0;
  p[TX_RESP.FAILURE_FRAME] = f.retries & 0xff;
  wr32(p, TX_RESP.INITIAL_RATE, f.initialRate);
  wr16(p, TX_RESP.MEDIA_TIME, Math.min(0xffff, f.mediaTimeUs));
  wr16(p, TX_RESP.SEQ_CTL, f.seqCtl);
  wr16(p, TX_RESP.BYTE_CNT, f.byteCnt);
  p[TX_RESP.RA_TID] = ((f.staId & 0xf) << 4) | (f.tid & 0xf);
  wr16(p, TX_RESP.FRAME_CTRL, f.frameCtrl);
  wr16(p, TX_RESP.STATUS, f.status);
  wr16(p, TX_RESP.SEQUENCE, f.cmdSeq);
  wr32(p, TX_RESP.SCD_SSN, ((f.cmdSeq & 0xff) + 1) & 0xff);
  return p;
}

// ---- 802.11 -----------------------------------------------------------------------------------------

export const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
/** Offsets in an 802.11 header. */
export const WLAN = { FC: 0, DURATION: 2, ADDR1: 4, ADDR2: 10, ADDR3: 16, SEQ_CTL: 22, HDR: 24 } as const;
export const FC_PROBE_REQ = 0x0040;
export const FC_PROBE_RESP = 0x0050;
export const FC_BEACON = 0x0080;
/** type+subtype bits of the frame control field. */
export const fcKind = (frame: Uint8Array): number => rd16(frame, WLAN.FC) & 0x00fc;

/** Supported rates IE contents per band (basic rates flagged 0x80). */
const RATES_24 = [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];
const RATES_5 = [0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c];

/** A probe request: SA = mac, DA and BSSID broadcast, SSID IE (empty = wildcard), supported rates IE. */
export function probeRequest(mac: Uint8Array, ssid: Uint8Array, channel: number, seqNo: number): Uint8Array {
  const rates = isBand24(channel) ? RATES_24 : RATES_5;
  const f = new Uint8Array(WLAN.HDR + 2 + ssid.length + 2 + rates.length);
  wr16(f, WLAN.FC, FC_PROBE_REQ);
  f.set(BROADCAST, WLAN.ADDR1);
  f.set(mac.subarray(0, 6), WLAN.ADDR2);
  f.set(BROADCAST, WLAN.ADDR3);
  wr16(f, WLAN.SEQ_CTL, (seqNo & 0xfff) << 4);
  let o = WLAN.HDR;
  f[o++] = 0; f[o++] = ssid.length; f.set(ssid, o); o += ssid.length;
  f[o++] = 1; f[o++] = rates.length; f.set(rates, o);
  return f;
}

export function sameAddr(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
