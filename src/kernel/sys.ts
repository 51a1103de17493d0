import type { Co, Task } from '../sim/scheduler.js';
import { BLOCK, TIMED_OUT } from '../sim/scheduler.js';
import type { LogLevel } from '../sim/tracer.js';
import type { PhysMem } from '../sim/memory.js';
import { EACCES, EBADF, EINVAL, ENOMEM, SyscallError } from './errno.js';
import type { Kernel, ProcMain } from './kernel.js';
import type { Process } from './process.js';
import type { EventRecord } from './schemes/event.js';
import { EventScheme } from './schemes/event.js';
import { IrqScheme } from './schemes/irq.js';
import type { MemoryScheme } from './schemes/memory.js';
import { RootScheme, type Packet, type UserScheme } from './schemes/user.js';
import { EVENT_READ } from './readiness.js';
import type { FileDesc, TaskCtx } from './types.js';
import { afterwards, type Frame, type Post, type Resume } from './co.js';

/** Sys.sleep: the wait's value is dropped. */
const TO_VOID: Post = { apply: () => undefined };
/** Sys.park: true if unparked, false at the deadline. */
const NOT_TIMED_OUT: Post = { apply: (_arg, v) => v !== TIMED_OUT };
/** Sys.waitIrq: the interrupt count from the u64 the irq: read gave (or the -errno). */
const IRQ_COUNT: Post = {
  apply(arg, v) {
    const n = v as number;
    if (n < 0) return n;
    const scratch = arg as Uint8Array;
    return scratch[0]! | (scratch[1]! << 8) | (scratch[2]! << 16);
  },
};
/** Sys.waitEvent: an -errno from the queue is thrown. */
const EVENT_OR_THROW: Post = {
  apply(_arg, v) {
    if (typeof v === 'number') throw new SyscallError(-v, 'waitEvent');
    return v;
  },
};
/** Sys.yield: done as soon as the task runs again. */
const RESUMED: Resume = {
  resume(f: Frame): boolean {
    f.value = undefined;
    return true;
  },
};

export type { Co } from '../sim/scheduler.js';
/** What a scheme daemon receives (nextRequest) and its operations: part of the syscall surface. */
export type { Packet } from './schemes/user.js';
export { OP_CLOSE, OP_FSIZE, OP_OPEN, OP_READ, OP_WRITE } from './schemes/user.js';

/**
 * A thread of a process as the process's own code sees it: an identity to
 * put on wait queues and to name lock owners. `Sys.currentThread()` gives
 * the caller's, `Sys.thread(tid)` another one of the same process.
 */
export interface Thread {
  readonly tid: number;
  readonly name: string;
  readonly pid: number;
  /** Incremented each time the thread blocks: a change shows that it slept in between. */
  readonly waitSeq: number;
}

/** DMA-able memory: physical address for the device, a view for the CPU. */
export interface DmaBuffer {
  readonly phys: number;
  readonly size: number;
  /** CPU view of the memory (ordinary cached access; costs no MMIO). */
  readonly view: Uint8Array;
  readonly dv: DataView;
}

/**
 * An uncached mapping of a physical device window (Redox's
 * `memory:physical@uc` mmap). Accesses go through the owning core, which
 * charges the access cost and brings the devices up to date first.
 */
export class Mmio {
  constructor(readonly phys: number, readonly size: number, private readonly ctx: TaskCtx) {}
  read8(off: number): number { return this.ctx.core.mmioRead(this.phys + off, 1); }
  read16(off: number): number { return this.ctx.core.mmioRead(this.phys + off, 2); }
  read32(off: number): number { return this.ctx.core.mmioRead(this.phys + off, 4); }
  write8(off: number, v: number): void { this.ctx.core.mmioWrite(this.phys + off, 1, v); }
  write16(off: number, v: number): void { this.ctx.core.mmioWrite(this.phys + off, 2, v); }
  write32(off: number, v: number): void { this.ctx.core.mmioWrite(this.phys + off, 4, v); }
}

/**
 * The syscall surface a process task sees (the part of libredox/redox_syscall
 * drivers use). Potentially blocking calls are coroutines (`yield*`); the
 * others are plain calls that charge their cost to the core. One `Sys` per
 * task.
 */
/**
 * Memory a scheme lent with fmap. `bytes()` is a view of it; take it anew
 * after blocking (the lender's memory may have been replaced, e.g. a
 * compiled driver's grown WebAssembly memory).
 */
export class MappedMemory {
  constructor(readonly phys: number, readonly size: number, private readonly mem: PhysMem) {}
  bytes(): Uint8Array {
    const ram = this.mem.resolve(this.phys, this.size);
    if (ram === null) return new Uint8Array(0);
    const at = this.mem.resolvedOffset;
    return ram.subarray(at, at + this.size);
  }
}

