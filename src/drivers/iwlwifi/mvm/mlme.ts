/**
 * Connect and disconnect: PHY / MAC / binding contexts and the AP station (Linux mvm/phy-ctxt.c, mac-ctxt.c, binding.c, sta.c) and the station MLME of mac80211 (mlme.c: open-system authentication, association, deauthentication).
 */
import type { Co } from '../../../sim/scheduler.js';
import { EBUSY, EINVAL, EIO, ENOENT, ENOSPC, ETIMEDOUT } from '../../../kernel/errno.js';
import { ADD_STA, ADD_STA_SUCCESS, BINDING_CONTEXT, CMD, FW_CTXT_ACTION, FW_CTXT_INVALID, MAC_CONTEXT, MAC_TYPE_BSS_STA, PHY_CONTEXT, REMOVE_STA_SIZE, STA_ID_AP, TXQ, idAndColor } from '../fw/api.js';
import { STYPE, WLAN_REASON_DEAUTH_LEAVING, WLAN_STATUS_SUCCESS, buildAssocReq, buildAuth, buildDeauth, parseAssocResp, parseAuth, type Hdr80211 } from '../mac80211/ieee80211.js';
import { ECONNREFUSED, ENETDOWN, EOPNOTSUPP, ERFKILL } from './errno.js';
import { MvmScan } from './scan.js';
import { Payload, hex, PHY_ID, MAC_ID, type Connection, type MgmtWait } from './core.js';
import { connDropped, connectAborted, connectFailed, connectStarted } from './state.js';

export abstract class MvmMlme extends MvmScan {
  // ---- connect / disconnect (mac80211 mlme.c; mvm contexts) -----------------------------------
  protected phyCtxt(action: number, channel: number): Uint8Array {
    return new Payload(PHY_CONTEXT.SIZE)
      .u32(PHY_CONTEXT.ID_AND_COLOR, idAndColor(PHY_ID, 0)).u32(PHY_CONTEXT.ACTION, action)
      .u32(PHY_CONTEXT.APPLY_TIME, 0).u32(PHY_CONTEXT.TX_PARAM_COLOR, 0)
      .u8(PHY_CONTEXT.BAND, channel <= 14 ? 0 : 1).u8(PHY_CONTEXT.CHANNEL, channel)
      .u8(PHY_CONTEXT.WIDTH, 0).u8(PHY_CONTEXT.CTRL_POS, 0).u32(PHY_CONTEXT.TXCHAIN, this.txChains()).b;
  }

  protected macCtxt(action: number, bssid: Uint8Array, assoc: boolean, aid: number): Uint8Array {
    return new Payload(MAC_CONTEXT.SIZE)
      .u32(MAC_CONTEXT.ID_AND_COLOR, idAndColor(MAC_ID, 0)).u32(MAC_CONTEXT.ACTION, action)
      .u32(MAC_CONTEXT.MAC_TYPE, MAC_TYPE_BSS_STA).u32(MAC_CONTEXT.TSF_ID, 0)
      .bytes(MAC_CONTEXT.NODE_ADDR, this.nvm!.mac).bytes(MAC_CONTEXT.BSSID, bssid)
      .u32(MAC_CONTEXT.FILTER_FLAGS, 0).u32(MAC_CONTEXT.IS_ASSOC, assoc ? 1 : 0).u32(MAC_CONTEXT.ASSOC_ID, aid).b;
  }

  protected bindingCmd(action: number): Uint8Array {
    return new Payload(BINDING_CONTEXT.SIZE)
      .u32(BINDING_CONTEXT.ID_AND_COLOR, idAndColor(PHY_ID, 0)).u32(BINDING_CONTEXT.ACTION, action)
      .u32(BINDING_CONTEXT.MACS, idAndColor(MAC_ID, 0)).u32(BINDING_CONTEXT.MACS + 4, FW_CTXT_INVALID)
      .u32(BINDING_CONTEXT.MACS + 8, FW_CTXT_INVALID).u32(BINDING_CONTEXT.PHY, idAndColor(PHY_ID, 0)).b;
  }

  /** Connects to the strongest open BSS named `ssid`. 0 or -errno. */
  *connect(ssidIn: string): Co<number> {
    const ssid = ssidIn.replace(/[\r\n\0]+$/, '');
    if (ssid === '' || ssid.length > 32) return -EINVAL;
    return yield* this.control(() => this.connectLocked(ssid));
  }

