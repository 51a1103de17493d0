/**
 * The iwlwifi op mode for the 7265D ("mvm"), in the shape of Linux
 * mvm/ops.c (rx dispatch, error and RF-kill handling), mvm/fw.c (INIT and
 * runtime bring-up), mvm/nvm.c, mvm/scan.c (UMAC scan), mvm/mac-ctxt.c /
 * phy-ctxt.c / binding.c / sta.c (contexts), mvm/tx.c and mvm/rxmq.c, plus
 * the mac80211 station MLME it needs (open-system auth, association,
 * deauthentication) and the 802.3 netdev data path.
 *
 * Threads: control operations (bring-up, scan, connect, disconnect) run in
 * process context under `mutex`; `rx`, `nicError`, `rfKill` and
 * `queueStuck` run in the transport's NAPI / IRQ-thread context and never
 * sleep (work that sleeps is deferred to a work item).
 */
import type { Co } from '../../../sim/scheduler.js';
import { EAGAIN, EBUSY, EINVAL, EIO, ENOENT, ENOSPC, ETIMEDOUT } from '../../../kernel/errno.js';
import { ADD_STA, ADD_STA_SUCCESS, ALIVE_STATUS_OK, ALIVE_V3, BINDING_CONTEXT, BT_COEX_DISABLE, BT_CONFIG_SIZE, CMD, FW_CTXT_ACTION, FW_CTXT_INVALID, MAC_CONTEXT, MAC_TYPE_BSS_STA, NVM_ACCESS, NVM_ACCESS_RESP, NVM_CHANNELS, NVM_CHANNEL_ACTIVE, NVM_CHANNEL_VALID, NVM_CHUNK_SIZE, NVM_HW, NVM_OP_READ, NVM_SECTION, NVM_SKU, NVM_SW, PHY_CONFIGURATION, PHY_CONTEXT, PHY_DB, RATE_MCS_CCK, RATE_PLCP_1M, RATE_PLCP_6M, REMOVE_STA_SIZE, RX_MPDU, RX_MPDU_STATUS_CRC_OK, RX_MPDU_STATUS_OVERRUN_OK, RX_PHY, SCAN_ABORT_SIZE, SCAN_CFG, SCAN_COMPLETE, SCAN_GEN_FLAGS_ITER_COMPLETE, SCAN_REQ, SCAN_STATUS_ABORTED, SCAN_STATUS_DONE, STA_ID_AP, STA_ID_AUX, TX_ANT_CONFIG_SIZE, TX_CMD, TX_CMD_FLG_ACK, TX_FIFO, TX_RESP, TX_STATUS, TXQ, cmdGroup, cmdName, idAndColor, seqIndex, seqQueue } from '../fw/api.js';
import { type FirmwareImage, type ImageKind, CAPA, UCODE_TYPE, DEFAULT_N_SCAN_CHANNELS, phyRxChains, phyTxChains } from '../fw/file.js';
import type { Mutex } from '../../linux-kpi/ext-types.js';
import type { Completion } from '../../linux-kpi/completion.js';
import type { LinuxKpi, PciDev } from '../../linux-kpi/kpi.js';
import { CMD_ASYNC, CMD_WANT_SKB, type IwlOpMode, type IwlTrans, type RxPacket } from '../trans-api.js';
import { BssList, type Bss } from '../mac80211/bss.js';
import {
  ETH_HLEN, FTYPE_DATA, FTYPE_MGMT, HDR_LEN_3ADDR, STYPE, WLAN_REASON_DEAUTH_LEAVING, WLAN_STATUS_SUCCESS,
  buildAssocReq, buildAuth, buildDeauth, ethToWlan, isMulticast, isValidUnicastMac, macEqual, macToString, parseAssocResp,
  parseAuth, parseBeacon, parseHdr, parseReason, wlanToEth, type Hdr80211,
} from '../mac80211/ieee80211.js';
import { ECONNREFUSED, ENETDOWN, EOPNOTSUPP, ERFKILL } from './errno.js';
import { NotifWait } from './notif-wait.js';

export type WifiState = 'down' | 'up' | 'scanning' | 'connecting' | 'connected' | 'error' | 'rfkill';

/** What the op mode needs from the driver parameters (index.ts IwlwifiParams). */
export interface MvmConfig {
  ifname: string;
  aliveTimeoutMs: number;
  initCompleteTimeoutMs: number;
  scanTimeoutMs: number;
  connectTimeoutMs: number;
  /** Wait for each authentication / association response. */
  mgmtTimeoutMs: number;
  /** Authentication / association attempts. */
  mgmtRetries: number;
  /** Received Ethernet frames kept for the network scheme reader; more are dropped. */
  rxQueueLen: number;
}

export const MVM_CONFIG_DEFAULTS: MvmConfig = {
  ifname: 'wlan0', aliveTimeoutMs: 1000, initCompleteTimeoutMs: 2000, scanTimeoutMs: 10000, connectTimeoutMs: 5000,
  mgmtTimeoutMs: 300, mgmtRetries: 3, rxQueueLen: 64,
};

export interface NvmData {
  mac: Uint8Array;
  version: number;
  radioCfg: number;
  sku: number;
  /** Valid channels in NVM order (bands the SKU enables only). */
  channels: { channel: number; active: boolean }[];
}

