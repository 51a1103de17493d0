import type { EventQueue } from './event-queue.js';
import type { PhysMem } from './memory.js';
import type { Tracer } from './tracer.js';
import type { Sanitizer } from './sanitize.js';
import { formatTime } from './time.js';

/** Who decides whether a device may master the bus (the PCI command register). */
export interface BusMasterGate {
  readonly busMaster: boolean;
  /**
   * Optional PCI power state (0 = D0, 1 = D1, 2 = D2, 3 = D3hot): a function
   * not in D0 initiates no DMA (PCIe 3.0 5.3.1.2-5.3.1.4.1); such a transfer
   * is refused as `dma.power-state`. Absent: always D0.
   */
  readonly powerState?: number;
}

/** Seeded DMA fault injection, declared by a scenario. */
export interface DmaFaults {
  /** Returns true if this transfer should fail (the port then reports it as refused). */
  shouldFail(write: boolean, addr: number, length: number): boolean;
}

export type DmaResult = 'ok' | 'power-state' | 'no-bus-master' | 'unmapped' | 'fault';

/** Transfers up to this many bytes are copied by a loop rather than a typed-array view and `set`. */
const SMALL = 64;

/**
 * A device's only path to guest memory. Every transfer checks bus-master
 * enable and that the target is RAM the driver mapped for DMA, and is traced
 * with its bytes. Transfers copy; a device never holds a view of guest RAM.
 */
