import type { Thread } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';

export interface Spinlock {
  readonly name: string;
  owner: Thread | undefined;
  /** Owner's waitSeq when it took the lock: a change means it slept inside. */
  waitSeq: number;
  sleepReported: boolean;
}

/**
 * linux/spinlock.h, as a checker: the model never spins (threads of a
 * process share one core and run until they block), so a spinlock only
 * records its owner, and misuse is logged as the BUG Linux would hit:
 * recursion, unlocking a lock not held, sleeping while holding one.
 * Also `might_sleep`, which the sleeping calls of other modules use.
 */
export class LinuxSpinlocks {
  /**
   * Locks each thread holds, in the order taken. Arrays, not Sets: a Set that
   * empties and refills on every lock/unlock pair reallocates its table.
   */
  private readonly held = new Map<Thread, Spinlock[]>();
  constructor(private readonly env: KpiEnv) {}

  /**
   * Logs an error if the calling thread holds a spinlock: it is about to
   * sleep. (Sleeps through other calls are caught at spin_unlock.)
   */
  might_sleep(what: string): void {
    const held = this.held.get(this.env.sys.currentThread());
    if (held === undefined || held.length === 0) return;
    for (const l of held) {
      this.env.log('error', `BUG: ${what} (sleeping) while holding spinlock ${l.name}`);
      l.sleepReported = true;
    }
  }

  spin_lock_init(name: string): Spinlock {
    return { name, owner: undefined, waitSeq: 0, sleepReported: false };
  }

  spin_lock(l: Spinlock): void {
    const self = this.env.sys.currentThread();
    if (l.owner === self) {
      this.env.log('error', `BUG: recursive spin_lock of ${l.name} (deadlock)`);
      return;
    }
    if (l.owner !== undefined) {
      this.env.log('error', `BUG: spin_lock of ${l.name} held by task ${l.owner.name}, which slept while holding it (would spin forever)`);
      this.release(l.owner, l);
    }
    l.owner = self;
    l.waitSeq = self.waitSeq;
    l.sleepReported = false;
    let held = this.held.get(self);
    if (held === undefined) this.held.set(self, held = []);
    held.push(l);
  }

  spin_unlock(l: Spinlock): void {
    const self = this.env.sys.currentThread();
    if (l.owner === undefined) {
      this.env.log('error', `BUG: spin_unlock of unlocked spinlock ${l.name}`);
      return;
    }
    if (l.owner !== self) {
      this.env.log('error', `BUG: spin_unlock of ${l.name} by task ${self.name}, held by ${l.owner.name}`);
    } else if (self.waitSeq !== l.waitSeq && !l.sleepReported) {
      this.env.log('error', `BUG: sleeping while holding spinlock ${l.name}`);
    }
    this.release(l.owner, l);
    l.owner = undefined;
  }

  /** Drops `l` from the locks `owner` holds (the array stays: a lock taken per I/O allocates nothing). */
  private release(owner: Thread, l: Spinlock): void {
    const held = this.held.get(owner);
    if (held === undefined) return;
    const i = held.lastIndexOf(l);
    if (i < 0) return;
    for (let j = i + 1; j < held.length; j++) held[j - 1] = held[j]!;
    held.length--;
  }

  /** Returns the saved flags. IRQ handlers run in their own threads, so only lock state matters. */
  spin_lock_irqsave(l: Spinlock): number { this.spin_lock(l); return 1; }
  spin_unlock_irqrestore(l: Spinlock, _flags: number): void { this.spin_unlock(l); }
  spin_lock_bh(l: Spinlock): void { this.spin_lock(l); }
  spin_unlock_bh(l: Spinlock): void { this.spin_unlock(l); }
}
