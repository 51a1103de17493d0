/** Shared test world for the PCI suites: real queue, memory, IRQ fabric and a MemoryTracer. */
import { EventQueue } from '../../../src/sim/event-queue.js';
import { IrqFabric } from '../../../src/sim/irq.js';
import { PhysMem, type MmioHandler } from '../../../src/sim/memory.js';
import { MemoryTracer, type TraceEvent } from '../../../src/sim/tracer.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import { PciFunction } from '../../../src/devices/pci/function.js';
import type { Bdf } from '../../../src/devices/pci/bdf.js';

export const MiB = 1024 * 1024;

export interface Delivery {
  core: number;
  vector: number;
  source: number;
}

export function makeWorld() {
  const queue = new EventQueue();
  const tracer = new MemoryTracer();
  const mem = new PhysMem(64 * MiB);
  const irq = new IrqFabric(queue, tracer);
  irq.cores = 2;
  const delivered: Delivery[] = [];
  irq.setSink((core, vector, source) => delivered.push({ core, vector, source }));
  return { queue, tracer, mem, irq, delivered };
}

export type World = ReturnType<typeof makeWorld>;

/** A register block that remembers writes and logs every access. */
export class RegBlock implements MmioHandler {
  readonly regs: Uint8Array;
  readonly log: Array<{ write: boolean; offset: number; size: number; value: number }> = [];
  constructor(size: number) {
    this.regs = new Uint8Array(size);
  }
  read(offset: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= (this.regs[offset + i] ?? 0) << (8 * i);
    v >>>= 0;
    this.log.push({ write: false, offset, size, value: v });
    return v;
  }
  write(offset: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) this.regs[offset + i] = (value >>> (8 * i)) & 0xff;
    this.log.push({ write: true, offset, size, value });
  }
}

/** An NVMe-like function: 16 KiB mem64 BAR0 with the MSI-X table at 0x2000 and PBA at 0x3000, an I/O BAR2. */
export function fullSpec(handlers: { bar0: MmioHandler; bar2?: MmioHandler; bar4?: MmioHandler }): PciFunctionSpec {
  const bars: PciFunctionSpec['bars'] = [{ index: 0, kind: 'mem64', size: 0x4000, handler: handlers.bar0 }];
  if (handlers.bar2) bars.push({ index: 2, kind: 'io', size: 32, handler: handlers.bar2 });
  if (handlers.bar4) bars.push({ index: 4, kind: 'mem32', size: 0x1000, prefetchable: true, handler: handlers.bar4 });
  return {
    vendorId: 0x8086,
    deviceId: 0x0953,
    revision: 0x01,
    classCode: 0x010802,
    subsystemVendorId: 0x8086,
    subsystemId: 0x3702,
    interruptPin: 1,
    bars,
    capabilities: {
      pm: true,
      msi: { vectors: 8, is64: true, perVectorMask: true },
      msix: { tableSize: 8, tableBar: 0, tableOffset: 0x2000, pbaBar: 0, pbaOffset: 0x3000 },
      pcie: true,
    },
  };
}

/** A conventional PCI function with only what is asked for. */
export function plainSpec(over: Partial<PciFunctionSpec> = {}): PciFunctionSpec {
  return {
    vendorId: 0x1234,
    deviceId: 0x5678,
    revision: 2,
    classCode: 0x020000,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x0001,
    interruptPin: 2,
    bars: [],
    capabilities: {},
    ...over,
  };
}

export function makeFunction(w: World, spec: PciFunctionSpec, opts: { bdf?: Bdf; dev?: number; name?: string; onFlr?: () => void } = {}): PciFunction {
  return new PciFunction({
    bdf: opts.bdf ?? { bus: 0, device: 3, fn: 0 },
    dev: opts.dev ?? 0,
    name: opts.name ?? 'dut',
    spec,
    mem: w.mem,
    irq: w.irq,
    queue: w.queue,
    tracer: w.tracer,
    onFlr: opts.onFlr,
  });
}

export function eventsOf<K extends TraceEvent['kind']>(t: MemoryTracer, kind: K): Array<Extract<TraceEvent, { kind: K }>> {
  return t.events.filter((e): e is Extract<TraceEvent, { kind: K }> => e.kind === kind);
}

export function guestErrs(t: MemoryTracer): string[] {
  return eventsOf(t, 'guestErr').map((e) => e.code);
}

/** Valid interrupt message address for core `core` (Intel SDM 11.11.1). */
export function msiAddr(core: number): number {
  return (0xfee00000 | (core << 12)) >>> 0;
}