  protected *connectLocked(ssid: string): Co<number> {
    const cur = this.connection;
    if (cur !== null) {
      if (cur.ssid === ssid && cur.assoc) return 0;
      yield* this.doDisconnect();
    }
    const bss = this.bss.best(ssid);
    if (bss === undefined) {
      this.err(`${ssid}: not found in the scan results`);
      return -ENOENT;
    }
    if (bss.security !== 'open') {
      this.err(`${ssid}: security ${bss.security} not supported`);
      return -EOPNOTSUPP;
    }
    const c: Connection = { bss, ssid, aid: 0, phy: false, mac: false, binding: false, sta: false, assoc: false };
    this.mvmState = connectStarted(this.mvmState, c);
    const r = yield* this.doConnect(c);
    if (r < 0) {
      if (this.connection === c) this.mvmState = connectFailed(this.mvmState);
      if (!this.firmwareDead) yield* this.teardown(c);
      this.mvmState = connectAborted(this.mvmState);
      return r;
    }
    if (!this.setLink(c, 'associated')) return -ENETDOWN;
    this.info(`${this.cfg.ifname}: associated with ${ssid} (${bss.bssid}), AID ${c.aid}`);
    return 0;
  }

  /** Moves the attempt `c` on to `kind` if it is still the current one; false when it was dropped meanwhile. */
  protected setLink(c: Connection, kind: 'associating' | 'associated'): boolean {
    const s = this.mvmState;
    if (s.kind !== 'runtime' || this.connection !== c) return false;
    this.mvmState = { ...s, link: { kind, conn: c } };
    return true;
  }

