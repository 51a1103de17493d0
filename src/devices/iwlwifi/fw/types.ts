/**
 * Configuration and the radio seam of the simulated 7265D firmware CPU.
 */
import type { Rng } from '../../../sim/rng.js';
import type { AirFrame } from '../rf/types.js';

/**
 * What the firmware needs of the radio environment (the shape of rf/air.ts's
 * `Air`, typed structurally so the firmware does not depend on that file).
 */
export interface AirLike {
  /** Frames heard on `channel` during [fromPs, toPs): beacons, and probe responses to `probe` (sent at fromPs). Sorted by timePs. */
  listen(channel: number, fromPs: number, toPs: number, probe: Uint8Array | null): AirFrame[];
  /** The station transmits `frame` (802.11, no FCS) on `channel` at `atPs`. */
  transmit(channel: number, atPs: number, frame: Uint8Array): { acked: boolean; replies: AirFrame[] };
}

export interface FwFaults {
  /** After releasing the CPU: 'missing' = never post ALIVE; 'bad-status' = ALIVE with status != 0xCAFE. */
  alive: 'none' | 'missing' | 'bad-status';
  /** Raise INT.HW_ERR (and stop answering) during the INIT flow, right after the PHY_CONFIGURATION response. */
  hwErrorDuringInit: boolean;
  /** Delay the response to this command by delayMs (e.g. past the driver's 2 s timeout). null = none. */
  delayCmd: { cmd: number; group: number; delayMs: number } | null;
}

export interface FwConfig {
  /** 6 bytes, served from the NVM HW section. */
  mac: Uint8Array;
  /** NVM SKU bits (fw-api NVM_SKU). */
  sku: number;
  /** null = no radio environment (scans find nothing, frames are never acked). */
  air: AirLike | null;
  rng: Rng;
  faults: FwFaults;
  /**
   * Hostile timing (machine option `hostileTiming`): the stream the varied
   * latencies are drawn from (ranges: hostile-timing.ts); absent or null =
   * the fixed latencies.
   */
  hostile?: Rng | null;
}

export const NO_FAULTS: FwFaults = { alive: 'none', hwErrorDuringInit: false, delayCmd: null };
