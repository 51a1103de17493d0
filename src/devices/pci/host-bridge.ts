/**
 * The PCI host bridge: the functions on bus 0 by BDF, and the two ways the
 * CPU reaches their config space — ECAM (PCIe 3.0 7.2.2, memory-mapped,
 * offset = bus << 20 | device << 15 | function << 12 | register) and
 * configuration mechanism #1 (PCI 3.0 3.2.2.3.2, CONFIG_ADDRESS at 0xCF8 and
 * CONFIG_DATA at 0xCFC). Every config access to a function with a trace
 * device index is traced as a `cfg` event. The bridge itself is function
 * 00:00.0 (an Intel Q35-style host bridge, class 0x060000, no BARs).
 */
import type { EventQueue } from '../../sim/event-queue.js';
import type { IrqFabric } from '../../sim/irq.js';
import type { MmioHandler, MmioWindow, PhysMem, PortRange } from '../../sim/memory.js';
import type { Tracer } from '../../sim/tracer.js';
import type { PciFunctionSpec } from './api.js';
import { bdfKey, formatBdf, type Bdf } from './bdf.js';
import { PciFunction } from './function.js';

/**
 * What the bus needs of a function on it: a device's PCI function, or
 * whatever answers in its place (trace-as-hardware replay's stand-ins).
 */
export interface PciBusFunction {
  readonly bdf: Readonly<Bdf>;
  readonly name: string;
  /** Index in the trace device table; -1 for the host bridge. */
  readonly dev: number;
  configRead(offset: number, size: number): number;
  configWrite(offset: number, size: number, value: number): void;
  /** Sets Header Type bit 7 (PCI 3.0 6.2.1): another function shares this device number. */
  setMultiFunction(): void;
}
import { assignPciResources, type PciAssignment, type PciResourceOptions } from './resources.js';

export interface PciHostBridgeOptions {
  mem: PhysMem;
  irq: IrqFabric;
  queue: EventQueue;
  tracer: Tracer;
  /** Trace device index of the host bridge function; its config accesses are traced only if >= 0. Default -1. */
  hostBridgeDev?: number;
}

export const HOST_BRIDGE_SPEC: PciFunctionSpec = {
  vendorId: 0x8086,
  deviceId: 0x29c0,
  revision: 0,
  classCode: 0x060000,
  subsystemVendorId: 0x8086,
  subsystemId: 0x29c0,
  interruptPin: 0,
  bars: [],
  capabilities: {},
};

/** Legacy configuration mechanism #1 ports. */
export const CONFIG_ADDRESS_PORT = 0xcf8;
export const CONFIG_DATA_PORT = 0xcfc;
const CONFIG_ADDRESS_ENABLE = 0x80000000;
/** CONFIG_ADDRESS keeps the enable bit and bus/device/function/register; 30:24 reserved, 1:0 read 0. */
const CONFIG_ADDRESS_MASK = 0x80fffffc;
/** ECAM space for one bus. */
export const ECAM_BUS_SIZE = 1 << 20;

function allOnes(size: number): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

export class PciHostBridge {
  readonly hostBridge: PciFunction;
  /** Handler for the ECAM window (map with `mapEcam`, or yourself with traced: false). */
  readonly ecam: MmioHandler;
  /** Handler for ports 0xCF8..0xCFF (offset 0 = 0xCF8). */
  readonly configPorts: MmioHandler;

  private readonly byKey = new Map<number, PciBusFunction>();
  private sorted: PciBusFunction[] = [];
  private configAddress = 0;
  private readonly mem: PhysMem;
  private readonly queue: EventQueue;
  private readonly tracer: Tracer;

  constructor(opts: PciHostBridgeOptions) {
    this.mem = opts.mem;
    this.queue = opts.queue;
    this.tracer = opts.tracer;
    this.hostBridge = new PciFunction({
      bdf: { bus: 0, device: 0, fn: 0 },
      dev: opts.hostBridgeDev ?? -1,
      name: 'host-bridge',
      spec: HOST_BRIDGE_SPEC,
      mem: opts.mem,
      irq: opts.irq,
      queue: opts.queue,
      tracer: opts.tracer,
    });
    this.add(this.hostBridge);
    this.ecam = {
      read: (offset, size) => this.configReadKey(offset >>> 12, offset & 0xfff, size),
      write: (offset, size, value) => this.configWriteKey(offset >>> 12, offset & 0xfff, size, value),
    };
    this.configPorts = {
      read: (offset, size) => this.portRead(offset, size),
      write: (offset, size, value) => this.portWrite(offset, size, value),
    };
  }

