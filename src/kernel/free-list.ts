/**
 * First-fit allocation over an address range, with neighbours coalesced on
 * free. Deterministic: the same calls give the same addresses. Used for
 * main RAM (the `memory:` scheme, whole pages) and for the heap inside a
 * compiled driver's memory (kmalloc-sized blocks and DMA pages).
 */
export interface Span {
  start: number;
  size: number;
}

export class FreeList {
  private free: Span[];
  /** Bytes handed out and not yet released. */
  allocated = 0;
  peak = 0;

  constructor(start: number, size: number) {
    this.free = size > 0 ? [{ start, size }] : [];
  }

  /** Allocates `size` bytes aligned to `align` (a power of two); undefined if nothing fits. */
  alloc(size: number, align: number): Span | undefined {
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      const start = Math.ceil(r.start / align) * align;
      const pad = start - r.start;
      if (pad + size > r.size) continue;
      const tail = r.size - pad - size;
      const replacement: Span[] = [];
      if (pad > 0) replacement.push({ start: r.start, size: pad });
      if (tail > 0) replacement.push({ start: start + size, size: tail });
      this.free.splice(i, 1, ...replacement);
      this.allocated += size;
      this.peak = Math.max(this.peak, this.allocated);
      return { start, size };
    }
    return undefined;
  }

  /** Returns a span to the free list (the caller checks it was allocated). */
  release(span: Span): void {
    this.allocated -= span.size;
    // Binary search for the insertion point, then merge with the neighbours.
    const f = this.free;
    let lo = 0;
    let hi = f.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (f[mid]!.start < span.start) lo = mid + 1;
      else hi = mid;
    }
    const s: Span = { start: span.start, size: span.size };
    const prev = f[lo - 1];
    const next = f[lo];
    if (prev !== undefined && prev.start + prev.size === s.start) {
      prev.size += s.size;
      if (next !== undefined && prev.start + prev.size === next.start) { prev.size += next.size; f.splice(lo, 1); }
    } else if (next !== undefined && s.start + s.size === next.start) {
      next.start = s.start;
      next.size += s.size;
    } else {
      f.splice(lo, 0, s);
    }
  }

  /** Adds [start, start+size) (e.g. after the memory grew); it must not overlap what is there. */
  extend(start: number, size: number): void {
    if (size <= 0) return;
    this.allocated += size;
    this.release({ start, size });
  }
}
