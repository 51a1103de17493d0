import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

const PS_PER_JIFFY = 1e9;

describe('linux-kpi timers', () => {
  it('fire at the expiry jiffy, in arming order for equal expiry; re-arm and delete work', () => {
    const { kernel, run } = bareKernel();
    const fired: string[] = [];
    const late: number[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const j0 = k.jiffies;
      const rec = (name: string, at: number) => () => {
        fired.push(`${name}@${k.jiffies - j0}`);
        late.push(sys.now - (j0 + at) * PS_PER_JIFFY);
      };
      const b = k.timer_setup(rec('b', 5));
      const a = k.timer_setup(rec('a', 5));
      const c = k.timer_setup(rec('c', 8));
      const d = k.timer_setup(rec('d', 4));
      expect(k.mod_timer(b, j0 + 5)).toBe(0); // b armed before a: fires first
      expect(k.mod_timer(a, j0 + 5)).toBe(0);
      expect(k.mod_timer(c, j0 + 3)).toBe(0);
      expect(k.mod_timer(c, j0 + 8)).toBe(1); // re-armed later
      k.mod_timer(d, j0 + 4);
      expect(k.timer_pending(d)).toBe(true);
      yield* k.msleep(2);
      expect(k.del_timer(d)).toBe(1);
      expect(k.del_timer_sync(d)).toBe(0);
      expect(k.timer_pending(d)).toBe(false);
      yield* k.msleep(20);
      expect(k.timer_pending(a)).toBe(false);
      expect(k.timersFired).toBe(3);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(fired).toEqual(['b@5', 'a@5', 'c@8']);
    // At exactly the expiry (plus at most a context switch), never early.
    for (const l of late) {
      expect(l).toBeGreaterThanOrEqual(0);
      expect(l).toBeLessThan(10e6);
    }
  });

  it('a callback can re-arm its own timer (periodic) and nothing fires after del_timer', () => {
    const { kernel, run } = bareKernel();
    const ticks: number[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const j0 = k.jiffies;
      const t = k.timer_setup((tl) => {
        ticks.push(k.jiffies - j0);
        k.mod_timer(tl, k.jiffies + 3);
      });
      k.mod_timer(t, j0 + 2);
      yield* k.msleep(12);
      k.del_timer(t);
      yield* k.msleep(20);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(ticks).toEqual([2, 5, 8, 11]);
  });
});
