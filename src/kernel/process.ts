import type { Task } from '../sim/scheduler.js';
import type { FileDesc } from './types.js';

/**
 * A process whose memory is not main RAM (a compiled driver's linear
 * memory, mapped as a RAM region): its physalloc and physfree land here.
 */
export interface ProcessRam {
  physalloc(size: number, align: number): { phys: number; size: number; view: Uint8Array } | undefined;
  /** False if [phys, phys+size) is not a live allocation. */
  physfree(phys: number, size: number): boolean;
}

export type ProcState = 'running' | 'exited' | 'crashed' | 'killed';

/**
 * A process: tasks (threads) sharing file descriptors and a namespace. The
 * namespace is the set of scheme names `open` may reach; the null namespace
 * (after `setrens(0, 0)` in Redox) is the empty set.
 */
export class Process {
  readonly fds = new Map<number, FileDesc>();
  readonly tasks: Task[] = [];
  state: ProcState = 'running';
  exitCode = 0;
  crashReason = '';
  private nextFd = 0;
  /** Scheme names this process may open; undefined = every registered scheme. */
  namespace: Set<string> | undefined = undefined;
  /** Devices (trace indices) this process drives; quiesced if it crashes. */
  readonly devices: number[] = [];
  /** Callbacks run when the process ends in any way (linux-kpi leak report, IRQ release). */
  readonly exitHooks: ((reason: ProcState) => void)[] = [];
  /** Set for a compiled driver: DMA memory comes from its own memory region. */
  ram: ProcessRam | undefined = undefined;

  constructor(readonly pid: number, readonly name: string, readonly core: number) {}

  get alive(): boolean {
    return this.state === 'running';
  }

  allocFd(desc: FileDesc): number {
    while (this.fds.has(this.nextFd)) this.nextFd++;
    const fd = this.nextFd++;
    this.fds.set(fd, desc);
    return fd;
  }

  inNullNamespace(): boolean {
    return this.namespace !== undefined && this.namespace.size === 0;
  }
}
