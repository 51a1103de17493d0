import type { Co, Sys } from '../../kernel/sys.js';

/** linux/kthread.h: kthread_run starts another thread of the driver process. */
export class LinuxKthread {
  constructor(private readonly sys: Sys) {}
  /** Returns the thread id. */
  kthread_run(name: string, fn: (sys: Sys) => Co<void>): number {
    return this.sys.spawnThread(name, fn);
  }
}
