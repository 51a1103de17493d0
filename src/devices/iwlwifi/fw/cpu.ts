/**
 * The firmware CPU of the simulated 7265D: what runs on the adapter after the
 * host loaded an image into SRAM and released the CPU (fw-cpu-api.ts).
 *
 * Lifecycle (`state`):
 *   off     -- held in reset; commands ignored (guestErr).
 *   booting -- released; verifying the image in SRAM (BOOT_TIME).
 *   running -- ALIVE (status 0xCAFE) posted; the image's command set is served.
 *   dead    -- bad image (SW_ERR), no ALIVE / bad ALIVE status, or a hardware
 *              error (HW_ERR); commands ignored (guestErr) until halt().
 *
 * `running` is true only in `running` (an ALIVE with a bad status reports a
 * failed CPU, so the CPU is not counted as running).
 *
 * Everything the CPU does later is an entry in `pending` (plain data keyed by
 * id) with one event on the queue whose a0 is that id; halt() cancels them
 * all. Command processing: a response is posted COMMAND_LATENCY (+ up to 8 us
 * from the rng) after the command, plus FwFaults.delayCmd for that command;
 * follow-up notifications come after the response.
 *
 * Responses keep command order (each at least 2 us after the previous one);
 * FwFaults.delayCmd's extra delay does not hold back later commands.
 *
 * Hostile timing (FwConfig.hostile): ALIVE, command responses, the start and
 * the status of a transmission take seeded latencies from HostileFwTiming
 * instead, and every packet the CPU sends reaches the RX ring (RX DMA: RB,
 * status, interrupt) a seeded delay later, in the order it was sent.
 *
 * Command sets: see INIT_CMDS / RUNTIME_CMDS. A WoWLAN image answers ECHO
 * only. A command the running image does not serve (unknown, the other
 * image's, or a known id in the wrong group) gets what real firmware sends:
 * REPLY_ERROR (struct iwl_error_resp: error_type FW_ERR_UNKNOWN_CMD, cmd_id,
 * bad_cmd_seq_num = the command's sequence, error_service 0, timestamp) as a
 * notification (sequence bit 15), and no response, so a driver waiting for
 * one times out; plus a guestErr naming the reason. A payload shorter than
 * the command's layout gets the generic status response STATUS_BAD_PARAM
 * plus a guestErr.
 */
import { fnvArray, fnvNumber, fnvWord, FNV_OFFSET } from '../../../sim/hash.js';
import { formatTime, ms, us, type Duration } from '../../../sim/time.js';
import type { EventHandle } from '../../../sim/event-queue.js';
import { verifyLoadedImage } from '../firmware/index.js';
import type { IwlwifiGuestErrorCode } from '../guest-errors.js';
import { CAPA, SIMRUN_CAPA } from '../firmware/tlv.js';
import {
  ALIVE_STATUS_ERR, ALIVE_STATUS_OK, BT_COEX_MODE, BT_CONFIG, CMD, CMD_HDR_WIDE, FW_ERR, GROUP, SEQ_UNSOLICITED, STATUS_BAD_PARAM,
  STATUS_OK, TX_ANT_CONFIG_SIZE, cmdGroup, cmdHeaderSize, cmdName, seqOf,
} from '../fw-api.js';
import type { FirmwareCpu, FirmwareHost } from '../fw-cpu-api.js';
import { INT, SCD } from '../regs.js';
import type { AirFrame } from '../rf/types.js';
import { nvmAccess, phyConfiguration, phyDb, type InitState, newInitState } from './init-flow.js';
import { buildNvm, type Nvm } from './nvm.js';
import { alivePayload, rd16, rd32, replyErrorPayload, statusPayload } from './packets.js';
import { type TimeEventState, lq, macPmPowerTable, newTimeEventState, powerTable, sfCfg, sharedMemCfg, timeEvent } from './runtime-cfg.js';
import { type ScanState, type ScanConfig, scanAbortCmd, scanCfg, scanReq, scanStep, abortScan } from './scan.js';
import {
  type PendingTx, type StationState, addSta, bindingContext, deliverRx, macContext, newStationState, phyContext, removeSta, txCmd,
  txSend, stationHash, beaconWatch, beaconHeard,
} from './station.js';
import { HostileFwTiming } from './hostile-timing.js';
import type { FwConfig } from './types.js';

export type CpuState = 'off' | 'booting' | 'running' | 'dead';
const NO_ALIVE = 'the image never posted ALIVE';
const STATE_CODE: Readonly<Record<CpuState, number>> = { off: 0, booting: 1, running: 2, dead: 3 };

