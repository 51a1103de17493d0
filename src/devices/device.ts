/**
 * What a device model is handed at construction, and what it gives back.
 * A device sees the world only through this context (DESIGN.md, "Devices").
 */
import type { EventQueue } from '../sim/event-queue.js';
import type { DmaPort } from '../sim/dma.js';
import type { Rng } from '../sim/rng.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Tracer } from '../sim/tracer.js';
import type { PciFunctionSpec, PciInterrupts } from './pci/api.js';

export interface DeviceContext {
  /** Instance name, e.g. "nvme0"; used in messages and the trace device table. */
  id: string;
  /** Index in the trace device table. */
  index: number;
  queue: EventQueue;
  tracer: Tracer;
  rng: Rng;
  /** Directory that relative fixture paths in props resolve against. */
  baseDir: string;
  /** Creates this device's PCI function; returns its interrupt path and DMA port. */
  attachPci(spec: PciFunctionSpec): { irq: PciInterrupts; dma: DmaPort };
}

export interface DeviceModel {
  /** Device type name, e.g. "nvme". */
  readonly type: string;
  /** Function-level reset (also the effect of the owning driver crashing). */
  quiesce(): void;
  /** Counters for the run summary (I/Os, interrupts, ...). */
  stats(): Record<string, number>;
  /**
   * A 32-bit digest of the device's architectural state (registers, queue
   * pointers, ...), recorded periodically as a `state` milestone so two runs
   * can be compared by binary search over these digests.
   */
  stateHash?(): number;
}

/** Thrown by a factory for bad props or missing fixtures; names the field. */
export class DeviceConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export interface DeviceFactory<T extends PropTable = PropTable> {
  type: string;
  description: string;
  props: T;
  /** PCI IDs the driver match table can use before the device is built. */
  pciIds: { vendorId: number; deviceId: number; classCode: number };
  create(ctx: DeviceContext, props: PropValues<T>): DeviceModel;
}
