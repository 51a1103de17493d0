/**
 * Boundary sanitizer registry: the machine-wide part of `sanitize` (one per
 * machine, no module-level state). It remembers which DMA memory a driver
 * freed or unmapped, and through which call, so a device DMA that hits such
 * memory can be reported as a use after free rather than only as unmapped
 * memory. Device-specific checks (the NVMe submission-entry snapshots) live
 * with their device and only ask `enabled`.
 *
 * Costs: nothing unless a machine is built with sanitize on; then one
 * Int32Array of a word per 4 KiB page of RAM, a fill per allocation and per
 * free, and a lookup only on DMA that is refused anyway.
 */
import { PAGE_SIZE } from './memory.js';

/** Who freed a range, and when: the context a use-after-free report names. */
export interface FreeNote {
  /** The freeing call, e.g. "dma_free_coherent", "dma_unmap_single", "physfree". */
  what: string;
  /** Process name and pid of the caller. */
  proc: string;
  pid: number;
  /** Simulated time of the free (ps). */
  timePs: number;
}

export interface FreedRange extends FreeNote {
  phys: number;
  size: number;
}

export class Sanitizer {
  /** Per page: 0, or 1 + index into `frees` of the free that left the page unallocated. */
  private readonly freedBy: Int32Array;
  private readonly frees: FreedRange[] = [];

  constructor(ramBytes: number) {
    this.freedBy = new Int32Array(Math.ceil(ramBytes / PAGE_SIZE));
  }

  /** [phys, phys+size) was handed out again: no longer freed memory. */
  noteAlloc(phys: number, size: number): void {
    if (size <= 0) return;
    this.freedBy.fill(0, Math.floor(phys / PAGE_SIZE), Math.floor((phys + size - 1) / PAGE_SIZE) + 1);
  }

  /** [phys, phys+size) was freed by `note`. */
  noteFree(phys: number, size: number, note: FreeNote): void {
    if (size <= 0) return;
    this.frees.push({ phys, size, ...note });
    this.freedBy.fill(this.frees.length, Math.floor(phys / PAGE_SIZE), Math.floor((phys + size - 1) / PAGE_SIZE) + 1);
  }

  /** The free that left some page of [addr, addr+len) unallocated (the first such page), or undefined. */
  freedIn(addr: number, len: number): FreedRange | undefined {
    const n = this.freedBy.length;
    const first = Math.max(0, Math.floor(addr / PAGE_SIZE));
    const last = Math.min(n - 1, Math.floor((addr + Math.max(len, 1) - 1) / PAGE_SIZE));
    for (let p = first; p <= last; p++) {
      const i = this.freedBy[p]!;
      if (i !== 0) return this.frees[i - 1];
    }
    return undefined;
  }
}
