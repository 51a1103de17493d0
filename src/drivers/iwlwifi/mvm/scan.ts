/**
 * UMAC scan (Linux mvm/scan.c) and the control-operation gate.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EBUSY, EIO, ETIMEDOUT } from '../../../kernel/errno.js';
import { CMD, SCAN_ABORT_SIZE, SCAN_CFG, SCAN_COMPLETE, SCAN_GEN_FLAGS_ITER_COMPLETE, SCAN_REQ, SCAN_STATUS_ABORTED, SCAN_STATUS_DONE, STA_ID_AUX } from '../fw/api.js';
import { CAPA, DEFAULT_N_SCAN_CHANNELS } from '../fw/file.js';
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
    const ch = this.scanChannels();
    const p = new Payload(SCAN_CFG.HDR + ch.length)
      .u32(SCAN_CFG.FLAGS, 0).u32(SCAN_CFG.TX_CHAINS, this.txChains()).u32(SCAN_CFG.RX_CHAINS, this.rxChains())
      .bytes(SCAN_CFG.MAC, this.nvm!.mac).u8(SCAN_CFG.BCAST_STA_ID, STA_ID_AUX).u8(SCAN_CFG.N_CHANNELS, ch.length)
      .bytes(SCAN_CFG.CHANNELS, Uint8Array.from(ch));
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

  protected *doScan(ssid: string | undefined): Co<number> {
    if (!this.umacScan) return -EOPNOTSUPP;
    const uid = ++this.scanUid;
    const ch = this.scanChannels();
    // As cfg80211: the wildcard SSID makes the scan active (probe requests on channels that allow it), plus a directed probe if asked.
    const ssids = ssid === undefined || ssid === '' ? [''] : ['', ssid];
    const p = new Payload(Math.max(SCAN_REQ.HDR, SCAN_REQ.CHANNELS) + ch.length + ssids.length * SCAN_REQ.SSID_ENTRY)
      .u32(SCAN_REQ.FLAGS, 0).u32(SCAN_REQ.UID, uid).u32(SCAN_REQ.OOC_PRIORITY, 2)
      .u16(SCAN_REQ.GENERAL_FLAGS, SCAN_GEN_FLAGS_ITER_COMPLETE)
      .u16(SCAN_REQ.ACTIVE_DWELL, 10).u16(SCAN_REQ.PASSIVE_DWELL, 110)
      .u8(SCAN_REQ.N_CHANNELS, ch.length).u8(SCAN_REQ.N_SSIDS, ssids.length)
      .bytes(SCAN_REQ.CHANNELS, Uint8Array.from(ch));
    ssids.forEach((s, i) => {
      const b = new TextEncoder().encode(s).subarray(0, 32);
      const o = SCAN_REQ.CHANNELS + ch.length + i * SCAN_REQ.SSID_ENTRY;
      p.u8(o, 0).u8(o + 1, b.length).bytes(o + 2, b);
    });
    this.bss.clear();
    const w = this.notif.add([CMD.SCAN_COMPLETE_UMAC], (pkt) => le32(pkt.payload, SCAN_COMPLETE.UID) === uid);
    this.info(`scan ${uid}: ${ch.length} channels${ssids.length > 1 ? `, directed probe for "${ssids[1]}"` : ''}`);
    const r = yield* this.cmdOk(CMD.SCAN_REQ_UMAC, p.b);
    if (r < 0) { this.notif.remove(w); return r; }
    const wr = yield* this.notif.wait(w, this.cfg.scanTimeoutMs);
    if (wr === -ETIMEDOUT) {
      this.err(`scan ${uid} timed out after ${this.cfg.scanTimeoutMs} ms: aborting`);
      const aw = this.notif.add([CMD.SCAN_COMPLETE_UMAC], (pkt) => le32(pkt.payload, SCAN_COMPLETE.UID) === uid);
      const ar = yield* this.cmdOk(CMD.SCAN_ABORT_UMAC, new Payload(SCAN_ABORT_SIZE).u32(0, uid).b);
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
