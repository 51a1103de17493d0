import type { Core } from '../sim/cpu.js';
import type { EventQueue } from '../sim/event-queue.js';
import type { IrqFabric } from '../sim/irq.js';
import type { PhysMem } from '../sim/memory.js';
import { BLOCK, Scheduler, type Co, type Task } from '../sim/scheduler.js';
import type { LogLevel, Tracer } from '../sim/tracer.js';
import { EACCES, EBADF, EFAULT, EINVAL, ENODEV, ENOENT, ENOTTY, ESPIPE } from './errno.js';
import { Process, type ProcState } from './process.js';
import type { FileDesc, Scheme, TaskCtx } from './types.js';
import { Sys } from './sys.js';
import { after, ps } from '../sim/time.js';
import { afterwards, done, Frames, type Frame, type Post, type Resume } from './co.js';

const SYS_READ = 0;
const SYS_WRITE = 1;
const SYS_FSIZE = 2;
const SYS_CALL = 3;
const SYS_CLOSE = 4;

/** Read/write at the file offset: the offset advances by what was transferred. */
const ADVANCE_OFFSET: Post = {
  apply(desc, n) {
    if ((n as number) > 0) (desc as FileDesc).offset += n as number;
    return n;
  },
};

/** A plain wait: the result is the wake value. */
const WAKE_VALUE: Resume = {
  resume(f: Frame, wake: unknown): boolean {
    f.value = wake;
    return true;
  },
};

export type ProcMain = (sys: Sys) => Co<number | void>;

export interface LogLine {
  time: number;
  pid: number;
  proc: string;
  level: LogLevel;
  text: string;
}

/** Handler of an interrupt vector on a core (registered by the irq: scheme). */
export type VectorHandler = (time: number) => void;

export interface KernelOptions {
  queue: EventQueue;
  mem: PhysMem;
  irq: IrqFabric;
  cores: Core[];
  tracer: Tracer;
  quantumPs: number;
  /** Keep at most this many log lines in memory (all are traced). */
  logLimit?: number;
}

/** A crash as `Kernel.crashObservers` see it. */
export interface CrashInfo {
  kernel: Kernel;
  pid: number;
  process: string;
  /** The task that threw, when the crash came from one. */
  task: string | undefined;
  error: unknown;
}

/**
 * The model of the Redox kernel's driver interface: processes and tasks,
 * file descriptors, namespaces, the scheme registry (kernel schemes and user
 * schemes created through the root scheme), interrupt entry, and process
 * death. A driver that throws is a crashed process: recorded, its devices
 * quiesced through `onCrash` hooks, and the machine runs on.
 */
export class Kernel {
  readonly queue: EventQueue;
  readonly mem: PhysMem;
  readonly irq: IrqFabric;
  readonly cores: Core[];
  readonly tracer: Tracer;
  readonly sched: Scheduler;
  readonly processes: Process[] = [];
  readonly schemes = new Map<string, Scheme>();
  readonly logs: LogLine[] = [];
  readonly logCounts: Record<LogLevel, number> = { error: 0, warn: 0, info: 0, debug: 0 };
  readonly crashes: { pid: number; name: string; reason: string }[] = [];
  /** Extra observers of log lines (CLI verbose output). */
  onLog: ((line: LogLine) => void) | undefined;
  /** Called when a process crashes, after its tasks are gone (device quiesce). */
  onCrash: ((proc: Process) => void)[] = [];
  /**
   * Observers of every kernel's crashes, called last in `crash` with the
   * original error (which `crashes` keeps only as a message). Test harnesses
   * use it to fail a test whose simulated task threw; nothing in src/ does.
   */
  static readonly crashObservers = new Set<(crash: CrashInfo) => void>();
  private readonly vectors = new Map<number, VectorHandler>();
  private readonly logLimit: number;
  private nextPid = 1;
  syscalls = 0;
  interrupts = 0;

  constructor(opts: KernelOptions) {
    this.queue = opts.queue;
    this.mem = opts.mem;
    this.irq = opts.irq;
    this.cores = opts.cores;
    this.tracer = opts.tracer;
    this.logLimit = opts.logLimit ?? 100_000;
    this.sched = new Scheduler(opts.queue, opts.cores, opts.quantumPs);
    this.irq.cores = opts.cores.length;
    this.irq.setSink((core, vector) => this.interrupt(core, vector));
  }