/** Time from release to ALIVE (image check), plus up to 0.5 ms from the rng. */
export const BOOT_TIME = ms(2);
/** Command -> response latency, plus up to 8 us from the rng. */
export const COMMAND_LATENCY = us(40);

/** Commands the INIT image serves (cmd ids, group per cmdGroup). */
export const INIT_CMDS: ReadonlySet<number> = new Set([
  CMD.BT_CONFIG, CMD.NVM_ACCESS, CMD.TX_ANT_CONFIG, CMD.PHY_CONFIGURATION, CMD.ECHO, CMD.SHARED_MEM_CFG,
]);
/** Commands the runtime image serves. */
export const RUNTIME_CMDS: ReadonlySet<number> = new Set([
  CMD.PHY_DB, CMD.TX_ANT_CONFIG, CMD.PHY_CONFIGURATION, CMD.BT_CONFIG, CMD.ECHO, CMD.SCAN_CFG, CMD.SCAN_REQ_UMAC, CMD.SCAN_ABORT_UMAC,
  CMD.PHY_CONTEXT, CMD.MAC_CONTEXT, CMD.BINDING_CONTEXT, CMD.ADD_STA, CMD.REMOVE_STA, CMD.TX, CMD.NVM_ACCESS, CMD.SHARED_MEM_CFG,
  CMD.POWER_TABLE, CMD.MAC_PM_POWER_TABLE, CMD.TIME_EVENT, CMD.LQ, CMD.SF_CFG,
]);
const WOWLAN_CMDS: ReadonlySet<number> = new Set([CMD.ECHO]);

/** Quirk bit of a SIMRUN_CAPA capability (bit b = capability 96 + b). */
const quirkBit = (capa: number): number => (1 << (capa - 96)) >>> 0;

/** Work scheduled for later; `pending` maps an id to one of these. */
export type Action =
  | { k: 'boot' }
  | { k: 'post'; cmd: number; group: number; seq: number; payload: Uint8Array; notif: boolean; mark?: Mark }
  /** Hostile timing: a packet sent earlier reaches the RX ring. */
  | { k: 'rx-dma'; cmd: number; group: number; seq: number; payload: Uint8Array }
  | { k: 'hw-err' }
  | { k: 'scan' }
  | { k: 'tx'; tx: PendingTx }
  | { k: 'rx'; frame: AirFrame }
  | { k: 'bcn-watch'; mac: number }
  | { k: 'bcn'; frame: AirFrame };

/** A milestone recorded when a scheduled packet goes out. */
export interface Mark {
  name: string;
  a: number;
  b: number;
}

/** The command being handled. */
export interface CurrentCmd {
  cmd: number;
  group: number;
  seq: number;
  queue: number;
  /** When the response goes out, relative to now. */
  respDelay: Duration;
  /** The part of respDelay that FwFaults.delayCmd added. */
  extra: number;
}

export class FwCore implements FirmwareCpu {
  state: CpuState = 'off';
  /** Why the CPU is `dead` (stall diagnosis), '' otherwise. */
  deadWhy = '';
  /** 1 INIT, 2 runtime, 3 WoWLAN; 0 before a verified image. */
  kindCode = 0;
  ver = 0;
  build = 0;
  quirks = 0;
  /** Capability words of the running image (word k = capabilities 32k..32k+31). */
  capa: number[] = [0, 0, 0, 0];
  /** API-flag words of the running image (word k = API flags 32k..32k+31): which command layouts it speaks. */
  api: number[] = [0, 0, 0, 0];
  rfKilled = false;
  readonly nvm: Nvm;
  init: InitState = newInitState();
  scanCfg: ScanConfig | null = null;
  scan: ScanState | null = null;
  sta: StationState = newStationState();
  te: TimeEventState = newTimeEventState();
  /** BT coex mode of the last BT_CONFIG (-1 before one). */
  btMode = -1;
  /** Counter for 802.11 sequence numbers of frames the firmware builds. */
  seqNo = 0;
  cur: CurrentCmd = { cmd: 0, group: 0, seq: 0, queue: 0, respDelay: 0 as Duration, extra: 0 };
  readonly counters = {
    commands: 0, responses: 0, notifications: 0, scans: 0, txFrames: 0, rxFrames: 0, rxFiltered: 0, guestErrs: 0,
    ignored: 0, rxDropped: 0,
  };

