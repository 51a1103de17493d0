/**
 * Receive path (Linux mvm/rx.c): RX_PHY / RX_MPDU, 802.11 frame dispatch, the data path to the netdev and connection loss.
 */
import type { Co } from '../../../sim/scheduler.js';
import { CMD, FW_CTXT_ACTION, MAC_CONTEXT, RX_MPDU, RX_MPDU_STATUS_CRC_OK, RX_MPDU_STATUS_OVERRUN_OK, RX_PHY } from '../fw/api.js';
import { CMD_ASYNC } from '../trans-api.js';
import { FTYPE_DATA, FTYPE_MGMT, STYPE, isMulticast, macEqual, parseBeacon, parseHdr, parseReason, wlanToEth } from '../mac80211/ieee80211.js';
import { MvmMlme } from './mlme.js';
import { le16, le32, hex, type Connection } from './core.js';
import { connDropped } from './state.js';

export abstract class MvmRx extends MvmMlme {
  protected rxPhy(p: Uint8Array): void {
    if (p.length < RX_PHY.ENERGY_WORD + 4) { this.stats.rxBadMpdu++; return; }
    const w = le32(p, RX_PHY.ENERGY_WORD);
    let best = 0;
    for (const e of [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff]) if (e !== 0 && (best === 0 || e < best)) best = e;
    this.lastPhy = { channel: le16(p, RX_PHY.CHANNEL), signal: best === 0 ? -100 : -best };
  }

  protected rxMpdu(p: Uint8Array): void {
    if (p.length < RX_MPDU.HDR) { this.stats.rxBadMpdu++; return; }
    const bc = le16(p, RX_MPDU.BYTE_COUNT);
    if (p.length < RX_MPDU.FRAME + bc + 4) {
      this.stats.rxBadMpdu++;
      this.dbg(`RX_MPDU: byte count ${bc} exceeds the ${p.length}-byte packet`);
      return;
    }
    const status = le32(p, RX_MPDU.FRAME + bc);
    const need = RX_MPDU_STATUS_CRC_OK | RX_MPDU_STATUS_OVERRUN_OK;
    if ((status & need) !== need) {
      this.stats.rxCrcDropped++;
      this.dbg(`RX_MPDU dropped: status ${hex(status, 8)}`);
      return;
    }
    this.rxFrame(p.subarray(RX_MPDU.FRAME, RX_MPDU.FRAME + bc));
  }

  /** One received 802.11 frame (ieee80211_rx). */
  rxFrame(f: Uint8Array): void {
    const h = parseHdr(f);
    if (h === null) { this.stats.rxBadMpdu++; return; }
    const own = this.mac;
    if (h.ftype === FTYPE_MGMT) {
      if (h.stype === STYPE.BEACON || h.stype === STYPE.PROBE_RESP) {
        const b = parseBeacon(f, h);
        if (b !== null) this.bss.update(b, this.lastPhy.channel, this.lastPhy.signal);
        return;
      }
      if (own === null || !(macEqual(h.addr1, 0, own) || isMulticast(h.addr1))) return;
      const mw = this.mgmtWait;
      if (mw !== null && mw.frame === null && mw.stypes.includes(h.stype) && macEqual(h.addr2, 0, mw.bssid)) {
        mw.frame = new Uint8Array(f);
        mw.hdr = parseHdr(mw.frame);
        this.k.complete(mw.done);
        return;
      }
      const cur = this.connection;
      if ((h.stype === STYPE.DEAUTH || h.stype === STYPE.DISASSOC) && cur !== null && macEqual(h.addr2, 0, cur.bss.bssidBytes)) {
        const reason = parseReason(f, h) ?? 0;
        const what = h.stype === STYPE.DEAUTH ? 'deauthenticated' : 'disassociated';
        this.info(`${this.cfg.ifname}: ${what} by ${cur.bss.bssid}: reason ${reason}`);
        this.connectionLost();
      }
      return;
    }
    if (h.ftype !== FTYPE_DATA) return;
    const c = this.connection;
    if (c === null || !c.assoc || own === null) { this.stats.rxDropped++; return; }
    if (!macEqual(h.addr2, 0, c.bss.bssidBytes)) { this.stats.rxDropped++; return; }
    const group = isMulticast(h.addr1);
    if (!group && !macEqual(h.addr1, 0, own)) { this.stats.rxDropped++; return; }
    if (group && macEqual(h.addr3, 0, own)) return; // our own broadcast reflected by the AP
    const eth = wlanToEth(f, h);
    if (eth === null) { this.stats.rxDropped++; return; }
    if (this.rxQueue.length >= this.cfg.rxQueueLen) { this.stats.rxDropped++; return; }
    this.stats.rxPackets++;
    this.rxQueue.push(eth);
    this.onRxFrame?.();
  }

  /** The AP ended the association (or the link died): forget it; tear the contexts down from a work item. */
  protected connectionLost(): void {
    const c = this.connection;
    if (c === null) return;
    // Stop the firmware from transmitting as associated at once: this runs in
    // RX context, which must not sleep, so the MAC update goes out async; the
    // rest of the teardown (synchronous commands) follows from a work item.
    if (c.assoc && !this.firmwareDead) {
      const r = this.trans.sendCmdAsync({ id: CMD.MAC_CONTEXT, group: 0, data: [this.macCtxt(FW_CTXT_ACTION.MODIFY, c.bss.bssidBytes, false, 0)], flags: CMD_ASYNC });
      if (r === 0) c.assoc = false;
    }
    this.lostConn = c;
    this.mvmState = connDropped(this.mvmState);
    this.onTxWake?.();
    this.k.schedule_work(this.lostWork);
  }

  protected lostConn: Connection | null = null;

  protected *connectionLostWork(): Co<void> {
    yield* this.k.mutex_lock(this.mutex);
    const c = this.lostConn;
    this.lostConn = null;
    if (c !== null && !this.firmwareDead) yield* this.teardown(c);
    this.k.mutex_unlock(this.mutex);
  }
}
