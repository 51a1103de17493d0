/**
 * Connect and disconnect: PHY / MAC / binding contexts and the AP station (Linux mvm/phy-ctxt.c, mac-ctxt.c, binding.c, sta.c) and the station MLME of mac80211 (mlme.c: open-system authentication, association, deauthentication).
 */
import type { Co } from '../../../sim/scheduler.js';
import { EBUSY, EINVAL, EIO, ENOENT, ENOSPC, ETIMEDOUT } from '../../../kernel/errno.js';
import {
  AC_QOS, ADD_STA, ADD_STA_SUCCESS, ADD_STA_V10, BINDING_CONTEXT, BINDING_CONTEXT_V2, CMD, IWL_STA_TYPE, LMAC_INDEX, FW_CTXT_ACTION, FW_CTXT_INVALID, LQ_CMD, MAC_CONTEXT, MAC_FILTER, MAC_POWER_CMD,
  MAC_TYPE_BSS_STA, PHY_BAND, PHY_CHANNEL_MODE20, PHY_CONTEXT, PHY_CTRL_POS_1_BELOW, PHY_RX_CHAIN, RATE_MCS_ANT_POS, REMOVE_STA_SIZE,
  STA_ID_AP, STA_MODE, TE_BSS_STA_AGGRESSIVE_ASSOC, TE_V2, TIME_EVENT_CMD, TIME_EVENT_NOTIF, TIME_EVENT_RESP, TX_FIFO, TXQ, idAndColor,
} from '../fw/api.js';
import { STYPE, WLAN_REASON_DEAUTH_LEAVING, WLAN_STATUS_SUCCESS, buildAssocReq, buildAuth, buildDeauth, parseAssocResp, parseAuth, type Hdr80211 } from '../mac80211/ieee80211.js';
import { API, CAPA } from '../fw/file.js';
import { ECONNREFUSED, ENETDOWN, EOPNOTSUPP, ERFKILL } from './errno.js';
import { MvmScan } from './scan.js';
import { Payload, hex, le32, PHY_ID, MAC_ID, type Connection, type MgmtWait } from './core.js';
import { connDropped, connectAborted, connectFailed, connectStarted } from './state.js';

export abstract class MvmMlme extends MvmScan {
  // ---- connect / disconnect (mac80211 mlme.c; mvm contexts) -----------------------------------
  /** iwl_mvm_phy_ctxt_cmd_hdr + _data: 20 MHz on `channel`, all valid antennas. */
  protected phyCtxt(action: number, channel: number): Uint8Array {
    const rx = this.rxChains();
    const n = Math.min(2, [1, 2, 4].filter((a) => (rx & a) !== 0).length);
    return new Payload(PHY_CONTEXT.SIZE)
      .u32(PHY_CONTEXT.ID_AND_COLOR, idAndColor(PHY_ID, 0)).u32(PHY_CONTEXT.ACTION, action)
      .u32(PHY_CONTEXT.APPLY_TIME, 0).u32(PHY_CONTEXT.TX_PARAM_COLOR, 0)
      .u8(PHY_CONTEXT.CI_BAND, channel <= 14 ? PHY_BAND.B24 : PHY_BAND.B5).u8(PHY_CONTEXT.CI_CHANNEL, channel)
      .u8(PHY_CONTEXT.CI_WIDTH, PHY_CHANNEL_MODE20).u8(PHY_CONTEXT.CI_CTRL_POS, PHY_CTRL_POS_1_BELOW)
      .u32(PHY_CONTEXT.TXCHAIN_INFO, this.txChains())
      .u32(PHY_CONTEXT.RXCHAIN_INFO, (rx << PHY_RX_CHAIN.VALID_POS) | (1 << PHY_RX_CHAIN.CNT_POS) | (n << PHY_RX_CHAIN.MIMO_CNT_POS)).b;
  }

