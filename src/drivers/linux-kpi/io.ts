import type { Mmio } from '../../kernel/sys.js';

/** `void __iomem *`: a mapped BAR. */
export interface IoMem {
  readonly mmio: Mmio;
  readonly len: number;
  readonly bar: number;
}

/**
 * linux/io.h accessors on a mapped BAR. Each is one uncached access through
 * the core (which charges it and brings the devices up to date first);
 * nothing is allocated per access.
 */
export class LinuxIo {
  readb(io: IoMem, off: number): number { return io.mmio.read8(off); }
  readw(io: IoMem, off: number): number { return io.mmio.read16(off); }
  readl(io: IoMem, off: number): number { return io.mmio.read32(off); }
  writeb(v: number, io: IoMem, off: number): void { io.mmio.write8(off, v); }
  writew(v: number, io: IoMem, off: number): void { io.mmio.write16(off, v); }
  writel(v: number, io: IoMem, off: number): void { io.mmio.write32(off, v); }
  /** 64-bit read as two dword reads, low then high (lo_hi_readq; the bus splits qwords). */
  readq(io: IoMem, off: number): bigint {
    const lo = io.mmio.read32(off);
    const hi = io.mmio.read32(off + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** 64-bit write as two dword writes, low then high (lo_hi_writeq). */
  writeq(v: bigint | number, io: IoMem, off: number): void {
    const b = BigInt(v);
    io.mmio.write32(off, Number(b & 0xffffffffn));
    io.mmio.write32(off + 4, Number((b >> 32n) & 0xffffffffn));
  }
}
