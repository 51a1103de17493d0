/**
 * Device SRAM of the 7265D as the host reaches it (HBUS_TARG_MEM_*) and the
 * service channel fills it. Sparse: 64 KiB pages allocated on first write
 * (a page never written reads as zeros), restricted to the regions the
 * firmware and the scheduler use. Anything else is "not backed".
 */
import { SCD_SRAM_BASE_VALUE } from '../regs.js';

const PAGE_SHIFT = 16;
const PAGE_SIZE = 1 << PAGE_SHIFT;
const PAGE_MASK = PAGE_SIZE - 1;

/** Backed SRAM regions, [start, end). */
export const SRAM_REGIONS: ReadonlyArray<readonly [number, number]> = [
  [0x000000, 0x100000], // instruction memory (incl. the extended 0x40000-0x57FFF window)
  [0x400000, 0x480000], // LMAC shared memory (0x456000 ...)
  [0x800000, 0x840000], // data memory
  [SCD_SRAM_BASE_VALUE, SCD_SRAM_BASE_VALUE + 0x1000], // scheduler context / status / translation
];

export class DeviceSram {
  private readonly pages = new Map<number, Uint8Array>();

  /** True if [addr, addr+len) lies inside one backed region. */
  backed(addr: number, len: number): boolean {
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0) return false;
    for (let i = 0; i < SRAM_REGIONS.length; i++) {
      const r = SRAM_REGIONS[i]!;
      if (addr >= r[0] && addr + len <= r[1]) return true;
    }
    return false;
  }

  /** Every page dropped (power-on contents: zeros). */
  clear(): void {
    this.pages.clear();
  }

  read32(addr: number): number {
    const p = this.pages.get(addr >>> PAGE_SHIFT);
    if (p === undefined) return 0;
    const o = addr & PAGE_MASK & ~3;
    return (p[o]! | (p[o + 1]! << 8) | (p[o + 2]! << 16) | (p[o + 3]! << 24)) >>> 0;
  }

  write32(addr: number, v: number): void {
    const p = this.page(addr >>> PAGE_SHIFT);
    const o = addr & PAGE_MASK & ~3;
    p[o] = v & 0xff;
    p[o + 1] = (v >>> 8) & 0xff;
    p[o + 2] = (v >>> 16) & 0xff;
    p[o + 3] = (v >>> 24) & 0xff;
  }

  /** Copies src[0..len) to SRAM at addr (the caller checked `backed`). */
  write(addr: number, src: Uint8Array, len: number): void {
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      this.page(Math.floor(a / PAGE_SIZE)).set(src.subarray(done, done + n), off);
      done += n;
    }
  }

  /** A copy of [addr, addr+len), or null when not backed. */
  read(addr: number, len: number): Uint8Array | null {
    if (!this.backed(addr, len)) return null;
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const a = addr + done;
      const off = a & PAGE_MASK;
      const n = Math.min(len - done, PAGE_SIZE - off);
      const p = this.pages.get(Math.floor(a / PAGE_SIZE));
      if (p !== undefined) out.set(p.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  private page(n: number): Uint8Array {
    let p = this.pages.get(n);
    if (p === undefined) {
      p = new Uint8Array(PAGE_SIZE);
      this.pages.set(n, p);
    }
    return p;
  }
}