  /** iwl_mvm_mac_ctxt_cmd_sta: a BSS station MAC context; basic rates of the band, EDCA defaults per AC. */
  protected macCtxt(action: number, bssid: Uint8Array, assoc: boolean, aid: number, channel = 1): Uint8Array {
    const p = new Payload(MAC_CONTEXT.SIZE)
      .u32(MAC_CONTEXT.ID_AND_COLOR, idAndColor(MAC_ID, 0)).u32(MAC_CONTEXT.ACTION, action)
      .u32(MAC_CONTEXT.MAC_TYPE, MAC_TYPE_BSS_STA).u32(MAC_CONTEXT.TSF_ID, 0)
      .bytes(MAC_CONTEXT.NODE_ADDR, this.nvm!.mac).bytes(MAC_CONTEXT.BSSID_ADDR, bssid)
      .u32(MAC_CONTEXT.CCK_RATES, channel <= 14 ? 0x0f : 0).u32(MAC_CONTEXT.OFDM_RATES, 0x15)
      .u32(MAC_CONTEXT.FILTER_FLAGS, MAC_FILTER.ACCEPT_GRP | (assoc ? 0 : MAC_FILTER.IN_BEACON));
    // ac[] in the order BK, BE, VI, VO (Linux's iwl_mvm_ac_to_tx_fifo), then the multicast entry.
    const edca = [[15, 1023, 7, TX_FIFO.BK], [15, 1023, 3, TX_FIFO.BE], [7, 15, 2, TX_FIFO.VI], [3, 7, 2, TX_FIFO.VO]] as const;
    edca.forEach(([cwMin, cwMax, aifsn, fifo], i) => {
      const o = MAC_CONTEXT.AC + i * MAC_CONTEXT.AC_SIZE;
      p.u16(o + AC_QOS.CW_MIN, cwMin).u16(o + AC_QOS.CW_MAX, cwMax).u8(o + AC_QOS.AIFSN, aifsn).u8(o + AC_QOS.FIFOS_MASK, 1 << fifo);
    });
    if (assoc) {
      p.u32(MAC_CONTEXT.STA_IS_ASSOC, 1).u32(MAC_CONTEXT.STA_BI, 100).u32(MAC_CONTEXT.STA_DTIM_INTERVAL, 100)
        .u32(MAC_CONTEXT.STA_LISTEN_INTERVAL, 10).u32(MAC_CONTEXT.STA_ASSOC_ID, aid);
    }
    return p.b;
  }

  /**
   * iwl_mvm_binding_cmd: v1 (24 bytes), or with capability BINDING_CDB_SUPPORT the 28-byte v2 whose
   * lmac_id is the LMAC of the channel's band (iwl_mvm_get_lmac_id: 5 GHz is LMAC 1 only with CDB_SUPPORT).
   */
  protected bindingCmd(action: number, channel: number): Uint8Array {
    const v2 = this.image.capabilities.has(CAPA.BINDING_CDB_SUPPORT);
    const p = new Payload(v2 ? BINDING_CONTEXT_V2.SIZE : BINDING_CONTEXT.SIZE)
      .u32(BINDING_CONTEXT.ID_AND_COLOR, idAndColor(PHY_ID, 0)).u32(BINDING_CONTEXT.ACTION, action)
      .u32(BINDING_CONTEXT.MACS, idAndColor(MAC_ID, 0)).u32(BINDING_CONTEXT.MACS + 4, FW_CTXT_INVALID)
      .u32(BINDING_CONTEXT.MACS + 8, FW_CTXT_INVALID).u32(BINDING_CONTEXT.PHY, idAndColor(PHY_ID, 0));
    if (v2) {
      const cdb = this.image.capabilities.has(CAPA.CDB_SUPPORT);
      p.u32(BINDING_CONTEXT_V2.LMAC_ID, cdb && channel > 14 ? LMAC_INDEX.B5 : LMAC_INDEX.B24);
    }
    return p.b;
  }