export class Sys {
  constructor(readonly ctx: TaskCtx) {}

  get kernel(): Kernel { return this.ctx.kernel; }
  get proc(): Process { return this.ctx.proc; }
  get pid(): number { return this.ctx.proc.pid; }
  /** Current time as this task sees it (ps). */
  get now(): number { return Math.max(this.ctx.core.time, this.ctx.kernel.queue.now); }

  // ---- files -----------------------------------------------------------
  open(path: string, flags = 0): Co<number> { return this.kernel.open(this.ctx, path, flags); }
  read(fd: number, buf: Uint8Array, offset?: number): Co<number> { return this.kernel.read(this.ctx, fd, buf, offset); }
  write(fd: number, buf: Uint8Array, offset?: number): Co<number> { return this.kernel.write(this.ctx, fd, buf, offset); }
  fsize(fd: number): Co<number> { return this.kernel.fsize(this.ctx, fd); }
  /** A request-reply call (Redox SYS_CALL): `buf` carries the request in and the reply out. Result or -errno. */
  call(fd: number, buf: Uint8Array, code: number): Co<number> { return this.kernel.call(this.ctx, fd, buf, code); }

  /**
   * Maps `size` bytes at `offset` of `fd` (Redox fmap, e.g. a DRM dumb
   * buffer): the memory the scheme lends, or -errno.
   */
  *fmap(fd: number, offset: number, size: number): Co<MappedMemory | number> {
    const phys = yield* this.kernel.fmap(this.ctx, fd, offset, size);
    return phys < 0 ? phys : new MappedMemory(phys, size, this.kernel.mem);
  }
  lseek(fd: number, pos: number, whence: 0 | 1 | 2 = 0): Co<number> { return this.kernel.lseek(this.ctx, fd, pos, whence); }
  close(fd: number): Co<number> { return this.kernel.close(this.ctx, fd); }

  *openOrThrow(path: string, flags = 0): Co<number> {
    const fd = yield* this.open(path, flags);
    if (fd < 0) throw new SyscallError(-fd, `open ${path}`);
    return fd;
  }

  // ---- time ------------------------------------------------------------
  /** nanosleep: blocks for `ps` picoseconds of simulated time. */
  sleep(ps: number): Co<void> {
    if (this.kernel.syscallEntry(this.ctx)) return this.sleepPreempted(ps);
    return afterwards(this.kernel.block(this.ctx, this.now + ps), TO_VOID, null);
  }

  private *sleepPreempted(ps: number): Co<void> {
    yield BLOCK;
    yield* this.kernel.block(this.ctx, this.now + ps);
  }

  /** Busy-waits (udelay): the core spins, time passes, devices progress. */
  spin(ps: number): void {
    this.ctx.core.advance(ps);
    this.ctx.core.sync();
  }

  /** clock_gettime(CLOCK_MONOTONIC) in ps. */
  clock(): number {
    this.kernel.syscalls++;
    this.ctx.core.advance(this.ctx.core.costs.syscallPs);
    return this.now;
  }

  /** Explicit compute cost. */
  spend(cycles: number): void {
    this.ctx.core.spend(cycles);
  }

  /** Copies bytes inside the process, charging the copy cost. */
  memcpy(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
    this.ctx.core.advance(Math.ceil(len / 64) * this.ctx.core.costs.copyPsPer64B);
  }

  /** Gives up the core voluntarily (sched_yield). */
  yield(): Co<void> {
    if (this.kernel.syscallEntry(this.ctx)) return this.yieldPreempted();
    // The task's state stays 'ready': requeued at the back.
    return this.kernel.frames.of(this.kernel.currentTask(this.ctx)).begin(RESUMED, null, null, 0) as Co<void>;
  }

  private *yieldPreempted(): Co<void> {
    yield BLOCK;
    yield BLOCK;
  }

  // ---- process ---------------------------------------------------------
  log(level: LogLevel, text: string): void {
    this.kernel.log(this.proc, level, text);
  }

  /** setrens(0, 0): enter the null namespace; no new scheme can be opened. */
  setNullNamespace(): void {
    this.proc.namespace = new Set();
  }

  /** Starts a thread in this process; it begins when the scheduler reaches it. */
  spawnThread(name: string, main: ProcMain): number {
    return this.kernel.spawnThread(this.proc, name, main, this.now).tid;
  }

  /** The calling thread (whichever thread of this process is running the call). */
  currentThread(): Thread {
    return this.kernel.currentTask(this.ctx);
  }

  /** Thread `tid` of this process, or undefined if it is not one of this process's threads. */
  thread(tid: number): Thread | undefined {
    const t = this.kernel.sched.tasks[tid];
    return t !== undefined && t.pid === this.proc.pid ? t : undefined;
  }

