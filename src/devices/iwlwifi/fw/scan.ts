/**
 * UMAC scan: SCAN_CFG, SCAN_REQ_UMAC, SCAN_ABORT_UMAC (fw-api.ts layouts,
 * Linux's v1 structures).
 *
 * SCAN_CFG stores the MAC address and channel list (status OK). SCAN_REQ_UMAC
 * without a prior SCAN_CFG, with a scan already running, naming a channel
 * the NVM marks invalid, or with a probe template whose mac_header segment
 * is not an 802.11 header plus an empty SSID element inside the 512-byte
 * buffer is refused with STATUS_BAD_PARAM (+ guestErr). Otherwise: status
 * response, then per channel (CHANNEL_SWITCH apart): active unless
 * general_flags has PASSIVE or the NVM forbids active scanning there (dwell
 * = active_dwell or 30 TU), else passive (passive_dwell or 110 TU). An
 * active dwell starts with the wildcard probe request built from the
 * template, then one directed probe per direct_scan SSID whose bit is set in
 * the channel entry's flags (traced on the air); every frame the Air reports
 * during the dwell is posted as RX_PHY + RX_MPDU at its time (traced).
 * Beacons come from the first listen only; further probes contribute probe
 * responses only. After the last channel: SCAN_ITERATION_COMPLETE_UMAC (when
 * general_flags has ITER_COMPLETE), then SCAN_COMPLETE_UMAC {uid, status
 * DONE}.
 *
 * The request layout is the one the running image announces: v1 (channels
 * at 36), or v7 (channels at 48, adaptive dwell fields) when the image has
 * the ADAPTIVE_DWELL API flag; a request shorter than that layout is
 * refused (fw.cmd-short). With general flag ADAPTIVE_DWELL an active dwell
 * ends early once adwell_default_n_aps distinct transmitters were heard
 * (adwell_default_n_aps_social on channels 1, 6 and 11); the extra budget
 * (adwell_max_budget) is read but not modelled.
 *
 * SCAN_ABORT_UMAC for the running uid: status OK, then SCAN_COMPLETE_UMAC
 * {status ABORTED}. With no scan running (or another uid): status
 * STATUS_UNSUPPORTED and no notification. RF-kill: a running scan is aborted
 * (SCAN_COMPLETE ABORTED); a request under RF-kill gets status OK and
 * SCAN_COMPLETE ABORTED right after.
 */
import { us } from '../../../sim/time.js';
import {
  CMD, NVM_CHANNEL_ACTIVE, NVM_CHANNEL_VALID, SCAN_ABORT, SCAN_CFG, SCAN_GEN_FLAGS, SCAN_REQ, SCAN_REQ_TAIL, SCAN_REQ_V7, SCAN_STATUS_ABORTED,
  SCAN_STATUS_DONE, STATUS_OK, STATUS_UNSUPPORTED, GROUP, SEQ_UNSOLICITED,
} from '../fw-api.js';
import { API } from '../firmware/tlv.js';
import type { AirFrame } from '../rf/types.js';
import type { FwCore } from './cpu.js';
import { nvmChannelFlags } from './nvm.js';
import {
  FC_BEACON, WLAN, basicRate500k, fcKind, isBand24, rd16, rd32, wr16, rxMpduPayload, rxPhyPayload, scanCompletePayload, scanIterPayload,
} from './packets.js';

export const TU = us(1024);
export const DEFAULT_ACTIVE_DWELL_TU = 30;
export const DEFAULT_PASSIVE_DWELL_TU = 110;
/** Time to tune to the next channel. */
export const CHANNEL_SWITCH = us(100);
/** The social channels, where adaptive dwell expects adwell_default_n_aps_social APs. */
const SOCIAL_CHANNELS: readonly number[] = [1, 6, 11];

/** Where the version-dependent fields of SCAN_REQ_UMAC are (v1 or v7). */
interface ScanReqLayout { version: number; nChannels: number; channels: number; activeDwell: number; passiveDwell: number }
const SCAN_REQ_LAYOUT_V1: ScanReqLayout = {
  version: 1, nChannels: SCAN_REQ.N_CHANNELS, channels: SCAN_REQ.CHANNELS, activeDwell: SCAN_REQ.ACTIVE_DWELL, passiveDwell: SCAN_REQ.PASSIVE_DWELL,
};
const SCAN_REQ_LAYOUT_V7: ScanReqLayout = {
  version: 7, nChannels: SCAN_REQ_V7.N_CHANNELS, channels: SCAN_REQ_V7.CHANNELS, activeDwell: SCAN_REQ_V7.ACTIVE_DWELL,
  passiveDwell: SCAN_REQ_V7.PASSIVE_DWELL,
};