  private readonly target: number;
  private readonly pending = new Map<number, { action: Action; handle: EventHandle }>();
  private nextId = 1;
  private releasedAt = 0;
  /** Time of the latest (undelayed) response, so responses keep command order. */
  private lastRespAt = 0;
  /** Hostile timing: when the last packet sent reaches the RX ring, so packets keep their order. */
  private lastRxDmaAt = 0;

  constructor(readonly host: FirmwareHost, readonly cfg: FwConfig) {
    this.nvm = buildNvm(cfg.mac, cfg.sku);
    this.target = host.queue.register(`iwlwifi${host.dev}.fw`, (_kind, a0) => this.onEvent(a0));
  }

  get running(): boolean {
    return this.state === 'running';
  }

  now(): number {
    return this.host.queue.now;
  }

  // ---- scheduling -------------------------------------------------------------------------------

  later(delay: number, action: Action): number {
    const id = this.nextId++;
    const handle = this.host.queue.schedule(Math.max(0, delay) as Duration, this.target, 0, id, 0);
    this.pending.set(id, { action, handle });
    return id;
  }

  cancelAction(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.host.queue.cancel(p.handle);
    this.pending.delete(id);
  }

  private cancelAll(): void {
    for (const p of this.pending.values()) this.host.queue.cancel(p.handle);
    this.pending.clear();
  }

  private onEvent(id: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    const a = p.action;
    switch (a.k) {
      case 'boot': this.boot(); break;
      case 'post':
        this.postNow(a.cmd, a.group, a.seq, a.payload, a.notif);
        if (a.mark !== undefined) this.milestone(a.mark.name, a.mark.a, a.mark.b);
        break;
      case 'rx-dma': this.rxDma(a.cmd, a.group, a.seq, a.payload); break;
      case 'hw-err': this.hwError('during the INIT flow (FwFaults.hwErrorDuringInit)'); break;
      case 'scan': scanStep(this); break;
      case 'tx': txSend(this, a.tx); break;
      case 'rx': deliverRx(this, a.frame); break;
      case 'bcn-watch': beaconWatch(this, a.mac); break;
      case 'bcn': beaconHeard(this, a.frame); break;
    }
  }

  // ---- output -------------------------------------------------------------------------------------

  /** Sends a packet to the host: into the RX ring now, or with hostile timing after its RX DMA delay. */
  postNow(cmd: number, group: number, seq: number, payload: Uint8Array, notif: boolean): void {
    if (notif) this.counters.notifications++;
    else this.counters.responses++;
    const h = this.cfg.hostile;
    if (h === undefined || h === null) {
      this.rxDma(cmd, group, seq, payload);
      return;
    }
    const now = this.now();
    const at = Math.max(now + h.int(HostileFwTiming.RX_DMA[0], HostileFwTiming.RX_DMA[1]), this.lastRxDmaAt);
    this.lastRxDmaAt = at;
    this.later(at - now, { k: 'rx-dma', cmd, group, seq, payload });
  }

  private rxDma(cmd: number, group: number, seq: number, payload: Uint8Array): void {
    if (!this.host.postRx(cmd, group, seq, payload, payload.length)) this.counters.rxDropped++;
  }

  /** `base`, or with hostile timing a seeded draw from `range` (HostileFwTiming). */
  delay(base: number, range: readonly [Duration, Duration]): number {
    const h = this.cfg.hostile;
    return h === undefined || h === null ? base : h.int(range[0], range[1]);
  }

  /** Response to the current command (after cur.respDelay + extra). */
  reply(payload: Uint8Array, extra = 0): void {
    const c = this.cur;
    this.later(c.respDelay + extra, { k: 'post', cmd: c.cmd, group: c.group, seq: c.seq, payload, notif: false });
  }

  replyStatus(status: number): void {
    this.reply(statusPayload(status));
  }

  /** A notification `delay` after now. */
  notify(delay: number, cmd: number, payload: Uint8Array, mark?: Mark): void {
    this.later(delay, { k: 'post', cmd, group: cmdGroup(cmd), seq: SEQ_UNSOLICITED, payload, notif: true, ...(mark ? { mark } : {}) });
  }

  /** Records a guest error (codes: ../guest-errors.ts). */
  err(code: IwlwifiGuestErrorCode, message: string): void {
    this.counters.guestErrs++;
    this.host.guestErr(code, message);
  }

  /** guestErr + generic STATUS_BAD_PARAM response to the current command. */
  badParam(code: IwlwifiGuestErrorCode, message: string): void {
    this.err(code, `${cmdName(this.cur.cmd, this.cur.group)}: ${message}`);
    this.replyStatus(STATUS_BAD_PARAM);
  }

