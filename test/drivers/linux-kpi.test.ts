import { describe, expect, it } from 'vitest';
import { bareKernel } from '../kernel/harness.js';
import { LinuxKpi } from '../../src/drivers/linux-kpi/kpi.js';

describe('linux-kpi', () => {
  it('reports kmalloc leaks and bad frees when the driver process ends', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('leaky', function* (sys) {
      const k = new LinuxKpi(sys, 'leaky');
      const a = k.kzalloc(64, 'probe:ctrl');
      const b = k.kmalloc(128, 'probe:queue');
      expect(a.every((x) => x === 0)).toBe(true);
      expect(b[0]).toBe(0x6b); // slab poison: kmalloc does not zero
      k.kfree(a);
      k.kfree(a); // double free
      k.kfree(null); // allowed
      yield* k.msleep(1);
    });
    run();
    const lines = kernel.logs.map((l) => `${l.level} ${l.text}`);
    expect(lines).toContain('error leaky: kfree of memory that was not allocated or already freed');
    expect(lines).toContain('warn leaky: leak: 128 bytes from probe:queue (allocation #1) not freed at driver exit');
    expect(lines.filter((l) => l.includes('leak:'))).toHaveLength(1);
  });

  it('wait_for_completion_timeout times out after the given jiffies, or returns the time left when completed', () => {
    const { kernel, run } = bareKernel();
    const seen: string[] = [];
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const c = k.init_completion();
      const t0 = sys.now;
      const left = yield* k.wait_for_completion_timeout(c, k.msecs_to_jiffies(20));
      seen.push(`timeout ${left} after ${Math.round((sys.now - t0) / 1e9)} ms`);
      k.kthread_run('completer', function* (s2) {
        yield* s2.sleep(3e9);
        k.complete(c);
      });
      const t1 = sys.now;
      const left2 = yield* k.wait_for_completion_timeout(c, k.msecs_to_jiffies(20));
      seen.push(`completed with ${left2} jiffies left after ${Math.round((sys.now - t1) / 1e9)} ms`);
      k.complete(c); // banked for the next waiter
      expect(yield* k.wait_for_completion_timeout(c, 1)).toBeGreaterThan(0);
    });
    run();
    expect(seen).toEqual(['timeout 0 after 20 ms', 'completed with 17 jiffies left after 3 ms']);
  });

  it('udelay busy-waits on the core while msleep blocks', () => {
    const { kernel, run, cores } = bareKernel(1);
    let spun = 0;
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const t = sys.now;
      k.udelay(50);
      spun = sys.now - t;
      yield* k.msleep(2);
    });
    run();
    expect(spun).toBe(50e6);
    expect(cores[0]!.time).toBeGreaterThanOrEqual(2e9);
  });

  it('dma_map_single bounces through DMA memory and copies back on unmap', () => {
    const { kernel, run, mem } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const pdev = { bdf: '00:04.0' } as never;
      const buf = new Uint8Array([1, 2, 3, 4]);
      const m = k.dma_map_single(pdev, buf, 0)!;
      expect(mem.isDmaAllowed(m.dma, 4)).toBe(true);
      expect([...mem.ram.subarray(m.dma, m.dma + 4)]).toEqual([1, 2, 3, 4]);
      mem.ram[m.dma] = 9; // "the device wrote"
      k.dma_unmap_single(pdev, m);
      expect(buf[0]).toBe(9);
      expect(mem.isDmaAllowed(m.dma, 4)).toBe(false);
      yield* sys.sleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
  });
});
