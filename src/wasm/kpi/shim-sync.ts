/**
 * The `linux` imports for locking, deferred work and timers
 * (guest/include/linux/{spinlock,mutex,workqueue,timer}.h), backed by the
 * TypeScript linux-kpi: the same lock checks, the same worker and timer
 * threads. A work function runs as a call into the module from the worker
 * thread (it may sleep); a timer callback from the timer thread (it must not).
 */
import type { Spinlock } from '../../drivers/linux-kpi/spinlock.js';
import type { Mutex } from '../../drivers/linux-kpi/mutex.js';
import type { WorkStruct } from '../../drivers/linux-kpi/workqueue.js';
import type { TimerList } from '../../drivers/linux-kpi/timer.js';
import type { ImportTable, WasmCallContext } from '../runtime/process.js';
import { WasmTrap } from '../runtime/process.js';
import type { KpiShim } from './shim.js';

const shim = (cx: WasmCallContext) => cx.proc.host as KpiShim;

/** The C function at table index `fn`, or a crash naming what it was for. */
export function cFunction(cx: WasmCallContext, fn: number, what: string): (...a: number[]) => number {
  const f = cx.proc.tableFunction(fn);
  if (f === undefined) throw new WasmTrap(`${what}: 0x${(fn >>> 0).toString(16)} is not a function of the module`, undefined, cx.proc.history());
  return f;
}

/** The name of the task whose module-visible id (task id + 1) is `owner`. */
function taskName(cx: WasmCallContext, owner: number): string {
  return cx.sys.thread(owner - 1)?.name ?? `#${owner - 1}`;
}

export const SYNC_IMPORTS: ImportTable = {
  linux: {
    spin_lock_init: { fn: (cx, name) => { const s = shim(cx); return s.add('spinlock', s.k.spinlocks.spin_lock_init(cx.proc.cstring(name, 64))); } },
    // Inline spinlocks (linux/spinlock.h) call in only when something is wrong; `owner` is the lock's task id + 1.
    spin_lock_bug: {
      fn: (cx, h, owner) => {
        const s = shim(cx);
        const name = s.get<Spinlock>(h, 'spinlock').name;
        const self = cx.sys.currentThread();
        if (owner === self.tid + 1) s.k.env.log('error', `BUG: recursive spin_lock of ${name} (deadlock)`);
        else s.k.env.log('error', `BUG: spin_lock of ${name} held by task ${taskName(cx, owner)}, which slept while holding it (would spin forever)`);
      },
    },
    spin_unlock_bug: {
      fn: (cx, h, owner) => {
        const s = shim(cx);
        const name = s.get<Spinlock>(h, 'spinlock').name;
        if (owner === 0) s.k.env.log('error', `BUG: spin_unlock of unlocked spinlock ${name}`);
        else s.k.env.log('error', `BUG: spin_unlock of ${name} by task ${cx.sys.currentThread().name}, held by ${taskName(cx, owner)}`);
      },
    },
    mutex_init: { fn: (cx, name) => { const s = shim(cx); return s.add('mutex', s.k.mutexes.mutex_init(cx.proc.cstring(name, 64))); } },
    mutex_lock: { blocking: true, fn: (cx, h) => { const s = shim(cx); return s.k.mutexes.mutex_lock(s.get<Mutex>(h, 'mutex')); } },
    mutex_unlock: { fn: (cx, h) => { const s = shim(cx); s.k.mutexes.mutex_unlock(s.get<Mutex>(h, 'mutex')); } },
    init_work: {
      fn: (cx, work, fn) => {
        const s = shim(cx);
        const f = cFunction(cx, fn, 'INIT_WORK');
        const proc = cx.proc;
        const sys = cx.sys;
        const w = s.k.INIT_WORK(() => (function* () { yield* proc.call(sys, f, [work], 'a work function'); })());
        return s.add('work', w);
      },
    },
    schedule_work: { fn: (cx, h) => { const s = shim(cx); return s.k.schedule_work(s.get<WorkStruct>(h, 'work')) ? 1 : 0; } },
    timer_setup: {
      fn: (cx, t, fn) => {
        const s = shim(cx);
        const f = cFunction(cx, fn, 'timer_setup');
        const proc = cx.proc;
        const sys = cx.sys;
        return s.add('timer', s.k.timer_setup(() => { proc.callSync(sys, f, [t], 'a timer callback'); }));
      },
    },
    mod_timer: { fn: (cx, h, expires) => { const s = shim(cx); return s.k.mod_timer(s.get<TimerList>(h, 'timer'), expires >>> 0); } },
    del_timer: { fn: (cx, h) => { const s = shim(cx); return s.k.del_timer(s.get<TimerList>(h, 'timer')); } },
  },
};
