import type { Co, Task } from '../../sim/scheduler.js';
import { TIMED_OUT } from '../../sim/scheduler.js';
import { EBADF, EINVAL } from '../errno.js';
import type { Readiness, ReadinessListener } from '../readiness.js';
import type { Scheme, TaskCtx } from '../types.js';
import type { Kernel } from '../kernel.js';
import { done, type Frame, type Resume } from '../co.js';

/** A task waiting in `EventScheme.next` resumed: the next record, undefined at the deadline, or wait again. */
const EVENT_WAKE: Resume = {
  resume(f: Frame, wake: unknown): boolean {
    const q = f.b as EventQueueObject;
    if (wake === TIMED_OUT) {
      q.waiter = null;
      f.value = undefined;
      return true;
    }
    const rec = q.pending.shift();
    if (rec !== undefined) {
      f.value = rec;
      return true;
    }
    q.waiter = f.task;
    (f.a as Kernel).sched.prepareBlock(f.task, f.c as number | undefined);
    return false;
  },
};

export interface EventRecord {
  /** The fd the event is about. */
  fd: number;
  flags: number;
  /** The user data given at subscription. */
  data: number;
}

interface Subscription extends ReadinessListener {
  fd: number;
  flags: number;
  data: number;
  source: Readiness;
}

/** One `event:` queue: subscriptions and the events they produced, in order. */
export class EventQueueObject {
  readonly pending: EventRecord[] = [];
  readonly subs = new Map<number, Subscription>();
  waiter: Task | null = null;
  constructor(private readonly wake: (t: Task, time: number) => void) {}

  push(rec: EventRecord, time: number): void {
    // Coalesce: one pending record per fd, flags ORed (Redox delivers one event per source).
    for (const p of this.pending) {
      if (p.fd === rec.fd) { p.flags |= rec.flags; return; }
    }
    this.pending.push(rec);
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      this.wake(w, time);
    }
  }
}

/**
 * `event:` (Redox's event queue). Open gives a queue; `subscribe` (the
 * model of writing an `Event` struct to it) watches another fd; read blocks
 * until some watched fd became ready and returns which (24 bytes: fd,
 * flags, data as u64) — or, through `Sys.waitEvent`, the record itself.
 */
export class EventScheme implements Scheme {
  readonly name = 'event';
  private readonly queues = new Map<number, EventQueueObject>();
  private nextHandle = 0;

  *open(ctx: TaskCtx, _path: string, _flags: number): Co<number> {
    const h = this.nextHandle++;
    this.queues.set(h, new EventQueueObject((t, time) => ctx.kernel.wake(t, undefined, time)));
    return h;
  }

  queue(handle: number): EventQueueObject | undefined {
    return this.queues.get(handle);
  }

  subscribe(handle: number, fd: number, source: Readiness, flags: number, data: number, alreadyReady: boolean, time: number): number {
    const q = this.queues.get(handle);
    if (q === undefined) return -EBADF;
    const old = q.subs.get(fd);
    if (old !== undefined) old.source.unsubscribe(old);
    if (flags === 0) { q.subs.delete(fd); return 0; }
    const sub: Subscription = {
      fd, flags, data, source,
      notify: (f, t) => { if ((f & sub.flags) !== 0) q.push({ fd: sub.fd, flags: f & sub.flags, data: sub.data }, t); },
    };
    q.subs.set(fd, sub);
    source.subscribe(sub);
    if (alreadyReady) sub.notify(flags, time);
    return 0;
  }

  /** Waits for the next event; returns undefined on timeout. */
  next(ctx: TaskCtx, handle: number, deadline?: number): Co<EventRecord | undefined | number> {
    const q = this.queues.get(handle);
    if (q === undefined) return done(-EBADF);
    const rec = q.pending.shift();
    if (rec !== undefined) return done(rec);
    const k = ctx.kernel;
    const task = k.currentTask(ctx);
    q.waiter = task;
    k.sched.prepareBlock(task, deadline);
    // Blocks on the task's frame (co.ts): no generator per wait.
    return k.frames.of(task).begin(EVENT_WAKE, k, q, 0, deadline) as Co<EventRecord | undefined | number>;
  }

  *read(ctx: TaskCtx, handle: number, buf: Uint8Array, _offset: number): Co<number> {
    if (buf.length < 24) return -EINVAL;
    const r = yield* this.next(ctx, handle);
    if (typeof r === 'number') return r;
    if (r === undefined) return 0;
    const v = new DataView(buf.buffer, buf.byteOffset, 24);
    v.setBigUint64(0, BigInt(r.fd), true);
    v.setBigUint64(8, BigInt(r.flags), true);
    v.setBigUint64(16, BigInt(r.data), true);
    return 24;
  }

  *write(): Co<number> { return -EINVAL; }
  *fsize(): Co<number> { return 0; }
  *close(_ctx: TaskCtx, handle: number): Co<number> {
    const q = this.queues.get(handle);
    if (q === undefined) return -EBADF;
    for (const s of q.subs.values()) s.source.unsubscribe(s);
    this.queues.delete(handle);
    return 0;
  }
}
