/**
 * One AHCI port's state: its registers (AHCI 1.3.1 3.3), the command engine
 * and link state, and per-slot command contexts, all plain numbers and typed
 * arrays allocated once. The logic lives in hba.ts (registers, link,
 * interrupts) and commands.ts (command list processing).
 */
import { NO_EVENT } from '../../sim/event-queue.js';
import type { Disk } from '../disk-image.js';
import { SLOTS, TFD_RESET } from './regs.js';

/** Slot states. */
export const SLOT_IDLE = 0;
/** A non-queued command executing on the device. */
export const SLOT_EXEC = 1;
/** A queued command's FIS sent; the device has not accepted it yet. */
export const SLOT_NCQ_SENT = 2;
/** A queued command accepted by the device (its PxCI bit cleared), data and SDB FIS to come. */
export const SLOT_NCQ_ACTIVE = 3;
/** Fault `faultHangCommand`: a command the device never completes. */
export const SLOT_HUNG = 4;

/** Slot command kinds (what the done event does). */
export const OP_NONE = 0;
export const OP_READ = 1;
export const OP_WRITE = 2;
export const OP_FLUSH = 3;
export const OP_IDENTIFY = 4;
export const OP_SET_FEATURES = 5;
export const OP_READ_LOG = 6;
/** A command the device rejects: the done event reports slotError. */
export const OP_ABORT = 7;

export class AhciPort {
  // ---- Registers
  clb = 0;
  clbu = 0;
  fb = 0;
  fbu = 0;
  is = 0;
  ie = 0;
  cmd = 0;
  tfd = TFD_RESET;
  sig = 0xffffffff;
  ssts = 0;
  sctl = 0;
  serr = 0;
  sact = 0;
  ci = 0;
  sntf = 0;

  // ---- Command engine
  /** PxCI bits issued and not yet sent to the device. */
  ciPending = 0;
  /** PxCI bits held because there is no device / no link (reported once). */
  ciNoDevice = 0;
  /** Highest-priority slot to issue next (5.3.2: CCS + 1, slot 0 after ST is set). */
  nextSlot = 0;
  /** A fatal error or task file error stopped the command list until ST is cleared (6.2.2). */
  halted = false;
  /** The device is executing a non-queued command, or accepting a command FIS. */
  deviceBusy = false;
  /** Slot of the non-queued command the device is executing, or -1. */
  activeSlot = -1;
  /** Queued commands the device has accepted and not completed (bit per tag = slot). */
  ncqOutstanding = 0;
  /** Pending CR / FR clear after ST / FRE were cleared, and the pending issue event. */
  crEv = NO_EVENT;
  frEv = NO_EVENT;
  pumpEv = NO_EVENT;

  // ---- Link
  /** Bumped by COMRESET, link loss and resets: link events of an older epoch are dropped. */
  linkEpoch = 0;
  linkEv = NO_EVENT;
  /** Time PxSCTL.DET was set to 1 (COMRESET asserted), -1 when not asserted. */
  comresetAt = -1;
  /** Fault: the link is down (dropped) and does not come back on COMRESET until it returns. */
  faultLinkDown = false;
  /** The device has been spun up (CAP.SSS: PxCMD.SUD 0 -> 1; else at reset). */
  spunUp = false;
  /** Commands the device has been issued since power-on (fault faultHangCommand counts these). */
  commandsIssued = 0;

  // ---- Device settings (SET FEATURES)
  writeCache = true;
  readLookAhead = true;
  /** NCQ Command Error log (ACS-3 A.14): valid after a queued command failed, until read. */
  ncqErrValid = false;
  ncqErrTag = 0;
  ncqErrStatus = 0;
  ncqErrError = 0;
  ncqErrLba = 0;
  ncqErrCount = 0;

  // ---- Per-slot command contexts
  readonly slotState = new Uint8Array(SLOTS);
  readonly slotOp = new Uint8Array(SLOTS);
  readonly slotCmd = new Uint8Array(SLOTS);
  /** Generation per slot: a slot's events carry it, and are dropped when it has moved on. */
  readonly slotGen = new Float64Array(SLOTS);
  readonly slotLba = new Float64Array(SLOTS);
  readonly slotSectors = new Int32Array(SLOTS);
  readonly slotPrdtl = new Int32Array(SLOTS);
  readonly slotCtba = new Float64Array(SLOTS);
  /** Error register value a rejected command reports (OP_ABORT). */
  readonly slotError = new Uint8Array(SLOTS);
  /** Features field (SET FEATURES subcommand, READ LOG EXT log address in LBA low). */
  readonly slotFeature = new Int32Array(SLOTS);
  /** Time the slot's PxCI bit was set (stall diagnosis). */
  readonly issuedAt = new Float64Array(SLOTS).fill(-1);

  constructor(readonly index: number, readonly disk: Disk | null) {}

  get hasDevice(): boolean {
    return this.disk !== null;
  }

  get clbAddr(): number {
    return this.clbu * 0x1_0000_0000 + this.clb;
  }

  get fbAddr(): number {
    return this.fbu * 0x1_0000_0000 + this.fb;
  }

  /** Drops every command context (their pending events become stale). */
  dropCommands(): void {
    for (let s = 0; s < SLOTS; s++) {
      this.slotState[s] = SLOT_IDLE;
      this.slotGen[s]!++;
    }
    this.ciPending = 0;
    this.ciNoDevice = 0;
    this.deviceBusy = false;
    this.activeSlot = -1;
    this.ncqOutstanding = 0;
  }

  /** Drops the queued commands the device holds (it aborted them), keeping their PxSACT bits. */
  dropQueued(): void {
    for (let s = 0; s < SLOTS; s++) {
      const st = this.slotState[s];
      if (st === SLOT_NCQ_ACTIVE || st === SLOT_NCQ_SENT || (st === SLOT_HUNG && (this.ncqOutstanding & (1 << s)) !== 0)) {
        this.slotState[s] = SLOT_IDLE;
        this.slotGen[s]!++;
      }
    }
    this.ncqOutstanding = 0;
  }
}
