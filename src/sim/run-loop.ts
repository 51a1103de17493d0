import type { EventQueue } from './event-queue.js';
import type { Scheduler } from './scheduler.js';

export type StopReason = 'stopped' | 'idle' | 'time-limit';

/**
 * The machine's main loop: whichever comes first of the earliest device
 * event and the earliest moment a core can run a ready task. A task runs
 * only when no event is due before its start, so it sees every device state
 * change that precedes it. Ends when `stop()` is true, nothing can happen
 * any more, or the next thing would be after `limitPs`.
 */
export function runLoop(sched: Scheduler, queue: EventQueue, limitPs: number, stop: () => boolean): StopReason {
  for (;;) {
    if (stop()) return 'stopped';
    const tR = sched.findRunnable();
    const tE = queue.peekTime();
    const next = tR < tE ? tR : tE;
    if (next === Infinity) return 'idle';
    if (next > limitPs) return 'time-limit';
    if (sched.runnableCore >= 0 && tR <= tE) sched.runSlice(sched.runnableCore);
    else queue.step();
  }
}