  /** Payload at least `size` bytes, else badParam (returns false). */
  need(payload: Uint8Array, size: number): boolean {
    if (payload.length >= size) return true;
    this.badParam('fw.cmd-short', `payload of ${payload.length} bytes is shorter than the ${size} bytes of its layout`);
    return false;
  }

  milestone(name: string, a: number, b: number): void {
    this.host.tracer.milestone(this.now(), this.host.dev, name, a, b);
  }

  // ---- FirmwareCpu ------------------------------------------------------------------------------------

  release(): void {
    if (this.state !== 'off') {
      this.err('fw.release', `CPU released while ${this.state}; ignored (halt it first)`);
      return;
    }
    this.state = 'booting';
    this.releasedAt = this.now();
    this.milestone('fw.release', 0, 0);
    const h = this.cfg.hostile;
    const boot = h === undefined || h === null ? BOOT_TIME + this.cfg.rng.int(0, 500) * us(1) : h.int(HostileFwTiming.BOOT[0], HostileFwTiming.BOOT[1]);
    this.later(boot, { k: 'boot' });
  }

  private boot(): void {
    const check = verifyLoadedImage((addr, len) => this.host.readSram(addr, len));
    if (!check.ok) {
      this.state = 'dead';
      this.deadWhy = `software error: ${check.message}`;
      this.milestone('fw.bad-image', check.section, check.addr);
      this.err('fw.bad-image', `firmware image check failed: ${check.message}`);
      this.host.raiseInt(INT.SW_ERR);
      return;
    }
    this.kindCode = check.kind === 'init' ? 1 : check.kind === 'runtime' ? 2 : 3;
    this.ver = check.ver;
    this.build = check.build;
    this.quirks = check.quirks >>> 0;
    this.capa = check.capa.slice();
    this.api = check.api.slice();
    const faults = this.cfg.faults;
    if (faults.alive === 'missing' || (this.quirks & quirkBit(SIMRUN_CAPA.FAULT_NO_ALIVE)) !== 0) {
      this.state = 'dead';
      this.deadWhy = NO_ALIVE;
      this.milestone('fw.alive-missing', this.kindCode, this.ver);
      return;
    }
    const bad = faults.alive === 'bad-status' || (this.quirks & quirkBit(SIMRUN_CAPA.FAULT_ALIVE_STATUS)) !== 0;
    const payload = alivePayload({
      status: bad ? ALIVE_STATUS_ERR : ALIVE_STATUS_OK,
      lmacMajor: check.version.major,
      lmacMinor: check.version.minor,
      verType: this.kindCode,
      verSubtype: check.version.serial,
      timestampUs: Math.floor((this.now() - this.releasedAt) / 1_000_000),
      scdBase: this.host.prphRead(SCD.SRAM_BASE_ADDR) >>> 0,
      umacMajor: check.version.api,
      umacMinor: check.build,
    });
    this.state = bad ? 'dead' : 'running';
    this.deadWhy = bad ? `ALIVE with error status 0x${ALIVE_STATUS_ERR.toString(16)}` : '';
    this.postNow(CMD.ALIVE, GROUP.LEGACY, SEQ_UNSOLICITED, payload, true);
    this.milestone(bad ? 'fw.alive-bad-status' : 'fw.alive', this.kindCode, this.ver);
  }

  /** HW_ERR: the CPU stops answering. */
  hwError(why: string): void {
    this.cancelAll();
    this.scan = null;
    this.state = 'dead';
    this.deadWhy = `hardware error ${why}`;
    this.milestone('fw.hw-error', this.kindCode, 0);
    this.err('fw.hw-error', `firmware hardware error ${why}`);
    this.host.raiseInt(INT.HW_ERR);
  }

  /** What the firmware CPU is waiting for (FirmwareCpu.stall). */
  stall(): string[] {
    switch (this.state) {
      case 'off': return ['firmware not alive: the CPU is held in reset (no image released)'];
      case 'booting': return ['firmware not alive: booting, ALIVE not posted yet'];
      case 'dead': return [this.deadWhy === NO_ALIVE
        ? `firmware not alive: ${NO_ALIVE} (released ${formatTime(this.releasedAt)}); commands are ignored until the driver resets the device`
        : `firmware dead (${this.deadWhy || 'stopped'}): commands are ignored until the driver resets the device`];
      case 'running': return this.scan !== null ? ['firmware: a scan is in progress'] : [];
    }
  }