  /**
   * iwl_mvm_add_sta: the AP station on our MAC context, TX on the management and data queues. The
   * size is iwl_mvm_add_sta_cmd_size(): the 48-byte v10 with station_type (LINK) when the firmware
   * has the STA_TYPE API flag, else the 44-byte v7.
   */
  protected addStaCmd(bssid: Uint8Array, aid: number, modify: boolean): Uint8Array {
    const v10 = this.image.apiFlags.has(API.STA_TYPE);
    const p = new Payload(v10 ? ADD_STA_V10.SIZE : ADD_STA.SIZE).u8(ADD_STA.ADD_MODIFY, modify ? STA_MODE.MODIFY : STA_MODE.ADD)
      .u16(ADD_STA.TID_DISABLE_TX, 0xffff).u32(ADD_STA.MAC_ID_N_COLOR, idAndColor(MAC_ID, 0)).bytes(ADD_STA.ADDR, bssid)
      .u8(ADD_STA.STA_ID, STA_ID_AP).u32(ADD_STA.STATION_FLAGS, 0).u32(ADD_STA.STATION_FLAGS_MSK, 0)
      .u16(ADD_STA.ASSOC_ID, aid).u32(ADD_STA.TFD_QUEUE_MSK, (1 << TXQ.MGMT) | (1 << TXQ.DATA));
    if (v10) p.u8(ADD_STA_V10.STATION_TYPE, IWL_STA_TYPE.LINK);
    return p.b;
  }

  /** A link-quality table of the band's basic rate on the first antenna (no rate scaling in this driver). */
  protected lqCmd(channel: number): Uint8Array {
    const p = new Payload(LQ_CMD.SIZE).u8(LQ_CMD.STA_ID, STA_ID_AP).u8(LQ_CMD.SINGLE_STREAM_ANT_MSK, this.txChains() & 1 ? 1 : this.txChains());
    const rate = this.rateFor(channel);
    for (let i = 0; i < LQ_CMD.RS_TABLE_SIZE; i++) p.u32(LQ_CMD.RS_TABLE + 4 * i, rate);
    return p.b;
  }

  /** iwl_mvm_power_update_mac: power save off for our MAC (CAM). */
  protected macPowerCmd(): Uint8Array {
    return new Payload(MAC_POWER_CMD.SIZE).u32(MAC_POWER_CMD.ID_AND_COLOR, idAndColor(MAC_ID, 0)).u16(MAC_POWER_CMD.FLAGS, 0)
      .u16(MAC_POWER_CMD.KEEP_ALIVE_SECONDS, 25).b;
  }

  /** Session protection: how long the firmware stays on the channel for authentication and association, and the longest wait for it to start. */
  static readonly TE_DURATION_TU = 488;
  static readonly TE_MAX_DELAY_TU = 244;
  static readonly TE_START_TIMEOUT_MS = 1000;

  protected timeEventCmd(action: number, id: number): Uint8Array {
    return new Payload(TIME_EVENT_CMD.SIZE)
      .u32(TIME_EVENT_CMD.ID_AND_COLOR, idAndColor(MAC_ID, 0)).u32(TIME_EVENT_CMD.ACTION, action).u32(TIME_EVENT_CMD.ID, id)
      .u32(TIME_EVENT_CMD.APPLY_TIME, 0).u32(TIME_EVENT_CMD.MAX_DELAY, MvmMlme.TE_MAX_DELAY_TU).u32(TIME_EVENT_CMD.INTERVAL, 1)
      .u32(TIME_EVENT_CMD.DURATION, MvmMlme.TE_DURATION_TU).u8(TIME_EVENT_CMD.REPEAT, 1).u8(TIME_EVENT_CMD.MAX_FRAGS, TE_V2.FRAG_NONE)
      .u16(TIME_EVENT_CMD.POLICY, TE_V2.NOTIF_HOST_EVENT_START | TE_V2.NOTIF_HOST_EVENT_END | TE_V2.START_IMMEDIATELY).b;
  }