  protected *doConnect(c: Connection): Co<number> {
    const { bss } = c;
    const deadline = this.k.jiffies + this.k.msecs_to_jiffies(this.cfg.connectTimeoutMs);
    this.info(`${this.cfg.ifname}: authenticate with ${bss.bssid} (${c.ssid}, channel ${bss.channel}, ${bss.signal} dBm)`);
    let r = yield* this.cmdOk(CMD.PHY_CONTEXT, this.phyCtxt(FW_CTXT_ACTION.ADD, bss.channel));
    if (r < 0) return r;
    c.phy = true;
    r = yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.ADD, bss.bssidBytes, false, 0));
    if (r < 0) return r;
    c.mac = true;
    r = yield* this.cmdOk(CMD.BINDING_CONTEXT, this.bindingCmd(FW_CTXT_ACTION.ADD));
    if (r < 0) return r;
    c.binding = true;
    const sta = new Payload(ADD_STA.SIZE).u8(ADD_STA.ADD_MODIFY, 0).u8(ADD_STA.STA_ID, STA_ID_AP)
      .u32(ADD_STA.MAC_ID_N_COLOR, idAndColor(MAC_ID, 0)).bytes(ADD_STA.ADDR, bss.bssidBytes).u32(ADD_STA.STATION_FLAGS, 0);
    r = yield* this.cmdOk(CMD.ADD_STA, sta.b, { okStatus: ADD_STA_SUCCESS });
    if (r < 0) return r;
    c.sta = true;

    const own = this.nvm!.mac;
    // Authentication (open system).
    const auth = yield* this.mgmtExchange(c, 'auth', [STYPE.AUTH], () => buildAuth(bss.bssidBytes, own, bss.bssidBytes, this.nextSeq()), deadline);
    if (typeof auth === 'number') return auth;
    const a = parseAuth(auth.frame, auth.hdr);
    if (a === null) { this.err(`${this.cfg.ifname}: malformed authentication response from ${bss.bssid}`); return -EIO; }
    if (a.status !== WLAN_STATUS_SUCCESS) {
      this.err(`${this.cfg.ifname}: authentication with ${bss.bssid} failed: status ${a.status}`);
      return -ECONNREFUSED;
    }
    this.info(`${this.cfg.ifname}: authenticated`);
    this.setLink(c, 'associating');
    // Association.
    const asr = yield* this.mgmtExchange(c, 'assoc', [STYPE.ASSOC_RESP, STYPE.REASSOC_RESP],
      () => buildAssocReq(bss.bssidBytes, own, this.nextSeq(), c.ssid, bss.channel), deadline);
    if (typeof asr === 'number') return asr;
    const as = parseAssocResp(asr.frame, asr.hdr);
    if (as === null) { this.err(`${this.cfg.ifname}: malformed association response from ${bss.bssid}`); return -EIO; }
    this.info(`${this.cfg.ifname}: RX AssocResp from ${bss.bssid} (capab=${hex(as.capability)} status=${as.status} aid=${as.aid})`);
    if (as.status !== WLAN_STATUS_SUCCESS) {
      this.err(`association with ${bss.bssid} failed: status ${as.status}`);
      return -ECONNREFUSED;
    }
    c.aid = as.aid;
    r = yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.MODIFY, bss.bssidBytes, true, as.aid));
    if (r < 0) return r;
    c.assoc = true;
    return 0;
  }

  /** Sends a management frame (up to mgmtRetries times) and waits for the answer of one of `stypes` from the BSS. */
  protected *mgmtExchange(c: Connection, what: 'auth' | 'assoc', stypes: number[], build: () => Uint8Array, deadline: number):
    Co<{ frame: Uint8Array; hdr: Hdr80211 } | number> {
    const bssid = c.bss.bssid;
    for (let attempt = 1; attempt <= this.cfg.mgmtRetries; attempt++) {
      if (this.connection !== c) return -ENETDOWN;
      if (this.k.time_after(this.k.jiffies, deadline)) break;
      this.info(`${this.cfg.ifname}: ${what === 'auth' ? 'send auth to' : 'associate with'} ${bssid} (try ${attempt}/${this.cfg.mgmtRetries})`);
      const mw: MgmtWait = { bssid: c.bss.bssidBytes, stypes, frame: null, hdr: null, done: this.k.init_completion() };
      this.mgmtWait = mw;
      const r = this.txFrame(TXQ.MGMT, build(), c.bss.channel, true);
      if (r < 0) {
        this.mgmtWait = null;
        this.err(`${this.cfg.ifname}: cannot queue the ${what} frame: ${r}`);
        return r === -ENOSPC ? -EBUSY : r;
      }
      yield* this.k.wait_for_completion_timeout(mw.done, this.k.msecs_to_jiffies(this.cfg.mgmtTimeoutMs));
      this.mgmtWait = null;
      if (this.firmwareDead) return -EIO;
      if (this.rfkillOn) return -ERFKILL;
      if (mw.frame !== null && mw.hdr !== null) return { frame: mw.frame, hdr: mw.hdr };
    }
    this.err(`${this.cfg.ifname}: ${what === 'auth' ? 'authentication' : 'association'} with ${bssid} timed out`);
    return -ETIMEDOUT;
  }

  /** Removes what `c` added in the firmware, newest first (station, binding, MAC, PHY). */
  protected *teardown(c: Connection): Co<void> {
    if (c.assoc) {
      c.assoc = false;
      yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.MODIFY, c.bss.bssidBytes, false, 0));
    }
    if (c.sta) {
      c.sta = false;
      yield* this.cmdOk(CMD.REMOVE_STA, new Payload(REMOVE_STA_SIZE).u8(0, STA_ID_AP).b);
    }
    if (c.binding) {
      c.binding = false;
      yield* this.cmdOk(CMD.BINDING_CONTEXT, this.bindingCmd(FW_CTXT_ACTION.REMOVE));
    }
    if (c.mac) {
      c.mac = false;
      yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.REMOVE, c.bss.bssidBytes, false, 0));
    }
    if (c.phy) {
      c.phy = false;
      yield* this.cmdOk(CMD.PHY_CONTEXT, this.phyCtxt(FW_CTXT_ACTION.REMOVE, c.bss.channel));
    }
  }

  /** Deauthenticates (reason 3) and removes the contexts. 0 (also when not connected) or -errno. */
  *disconnect(): Co<number> {
    yield* this.k.mutex_lock(this.mutex);
    try {
      return yield* this.doDisconnect();
    } finally {
      this.k.mutex_unlock(this.mutex);
    }
  }

  protected *doDisconnect(): Co<number> {
    const c = this.connection;
    if (c === null) return 0;
    this.mvmState = connDropped(this.mvmState);
    this.onTxWake?.();
    if (!this.firmwareDead && !this.rfkillOn && c.sta) {
      const done = this.k.init_completion();
      this.mgmtTxDone = done;
      const r = this.txFrame(TXQ.MGMT, buildDeauth(c.bss.bssidBytes, this.nvm!.mac, c.bss.bssidBytes, this.nextSeq(), WLAN_REASON_DEAUTH_LEAVING), c.bss.channel, true);
      if (r === 0) yield* this.k.wait_for_completion_timeout(done, this.k.msecs_to_jiffies(100));
      this.mgmtTxDone = null;
    }
    if (!this.firmwareDead) yield* this.teardown(c);
    this.info(`${this.cfg.ifname}: disconnected from ${c.ssid} (${c.bss.bssid}) (Reason: ${WLAN_REASON_DEAUTH_LEAVING}=DEAUTH_LEAVING)`);
    return 0;
  }
}
