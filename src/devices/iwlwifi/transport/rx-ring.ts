/**
 * The RX ring (gen1, one queue; fact sheet A6, A7, A10.7).
 *
 * The driver programs the RBD ring base (0x1BC4, >> 8), the RB status
 * write-back address (0x1BC0, >> 4) and the RX config (0x1C00), and moves
 * its write pointer (0x1BC8: index of the next RBD it will fill; 0x1C08 is
 * plain storage, the driver only zeroes it). RBDs from the
 * device's read index up to, not including, the write pointer are free, so
 * the RBD at the write-pointer index is never filled.
 *
 * Multi-packet RBs, as gen1 firmware fills them: the first packet posted
 * opens an RB (reads its RBD, 'iwl.rbd') and is written at offset 0
 * ('iwl.rx': len_n_flags + narrow header + payload); packets posted at the
 * same instant before the RB closes go into the same RB, each at the next
 * 64-byte boundary (FH_RSCSR_FRAME_ALIGN: offset + ALIGN(len + 4, 64)), as
 * long as the packet and the 4-byte end marker fit. The RB closes (an event
 * at the same instant, after the code that posted has returned, or at once
 * when the next packet does not fit): the end marker FH_RSCSR_FRAME_INVALID
 * (0x55550000) after the last packet if the RB has room ('iwl.rx'), the read
 * index advances, the RB status is written (closed_rb_num = index one past
 * the last closed RB, closed frames += packets; 'iwl.rb-stts'), then FH_INT
 * bit 16 + INT.FH_RX, the ICT entry and the interrupt (interrupts.ts;
 * possibly after the coalescing window). RX_PHY and RX_MPDU of a frame, or
 * the notifications the firmware sends in one go, thus share an RB, and the
 * driver has to walk it.
 *
 * DMA errors: an RB write the bus refuses (an RBD pointing nowhere), or the
 * seeded fault `dmaErrorRx` (the k-th packet after the first ALIVE), sets
 * FH_INT bit 31 (the FH error) and INT.HW_ERR, as the FH does on a failed
 * transfer; the packet is lost (milestone 'rx.dropped' b = DMA, and
 * 'fault.dma-error' for the seeded one).
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import { CMD, GROUP, RX_PKT_HDR } from '../fw-api.js';
import { FH_INT, INT } from '../regs.js';
import {
  FH_RCSR_RX_CONFIG, RB_SIZE_4K, RX_END_MARKER, RX_FRAME_ALIGN, RX_PKT_LEN_MASK, RX_QUEUE_SIZE,
} from '../regs.js';
import type { TransportEnv } from './env.js';
import type { Interrupts } from './interrupts.js';
import { Ev, HostileTiming, Timing } from './timing.js';
import type { Duration } from '../../../sim/time.js';

const MAX_RB = 4 * RB_SIZE_4K;

/** Milestone 'rx.dropped' argument b: why. */
export const RxDrop = { DISABLED: 1, NO_FREE_RBD: 2, TOO_LARGE: 3, DMA: 4 } as const;

export class RxRing {
  config = 0;
  /** RBD ring base register (address >> 8). */
  rbdBase = 0;
  /** RB status write-back register (address >> 4). */
  sttsBase = 0;
  /** Driver's write pointer as last written. */
  wptr = 0;
  /** Device's read index: the next RBD it fills. */
  read = 0;
  /** RX DMA channel idle (status bit 24). */
  idle = true;
  private closedFrames = 0;
  private idleEv = NO_EVENT;
  /** The RB being filled: its address (-1 = none), the next packet's offset, its packets, whether ALIVE is among them. */
  private openRb = -1;
  private openOff = 0;
  private openCount = 0;
  private openAlive = false;
  private closeEv = NO_EVENT;
  /** Packets posted after the first ALIVE (for the seeded DMA fault), -1 before it. */
  private afterAlive = -1;
  private readonly pkt = new Uint8Array(MAX_RB);
  private readonly stts = new Uint8Array(8);

  /** Counters. */
  packets = 0;
  dropped = 0;

  /** Packets that shared an RB with an earlier one, and DMA errors raised. */
  packed = 0;
  dmaErrors = 0;

  constructor(private readonly t: TransportEnv, private readonly ints: Interrupts,
    /** Seeded fault: the k-th RX packet after the first ALIVE fails its DMA (0 = off). */
    private readonly dmaErrorRx = 0) {}

  reset(): void {
    this.t.queue.cancel(this.idleEv);
    this.idleEv = NO_EVENT;
    this.t.queue.cancel(this.closeEv);
    this.closeEv = NO_EVENT;
    this.openRb = -1;
    this.openOff = 0;
    this.openCount = 0;
    this.openAlive = false;
    this.config = 0;
    this.rbdBase = 0;
    this.sttsBase = 0;
    this.wptr = 0;
    this.read = 0;
    this.idle = true;
    this.closedFrames = 0;
  }

  get enabled(): boolean {
    return ((this.config & FH_RCSR_RX_CONFIG.ENABLE_MASK) >>> 0) === FH_RCSR_RX_CONFIG.ENABLE;
  }

  /** Ring entries (log2 in config 23:20; 0 is taken as the usual 256). */
  get size(): number {
    const log2 = (this.config & FH_RCSR_RX_CONFIG.RBDCB_SIZE_MASK) >>> FH_RCSR_RX_CONFIG.RBDCB_SIZE_SHIFT;
    return log2 === 0 ? RX_QUEUE_SIZE : 1 << Math.min(log2, 12);
  }

