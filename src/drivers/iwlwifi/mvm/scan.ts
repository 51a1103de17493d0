/**
 * UMAC scan (Linux mvm/scan.c) and the control-operation gate.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EBUSY, EIO, ETIMEDOUT } from '../../../kernel/errno.js';
import {
  CMD, SCAN_ABORT_UMAC, SCAN_CHANNEL_CFG, SCAN_COMPLETE, SCAN_CONFIG, SCAN_CONFIG_FLAG, SCAN_CONFIG_RATES_ALL, SCAN_PRIORITY,
  SCAN_ADWELL, SCAN_PRIORITY_EXT_6, SCAN_REQ_UMAC, SCAN_REQ_UMAC_TAIL, SCAN_REQ_UMAC_V7, SCAN_STATUS_ABORTED, SCAN_STATUS_DONE, STA_ID_AUX, UMAC_SCAN_GEN_FLAGS,
} from '../fw/api.js';
import { ratesFor } from '../mac80211/ieee80211.js';
import { API, CAPA, DEFAULT_N_SCAN_CHANNELS } from '../fw/file.js';
import { ENETDOWN, EOPNOTSUPP, ERFKILL } from './errno.js';
import { MvmFw } from './fw.js';
import { Payload, le32 } from './core.js';
import { assertNever } from './state.js';

export abstract class MvmScan extends MvmFw {
  // ---- scan (mvm/scan.c, UMAC) --------------------------------------------------------------
  protected scanChannels(): number[] {
    const limit = this.image.nScanChannels ?? DEFAULT_N_SCAN_CHANNELS;
    return (this.nvm?.channels ?? []).map((c) => c.channel).slice(0, limit);
  }

  /** UMAC scan is what this driver speaks; firmware without it (capability 2) scans in the LMAC, which is not ported. */
  protected get umacScan(): boolean {
    return this.image.capabilities.has(CAPA.UMAC_SCAN);
  }

  protected *sendScanConfig(): Co<number> {
    if (!this.umacScan) {
      this.warn(`firmware has no UMAC scan (capability ${CAPA.UMAC_SCAN}); scanning is not available (the LMAC scan API is not supported)`);
      return 0;
    }
    // iwl_mvm_config_scan: the channel array is sized by N_SCAN_CHANNELS; unused entries stay 0.
    const ch = this.scanChannels();
    const n = Math.max(this.image.nScanChannels ?? DEFAULT_N_SCAN_CHANNELS, ch.length);
    const F = SCAN_CONFIG_FLAG;
    const flags = F.ACTIVATE | F.ALLOW_CHUB_REQS | F.SET_TX_CHAINS | F.SET_RX_CHAINS | F.SET_AUX_STA_ID | F.SET_ALL_TIMES
      | F.SET_LEGACY_RATES | F.SET_MAC_ADDR | F.SET_CHANNEL_FLAGS | F.SET_ALL_DWELL;
    const p = new Payload(SCAN_CONFIG.SIZE + n)
      .u32(SCAN_CONFIG.FLAGS, flags).u32(SCAN_CONFIG.TX_CHAINS, this.txChains()).u32(SCAN_CONFIG.RX_CHAINS, this.rxChains())
      .u32(SCAN_CONFIG.LEGACY_RATES, SCAN_CONFIG_RATES_ALL).u32(SCAN_CONFIG.OUT_OF_CHANNEL_TIME, 120).u32(SCAN_CONFIG.SUSPEND_TIME, 120)
      .u8(SCAN_CONFIG.DWELL, 10).u8(SCAN_CONFIG.DWELL + 1, 110).u8(SCAN_CONFIG.DWELL + 2, 44).u8(SCAN_CONFIG.DWELL + 3, 90)
      .bytes(SCAN_CONFIG.MAC_ADDR, this.nvm!.mac).u8(SCAN_CONFIG.BCAST_STA_ID, STA_ID_AUX).u8(SCAN_CONFIG.CHANNEL_FLAGS, 0)
      .bytes(SCAN_CONFIG.CHANNEL_ARRAY, Uint8Array.from(ch));
    return yield* this.cmdOk(CMD.SCAN_CFG, p.b);
  }

  /** 0 when a control operation can run: the runtime firmware is up and the RF-kill switch off; else -EIO / -ERFKILL / -ENETDOWN. */
  protected busyOrDown(): number {
    const s = this.mvmState;
    switch (s.kind) {
      case 'dead': return -EIO;
      case 'stopped': return s.fwDead ? -EIO : s.rfkill ? -ERFKILL : -ENETDOWN;
      case 'starting': return s.rfkill ? -ERFKILL : -ENETDOWN;
      case 'rfkill': return this.firmwareDead ? -EIO : -ERFKILL;
      case 'runtime': return s.rfkill ? -ERFKILL : 0;
      default: return assertNever(s);
    }
  }

  /** A scan or a connection attempt is running. */
  protected get controlBusy(): boolean {
    const s = this.mvmState;
    if (s.kind !== 'runtime') return false;
    switch (s.link.kind) {
      case 'idle':
      case 'associated': return false;
      case 'scanning':
      case 'authenticating':
      case 'associating':
      case 'aborting': return true;
      default: return assertNever(s.link);
    }
  }

  /**
   * Runs one UMAC scan (all valid channels, active with the wildcard SSID,
   * plus a directed probe for `ssid` if given) and returns the number of
   * BSSs found, or -EBUSY / -ERFKILL / -EIO / -ETIMEDOUT.
   */
  *scan(ssid?: string): Co<number> {
    return yield* this.control(() => this.scanLocked(ssid));
  }

  protected *scanLocked(ssid: string | undefined): Co<number> {
    const s = this.mvmState;
    if (s.kind !== 'runtime') return this.busyOrDown();
    switch (s.link.kind) {
      case 'idle': this.mvmState = { ...s, link: { kind: 'scanning', conn: null } }; break;
      case 'associated': this.mvmState = { ...s, link: { kind: 'scanning', conn: s.link.conn } }; break;
      case 'scanning':
      case 'authenticating':
      case 'associating':
      case 'aborting': return -EBUSY;
      default: return assertNever(s.link);
    }
    const r = yield* this.doScan(ssid);
    // Back to the link the scan kept, unless the scan was overtaken (RF-kill, firmware error).
    const t = this.mvmState;
    if (t.kind === 'runtime' && t.link.kind === 'scanning') {
      const c = t.link.conn;
      this.mvmState = { ...t, link: c === null ? { kind: 'idle' } : { kind: 'associated', conn: c } };
    }
    return r;
  }

  /**
   * Runs a control operation (scan, connect) under the op mode's mutex;
   * refused while another one runs or the device is down, checked before
   * and again after taking the mutex.
   */
  protected *control(op: () => Co<number>): Co<number> {
    if (this.controlBusy) return -EBUSY;
    const bad = this.busyOrDown();
    if (bad < 0) return bad;
    yield* this.k.mutex_lock(this.mutex);
    try {
      const again = this.busyOrDown();
      if (again < 0) return again;
      return yield* op();
    } finally {
      this.k.mutex_unlock(this.mutex);
    }
  }

  /**
   * The probe request template (iwl_mvm_build_scan_probe): the 802.11
   * header with an empty SSID element (the firmware fills in the SSID), the
   * per-band rates, no common IEs.
   */
  protected probeTemplate(p: Payload, tail: number): void {
    const T = SCAN_REQ_UMAC_TAIL;
    const buf = new Uint8Array(T.BUF_SIZE);
    const bcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    buf.set([0x40, 0x00, 0x00, 0x00, ...bcast, ...this.nvm!.mac, ...bcast, 0x00, 0x00, 0x00, 0x00], 0);
    let o = 26;
    const seg = (at: number, off: number, len: number): void => { p.u16(tail + at, off).u16(tail + at + 2, len); };
    seg(T.MAC_HEADER, 0, 26);
    [1, 36].forEach((channel, band) => {
      const { rates, ext } = ratesFor(channel);
      const start = o;
      buf.set([1, rates.length, ...rates], o); o += 2 + rates.length;
      if (ext.length > 0) { buf.set([50, ext.length, ...ext], o); o += 2 + ext.length; }
      seg(T.BAND_DATA + 4 * band, start, o - start);
    });
    seg(T.COMMON_DATA, o, 0);
    p.bytes(tail + T.BUF, buf);
  }

  protected *doScan(ssid: string | undefined): Co<number> {
    if (!this.umacScan) return -EOPNOTSUPP;
    const uid = ++this.scanUid;
    const ch = this.scanChannels();
    // As cfg80211 and iwl_mvm_scan_umac: the wildcard SSID goes in the template (active scan on channels that
    // allow it); a named SSID becomes direct_scan[0], probed for on every channel (bit 0 of each channel's flags).
    const direct = ssid === undefined || ssid === '' ? [] : [ssid];
    // iwl_mvm_scan_size / iwl_mvm_scan_umac_dwell: the v7 layout with adaptive dwell when the firmware has
    // the ADAPTIVE_DWELL API flag, else v1. (The v6 CDB layout is chosen by device family in Linux, never for
    // the 7000 family.)
    const adwell = this.image.apiFlags.has(API.ADAPTIVE_DWELL);
    const data = adwell ? SCAN_REQ_UMAC_V7.DATA : SCAN_REQ_UMAC.DATA;
    const tail = data + ch.length * SCAN_CHANNEL_CFG.SIZE;
    const G = UMAC_SCAN_GEN_FLAGS;
    const p = new Payload(tail + SCAN_REQ_UMAC_TAIL.SIZE)
      .u32(SCAN_REQ_UMAC.FLAGS, 0).u32(SCAN_REQ_UMAC.UID, uid).u32(SCAN_REQ_UMAC.OOC_PRIORITY, SCAN_PRIORITY.HIGH)
      .u16(SCAN_REQ_UMAC.GENERAL_FLAGS, G.PASS_ALL | G.ITER_COMPLETE | (direct.length > 0 ? G.PRE_CONNECT : 0) | (adwell ? G.ADAPTIVE_DWELL : 0));
    if (adwell) {
      const V7 = SCAN_REQ_UMAC_V7;
      p.u8(V7.ACTIVE_DWELL, 10).u8(V7.PASSIVE_DWELL, 110).u8(V7.FRAGMENTED_DWELL, 44)
        .u8(V7.ADWELL_DEFAULT_N_APS, SCAN_ADWELL.DEFAULT_N_APS).u8(V7.ADWELL_DEFAULT_N_APS_SOCIAL, SCAN_ADWELL.DEFAULT_N_APS_SOCIAL)
        .u16(V7.ADWELL_MAX_BUDGET, direct.length > 0 ? SCAN_ADWELL.MAX_BUDGET_DIRECTED_SCAN : SCAN_ADWELL.MAX_BUDGET_FULL_SCAN)
        .u32(V7.SCAN_PRIORITY, SCAN_PRIORITY_EXT_6).u8(V7.CHANNEL_FLAGS, 0).u8(V7.N_CHANNELS, ch.length);
    } else {
      p.u8(SCAN_REQ_UMAC.ACTIVE_DWELL, 10).u8(SCAN_REQ_UMAC.PASSIVE_DWELL, 110).u8(SCAN_REQ_UMAC.FRAGMENTED_DWELL, 44)
        .u32(SCAN_REQ_UMAC.SCAN_PRIORITY, SCAN_PRIORITY.HIGH)
        .u8(SCAN_REQ_UMAC.CHANNEL_FLAGS, 0).u8(SCAN_REQ_UMAC.N_CHANNELS, ch.length);
    }
    ch.forEach((c, i) => {
      const e = data + i * SCAN_CHANNEL_CFG.SIZE;
      p.u32(e + SCAN_CHANNEL_CFG.FLAGS, (1 << direct.length) - 1).u8(e + SCAN_CHANNEL_CFG.CHANNEL_NUM, c).u8(e + SCAN_CHANNEL_CFG.ITER_COUNT, 1);
    });
    p.u8(tail + SCAN_REQ_UMAC_TAIL.SCHEDULE + 2, 1); // one iteration
    this.probeTemplate(p, tail);
    direct.forEach((s, i) => {
      const b = new TextEncoder().encode(s).subarray(0, 32);
      const o = tail + SCAN_REQ_UMAC_TAIL.DIRECT_SCAN + i * SCAN_REQ_UMAC_TAIL.SSID_IE_SIZE;
      p.u8(o, 0).u8(o + 1, b.length).bytes(o + 2, b);
    });
    this.bss.clear();
    const w = this.notif.add([CMD.SCAN_COMPLETE_UMAC], (pkt) => le32(pkt.payload, SCAN_COMPLETE.UID) === uid);
    this.info(`scan ${uid}: ${ch.length} channels${direct.length > 0 ? `, directed probe for "${direct[0]}"` : ''}`);
    const r = yield* this.cmdOk(CMD.SCAN_REQ_UMAC, p.b);
    if (r < 0) { this.notif.remove(w); return r; }
    const wr = yield* this.notif.wait(w, this.cfg.scanTimeoutMs);
    if (wr === -ETIMEDOUT) {
      this.err(`scan ${uid} timed out after ${this.cfg.scanTimeoutMs} ms: aborting`);
      const aw = this.notif.add([CMD.SCAN_COMPLETE_UMAC], (pkt) => le32(pkt.payload, SCAN_COMPLETE.UID) === uid);
      const ar = yield* this.cmdOk(CMD.SCAN_ABORT_UMAC, new Payload(SCAN_ABORT_UMAC.SIZE).u32(SCAN_ABORT_UMAC.UID, uid).u32(SCAN_ABORT_UMAC.FLAGS, 0).b);
      if (ar < 0) this.notif.remove(aw);
      else yield* this.notif.wait(aw, 200);
      return -ETIMEDOUT;
    }
    if (wr < 0) return wr;
    const status = w.pkt!.payload[SCAN_COMPLETE.STATUS] ?? 0;
    if (status === SCAN_STATUS_ABORTED) {
      this.warn(`scan ${uid} aborted by the firmware`);
      return this.rfkillOn ? -ERFKILL : -EIO;
    }
    if (status !== SCAN_STATUS_DONE) this.warn(`scan ${uid} completed with status ${status}`);
    this.info(`scan ${uid} done: ${this.bss.size} BSS(s)`);
    return this.bss.size;
  }
}
