import { SyscallError } from '../../kernel/errno.js';
import type { DmaBuffer } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';

export interface DmaPoolBlock {
  readonly cpu: Uint8Array;
  readonly dv: DataView;
  readonly dma: number;
}

export interface DmaPool {
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly blockSize: number;
  readonly pageSize: number;
  readonly pages: DmaBuffer[];
  readonly free: DmaPoolBlock[];
  readonly live: Map<number, DmaPoolBlock>;
  destroyed: boolean;
}

/**
 * linux/dmapool.h: fixed-size DMA blocks carved from physalloc pages; the
 * most recently freed block is reused first. Pools not destroyed at driver
 * exit are reported.
 */
export class LinuxDmaPool {
  private readonly pools = new Set<DmaPool>();

  /** `onCreate` runs after each pool is made (the facade registers its exit leak report on first use). */
  constructor(private readonly env: KpiEnv, private readonly onCreate: () => void) {}

  dma_pool_create(name: string, size: number, align = 8): DmaPool {
    const a = Math.max(1, align);
    const blockSize = Math.ceil(Math.max(1, size) / a) * a;
    const pageSize = Math.max(4096, Math.ceil(blockSize / 4096) * 4096);
    const pool: DmaPool = { name, size, align: a, blockSize, pageSize, pages: [], free: [], live: new Map(), destroyed: false };
    this.pools.add(pool);
    this.onCreate();
    return pool;
  }

  /** A block ({cpu, dma}), or null when out of memory. */
  dma_pool_alloc(pool: DmaPool): DmaPoolBlock | null {
    if (pool.destroyed) {
      this.env.log('error', `dma_pool_alloc from destroyed pool ${pool.name}`);
      return null;
    }
    if (pool.free.length === 0) {
      let page: DmaBuffer;
      try { page = this.env.sys.physalloc(pool.pageSize, Math.max(4096, pool.align)); } catch (e) {
        if (e instanceof SyscallError) return null;
        throw e;
      }
      pool.pages.push(page);
      for (let off = 0; off + pool.blockSize <= pool.pageSize; off += pool.blockSize) {
        const cpu = page.view.subarray(off, off + pool.size);
        pool.free.push({ cpu, dv: new DataView(cpu.buffer, cpu.byteOffset, cpu.byteLength), dma: page.phys + off });
      }
    }
    const b = pool.free.shift()!;
    pool.live.set(b.dma, b);
    return b;
  }

  dma_pool_zalloc(pool: DmaPool): DmaPoolBlock | null {
    const b = this.dma_pool_alloc(pool);
    b?.cpu.fill(0);
    return b;
  }

  dma_pool_free(pool: DmaPool, b: DmaPoolBlock): void {
    if (pool.live.get(b.dma) !== b) {
      this.env.log('error', `dma_pool_free ${pool.name}: block 0x${b.dma.toString(16)} not allocated from this pool or already freed`);
      return;
    }
    pool.live.delete(b.dma);
    pool.free.unshift(b); // most recently freed is reused first
  }

  /** Frees the pool's pages; reports blocks still in use. */
  dma_pool_destroy(pool: DmaPool | null | undefined): void {
    if (pool === null || pool === undefined || pool.destroyed) return;
    if (pool.live.size > 0) {
      const addrs = [...pool.live.keys()].sort((a, b) => a - b).map((a) => `0x${a.toString(16)}`).join(', ');
      this.env.log('error', `dma_pool_destroy ${pool.name}: ${pool.live.size} blocks still in use (${addrs})`);
    }
    for (const p of pool.pages) this.env.sys.physfree(p, 'dma_pool_destroy');
    pool.pages.length = 0;
    pool.free.length = 0;
    pool.live.clear();
    pool.destroyed = true;
    this.pools.delete(pool);
  }

  /** Logs pools not destroyed (at driver exit). */
  reportLeaks(): void {
    for (const p of this.pools) {
      this.env.log('warn', `leak: dma pool ${p.name} not destroyed at driver exit (${p.live.size} blocks in use)`);
    }
  }
}
