import type { EventQueue } from './event-queue.js';
import type { Scheduler } from './scheduler.js';
import { at } from './time.js';

export type StopReason = 'stopped' | 'idle' | 'time-limit';

/**
 * The machine's main loop: whichever comes first of the earliest device
 * event and the earliest moment a core can run a ready task. A task runs
 * only when no event is due before its start, so it sees every device state
 * change that precedes it. Ends when `stop()` is true, nothing can happen
 * any more, or the next thing would be after `limitPs`.
 *
 * A core's `limitPs` (the run's hard time limit) also holds inside a slice:
 * the core runs no device event past it, and once a slice has taken the
 * core's local time past it the run ends there ('time-limit'), with the
 * cores' clocks set back to the limit, whatever the cost model says.
 */
export function runLoop(sched: Scheduler, queue: EventQueue, limitPs: number, stop: () => boolean): StopReason {
  for (;;) {
    if (stop()) return 'stopped';
    const tR = sched.findRunnable();
    const tE = queue.peekTime();
    const next = tR < tE ? tR : tE;
    if (next === Infinity) return 'idle';
    if (next > limitPs) return 'time-limit';
    if (sched.runnableCore >= 0 && tR <= tE) {
      const core = sched.cores[sched.runnableCore]!;
      sched.runSlice(sched.runnableCore);
      if (core.time > core.limitPs) {
        for (const c of sched.cores) if (c.time > c.limitPs) c.time = at(c.limitPs);
        return 'time-limit';
      }
    } else queue.step();
  }
}
