/**
 * Physical address space: RAM from 0, MMIO windows (device BARs, ECAM) above
 * it, and a separate 64 KiB port I/O space. Windows are looked up by a sorted
 * array with a last-hit cache, so a device access costs no allocation.
 *
 * DMA permission is tracked per 4 KiB page: the kernel's `memory:` scheme
 * marks pages it hands out for DMA; device DMA elsewhere is refused as an
 * IOMMU would refuse it.
 */
export interface MmioHandler {
  /** `size` is 1, 2 or 4; the result is an unsigned value of that width. */
  read(offset: number, size: number): number;
  write(offset: number, size: number, value: number): void;
}

export interface MmioWindow {
  base: number;
  size: number;
  handler: MmioHandler;
  /** Device index in the trace device table (-1 for platform windows). */
  dev: number;
  /** BAR number, or -1 for non-BAR windows such as ECAM. */
  bar: number;
  /** Platform windows are not device-boundary traffic of their own (ECAM traces as config). */
  traced: boolean;
}

export interface PortRange {
  base: number;
  size: number;
  handler: MmioHandler;
  dev: number;
  traced: boolean;
}

export const PAGE_SIZE = 4096;

export class PhysMem {
  /**
   * Guest RAM. Code that writes it directly (rather than through a view the
   * kernel handed out, a DMA port or `writeRam`) must call `touch` for pages
   * the memory: scheme has never handed out, so `zeroPages` stays truthful.
   */
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  readonly dmaPages: Uint8Array;
  /**
   * 1 for pages that may hold non-zero bytes: pages ever marked for DMA (the
   * kernel hands those out with CPU views) or written by `writeRam`. RAM
   * starts zeroed, so `zeroPages` clears only these: a fresh machine does
   * not write (and fault in) megabytes of host memory that already read 0.
   */
  private readonly touched: Uint8Array;
  private windows: MmioWindow[] = [];
  private lastHit: MmioWindow | undefined;
  private ports: PortRange[] = [];

  constructor(readonly ramBytes: number) {
    if (ramBytes % PAGE_SIZE !== 0) throw new RangeError('RAM size must be a multiple of 4 KiB');
    this.ram = new Uint8Array(ramBytes);
    this.ramView = new DataView(this.ram.buffer);
    this.dmaPages = new Uint8Array(ramBytes / PAGE_SIZE);
    this.touched = new Uint8Array(ramBytes / PAGE_SIZE);
  }

  /** Records that [addr, addr+len) may have been written (see `ram`). */
  touch(addr: number, len: number): void {
    if (len <= 0) return;
    this.touched.fill(1, Math.floor(addr / PAGE_SIZE), Math.floor((addr + len - 1) / PAGE_SIZE) + 1);
  }

  /** Zeroes the whole pages of [addr, addr+len), skipping pages that were never written. */
  zeroPages(addr: number, len: number): void {
    if (len <= 0) return;
    const t = this.touched;
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (let p = Math.floor(addr / PAGE_SIZE); p <= last; p++) {
      if (t[p] === 0) continue;
      let q = p;
      while (q < last && t[q + 1] !== 0) q++;
      this.ram.fill(0, p * PAGE_SIZE, (q + 1) * PAGE_SIZE);
      p = q;
    }
  }

  mapMmio(window: MmioWindow): void {
    for (const w of this.windows) {
      if (window.base < w.base + w.size && w.base < window.base + window.size) {
        throw new RangeError(`MMIO window 0x${window.base.toString(16)}+0x${window.size.toString(16)} overlaps 0x${w.base.toString(16)}+0x${w.size.toString(16)}`);
      }
    }
    if (window.base < this.ramBytes) throw new RangeError(`MMIO window 0x${window.base.toString(16)} overlaps RAM`);
    this.windows.push(window);
    this.windows.sort((a, b) => a.base - b.base);
  }

  unmapMmio(window: MmioWindow): void {
    const i = this.windows.indexOf(window);
    if (i >= 0) this.windows.splice(i, 1);
    if (this.lastHit === window) this.lastHit = undefined;
  }

  /** The window containing [addr, addr+size), or undefined. */
  findWindow(addr: number, size = 1): MmioWindow | undefined {
    const hit = this.lastHit;
    if (hit !== undefined && addr >= hit.base && addr + size <= hit.base + hit.size) return hit;
    const ws = this.windows;
    let lo = 0;
    let hi = ws.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const w = ws[mid]!;
      if (addr < w.base) hi = mid - 1;
      else if (addr >= w.base + w.size) lo = mid + 1;
      else {
        if (addr + size > w.base + w.size) return undefined;
        this.lastHit = w;
        return w;
      }
    }
    return undefined;
  }

  listWindows(): readonly MmioWindow[] {
    return this.windows;
  }

  mapPorts(range: PortRange): void {
    for (const r of this.ports) {
      if (range.base < r.base + r.size && r.base < range.base + range.size) {
        throw new RangeError(`I/O port range 0x${range.base.toString(16)} overlaps 0x${r.base.toString(16)}`);
      }
    }
    this.ports.push(range);
  }

  unmapPorts(range: PortRange): void {
    const i = this.ports.indexOf(range);
    if (i >= 0) this.ports.splice(i, 1);
  }

  findPorts(port: number, size: number): PortRange | undefined {
    for (const r of this.ports) if (port >= r.base && port + size <= r.base + r.size) return r;
    return undefined;
  }

  isRam(addr: number, len: number): boolean {
    return addr >= 0 && len >= 0 && addr + len <= this.ramBytes;
  }

  /** True if every page of [addr, addr+len) is RAM marked for DMA. */
  isDmaAllowed(addr: number, len: number): boolean {
    if (!this.isRam(addr, len)) return false;
    if (len === 0) return true;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) if (this.dmaPages[p] === 0) return false;
    return true;
  }

  markDma(addr: number, len: number, allowed: boolean): void {
    if (len === 0) return;
    const first = Math.floor(addr / PAGE_SIZE);
    const last = Math.floor((addr + len - 1) / PAGE_SIZE);
    this.dmaPages.fill(allowed ? 1 : 0, first, last + 1);
    if (allowed) this.touched.fill(1, first, last + 1);
  }

  readRam(addr: number, size: number): number {
    switch (size) {
      case 1: return this.ram[addr]!;
      case 2: return this.ramView.getUint16(addr, true);
      default: return this.ramView.getUint32(addr, true);
    }
  }

  writeRam(addr: number, size: number, value: number): void {
    this.touch(addr, size);
    switch (size) {
      case 1: this.ram[addr] = value; break;
      case 2: this.ramView.setUint16(addr, value, true); break;
      default: this.ramView.setUint32(addr, value >>> 0, true); break;
    }
  }
}