  /** Ends thread `tid` of this process for good (a no-op for another process's thread or a finished one). */
  killThread(tid: number): void {
    const t = this.kernel.sched.tasks[tid];
    if (t !== undefined && t.pid === this.proc.pid) this.kernel.sched.kill(t);
  }

  /**
   * Futex-style wait: blocks the calling thread until another thread calls
   * `unpark` on it, or until `deadline` (absolute ps) if given. Returns true
   * if it was unparked, false if the deadline passed. Charges nothing: the
   * wait queue it stands for lives in the process (linux-kpi's completions,
   * mutexes, worker and timer threads).
   */
  park(deadline?: number): Co<boolean> {
    return afterwards(this.kernel.block(this.ctx, deadline), NOT_TIMED_OUT, null);
  }

  /**
   * Makes a parked thread ready now (at this task's time). Returns false if
   * it was not parked. Charges nothing; safe from interrupt handlers.
   */
  unpark(thread: Thread): boolean {
    const t: Task | undefined = this.kernel.sched.tasks[thread.tid];
    return t !== undefined && this.kernel.wake(t, 0, this.now);
  }

  /** Runs `hook` once when this process ends in any way (exit, crash, kill), in registration order. */
  atExit(hook: () => void): void {
    this.proc.exitHooks.push(() => hook());
  }

  /**
   * Blocks for one request/reply round trip to a service the model does not
   * simulate (two scheme hops), such as a firmware loader.
   */
  *serviceRoundTrip(): Co<void> {
    yield* this.sleep(2 * this.ctx.core.costs.schemeHopPs);
  }

  /** Exits the whole process. Never returns. */
  *exit(code: number): Co<never> {
    this.kernel.exit(this.proc, code);
    yield BLOCK;
    throw new Error('unreachable: resumed after exit');
  }

  // ---- memory: ---------------------------------------------------------
  private memoryScheme(): MemoryScheme {
    const s = this.kernel.schemes.get('memory') as MemoryScheme | undefined;
    if (s === undefined) throw new SyscallError(EINVAL, 'memory: scheme missing');
    return s;
  }

  private checkNamespace(scheme: string): void {
    const ns = this.proc.namespace;
    if (ns !== undefined && !ns.has(scheme)) throw new SyscallError(EACCES, `${scheme}: not in namespace`);
  }

  /** Allocates zeroed, physically contiguous, DMA-able memory. Throws ENOMEM. */
  physalloc(size: number, align = 4096): DmaBuffer {
    this.checkNamespace('memory');
    this.kernel.syscalls++;
    this.ctx.core.advance(this.ctx.core.costs.syscallPs);
    const own = this.proc.ram;
    if (own !== undefined) {
      const b = own.physalloc(size, align);
      if (b === undefined) throw new SyscallError(ENOMEM, `physalloc ${size}`);
      return { phys: b.phys, size: b.size, view: b.view, dv: new DataView(b.view.buffer, b.view.byteOffset, b.view.byteLength) };
    }
    const r = this.memoryScheme().alloc(size, align);
    if (r === undefined) throw new SyscallError(ENOMEM, `physalloc ${size}`);
    const view = this.kernel.mem.ram.subarray(r.phys, r.phys + r.size);
    return { phys: r.phys, size: r.size, view, dv: new DataView(view.buffer, view.byteOffset, view.byteLength) };
  }

  /** Frees DMA memory; `what` names the freeing call in sanitizer reports (e.g. "dma_free_coherent"). */
  physfree(buf: DmaBuffer, what = 'physfree'): void {
    this.kernel.syscalls++;
    const own = this.proc.ram;
    if (own !== undefined) {
      if (!own.physfree(buf.phys, buf.size)) throw new SyscallError(EINVAL, `${what} 0x${buf.phys.toString(16)}: not allocated`);
      return;
    }
    const scheme = this.memoryScheme();
    scheme.release({ phys: buf.phys, size: buf.size },
      scheme.sanitizing ? { what, proc: this.proc.name, pid: this.proc.pid, timePs: this.now } : undefined);
  }

  /** Maps a physical device window uncached. Throws EINVAL if nothing is there. */
  physmap(phys: number, size: number): Mmio {
    this.checkNamespace('memory');
    this.kernel.syscalls++;
    this.ctx.core.advance(this.ctx.core.costs.syscallPs);
    const w = this.kernel.mem.findWindow(phys, size);
    if (w === undefined) throw new SyscallError(EINVAL, `physmap 0x${phys.toString(16)}+0x${size.toString(16)}: no device window there`);
    return new Mmio(phys, size, this.ctx);
  }

  // ---- irq: ------------------------------------------------------------
  private irqScheme(): IrqScheme {
    return this.kernel.schemes.get('irq') as IrqScheme;
  }

