import type { Co, Sys, Thread } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';

/** `struct napi_struct`. poll runs in the driver's softirq thread, must not block, returns work done. */
export interface NapiStruct {
  readonly poll: (napi: NapiStruct, budget: number) => number;
  readonly weight: number;
  enabled: boolean;
  scheduled: boolean;
  polls: number;
}

/**
 * NAPI (linux/netdevice.h): scheduled polls run in one softirq thread per
 * driver process (started on first use), round-robin; a poll that uses its
 * whole budget is polled again after the others.
 */
export class LinuxNapi {
  private readonly list: NapiStruct[] = [];
  private thread: Thread | undefined;
  private idle = false;

  constructor(private readonly env: KpiEnv) {}

  netif_napi_add(poll: (napi: NapiStruct, budget: number) => number, weight = 64): NapiStruct {
    return { poll, weight, enabled: false, scheduled: false, polls: 0 };
  }

  napi_enable(n: NapiStruct): void { n.enabled = true; }

  napi_disable(n: NapiStruct): void {
    n.enabled = false;
    n.scheduled = false;
    const i = this.list.indexOf(n);
    if (i >= 0) this.list.splice(i, 1);
  }

  netif_napi_del(n: NapiStruct): void { this.napi_disable(n); }

  /** Schedules a poll in the driver's softirq thread (safe from IRQ handlers). False if already scheduled or disabled. */
  napi_schedule(n: NapiStruct): boolean {
    if (!n.enabled || n.scheduled) return false;
    n.scheduled = true;
    this.list.push(n);
    if (this.thread === undefined) {
      const napi = this;
      this.thread = this.env.spawn(`softirq/${this.env.driverName}`, function* (sys) { yield* napi.run(sys); });
    } else {
      this.env.wakeIdle(this.thread, this.idle);
    }
    return true;
  }

  /** Called by poll when it is done (work < budget): interrupts may be re-enabled. */
  napi_complete_done(n: NapiStruct, _work: number): boolean {
    n.scheduled = false;
    return true;
  }

  private *run(sys: Sys): Co<void> {
    for (;;) {
      const n = this.list.shift();
      if (n === undefined) {
        this.idle = true;
        yield* sys.park();
        this.idle = false;
        continue;
      }
      n.polls++;
      const work = n.poll(n, n.weight);
      if (work > n.weight) this.env.log('error', `napi poll returned ${work}, more than its budget ${n.weight}`);
      if (work >= n.weight) {
        // Whole budget used: more work is likely, poll again (after the others).
        if (n.enabled && n.scheduled && !this.list.includes(n)) this.list.push(n);
      } else if (n.scheduled && !this.list.includes(n)) {
        this.env.log('error', `napi poll returned ${work} < budget ${n.weight} without napi_complete_done`);
        n.scheduled = false;
      }
      if (this.list.length > 0) yield* sys.yield();
    }
  }
}
