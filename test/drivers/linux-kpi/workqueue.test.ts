import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

describe('linux-kpi workqueues', () => {
  it('runs items FIFO on one worker; queue_work on a pending item returns false; flush_work waits', () => {
    const { kernel, run } = bareKernel();
    const log: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const wq = k.alloc_workqueue('drv_wq');
      const mk = (n: string) => k.INIT_WORK(function* (s) {
        log.push(`${n}+${k.jiffies}`);
        yield* s.sleep(2e9); // work items may sleep
        log.push(`${n}-${k.jiffies}`);
      });
      const a = mk('a');
      const b = mk('b');
      const c = mk('c');
      expect(k.queue_work(wq, c)).toBe(true);
      expect(k.queue_work(wq, a)).toBe(true);
      expect(k.queue_work(wq, b)).toBe(true);
      expect(k.queue_work(wq, a)).toBe(false);
      expect(yield* k.flush_work(b)).toBe(true);
      log.push(`flushed@${k.jiffies}`);
      expect(yield* k.flush_work(b)).toBe(false); // idle: nothing to wait for
      expect(wq.processed).toBe(3);
      yield* k.destroy_workqueue(wq);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(log).toEqual(['c+0', 'c-2', 'a+2', 'a-4', 'b+4', 'b-6', 'flushed@6']);
  });

  it('re-queueing a running item runs it again; cancel_work_sync drops a pending item', () => {
    const { kernel, run } = bareKernel();
    const log: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const wq = k.alloc_workqueue('wq');
      let runs = 0;
      const a = k.INIT_WORK(function* (s) { runs++; log.push(`a${runs}`); yield* s.sleep(3e9); });
      const b = k.INIT_WORK(function* () { log.push('b'); });
      k.queue_work(wq, a);
      yield* k.msleep(1); // a is running now
      expect(k.queue_work(wq, a)).toBe(true);
      expect(k.queue_work(wq, b)).toBe(true);
      expect(yield* k.cancel_work_sync(b)).toBe(true);
      expect(yield* k.cancel_work_sync(b)).toBe(false);
      yield* k.flush_work(a);
      expect(runs).toBe(2);
      // cancel_work_sync on a running item waits until it has finished.
      k.queue_work(wq, a);
      yield* k.msleep(1);
      const t = k.jiffies;
      expect(yield* k.cancel_work_sync(a)).toBe(false);
      log.push(`cancelled after ${k.jiffies - t}`);
      yield* k.destroy_workqueue(wq);
      expect(k.queue_work(wq, b)).toBe(false);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(log).toEqual(['a1', 'a2', 'a3', 'cancelled after 2']);
    expect(kernel.logs.map((l) => l.text)).toContain('drv: queue_work on destroyed workqueue wq');
  });

  it('schedule_delayed_work runs after the delay in jiffies; cancel before expiry stops it', () => {
    const { kernel, run } = bareKernel();
    const ran: number[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const j0 = k.jiffies;
      const dw = k.INIT_DELAYED_WORK(function* () { ran.push(k.jiffies - j0); });
      expect(k.schedule_delayed_work(dw, 10)).toBe(true);
      expect(k.schedule_delayed_work(dw, 1)).toBe(false);
      expect(k.delayed_work_pending(dw)).toBe(true);
      yield* k.msleep(15);
      const dw2 = k.INIT_DELAYED_WORK(function* () { ran.push(-1); });
      k.schedule_delayed_work(dw2, 5);
      yield* k.msleep(2);
      expect(yield* k.cancel_delayed_work_sync(dw2)).toBe(true);
      yield* k.msleep(10);
      yield* k.destroy_workqueue(k.system_wq);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(ran).toEqual([10]);
  });

  it('destroy_workqueue drains queued items first', () => {
    const { kernel, run } = bareKernel();
    const ran: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const wq = k.alloc_workqueue('wq');
      for (const n of ['x', 'y']) k.queue_work(wq, k.INIT_WORK(function* (s) { yield* s.sleep(1e9); ran.push(n); }));
      yield* k.destroy_workqueue(wq);
      ran.push('destroyed');
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(ran).toEqual(['x', 'y', 'destroyed']);
  });
});
