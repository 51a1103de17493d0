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

/**
 * RAM outside the main block: the linear memory of a compiled (WebAssembly)
 * driver process, mapped at a physical base so that what the driver sees as
 * its memory and what a device reaches by DMA are the same bytes. DMA
 * permission is per page, as for main RAM.
 */
export interface RamRegion {
  readonly base: number;
  readonly size: number;
  /** The backing bytes (the wasm memory's buffer); length 0 once detached. */
  bytes: Uint8Array;
  readonly dmaPages: Uint8Array;
  /** Who owns it, for messages ("nvme-c[3]"). */
  readonly owner: string;
}

export class PhysMem {
  /**
   * Guest RAM. Code that writes it directly (rather than through a view the
   * kernel handed out, a DMA port or `writeRam`) must call `touch` for pages
   * the memory: scheme has never handed out, so `zeroPages` stays truthful.
   */
  readonly ram: Uint8Array;
  readonly ramView: DataView;
  /** Main RAM as 32-bit words (`holdsWords`). */
  private readonly ramWords: Uint32Array;
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
  private regions: RamRegion[] = [];
  /** Compiled drivers' memory regions are placed below this address (the machine sets its MMIO hole). */
  regionLimit = 0xc0000000;
  /** Offset of the last `resolve` hit inside the array it returned. */
  resolvedOffset = 0;