export class DmaPort {
  /** Last failure, for the device's error reporting. */
  lastResult: DmaResult = 'ok';
  faults: DmaFaults | null = null;
  /** Boundary sanitizer (machine option `sanitize`): names the free behind a refused DMA into freed memory. */
  sanitizer: Sanitizer | null = null;
  private readonly scratch4 = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch4.buffer);

  constructor(
    readonly dev: number,
    readonly devName: string,
    private readonly mem: PhysMem,
    private readonly queue: EventQueue,
    private readonly tracer: Tracer,
    private readonly gate: BusMasterGate,
  ) {}

  private check(write: boolean, addr: number, length: number): boolean {
    let r: DmaResult = 'ok';
    const ps = this.gate.powerState;
    if (ps !== undefined && ps !== 0) r = 'power-state';
    else if (!this.gate.busMaster) r = 'no-bus-master';
    else if (!this.mem.isDmaAllowed(addr, length)) r = 'unmapped';
    else if (this.faults !== null && this.faults.shouldFail(write, addr, length)) r = 'fault';
    this.lastResult = r;
    if (r === 'ok') return true;
    const what = write ? 'write to' : 'read from';
    const why = r === 'power-state' ? `the function is in ${ps === 3 ? 'D3hot' : `D${ps}`} (PMCSR PowerState); only a function in D0 masters the bus`
      : r === 'no-bus-master' ? 'bus mastering is disabled in the PCI command register'
      : r === 'unmapped' ? 'the range is not memory the driver allocated for DMA'
      : 'injected DMA fault';
    this.tracer.guestErr(this.queue.now, this.dev, `dma.${r}`,
      `${this.devName}: DMA ${what} 0x${addr.toString(16)} (+${length}) refused: ${why}`);
    if (r === 'unmapped' && this.sanitizer !== null) this.reportFreed(write, addr, length);
    return false;
  }

  /** Sanitizer: a refused DMA into memory the driver freed or unmapped is also a use after free. */
  private reportFreed(write: boolean, addr: number, length: number): void {
    const f = this.sanitizer!.freedIn(addr, length);
    if (f === undefined) return;
    this.tracer.guestErr(this.queue.now, this.dev, 'dma.freed',
      `${this.devName}: DMA ${write ? 'write to' : 'read from'} 0x${addr.toString(16)} (+${length}) hits memory freed by ${f.what} `
      + `(0x${f.phys.toString(16)} +${f.size}) in ${f.proc}[${f.pid}] at ${formatTime(f.timePs)}: the device still used a buffer the driver had released`);
  }

  /**
   * Copies RAM [addr, addr+length) into dst without tracing or permission
   * checks, for sanitizers that look at guest memory without the device
   * having done so (nothing is recorded; device behaviour is unchanged).
   * Returns false if the range is not RAM.
   */
  peek(addr: number, dst: Uint8Array, dstOffset: number, length: number): boolean {
    const ram = this.mem.resolve(addr, length);
    if (ram === null) return false;
    const at = this.mem.resolvedOffset;
    for (let i = 0; i < length; i++) dst[dstOffset + i] = ram[at + i]!;
    return true;
  }

  /** True if [addr, addr+length) is RAM (main RAM or a registered region); no check of DMA permission, nothing recorded. */
  isRam(addr: number, length: number): boolean {
    return this.mem.resolve(addr, length) !== null;
  }

  /**
   * Copies guest memory into dst like `read`, with the same checks (bus
   * mastering, RAM the driver mapped for DMA, injected faults), but records
   * no DMA event: for a display engine's scanout, whose frame is recorded
   * once as a frame record instead. A refusal records its `dma.*` guest
   * error only when `report` is true (a scanout refused every frame reports
   * once). Returns false when refused.
   */
  scan(addr: number, dst: Uint8Array, dstOffset: number, length: number, report = true): boolean {
    if (!this.allowed(false, addr, length, report)) return false;
    const ram = this.mem.resolve(addr, length)!;
    const at = this.mem.resolvedOffset;
    if (length <= SMALL) {
      for (let i = 0; i < length; i++) dst[dstOffset + i] = ram[at + i]!;
    } else {
      dst.set(ram.subarray(at, at + length), dstOffset);
    }
    return true;
  }

  /**
   * Copies src into guest memory like `write`, checked like `scan`, with no
   * DMA event recorded: a CPU store forwarded by the device (a GPU's
   * aperture), recorded as the MMIO access that caused it.
   */
  store(addr: number, src: Uint8Array, srcOffset: number, length: number, report = true): boolean {
    if (!this.allowed(true, addr, length, report)) return false;
    const ram = this.mem.resolve(addr, length)!;
    const at = this.mem.resolvedOffset;
    for (let i = 0; i < length; i++) ram[at + i] = src[srcOffset + i]!;
    return true;
  }

  /** `check` with the guest error optional. */
  private allowed(write: boolean, addr: number, length: number, report: boolean): boolean {
    if (report) return this.check(write, addr, length);
    let r: DmaResult = 'ok';
    const ps = this.gate.powerState;
    if (ps !== undefined && ps !== 0) r = 'power-state';
    else if (!this.gate.busMaster) r = 'no-bus-master';
    else if (!this.mem.isDmaAllowed(addr, length)) r = 'unmapped';
    else if (this.faults !== null && this.faults.shouldFail(write, addr, length)) r = 'fault';
    this.lastResult = r;
    return r === 'ok';
  }

  /** Copies guest memory [addr, addr+length) into dst[dstOffset..]. */
  read(addr: number, dst: Uint8Array, dstOffset: number, length: number, tag: string): boolean {
    if (!this.check(false, addr, length)) return false;
    // check() saw the range as RAM (main RAM or a compiled driver's memory region).
    const ram = this.mem.resolve(addr, length)!;
    const at = this.mem.resolvedOffset;
    // Small transfers (queue entries, PRP lists): a loop beats creating a view for `set`.
    if (length <= SMALL && dstOffset >= 0 && dstOffset + length <= dst.length) {
      for (let i = 0; i < length; i++) dst[dstOffset + i] = ram[at + i]!;
    } else {
      dst.set(ram.subarray(at, at + length), dstOffset);
    }
    if (this.tracer.enabled) this.tracer.dma(false, this.queue.now, this.dev, addr, dst, dstOffset, length, tag);
    return true;
  }

  /**
   * Copies src[srcOffset..srcOffset+length) to guest memory at addr. `image` / `imageOffset`: the
   * bytes are unmodified content of that disk-image fixture (Tracer.dma), for the trace to reference.
   */
  write(addr: number, src: Uint8Array, srcOffset: number, length: number, tag: string, image?: string, imageOffset?: number): boolean {
    if (!this.check(true, addr, length)) return false;
    const ram = this.mem.resolve(addr, length)!;
    const at = this.mem.resolvedOffset;
    if (srcOffset >= 0 && srcOffset + length <= src.length) {
      if (length <= SMALL) {
        for (let i = 0; i < length; i++) ram[at + i] = src[srcOffset + i]!;
      } else {
        // A plain view rather than `subarray`, which takes Buffer's slower path when src is a Buffer (disk storage).
        ram.set(new Uint8Array(src.buffer, src.byteOffset + srcOffset, length), at);
      }
    } else {
      ram.set(src.subarray(srcOffset, srcOffset + length), at);
    }
    if (this.tracer.enabled) this.tracer.dma(true, this.queue.now, this.dev, addr, src, srcOffset, length, tag, image, imageOffset);
    return true;
  }

  /** Reads one little-endian dword; returns -1 when refused. */
  read32(addr: number, tag: string): number {
    if (!this.read(addr, this.scratch4, 0, 4, tag)) return -1;
    return this.scratchView.getUint32(0, true);
  }

  /** Writes one little-endian dword (used for MSI-style and status write-backs). */
  write32(addr: number, value: number, tag: string): boolean {
    this.scratchView.setUint32(0, value >>> 0, true);
    return this.write(addr, this.scratch4, 0, 4, tag);
  }
}
