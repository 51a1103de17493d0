import type { Co, Sys } from '../../kernel/sys.js';

/** linux/delay.h: sleeping delays block the task; udelay/ndelay busy-wait on the core. */
export class LinuxDelay {
  constructor(private readonly sys: Sys) {}
  *msleep(ms: number): Co<void> { yield* this.sys.sleep(ms * 1e9); }
  *usleep_range(minUs: number, _maxUs: number): Co<void> { yield* this.sys.sleep(minUs * 1e6); }
  /** Busy-wait: the core spins (devices keep running). */
  udelay(us: number): void { this.sys.spin(us * 1e6); }
  ndelay(ns: number): void { this.sys.spin(ns * 1e3); }
}
