/**
 * Fixed internal timings of the HBA and its disks (the media latencies and
 * the link-up delay are props). AHCI gives upper bounds only (CR/FR clear
 * within 500 ms of ST/FRE cleared, 10.3.2; HR within 1 s, 10.4.3), so the
 * hostile-timing ranges stay well inside them.
 */
import { ms, ns, us, type Duration } from '../../sim/time.js';

export const AhciTiming = {
  /** PxCI write to the command header fetch. */
  ISSUE_DELAY: ns(300),
  /** Command FIS sent to the device's D2H Register FIS accepting a queued command. */
  NCQ_ACCEPT: us(2),
  /** Non-data commands (SET FEATURES, rejected commands) and READ LOG EXT. */
  COMMAND_LATENCY: us(5),
  /** IDENTIFY DEVICE: the device assembles its data. */
  IDENTIFY_LATENCY: us(20),
  /** PxCMD.ST cleared to PxCMD.CR = 0, and FRE cleared to FR = 0. */
  STOP_DELAY: us(2),
  /** Link up (PHY ready) to the device's D2H Register FIS with its signature (device reset diagnostics). */
  SIGNATURE_DELAY: us(50),
  /** GHC.HR set to GHC.HR cleared (HBA reset done). */
  HBA_RESET_DELAY: us(5),
  /** A device that comes back after a link drop announces itself (COMINIT) this long before the link is up. */
  LINK_RETURN_DELAY: us(10),
} as const;

/** Hostile timing (machine option `hostileTiming`): ranges the seeded delays are drawn from. */
export const AhciHostileTiming = {
  ISSUE_DELAY: [ns(50), us(20)],
  NCQ_ACCEPT: [ns(500), us(50)],
  COMMAND_LATENCY: [us(1), us(200)],
  IDENTIFY_LATENCY: [us(5), us(500)],
  STOP_DELAY: [ns(100), us(500)],
  SIGNATURE_DELAY: [us(10), ms(10)],
  HBA_RESET_DELAY: [us(1), us(500)],
  /** Interrupt raised to MSI message delivered. */
  MSI_DELAY: [ns(0), us(10)],
  MEDIA_MIN: 0.25,
  MEDIA_MAX: 4,
} as const satisfies Record<string, readonly [Duration, Duration] | number>;

/** Picoseconds per byte on the link, by SATA generation (1.5, 3, 6 Gb/s: 150, 300, 600 MB/s). */
export const LINK_PS_PER_BYTE: readonly number[] = [0, 6667, 3333, 1667];
