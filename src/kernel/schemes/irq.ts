import type { Co, Task } from '../../sim/scheduler.js';
import { MSI_ADDR_BASE } from '../../sim/irq.js';
import { EAGAIN, EBADF, EBUSY, EINVAL, ENOENT, ENOSPC } from '../errno.js';
import { EVENT_READ, Readiness } from '../readiness.js';
import { O_NONBLOCK, type Scheme, type TaskCtx } from '../types.js';
import type { Kernel } from '../kernel.js';
import { done, type Frame, type Resume } from '../co.js';

/** An irq: reader resumed. */
const INTERRUPTED: Resume = {
  resume(f: Frame): boolean {
    return (f.a as IrqScheme).afterWake(f);
  },
};

/** Legacy INTx pins are routed to vectors 0x20 + GSI; MSI vectors come from 0x40..0xEF. */
export const INTX_VECTOR_BASE = 0x20;
export const MSI_VECTOR_FIRST = 0x40;
export const MSI_VECTOR_LAST = 0xef;

export interface IrqHandle {
  kind: 'intx' | 'msi';
  gsi: number;
  core: number;
  vector: number;
  /** Interrupts since the last read. */
  count: number;
  total: number;
  nonBlocking: boolean;
  waiter: Task | null;
  readonly readiness: Readiness;
}

/**
 * `irq:`. Paths: "N" opens legacy line (GSI) N, routed through the IOAPIC
 * to the opener's core; the line stays masked in service after each
 * interrupt until the driver acknowledges it by writing to the handle (as
 * Redox masks a legacy IRQ until userspace acks it). "msi" (or
 * "cpu-CC/msi") allocates a free vector on the opener's core (or core CC)
 * for MSI/MSI-X; `msiMessage` gives the address/data to program. A read
 * blocks until at least one interrupt arrived and returns the count (u64).
 */
export class IrqScheme implements Scheme {
  readonly name = 'irq';
  private readonly handles = new Map<number, IrqHandle>();
  private nextHandle = 0;

  constructor(private readonly kernel: Kernel) {}

  *open(ctx: TaskCtx, path: string, flags: number): Co<number> {
    const k = this.kernel;
    let handle: IrqHandle;
    const msi = /^(?:cpu-([0-9a-f]{2})\/)?msi$/i.exec(path);
    if (msi !== null) {
      const core = msi[1] === undefined ? ctx.proc.core : parseInt(msi[1], 16);
      if (core >= k.cores.length) return -ENOENT;
      let vector = -1;
      for (let v = MSI_VECTOR_FIRST; v <= MSI_VECTOR_LAST; v++) {
        if (k.isVectorFree(core, v)) { vector = v; break; }
      }
      if (vector < 0) return -ENOSPC;
      handle = { kind: 'msi', gsi: -1, core, vector, count: 0, total: 0, nonBlocking: (flags & O_NONBLOCK) !== 0, waiter: null, readiness: new Readiness() };
    } else if (/^\d+$/.test(path)) {
      const gsi = Number(path);
      if (gsi >= 24) return -ENOENT;
      const vector = INTX_VECTOR_BASE + gsi;
      const core = 0; // legacy lines go to the bootstrap processor, as on Redox
      if (!k.isVectorFree(core, vector)) return -EBUSY;
      handle = { kind: 'intx', gsi, core, vector, count: 0, total: 0, nonBlocking: (flags & O_NONBLOCK) !== 0, waiter: null, readiness: new Readiness() };
    } else {
      return -ENOENT;
    }
    const id = this.nextHandle++;
    this.handles.set(id, handle);
    k.registerVector(handle.core, handle.vector, (time) => this.fire(handle, time));
    if (handle.kind === 'intx') k.irq.route(handle.gsi, handle.core, handle.vector);
    return id;
  }

  private fire(h: IrqHandle, time: number): void {
    h.count++;
    h.total++;
    const w = h.waiter;
    if (w !== null) {
      h.waiter = null;
      this.kernel.wake(w, undefined, time);
    }
    h.readiness.signal(EVENT_READ, time);
  }

  /** Blocks on the task's frame (co.ts) until an interrupt arrived; no generator per wait. */
  read(ctx: TaskCtx, handle: number, buf: Uint8Array, _offset: number): Co<number> {
    const h = this.handles.get(handle);
    if (h === undefined) return done(-EBADF);
    if (buf.length < 8) return done(-EINVAL);
    if (h.count === 0) {
      if (h.nonBlocking) return done(-EAGAIN);
      const task = ctx.kernel.currentTask(ctx);
      this.await(h, task);
      return ctx.kernel.frames.of(task).begin(INTERRUPTED, this, h, handle, buf) as Co<number>;
    }
    return done(this.take(h, buf));
  }

  private await(h: IrqHandle, task: Task): void {
    h.waiter = task;
    this.kernel.sched.prepareBlock(task);
  }

  /** The waiter resumed: -EBADF if the handle was closed, else waits again (false) until an interrupt came. */
  afterWake(f: Frame): boolean {
    if (!this.handles.has(f.n)) { f.value = -EBADF; return true; }
    const h = f.b as IrqHandle;
    if (h.count === 0) {
      // Woken without an interrupt: a blocking handle waits again (a non-blocking one never blocked).
      this.await(h, f.task);
      return false;
    }
    f.value = this.take(h, f.c as Uint8Array);
    return true;
  }

  /** Takes the interrupts counted so far into `buf` (u64 LE); the read's result. */
  take(h: IrqHandle, buf: Uint8Array): number {
    const n = h.count;
    h.count = 0;
    buf.fill(0, 0, 8);
    buf[0] = n & 0xff; buf[1] = (n >>> 8) & 0xff; buf[2] = (n >>> 16) & 0xff; buf[3] = (n >>> 24) & 0xff;
    return 8;
  }

  /** Acknowledge: end of interrupt for a legacy line (unmasks; redelivers if still asserted). */
  write(_ctx: TaskCtx, handle: number, _buf: Uint8Array, _offset: number): Co<number> {
    const h = this.handles.get(handle);
    if (h === undefined) return done(-EBADF);
    if (h.kind === 'intx') this.kernel.irq.eoi(h.gsi);
    return done(8);
  }

  fsize(_ctx: TaskCtx, handle: number): Co<number> {
    return done(this.handles.has(handle) ? 0 : -EBADF);
  }

  *close(_ctx: TaskCtx, handle: number): Co<number> {
    const h = this.handles.get(handle);
    if (h === undefined) return -EBADF;
    this.handles.delete(handle);
    this.kernel.unregisterVector(h.core, h.vector);
    if (h.kind === 'intx') {
      this.kernel.irq.mask(h.gsi, true);
      this.kernel.irq.eoi(h.gsi);
    }
    return 0;
  }

  readiness(handle: number): Readiness | undefined {
    return this.handles.get(handle)?.readiness;
  }

  info(handle: number): IrqHandle | undefined {
    return this.handles.get(handle);
  }

  /** The MSI message that targets this handle's core and vector (Intel SDM vol. 3, 11.11). */
  msiMessage(handle: number): { address: number; data: number } | undefined {
    const h = this.handles.get(handle);
    if (h === undefined || h.kind !== 'msi') return undefined;
    return { address: (MSI_ADDR_BASE | (h.core << 12)) >>> 0, data: h.vector };
  }
}