  registerScheme(scheme: Scheme): void {
    if (this.schemes.has(scheme.name)) throw new Error(`scheme ${scheme.name} already exists`);
    this.schemes.set(scheme.name, scheme);
  }

  unregisterScheme(name: string): void {
    this.schemes.delete(name);
  }

  // ---- processes -------------------------------------------------------

  /** Starts a process whose main task runs `main`. Cores are assigned round-robin unless given. */
  spawn(name: string, main: ProcMain, opts: { core?: number; at?: number } = {}): Process {
    const pid = this.nextPid++;
    const core = (opts.core ?? (pid - 1)) % this.cores.length;
    const proc = new Process(pid, name, core);
    this.processes.push(proc);
    this.tracer.proc(this.queue.now, pid, 'spawn', name, `core ${core}`);
    this.startTask(proc, name, main, opts.at ?? this.queue.now, true);
    return proc;
  }

  /** Starts another task (thread) in `proc`. */
  spawnThread(proc: Process, name: string, main: ProcMain, at: number, core = proc.core): Task {
    return this.startTask(proc, name, main, at, false, core);
  }

  private startTask(proc: Process, name: string, main: ProcMain, at: number, isMain: boolean, core = proc.core): Task {
    // `sys` must name its own task, so it is made right after the task; the
    // scheduler calls `main` (through `start`) only when the task first runs.
    // Not wrapping main's generator in another one keeps a delegation level
    // off every resume of the task.
    let sys: Sys | undefined;
    const task = this.sched.spawn(name, proc.pid, core, () => main(sys!), at, (t, err) => {
      if (err !== undefined) this.crash(proc, err, t);
      else if (isMain && proc.alive) this.exit(proc, 0);
    });
    const ctx: TaskCtx = { kernel: this, proc, task, core: this.cores[core]! };
    sys = new Sys(ctx);
    proc.tasks.push(task);
    return task;
  }

  findProcess(pid: number): Process | undefined {
    return this.processes[pid - 1];
  }

  /** Normal exit: the process's tasks stop, its fds close. */
  exit(proc: Process, code: number): void {
    if (!proc.alive) return;
    proc.state = 'exited';
    proc.exitCode = code;
    this.tracer.proc(this.queue.now, proc.pid, 'exit', proc.name, `code ${code}`);
    this.teardown(proc, 'exited');
  }

  /** A task threw: the whole process is a crashed process. */
  crash(proc: Process, err: unknown, task?: Task): void {
    if (!proc.alive) return;
    const reason = err instanceof Error ? err.message : String(err);
    proc.state = 'crashed';
    proc.crashReason = reason;
    this.crashes.push({ pid: proc.pid, name: proc.name, reason });
    const where = task !== undefined ? ` (task ${task.name})` : '';
    this.log(proc, 'error', `crashed${where}: ${reason}`);
    this.tracer.proc(this.queue.now, proc.pid, 'crash', proc.name, reason);
    this.teardown(proc, 'crashed');
    for (const hook of this.onCrash) hook(proc);
    for (const observe of Kernel.crashObservers) observe({ kernel: this, pid: proc.pid, process: proc.name, task: task?.name, error: err });
  }

  kill(proc: Process): void {
    if (!proc.alive) return;
    proc.state = 'killed';
    this.tracer.proc(this.queue.now, proc.pid, 'kill', proc.name, '');
    this.teardown(proc, 'killed');
  }

