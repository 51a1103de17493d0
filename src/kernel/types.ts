import type { Co, Task } from '../sim/scheduler.js';
import type { Core } from '../sim/cpu.js';
import type { Readiness } from './readiness.js';
import type { Kernel } from './kernel.js';
import type { Process } from './process.js';

/** The calling context of a syscall: which task, on which core, in which process. */
export interface TaskCtx {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly task: Task;
  readonly core: Core;
}

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0x200;
export const O_NONBLOCK = 0x4;

/**
 * A scheme as the kernel sees it. Handles are scheme-local numbers; results
 * are >= 0 on success or a negated errno. Operations are coroutines because
 * a user scheme's reply arrives later: a generator function, or (the kernel's
 * own schemes, on hot paths) a plain function returning `done(result)` or the
 * calling task's blocked frame (co.ts), so that a call allocates nothing.
 */
export interface Scheme {
  readonly name: string;
  open(ctx: TaskCtx, path: string, flags: number): Co<number>;
  read(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number>;
  write(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number>;
  fsize(ctx: TaskCtx, handle: number): Co<number>;
  close(ctx: TaskCtx, handle: number): Co<number>;
  /**
   * A request-reply call on a handle (Redox's SYS_CALL; the DRM scheme's
   * ioctls): `buf` carries the request in and the reply out, `code` says
   * which call. Absent: -ENOTTY.
   */
  call?(ctx: TaskCtx, handle: number, buf: Uint8Array, code: number): Co<number>;
  /**
   * Maps `size` bytes at `offset` of the handle (Redox's fmap): the physical
   * address of RAM the scheme lends the caller, or -errno. Absent: -ENODEV.
   */
  fmap?(ctx: TaskCtx, handle: number, offset: number, size: number): Co<number>;
  /** Readiness for `event:`; undefined if the handle cannot be waited on. */
  readiness?(handle: number): Readiness | undefined;
}

export interface FileDesc {
  scheme: Scheme;
  handle: number;
  path: string;
  /** File offset for read/write without an explicit offset (lseek). */
  offset: number;
  flags: number;
}
