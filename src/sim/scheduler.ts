import type { Core } from './cpu.js';
import type { EventQueue, EventHandle } from './event-queue.js';
import { NO_EVENT } from './event-queue.js';
import { at } from './time.js';

/**
 * Tasks are coroutines: generator functions that `yield` only at blocking
 * points. A blocking call registers what it waits for, marks the task
 * blocked, and yields `BLOCK`; whoever satisfies the wait calls `wake`, and
 * the scheduler resumes the generator with the wake value. No promises or
 * microtasks take part, so the order of everything is decided here.
 *
 * Round-robin per core with a timer tick: a task that has run a whole
 * quantum (the tick, 1 ms by default) is preempted at its next kernel entry
 * if another task is ready on its core. Cores interleave by local time: the
 * core whose next task can start earliest runs first, and device events due
 * before that instant are dispatched before it.
 */
export const BLOCK = 0;
export type Co<T = void> = Generator<typeof BLOCK, T, unknown>;

/** Wake value given to a task whose wait timed out. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

export type TaskState = 'ready' | 'blocked' | 'done';

export interface Task {
  readonly tid: number;
  readonly name: string;
  readonly pid: number;
  readonly core: number;
  gen: Co<unknown>;
  /** Creates `gen` when the task first runs (then null). */
  start: (() => Co<unknown>) | null;
  state: TaskState;
  /** Earliest time the task may resume. */
  readyAt: number;
  wakeValue: unknown;
  /** Incremented on each block; a timeout carries it so stale timeouts are ignored. */
  waitSeq: number;
  timer: EventHandle;
  /** Called once when the generator returns or throws. */
  onExit: (task: Task, error: unknown) => void;
  /** Called when the task is killed while blocked (to drop its waits). */
  onKill?: () => void;
}

const KIND_TIMEOUT = 1;

/** The generator of a task that has not started yet (finished, so `return` on it is harmless). */
const NOT_STARTED: Co<unknown> = (function* (): Co<unknown> { return undefined; })();
NOT_STARTED.next();

export class Scheduler {
  readonly tasks: (Task | undefined)[] = [];
  private readonly runq: Task[][];
  private readonly lastTask: (Task | undefined)[];
  private readonly sliceEnd: number[];
  private readonly target: number;
  /** The task currently executing, if any. */
  current: Task | undefined;
  contextSwitches = 0;

  constructor(
    private readonly queue: EventQueue,
    readonly cores: readonly Core[],
    readonly quantumPs: number,
  ) {
    this.runq = cores.map(() => []);
    this.lastTask = cores.map(() => undefined);
    this.sliceEnd = cores.map(() => 0);
    this.target = queue.register('scheduler', (kind, a0, a1) => {
      if (kind === KIND_TIMEOUT) {
        const t = this.tasks[a0];
        if (t !== undefined && t.state === 'blocked' && t.waitSeq === a1) {
          t.timer = NO_EVENT;
          this.wake(t, TIMED_OUT, this.queue.now);
        }
      }
    });
  }

  /** `gen` is the task's coroutine, or a function creating it when the task first runs. */
  spawn(name: string, pid: number, core: number, gen: Co<unknown> | (() => Co<unknown>), startAt: number, onExit: Task['onExit']): Task {
    const lazy = typeof gen === 'function';
    const task: Task = {
      tid: this.tasks.length, name, pid, core, gen: lazy ? NOT_STARTED : gen, start: lazy ? gen : null, state: 'ready', readyAt: startAt,
      wakeValue: undefined, waitSeq: 0, timer: NO_EVENT, onExit,
    };
    this.tasks.push(task);
    this.runq[core]!.push(task);
    return task;
  }

  /**
   * Marks `task` blocked (optionally until `deadline`); the caller must then
   * `yield BLOCK`. Use `wait()` for the common pattern.
   */
  prepareBlock(task: Task, deadline?: number): void {
    task.state = 'blocked';
    task.waitSeq++;
    if (deadline !== undefined) {
      task.timer = this.queue.scheduleAt(at(Math.max(deadline, this.queue.now)), this.target, KIND_TIMEOUT, task.tid, task.waitSeq);
    }
  }

  /** Blocks the task until woken (or until `deadline`, then returns TIMED_OUT). */
  *wait(task: Task, deadline?: number): Co<unknown> {
    this.prepareBlock(task, deadline);
    return yield BLOCK;
  }

