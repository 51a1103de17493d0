/**
 * Event kinds and modelled latencies of the 7265D PCIe transport. Every
 * delay is far inside the driver's poll budget (fact sheet A9/A10) but not
 * zero, so a driver that forgets to poll sees the old value.
 */
import { ms, ns, us, type Duration } from '../../../sim/time.js';

/** Event kinds of the transport's one event target (a0/a1 meaning per kind). */
export const Ev = {
  /** HW_IF_CONFIG.PREPARE -> PREPARE_DONE. */
  PREPARE_DONE: 1,
  /** GP_CNTRL.INIT_DONE -> MAC_CLOCK_READY. */
  CLOCK_READY: 2,
  /** RESET.STOP_MASTER -> MASTER_DISABLED. */
  MASTER_DISABLED: 3,
  /** RX config 0 -> RX status channel idle. */
  RX_IDLE: 4,
  /** TX_CONFIG(a0) = 0 -> TSSR idle bits of channel a0. */
  TX_IDLE: 5,
  /** Service-channel DMA finished. */
  SRVC_DONE: 6,
  /** Process the next TFD of queue a0. */
  TFD: 7,
  /** Interrupt coalescing timer expired: raise the held RX interrupt. */
  COALESCE: 8,
  /** INT_PERIODIC one-shot timer expired. */
  PERIODIC: 9,
  /** Hostile timing: a delayed MSI message (a0 unused, a1 the interrupt epoch it was signalled in). */
  MSI: 10,
  /** The open RB closes (rx-ring.ts): end marker, RB status, RX interrupt. */
  RX_CLOSE: 11,
  /** MAC_ACCESS_REQ granted without INIT_DONE (clock start-up). */
  ACCESS_READY: 12,
  /** MAC sleep: idle time over (start going to sleep), asleep, woken. */
  PM_SLEEP: 13,
  PM_ASLEEP: 14,
  PM_WAKE: 15,
} as const;

export const Timing = {
  PREPARE_DONE: us(1) as Duration,
  /** INIT_DONE to MAC_CLOCK_READY (the driver polls up to 25 ms). */
  CLOCK_READY: us(2) as Duration,
  /** STOP_MASTER to MASTER_DISABLED (the driver polls up to 100 us). */
  MASTER_DISABLED: us(5) as Duration,
  /** RX DMA stop to channel idle (the driver polls up to 1 ms). */
  RX_IDLE: us(10) as Duration,
  /** TX DMA channel stop to idle bits (the driver polls up to 5 ms). */
  TX_IDLE: us(10) as Duration,
  /** Service channel: fixed set-up cost, plus SRVC_PS_PER_BYTE per byte (1 GB/s). */
  SRVC_SETUP: ns(500) as Duration,
  SRVC_PS_PER_BYTE: 1000,
  /** Write-pointer doorbell to the first TFD fetch (a PCIe read round trip). */
  TFD_FETCH: ns(500) as Duration,
  /**
   * MAC sleep (power save allowed by the firmware): idle time without
   * MAC_ACCESS_REQ or device activity before the MAC goes to sleep, the
   * GOING_TO_SLEEP phase, and the wake-up after MAC_ACCESS_REQ. Estimates in
   * the range Linux allows for (it polls 15 ms; its comments put a sleep or
   * wake transition at about a quarter of a millisecond on early parts).
   */
  PM_IDLE: ms(1) as Duration,
  PM_GOING_TO_SLEEP: us(30) as Duration,
  PM_WAKE: us(100) as Duration,
  /** Gap between consecutive TFDs of one queue. */
  TFD_INTERVAL: ns(200) as Duration,
  /** INT_COALESCING and INT_PERIODIC units. */
  INT_UNIT: us(32) as Duration,
} as const;

/**
 * Hostile timing (machine option `hostileTiming`): ranges the seeded delays
 * are drawn from instead of the fixed ones above, one draw per occurrence.
 * The 7265D has no published timing; each range stays inside the budget
 * the iwlwifi driver gives the handshake (A9/A10: NIC_READY 50 us,
 * MAC_CLOCK_READY 25 ms, MASTER_DISABLED 100 us, RX idle 1 ms, TX idle 5 ms,
 * a firmware chunk 5 s), at most about half of it: a correct driver never
 * times out, while one that reads a status once instead of polling it, or
 * takes a handshake as done after a fixed wait, is caught out.
 */
export const HostileTiming = {
  PREPARE_DONE: [ns(500), us(200)] as readonly [Duration, Duration],
  CLOCK_READY: [ns(500), ms(2)] as readonly [Duration, Duration],
  MASTER_DISABLED: [ns(500), us(50)] as readonly [Duration, Duration],
  RX_IDLE: [us(1), us(500)] as readonly [Duration, Duration],
  TX_IDLE: [us(1), ms(2)] as readonly [Duration, Duration],
  /** Service channel set-up, and its speed: 250 ps (4 GB/s) to 4 ns (250 MB/s) per byte; a 128 KiB chunk takes at most 0.5 ms. */
  SRVC_SETUP: [ns(200), us(20)] as readonly [Duration, Duration],
  SRVC_PS_PER_BYTE: [250, 4000] as readonly [number, number],
  TFD_FETCH: [ns(100), us(20)] as readonly [Duration, Duration],
  PM_IDLE: [us(100), ms(5)] as readonly [Duration, Duration],
  PM_GOING_TO_SLEEP: [us(1), us(500)] as readonly [Duration, Duration],
  PM_WAKE: [us(5), ms(5)] as readonly [Duration, Duration],
  TFD_INTERVAL: [ns(50), us(5)] as readonly [Duration, Duration],
  /** Interrupt signalled (ICT entry written) to its MSI message delivered: PCIe orders the message after the entry. */
  MSI_DELAY: [ns(0), us(10)] as readonly [Duration, Duration],
} as const;
