import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

const errors = (k: ReturnType<typeof bareKernel>['kernel']) => k.logs.filter((l) => l.level === 'error').map((l) => l.text);

describe('linux-kpi locks', () => {
  it('mutex_lock blocks while held and hands over in FIFO order of waiting', () => {
    const { kernel, run } = bareKernel();
    const order: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const m = k.mutex_init('cfg_lock');
      yield* k.mutex_lock(m);
      // Spawned in order a, b, c, but they start waiting in order c, a, b.
      for (const [name, delayUs] of [['a', 200], ['b', 300], ['c', 100]] as const) {
        k.kthread_run(name, function* (s) {
          yield* s.sleep(delayUs * 1e6);
          yield* k.mutex_lock(m);
          order.push(`${name}@${Math.floor(s.now / 1e9)}`);
          yield* s.sleep(1e9);
          k.mutex_unlock(m);
        });
      }
      yield* k.msleep(1);
      expect(k.mutex_trylock(m)).toBe(0);
      expect(m.waiters.map((t) => t.name)).toEqual(['c', 'a', 'b']);
      k.mutex_unlock(m);
      yield* k.msleep(10);
      expect(k.mutex_is_locked(m)).toBe(false);
      expect(k.mutex_trylock(m)).toBe(1);
      k.mutex_unlock(m);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(order).toEqual(['c@1', 'a@2', 'b@3']);
    expect(errors(kernel)).toEqual([]);
  });

  it('correct spinlock use logs nothing', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const l = k.spin_lock_init('txq_lock');
      k.spin_lock(l);
      k.spin_unlock(l);
      const f = k.spin_lock_irqsave(l);
      k.udelay(1); // busy-waiting is fine under a spinlock
      k.spin_unlock_irqrestore(l, f);
      yield* k.msleep(1);
    });
    run();
    expect(errors(kernel)).toEqual([]);
  });

  it('logs spinlock and mutex misuse naming the lock', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const l = k.spin_lock_init('rx_lock');
      k.spin_unlock(l); // unlocked
      k.spin_lock(l);
      k.spin_lock(l); // recursive
      yield* k.msleep(1); // sleeping inside
      k.spin_unlock(l);
      const m = k.mutex_init('fw_mutex');
      const l2 = k.spin_lock_init('irq_lock');
      const f = k.spin_lock_irqsave(l2);
      yield* k.mutex_lock(m); // may sleep under a spinlock
      k.spin_unlock_irqrestore(l2, f);
      yield* k.mutex_lock(m); // recursive
      k.mutex_unlock(m);
      k.mutex_unlock(m); // unlocked
    });
    run();
    expect(errors(kernel)).toEqual([
      'drv: BUG: spin_unlock of unlocked spinlock rx_lock',
      'drv: BUG: recursive spin_lock of rx_lock (deadlock)',
      'drv: BUG: sleeping while holding spinlock rx_lock',
      'drv: BUG: mutex_lock(fw_mutex) (sleeping) while holding spinlock irq_lock',
      'drv: BUG: recursive mutex_lock of fw_mutex (deadlock)',
      'drv: BUG: mutex_unlock of unlocked mutex fw_mutex',
    ]);
  });
});
