import type { Sys } from '../../kernel/sys.js';

/** Linux `HZ`: jiffies per second in this model. */
export const HZ = 1000;
/** Length of one jiffy in ps. */
export const PS_PER_JIFFY = 1e12 / HZ;

/** linux/jiffies.h: the tick counter and conversions. */
export class LinuxJiffies {
  constructor(private readonly sys: Sys) {}
  /** Jiffies since boot, from the calling task's time. */
  get jiffies(): number { return Math.floor(this.sys.now / PS_PER_JIFFY); }
  msecs_to_jiffies(ms: number): number { return Math.ceil((ms * HZ) / 1000); }
  jiffies_to_msecs(j: number): number { return (j * 1000) / HZ; }
  time_after(a: number, b: number): boolean { return a > b; }
}
