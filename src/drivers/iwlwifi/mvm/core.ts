/**
 * Core of the mvm op mode (the shared part of Linux mvm/mvm.h and ops.c): configuration, statistics, the op mode's fields, logging and synchronous host commands. The op mode is a chain of classes, one per Linux file it mirrors: core -> nvm -> tx -> fw -> scan -> mlme (mac-ctxt.c, sta.c, mac80211 mlme.c) -> rx -> ops.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO } from '../../../kernel/errno.js';
import { cmdGroup, cmdName } from '../fw/api.js';
import { type FirmwareImage } from '../fw/file.js';
import type { Mutex } from '../../linux-kpi/ext-types.js';
import type { Completion } from '../../linux-kpi/completion.js';
import type { LinuxKpi, PciDev } from '../../linux-kpi/kpi.js';
import { CMD_WANT_SKB, type IwlTrans, type RxPacket } from '../trans-api.js';
import { BssList } from '../mac80211/bss.js';
import { ETH_HLEN, macToString, type Hdr80211 } from '../mac80211/ieee80211.js';
import { NotifWait } from './notif-wait.js';
import { STOPPED, connOf, fwDeadOf, rfkillOf, wifiStateOf, type Connection, type MvmState, type WifiState } from './state.js';

export type { Connection, Link, MvmState, WifiState } from './state.js';

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
  /** N_HW_ADDRS: MAC addresses the NVM reserves for this adapter. */
  nHwAddrs: number;
  /** Antennas from the radio config word (0 = not given). */
  validTxAnt: number;
  validRxAnt: number;
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
export const PHY_ID = 0;
export const MAC_ID = 0;
/** Data queue flow control (ieee80211_stop_queue / wake_queue). */
export const TXQ_STOP_SPACE = 8;
export const TXQ_WAKE_SPACE = 32;
export const NVM_MAX_SECTION = 0x10000;
export const MAX_ETH_FRAME = ETH_HLEN + 2304 - 8;

export interface MgmtWait {
  bssid: Uint8Array;
  stypes: number[];
  frame: Uint8Array | null;
  hdr: Hdr80211 | null;
  done: Completion;
}

export const le16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
export const le32 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) | ((b[o + 1] ?? 0) << 8) | ((b[o + 2] ?? 0) << 16) | ((b[o + 3] ?? 0) << 24)) >>> 0;
export const hex = (n: number, w = 0): string => `0x${(n >>> 0).toString(16).padStart(w, '0')}`;

export class Payload {
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

export abstract class MvmCore {
  readonly notif: NotifWait;
  readonly mutex: Mutex;
  readonly bss = new BssList();
  readonly phyDb = new Map<number, Uint8Array>();
  readonly stats: MvmStats = { txPackets: 0, txFailed: 0, txDropped: 0, rxPackets: 0, rxDropped: 0, rxBadMpdu: 0, rxCrcDropped: 0, queueStuck: 0, fwErrors: 0 };
  nvm: NvmData | null = null;
  /** The life cycle (state.ts); every transition replaces it whole. */
  protected mvmState: MvmState = STOPPED;
  scanUid = 0;
  /** Received Ethernet frames for the network scheme (bounded). */
  readonly rxQueue: Uint8Array[] = [];
  /** Called (NAPI context) when a frame was queued on rxQueue. */
  onRxFrame: (() => void) | undefined;
  /** Called when the data queue can take frames again, or the link went down (writers retry / fail). */
  onTxWake: (() => void) | undefined;
  dataStopped = false;
  protected seqNum = 0;
  protected lastPhy = { channel: 0, signal: -100 };
  protected mgmtWait: MgmtWait | null = null;
  /** unique_id of the running session-protection time event, null when none. */
  protected teUid: number | null = null;
  protected mgmtTxDone: Completion | null = null;
  protected readonly lostWork;

  constructor(
    protected readonly k: LinuxKpi,
    protected readonly pdev: PciDev,
    readonly trans: IwlTrans,
    readonly image: FirmwareImage,
    readonly cfg: MvmConfig,
  ) {
    this.notif = new NotifWait(k);
    this.mutex = k.mutex_init('mvm->mutex');
    this.lostWork = k.INIT_WORK((_sys) => this.connectionLostWork());
  }

  // ---- logging -------------------------------------------------------------------
  protected info(m: string): void { this.k.dev_info(this.pdev, m); }
  protected dbg(m: string): void { this.k.dev_dbg(this.pdev, m); }
  protected err(m: string): void { this.k.dev_err(this.pdev, m); }
  protected warn(m: string): void { this.k.dev_warn(this.pdev, m); }

  // ---- life cycle (state.ts) ---------------------------------------------------------
  /** The life cycle, read-only. */
  get lifecycle(): MvmState { return this.mvmState; }
  /** As the status scheme shows it. */
  get state(): WifiState { return wifiStateOf(this.mvmState); }
  /** The connection being made, kept across a scan, or established; null when none. */
  protected get connection(): Connection | null { return connOf(this.mvmState); }
  protected get firmwareDead(): boolean { return fwDeadOf(this.mvmState); }
  protected get rfkillOn(): boolean { return rfkillOf(this.mvmState); }

  get mac(): Uint8Array | null { return this.nvm?.mac ?? null; }
  get macString(): string { return this.nvm === null ? '' : macToString(this.nvm.mac); }
  /** The address as 6 bytes (zeros before the NVM was read). */
  get macBytes(): Uint8Array { return this.nvm === null ? new Uint8Array(6) : Uint8Array.from(this.nvm.mac); }

  // ---- host commands ----------------------------------------------------------------
  /**
   * Sends a sync command and returns its response, or a negated errno after
   * logging. The generic le32 status must be 0 unless `okStatus` says
   * otherwise; `raw` skips the status check.
   */
  protected *cmd(id: number, payload: Uint8Array, opts: { raw?: boolean; okStatus?: number; quiet?: boolean } = {}): Co<RxPacket | number> {
    if (this.firmwareDead) return -EIO;
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

  protected *cmdOk(id: number, payload: Uint8Array, opts: { okStatus?: number } = {}): Co<number> {
    const r = yield* this.cmd(id, payload, opts);
    return typeof r === 'number' ? r : 0;
  }

  /** Defined by scan.ts (the runtime bring-up sends the scan config). */
  protected abstract sendScanConfig(): Co<number>;
  /** Defined by rx.ts (the work item that tears a lost connection down). */
  protected abstract connectionLostWork(): Co<void>;
}
