/**
 * What a device model is handed at construction, and what it gives back.
 * A device sees the world only through this context (DESIGN.md, "Devices").
 */
import type { EventQueue } from '../sim/event-queue.js';
import type { DmaPort } from '../sim/dma.js';
import type { Rng } from '../sim/rng.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Tracer } from '../sim/tracer.js';
import type { ScanoutSink } from '../sim/scanout.js';
import type { DeviceDecoder } from '../trace/decoder.js';
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
  /**
   * The name the trace header's fixture list gives a fixture path from props (root-relative).
   * A disk model marks its image with it so image bytes it DMAs can be referenced, not stored.
   * Absent = no trace header (the bytes are stored).
   */
  fixtureName?: (file: string) => string;
  /**
   * Boundary sanitizers on (machine option `sanitize`): the device may check
   * what the driver hands it (e.g. NVMe submission entries changing between
   * doorbell and fetch) and record guest errors; it must not change what it
   * does or what else it records. Absent = off.
   */
  sanitize?: boolean;
  /**
   * Hostile timing (machine option `hostileTiming`): vary internal latencies
   * within what the device's spec allows, from a stream forked off `rng`, to
   * expose driver races. Absent = off (exact, documented latencies).
   */
  hostileTiming?: boolean;
  /** Creates this device's PCI function; returns its interrupt path and DMA port. */
  attachPci(spec: PciFunctionSpec): { irq: PciInterrupts; dma: DmaPort };
  /**
   * Display models: where scanned-out frames go besides `tracer.frame` (the
   * machine's scanout log, which a workload reads to check pixels). Absent =
   * nobody looks.
   */
  scanout?: ScanoutSink;
  /**
   * Reserves `size` bytes (a multiple of 4 KiB) of RAM outside main memory
   * that only this device and firmware-style setup use (a GPU's stolen
   * memory): mapped for DMA, zeroed. Returns its physical base and its bytes.
   * Call it from `create` only.
   */
  reserveRam?(size: number, owner: string): { base: number; bytes: Uint8Array };
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
  /**
   * Stall diagnosis: what the device is waiting for at `now` (ps), one
   * sentence per stuck queue or handshake ("CQ1 full: head 0, tail 63, no
   * CQ1HDBL write since 2.12 ms"). Asked when a run hits its time limit or
   * goes idle before the workload is done; empty when nothing is pending.
   */
  stall?(now: number): string[];
}

/** Thrown by a factory for bad props or missing fixtures; names the field. */
export class DeviceConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A printable-ASCII identity string prop (serial, model, firmware revision) of 1..max characters. */
export function checkAsciiProp(field: string, value: string, max: number): void {
  if (value.length === 0 || value.length > max || !/^[\x20-\x7e]*$/.test(value)) {
    throw new DeviceConfigError(field, `must be 1..${max} printable ASCII characters, got ${JSON.stringify(value)}`);
  }
}

/** One guest-error code of a device: what the driver did wrong, and where the rule is written. */
export interface GuestErrorInfo {
  meaning: string;
  /** Spec section or header the rule comes from ("NVMe 1.4 3.1.6", "iwl-fh.h FH_TSSR"). */
  spec: string;
}

/** Every guest-error code a device may record, by code. */
export type GuestErrorCatalogue = Readonly<Record<string, GuestErrorInfo>>;

/**
 * Everything simrun needs about a device type: a new device is one folder
 * exporting one of these, plus one line in ./registry.ts (docs/ADDING-A-DEVICE.md).
 */
export interface DeviceFactory<T extends PropTable = PropTable> {
  type: string;
  description: string;
  props: T;
  /** PCI IDs the driver match table can use before the device is built. */
  pciIds: { vendorId: number; deviceId: number; classCode: number };
  /**
   * How the trace tools read this device: register names and fields, DMA
   * payloads, address-holding registers and payload fields (diff
   * normalisation), timing phases.
   */
  decoder: DeviceDecoder;
  /** The guest errors the model records (shown by `simrun devices`). */
  guestErrors: GuestErrorCatalogue;
  create(ctx: DeviceContext, props: PropValues<T>): DeviceModel;
}

/**
 * A factory with its prop types erased, for the registry: `create` checks
 * nothing itself, the machine validates raw props against `props` first.
 */
export interface AnyDeviceFactory extends Omit<DeviceFactory, 'create'> {
  create(ctx: DeviceContext, props: Record<string, unknown>): DeviceModel;
}

/** Erases a factory's prop types: sound because the machine passes only props validated against `f.props`. */
export function registerDevice<T extends PropTable>(f: DeviceFactory<T>): AnyDeviceFactory {
  return { ...f, create: (ctx, props) => f.create(ctx, props as PropValues<T>) };
}
