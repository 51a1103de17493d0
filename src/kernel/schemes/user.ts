import type { Co, Task } from '../../sim/scheduler.js';
import { EBADF, EINVAL, EIO, ENODEV, ENOENT } from '../errno.js';
import type { Process } from '../process.js';
import { EVENT_READ, Readiness } from '../readiness.js';
import type { Scheme, TaskCtx } from '../types.js';
import type { Kernel } from '../kernel.js';
import { done, type Frame, type Resume } from '../co.js';

/** A client resumed after its request's reply. */
const REPLIED: Resume = {
  resume(f: Frame): boolean {
    (f.a as UserScheme).finishSubmit(f);
    return true;
  },
};

/** A daemon resumed while waiting in `next`. */
const REQUEST: Resume = {
  resume(f: Frame): boolean {
    return (f.a as UserScheme).nextAfterWake(f);
  },
};

/** Request kinds carried in a scheme packet (Redox's SYS_OPEN, SYS_READ, ...). */
export const OP_OPEN = 1;
export const OP_READ = 2;
export const OP_WRITE = 3;
export const OP_CLOSE = 4;
export const OP_FSIZE = 5;
/** A call (Redox SYS_CALL): `buf` is read-write, `offset` and `flags` carry the request code. */
export const OP_CALL = 6;
/** A map (Redox fmap): `offset` is the offset to map, `flags` the size; the reply is a physical address. */
export const OP_FMAP = 7;
export const OP_NAMES = ['', 'open', 'read', 'write', 'close', 'fsize', 'call', 'fmap'] as const;

/**
 * A request packet as a scheme daemon receives it. The client's buffer is
 * handed over by reference: the kernel "maps" it into the daemon, as Redox
 * does, so a read reply fills `buf` directly. Packets are pooled.
 */
export interface Packet {
  id: number;
  op: number;
  /** Client process id. */
  pid: number;
  /** Scheme-local handle (the value the daemon returned from open). */
  handle: number;
  path: string;
  flags: number;
  buf: Uint8Array | null;
  offset: number;
  client: Task | null;
  replied: boolean;
  result: number;
  /** Kernel-internal: the scheme this packet is in flight at (null otherwise) and its in-flight list links. */
  inflightAt: UserScheme | null;
  inflightPrev: Packet | null;
  inflightNext: Packet | null;
}

/** Packet numbering of one kernel: every machine starts from 0 (two machines in one process never share it). */
export class PacketIds {
  next = 0;
}

/**
 * A scheme served by a user process (a driver daemon). Client operations
 * become packets queued to the daemon; the client blocks until the daemon
 * replies. If the daemon dies, queued and in-flight requests fail with EIO
 * and later ones with ENODEV.
 */
export class UserScheme implements Scheme {
  private readonly queue: Packet[] = [];
  private readonly pool: Packet[] = [];
  private daemonWaiter: Task | null = null;
  readonly daemonReadiness = new Readiness();
  /** Requests submitted and not yet replied to, oldest first (an intrusive list: no per-request allocation or hashing). */
  private inflightHead: Packet | null = null;
  private inflightTail: Packet | null = null;
  dead = false;
  requests = 0;

  constructor(readonly name: string, readonly owner: Process, private readonly ids: PacketIds) {}

