import type { Co, Sys, Thread } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';
import type { LinuxJiffies } from './jiffies.js';
import type { LinuxSpinlocks } from './spinlock.js';
import type { LinuxTimers, TimerList } from './timer.js';

/** `struct work_struct`: a coroutine run by a workqueue's worker thread (may sleep). */
export interface WorkStruct {
  readonly fn: (sys: Sys) => Co<void>;
  pending: boolean;
  running: boolean;
  /** Bumped on each successful queue_work. */
  queuedGen: number;
  /** queuedGen when the current/last run started. */
  runGen: number;
  /** runGen of the last finished run. */
  doneGen: number;
  wq: Workqueue | undefined;
  flushers: { task: Thread; gen: number }[];
}

export interface DelayedWork {
  readonly work: WorkStruct;
  readonly timer: TimerList;
  wq: Workqueue | undefined;
}

/** `struct workqueue_struct`: one worker thread, FIFO. */
export interface Workqueue {
  readonly name: string;
  readonly items: WorkStruct[];
  task: Thread | undefined;
  idle: boolean;
  destroyed: boolean;
  processed: number;
}

/**
 * linux/workqueue.h: each workqueue is one worker thread of the driver
 * process running its items in FIFO order; `system_wq` is made on first
 * use. Delayed work is a kernel timer that queues the work.
 */
export class LinuxWorkqueue {
  private systemWq: Workqueue | undefined;

  constructor(
    private readonly env: KpiEnv,
    private readonly timers: LinuxTimers,
    private readonly jiffies: LinuxJiffies,
    private readonly spinlocks: LinuxSpinlocks,
  ) {}

  alloc_workqueue(name: string): Workqueue {
    const wq: Workqueue = { name, items: [], task: undefined, idle: false, destroyed: false, processed: 0 };
    const wqs = this;
    wq.task = this.env.spawn(`kworker/${name}`, function* (sys) { yield* wqs.worker(sys, wq); });
    return wq;
  }

  /** The shared `system_wq` of this driver (schedule_work). */
  get system_wq(): Workqueue {
    this.systemWq ??= this.alloc_workqueue('events');
    return this.systemWq;
  }

  INIT_WORK(fn: (sys: Sys) => Co<void>): WorkStruct {
    return { fn, pending: false, running: false, queuedGen: 0, runGen: 0, doneGen: 0, wq: undefined, flushers: [] };
  }

  private *worker(sys: Sys, wq: Workqueue): Co<void> {
    for (;;) {
      const w = wq.items.shift();
      if (w === undefined) {
        wq.idle = true;
        yield* sys.park();
        wq.idle = false;
        continue;
      }
      w.pending = false;
      w.running = true;
      w.runGen = w.queuedGen;
      yield* w.fn(sys);
      w.running = false;
      w.doneGen = w.runGen;
      wq.processed++;
      this.wakeFlushers(w, w.doneGen);
    }
  }

  private wakeFlushers(w: WorkStruct, upTo: number): void {
    const keep: WorkStruct['flushers'] = [];
    for (const f of w.flushers) {
      if (f.gen <= upTo) this.env.sys.unpark(f.task);
      else keep.push(f);
    }
    w.flushers.splice(0, w.flushers.length, ...keep);
  }

  /** Queues `w` at the tail of `wq`. False if it was already pending. */
  queue_work(wq: Workqueue, w: WorkStruct): boolean {
    if (wq.destroyed) {
      this.env.log('error', `queue_work on destroyed workqueue ${wq.name}`);
      return false;
    }
    if (w.pending) return false;
    w.pending = true;
    w.queuedGen++;
    w.wq = wq;
    wq.items.push(w);
    this.env.wakeIdle(wq.task, wq.idle);
    return true;
  }

  schedule_work(w: WorkStruct): boolean { return this.queue_work(this.system_wq, w); }

  /** Waits until the last queueing of `w` has run. Returns true if it had to wait. */
  *flush_work(w: WorkStruct): Co<boolean> {
    if (!w.pending && !w.running) return false;
    this.spinlocks.might_sleep('flush_work');
    const gen = w.pending ? w.queuedGen : w.runGen;
    w.flushers.push({ task: this.env.sys.currentThread(), gen });
    yield* this.env.sys.park();
    return true;
  }

  /** Removes `w` if pending and waits for a running instance. Returns true if it was pending. */
  *cancel_work_sync(w: WorkStruct): Co<boolean> {
    const was = w.pending;
    if (w.pending && w.wq !== undefined) {
      const i = w.wq.items.indexOf(w);
      if (i >= 0) w.wq.items.splice(i, 1);
      w.pending = false;
      w.queuedGen = w.running ? w.runGen : w.doneGen;
      // Flushers of the cancelled instance have nothing left to wait for (beyond a running one).
      if (!w.running) this.wakeFlushers(w, Number.MAX_SAFE_INTEGER);
    }
    if (w.running) yield* this.flush_work(w);
    return was;
  }

  /** Waits until everything queued on `wq` before the call has run. */
  *flush_workqueue(wq: Workqueue): Co<void> {
    const barrier = this.INIT_WORK(function* () { /* barrier */ });
    if (this.queue_work(wq, barrier)) yield* this.flush_work(barrier);
  }

  /** Drains `wq`, then stops its worker. */
  *destroy_workqueue(wq: Workqueue): Co<void> {
    if (wq.destroyed) return;
    yield* this.flush_workqueue(wq);
    wq.destroyed = true;
    if (wq.task !== undefined) this.env.sys.killThread(wq.task.tid);
    if (this.systemWq === wq) this.systemWq = undefined;
  }

  INIT_DELAYED_WORK(fn: (sys: Sys) => Co<void>): DelayedWork {
    const work = this.INIT_WORK(fn);
    const dw: DelayedWork = {
      work,
      wq: undefined,
      timer: this.timers.timer_setup(() => { if (dw.wq !== undefined) this.queue_work(dw.wq, work); }),
    };
    return dw;
  }

  /** Queues `dw.work` on `wq` after `delay` jiffies. False if already pending (timer or queue). */
  queue_delayed_work(wq: Workqueue, dw: DelayedWork, delay: number): boolean {
    if (dw.work.pending || dw.timer.pending) return false;
    dw.wq = wq;
    if (delay <= 0) return this.queue_work(wq, dw.work);
    this.timers.mod_timer(dw.timer, this.jiffies.jiffies + delay);
    return true;
  }

  schedule_delayed_work(dw: DelayedWork, delay: number): boolean {
    return this.queue_delayed_work(this.system_wq, dw, delay);
  }

  delayed_work_pending(dw: DelayedWork): boolean { return dw.timer.pending || dw.work.pending; }

  *cancel_delayed_work_sync(dw: DelayedWork): Co<boolean> {
    const t = this.timers.del_timer(dw.timer) === 1;
    const w = yield* this.cancel_work_sync(dw.work);
    return t || w;
  }
}