  /** Places a function at its BDF. Throws if the BDF is taken. */
  add(fn: PciBusFunction): void {
    const key = bdfKey(fn.bdf);
    const there = this.byKey.get(key);
    if (there !== undefined) {
      throw new Error(`PCI address ${formatBdf(fn.bdf)} is already taken by ${there.name}; cannot add ${fn.name}`);
    }
    this.byKey.set(key, fn);
    this.sorted.push(fn);
    this.sorted.sort((a, b) => bdfKey(a.bdf) - bdfKey(b.bdf));
    // PCI 3.0 6.2.1: function 0 of a device with several functions sets Header Type bit 7.
    const fn0 = this.byKey.get(key & ~7);
    if (fn0 !== undefined && this.sorted.some((f) => f !== fn0 && (bdfKey(f.bdf) & ~7) === (key & ~7))) fn0.setMultiFunction();
  }

  /** The function at `bdf`, if any. */
  get(bdf: Bdf): PciBusFunction | undefined {
    return this.byKey.get(bdfKey(bdf));
  }

  /** Every function, the host bridge (00:00.0, `dev` -1 by default) included, in BDF order. */
  functions(): readonly PciBusFunction[] {
    return this.sorted;
  }

  /** A config read as the CPU would do it; an absent function reads all ones. Traced. */
  configRead(bdf: Bdf, offset: number, size: number): number {
    return this.configReadKey(bdfKey(bdf), offset, size);
  }

  /** A config write as the CPU would do it; ignored for absent functions. Traced. */
  configWrite(bdf: Bdf, offset: number, size: number, value: number): void {
    this.configWriteKey(bdfKey(bdf), offset, size, value);
  }

  /** Maps the ECAM window for `buses` buses (1 MiB each) at `base`, untraced (config accesses trace as cfg). */
  mapEcam(base: number, buses = 1): MmioWindow {
    const w: MmioWindow = { base, size: buses * ECAM_BUS_SIZE, handler: this.ecam, dev: -1, bar: -1, traced: false };
    this.mem.mapMmio(w);
    return w;
  }

  /** Maps ports 0xCF8..0xCFF, untraced (config accesses trace as cfg). */
  mapConfigPorts(): PortRange {
    const r: PortRange = { base: CONFIG_ADDRESS_PORT, size: 8, handler: this.configPorts, dev: -1, traced: false };
    this.mem.mapPorts(r);
    return r;
  }

  /**
   * Firmware PCI enumeration: sizes every BAR through config cycles, assigns
   * naturally aligned addresses in BDF order, writes Interrupt Line and
   * enables memory/I/O decode. See `assignPciResources`.
   */
  assignResources(opts: PciResourceOptions): PciAssignment[] {
    return assignPciResources(this, this.mem, opts);
  }

  // ---- Access paths ------------------------------------------------------------

  private configReadKey(key: number, offset: number, size: number): number {
    const fn = this.byKey.get(key);
    if (fn === undefined) return allOnes(size);
    const v = fn.configRead(offset, size);
    if (fn.dev >= 0) this.tracer.cfg(false, this.queue.now, -1, fn.dev, offset, size, v);
    return v;
  }

  private configWriteKey(key: number, offset: number, size: number, value: number): void {
    const fn = this.byKey.get(key);
    if (fn === undefined) return;
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    // Traced before the write so side effects (FLR, messages on unmask) follow it in the trace.
    if (fn.dev >= 0) this.tracer.cfg(true, this.queue.now, -1, fn.dev, offset, size, v);
    fn.configWrite(offset, size, v);
  }

  /**
   * Ports 0xCF8..0xCFF. Only a full dword access at 0xCF8 reaches
   * CONFIG_ADDRESS; other accesses to 0xCF8..0xCFB are not claimed (reads
   * all ones). CONFIG_DATA byte lanes come from the port's low bits.
   */
  private portRead(offset: number, size: number): number {
    if (offset < 4) return offset === 0 && size === 4 ? this.configAddress : allOnes(size);
    const a = this.configAddress;
    if ((a & CONFIG_ADDRESS_ENABLE) === 0) return allOnes(size);
    return this.configReadKey((a >>> 8) & 0xffff, (a & 0xfc) + (offset - 4), size);
  }

  private portWrite(offset: number, size: number, value: number): void {
    if (offset < 4) {
      if (offset === 0 && size === 4) this.configAddress = (value & CONFIG_ADDRESS_MASK) >>> 0;
      return;
    }
    const a = this.configAddress;
    if ((a & CONFIG_ADDRESS_ENABLE) === 0) return;
    this.configWriteKey((a >>> 8) & 0xffff, (a & 0xfc) + (offset - 4), size, value);
  }
}
