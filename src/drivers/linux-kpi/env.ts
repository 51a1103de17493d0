import type { Co, Sys, Thread } from '../../kernel/sys.js';

/**
 * What every linux-kpi module of one driver process shares: the process's
 * syscall surface and the driver's name (the prefix of its log lines).
 * Modules reach the kernel model only through `sys`.
 */
export class KpiEnv {
  constructor(readonly sys: Sys, readonly driverName: string) {}

  /** Logs `text` prefixed with the driver name ("name: text"). */
  log(level: 'error' | 'warn' | 'info' | 'debug', text: string): void {
    this.sys.log(level, `${this.driverName}: ${text}`);
  }

  /** Unparks `thread` if it is idle (worker-thread pattern: the idle flag is set just before it parks). */
  wakeIdle(thread: Thread | undefined, idle: boolean): void {
    if (thread !== undefined && idle) this.sys.unpark(thread);
  }

  /** Spawns a kernel thread of the driver process and returns it. */
  spawn(name: string, main: (sys: Sys) => Co<void>): Thread {
    const tid = this.sys.spawnThread(name, main);
    const t = this.sys.thread(tid);
    if (t === undefined) throw new Error(`linux-kpi: thread ${name} did not start`);
    return t;
  }
}
