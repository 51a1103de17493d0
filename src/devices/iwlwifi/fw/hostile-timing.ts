/**
 * Hostile timing of the simulated 7265D firmware (machine option
 * `hostileTiming`, FwConfig.hostile): the ranges its varied latencies are
 * drawn from instead of cpu.ts's BOOT_TIME and COMMAND_LATENCY (and their
 * jitter) and station.ts's TX_START, plus two delays that are zero
 * otherwise (RX_DMA, TX_DONE). Each stays far inside what the iwlwifi
 * driver waits for it (ALIVE 1 s, a host command 2 s, a management frame's
 * answer 300 ms, INIT_COMPLETE 2 s, a ping 500 ms): firmware on a busy
 * adapter is slow, not dead.
 */
import { ms, us, type Duration } from '../../../sim/time.js';

export const HostileFwTiming = {
  /** CPU released -> ALIVE posted (image check and boot). */
  BOOT: [us(500), ms(100)] as readonly [Duration, Duration],
  /** Command -> its response (responses still keep command order). */
  COMMAND_LATENCY: [us(2), ms(2)] as readonly [Duration, Duration],
  /** A packet the CPU sends -> in the RX ring with its RB status and interrupt; packets keep their order. */
  RX_DMA: [us(0), us(20)] as readonly [Duration, Duration],
  /** TX command -> the frame on the air (channel access, backoff). */
  TX_START: [us(5), ms(1)] as readonly [Duration, Duration],
  /** The exchange ended on the air -> TX_RESP sent (the AP's answers follow it). */
  TX_DONE: [us(0), us(200)] as readonly [Duration, Duration],
} as const;
