import type { Co, Sys, Thread } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';
import { PS_PER_JIFFY } from './jiffies.js';

/** `struct timer_list`. Callbacks run in the driver's timer thread and must not block. */
export interface TimerList {
  /** Expiry in jiffies (valid while pending). */
  expires: number;
  pending: boolean;
  /** Arming order: timers with equal expiry fire in the order they were armed. */
  seq: number;
  readonly fn: (t: TimerList) => void;
}

/**
 * linux/timer.h: kernel timers run by one timer thread per driver process
 * (started on first use). The thread parks until the earliest expiry, or
 * until a timer is armed or deleted, then runs the due callbacks in order of
 * (expiry, arming).
 */
export class LinuxTimers {
  private readonly pending = new Set<TimerList>();
  private seq = 0;
  private thread: Thread | undefined;
  private idle = false;
  /** Timer callbacks run so far. */
  fired = 0;

  constructor(private readonly env: KpiEnv) {}

  timer_setup(fn: (t: TimerList) => void): TimerList {
    return { expires: 0, pending: false, seq: 0, fn };
  }

  /** Arms (or re-arms) `t` to fire at jiffy `expires`. Returns 1 if it was pending. */
  mod_timer(t: TimerList, expires: number): number {
    const was = t.pending ? 1 : 0;
    t.expires = expires;
    t.pending = true;
    t.seq = ++this.seq;
    this.pending.add(t);
    this.kick();
    return was;
  }

  add_timer(t: TimerList): void { this.mod_timer(t, t.expires); }

  /** Deactivates `t`. Returns 1 if it was pending. */
  del_timer(t: TimerList): number {
    if (!t.pending) return 0;
    t.pending = false;
    this.pending.delete(t);
    this.kick();
    return 1;
  }

  /**
   * Callbacks run without yielding, so no callback is ever half-run when
   * another task runs: del_timer_sync is del_timer here.
   */
  del_timer_sync(t: TimerList): number { return this.del_timer(t); }
  timer_pending(t: TimerList): boolean { return t.pending; }

  private kick(): void {
    if (this.thread === undefined) {
      const timers = this;
      this.thread = this.env.spawn(`timers/${this.env.driverName}`, function* (sys) { yield* timers.run(sys); });
      return;
    }
    this.env.wakeIdle(this.thread, this.idle);
  }

  private *run(sys: Sys): Co<void> {
    for (;;) {
      const nowJ = Math.floor(sys.now / PS_PER_JIFFY);
      const due = [...this.pending].filter((t) => t.expires <= nowJ)
        .sort((a, b) => a.expires - b.expires || a.seq - b.seq)
        .map((t) => [t, t.seq] as const);
      if (due.length > 0) {
        for (const [t, seq] of due) {
          if (!t.pending || t.seq !== seq) continue; // deleted or re-armed by an earlier callback
          t.pending = false;
          this.pending.delete(t);
          this.fired++;
          t.fn(t);
        }
        continue;
      }
      let next: number | undefined;
      for (const t of this.pending) if (next === undefined || t.expires < next) next = t.expires;
      this.idle = true;
      yield* sys.park(next === undefined ? undefined : next * PS_PER_JIFFY);
      this.idle = false;
    }
  }
}
