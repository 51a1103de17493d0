import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

describe('linux-kpi NAPI', () => {
  it('polls again while poll uses its whole budget, stops after napi_complete_done', () => {
    const { kernel, run } = bareKernel();
    const works: number[] = [];
    let ring = 150;
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const napi = k.netif_napi_add((n, budget) => {
        const done = Math.min(budget, ring);
        ring -= done;
        works.push(done);
        if (done < budget) k.napi_complete_done(n, done);
        return done;
      }, 64);
      expect(k.napi_schedule(napi)).toBe(false); // not enabled
      k.napi_enable(napi);
      // Scheduled from a non-blocking context (a timer callback, like an IRQ handler).
      const t = k.timer_setup(() => {
        expect(k.napi_schedule(napi)).toBe(true);
        expect(k.napi_schedule(napi)).toBe(false); // already scheduled
      });
      k.mod_timer(t, k.jiffies + 1);
      yield* k.msleep(3);
      expect(napi.scheduled).toBe(false);
      expect(napi.polls).toBe(3);
      ring = 10;
      k.napi_schedule(napi);
      yield* k.msleep(1);
      k.napi_disable(napi);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(works).toEqual([64, 64, 22, 10]);
    expect(kernel.logs).toEqual([]);
  });

  it('logs a poll that stops short of its budget without napi_complete_done', () => {
    const { kernel, run } = bareKernel();
    let polls = 0;
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const napi = k.netif_napi_add(() => { polls++; return 1; }, 16);
      k.napi_enable(napi);
      k.napi_schedule(napi);
      yield* k.msleep(1);
      expect(napi.scheduled).toBe(false);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(polls).toBe(1);
    expect(kernel.logs.map((l) => l.text)).toEqual(['drv: napi poll returned 1 < budget 16 without napi_complete_done']);
  });
});
