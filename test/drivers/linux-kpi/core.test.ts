import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { HZ, LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';
import { LinuxIo, type IoMem } from '../../../src/drivers/linux-kpi/io.js';
import { LinuxSlab, SlabTracker } from '../../../src/drivers/linux-kpi/slab.js';
import { LinuxCompletion } from '../../../src/drivers/linux-kpi/completion.js';
import { KpiEnv } from '../../../src/drivers/linux-kpi/env.js';
import type { Mmio } from '../../../src/kernel/sys.js';

const lines = (k: ReturnType<typeof bareKernel>['kernel']) => k.logs.map((l) => `${l.level} ${l.text}`);

/** An Mmio stand-in that records accesses and answers reads from a register map. */
function fakeIo(regs: Record<number, number>): { io: IoMem; log: string[] } {
  const log: string[] = [];
  const mmio = {
    read8: (o: number) => { log.push(`r8 ${o}`); return regs[o] ?? 0; },
    read16: (o: number) => { log.push(`r16 ${o}`); return regs[o] ?? 0; },
    read32: (o: number) => { log.push(`r32 ${o}`); return regs[o] ?? 0; },
    write8: (o: number, v: number) => { log.push(`w8 ${o}=${v}`); },
    write16: (o: number, v: number) => { log.push(`w16 ${o}=${v}`); },
    write32: (o: number, v: number) => { log.push(`w32 ${o}=${v}`); },
  } as unknown as Mmio;
  return { io: { mmio, len: 0x1000, bar: 0 }, log };
}

describe('linux-kpi io.h', () => {
  it('each accessor is one access of its width; 64-bit ones are two dwords, low then high', () => {
    const io = new LinuxIo();
    const { io: bar, log } = fakeIo({ 0x10: 0x89abcdef, 0x14: 0x01234567, 0x20: 0xab, 0x22: 0xbeef });
    expect(io.readq(bar, 0x10)).toBe(0x0123456789abcdefn);
    expect(io.readb(bar, 0x20)).toBe(0xab);
    expect(io.readw(bar, 0x22)).toBe(0xbeef);
    expect(io.readl(bar, 0x10)).toBe(0x89abcdef);
    io.writeq(0x1_0000_0002n, bar, 0x28);
    io.writeq(0x3_0000_0004, bar, 0x30);
    io.writeb(1, bar, 1);
    io.writew(2, bar, 2);
    io.writel(3, bar, 4);
    expect(log).toEqual(['r32 16', 'r32 20', 'r8 32', 'r16 34', 'r32 16', 'w32 40=2', 'w32 44=1', 'w32 48=4', 'w32 52=3', 'w8 1=1', 'w16 2=2', 'w32 4=3']);
  });

  it('the facade readl/writel go to the same accessors', () => {
    const { kernel, run } = bareKernel();
    const { io: bar, log } = fakeIo({ 8: 0x10400 });
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      expect(k.readl(bar, 8)).toBe(0x10400);
      k.writel(5, bar, 0x14);
      k.writeq(0x7_0000_0006n, bar, 0x28);
      yield* k.msleep(1);
    });
    run();
    expect(log).toEqual(['r32 8', 'w32 20=5', 'w32 40=6', 'w32 44=7']);
  });
});

