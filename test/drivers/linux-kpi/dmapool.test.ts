import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

describe('linux-kpi DMA pools', () => {
  it('carves aligned DMA-able blocks from pages, reuses freed blocks, reports busy blocks on destroy', () => {
    const { kernel, run, mem } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const pool = k.dma_pool_create('tfd', 48, 64);
      const blocks = Array.from({ length: 65 }, () => k.dma_pool_alloc(pool)!);
      expect(pool.pages).toHaveLength(2); // 64 blocks of 64 bytes per page
      const addrs = blocks.map((b) => b.dma);
      expect(new Set(addrs).size).toBe(65);
      for (const b of blocks) {
        expect(b.dma % 64).toBe(0);
        expect(b.cpu.length).toBe(48);
        expect(mem.isDmaAllowed(b.dma, 48)).toBe(true);
      }
      expect(addrs[1]! - addrs[0]!).toBe(64);
      blocks[0]!.cpu[0] = 0x5a;
      expect(mem.ram[blocks[0]!.dma]).toBe(0x5a); // CPU view is the DMA memory
      k.dma_pool_free(pool, blocks[3]!);
      k.dma_pool_free(pool, blocks[3]!); // double free
      expect(k.dma_pool_alloc(pool)!.dma).toBe(addrs[3]);
      for (const b of blocks.slice(2)) k.dma_pool_free(pool, b);
      const first = blocks[0]!.dma;
      k.dma_pool_destroy(pool);
      expect(mem.isDmaAllowed(first, 48)).toBe(false);
      k.dma_pool_create('leaked', 32, 32);
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    const lines = kernel.logs.map((l) => `${l.level} ${l.text}`);
    expect(lines[0]).toMatch(/^error drv: dma_pool_free tfd: block 0x[0-9a-f]+ not allocated from this pool or already freed$/);
    expect(lines[1]).toMatch(/^error drv: dma_pool_destroy tfd: 2 blocks still in use \(0x[0-9a-f]+, 0x[0-9a-f]+\)$/);
    expect(lines[2]).toBe('warn drv: leak: dma pool leaked not destroyed at driver exit (0 blocks in use)');
    expect(lines).toHaveLength(3);
  });
});