export interface ScanConfig {
  flags: number;
  mac: Uint8Array;
  channels: number[];
}

/** The probe request template of a scan request (struct iwl_scan_probe_req_v1 segments, copied out). */
export interface ProbeTemplate {
  /** 802.11 header (24 bytes) without the trailing empty SSID element. */
  header: Uint8Array;
  /** Band segments: 0 = 2.4 GHz, 1 = 5 GHz. */
  band: [Uint8Array, Uint8Array];
  common: Uint8Array;
}

export interface ScanState {
  uid: number;
  channels: number[];
  /** Per channel: bitmap of the direct_scan SSIDs to probe for. */
  ssidMasks: number[];
  /** direct_scan entries (index = bit in ssidMasks). */
  direct: Uint8Array[];
  template: ProbeTemplate;
  activeDwellTu: number;
  passiveDwellTu: number;
  passive: boolean;
  iterNotif: boolean;
  /** Adaptive dwell (v7 general flag): APs after which an active dwell ends, normal and social channels; 0 = off. */
  adwellAps: number;
  adwellApsSocial: number;
  /** Index of the current channel (channels.length = done). */
  idx: number;
  /** Frames heard on the current channel and the next one to deliver. */
  frames: AirFrame[];
  fi: number;
  /** 'tune' = next step starts channel idx; 'dwell' = delivering frames until dwellEnd. */
  phase: 'tune' | 'dwell';
  dwellEnd: number;
  startPs: number;
  /** Frames delivered in this scan. */
  received: number;
  /** Pending action id (-1 = none). */
  action: number;
}

export function scanCfg(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, SCAN_CFG.HDR)) return;
  const channels = Array.from(p.subarray(SCAN_CFG.CHANNELS)).filter((c) => c !== 0);
  core.scanCfg = {
    flags: rd32(p, SCAN_CFG.FLAGS),
    mac: p.slice(SCAN_CFG.MAC, SCAN_CFG.MAC + 6),
    channels,
  };
  core.milestone('fw.scan-cfg', channels.length, 0);
  core.replyStatus(STATUS_OK);
}

/** A { le16 offset, le16 len } segment of the probe buffer, or null when it leaves the 512-byte buffer. */
function segment(p: Uint8Array, tail: number, at: number): Uint8Array | null {
  const off = rd16(p, tail + at);
  const len = rd16(p, tail + at + 2);
  if (off + len > SCAN_REQ_TAIL.PREQ_BUF_SIZE) return null;
  const buf = tail + SCAN_REQ_TAIL.PREQ_BUF;
  return p.slice(buf + off, buf + off + len);
}