export interface MvmStats {
  txPackets: number;
  txFailed: number;
  txDropped: number;
  rxPackets: number;
  rxDropped: number;
  rxBadMpdu: number;
  rxCrcDropped: number;
  queueStuck: number;
  fwErrors: number;
}

/** The ID (and color 0) of the one PHY, MAC and binding context a station uses. */
const PHY_ID = 0;
const MAC_ID = 0;
/** Data queue flow control (ieee80211_stop_queue / wake_queue). */
const TXQ_STOP_SPACE = 8;
const TXQ_WAKE_SPACE = 32;
const NVM_MAX_SECTION = 0x10000;
const MAX_ETH_FRAME = ETH_HLEN + 2304 - 8;

interface Connection {
  bss: Bss;
  ssid: string;
  aid: number;
  /** Contexts / station currently added in the firmware. */
  phy: boolean;
  mac: boolean;
  binding: boolean;
  sta: boolean;
  assoc: boolean;
}

interface MgmtWait {
  bssid: Uint8Array;
  stypes: number[];
  frame: Uint8Array | null;
  hdr: Hdr80211 | null;
  done: Completion;
}

const le16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const le32 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
const hex = (n: number, w = 0): string => `0x${(n >>> 0).toString(16).padStart(w, '0')}`;

class Payload {
  readonly b: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number) {
    this.b = new Uint8Array(size);
    this.dv = new DataView(this.b.buffer);
  }
  u8(o: number, v: number): this { this.b[o] = v & 0xff; return this; }
  u16(o: number, v: number): this { this.dv.setUint16(o, v & 0xffff, true); return this; }
  u32(o: number, v: number): this { this.dv.setUint32(o, v >>> 0, true); return this; }
  bytes(o: number, v: Uint8Array): this { this.b.set(v, o); return this; }
}

export class IwlMvm implements IwlOpMode {
  readonly notif: NotifWait;
  readonly mutex: Mutex;
  readonly bss = new BssList();
  readonly phyDb = new Map<number, Uint8Array>();
  readonly stats: MvmStats = { txPackets: 0, txFailed: 0, txDropped: 0, rxPackets: 0, rxDropped: 0, rxBadMpdu: 0, rxCrcDropped: 0, queueStuck: 0, fwErrors: 0 };
  nvm: NvmData | null = null;
  state: WifiState = 'down';
  fwRunning = false;
  fwDead = false;
  rfkill = false;
  /** The image running now ('init' / 'runtime'), null when stopped. */
  running: ImageKind | null = null;
  scanUid = 0;
  conn: Connection | null = null;
  /** Received Ethernet frames for the network scheme (bounded). */
  readonly rxQueue: Uint8Array[] = [];
  /** Called (NAPI context) when a frame was queued on rxQueue. */
  onRxFrame: (() => void) | undefined;
  /** Called when the data queue can take frames again, or the link went down (writers retry / fail). */
  onTxWake: (() => void) | undefined;
  dataStopped = false;
  private seqNum = 0;
  private lastPhy = { channel: 0, signal: -100 };
  private mgmtWait: MgmtWait | null = null;
  private mgmtTxDone: Completion | null = null;
  private readonly lostWork;

  constructor(
    private readonly k: LinuxKpi,
    private readonly pdev: PciDev,
    readonly trans: IwlTrans,
    readonly image: FirmwareImage,
    readonly cfg: MvmConfig,
  ) {
    this.notif = new NotifWait(k);
    this.mutex = k.mutex_init('mvm->mutex');
    this.lostWork = k.INIT_WORK((_sys) => this.connectionLostWork());
  }

  // ---- logging -------------------------------------------------------------------
  private info(m: string): void { this.k.dev_info(this.pdev, m); }
  private dbg(m: string): void { this.k.dev_dbg(this.pdev, m); }
  private err(m: string): void { this.k.dev_err(this.pdev, m); }
  private warn(m: string): void { this.k.dev_warn(this.pdev, m); }

  get mac(): Uint8Array | null { return this.nvm?.mac ?? null; }
  get macString(): string { return this.nvm === null ? '' : macToString(this.nvm.mac); }

  // ---- host commands ----------------------------------------------------------------
  /**
   * Sends a sync command and returns its response, or a negated errno after
   * logging. The generic le32 status must be 0 unless `okStatus` says
   * otherwise; `raw` skips the status check.
   */
  private *cmd(id: number, payload: Uint8Array, opts: { raw?: boolean; okStatus?: number; quiet?: boolean } = {}): Co<RxPacket | number> {
    if (this.fwDead) return -EIO;
    const r = yield* this.trans.sendCmd({ id, group: cmdGroup(id), data: [payload], flags: CMD_WANT_SKB });
    const name = cmdName(id, cmdGroup(id));
    if (r.status < 0) {
      if (!opts.quiet) this.err(`${name} failed: ${r.status}`);
      return r.status;
    }
    const resp = r.resp;
    if (resp === undefined) {
      this.err(`${name}: no response packet`);
      return -EIO;
    }
    if (opts.raw) return resp;
    if (resp.payload.length < 4) {
      this.err(`${name}: response of ${resp.payload.length} bytes, expected a 4-byte status`);
      return -EIO;
    }
    const status = le32(resp.payload, 0);
    if (status !== (opts.okStatus ?? 0)) {
      this.err(`${name} failed: firmware status ${hex(status)}`);
      return -EIO;
    }
    return resp;
  }