describe('linux-kpi device.h, jiffies.h, delay.h, kthread.h', () => {
  it('dev_* log with the driver name and the device name at their levels', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'mydrv');
      const pdev = { bdf: '00:1f.3' } as never;
      k.dev_err(pdev, 'e');
      k.dev_warn(pdev, 'w');
      k.dev_info(pdev, 'i');
      k.dev_dbg(pdev, 'd');
      yield* k.msleep(1);
    });
    run();
    expect(lines(kernel).filter((l) => l.includes('00:1f.3'))).toEqual([
      'error mydrv 00:1f.3: e', 'warn mydrv 00:1f.3: w', 'info mydrv 00:1f.3: i', 'debug mydrv 00:1f.3: d',
    ]);
  });

  it('jiffies count HZ per second of the task time; conversions round up; usleep_range sleeps the minimum', () => {
    const { kernel, run } = bareKernel(1);
    const seen: number[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      expect(HZ).toBe(1000);
      expect(k.msecs_to_jiffies(10)).toBe(10);
      expect(k.msecs_to_jiffies(0.5)).toBe(1);
      expect(k.jiffies_to_msecs(250)).toBe(250);
      expect(k.time_after(5, 4)).toBe(true);
      expect(k.time_after(4, 4)).toBe(false);
      const j0 = k.jiffies;
      expect(j0).toBe(Math.floor(sys.now / 1e9));
      yield* k.msleep(7);
      seen.push(k.jiffies - j0);
      const t = sys.now;
      yield* k.usleep_range(300, 500);
      seen.push(Math.round((sys.now - t) / 1e6));
      const t2 = sys.now;
      k.ndelay(250);
      seen.push(sys.now - t2);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(seen[0]).toBe(7);
    expect(seen[1]).toBeGreaterThanOrEqual(300);
    expect(seen[1]).toBeLessThan(310);
    expect(seen[2]).toBe(250e3);
  });

  it('kthread_run starts a thread of the driver process', () => {
    const { kernel, run } = bareKernel();
    let ranIn = -1;
    let tid = -1;
    let pid = -1;
    kernel.spawn('drv', function* (sys) {
      pid = sys.pid;
      const k = new LinuxKpi(sys, 'drv');
      tid = k.kthread_run('helper', function* (s) { ranIn = s.pid; });
      yield* k.msleep(1);
    });
    run();
    expect(ranIn).toBe(pid);
    expect(kernel.sched.tasks[tid]?.name).toBe('helper');
  });
});

describe('linux-kpi slab.h and completion.h as modules', () => {
  it('LinuxSlab tracks blocks in its tracker and logs bad frees with the driver name', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const slab = new LinuxSlab(new KpiEnv(sys, 'drv'));
      expect(slab.tracker).toBeInstanceOf(SlabTracker);
      const a = slab.kmalloc(16, 'a');
      const b = slab.kzalloc(8, 'b');
      expect(slab.tracker.totalAllocs).toBe(2);
      slab.kfree(a);
      slab.kfree(new Uint8Array(4));
      expect(slab.tracker.leaks().map((x) => x.tag)).toEqual(['b']);
      expect(slab.tracker.leaks()[0]!.data).toBe(b);
      slab.reportLeaks();
      yield* sys.sleep(1);
    });
    run();
    expect(lines(kernel)).toEqual([
      'error drv: kfree of memory that was not allocated or already freed',
      'warn drv: leak: 8 bytes from b (allocation #1) not freed at driver exit',
    ]);
  });

  it('the facade kmalloc is the slab module (k.slab is its tracker)', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      expect(k.slab).toBe(k.kmem.tracker);
      const p = k.kmalloc(4);
      expect(k.slab.leaks().map((b) => b.data)).toEqual([p]);
      k.kfree(p);
      expect(k.slab.totalFrees).toBe(1);
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
  });

  it('complete_all releases every waiter and later waits return at once; reinit_completion re-arms', () => {
    const { kernel, run } = bareKernel(1);
    const order: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const c = new LinuxCompletion(sys);
      const done = c.init_completion();
      for (const n of ['a', 'b']) {
        sys.spawnThread(n, function* () { yield* c.wait_for_completion(done); order.push(n); });
      }
      yield* sys.sleep(1e9);
      expect(done.waiters.map((t) => t.name)).toEqual(['a', 'b']);
      c.complete_all(done);
      expect(done.waiters).toEqual([]);
      yield* sys.sleep(1e9);
      expect(yield* c.wait_for_completion_timeout(done, 5)).toBe(5);
      c.reinit_completion(done);
      expect(yield* c.wait_for_completion_timeout(done, 2)).toBe(0);
      order.push('timed out');
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(order).toEqual(['a', 'b', 'timed out']);
  });
});
