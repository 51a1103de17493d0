/**
 * Periphery (PRPH) registers behind HBUS_TARG_PRPH_*: APMG, LMPM_CHICK and
 * the scheduler (SCD). The host sends `(addr & 0xFFFFF) | (3 << 24)`, so
 * the device decodes 20-bit addresses: SCD_BASE 0xA02C00 arrives as
 * 0x02C00 (a firmware-side prphRead(0xA02C00) is masked the same way).
 *
 * - APMG CLK_EN / CLK_DIS set / clear bits of CLK_CTRL (both read it back).
 * - APMG RTC_INT_STT: write 1 to clear; bit 28 is set when the RF-kill
 *   switch toggles.
 * - SCD SRAM_BASE_ADDR is read-only (SCD_SRAM_BASE_VALUE).
 * - SCD per-queue WRPTR / RDPTR / STATUS_BITS drive the TX queues
 *   (tx-queues.ts). Queues 0-19 at +0x18/+0x68/+0x10C + 4q; queues 20-31 at
 *   +0x284 + 4(q-20) / +0x2B4 + 4q / +0x334 + 4q, as Linux's iwl-prph.h
 *   computes them.
 * - Everything else: plain storage.
 */
import {
  APMG, LMPM_CHICK, PRPH_ADDR_MASK, SCD, SCD_QUEUES, SCD_SRAM_BASE_VALUE,
} from '../regs.js';
import { hex, type TransportEnv } from './env.js';
import type { TxQueues } from './tx-queues.js';

const M = PRPH_ADDR_MASK;
export const PRPH_LMPM_CHICK = LMPM_CHICK & M;
const SCD_BASE = SCD.BASE & M;
const SCD_END = SCD_BASE + 0x400;
const A_CLK_CTRL = APMG.CLK_CTRL & M;
const A_CLK_EN = APMG.CLK_EN & M;
const A_CLK_DIS = APMG.CLK_DIS & M;
const A_RTC_INT_STT = APMG.RTC_INT_STT & M;
const A_SRAM_BASE = SCD.SRAM_BASE_ADDR & M;
const A_TXFACT = SCD.TXFACT & M;

/** Which SCD per-queue register an address is: kind * 32 + queue, or -1. */
export const QREG_WRPTR = 0;
export const QREG_RDPTR = 1;
export const QREG_STATUS = 2;
export function scdQueueReg(a: number): number {
  const o = a - SCD_BASE;
  if (o < 0 || o >= 0x400 || (o & 3) !== 0) return -1;
  if (o >= 0x18 && o < 0x18 + 80) return QREG_WRPTR * 32 + ((o - 0x18) >> 2);
  if (o >= 0x68 && o < 0x68 + 80) return QREG_RDPTR * 32 + ((o - 0x68) >> 2);
  if (o >= 0x10c && o < 0x10c + 80) return QREG_STATUS * 32 + ((o - 0x10c) >> 2);
  if (o >= 0x284 && o < 0x284 + 48) return QREG_WRPTR * 32 + 20 + ((o - 0x284) >> 2);
  if (o >= 0x2b4 + 80 && o < 0x2b4 + 128) return QREG_RDPTR * 32 + ((o - 0x2b4) >> 2);
  if (o >= 0x334 + 80 && o < 0x334 + 128) return QREG_STATUS * 32 + ((o - 0x334) >> 2);
  return -1;
}

/** Address of an SCD per-queue register (what the driver writes, before masking). */
export function scdQueueAddr(kind: number, q: number): number {
  const base = SCD.BASE;
  if (kind === QREG_WRPTR) return q < 20 ? base + 0x18 + 4 * q : base + 0x284 + 4 * (q - 20);
  if (kind === QREG_RDPTR) return q < 20 ? base + 0x68 + 4 * q : base + 0x2b4 + 4 * q;
  return q < 20 ? base + 0x10c + 4 * q : base + 0x334 + 4 * q;
}

export class Prph {
  private readonly store = new Map<number, number>();
  clkCtrl = 0;
  rtcIntStt = 0;

  constructor(private readonly t: TransportEnv, private readonly txq: TxQueues) {}

  /** Power-on. */
  reset(): void {
    this.store.clear();
    this.clkCtrl = 0;
    this.rtcIntStt = 0;
  }

  /** SW reset: the scheduler's registers return to zero (APMG is always-on and keeps its state). */
  resetScd(): void {
    for (const k of [...this.store.keys()]) if (k >= SCD_BASE && k < SCD_END) this.store.delete(k);
  }

  get lmpmChick(): number {
    return this.store.get(PRPH_LMPM_CHICK) ?? 0;
  }

  /** The RF-kill switch toggled: latch the APMG RTC interrupt status. */
  noteRfKill(): void {
    this.rtcIntStt = (this.rtcIntStt | (1 << 28)) >>> 0;
  }

  read(addr: number): number {
    const a = addr & M;
    switch (a) {
      case A_CLK_CTRL:
      case A_CLK_EN:
      case A_CLK_DIS: return this.clkCtrl;
      case A_RTC_INT_STT: return this.rtcIntStt;
      case A_SRAM_BASE: return SCD_SRAM_BASE_VALUE;
      default: break;
    }
    const qr = scdQueueReg(a);
    if (qr >= 0) {
      const q = qr & 31;
      const kind = qr >> 5;
      if (kind === QREG_WRPTR) return this.txq.wr[q]!;
      if (kind === QREG_RDPTR) return this.txq.rd[q]!;
      return this.txq.status[q]!;
    }
    return this.store.get(a) ?? 0;
  }

  write(addr: number, v: number): void {
    const a = addr & M;
    v >>>= 0;
    switch (a) {
      case A_CLK_CTRL: this.clkCtrl = v; return;
      case A_CLK_EN: this.clkCtrl = (this.clkCtrl | v) >>> 0; return;
      case A_CLK_DIS: this.clkCtrl = (this.clkCtrl & ~v) >>> 0; return;
      case A_RTC_INT_STT: this.rtcIntStt = (this.rtcIntStt & ~v) >>> 0; return;
      case A_SRAM_BASE:
        this.t.err('iwl.prph.read-only', `${this.t.name}: write of ${hex(v)} to read-only SCD_SRAM_BASE_ADDR ignored`);
        return;
      default: break;
    }
    const qr = scdQueueReg(a);
    if (qr >= 0) {
      const q = qr & 31;
      const kind = qr >> 5;
      if (q >= SCD_QUEUES) {
        this.t.err('iwl.scd.queue', `${this.t.name}: SCD register of queue ${q} written (${hex(v)}); the scheduler has ${SCD_QUEUES} queues`);
      }
      if (kind === QREG_WRPTR || kind === QREG_RDPTR) {
        if (v > 0xff) this.t.err('iwl.scd.ptr', `${this.t.name}: SCD ${kind === QREG_WRPTR ? 'write' : 'read'} pointer of queue ${q} set to ${hex(v)} (> 255); low 8 bits used`);
        if (kind === QREG_WRPTR) this.txq.setWritePtr(q, v);
        else this.txq.setReadPtr(q, v);
      } else {
        this.txq.setStatus(q, v);
      }
      return;
    }
    this.store.set(a, v);
    if (a === A_TXFACT) this.txq.kickAll();
  }

  /** Digest input. */
  entries(): number[] {
    const out: number[] = [this.clkCtrl, this.rtcIntStt];
    for (const k of [...this.store.keys()].sort((x, y) => x - y)) out.push(k, this.store.get(k)!);
    return out;
  }
}