  private *cmdOk(id: number, payload: Uint8Array, opts: { okStatus?: number } = {}): Co<number> {
    const r = yield* this.cmd(id, payload, opts);
    return typeof r === 'number' ? r : 0;
  }

  // ---- bring-up (mvm/fw.c, ops.c) -------------------------------------------------------
  /** start_hw, INIT image, NVM, calibration, runtime image: the interface is up. 0 or -errno (device stopped). */
  *start(): Co<number> {
    yield* this.k.mutex_lock(this.mutex);
    try {
      this.info('starting hardware');
      const hw = yield* this.trans.startHw();
      if (hw < 0) {
        this.err(`start_hw failed: ${hw}`);
        return hw;
      }
      this.rfkill = this.trans.rfKillAsserted();
      if (this.rfkill) {
        this.err('RF-kill switch is on: radio disabled, cannot load firmware');
        this.state = 'rfkill';
        return -ERFKILL;
      }
      let r = yield* this.runInitUcode();
      if (r < 0) { yield* this.stopDevice(); this.state = this.fwDead ? 'error' : 'down'; return r; }
      // As iwl_mvm_up: the INIT image is stopped, then the hardware is started again for the runtime image.
      yield* this.stopDevice();
      const hw2 = yield* this.trans.startHw();
      if (hw2 < 0) {
        this.err(`start_hw for the runtime image failed: ${hw2}`);
        this.state = 'down';
        return hw2;
      }
      r = yield* this.runRuntimeUcode();
      if (r < 0) { yield* this.stopDevice(); this.state = this.fwDead ? 'error' : 'down'; return r; }
      this.state = 'up';
      this.info(`${this.cfg.ifname} up, MAC ${this.macString}`);
      return 0;
    } finally {
      this.k.mutex_unlock(this.mutex);
    }
  }

  private *stopDevice(): Co<void> {
    this.dbg('stopping device');
    this.running = null;
    this.fwRunning = false;
    yield* this.trans.stopDevice();
  }

  /** Loads `kind` and waits for its ALIVE (iwl_mvm_load_ucode_wait_alive). */
  private *loadUcodeWaitAlive(kind: ImageKind): Co<number> {
    const label = kind === 'init' ? 'INIT' : 'RT';
    const w = this.notif.add([CMD.ALIVE]);
    this.fwDead = false;
    this.running = kind;
    this.info(`loading ${label} ucode (${this.image.sections[kind].length} sections)`);
    const r = yield* this.trans.startFw(this.image, kind);
    if (r < 0) {
      this.notif.remove(w);
      this.err(`Failed to start ${label} ucode: ${r}`);
      return r;
    }
    const wr = yield* this.notif.wait(w, this.cfg.aliveTimeoutMs);
    if (wr < 0) {
      if (wr === -ETIMEDOUT) this.err(`timeout waiting for ALIVE (${this.cfg.aliveTimeoutMs} ms)`);
      else this.err('firmware died while waiting for ALIVE');
      this.err(`Failed to start ${label} ucode: ${wr}`);
      return wr;
    }
    const p = w.pkt!.payload;
    if (p.length !== ALIVE_V3.SIZE) {
      this.err(`Invalid ALIVE response length ${p.length} (ALIVE v3 is ${ALIVE_V3.SIZE} bytes)`);
      this.err(`Failed to start ${label} ucode: ${-EIO}`);
      return -EIO;
    }
    const status = le16(p, ALIVE_V3.STATUS);
    if (status !== ALIVE_STATUS_OK) {
      this.err(`Invalid ALIVE response: status ${hex(status, 4)}`);
      this.err(`Failed to start ${label} ucode: ${-EIO}`);
      return -EIO;
    }
    const scdBase = le32(p, ALIVE_V3.SCD_BASE_PTR);
    this.info(`Alive ucode status ${hex(status, 4)} revision ${hex(le32(p, ALIVE_V3.LMAC_MAJOR))} ${hex(le32(p, ALIVE_V3.LMAC_MINOR))}`
      + `, scd_base_ptr ${hex(scdBase, 8)}`);
    yield* this.trans.fwAlive(scdBase);
    this.fwRunning = true;
    return 0;
  }

  private calibTriggers(ucodeType: number): { flow: number; event: number } {
    const c = this.image.defCalib.find((d) => d.ucodeType === ucodeType);
    return { flow: c?.flowTrigger ?? 0, event: c?.eventTrigger ?? 0 };
  }

  private txChains(): number {
    const t = phyTxChains(this.image.phySku ?? 0);
    return t === 0 ? 0x3 : t;
  }

  private rxChains(): number {
    const r = phyRxChains(this.image.phySku ?? 0);
    return r === 0 ? 0x3 : r;
  }

  private *sendBtConfig(): Co<number> {
    return yield* this.cmdOk(CMD.BT_CONFIG, new Payload(BT_CONFIG_SIZE).u32(0, BT_COEX_DISABLE).b);
  }

  private *sendTxAnt(): Co<number> {
    return yield* this.cmdOk(CMD.TX_ANT_CONFIG, new Payload(TX_ANT_CONFIG_SIZE).u32(0, this.txChains()).b);
  }