  constructor(readonly ramBytes: number) {
    if (ramBytes % PAGE_SIZE !== 0) throw new RangeError('RAM size must be a multiple of 4 KiB');
    this.ram = new Uint8Array(ramBytes);
    this.ramView = new DataView(this.ram.buffer);
    this.ramWords = new Uint32Array(this.ram.buffer);
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

  /** True if [addr, addr+len) is main RAM or lies inside one region. */
  isRam(addr: number, len: number): boolean {
    if (addr >= 0 && len >= 0 && addr + len <= this.ramBytes) return true;
    return this.regionOf(addr, len) !== undefined;
  }

  /**
   * The bytes holding [addr, addr+len): main RAM or a region's backing
   * array, with the offset in it left in `resolvedOffset` (no allocation per
   * call: the DMA path uses this). Null when the range is not RAM.
   */
  resolve(addr: number, len: number): Uint8Array | null {
    if (addr >= 0 && len >= 0 && addr + len <= this.ramBytes) { this.resolvedOffset = addr; return this.ram; }
    const r = this.regionOf(addr, len);
    if (r === undefined) return null;
    this.resolvedOffset = addr - r.base;
    return r.bytes;
  }

  /** Copies `data` into RAM (main or a region) at `addr`; false if the range is not RAM. Not traced. */
  writeBytes(addr: number, data: Uint8Array): boolean {
    return this.writeFrom(addr, data, 0, data.length);
  }

  /**
   * Copies src[at, at+len) into RAM (main or a region) at `addr`; false if
   * the range is not RAM. Not traced. (A view of `src` is made only when
   * the bytes are not the whole of it.)
   */
  writeFrom(addr: number, src: Uint8Array, at: number, len: number): boolean {
    const b = this.resolve(addr, len);
    if (b === null) return false;
    b.set(at === 0 && len === src.length ? src : src.subarray(at, at + len), this.resolvedOffset);
    if (b === this.ram) this.touch(addr, len);
    return true;
  }

  /** True if RAM [addr, addr+len) holds the bytes src[at, at+len), compared in place (no bytes of RAM: only for len 0). */
  holds(addr: number, src: Uint8Array, at: number, len: number): boolean {
    if (len === 0) return true;
    const b = this.resolve(addr, len);
    if (b === null) return false;
    const o = this.resolvedOffset;
    for (let x = 0; x < len; x++) if (b[o + x] !== src[at + x]) return false;
    return true;
  }

  /**
   * `holds` for bytes given as words: true if RAM [addr, addr+len) holds
   * words[0, len / 4). Compared a word at a time when the range is word-aligned
   * main RAM (a queue entry), else as `holds` compares.
   */
  holdsWords(addr: number, words: Uint32Array, bytes: Uint8Array, len: number): boolean {
    if (((addr | len) & 3) !== 0 || addr < 0 || addr + len > this.ramBytes) return this.holds(addr, bytes, 0, len);
    const r = this.ramWords;
    for (let x = 0, y = addr >>> 2, n = len >>> 2; x < n; x++, y++) if (r[y] !== words[x]) return false;
    return true;
  }

  /** A view of RAM [addr, addr+len) (main or a region), or null if it is not RAM. */
  bytesAt(addr: number, len: number): Uint8Array | null {
    const b = this.resolve(addr, len);
    return b === null ? null : b.subarray(this.resolvedOffset, this.resolvedOffset + len);
  }

  /** The region wholly containing [addr, addr+len) (within its live bytes), if any. */
  regionOf(addr: number, len: number): RamRegion | undefined {
    for (const r of this.regions) {
      if (addr >= r.base && len >= 0 && addr + len <= r.base + r.bytes.length) return r;
    }
    return undefined;
  }

  /**
   * Maps `bytes` as RAM at physical `base` (a compiled driver's memory).
   * Throws RangeError if it overlaps main RAM, a device window or a region.
   */
  addRegion(base: number, size: number, bytes: Uint8Array, owner: string): RamRegion {
    if (base % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || bytes.length > size) throw new RangeError(`RAM region 0x${base.toString(16)}+0x${size.toString(16)} is not page-aligned or smaller than its bytes`);
    const overlaps = (b: number, sz: number) => base < b + sz && b < base + size;
    if (overlaps(0, this.ramBytes)) throw new RangeError(`RAM region 0x${base.toString(16)} overlaps main RAM`);
    for (const w of this.windows) if (overlaps(w.base, w.size)) throw new RangeError(`RAM region 0x${base.toString(16)} overlaps MMIO window 0x${w.base.toString(16)}`);
    for (const r of this.regions) if (overlaps(r.base, r.size)) throw new RangeError(`RAM region 0x${base.toString(16)} overlaps the region of ${r.owner}`);
    const region: RamRegion = { base, size, bytes, dmaPages: new Uint8Array(size / PAGE_SIZE), owner };
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
    return region;
  }

  /**
   * Maps `bytes` as a region of `size` bytes at the lowest 16 MiB-aligned
   * base above main RAM that is free and below `limit`.
   */
  addRegionBelow(limit: number, size: number, bytes: Uint8Array, owner: string): RamRegion {
    const ALIGN = 16 * 1024 * 1024;
    let base = Math.ceil(this.ramBytes / ALIGN) * ALIGN;
    const taken = [...this.windows.map((w) => ({ base: w.base, size: w.size })), ...this.regions.map((r) => ({ base: r.base, size: r.size }))]
      .sort((a, b) => a.base - b.base);
    for (const t of taken) {
      if (base + size <= t.base) break;
      if (base < t.base + t.size) base = Math.ceil((t.base + t.size) / ALIGN) * ALIGN;
    }
    if (base + size > limit) throw new RangeError(`no room for ${owner}'s ${size / 1048576} MiB memory region between main RAM and 0x${limit.toString(16)} (machine.ramMiB too large?)`);
    return this.addRegion(base, size, bytes, owner);
  }

  /**
   * Maps `bytes` as a region of `size` bytes at the highest 16 MiB-aligned
   * base below `limit` that is free (a device's reserved memory, e.g. a GPU's
   * stolen memory): placed from the top, it does not move the regions placed
   * from the bottom (compiled drivers' memories), so a machine with the
   * device and one replaying its trace without it lay drivers out alike.
   */
  addRegionTop(limit: number, size: number, bytes: Uint8Array, owner: string): RamRegion {
    const ALIGN = 16 * 1024 * 1024;
    const taken = [...this.windows.map((w) => ({ base: w.base, size: w.size })), ...this.regions.map((r) => ({ base: r.base, size: r.size }))];
    let base = Math.floor((limit - size) / ALIGN) * ALIGN;
    for (;;) {
      if (base < this.ramBytes) throw new RangeError(`no room for ${owner}'s ${size / 1048576} MiB memory region between main RAM and 0x${limit.toString(16)} (machine.ramMiB too large?)`);
      const hit = taken.find((t) => base < t.base + t.size && t.base < base + size);
      if (hit === undefined) return this.addRegion(base, size, bytes, owner);
      base = Math.floor((hit.base - size) / ALIGN) * ALIGN;
    }
  }

  /** A device's reserved RAM (DeviceContext.reserveRam): `size` zeroed bytes placed from the top, all of it DMA memory. */
  reserveDeviceRam(size: number, owner: string): { base: number; bytes: Uint8Array } {
    const bytes = new Uint8Array(size);
    const region = this.addRegionTop(this.regionLimit, size, bytes, owner);
    this.markDma(region.base, size, true);
    return { base: region.base, bytes };
  }

  removeRegion(region: RamRegion): void {
    const i = this.regions.indexOf(region);
    if (i >= 0) this.regions.splice(i, 1);
  }

  listRegions(): readonly RamRegion[] {
    return this.regions;
  }

  /** True if every page of [addr, addr+len) is RAM marked for DMA. */
  isDmaAllowed(addr: number, len: number): boolean {
    let pages: Uint8Array;
    let rel: number;
    if (addr >= 0 && len >= 0 && addr + len <= this.ramBytes) { pages = this.dmaPages; rel = addr; }
    else {
      const r = this.regionOf(addr, len);
      if (r === undefined) return false;
      pages = r.dmaPages; rel = addr - r.base;
    }
    if (len === 0) return true;
    const first = Math.floor(rel / PAGE_SIZE);
    const last = Math.floor((rel + len - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) if (pages[p] === 0) return false;
    return true;
  }

  markDma(addr: number, len: number, allowed: boolean): void {
    if (len === 0) return;
    if (addr >= this.ramBytes) {
      const r = this.regions.find((x) => addr >= x.base && addr + len <= x.base + x.size);
      if (r === undefined) throw new RangeError(`markDma 0x${addr.toString(16)}+0x${len.toString(16)}: not RAM`);
      r.dmaPages.fill(allowed ? 1 : 0, Math.floor((addr - r.base) / PAGE_SIZE), Math.floor((addr - r.base + len - 1) / PAGE_SIZE) + 1);
      return;
    }
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