export function scanReq(core: FwCore, p: Uint8Array): void {
  const L = core.hasApi(API.ADAPTIVE_DWELL) ? SCAN_REQ_LAYOUT_V7 : SCAN_REQ_LAYOUT_V1;
  if (!core.need(p, L.channels)) return;
  const nCh = p[L.nChannels]!;
  const tail = L.channels + nCh * SCAN_REQ.CHANNEL_ENTRY;
  if (!core.need(p, tail + SCAN_REQ_TAIL.SIZE)) return;
  if (core.scanCfg === null) {
    core.badParam('fw.scan-no-cfg', 'scan requested before SCAN_CFG');
    return;
  }
  const channels: number[] = [];
  const ssidMasks: number[] = [];
  for (let i = 0; i < nCh; i++) {
    const e = L.channels + i * SCAN_REQ.CHANNEL_ENTRY;
    channels.push(p[e + SCAN_REQ.CH_NUM]!);
    ssidMasks.push(rd32(p, e + SCAN_REQ.CH_FLAGS));
  }
  const bad = channels.find((c) => (nvmChannelFlags(core.nvm, c) & NVM_CHANNEL_VALID) === 0);
  if (bad !== undefined) {
    core.badParam('fw.scan-channel', `channel ${bad} is not valid in the NVM`);
    return;
  }
  if (core.scan !== null) {
    core.badParam('fw.scan-busy', `scan uid ${core.scan.uid} is still running`);
    return;
  }
  const mh = segment(p, tail, SCAN_REQ_TAIL.PREQ_MAC_HEADER);
  const b24 = segment(p, tail, SCAN_REQ_TAIL.PREQ_BAND_DATA);
  const b5 = segment(p, tail, SCAN_REQ_TAIL.PREQ_BAND_DATA + 4);
  const common = segment(p, tail, SCAN_REQ_TAIL.PREQ_COMMON_DATA);
  if (mh === null || b24 === null || b5 === null || common === null || mh.length < WLAN.HDR + 2 || mh[mh.length - 2] !== 0
    || mh[mh.length - 1] !== 0) {
    core.badParam('fw.scan-template', 'the probe request template needs a mac_header segment of an 802.11 header and an empty SSID element, all segments inside the 512-byte buffer');
    return;
  }
  const direct: Uint8Array[] = [];
  for (let i = 0; i < SCAN_REQ_TAIL.PROBE_OPTION_MAX; i++) {
    const at = tail + SCAN_REQ_TAIL.DIRECT_SCAN + i * SCAN_REQ_TAIL.SSID_ENTRY;
    const len = Math.min(32, p[at + 1]!);
    direct.push(p.slice(at + 2, at + 2 + len));
  }
  const gen = rd16(p, SCAN_REQ.GENERAL_FLAGS);
  const uid = rd32(p, SCAN_REQ.UID);
  core.scan = {
    uid, channels, ssidMasks, direct,
    template: { header: mh.slice(0, mh.length - 2), band: [b24, b5], common },
    activeDwellTu: p[L.activeDwell]! || DEFAULT_ACTIVE_DWELL_TU,
    passiveDwellTu: p[L.passiveDwell]! || DEFAULT_PASSIVE_DWELL_TU,
    passive: (gen & SCAN_GEN_FLAGS.PASSIVE) !== 0,
    iterNotif: (gen & SCAN_GEN_FLAGS.ITER_COMPLETE) !== 0,
    adwellAps: L.version >= 7 && (gen & SCAN_GEN_FLAGS.ADAPTIVE_DWELL) !== 0 ? p[SCAN_REQ_V7.ADWELL_DEFAULT_N_APS]! : 0,
    adwellApsSocial: L.version >= 7 && (gen & SCAN_GEN_FLAGS.ADAPTIVE_DWELL) !== 0 ? p[SCAN_REQ_V7.ADWELL_DEFAULT_N_APS_SOCIAL]! : 0,
    idx: 0, frames: [], fi: 0, phase: 'tune', dwellEnd: 0, startPs: core.now() + core.cur.respDelay, received: 0, action: -1,
  };
  core.counters.scans++;
  core.milestone('fw.scan-start', uid, nCh);
  core.replyStatus(STATUS_OK);
  if (core.rfKilled) {
    abortScan(core, core.cur.respDelay + us(1));
    return;
  }
  core.scan.action = core.later(core.cur.respDelay + CHANNEL_SWITCH, { k: 'scan' });
}

export function scanAbortCmd(core: FwCore, p: Uint8Array): void {
  if (!core.need(p, SCAN_ABORT.SIZE)) return;
  const uid = rd32(p, SCAN_ABORT.UID);
  if (core.scan === null || core.scan.uid !== uid) {
    core.replyStatus(STATUS_UNSUPPORTED);
    return;
  }
  core.replyStatus(STATUS_OK);
  abortScan(core, core.cur.respDelay + us(5));
}

/** A probe request from the template: header, SSID element, the channel's band segment, common data; sequence number set. */
export function templateProbe(t: ProbeTemplate, ssid: Uint8Array, channel: number, seqNo: number): Uint8Array {
  const band = t.band[isBand24(channel) ? 0 : 1];
  const f = new Uint8Array(t.header.length + 2 + ssid.length + band.length + t.common.length);
  f.set(t.header, 0);
  let o = t.header.length;
  f[o++] = 0;
  f[o++] = ssid.length;
  f.set(ssid, o); o += ssid.length;
  f.set(band, o); o += band.length;
  f.set(t.common, o);
  wr16(f, WLAN.SEQ_CTL, (seqNo & 0xfff) << 4);
  return f;
}

/** Ends the running scan: SCAN_COMPLETE ABORTED `delay` from now. */
export function abortScan(core: FwCore, delay: number): void {
  const s = core.scan;
  if (s === null) return;
  if (s.action >= 0) core.cancelAction(s.action);
  core.scan = null;
  core.notify(delay, CMD.SCAN_COMPLETE_UMAC, scanCompletePayload(s.uid, SCAN_STATUS_ABORTED, 0, 0),
    { name: 'fw.scan-abort', a: s.uid, b: s.received });
}

/** One step of the running scan (the pending 'scan' action fired). */
export function scanStep(core: FwCore): void {
  const s = core.scan;
  if (s === null) return;
  s.action = -1;
  const now = core.now();
  if (s.phase === 'tune') {
    if (s.idx >= s.channels.length) {
      finish(core, s);
      return;
    }
    startChannel(core, s, now);
  } else {
    // Deliver every frame due by now.
    while (s.fi < s.frames.length && s.frames[s.fi]!.timePs <= now) deliverScanFrame(core, s, s.frames[s.fi++]!);
    if (now >= s.dwellEnd && s.fi >= s.frames.length) {
      s.idx++;
      s.phase = 'tune';
      s.action = core.later(CHANNEL_SWITCH, { k: 'scan' });
      return;
    }
  }
  const next = s.fi < s.frames.length ? Math.min(s.frames[s.fi]!.timePs, s.dwellEnd) : s.dwellEnd;
  s.action = core.later(Math.max(0, next - now), { k: 'scan' });
}