  private *sendPhyCfg(ucodeType: number): Co<number> {
    const t = this.calibTriggers(ucodeType);
    const p = new Payload(PHY_CONFIGURATION.SIZE)
      .u32(PHY_CONFIGURATION.PHY_CFG, this.image.phySku ?? 0)
      .u32(PHY_CONFIGURATION.EVENT_TRIGGER, t.event)
      .u32(PHY_CONFIGURATION.FLOW_TRIGGER, t.flow);
    this.dbg(`PHY_CONFIGURATION phy_cfg ${hex(this.image.phySku ?? 0, 8)} event ${hex(t.event)} flow ${hex(t.flow)}`);
    return yield* this.cmdOk(CMD.PHY_CONFIGURATION, p.b);
  }

  /** iwl_run_init_mvm_ucode: ALIVE, BT config, NVM, antennas, PHY config, calibrations, INIT_COMPLETE. */
  private *runInitUcode(): Co<number> {
    this.phyDb.clear();
    let r = yield* this.loadUcodeWaitAlive('init');
    if (r < 0) return r;
    r = yield* this.sendBtConfig();
    if (r < 0) return r;
    r = yield* this.readNvm();
    if (r < 0) return r;
    r = yield* this.sendTxAnt();
    if (r < 0) return r;
    const w = this.notif.add([CMD.INIT_COMPLETE]);
    r = yield* this.sendPhyCfg(UCODE_TYPE.INIT);
    if (r < 0) { this.notif.remove(w); return r; }
    r = yield* this.notif.wait(w, this.cfg.initCompleteTimeoutMs);
    if (r === -ETIMEDOUT) {
      this.err(`Timeout waiting for INIT_COMPLETE (${this.cfg.initCompleteTimeoutMs} ms)`);
      return r;
    }
    if (r < 0) { this.err('firmware died during INIT calibrations'); return r; }
    const st = w.pkt!.payload.length >= 4 ? le32(w.pkt!.payload, 0) : 0;
    if (st !== 0) {
      this.err(`INIT_COMPLETE with status ${hex(st)}: calibration failed`);
      return -EIO;
    }
    this.info(`INIT ucode done: ${this.phyDb.size} PHY DB section(s) (${[...this.phyDb.keys()].sort((a, b) => a - b).join(', ')})`);
    return 0;
  }

  /** iwl_mvm_up after the INIT run: runtime image, PHY DB, antennas, PHY config, BT, scan config, TX queues. */
  private *runRuntimeUcode(): Co<number> {
    let r = yield* this.loadUcodeWaitAlive('runtime');
    if (r < 0) return r;
    for (const type of [...this.phyDb.keys()].sort((a, b) => a - b)) {
      const data = this.phyDb.get(type)!;
      const p = new Payload(PHY_DB.HDR + data.length).u16(PHY_DB.TYPE, type).u16(PHY_DB.LENGTH, data.length).bytes(PHY_DB.DATA, data);
      r = yield* this.cmdOk(CMD.PHY_DB, p.b);
      if (r < 0) return r;
    }
    r = yield* this.sendTxAnt();
    if (r < 0) return r;
    r = yield* this.sendPhyCfg(UCODE_TYPE.REGULAR);
    if (r < 0) return r;
    r = yield* this.sendBtConfig();
    if (r < 0) return r;
    r = yield* this.sendScanConfig();
    if (r < 0) return r;
    yield* this.trans.txqEnable(TXQ.MGMT, TX_FIFO.VO);
    yield* this.trans.txqEnable(TXQ.DATA, TX_FIFO.BE);
    this.dataStopped = false;
    return 0;
  }