  private teardown(proc: Process, reason: ProcState): void {
    for (const t of proc.tasks) this.sched.kill(t);
    for (const hook of proc.exitHooks) {
      try { hook(reason); } catch (err) {
        this.log(proc, 'error', `exit hook failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    // Closing is synchronous bookkeeping here: kernel schemes' close never blocks,
    // and user-scheme close after death only drops the handle.
    for (const [fd, desc] of proc.fds) {
      proc.fds.delete(fd);
      this.closeDetached(proc, desc);
    }
  }

  private closeDetached(proc: Process, desc: FileDesc): void {
    const task = proc.tasks[0];
    if (task === undefined) return;
    const ctx: TaskCtx = { kernel: this, proc, task, core: this.cores[proc.core]! };
    // Drive it; a close that would block is abandoned (the owner is dead).
    try {
      const co = desc.scheme.close(ctx, desc.handle);
      if (co.next().done !== true) co.return(0);
    } catch { /* ignore */ }
  }

  // ---- logging ---------------------------------------------------------

  log(proc: Process, level: LogLevel, text: string): void {
    const line: LogLine = { time: this.queue.now, pid: proc.pid, proc: proc.name, level, text };
    this.logCounts[level]++;
    if (this.logs.length < this.logLimit) this.logs.push(line);
    this.tracer.log(this.queue.now, proc.pid, level, text);
    this.onLog?.(line);
  }

  // ---- interrupts ------------------------------------------------------

  registerVector(core: number, vector: number, handler: VectorHandler): void {
    this.vectors.set(core * 256 + vector, handler);
  }

  unregisterVector(core: number, vector: number): void {
    this.vectors.delete(core * 256 + vector);
  }

  isVectorFree(core: number, vector: number): boolean {
    return !this.vectors.has(core * 256 + vector);
  }

  /** Interrupt entry on `core`: the handler runs after the entry cost. */
  private interrupt(core: number, vector: number): void {
    this.interrupts++;
    const h = this.vectors.get(core * 256 + vector);
    const c = this.cores[core]!;
    const t = this.queue.now + c.costs.interruptEntryPs;
    if (h !== undefined) h(t);
  }

  // ---- file syscalls ---------------------------------------------------

  *open(ctx: TaskCtx, path: string, flags: number): Co<number> {
    if (this.syscallEntry(ctx)) yield BLOCK;
    const colon = path.indexOf(':');
    const schemeName = colon < 0 ? '' : path.slice(0, colon);
    const rest = colon < 0 ? path : path.slice(colon + 1);
    const ns = ctx.proc.namespace;
    // The root scheme (":name") creates schemes; it is reachable outside the null namespace only.
    const visible = ns === undefined || ns.has(schemeName);
    if (!visible) return -EACCES;
    const scheme = this.schemes.get(schemeName);
    if (scheme === undefined) return -ENOENT;
    const handle = yield* scheme.open(ctx, rest, flags);
    if (handle < 0) return handle;
    return ctx.proc.allocFd({ scheme, handle, path, offset: 0, flags });
  }

  // read, write, fsize, call and close are plain functions returning the
  // scheme's own call (co.ts): no generator per call unless the syscall entry
  // must first give up the core.

  read(ctx: TaskCtx, fd: number, buf: Uint8Array, offset?: number): Co<number> {
    if (this.syscallEntry(ctx)) return this.preempted(SYS_READ, ctx, fd, buf, offset ?? -1);
    return this.readNow(ctx, fd, buf, offset ?? -1);
  }

  write(ctx: TaskCtx, fd: number, buf: Uint8Array, offset?: number): Co<number> {
    if (this.syscallEntry(ctx)) return this.preempted(SYS_WRITE, ctx, fd, buf, offset ?? -1);
    return this.writeNow(ctx, fd, buf, offset ?? -1);
  }

  fsize(ctx: TaskCtx, fd: number): Co<number> {
    if (this.syscallEntry(ctx)) return this.preempted(SYS_FSIZE, ctx, fd, null, 0);
    return this.fsizeNow(ctx, fd);
  }

  call(ctx: TaskCtx, fd: number, buf: Uint8Array, code: number): Co<number> {
    if (this.syscallEntry(ctx)) return this.preempted(SYS_CALL, ctx, fd, buf, code);
    return this.callNow(ctx, fd, buf, code);
  }

  /** `offset` < 0: at the file offset, which then advances by what was read. */
  private readNow(ctx: TaskCtx, fd: number, buf: Uint8Array, offset: number): Co<number> {
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return done(-EBADF);
    if (offset >= 0) return desc.scheme.read(ctx, desc.handle, buf, offset);
    return afterwards(desc.scheme.read(ctx, desc.handle, buf, desc.offset), ADVANCE_OFFSET, desc);
  }

  private writeNow(ctx: TaskCtx, fd: number, buf: Uint8Array, offset: number): Co<number> {
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return done(-EBADF);
    if (offset >= 0) return desc.scheme.write(ctx, desc.handle, buf, offset);
    return afterwards(desc.scheme.write(ctx, desc.handle, buf, desc.offset), ADVANCE_OFFSET, desc);
  }

  private fsizeNow(ctx: TaskCtx, fd: number): Co<number> {
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return done(-EBADF);
    return desc.scheme.fsize(ctx, desc.handle);
  }

  private callNow(ctx: TaskCtx, fd: number, buf: Uint8Array, code: number): Co<number> {
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return done(-EBADF);
    if (desc.scheme.call === undefined) return done(-ENOTTY);
    return desc.scheme.call(ctx, desc.handle, buf, code);
  }

  private closeNow(ctx: TaskCtx, fd: number): Co<number> {
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return done(-EBADF);
    ctx.proc.fds.delete(fd);
    return desc.scheme.close(ctx, desc.handle);
  }

  /** A syscall whose entry gave up the core: the call proper runs when the task is back. */
  private *preempted(which: number, ctx: TaskCtx, fd: number, buf: Uint8Array | null, arg: number): Co<number> {
    yield BLOCK;
    switch (which) {
      case SYS_READ: return yield* this.readNow(ctx, fd, buf!, arg);
      case SYS_WRITE: return yield* this.writeNow(ctx, fd, buf!, arg);
      case SYS_FSIZE: return yield* this.fsizeNow(ctx, fd);
      case SYS_CALL: return yield* this.callNow(ctx, fd, buf!, arg);
      default: return yield* this.closeNow(ctx, fd);
    }
  }

  /**
   * Maps `size` bytes at `offset` of `fd` into the caller (Redox fmap): the
   * scheme names RAM it lends (its physical address). A reply that is not
   * `size` bytes of RAM is EFAULT. Returns the physical address.
   */
  *fmap(ctx: TaskCtx, fd: number, offset: number, size: number): Co<number> {
    if (this.syscallEntry(ctx)) yield BLOCK;
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return -EBADF;
    if (desc.scheme.fmap === undefined) return -ENODEV;
    if (size <= 0) return -EINVAL;
    const phys = yield* desc.scheme.fmap(ctx, desc.handle, offset, size);
    if (phys < 0) return phys;
    if (this.mem.resolve(phys, size) === null) return -EFAULT;
    if (phys + size <= this.mem.ramBytes) this.mem.touch(phys, size);
    return phys;
  }

  *lseek(ctx: TaskCtx, fd: number, pos: number, whence: 0 | 1 | 2): Co<number> {
    if (this.syscallEntry(ctx)) yield BLOCK;
    const desc = ctx.proc.fds.get(fd);
    if (desc === undefined) return -EBADF;
    let base = 0;
    if (whence === 1) base = desc.offset;
    else if (whence === 2) {
      const size = yield* desc.scheme.fsize(ctx, desc.handle);
      if (size < 0) return -ESPIPE;
      base = size;
    }
    if (base + pos < 0) return -ESPIPE;
    desc.offset = base + pos;
    return desc.offset;
  }

  close(ctx: TaskCtx, fd: number): Co<number> {
    if (this.syscallEntry(ctx)) return this.preempted(SYS_CLOSE, ctx, fd, null, 0);
    return this.closeNow(ctx, fd);
  }

  /**
   * The task making a call. Normally ctx.task; a Sys shared between threads
   * of a process (all on the process's core) resolves to whichever is running.
   */
  currentTask(ctx: TaskCtx): Task {
    const cur = this.sched.current;
    return cur !== undefined && cur.pid === ctx.proc.pid ? cur : ctx.task;
  }

  /** Kernel entry: syscall cost, then the tick may preempt. */
  *enter(ctx: TaskCtx): Co<void> {
    if (this.syscallEntry(ctx)) yield BLOCK;
  }

  /**
   * Kernel entry without the coroutine: charges the syscall and returns true
   * if the caller must `yield BLOCK` (the tick expired and another task is
   * ready). Syscalls use this inline so the common case creates no generator.
   */
  syscallEntry(ctx: TaskCtx): boolean {
    this.syscalls++;
    const core = ctx.core;
    core.time = after(core.time, ps(core.costs.syscallPs));
    return this.sched.shouldPreempt(this.currentTask(ctx));
  }

  /**
   * Blocks the calling task until woken or `deadline`; the result is the
   * wake value (TIMED_OUT at the deadline). Uses the task's frame (co.ts).
   */
  block(ctx: TaskCtx, deadline?: number): Co<unknown> {
    const task = this.currentTask(ctx);
    this.sched.prepareBlock(task, deadline);
    return this.frames.of(task).begin(WAKE_VALUE, null, null, 0);
  }

  /** Per-task frames of blocking calls (co.ts). */
  readonly frames = new Frames();

  /** Wakes a task at `time` (no-op if it is not blocked). */
  wake(task: Task, value: unknown, time: number): boolean {
    return this.sched.wake(task, value, time);
  }
}