function startChannel(core: FwCore, s: ScanState, now: number): void {
  const channel = s.channels[s.idx]!;
  const active = !s.passive && (nvmChannelFlags(core.nvm, channel) & NVM_CHANNEL_ACTIVE) !== 0;
  const dwell = (active ? s.activeDwellTu : s.passiveDwellTu) * TU;
  s.dwellEnd = now + dwell;
  s.phase = 'dwell';
  s.fi = 0;
  const air = core.cfg.air;
  const heard: AirFrame[] = [];
  if (active) {
    const mask = s.ssidMasks[s.idx] ?? 0;
    const ssids = [new Uint8Array(0), ...s.direct.filter((_d, i) => (mask & (1 << i)) !== 0)];
    ssids.forEach((ssid, k) => {
      const probe = templateProbe(s.template, ssid, channel, core.seqNo++);
      core.host.tracer.air(now, core.host.dev, true, channel, 0, basicRate500k(channel), probe, 0, probe.length);
      core.counters.txFrames++;
      if (air === null) return;
      for (const f of air.listen(channel, now, s.dwellEnd, probe)) if (k === 0 || fcKind(f.data) !== FC_BEACON) heard.push(f);
    });
  } else if (air !== null) {
    heard.push(...air.listen(channel, now, s.dwellEnd, null));
  }
  // Stable sort by time; keep what falls inside the dwell.
  s.frames = heard.map((f, i) => ({ f, i })).filter(({ f }) => f.timePs >= now && f.timePs < s.dwellEnd)
    .sort((a, b) => a.f.timePs - b.f.timePs || a.i - b.i).map(({ f }) => f);
  const aps = SOCIAL_CHANNELS.includes(channel) ? s.adwellApsSocial : s.adwellAps;
  if (active && aps > 0) adaptiveDwellCut(s, aps);
  core.milestone('fw.scan-channel', channel, active ? 1 : 0);
}

/**
 * Adaptive dwell: the active dwell ends right after the frame from the
 * `aps`-th distinct transmitter (802.11 addr2); later frames are not heard.
 */
function adaptiveDwellCut(s: ScanState, aps: number): void {
  const seen: string[] = [];
  for (let i = 0; i < s.frames.length; i++) {
    const d = s.frames[i]!.data;
    if (d.length < WLAN.ADDR2 + 6) continue;
    const ta = Array.from(d.subarray(WLAN.ADDR2, WLAN.ADDR2 + 6)).join(':');
    if (!seen.includes(ta)) seen.push(ta);
    if (seen.length >= aps) {
      s.dwellEnd = Math.min(s.dwellEnd, s.frames[i]!.timePs + 1);
      s.frames.length = i + 1;
      return;
    }
  }
}

function deliverScanFrame(core: FwCore, s: ScanState, f: AirFrame): void {
  postFrame(core, f);
  s.received++;
}

/** RX_PHY + RX_MPDU for a received frame, traced on the air at now. */
export function postFrame(core: FwCore, f: AirFrame): void {
  const now = core.now();
  const phy = rxPhyPayload({ channel: f.channel, signalDbm: f.signalDbm, timePs: now, rate500k: f.rate500k, byteCount: f.data.length });
  core.host.tracer.air(now, core.host.dev, false, f.channel, f.signalDbm, f.rate500k, f.data, 0, f.data.length);
  core.postNow(CMD.RX_PHY, GROUP.LEGACY, SEQ_UNSOLICITED, phy, true);
  core.postNow(CMD.RX_MPDU, GROUP.LEGACY, SEQ_UNSOLICITED, rxMpduPayload(f.data), true);
  core.counters.rxFrames++;
}

function finish(core: FwCore, s: ScanState): void {
  core.scan = null;
  const now = core.now();
  const last = s.channels[s.channels.length - 1] ?? 0;
  if (s.iterNotif) {
    core.notify(0, CMD.SCAN_ITERATION_COMPLETE_UMAC, scanIterPayload(s.uid, s.channels.length, 0, last, Math.floor(s.startPs / 1_000_000)));
  }
  core.notify(0, CMD.SCAN_COMPLETE_UMAC, scanCompletePayload(s.uid, SCAN_STATUS_DONE, 1, Math.floor((now - s.startPs) / 1_000_000)),
    { name: 'fw.scan-done', a: s.uid, b: s.received });
}
