import type { Co } from '../../sim/scheduler.js';
import type { EventQueue } from '../../sim/event-queue.js';
import { EBADF, EINVAL, ENOENT } from '../errno.js';
import { EVENT_READ, Readiness } from '../readiness.js';
import type { Scheme, TaskCtx } from '../types.js';
import { at } from '../../sim/time.js';
import { done } from '../co.js';

interface TimerHandle {
  deadline: number;
  armed: boolean;
  event: number;
  readonly readiness: Readiness;
}

const KIND_FIRE = 1;

/**
 * `time:` — "monotonic" (or Redox's clock id "1"/"4"). Read gives the
 * current simulated time in ns (u64 LE). Writing a u64 ns deadline arms a
 * one-shot timer; the handle becomes readable (for `event:`) when it
 * expires. Plain sleeping is the nanosleep syscall (Sys.sleep).
 */
export class TimeScheme implements Scheme {
  readonly name = 'time';
  private readonly handles: (TimerHandle | undefined)[] = [];
  private readonly target: number;

  constructor(private readonly queue: EventQueue) {
    this.target = queue.register('time:', (kind, a0) => {
      if (kind !== KIND_FIRE) return;
      const h = this.handles[a0];
      if (h === undefined || !h.armed) return;
      h.armed = false;
      h.readiness.signal(EVENT_READ, this.queue.now);
    });
  }

  *open(_ctx: TaskCtx, path: string, _flags: number): Co<number> {
    if (!['monotonic', '1', '4', 'realtime', '0'].includes(path)) return -ENOENT;
    this.handles.push({ deadline: 0, armed: false, event: -1, readiness: new Readiness() });
    return this.handles.length - 1;
  }

  // read, write and fsize never block: plain functions returning `done` (co.ts).
  read(ctx: TaskCtx, handle: number, buf: Uint8Array, _offset: number): Co<number> {
    if (this.handles[handle] === undefined) return done(-EBADF);
    if (buf.length < 8) return done(-EINVAL);
    const nsNow = Math.floor(Math.max(ctx.core.time, this.queue.now) / 1000);
    new DataView(buf.buffer, buf.byteOffset, 8).setBigUint64(0, BigInt(nsNow), true);
    return done(8);
  }

  write(_ctx: TaskCtx, handle: number, buf: Uint8Array, _offset: number): Co<number> {
    const h = this.handles[handle];
    if (h === undefined) return done(-EBADF);
    if (buf.length < 8) return done(-EINVAL);
    const deadlineNs = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
    this.arm(handle, deadlineNs * 1000);
    return done(8);
  }

  /** Arms a one-shot timer at `deadlinePs`. */
  arm(handle: number, deadlinePs: number): void {
    const h = this.handles[handle];
    if (h === undefined) return;
    if (h.armed) this.queue.cancel(h.event);
    h.deadline = deadlinePs;
    h.armed = true;
    h.event = this.queue.scheduleAt(at(deadlinePs), this.target, KIND_FIRE, handle, 0);
  }

  fsize(): Co<number> { return done(0); }

  *close(_ctx: TaskCtx, handle: number): Co<number> {
    const h = this.handles[handle];
    if (h === undefined) return -EBADF;
    if (h.armed) this.queue.cancel(h.event);
    this.handles[handle] = undefined;
    return 0;
  }

  readiness(handle: number): Readiness | undefined {
    return this.handles[handle]?.readiness;
  }
}
