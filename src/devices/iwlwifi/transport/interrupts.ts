/**
 * CSR_INT / CSR_INT_MASK / CSR_FH_INT_STATUS, the ICT table, interrupt
 * coalescing, the periodic RX timer, and delivery through the PCI function
 * (MSI message when MSI is enabled, else the INTx level).
 *
 * Semantics (fact sheet A3, A10.4, A10.6):
 * - INT and FH_INT are write-1-to-clear. Setting an FH_INT RX (17:16) or TX
 *   (1:0) cause also latches the INT summary bit FH_RX / FH_TX; the summary
 *   bit is then cleared by acking INT (the driver acks both registers).
 * - A "signal" happens when newly raised causes are enabled in INT_MASK, or
 *   when an INT_MASK write enables causes that are already pending. With ICT
 *   enabled, each signal first DMA-writes ictEntry(causes) at the device's
 *   ICT index (then index = (index + 1) mod 1024), then sends MSI vector 0.
 *   In INTx mode the line is a level: asserted while INT & INT_MASK != 0.
 * - INT_COALESCING (byte 0x004, 32 us units): an RX interrupt is held for
 *   that long; RX events within the window share it. Its causes (FH_INT
 *   bit 16, INT.FH_RX) are set when the window closes.
 * - INT_PERIODIC (byte 0x005): a non-zero value arms a one-shot timer of
 *   value x 32 us (0xFF ~ 8 ms) raising INT.RX_PERIODIC; 0 disarms.
 * - Hostile timing: the MSI message of a signal goes out a seeded
 *   HostileTiming.MSI_DELAY after its ICT entry was written (the causes are
 *   in CSR_INT at once); messages still in flight at a reset are dropped.
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import type { Duration } from '../../../sim/time.js';
import type { PciInterrupts } from '../../pci/api.js';
import { FH_INT, ICT, INT, ictEntry } from '../regs.js';
import type { TransportEnv } from './env.js';
import { Ev, HostileTiming, Timing } from './timing.js';

/** Every CSR_INT cause the 7265D defines; other bits never read back set. */
export const INT_DEFINED = (INT.FH_RX | INT.HW_ERR | INT.RX_PERIODIC | INT.FH_TX | INT.SCD | INT.SW_ERR |
  INT.RF_KILL | INT.CT_KILL | INT.SW_RX | INT.WAKEUP | INT.ALIVE) >>> 0;
/** FH_INT causes the device can set. */
export const FH_INT_DEFINED = (FH_INT.ERR | FH_INT.HI_PRIOR | FH_INT.RX_CH1 | FH_INT.RX_CH0 | FH_INT.TX_CH1 | FH_INT.TX_CH0) >>> 0;
const FH_RX_CAUSES = (FH_INT.RX_CH1 | FH_INT.RX_CH0) >>> 0;
const FH_TX_CAUSES = (FH_INT.TX_CH1 | FH_INT.TX_CH0) >>> 0;

/** DRAM_INT_TBL address field (table address >> 12): bits 26:0, below WRAP_CHECK. */
const ICT_ADDR_FIELD = ICT.ADDR_MASK & ~ICT.WRAP_CHECK;

/** Where the "first ALIVE" is, for the lost-RX-interrupt fault. */
const ALIVE_NONE = 0;
const ALIVE_POSTED = 1;
const ALIVE_SIGNALLED = 2;

export class Interrupts {
  /** CSR_INT causes. */
  int = 0;
  mask = 0;
  /** CSR_FH_INT_STATUS causes. */
  fhInt = 0;
  /** CSR_DRAM_INT_TBL as read back (bit 28 is an action and reads 0). */
  ictReg = 0;
  ictIndex = 0;
  /** INT_COALESCING and INT_PERIODIC bytes. */
  coalescing = 0;
  periodic = 0;
  intxLevel = false;

  /** Counters. */
  signals = 0;
  ictWrites = 0;
  lostRxIrqs = 0;

  private coalesceEv = NO_EVENT;
  private periodicEv = NO_EVENT;
  /** FH_INT causes held by an open coalescing window. */
  private heldFh = 0;
  private aliveState = ALIVE_NONE;
  private rxRaisesAfterAlive = 0;
  /** Hostile timing: incremented by each reset, so delayed messages signalled before it are dropped. */
  private epoch = 0;

  constructor(
    private readonly t: TransportEnv,
    private readonly irq: PciInterrupts,
    private readonly loseRxIrq: number,
    /** Hostile timing: MSI messages are delayed (timing.ts HostileTiming.MSI_DELAY). */
    private readonly delayMsi = false,
  ) {}

  /** Power-on / function reset: everything clear, timers cancelled, INTx deasserted. */
  reset(): void {
    this.int = 0;
    this.mask = 0;
    this.fhInt = 0;
    this.resetIct();
    this.coalescing = 0;
    this.periodic = 0;
    this.cancelTimers();
    this.aliveState = ALIVE_NONE;
    this.rxRaisesAfterAlive = 0;
    this.updateLevel();
  }

  /** SW reset: the ICT logic and the coalescing window restart; CSR causes and mask stay with the driver. */
  resetIct(): void {
    this.ictReg = 0;
    this.ictIndex = 0;
  }

  cancelTimers(): void {
    this.epoch++;
    this.t.queue.cancel(this.coalesceEv);
    this.t.queue.cancel(this.periodicEv);
    this.coalesceEv = NO_EVENT;
    this.periodicEv = NO_EVENT;
    this.heldFh = 0;
  }

  get ictEnabled(): boolean {
    return (this.ictReg & ICT.ENABLE) !== 0;
  }

  // ------------------------------------------------------------ device side

