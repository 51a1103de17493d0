import type { KpiEnv } from './env.js';

/**
 * kmalloc/kzalloc/kfree with allocation tracking: every live allocation is
 * remembered with the call site tag given by the driver, so a driver that
 * exits (or is removed) without freeing gets a leak report.
 */
export interface KmallocBlock {
  readonly id: number;
  readonly size: number;
  readonly tag: string;
  readonly data: Uint8Array;
}

export class SlabTracker {
  private readonly live = new Map<Uint8Array, KmallocBlock>();
  private nextId = 0;
  totalAllocs = 0;
  totalFrees = 0;
  badFrees: string[] = [];

  alloc(size: number, tag: string, zero: boolean): Uint8Array {
    const data = new Uint8Array(size);
    if (!zero) data.fill(0x6b); // slab poison (POISON_FREE), so code relying on kmalloc zeroing shows up
    const b: KmallocBlock = { id: this.nextId++, size, tag, data };
    this.live.set(data, b);
    this.totalAllocs++;
    return data;
  }

  free(data: Uint8Array | null | undefined): boolean {
    if (data === null || data === undefined) return true; // kfree(NULL) is a no-op
    if (!this.live.delete(data)) {
      this.badFrees.push(`kfree of a block that is not live (size ${data.length})`);
      return false;
    }
    this.totalFrees++;
    return true;
  }

  leaks(): KmallocBlock[] {
    return [...this.live.values()].sort((a, b) => a.id - b.id);
  }
}

/** linux/slab.h: kmalloc/kzalloc/kfree on a SlabTracker; a bad kfree is logged. */
export class LinuxSlab {
  readonly tracker = new SlabTracker();
  constructor(private readonly env: KpiEnv) {}

  kmalloc(size: number, tag = 'kmalloc'): Uint8Array { return this.tracker.alloc(size, tag, false); }
  kzalloc(size: number, tag = 'kzalloc'): Uint8Array { return this.tracker.alloc(size, tag, true); }
  kfree(p: Uint8Array | null | undefined): void {
    if (!this.tracker.free(p)) this.env.log('error', 'kfree of memory that was not allocated or already freed');
  }

  /** Logs a warning for each allocation still live (at driver exit). */
  reportLeaks(): void {
    for (const b of this.tracker.leaks()) {
      this.env.log('warn', `leak: ${b.size} bytes from ${b.tag} (allocation #${b.id}) not freed at driver exit`);
    }
  }
}