  // ---- NVM (mvm/nvm.c) -------------------------------------------------------------------
  /** Reads one section in NVM_CHUNK_SIZE chunks until a short read; -ENOENT if the firmware has no such section. */
  private *readNvmSection(type: number): Co<Uint8Array | number> {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const p = new Payload(NVM_ACCESS.SIZE)
        .u8(NVM_ACCESS.OP, NVM_OP_READ).u8(NVM_ACCESS.TARGET, 0)
        .u16(NVM_ACCESS.TYPE, type).u16(NVM_ACCESS.OFFSET, offset).u16(NVM_ACCESS.LENGTH, NVM_CHUNK_SIZE);
      const r = yield* this.cmd(CMD.NVM_ACCESS, p.b, { raw: true });
      if (typeof r === 'number') return r;
      const d = r.payload;
      if (d.length < NVM_ACCESS_RESP.HDR) {
        this.err(`NVM_ACCESS response of ${d.length} bytes, shorter than its ${NVM_ACCESS_RESP.HDR}-byte header`);
        return -EIO;
      }
      const status = le16(d, NVM_ACCESS_RESP.STATUS);
      const len = le16(d, NVM_ACCESS_RESP.LENGTH);
      const off = le16(d, NVM_ACCESS_RESP.OFFSET);
      if (status !== 0) {
        if (offset === 0) return -ENOENT;
        this.err(`NVM section ${type}: read at offset ${offset} failed with status ${status}`);
        return -EIO;
      }
      if (off !== offset || len > NVM_CHUNK_SIZE || d.length < NVM_ACCESS_RESP.DATA + len) {
        this.err(`NVM section ${type}: bad response (offset ${off}, length ${len}, ${d.length - NVM_ACCESS_RESP.DATA} data bytes) to a read at ${offset}`);
        return -EIO;
      }
      chunks.push(d.slice(NVM_ACCESS_RESP.DATA, NVM_ACCESS_RESP.DATA + len));
      offset += len;
      if (len < NVM_CHUNK_SIZE) break;
      if (offset >= NVM_MAX_SECTION) {
        this.err(`NVM section ${type}: longer than ${NVM_MAX_SECTION} bytes`);
        return -EIO;
      }
    }
    const out = new Uint8Array(offset);
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    return out;
  }

  private *readNvm(): Co<number> {
    const sections = new Map<number, Uint8Array>();
    const names: Record<number, string> = { [NVM_SECTION.HW]: 'HW', [NVM_SECTION.SW]: 'SW', [NVM_SECTION.CALIBRATION]: 'CALIBRATION', [NVM_SECTION.PRODUCTION]: 'PRODUCTION' };
    for (const type of [NVM_SECTION.HW, NVM_SECTION.SW, NVM_SECTION.CALIBRATION, NVM_SECTION.PRODUCTION]) {
      const r = yield* this.readNvmSection(type);
      if (r === -ENOENT) { this.dbg(`NVM section ${names[type]} (${type}) not present`); continue; }
      if (typeof r === 'number') return r;
      this.dbg(`NVM section ${names[type]} (${type}): ${r.length} bytes`);
      sections.set(type, r);
    }
    const nvm = parseNvm(sections.get(NVM_SECTION.HW), sections.get(NVM_SECTION.SW));
    if (typeof nvm === 'string') {
      this.err(`NVM: ${nvm}`);
      return -EINVAL;
    }
    this.nvm = nvm;
    const n24 = nvm.channels.filter((c) => c.channel <= 14).length;
    this.info(`NVM version ${hex(nvm.version)}, SKU ${hex(nvm.sku)}, MAC ${macToString(nvm.mac)}, `
      + `${nvm.channels.length} channels (${n24} at 2.4 GHz, ${nvm.channels.length - n24} at 5 GHz)`);
    return 0;
  }

  // ---- notifications (ops.c iwl_mvm_rx) --------------------------------------------------------
  rx(pkt: RxPacket): void {
    this.notif.notify(pkt);
    switch (pkt.cmd) {
      case CMD.CALIB_RES_NOTIF_PHY_DB: {
        const p = pkt.payload;
        if (p.length < PHY_DB.HDR) { this.warn(`short CALIB_RES_NOTIF_PHY_DB (${p.length} bytes)`); return; }
        const type = le16(p, PHY_DB.TYPE);
        const len = Math.min(le16(p, PHY_DB.LENGTH), p.length - PHY_DB.HDR);
        this.phyDb.set(type, p.slice(PHY_DB.DATA, PHY_DB.DATA + len));
        this.dbg(`PHY DB section type ${type}: ${len} bytes`);
        return;
      }
      case CMD.RX_PHY:
        this.rxPhy(pkt.payload);
        return;
      case CMD.RX_MPDU:
        this.rxMpdu(pkt.payload);
        return;
      case CMD.TX:
        if (seqQueue(pkt.seq) !== TXQ.CMD) this.txResp(pkt);
        return;
      case CMD.REPLY_ERROR: {
        const p = pkt.payload;
        this.err(`FW error in SYNC CMD ${cmdName(p[1] ?? 0)}: error type ${p[0] ?? 0}, seq ${hex(le16(p, 4), 4)}, info ${hex(le32(p, 8), 8)}`);
        return;
      }
      case CMD.SCAN_ITERATION_COMPLETE_UMAC:
        this.dbg(`scan iteration complete: uid ${le32(pkt.payload, 0)}, ${pkt.payload[4] ?? 0} channel(s)`);
        return;
      default:
    }
  }

  nicError(kind: 'sw' | 'hw', csrInt: number): void {
    this.stats.fwErrors++;
    if (kind === 'sw') this.err(`Microcode SW error detected (CSR_INT ${hex(csrInt, 8)}): firmware is dead`);
    else this.err(`HW error (CSR_INT ${hex(csrInt, 8)}): device is dead`);
    this.fwDead = true;
    this.fwRunning = false;
    this.state = 'error';
    if (this.conn !== null) {
      this.conn = null;
      this.info(`${this.cfg.ifname}: link lost (firmware error)`);
    }
    this.notif.abortAll();
    this.abortMgmtWaits();
    this.onTxWake?.();
  }

  rfKill(asserted: boolean): void {
    if (asserted === this.rfkill) return;
    this.rfkill = asserted;
    this.warn(`RF_KILL bit toggled to ${asserted ? 'disable' : 'enable'} radio`);
    if (asserted) {
      if (this.conn !== null) {
        this.info(`${this.cfg.ifname}: link lost (RF-kill)`);
        this.conn = null;
      }
      if (this.state !== 'error') this.state = 'rfkill';
      this.abortMgmtWaits();
      this.onTxWake?.();
    } else if (this.state === 'rfkill') {
      this.state = this.fwRunning ? 'up' : 'down';
    }
  }

  queueStuck(queue: number): void {
    this.stats.queueStuck++;
    this.err(`Queue ${queue} is stuck (no progress for 2500 ms)`);
  }

  private abortMgmtWaits(): void {
    if (this.mgmtWait !== null) this.k.complete(this.mgmtWait.done);
    if (this.mgmtTxDone !== null) this.k.complete(this.mgmtTxDone);
  }

  private rxPhy(p: Uint8Array): void {
    if (p.length < RX_PHY.ENERGY_WORD + 4) { this.stats.rxBadMpdu++; return; }
    const w = le32(p, RX_PHY.ENERGY_WORD);
    let best = 0;
    for (const e of [w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff]) if (e !== 0 && (best === 0 || e < best)) best = e;
    this.lastPhy = { channel: le16(p, RX_PHY.CHANNEL), signal: best === 0 ? -100 : -best };
  }

  private rxMpdu(p: Uint8Array): void {
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
      if ((h.stype === STYPE.DEAUTH || h.stype === STYPE.DISASSOC) && this.conn !== null && macEqual(h.addr2, 0, this.conn.bss.bssidBytes)) {
        const reason = parseReason(f, h) ?? 0;
        const what = h.stype === STYPE.DEAUTH ? 'deauthenticated' : 'disassociated';
        this.info(`${this.cfg.ifname}: ${what} by ${this.conn.bss.bssid}: reason ${reason}`);
        this.connectionLost();
      }
      return;
    }
    if (h.ftype !== FTYPE_DATA) return;
    const c = this.conn;
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
  private connectionLost(): void {
    if (this.conn === null) return;
    // Stop the firmware from transmitting as associated at once: this runs in
    // RX context, which must not sleep, so the MAC update goes out async; the
    // rest of the teardown (synchronous commands) follows from a work item.
    if (this.conn.assoc && !this.fwDead) {
      const r = this.trans.sendCmdAsync({ id: CMD.MAC_CONTEXT, group: 0, data: [this.macCtxt(FW_CTXT_ACTION.MODIFY, this.conn.bss.bssidBytes, false, 0)], flags: CMD_ASYNC });
      if (r === 0) this.conn.assoc = false;
    }
    this.lostConn = this.conn;
    this.conn = null;
    if (this.state === 'connected' || this.state === 'connecting') this.state = 'up';
    this.onTxWake?.();
    this.k.schedule_work(this.lostWork);
  }

  private lostConn: Connection | null = null;

  private *connectionLostWork(): Co<void> {
    yield* this.k.mutex_lock(this.mutex);
    const c = this.lostConn;
    this.lostConn = null;
    if (c !== null && !this.fwDead) yield* this.teardown(c);
    this.k.mutex_unlock(this.mutex);
  }

  // ---- TX (mvm/tx.c) ------------------------------------------------------------------------
  private txResp(pkt: RxPacket): void {
    const q = seqQueue(pkt.seq);
    const idx = seqIndex(pkt.seq);
    const p = pkt.payload;
    const status = p.length >= TX_RESP.SIZE ? le32(p, TX_RESP.STATUS) & 0xff : 0;
    const freed = this.trans.reclaim(q, (idx + 1) & 0xff);
    if (status !== TX_STATUS.SUCCESS) {
      this.stats.txFailed++;
      this.dbg(`TX on queue ${q} index ${idx} failed: status ${hex(status, 2)} (${p[TX_RESP.FAILURE_FRAME] ?? 0} retries)`);
    }
    if (q === TXQ.MGMT && this.mgmtTxDone !== null) this.k.complete(this.mgmtTxDone);
    if (q === TXQ.DATA && this.dataStopped && freed >= 0 && this.trans.txqSpace(TXQ.DATA) >= TXQ_WAKE_SPACE) {
      this.dataStopped = false;
      this.onTxWake?.();
    }
  }


  private rateFor(channel: number): number {
    return channel <= 14 ? RATE_PLCP_1M | RATE_MCS_CCK : RATE_PLCP_6M;
  }

  private txCmd(len: number, channel: number, ack: boolean, staId: number): Uint8Array {
    return new Payload(TX_CMD.SIZE)
      .u16(TX_CMD.LEN, len).u16(TX_CMD.OFFLOAD_ASSIST, 0)
      .u32(TX_CMD.TX_FLAGS, ack ? TX_CMD_FLG_ACK : 0)
      .u32(TX_CMD.RATE_N_FLAGS, this.rateFor(channel))
      .u8(TX_CMD.STA_ID, staId).u8(TX_CMD.SEC_CTL, 0).u8(TX_CMD.TID, 0)
      .u32(TX_CMD.LIFE_TIME, 0xffffffff).b;
  }

  /** Queues an 802.11 frame on `queue`; 0 or -errno (-ENOSPC: ring full). */
  private txFrame(queue: number, frame: Uint8Array, channel: number, ack: boolean): number {
    if (this.fwDead) return -EIO;
    const skb = this.k.alloc_skb(frame.length, queue === TXQ.DATA ? 'iwlwifi:tx-data' : 'iwlwifi:tx-mgmt');
    this.k.skb_put_data(skb, frame);
    const r = this.trans.tx(queue, this.txCmd(frame.length, channel, ack, STA_ID_AP), skb, HDR_LEN_3ADDR);
    if (r < 0) this.k.kfree_skb(skb);
    return r;
  }

  private nextSeq(): number {
    const s = this.seqNum;
    this.seqNum = (this.seqNum + 1) & 0xfff;
    return s;
  }

  /**
   * netdev TX (ieee80211_subif_start_xmit): an Ethernet frame to the AP.
   * 0, -EINVAL (shorter than 14 bytes or too long), -ENETDOWN (not
   * connected), -EAGAIN (queue stopped: retry after onTxWake).
   */
  xmit(eth: Uint8Array): number {
    if (eth.length < ETH_HLEN || eth.length > MAX_ETH_FRAME) return -EINVAL;
    const c = this.conn;
    const own = this.mac;
    if (c === null || !c.assoc || own === null || this.fwDead) return -ENETDOWN;
    if (this.dataStopped) return -EAGAIN;
    const f = ethToWlan(eth, own, c.bss.bssidBytes, this.nextSeq());
    if (f === null) return -EINVAL;
    const r = this.txFrame(TXQ.DATA, f, c.bss.channel, !isMulticast(eth, 0));
    if (r < 0) {
      this.dataStopped = true;
      if (r !== -ENOSPC) { this.stats.txDropped++; return r; }
      return -EAGAIN;
    }
    this.stats.txPackets++;
    if (this.trans.txqSpace(TXQ.DATA) < TXQ_STOP_SPACE) this.dataStopped = true;
    return 0;
  }

  // ---- scan (mvm/scan.c, UMAC) --------------------------------------------------------------
  private scanChannels(): number[] {
    const limit = this.image.nScanChannels ?? DEFAULT_N_SCAN_CHANNELS;
    return (this.nvm?.channels ?? []).map((c) => c.channel).slice(0, limit);
  }

  /** UMAC scan is what this driver speaks; firmware without it (capability 2) scans in the LMAC, which is not ported. */
  private get umacScan(): boolean {
    return this.image.capabilities.has(CAPA.UMAC_SCAN);
  }

  private *sendScanConfig(): Co<number> {
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

  private busyOrDown(): number {
    if (this.fwDead || this.state === 'error') return -EIO;
    if (this.rfkill || this.state === 'rfkill') return -ERFKILL;
    if (this.state === 'down' || !this.fwRunning) return -ENETDOWN;
    return 0;
  }

  /**
   * Runs one UMAC scan (all valid channels, active with the wildcard SSID,
   * plus a directed probe for `ssid` if given) and returns the number of
   * BSSs found, or -EBUSY / -ERFKILL / -EIO / -ETIMEDOUT.
   */
  *scan(ssid?: string): Co<number> {
    return yield* this.control(() => this.scanLocked(ssid));
  }

  private *scanLocked(ssid: string | undefined): Co<number> {
    if ((this.state as WifiState) === 'scanning') return -EBUSY;
    const prev = this.state;
    this.state = 'scanning';
    const r = yield* this.doScan(ssid);
    if (this.state === 'scanning') this.state = prev === 'connected' && this.conn === null ? 'up' : prev;
    return r;
  }

  /**
   * Runs a control operation (scan, connect) under the op mode's mutex;
   * refused while another one runs or the device is down, checked before
   * and again after taking the mutex.
   */
  private *control(op: () => Co<number>): Co<number> {
    if (this.state === 'scanning' || this.state === 'connecting') return -EBUSY;
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

  private *doScan(ssid: string | undefined): Co<number> {
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
      return this.rfkill ? -ERFKILL : -EIO;
    }
    if (status !== SCAN_STATUS_DONE) this.warn(`scan ${uid} completed with status ${status}`);
    this.info(`scan ${uid} done: ${this.bss.size} BSS(s)`);
    return this.bss.size;
  }

  // ---- connect / disconnect (mac80211 mlme.c; mvm contexts) -----------------------------------
  private phyCtxt(action: number, channel: number): Uint8Array {
    return new Payload(PHY_CONTEXT.SIZE)
      .u32(PHY_CONTEXT.ID_AND_COLOR, idAndColor(PHY_ID, 0)).u32(PHY_CONTEXT.ACTION, action)
      .u32(PHY_CONTEXT.APPLY_TIME, 0).u32(PHY_CONTEXT.TX_PARAM_COLOR, 0)
      .u8(PHY_CONTEXT.BAND, channel <= 14 ? 0 : 1).u8(PHY_CONTEXT.CHANNEL, channel)
      .u8(PHY_CONTEXT.WIDTH, 0).u8(PHY_CONTEXT.CTRL_POS, 0).u32(PHY_CONTEXT.TXCHAIN, this.txChains()).b;
  }

  private macCtxt(action: number, bssid: Uint8Array, assoc: boolean, aid: number): Uint8Array {
    return new Payload(MAC_CONTEXT.SIZE)
      .u32(MAC_CONTEXT.ID_AND_COLOR, idAndColor(MAC_ID, 0)).u32(MAC_CONTEXT.ACTION, action)
      .u32(MAC_CONTEXT.MAC_TYPE, MAC_TYPE_BSS_STA).u32(MAC_CONTEXT.TSF_ID, 0)
      .bytes(MAC_CONTEXT.NODE_ADDR, this.nvm!.mac).bytes(MAC_CONTEXT.BSSID, bssid)
      .u32(MAC_CONTEXT.FILTER_FLAGS, 0).u32(MAC_CONTEXT.IS_ASSOC, assoc ? 1 : 0).u32(MAC_CONTEXT.ASSOC_ID, aid).b;
  }

  private bindingCmd(action: number): Uint8Array {
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

  private *connectLocked(ssid: string): Co<number> {
    if (this.conn !== null) {
      if (this.conn.ssid === ssid && this.conn.assoc) return 0;
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
    this.state = 'connecting';
    const c: Connection = { bss, ssid, aid: 0, phy: false, mac: false, binding: false, sta: false, assoc: false };
    this.conn = c;
    const r = yield* this.doConnect(c);
    if (r < 0) {
      if (this.conn === c) this.conn = null;
      if (!this.fwDead) yield* this.teardown(c);
      if (this.state === 'connecting') this.state = 'up';
      return r;
    }
    if (this.conn !== c) return -ENETDOWN;
    this.state = 'connected';
    this.info(`${this.cfg.ifname}: associated with ${ssid} (${bss.bssid}), AID ${c.aid}`);
    return 0;
  }

  private *doConnect(c: Connection): Co<number> {
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
  private *mgmtExchange(c: Connection, what: 'auth' | 'assoc', stypes: number[], build: () => Uint8Array, deadline: number):
    Co<{ frame: Uint8Array; hdr: Hdr80211 } | number> {
    const bssid = c.bss.bssid;
    for (let attempt = 1; attempt <= this.cfg.mgmtRetries; attempt++) {
      if (this.conn !== c) return -ENETDOWN;
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
      if (this.fwDead) return -EIO;
      if (this.rfkill) return -ERFKILL;
      if (mw.frame !== null && mw.hdr !== null) return { frame: mw.frame, hdr: mw.hdr };
    }
    this.err(`${this.cfg.ifname}: ${what === 'auth' ? 'authentication' : 'association'} with ${bssid} timed out`);
    return -ETIMEDOUT;
  }

  /** Removes what `c` added in the firmware, newest first (station, binding, MAC, PHY). */
  private *teardown(c: Connection): Co<void> {
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

  private *doDisconnect(): Co<number> {
    const c = this.conn;
    if (c === null) return 0;
    this.conn = null;
    if (this.state === 'connected' || this.state === 'connecting') this.state = 'up';
    this.onTxWake?.();
    if (!this.fwDead && !this.rfkill && c.sta) {
      const done = this.k.init_completion();
      this.mgmtTxDone = done;
      const r = this.txFrame(TXQ.MGMT, buildDeauth(c.bss.bssidBytes, this.nvm!.mac, c.bss.bssidBytes, this.nextSeq(), WLAN_REASON_DEAUTH_LEAVING), c.bss.channel, true);
      if (r === 0) yield* this.k.wait_for_completion_timeout(done, this.k.msecs_to_jiffies(100));
      this.mgmtTxDone = null;
    }
    if (!this.fwDead) yield* this.teardown(c);
    this.info(`${this.cfg.ifname}: disconnected from ${c.ssid} (${c.bss.bssid}) (Reason: ${WLAN_REASON_DEAUTH_LEAVING}=DEAUTH_LEAVING)`);
    return 0;
  }

  // ---- status ---------------------------------------------------------------------------------
  statusText(): string {
    const c = this.conn;
    return `state=${this.state}\nssid=${c?.ssid ?? ''}\nbssid=${c?.bss.bssid ?? ''}\nchannel=${c?.bss.channel ?? ''}\nmac=${this.macString}\n`;
  }

  /** Frees driver-held frames and stops the device (remove / probe failure). */
  *shutdown(): Co<void> {
    this.rxQueue.length = 0;
    if (this.fwRunning) yield* this.stopDevice();
    this.state = 'down';
  }
}

/** Parses the HW and SW NVM sections (MAC, SKU, channel flags); an error string when unusable. */
export function parseNvm(hw: Uint8Array | undefined, sw: Uint8Array | undefined): NvmData | string {
  if (hw === undefined) return 'HW section missing';
  if (sw === undefined) return 'SW section missing';
  if (hw.length < NVM_HW.HW_ADDR + 6) return `HW section is ${hw.length} bytes, too short for the MAC address at ${hex(NVM_HW.HW_ADDR)}`;
  if (sw.length < NVM_SW.CHANNELS) return `SW section is ${sw.length} bytes, too short for its header (${NVM_SW.CHANNELS} bytes)`;
  const mac = hw.slice(NVM_HW.HW_ADDR, NVM_HW.HW_ADDR + 6);
  if (!isValidUnicastMac(mac)) return `invalid MAC address ${macToString(mac)} in the HW section`;
  const sku = le16(sw, NVM_SW.SKU);
  const channels: NvmData['channels'] = [];
  NVM_CHANNELS.forEach((channel, i) => {
    const o = NVM_SW.CHANNELS + 2 * i;
    if (o + 2 > sw.length) return;
    const flags = le16(sw, o);
    if ((flags & NVM_CHANNEL_VALID) === 0) return;
    const band24 = channel <= 14;
    if (band24 && (sku & NVM_SKU.BAND_24) === 0) return;
    if (!band24 && (sku & NVM_SKU.BAND_52) === 0) return;
    channels.push({ channel, active: (flags & NVM_CHANNEL_ACTIVE) !== 0 });
  });
  if (channels.length === 0) return `no valid channel (SKU ${hex(sku)})`;
  return { mac, version: le16(sw, NVM_SW.VERSION), radioCfg: le16(sw, NVM_SW.RADIO_CFG), sku, channels };
}