  /** Sets INT causes `intBits` and FH_INT causes `fhBits` (with their INT summary bits); signals if enabled. */
  raise(intBits: number, fhBits: number): void {
    fhBits &= FH_INT_DEFINED;
    let bits = intBits & INT_DEFINED;
    if ((fhBits & FH_RX_CAUSES) !== 0) bits |= INT.FH_RX;
    if ((fhBits & FH_TX_CAUSES) !== 0) bits |= INT.FH_TX;
    this.fhInt = (this.fhInt | fhBits) >>> 0;
    this.int = (this.int | bits) >>> 0;
    if ((bits & this.mask) !== 0) this.signal(bits);
    else this.updateLevel();
  }

  /**
   * An RB was closed: raise FH_INT RX channel 0 and INT.FH_RX, now or when
   * the coalescing window closes.
   */
  raiseRx(): void {
    if (this.coalescing === 0) {
      this.raiseRxNow(FH_INT.RX_CH0);
      return;
    }
    this.heldFh |= FH_INT.RX_CH0;
    if (this.coalesceEv === NO_EVENT) {
      this.coalesceEv = this.t.queue.schedule((this.coalescing * Timing.INT_UNIT) as Duration, this.t.target, Ev.COALESCE);
    }
  }

  /** The firmware's first ALIVE packet went into the RX ring (the lost-RX fault counts from the next RX interrupt). */
  noteAlive(): void {
    if (this.aliveState === ALIVE_NONE) this.aliveState = ALIVE_POSTED;
  }

  onCoalesce(): void {
    this.coalesceEv = NO_EVENT;
    const fh = this.heldFh;
    this.heldFh = 0;
    if (fh !== 0) this.raiseRxNow(fh);
  }

  onPeriodic(): void {
    this.periodicEv = NO_EVENT;
    this.raise(INT.RX_PERIODIC, 0);
  }

  private raiseRxNow(fhBits: number): void {
    if (this.aliveState === ALIVE_POSTED) {
      this.aliveState = ALIVE_SIGNALLED;
    } else if (this.aliveState === ALIVE_SIGNALLED && this.loseRxIrq > 0 && ++this.rxRaisesAfterAlive === this.loseRxIrq) {
      // Fault: the causes latch, but no ICT entry and no message / level change.
      this.lostRxIrqs++;
      this.fhInt = (this.fhInt | fhBits) >>> 0;
      this.int = (this.int | INT.FH_RX) >>> 0;
      this.t.milestone('fault.lost-rx-irq', this.rxRaisesAfterAlive, this.int);
      return;
    }
    this.raise(0, fhBits);
  }

  /** ICT entry (if enabled), then the message or the level. */
  private signal(bits: number): void {
    this.signals++;
    if (this.ictEnabled) {
      const entry = ictEntry(bits);
      if (entry !== 0) {
        // Bit 27 is WRAP_CHECK, so the address field is 26:0 (ICT.ADDR_MASK includes bit 27).
        const base = (this.ictReg & ICT_ADDR_FIELD) * ICT.SIZE;
        this.t.dma.write32(base + this.ictIndex * 4, entry, 'iwl.ict');
        this.ictIndex = (this.ictIndex + 1) % ICT.ENTRIES;
        this.ictWrites++;
      }
    }
    if (this.irq.mode !== 'intx') {
      this.updateLevel();
      if (this.delayMsi) this.t.queue.schedule(this.t.delay(0 as Duration, HostileTiming.MSI_DELAY), this.t.target, Ev.MSI, 0, this.epoch);
      else this.irq.sendMessage(0);
    } else {
      this.updateLevel();
    }
  }

  /** Hostile timing: a delayed MSI message of interrupt epoch `epoch` is due. */
  onMsi(epoch: number): void {
    if (epoch === this.epoch && this.irq.mode !== 'intx') this.irq.sendMessage(0);
  }

  /** INTx follows INT & INT_MASK (and is low whenever MSI/MSI-X is in use). */
  updateLevel(): void {
    const want = this.irq.mode === 'intx' && (this.int & this.mask) !== 0;
    if (want !== this.intxLevel) {
      this.intxLevel = want;
      this.irq.setIntx(want);
    }
  }

  // ------------------------------------------------------------ register side

  writeInt(v: number): void {
    this.int = (this.int & ~v) >>> 0;
    this.updateLevel();
  }

  writeFhInt(v: number): void {
    this.fhInt = (this.fhInt & ~v) >>> 0;
    this.updateLevel();
  }

  writeMask(v: number): void {
    const old = this.mask;
    this.mask = v >>> 0;
    if ((this.int & this.mask & ~old) !== 0) this.signal(this.int & this.mask);
    else this.updateLevel();
  }

  writeIct(v: number): void {
    if ((v & ICT.RESET_WRITE_PTR) !== 0) this.ictIndex = 0;
    this.ictReg = (v & ~ICT.RESET_WRITE_PTR) >>> 0;
  }

  writeCoalescing(byte: number): void {
    this.coalescing = byte & 0xff;
    // A shorter (or no) window takes effect for the interrupt being held.
    if (this.coalesceEv !== NO_EVENT && this.coalescing === 0) {
      this.t.queue.cancel(this.coalesceEv);
      this.onCoalesce();
    }
  }

  writePeriodic(byte: number): void {
    this.periodic = byte & 0xff;
    this.t.queue.cancel(this.periodicEv);
    this.periodicEv = NO_EVENT;
    if (this.periodic !== 0) {
      this.periodicEv = this.t.queue.schedule((this.periodic * Timing.INT_UNIT) as Duration, this.t.target, Ev.PERIODIC);
    }
  }

  /** Dword at 0x004: coalescing (7:0), periodic (15:8). */
  readCoalescingDword(): number {
    return (this.coalescing | (this.periodic << 8)) >>> 0;
  }
}