  halt(): void {
    this.cancelAll();
    const was = this.state;
    this.state = 'off';
    this.kindCode = 0;
    this.ver = 0;
    this.build = 0;
    this.quirks = 0;
    this.capa = [0, 0, 0, 0];
    this.api = [0, 0, 0, 0];
    this.init = newInitState();
    this.scanCfg = null;
    this.scan = null;
    this.sta = newStationState();
    this.te = newTimeEventState();
    this.btMode = -1;
    this.seqNo = 0;
    this.lastRespAt = 0;
    this.lastRxDmaAt = 0;
    if (was !== 'off') this.milestone('fw.halt', STATE_CODE[was], 0);
  }

  rfKill(asserted: boolean): void {
    if (asserted === this.rfKilled) return;
    this.rfKilled = asserted;
    this.milestone('fw.rf-kill', asserted ? 1 : 0, 0);
    if (asserted && this.scan !== null) abortScan(this, us(10));
  }

  command(queue: number, index: number, bytes: Uint8Array, len: number): void {
    const n = Number.isFinite(len) ? Math.max(0, Math.min(Math.floor(len), bytes.length)) : 0;
    if (this.state !== 'running') {
      this.counters.ignored++;
      this.err('fw.cmd-not-running', `command on queue ${queue} index ${index} while the firmware is ${this.state === 'dead' ? 'dead' : this.state === 'off' ? 'held in reset' : 'booting (no ALIVE yet)'}; ignored`);
      return;
    }
    if (n < 4) {
      this.counters.ignored++;
      this.err('fw.cmd-short', `command of ${n} bytes on queue ${queue} index ${index} has no header; ignored`);
      return;
    }
    const cmd = bytes[0]!;
    const group = bytes[1]!;
    const seq = rd16(bytes, 2);
    const hdr = cmdHeaderSize(group);
    this.counters.commands++;
    const fault = this.cfg.faults.delayCmd;
    const extra = fault !== null && fault.cmd === cmd && fault.group === group ? ms(Math.max(0, fault.delayMs)) : 0;
    // Commands are processed in order: a response never overtakes an earlier one (delayCmd's extra delay aside).
    const now = this.now();
    const h = this.cfg.hostile;
    const latency = h === undefined || h === null ? COMMAND_LATENCY + this.cfg.rng.int(0, 8) * us(1)
      : h.int(HostileFwTiming.COMMAND_LATENCY[0], HostileFwTiming.COMMAND_LATENCY[1]);
    const at = Math.max(now + latency, this.lastRespAt + us(2));
    this.lastRespAt = at;
    this.cur = { cmd, group, seq, queue, respDelay: (at - now + extra) as Duration, extra };
    if (seq !== seqOf(queue, index)) {
      this.err('fw.seq-mismatch', `${cmdName(cmd, group)}: header sequence 0x${seq.toString(16)} is not queue ${queue} index ${index} (0x${seqOf(queue, index).toString(16)})`);
    }
    if (n < hdr) {
      this.badParam('fw.cmd-short', `${n} bytes cannot hold the ${hdr}-byte wide header`);
      return;
    }
    let end = n;
    if (hdr === CMD_HDR_WIDE) {
      const plen = rd16(bytes, 4);
      if (plen > n - hdr) {
        this.badParam('fw.cmd-length', `wide header says ${plen} payload bytes, the TFD holds ${n - hdr}`);
        return;
      }
      end = hdr + plen;
    }
    const payload = bytes.slice(hdr, end);
    this.dispatch(payload);
  }