  /**
   * iwl_mvm_protect_session: a TE_BSS_STA_AGGRESSIVE_ASSOC time event keeps
   * the firmware on the BSS's channel for authentication and association;
   * waits for its start notification. 0 or -errno.
   */
  protected *protectSession(): Co<number> {
    const w = this.notif.add([CMD.TIME_EVENT_NOTIFICATION],
      (pkt) => (le32(pkt.payload, TIME_EVENT_NOTIF.ACTION) & TE_V2.NOTIF_HOST_EVENT_START) !== 0);
    const r = yield* this.cmd(CMD.TIME_EVENT, this.timeEventCmd(FW_CTXT_ACTION.ADD, TE_BSS_STA_AGGRESSIVE_ASSOC), { raw: true });
    if (typeof r === 'number') { this.notif.remove(w); return r; }
    const p = r.payload;
    if (p.length < TIME_EVENT_RESP.SIZE || le32(p, TIME_EVENT_RESP.STATUS) !== 0) {
      this.notif.remove(w);
      this.err(`TIME_EVENT (session protection) refused: ${p.length} bytes, status ${hex(le32(p, TIME_EVENT_RESP.STATUS))}`);
      return -EIO;
    }
    const uid = le32(p, TIME_EVENT_RESP.UNIQUE_ID);
    this.teUid = uid;
    const wr = yield* this.notif.wait(w, MvmMlme.TE_START_TIMEOUT_MS);
    if (wr < 0) {
      this.err(`session protection (time event ${uid}) did not start: ${wr}`);
      return wr;
    }
    const n = w.pkt!.payload;
    if (le32(n, TIME_EVENT_NOTIF.UNIQUE_ID) !== uid || le32(n, TIME_EVENT_NOTIF.STATUS) !== 1) {
      this.err(`session protection (time event ${uid}) failed to start (status ${le32(n, TIME_EVENT_NOTIF.STATUS)})`);
      return -EIO;
    }
    this.dbg(`session protection: time event ${uid} started`);
    return 0;
  }

  /** iwl_mvm_stop_session_protection: removes the time event if it is still running. */
  protected *stopSessionProtection(): Co<void> {
    const uid = this.teUid;
    if (uid === null) return;
    this.teUid = null;
    yield* this.cmd(CMD.TIME_EVENT, this.timeEventCmd(FW_CTXT_ACTION.REMOVE, uid), { raw: true, quiet: true });
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
    r = yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.ADD, bss.bssidBytes, false, 0, bss.channel));
    if (r < 0) return r;
    c.mac = true;
    r = yield* this.cmdOk(CMD.BINDING_CONTEXT, this.bindingCmd(FW_CTXT_ACTION.ADD, bss.channel));
    if (r < 0) return r;
    c.binding = true;
    r = yield* this.cmdOk(CMD.ADD_STA, this.addStaCmd(bss.bssidBytes, 0, false), { okStatus: ADD_STA_SUCCESS });
    if (r < 0) return r;
    c.sta = true;
    r = yield* this.cmdOk(CMD.LQ, this.lqCmd(bss.channel));
    if (r < 0) return r;
    r = yield* this.protectSession();
    if (r < 0) return r;

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
    r = yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.MODIFY, bss.bssidBytes, true, as.aid, bss.channel));
    if (r < 0) return r;
    c.assoc = true;
    yield* this.stopSessionProtection();
    r = yield* this.cmdOk(CMD.ADD_STA, this.addStaCmd(bss.bssidBytes, as.aid, true), { okStatus: ADD_STA_SUCCESS });
    if (r < 0) return r;
    return yield* this.cmdOk(CMD.MAC_PM_POWER_TABLE, this.macPowerCmd());
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
    yield* this.stopSessionProtection();
    if (c.assoc) {
      c.assoc = false;
      yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.MODIFY, c.bss.bssidBytes, false, 0, c.bss.channel));
    }
    if (c.sta) {
      c.sta = false;
      yield* this.cmdOk(CMD.REMOVE_STA, new Payload(REMOVE_STA_SIZE).u8(0, STA_ID_AP).b);
    }
    if (c.binding) {
      c.binding = false;
      yield* this.cmdOk(CMD.BINDING_CONTEXT, this.bindingCmd(FW_CTXT_ACTION.REMOVE, c.bss.channel));
    }
    if (c.mac) {
      c.mac = false;
      yield* this.cmdOk(CMD.MAC_CONTEXT, this.macCtxt(FW_CTXT_ACTION.REMOVE, c.bss.bssidBytes, false, 0, c.bss.channel));
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
