import type { Co, Sys, Thread } from '../../kernel/sys.js';
import { PS_PER_JIFFY } from './jiffies.js';

/**
 * `struct completion`: a counter of `complete()` calls and the threads
 * waiting for one. `complete` may be called from an interrupt handler.
 */
export interface Completion {
  done: number;
  waiters: Thread[];
}

export function newCompletion(): Completion {
  return { done: 0, waiters: [] };
}

/** linux/completion.h on the process's park/unpark. */
export class LinuxCompletion {
  constructor(private readonly sys: Sys) {}

  init_completion(): Completion { return newCompletion(); }
  reinit_completion(c: Completion): void { c.done = 0; }

  /** Wakes one waiter (or banks the completion). Safe from IRQ handlers. */
  complete(c: Completion): void {
    const w = c.waiters.shift();
    if (w !== undefined) this.sys.unpark(w);
    else c.done++;
  }

  complete_all(c: Completion): void {
    for (const w of c.waiters.splice(0)) this.sys.unpark(w);
    c.done = Number.MAX_SAFE_INTEGER;
  }

  *wait_for_completion(c: Completion): Co<void> {
    yield* this.wait_for_completion_timeout(c, Infinity);
  }

  /** Returns 0 on timeout, else the jiffies left (at least 1). Call from any thread of the driver. */
  *wait_for_completion_timeout(c: Completion, timeoutJiffies: number): Co<number> {
    if (c.done > 0) {
      c.done--;
      return timeoutJiffies === Infinity ? 1 : Math.max(1, timeoutJiffies);
    }
    const sys = this.sys;
    const self = sys.currentThread();
    const deadline = timeoutJiffies === Infinity ? undefined : sys.now + timeoutJiffies * PS_PER_JIFFY;
    c.waiters.push(self);
    if (!(yield* sys.park(deadline))) {
      const i = c.waiters.indexOf(self);
      if (i >= 0) c.waiters.splice(i, 1);
      return 0;
    }
    if (deadline === undefined) return 1;
    return Math.max(1, Math.ceil((deadline - sys.now) / PS_PER_JIFFY));
  }
}
