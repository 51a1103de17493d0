/**
 * What the trace tools need to know about a device type, supplied by the
 * device (its factory's `decoder`): register names and fields, DMA payload
 * decoding, which registers and payload fields hold buffer addresses (diff
 * normalisation) and the device's timing phases. The trace tools name no
 * device: everything device-specific reaches them through this interface.
 */
import type { SeqEvent } from './reader.js';
import type { FactSink } from './verdict/facts.js';

export interface DeviceDecoder {
  type: string;
  /** Register name at (bar, offset), e.g. "CC" or "SQ1TDBL"; undefined if unknown. */
  regName(bar: number, offset: number, size: number): string | undefined;
  /** Field breakdown of a register value, e.g. "EN=1 CSS=0 MPS=0 IOSQES=6 IOCQES=4". */
  regFields?(bar: number, offset: number, value: number, write: boolean): string | undefined;
  /** Decodes a DMA payload by tag (a submission entry -> "READ cid=3 nsid=1 slba=..."). */
  decodeDma?(tag: string, data: Uint8Array): string | undefined;
  /** Names (as `regName` gives them) of registers whose value is a buffer address; diff renames these like DMA addresses. */
  addressRegisters?: readonly string[];
  /**
   * Byte offsets of 64-bit little-endian buffer addresses inside a DMA
   * payload of this tag and length (diff renames them); undefined or empty
   * when the payload holds none.
   */
  dmaAddressFields?(tag: string, length: number): readonly number[] | undefined;
  /** A new per-trace collector of this device's own timing phases (docs/DIFF.md "Timing"). */
  timingPhases?(): DeviceTimingPhases;
  /**
   * A new per-trace extractor of this device's behaviour facts, with time and
   * the interleaving of independent queues taken out (docs/VERDICTS.md).
   * Without one, the generic rules apply to every event of the device.
   */
  behaviour?(): DeviceBehaviour;
  /**
   * Registers (by `regName`) whose accesses follow timing rather than
   * behaviour, left out of the functional comparison: doorbells (how many
   * entries one doorbell covers depends on batching), interrupt cause,
   * acknowledge and mask registers (one access per interrupt).
   */
  isVolatileRegister?(name: string): boolean;
}

/**
 * Turns one device's events (in trace order) into behaviour facts. Events it
 * does not claim get the generic rules: register accesses in order with
 * repeated reads collapsed, DMA payloads as a multiset, interrupt vectors as
 * a set, milestones and guest errors.
 */
export interface DeviceBehaviour {
  /** Claims `ev` (returns true) after putting its facts, if any, into `out`; false leaves it to the generic rules. */
  add(ev: SeqEvent, out: FactSink): boolean;
  /** End of the trace: facts of work still pending (a command never completed). */
  end?(out: FactSink): void;
}

export type { FactSink, FactOrder } from './verdict/facts.js';

/** A phase value: ps or a count. */
export interface DevicePhase {
  phase: string;
  value: number;
  unit: 'ps' | 'count';
}

/** When the generic milestones of a device happened (ps), handed to `DeviceTimingPhases.phases`. */
export interface DeviceMilestones {
  /** The device's first event. */
  first: number;
  /** First `ready` milestone, if any. */
  ready: number | undefined;
}

/**
 * Device-specific timing, fed every event of one device of one trace in
 * order (those of the kinds and DMA tags it declares, when it does). Keeps
 * bounded memory whatever the trace length.
 */
export interface DeviceTimingPhases {
  add(ev: SeqEvent): void;
  /** The event kinds `add` reads (default: every kind); events of other kinds are not passed to it. */
  readonly kinds?: readonly SeqEvent['kind'][];
  /** The DMA tags `add` reads (default: every tag); DMA events of other tags are not passed to it. */
  readonly dmaTags?: readonly string[];
  /** The phases in a stable order; they go between "reset→ready" and "active span". */
  phases(m: DeviceMilestones): DevicePhase[];
}
