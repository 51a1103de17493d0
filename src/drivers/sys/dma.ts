import type { DmaBuffer, Sys } from '../../kernel/sys.js';

/**
 * A DMA buffer (redox-driver-sys `Dma<T>`): zeroed, physically contiguous
 * memory with its physical address for the device and a CPU view.
 */
export class Dma {
  private constructor(private readonly sys: Sys, readonly buf: DmaBuffer, readonly length: number) {}

  static zeroed(sys: Sys, length: number): Dma {
    return new Dma(sys, sys.physalloc(Math.max(1, length)), length);
  }

  get phys(): number { return this.buf.phys; }
  get bytes(): Uint8Array { return this.buf.view.subarray(0, this.length); }
  get view(): DataView { return this.buf.dv; }

  free(): void {
    this.sys.physfree(this.buf);
  }
}