  /** Makes a blocked task ready at `time` with `value` as the result of its wait. */
  wake(task: Task, value: unknown, time: number): boolean {
    if (task.state !== 'blocked') return false;
    if (task.timer !== NO_EVENT) {
      this.queue.cancel(task.timer);
      task.timer = NO_EVENT;
    }
    task.state = 'ready';
    task.wakeValue = value;
    task.readyAt = time;
    this.runq[task.core]!.push(task);
    return true;
  }

  /** Removes a task for good (process killed or crashed). */
  kill(task: Task): void {
    if (task.state === 'done') return;
    if (task.timer !== NO_EVENT) this.queue.cancel(task.timer);
    task.timer = NO_EVENT;
    const q = this.runq[task.core]!;
    const i = q.indexOf(task);
    if (i >= 0) q.splice(i, 1);
    task.state = 'done';
    task.onKill?.();
    if (this.current !== task) {
      try { task.gen.return(undefined); } catch { /* a finally block threw: the task is gone anyway */ }
    }
  }

  /** True if the running task should give up its core at the next kernel entry. */
  shouldPreempt(task: Task): boolean {
    const core = this.cores[task.core]!;
    return core.time >= this.sliceEnd[task.core]! && this.runq[task.core]!.length > 0;
  }

  /** Earliest time any core could run a ready task (Infinity if none). */
  nextRunnable(): { core: number; time: number } {
    const time = this.findRunnable();
    return { core: this.runnableCore, time };
  }

  /** Core found by the last `findRunnable` (-1 if none). */
  runnableCore = -1;

  /**
   * Allocation-free `nextRunnable` for the main loop: returns the earliest
   * time any core could run a ready task (Infinity if none) and leaves that
   * core in `runnableCore`.
   */
  findRunnable(): number {
    let best = -1;
    let bestT = Infinity;
    const cores = this.cores;
    for (let c = 0; c < cores.length; c++) {
      const q = this.runq[c]!;
      if (q.length === 0) continue;
      const ct = cores[c]!.time;
      const rt = q[0]!.readyAt;
      const t = ct > rt ? ct : rt;
      if (t < bestT) { bestT = t; best = c; }
    }
    this.runnableCore = best;
    return bestT;
  }

  /** Runs the head task of `coreId` until it blocks, yields or ends. */
  runSlice(coreId: number): void {
    const q = this.runq[coreId]!;
    const task = q.shift();
    if (task === undefined) return;
    const core = this.cores[coreId]!;
    if (task.readyAt > core.time) core.time = at(task.readyAt);
    if (core.time < this.queue.now) core.time = this.queue.now;
    if (this.lastTask[coreId] !== task) {
      if (this.lastTask[coreId] !== undefined) {
        core.advance(core.costs.contextSwitchPs);
        this.contextSwitches++;
      }
      this.sliceEnd[coreId] = core.time + this.quantumPs;
      this.lastTask[coreId] = task;
    } else if (core.time >= this.sliceEnd[coreId]!) {
      this.sliceEnd[coreId] = core.time + this.quantumPs;
    }
    this.current = task;
    const value = task.wakeValue;
    task.wakeValue = undefined;
    let result: IteratorResult<typeof BLOCK, unknown>;
    try {
      if (task.start !== null) {
        const start = task.start;
        task.start = null;
        task.gen = start();
      }
      result = task.gen.next(value);
    } catch (err) {
      this.current = undefined;
      this.finish(task, err === undefined ? new Error('task threw undefined') : err);
      return;
    }
    this.current = undefined;
    if (result.done) {
      this.finish(task, undefined);
    } else if (task.state === 'ready') {
      // Voluntary yield or preemption: back of the queue.
      task.readyAt = core.time;
      this.lastTask[coreId] = undefined;
      q.push(task);
    } else if (task.state === 'done') {
      // Killed itself (exit) while running.
      try { task.gen.return(undefined); } catch { /* ignore */ }
    }
  }

  /** Gives up the core if the tick expired; call at kernel entries. */
  *preemptionPoint(task: Task): Co<void> {
    if (this.shouldPreempt(task)) yield BLOCK; // state stays 'ready': requeued by runSlice
  }

  private finish(task: Task, error: unknown): void {
    if (task.timer !== NO_EVENT) this.queue.cancel(task.timer);
    task.timer = NO_EVENT;
    const wasDone = task.state === 'done';
    task.state = 'done';
    if (!wasDone || error !== undefined) task.onExit(task, error);
  }
}