  /** Opens an MSI/MSI-X vector; returns the fd and the message to program into the device. */
  *allocMsi(): Co<{ fd: number; address: number; data: number }> {
    const fd = yield* this.openOrThrow('irq:msi');
    const desc = this.proc.fds.get(fd)!;
    const msg = this.irqScheme().msiMessage(desc.handle)!;
    return { fd, address: msg.address, data: msg.data };
  }

  /** Waits for the interrupt on an irq: fd; returns the count since the last wait. */
  waitIrq(fd: number, scratch: Uint8Array): Co<number> {
    return afterwards(this.read(fd, scratch), IRQ_COUNT, scratch);
  }

  /** Acknowledges a legacy interrupt (unmasks the line). */
  ackIrq(fd: number, scratch: Uint8Array): Co<number> {
    return this.write(fd, scratch);
  }

  // ---- event: ----------------------------------------------------------
  private eventScheme(): EventScheme {
    return this.kernel.schemes.get('event') as EventScheme;
  }

  /** Watches `fd` from event queue `efd`; `data` comes back with each event. */
  subscribe(efd: number, fd: number, flags: number, data: number): number {
    this.kernel.syscalls++;
    this.ctx.core.advance(this.ctx.core.costs.syscallPs);
    const q = this.proc.fds.get(efd);
    const target = this.proc.fds.get(fd);
    if (q === undefined || target === undefined || !(q.scheme instanceof EventScheme)) return -EBADF;
    const source = target.scheme.readiness?.(target.handle);
    if (source === undefined) return -EINVAL;
    let ready = false;
    if (target.scheme instanceof IrqScheme) ready = (target.scheme.info(target.handle)?.count ?? 0) > 0;
    else if (target.scheme instanceof RootScheme) ready = (target.scheme.userScheme(target.handle)?.queued ?? 0) > 0;
    return q.scheme.subscribe(q.handle, fd, source, flags, data, ready && (flags & EVENT_READ) !== 0, this.now);
  }

  /** Next event from queue `efd`, or undefined at `deadline`. */
  waitEvent(efd: number, deadline?: number): Co<EventRecord | undefined> {
    if (this.kernel.syscallEntry(this.ctx)) return this.waitEventPreempted(efd, deadline);
    return this.waitEventNow(efd, deadline);
  }

  private waitEventNow(efd: number, deadline: number | undefined): Co<EventRecord | undefined> {
    const q = this.proc.fds.get(efd);
    if (q === undefined || !(q.scheme instanceof EventScheme)) throw new SyscallError(EBADF, 'waitEvent');
    return afterwards(this.eventScheme().next(this.ctx, q.handle, deadline), EVENT_OR_THROW, null);
  }

  private *waitEventPreempted(efd: number, deadline: number | undefined): Co<EventRecord | undefined> {
    yield BLOCK;
    return yield* this.waitEventNow(efd, deadline);
  }

  // ---- root scheme: serving a scheme -------------------------------------
  /** Creates scheme `name` (opens ":name"); the fd receives its requests. */
  *createScheme(name: string): Co<number> {
    return yield* this.openOrThrow(`:${name}`);
  }

  private served(fd: number): UserScheme {
    const d = this.proc.fds.get(fd);
    // The same open file description always serves the same scheme: skip the lookup for the daemon's usual fd.
    if (d !== undefined && d === this.servedDesc) return this.servedScheme!;
    const s = d !== undefined && d.scheme instanceof RootScheme ? d.scheme.userScheme(d.handle) : undefined;
    if (s === undefined) throw new SyscallError(EBADF, `fd ${fd} is not a scheme daemon fd`);
    this.servedDesc = d;
    this.servedScheme = s;
    return s;
  }

  private servedDesc: FileDesc | undefined;
  private servedScheme: UserScheme | undefined;

  /** The next request to a served scheme (blocks), or null if nonBlocking and none is queued. */
  nextRequest(fd: number, nonBlocking = false): Co<Packet | null> {
    if (this.kernel.syscallEntry(this.ctx)) return this.nextRequestPreempted(fd, nonBlocking);
    return this.served(fd).next(this.ctx, nonBlocking);
  }

  private *nextRequestPreempted(fd: number, nonBlocking: boolean): Co<Packet | null> {
    yield BLOCK;
    return yield* this.served(fd).next(this.ctx, nonBlocking);
  }

  /** Replies to a request; the client resumes. */
  reply(fd: number, packet: Packet, result: number): number {
    return this.served(fd).reply(this.ctx, packet, result);
  }

  /** Signals that client handle `handle` of the served scheme is ready for `flags` (Redox's fevent posting). */
  postEvent(fd: number, handle: number, flags: number): number {
    return this.served(fd).post(this.ctx, handle, flags);
  }
}
