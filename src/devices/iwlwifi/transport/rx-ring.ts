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
 * One packet per RB. Posting a packet: read the RBD ('iwl.rbd'), write
 * len_n_flags + narrow header + payload at offset 0 ('iwl.rx'), the end
 * marker at ALIGN(len + 4, 64) if the RB has room ('iwl.rx'), advance, write
 * the RB status (closed_rb_num = index one past the last filled RB;
 * 'iwl.rb-stts'), then FH_INT bit 16 + INT.FH_RX, the ICT entry and the
 * interrupt (interrupts.ts; possibly after the coalescing window).
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import { CMD, GROUP, RX_PKT_HDR } from '../fw-api.js';
import {
  FH_RCSR_RX_CONFIG, RB_SIZE_4K, RX_END_MARKER, RX_FRAME_ALIGN, RX_PKT_LEN_MASK, RX_QUEUE_SIZE,
} from '../regs.js';
import type { TransportEnv } from './env.js';
import type { Interrupts } from './interrupts.js';
import { Ev, HostileTiming, Timing } from './timing.js';

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
  private readonly pkt = new Uint8Array(MAX_RB);
  private readonly stts = new Uint8Array(8);

  /** Counters. */
  packets = 0;
  dropped = 0;

  constructor(private readonly t: TransportEnv, private readonly ints: Interrupts) {}

  reset(): void {
    this.t.queue.cancel(this.idleEv);
    this.idleEv = NO_EVENT;
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
    if (this.free() === 0) return this.drop(cmd, RxDrop.NO_FREE_RBD);
    const rbSize = this.rbSize;
    const total = RX_PKT_HDR + len;
    if (total > rbSize) return this.drop(cmd, RxDrop.TOO_LARGE);
    const rbd = t.dma.read32(this.rbdBase * 256 + this.read * 4, 'iwl.rbd');
    if (rbd < 0) return this.drop(cmd, RxDrop.DMA);
    const rb = rbd * 256;

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
    if (!t.dma.write(rb, p, 0, total, 'iwl.rx')) return this.drop(cmd, RxDrop.DMA);
    const next = Math.ceil((lenField + 4) / RX_FRAME_ALIGN) * RX_FRAME_ALIGN;
    if (next + 4 <= rbSize) t.dma.write32(rb + next, RX_END_MARKER, 'iwl.rx');

    this.read = (this.read + 1) & (this.size - 1);
    this.closedFrames = (this.closedFrames + 1) & 0xfff;
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
    this.packets++;
    if (cmd === CMD.ALIVE && group === GROUP.LEGACY) this.ints.noteAlive();
    this.ints.raiseRx();
    return true;
  }

  private drop(cmd: number, why: number): boolean {
    this.dropped++;
    this.t.milestone('rx.dropped', cmd, why);
    return false;
  }
}
