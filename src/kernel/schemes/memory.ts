import type { Co } from '../../sim/scheduler.js';
import { PAGE_SIZE, type PhysMem } from '../../sim/memory.js';
import type { FreeNote, Sanitizer } from '../../sim/sanitize.js';
import { EINVAL } from '../errno.js';
import { FreeList } from '../free-list.js';
import type { Scheme } from '../types.js';

export interface PhysRegion {
  phys: number;
  size: number;
}

/**
 * `memory:`: physical allocation of DMA-able RAM (Redox's physalloc /
 * memory:zeroed) and physical mappings of device windows (memory:physical).
 * Allocation is first-fit over whole pages from a free list, so it is
 * deterministic; the first 1 MiB is never handed out. Allocated pages are
 * zeroed and marked DMA-able; freed pages are unmarked, so a device that
 * DMAs into memory after the driver freed it gets a guest error.
 */
export class MemoryScheme implements Scheme {
  readonly name = 'memory';
  private readonly free: FreeList;

  /** `sanitizer`: the machine's boundary sanitizer (option `sanitize`), told of every allocation and free. */
  constructor(private readonly mem: PhysMem, private readonly sanitizer: Sanitizer | null = null) {
    const start = 0x100000;
    this.free = new FreeList(start, mem.ramBytes - start);
  }

  get allocatedBytes(): number { return this.free.allocated; }
  get peakBytes(): number { return this.free.peak; }

  /** True when frees should say who freed (the machine's sanitizer is on). */
  get sanitizing(): boolean {
    return this.sanitizer !== null;
  }

  alloc(size: number, align = PAGE_SIZE): PhysRegion | undefined {
    if (!(size > 0)) return undefined;
    const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const s = this.free.alloc(bytes, Math.max(PAGE_SIZE, align));
    if (s === undefined) return undefined;
    this.mem.zeroPages(s.start, bytes);
    this.mem.markDma(s.start, bytes, true);
    if (this.sanitizer !== null) this.sanitizer.noteAlloc(s.start, bytes);
    return { phys: s.start, size: bytes };
  }

  /** Frees `region`; `note` (who freed it, through which call) is for the sanitizer's use-after-free reports. */
  release(region: PhysRegion, note?: FreeNote): void {
    this.mem.markDma(region.phys, region.size, false);
    if (this.sanitizer !== null && note !== undefined) this.sanitizer.noteFree(region.phys, region.size, note);
    this.free.release({ start: region.phys, size: region.size });
  }

  *open(): Co<number> { return -EINVAL; }
  *read(): Co<number> { return -EINVAL; }
  *write(): Co<number> { return -EINVAL; }
  *fsize(): Co<number> { return -EINVAL; }
  *close(): Co<number> { return 0; }
}