  /** RB size from config 17:16 (4, 8, 12 or 16 KiB). */
  get rbSize(): number {
    return (((this.config & FH_RCSR_RX_CONFIG.RB_SIZE_MASK) >>> FH_RCSR_RX_CONFIG.RB_SIZE_SHIFT) + 1) * RB_SIZE_4K;
  }

  writeConfig(v: number): void {
    const was = this.enabled;
    this.config = v >>> 0;
    const now = this.enabled;
    if (now && !was) {
      this.t.queue.cancel(this.idleEv);
      this.idleEv = NO_EVENT;
      this.idle = false;
      this.read = 0;
      this.closedFrames = 0;
    } else if (!now && was) {
      this.idleEv = this.t.queue.schedule(this.t.delay(Timing.RX_IDLE, HostileTiming.RX_IDLE), this.t.target, Ev.RX_IDLE);
    }
  }

  /** 0x1BCC written: the device's read index (drivers zero it at RX init). */
  setRead(v: number): void {
    this.read = (v >>> 0) & (this.size - 1);
  }

  onIdle(): void {
    this.idleEv = NO_EVENT;
    this.idle = true;
  }

  /** Free RBDs: from the read index up to (not including) the write pointer. */
  free(): number {
    const mask = this.size - 1;
    return ((this.wptr & mask) - this.read) & mask;
  }

  post(cmd: number, group: number, seq: number, payload: Uint8Array, len: number): boolean {
    const t = this.t;
    len = Math.max(0, Math.min(len | 0, payload.length));
    if (!this.enabled) return this.drop(cmd, RxDrop.DISABLED);
    const rbSize = this.rbSize;
    const total = RX_PKT_HDR + len;
    if (total > rbSize) return this.drop(cmd, RxDrop.TOO_LARGE);
    const isAlive = cmd === CMD.ALIVE && group === GROUP.LEGACY;
    if (this.afterAlive >= 0 && this.dmaErrorRx > 0 && ++this.afterAlive === this.dmaErrorRx) {
      t.milestone('fault.dma-error', cmd, this.afterAlive);
      this.dmaError();
      return this.drop(cmd, RxDrop.DMA);
    }
    if (isAlive && this.afterAlive < 0) this.afterAlive = 0;
    // Into the open RB if this packet and the end marker fit; else close it and open the next one.
    if (this.openRb >= 0 && this.openOff + total + 4 > rbSize) this.close();
    if (this.openRb < 0) {
      if (this.free() === 0) return this.drop(cmd, RxDrop.NO_FREE_RBD);
      const rbd = t.dma.read32(this.rbdBase * 256 + this.read * 4, 'iwl.rbd');
      if (rbd < 0) {
        this.dmaError();
        return this.drop(cmd, RxDrop.DMA);
      }
      this.openRb = rbd * 256;
      this.openOff = 0;
      this.openCount = 0;
      this.openAlive = false;
    } else {
      this.packed++;
    }

    const p = this.pkt;
    const lenField = (4 + len) & RX_PKT_LEN_MASK; // 21:16 RX queue 0
    p[0] = lenField & 0xff;
    p[1] = (lenField >>> 8) & 0xff;
    p[2] = 0;
    p[3] = 0;
    p[4] = cmd & 0xff;
    p[5] = group & 0xff;
    p[6] = seq & 0xff;
    p[7] = (seq >>> 8) & 0xff;
    for (let i = 0; i < len; i++) p[RX_PKT_HDR + i] = payload[i]!;
    if (!t.dma.write(this.openRb + this.openOff, p, 0, total, 'iwl.rx')) {
      this.dmaError();
      if (this.openCount === 0) this.openRb = -1;
      return this.drop(cmd, RxDrop.DMA);
    }
    this.openOff += Math.ceil((lenField + 4) / RX_FRAME_ALIGN) * RX_FRAME_ALIGN;
    this.openCount++;
    if (isAlive) this.openAlive = true;
    this.packets++;
    if (this.closeEv === NO_EVENT) this.closeEv = t.queue.schedule(0 as Duration, t.target, Ev.RX_CLOSE);
    return true;
  }

  /** The close event fired. */
  onClose(): void {
    this.closeEv = NO_EVENT;
    this.close();
  }

  /** Closes the open RB: end marker, read index, RB status, interrupt. */
  private close(): void {
    const t = this.t;
    if (this.openRb < 0) return;
    if (this.openOff + 4 <= this.rbSize) t.dma.write32(this.openRb + this.openOff, RX_END_MARKER, 'iwl.rx');
    this.read = (this.read + 1) & (this.size - 1);
    this.closedFrames = (this.closedFrames + this.openCount) & 0xfff;
    const s = this.stts;
    const closed = this.read & 0xfff;
    s[0] = closed & 0xff;
    s[1] = closed >>> 8;
    s[2] = this.closedFrames & 0xff;
    s[3] = this.closedFrames >>> 8;
    s[4] = s[0];
    s[5] = s[1];
    s[6] = s[2];
    s[7] = s[3];
    t.dma.write(this.sttsBase * 16, s, 0, 8, 'iwl.rb-stts');
    const alive = this.openAlive;
    this.openRb = -1;
    this.openOff = 0;
    this.openCount = 0;
    this.openAlive = false;
    if (alive) this.ints.noteAlive();
    this.ints.raiseRx();
  }

  /** A failed RX transfer: the FH error (FH_INT bit 31) and INT.HW_ERR. */
  private dmaError(): void {
    this.dmaErrors++;
    this.ints.raise(INT.HW_ERR, FH_INT.ERR);
  }

  private drop(cmd: number, why: number): boolean {
    this.dropped++;
    this.t.milestone('rx.dropped', cmd, why);
    return false;
  }
}
