/**
 * What the transport's parts (interrupts, service channel, TX queues, RX
 * ring) see of the transport: time, trace, DMA, the firmware CPU and the
 * raw register file. `IwlTransport` implements it; the parts never decode
 * MMIO offsets themselves.
 */
import type { EventQueue } from '../../../sim/event-queue.js';
import type { DmaPort } from '../../../sim/dma.js';
import type { Duration } from '../../../sim/time.js';
import type { Tracer } from '../../../sim/tracer.js';
import type { FirmwareCpu } from '../fw-cpu-api.js';
import type { IwlwifiGuestErrorCode } from '../guest-errors.js';

export interface TransportEnv {
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  /** Trace device index. */
  readonly dev: number;
  /** Instance name for messages ("iwlwifi0"). */
  readonly name: string;
  /** The transport's event target (kinds in timing.ts). */
  readonly target: number;
  readonly dma: DmaPort;
  /** The firmware CPU (a no-op stand-in until attachFirmware). */
  readonly fw: FirmwareCpu;
  /** BAR0 register value as stored (no read side effects). */
  reg(offset: number): number;
  /** Clears the valid-TB bits of TX_BUF_STS(9) after a service-channel transfer. */
  consumeSrvcTb(): void;
  /** Records a guest error (codes: ../guest-errors.ts). */
  err(code: IwlwifiGuestErrorCode, message: string): void;
  /**
   * `base` (a Timing entry), or with hostile timing a seeded draw from
   * `range` (the HostileTiming entry), both in timing.ts.
   */
  delay(base: Duration, range: readonly [Duration, Duration]): Duration;
  /** Like `delay` for a plain number (a rate). */
  vary(base: number, range: readonly [number, number]): number;
  milestone(name: string, a: number, b: number): void;
}

export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
