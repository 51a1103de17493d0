import { SyscallError } from '../../kernel/errno.js';
import type { DmaBuffer } from '../../kernel/sys.js';
import { Dma } from '../sys/index.js';
import type { KpiEnv } from './env.js';
import type { DevNamed } from './device.js';

export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_BIDIRECTIONAL = 0;

/** A coherent DMA allocation: CPU view and bus address. */
export interface DmaCoherent {
  readonly cpu: Uint8Array;
  readonly dv: DataView;
  readonly dma: number;
  readonly size: number;
  readonly buf: DmaBuffer;
}

/** A streaming mapping (dma_map_single): bounced through a DMA buffer, as swiotlb does. */
export interface DmaMapping {
  readonly dma: number;
  readonly len: number;
  readonly dir: number;
  readonly src: Uint8Array;
  readonly bounce: DmaBuffer;
}

/**
 * linux/dma-mapping.h: coherent allocations from `memory:` (tracked, so a
 * driver exiting with some still allocated gets a leak report) and
 * streaming mappings bounced through DMA memory.
 */
export class LinuxDmaMapping {
  private readonly coherent = new Set<DmaBuffer>();
  constructor(private readonly env: KpiEnv) {}

  dma_set_mask_and_coherent(_dev: DevNamed, _bits: number): number { return 0; }

  dma_alloc_coherent(_dev: DevNamed, size: number): DmaCoherent | null {
    try {
      const buf = Dma.zeroed(this.env.sys, size).buf;
      this.coherent.add(buf);
      return { cpu: buf.view.subarray(0, size), dv: buf.dv, dma: buf.phys, size, buf };
    } catch (e) {
      if (e instanceof SyscallError) return null;
      throw e;
    }
  }

  dma_free_coherent(_dev: DevNamed, mem: DmaCoherent): void {
    if (!this.coherent.delete(mem.buf)) {
      this.env.log('error', 'dma_free_coherent of a buffer that is not allocated');
      return;
    }
    this.env.sys.physfree(mem.buf, 'dma_free_coherent');
  }

  /** Coherent buffers currently allocated. */
  get coherentCount(): number { return this.coherent.size; }

  /** Maps a CPU buffer for one transfer; the device sees a bounce buffer. */
  dma_map_single(_dev: DevNamed, src: Uint8Array, dir: number): DmaMapping | null {
    const sys = this.env.sys;
    let bounce: DmaBuffer;
    try { bounce = sys.physalloc(Math.max(1, src.length)); } catch { return null; }
    if (dir !== DMA_FROM_DEVICE) sys.memcpy(bounce.view, 0, src, 0, src.length);
    return { dma: bounce.phys, len: src.length, dir, src, bounce };
  }

  dma_unmap_single(_dev: DevNamed, m: DmaMapping): void {
    if (m.dir !== DMA_TO_DEVICE) this.env.sys.memcpy(m.src, 0, m.bounce.view, 0, m.len);
    this.env.sys.physfree(m.bounce, 'dma_unmap_single');
  }

  /** Logs coherent buffers still allocated (at driver exit). */
  reportLeaks(): void {
    if (this.coherent.size > 0) this.env.log('warn', `leak: ${this.coherent.size} coherent DMA buffers not freed at driver exit`);
  }
}
