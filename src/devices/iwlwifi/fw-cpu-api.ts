/**
 * The seam between the adapter's PCIe transport (CSR/FH/SCD/rings, in
 * ./transport) and its firmware CPU (./fw). The transport owns SRAM, the
 * rings, interrupts and DMA; the firmware sees host commands as byte strings
 * and answers with RX packets, like the real LMAC/UMAC behind the FH.
 */
import type { EventQueue } from '../../sim/event-queue.js';
import type { Tracer } from '../../sim/tracer.js';
import type { IwlwifiGuestErrorCode } from './guest-errors.js';

/** What the transport offers the firmware CPU. */
export interface FirmwareHost {
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  /** Trace device index. */
  readonly dev: number;
  /** Reads device SRAM; null when the range is not backed by SRAM. Never throws. */
  readSram(addr: number, len: number): Uint8Array | null;
  /** PRPH register value as the host would read it (e.g. SCD_SRAM_BASE_ADDR). */
  prphRead(addr: number): number;
  /**
   * Puts one RX packet (len_n_flags, narrow header {cmd, group, seq},
   * payload[0..len)) into the RX ring and signals it (RB status, FH_RX,
   * ICT, interrupt). Packets posted at the same instant may share an RB.
   * Returns false when no free RB was available: the packet is dropped
   * (counted, and a milestone records it).
   */
  postRx(cmd: number, group: number, seq: number, payload: Uint8Array, len: number): boolean;
  /** Sets CSR_INT causes (SW_ERR, HW_ERR, ALIVE, ...) and signals if unmasked. */
  raiseInt(bits: number): void;
  /** Records a guest error (something the driver did that the firmware refused; codes: ./guest-errors.ts). */
  guestErr(code: IwlwifiGuestErrorCode, message: string): void;
  /** The firmware allows the MAC to sleep when idle (POWER_TABLE POWER_SAVE_ENA), or forbids it. */
  setPowerSave(on: boolean): void;
}

/** What the transport calls on the firmware CPU. */
export interface FirmwareCpu {
  /**
   * CSR_RESET written 0 with the CPU held: the CPU starts executing what the
   * host loaded into SRAM (it verifies the image, then posts ALIVE or fails).
   */
  release(): void;
  /** Software reset / function reset / power loss: the CPU stops and forgets all state, pending events cancelled. */
  halt(): void;
  /**
   * One TFD taken from TX queue `queue` at `index` (its TBs concatenated:
   * command header + payload; for TX (0x1C) the TX command, 802.11 header and
   * body). `bytes` is only valid during the call.
   */
  command(queue: number, index: number, bytes: Uint8Array, len: number): void;
  /** The hardware RF-kill switch changed (true = radio disabled). */
  rfKill(asserted: boolean): void;
  /** True once ALIVE was posted and until halt. */
  readonly running: boolean;
  /** Stall diagnosis: what the firmware is waiting for or why it stopped (empty when it is running idle). */
  stall?(): string[];
  /** 32-bit digest of firmware state for the periodic `state` milestone. */
  stateHash(): number;
  stats(): Record<string, number>;
}