  private dispatch(p: Uint8Array): void {
    const { cmd, group } = this.cur;
    const served = this.kindCode === 1 ? INIT_CMDS : this.kindCode === 2 ? RUNTIME_CMDS : WOWLAN_CMDS;
    if (!served.has(cmd)) {
      const known = INIT_CMDS.has(cmd) || RUNTIME_CMDS.has(cmd);
      const image = this.kindCode === 1 ? 'INIT' : this.kindCode === 2 ? 'runtime' : 'WoWLAN';
      this.replyError(FW_ERR.UNKNOWN_CMD,
        known ? `${cmdName(cmd, group)} is not served by the ${image} image` : `unknown command ${cmdName(cmd, group)}`);
      return;
    }
    if (group !== cmdGroup(cmd)) {
      this.replyError(FW_ERR.UNKNOWN_CMD, `${cmdName(cmd, group)} sent in group ${group}, expected ${cmdGroup(cmd)}`);
      return;
    }
    switch (cmd) {
      case CMD.ECHO: this.replyStatus(STATUS_OK); break;
      case CMD.BT_CONFIG: {
        if (!this.need(p, BT_CONFIG.SIZE)) break;
        const mode = rd32(p, BT_CONFIG.MODE);
        if (mode > BT_COEX_MODE.WIFI) { this.badParam('fw.bt-config', `BT coex mode ${mode} is not 0-3`); break; }
        this.btMode = mode;
        this.milestone('fw.bt-config', mode, rd32(p, BT_CONFIG.ENABLED_MODULES));
        this.replyStatus(STATUS_OK);
        break;
      }
      case CMD.SHARED_MEM_CFG: sharedMemCfg(this); break;
      case CMD.POWER_TABLE: powerTable(this, p); break;
      case CMD.MAC_PM_POWER_TABLE: macPmPowerTable(this, p); break;
      case CMD.TIME_EVENT: timeEvent(this, p); break;
      case CMD.LQ: lq(this, p); break;
      case CMD.SF_CFG: sfCfg(this, p); break;
      case CMD.TX_ANT_CONFIG:
        if (!this.need(p, TX_ANT_CONFIG_SIZE)) break;
        if ((p[0]! & 0x7) === 0) this.badParam('fw.tx-ant', 'no valid TX antenna');
        else this.replyStatus(STATUS_OK);
        break;
      case CMD.NVM_ACCESS: nvmAccess(this, p); break;
      case CMD.PHY_CONFIGURATION: phyConfiguration(this, p); break;
      case CMD.PHY_DB: phyDb(this, p); break;
      case CMD.SCAN_CFG: case CMD.SCAN_REQ_UMAC: case CMD.SCAN_ABORT_UMAC:
        // The UMAC scan API exists only in images with the UMAC_SCAN capability (older code scans in the LMAC).
        if (!this.hasCapa(CAPA.UMAC_SCAN)) {
          this.replyError(FW_ERR.UNKNOWN_CMD, `${cmdName(cmd, group)}: this image has no UMAC scan (capability ${CAPA.UMAC_SCAN})`);
          break;
        }
        if (cmd === CMD.SCAN_CFG) scanCfg(this, p);
        else if (cmd === CMD.SCAN_REQ_UMAC) scanReq(this, p);
        else scanAbortCmd(this, p);
        break;
      case CMD.PHY_CONTEXT: phyContext(this, p); break;
      case CMD.MAC_CONTEXT: macContext(this, p); break;
      case CMD.BINDING_CONTEXT: bindingContext(this, p); break;
      case CMD.ADD_STA: addSta(this, p); break;
      case CMD.REMOVE_STA: removeSta(this, p); break;
      case CMD.TX: txCmd(this, p); break;
      default: this.replyError(FW_ERR.UNKNOWN_CMD, `unknown command ${cmdName(cmd, group)}`);
    }
  }

  hasCapa(c: number): boolean {
    return ((this.capa[c >>> 5] ?? 0) & (1 << (c & 31))) !== 0;
  }

  /** Whether the running image has API flag `a` (enum iwl_ucode_tlv_api): a newer layout of some command. */
  hasApi(a: number): boolean {
    return ((this.api[a >>> 5] ?? 0) & (1 << (a & 31))) !== 0;
  }

  private replyError(type: number, message: string): void {
    const c = this.cur;
    this.err('fw.reply-error', message);
    this.notify(c.respDelay, CMD.REPLY_ERROR, replyErrorPayload(type, c.cmd, c.seq, 0, Math.floor((this.now() + c.respDelay) / 1_000_000)));
  }

  stateHash(): number {
    let h = FNV_OFFSET;
    h = fnvArray(h, [STATE_CODE[this.state], this.kindCode, this.ver, this.build, this.quirks, this.rfKilled ? 1 : 0, this.seqNo, ...this.capa, ...this.api]);
    h = fnvArray(h, [this.btMode, this.te.nextUid, this.te.running.size]);
    h = fnvArray(h, Object.values(this.counters));
    h = fnvNumber(h, this.pending.size);
    h = fnvNumber(h, this.init.phyDbMask);
    h = fnvNumber(h, this.init.calibSent);
    if (this.scanCfg !== null) h = fnvArray(fnvArray(h, this.scanCfg.mac), this.scanCfg.channels);
    const s = this.scan;
    if (s !== null) h = fnvArray(h, [s.uid, s.idx, s.fi, s.frames.length, s.received]);
    h = stationHash(this.sta, h);
    return fnvWord(h, 0) >>> 0;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }
}