  // Client operations return the submit coroutine itself (no extra delegation level per request).
  open(ctx: TaskCtx, path: string, flags: number): Co<number> {
    return this.submit(ctx, OP_OPEN, 0, path, flags, null, 0);
  }
  read(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number> {
    return this.submit(ctx, OP_READ, handle, '', 0, buf, offset);
  }
  write(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number> {
    return this.submit(ctx, OP_WRITE, handle, '', 0, buf, offset);
  }
  fsize(ctx: TaskCtx, handle: number): Co<number> {
    return this.submit(ctx, OP_FSIZE, handle, '', 0, null, 0);
  }
  call(ctx: TaskCtx, handle: number, buf: Uint8Array, code: number): Co<number> {
    return this.submit(ctx, OP_CALL, handle, '', code, buf, code);
  }
  fmap(ctx: TaskCtx, handle: number, offset: number, size: number): Co<number> {
    return this.submit(ctx, OP_FMAP, handle, '', size, null, offset);
  }

  /**
   * Readiness of a client's handle, for `event:`. The daemon signals it
   * (`post`, Redox's fevent posting); it is edge-triggered: a client that
   * subscribes reads until EAGAIN before waiting.
   */
  readiness(handle: number): Readiness {
    let r = this.handleReadiness.get(handle);
    if (r === undefined) {
      r = new Readiness();
      this.handleReadiness.set(handle, r);
    }
    return r;
  }
  private readonly handleReadiness = new Map<number, Readiness>();

  /** Daemon side: handle `handle` became ready for `flags` (EVENT_READ, ...). */
  post(ctx: TaskCtx, handle: number, flags: number): number {
    ctx.kernel.syscalls++;
    ctx.core.advance(ctx.core.costs.syscallPs);
    const r = this.handleReadiness.get(handle);
    if (r !== undefined) r.signal(flags, Math.max(ctx.core.time, ctx.kernel.queue.now));
    return 0;
  }
  close(ctx: TaskCtx, handle: number): Co<number> {
    if (this.dead) return done(0);
    return this.submit(ctx, OP_CLOSE, handle, '', 0, null, 0);
  }

  /** Queues the request and blocks the client on its frame until the reply (co.ts: no generator per request). */
  private submit(ctx: TaskCtx, op: number, handle: number, path: string, flags: number, buf: Uint8Array | null, offset: number): Co<number> {
    if (this.dead) return done(-ENODEV);
    const k = ctx.kernel;
    ctx.core.advance(ctx.core.costs.schemeHopPs);
    const p = this.pool.pop() ?? {
      id: 0, op: 0, pid: 0, handle: 0, path: '', flags: 0, buf: null, offset: 0, client: null, replied: false, result: 0,
      inflightAt: null, inflightPrev: null, inflightNext: null,
    };
    p.id = this.ids.next++;
    p.op = op; p.pid = ctx.proc.pid; p.handle = handle; p.path = path; p.flags = flags;
    p.buf = buf; p.offset = offset; p.client = k.currentTask(ctx); p.replied = false; p.result = 0;
    this.requests++;
    const t = Math.max(ctx.core.time, k.queue.now);
    k.tracer.schemeReq(k.queue.now, ctx.proc.pid, this.name, OP_NAMES[op]!, p.id, offset, buf === null ? 0 : buf.length);
    this.addInflight(p);
    this.queue.push(p);
    const w = this.daemonWaiter;
    if (w !== null) {
      this.daemonWaiter = null;
      k.wake(w, undefined, t);
    }
    this.daemonReadiness.signal(EVENT_READ, t);
    k.sched.prepareBlock(p.client);
    return k.frames.of(p.client).begin(REPLIED, this, p, 0) as Co<number>;
  }

  /** The client resumed after the reply (or the daemon's death): the request's result. */
  finishSubmit(f: Frame): void {
    const p = f.b as Packet;
    f.value = p.result;
    this.release(p);
  }

  private release(p: Packet): void {
    p.buf = null;
    p.client = null;
    this.pool.push(p);
  }

  /** Daemon side: the next request, blocking until one arrives. */
  next(ctx: TaskCtx, nonBlocking: boolean): Co<Packet | null> {
    const p = this.queue.shift();
    if (p !== undefined) return done(p);
    if (nonBlocking || this.dead) return done(null);
    const task = ctx.kernel.currentTask(ctx);
    this.waitRequest(ctx.kernel, task);
    return ctx.kernel.frames.of(task).begin(REQUEST, this, ctx.kernel, 0) as Co<Packet | null>;
  }

  private waitRequest(k: Kernel, task: Task): void {
    this.daemonWaiter = task;
    k.sched.prepareBlock(task);
  }

  /** The daemon resumed while waiting for a request: takes it, or waits again (false). */
  nextAfterWake(f: Frame): boolean {
    const p = this.queue.shift();
    if (p !== undefined) { f.value = p; return true; }
    if (this.dead) { f.value = null; return true; }
    this.waitRequest(f.b as Kernel, f.task);
    return false;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Daemon side: completes a request; the client resumes after the hop back. */
  reply(ctx: TaskCtx, p: Packet, result: number): number {
    if (p.replied || p.inflightAt !== this) return -EINVAL;
    const k = ctx.kernel;
    k.syscalls++;
    ctx.core.advance(ctx.core.costs.syscallPs + ctx.core.costs.schemeHopPs);
    p.replied = true;
    p.result = result;
    this.removeInflight(p);
    k.tracer.schemeReply(k.queue.now, p.pid, this.name, p.id, result);
    if (p.client !== null) k.wake(p.client, undefined, Math.max(ctx.core.time, k.queue.now));
    return 0;
  }

  /** The daemon died: fail everything in flight with EIO. */
  kill(time: number, kernelWake: (t: Task, time: number) => void, errno: number): void {
    this.dead = true;
    this.queue.length = 0;
    for (let p = this.inflightHead; p !== null; p = p.inflightNext) {
      p.replied = true;
      p.result = -errno;
      p.inflightAt = null;
      if (p.client !== null) kernelWake(p.client, time);
    }
    this.inflightHead = null;
    this.inflightTail = null;
  }

  /** Requests in flight (submitted, not replied to). */
  get inflightCount(): number {
    let n = 0;
    for (let p = this.inflightHead; p !== null; p = p.inflightNext) n++;
    return n;
  }

  private addInflight(p: Packet): void {
    p.inflightAt = this;
    p.inflightPrev = this.inflightTail;
    p.inflightNext = null;
    if (this.inflightTail === null) this.inflightHead = p;
    else this.inflightTail.inflightNext = p;
    this.inflightTail = p;
  }

  private removeInflight(p: Packet): void {
    const prev = p.inflightPrev;
    const next = p.inflightNext;
    if (prev === null) this.inflightHead = next;
    else prev.inflightNext = next;
    if (next === null) this.inflightTail = prev;
    else next.inflightPrev = prev;
    p.inflightAt = null;
    p.inflightPrev = null;
    p.inflightNext = null;
  }
}

/**
 * The root scheme (":"): opening ":name" creates the user scheme "name"
 * owned by the caller; the returned fd is the daemon's end.
 */
export class RootScheme implements Scheme {
  readonly name = '';
  private readonly handles = new Map<number, UserScheme>();
  private nextHandle = 0;
  /** Request ids of every user scheme of this kernel. */
  private readonly packetIds = new PacketIds();

  *open(ctx: TaskCtx, path: string, _flags: number): Co<number> {
    const k = ctx.kernel;
    if (path === '' || path.includes(':') || path.includes('/')) return -EINVAL;
    if (k.schemes.has(path)) return -ENOENT;
    const scheme = new UserScheme(path, ctx.proc, this.packetIds);
    k.registerScheme(scheme);
    const h = this.nextHandle++;
    this.handles.set(h, scheme);
    return h;
  }
  *read(): Co<number> { return -EINVAL; }
  *write(): Co<number> { return -EINVAL; }
  *fsize(): Co<number> { return -EINVAL; }
  *close(ctx: TaskCtx, handle: number): Co<number> {
    const s = this.handles.get(handle);
    if (s === undefined) return -EBADF;
    this.handles.delete(handle);
    const k = ctx.kernel;
    const errno = ctx.proc.alive ? ENODEV : EIO;
    s.kill(k.queue.now, (t, time) => k.wake(t, undefined, time), errno);
    k.unregisterScheme(s.name);
    return 0;
  }
  readiness(handle: number): Readiness | undefined {
    return this.handles.get(handle)?.daemonReadiness;
  }
  userScheme(handle: number): UserScheme | undefined {
    return this.handles.get(handle);
  }
}
