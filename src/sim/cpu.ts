import type { EventQueue } from './event-queue.js';
import type { PhysMem } from './memory.js';
import type { Tracer } from './tracer.js';
import type { SimTime } from './time.js';

/**
 * What operations cost a core, in picoseconds. Defaults are typical figures
 * for a current x86-64 desktop or server part; each says where it comes from.
 * Scenarios may override any of them (machine.cpu.costs).
 */
export interface CostModel {
  /** Core clock frequency in Hz; `spend(cycles)` converts through its period. */
  clockHz: number;
  /** Uncached MMIO read: a non-posted PCIe round trip, ~0.5-1 us on measured
   *  x86 systems (Neugebauer et al., "Understanding PCIe performance for end
   *  host networking", SIGCOMM 2018, report several hundred ns and up). */
  mmioReadPs: number;
  /** Posted MMIO write: retires once in the write-combining/uncached store
   *  path; tens of ns of core time (Intel SDM vol. 3, 11.3: UC stores are
   *  not cached but are posted). */
  mmioWritePs: number;
  /** Legacy port I/O (in/out, e.g. CF8/CFC): serialising, ~1 us on chipsets
   *  that forward to LPC/PCI (the classic "port 0x80 delay" is ~1 us). */
  portIoPs: number;
  /** Plain syscall entry and exit on a microkernel with KPTI-style
   *  mitigations: ~100-200 ns (Redox and Linux getpid-class measurements). */
  syscallPs: number;
  /** One direction of a user-scheme hop (request to the daemon, or reply to
   *  the caller), on top of the syscall: packet copy plus wakeup, ~1-2 us. */
  schemeHopPs: number;
  /** Context switch between tasks on one core, including the direct cache
   *  cost: ~1-2 us (lmbench lat_ctx class figures). */
  contextSwitchPs: number;
  /** Interrupt entry and exit (IDT dispatch, APIC EOI): ~0.3-1 us. */
  interruptEntryPs: number;
  /** Copying memory inside a process, per 64-byte cache line: ~10 GB/s
   *  single-core memcpy gives 6.4 ns per line. */
  copyPsPer64B: number;
  /** One WebAssembly instruction of a compiled driver (counted statically per
   *  region, docs/COMPILED-DRIVERS.md): a wasm instruction JIT-compiles to
   *  about 1-1.5 x86 instructions, retired at an IPC near 2 on driver-like
   *  code, so ~0.6 cycle at 3 GHz. */
  wasmInstrPs: number;
  /** Crossing from compiled driver code into the kernel-interface shim (an
   *  import call: argument marshalling, the call and return), on top of what
   *  the called function charges itself (an MMIO access, a syscall): ~5 ns. */
  wasmImportPs: number;
}

export const DEFAULT_COSTS: CostModel = {
  clockHz: 3_000_000_000,
  mmioReadPs: 700_000,
  mmioWritePs: 60_000,
  portIoPs: 1_000_000,
  syscallPs: 150_000,
  schemeHopPs: 1_500_000,
  contextSwitchPs: 1_200_000,
  interruptEntryPs: 500_000,
  copyPsPer64B: 6_400,
  wasmInstrPs: 200,
  wasmImportPs: 5_000,
};

/**
 * One CPU core: a local clock that runs ahead of the event queue while a
 * task executes, and the uncached access path that drivers use. Before each
 * device access the core runs every device event due at or before its local
 * time, so a driver polling a status register sees the device progress as it
 * would on hardware.
 */
export class Core {
  /** Local time of this core (>= the queue's time while a task runs). */
  time: SimTime = 0 as SimTime;
  /**
   * The run's time limit (ps; Infinity = none). Device events are never run
   * past it, however far an access's cost takes the core's local time, so a
   * huge cost cannot make the machine simulate (or spin through) time beyond
   * the limit; the run loop ends the run once a core has passed it.
   */
  limitPs = Infinity;
  readonly periodPs: number;
  mmioAccesses = 0;

  constructor(
    readonly id: number,
    readonly costs: CostModel,
    private readonly queue: EventQueue,
    private readonly mem: PhysMem,
    private readonly tracer: Tracer,
  ) {
    this.periodPs = Math.round(1e12 / costs.clockHz);
  }

  /** Advances local time by `ps` picoseconds. */
  advance(ps: number): void {
    this.time = (this.time + ps) as SimTime;
  }

  /** Explicit compute cost in core cycles. */
  spend(cyclesCount: number): void {
    this.time = (this.time + cyclesCount * this.periodPs) as SimTime;
  }

  /** Brings the device world up to this core's time. */
  sync(): void {
    const q = this.queue;
    const t = this.time <= this.limitPs ? this.time : this.limitPs as SimTime;
    // Checked here so that when nothing is due this stays small enough to inline into every access.
    if (q.pending !== 0 && q.peekTime() <= t) q.runUntil(t);
    else q.advanceTo(t);
    if (q.now > this.time) this.time = q.now;
  }

  mmioRead(addr: number, size: number): number {
    this.time = (this.time + this.costs.mmioReadPs) as SimTime;
    this.sync();
    this.mmioAccesses++;
    const w = this.mem.findWindow(addr, size);
    if (w === undefined) return this.unmapped(false, addr, size, 0);
    const off = addr - w.base;
    const v = w.handler.read(off, size);
    if (w.traced) this.tracer.mmio(false, this.queue.now, this.id, w.dev, w.bar, off, size, v);
    return v;
  }

  mmioWrite(addr: number, size: number, value: number): void {
    this.time = (this.time + this.costs.mmioWritePs) as SimTime;
    this.sync();
    this.mmioAccesses++;
    const w = this.mem.findWindow(addr, size);
    if (w === undefined) {
      this.unmapped(true, addr, size, value);
      return;
    }
    const off = addr - w.base;
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    if (w.traced) this.tracer.mmio(true, this.queue.now, this.id, w.dev, w.bar, off, size, v);
    w.handler.write(off, size, v);
  }

  portRead(port: number, size: number): number {
    this.time = (this.time + this.costs.portIoPs) as SimTime;
    this.sync();
    const r = this.mem.findPorts(port, size);
    if (r === undefined) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const v = r.handler.read(port - r.base, size);
    if (r.traced) this.tracer.pio(false, this.queue.now, this.id, r.dev, port, size, v);
    return v;
  }

  portWrite(port: number, size: number, value: number): void {
    this.time = (this.time + this.costs.portIoPs) as SimTime;
    this.sync();
    const r = this.mem.findPorts(port, size);
    if (r === undefined) return;
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    if (r.traced) this.tracer.pio(true, this.queue.now, this.id, r.dev, port, size, v);
    r.handler.write(port - r.base, size, v);
  }

  /** An access that hits no window: a master abort, all ones on read, plus a guest error. */
  private unmapped(write: boolean, addr: number, size: number, value: number): number {
    if (addr + size <= this.mem.ramBytes && addr >= 0) {
      // Uncached access to RAM: legal, just slow.
      if (write) { this.mem.writeRam(addr, size, value); return 0; }
      return this.mem.readRam(addr, size);
    }
    this.tracer.guestErr(this.queue.now, -1, write ? 'mmio.unmapped-write' : 'mmio.unmapped-read',
      `core ${this.id}: ${write ? 'write' : 'read'} of ${size} bytes at 0x${addr.toString(16)} hits no device (master abort)`);
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }
}
