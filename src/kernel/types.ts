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
 * a user scheme's reply arrives later.
 */
export interface Scheme {
  readonly name: string;
  open(ctx: TaskCtx, path: string, flags: number): Co<number>;
  read(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number>;
  write(ctx: TaskCtx, handle: number, buf: Uint8Array, offset: number): Co<number>;
  fsize(ctx: TaskCtx, handle: number): Co<number>;
  close(ctx: TaskCtx, handle: number): Co<number>;
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
