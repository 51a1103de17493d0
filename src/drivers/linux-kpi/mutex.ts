import type { Co, Thread } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';
import type { LinuxSpinlocks } from './spinlock.js';

export interface Mutex {
  readonly name: string;
  owner: Thread | undefined;
  readonly waiters: Thread[];
}

/** linux/mutex.h: a sleeping lock with FIFO handoff; misuse is logged as Linux's BUG. */
export class LinuxMutex {
  constructor(private readonly env: KpiEnv, private readonly spinlocks: LinuxSpinlocks) {}

  mutex_init(name: string): Mutex { return { name, owner: undefined, waiters: [] }; }
  mutex_is_locked(m: Mutex): boolean { return m.owner !== undefined; }

  /** Blocks while held; waiters get the mutex in the order they asked (handoff on unlock). */
  *mutex_lock(m: Mutex): Co<void> {
    const self = this.env.sys.currentThread();
    if (m.owner === self) {
      this.env.log('error', `BUG: recursive mutex_lock of ${m.name} (deadlock)`);
      return;
    }
    this.spinlocks.might_sleep(`mutex_lock(${m.name})`);
    if (m.owner === undefined) { m.owner = self; return; }
    m.waiters.push(self);
    yield* this.env.sys.park();
  }

  /** 1 if acquired, 0 if held. */
  mutex_trylock(m: Mutex): number {
    if (m.owner !== undefined) return 0;
    m.owner = this.env.sys.currentThread();
    return 1;
  }

  mutex_unlock(m: Mutex): void {
    const self = this.env.sys.currentThread();
    if (m.owner === undefined) {
      this.env.log('error', `BUG: mutex_unlock of unlocked mutex ${m.name}`);
      return;
    }
    if (m.owner !== self) this.env.log('error', `BUG: mutex_unlock of ${m.name} by task ${self.name}, owned by ${m.owner.name}`);
    const next = m.waiters.shift();
    m.owner = next;
    if (next !== undefined) this.env.sys.unpark(next);
  }
}
