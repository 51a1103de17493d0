import type { Co } from '../../sim/scheduler.js';
import { PAGE_SIZE, type PhysMem } from '../../sim/memory.js';
import type { FreeNote, Sanitizer } from '../../sim/sanitize.js';
import { EINVAL } from '../errno.js';
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
  private free: PhysRegion[];
  allocatedBytes = 0;
  peakBytes = 0;

  /** `sanitizer`: the machine's boundary sanitizer (option `sanitize`), told of every allocation and free. */
  constructor(private readonly mem: PhysMem, private readonly sanitizer: Sanitizer | null = null) {
    const start = 0x100000;
    this.free = [{ phys: start, size: mem.ramBytes - start }];
  }

  /** True when frees should say who freed (the machine's sanitizer is on). */
  get sanitizing(): boolean {
    return this.sanitizer !== null;
  }

  alloc(size: number, align = PAGE_SIZE): PhysRegion | undefined {
    if (!(size > 0)) return undefined;
    const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const al = Math.max(PAGE_SIZE, align);
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      const start = Math.ceil(r.phys / al) * al;
      const pad = start - r.phys;
      if (pad + bytes > r.size) continue;
      const tail = r.size - pad - bytes;
      const replacement: PhysRegion[] = [];
      if (pad > 0) replacement.push({ phys: r.phys, size: pad });
      if (tail > 0) replacement.push({ phys: start + bytes, size: tail });
      this.free.splice(i, 1, ...replacement);
      this.mem.zeroPages(start, bytes);
      this.mem.markDma(start, bytes, true);
      if (this.sanitizer !== null) this.sanitizer.noteAlloc(start, bytes);
      this.allocatedBytes += bytes;
      this.peakBytes = Math.max(this.peakBytes, this.allocatedBytes);
      return { phys: start, size: bytes };
    }
    return undefined;
  }

  /** Frees `region`; `note` (who freed it, through which call) is for the sanitizer's use-after-free reports. */
  release(region: PhysRegion, note?: FreeNote): void {
    this.mem.markDma(region.phys, region.size, false);
    if (this.sanitizer !== null && note !== undefined) this.sanitizer.noteFree(region.phys, region.size, note);
    this.allocatedBytes -= region.size;
    this.free.push({ phys: region.phys, size: region.size });
    this.free.sort((a, b) => a.phys - b.phys);
    // Coalesce neighbours.
    const merged: PhysRegion[] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.phys + last.size === r.phys) last.size += r.size;
      else merged.push({ ...r });
    }
    this.free = merged;
  }

  *open(): Co<number> { return -EINVAL; }
  *read(): Co<number> { return -EINVAL; }
  *write(): Co<number> { return -EINVAL; }
  *fsize(): Co<number> { return -EINVAL; }
  *close(): Co<number> { return 0; }
}
