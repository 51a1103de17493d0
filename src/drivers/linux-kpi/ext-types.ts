import type { Co, Task } from '../../sim/scheduler.js';
import type { DmaBuffer, Sys } from '../../kernel/sys.js';

/** `struct timer_list`. Callbacks run in the driver's timer thread and must not block. */
export interface TimerList {
  /** Expiry in jiffies (valid while pending). */
  expires: number;
  pending: boolean;
  /** Arming order: timers with equal expiry fire in the order they were armed. */
  seq: number;
  readonly fn: (t: TimerList) => void;
}

/** `struct work_struct`: a coroutine run by a workqueue's worker thread (may sleep). */
export interface WorkStruct {
  readonly fn: (sys: Sys) => Co<void>;
  pending: boolean;
  running: boolean;
  /** Bumped on each successful queue_work. */
  queuedGen: number;
  /** queuedGen when the current/last run started. */
  runGen: number;
  /** runGen of the last finished run. */
  doneGen: number;
  wq: Workqueue | undefined;
  flushers: { task: Task; gen: number }[];
}

export interface DelayedWork {
  readonly work: WorkStruct;
  readonly timer: TimerList;
  wq: Workqueue | undefined;
}

/** `struct workqueue_struct`: one worker thread, FIFO. */
export interface Workqueue {
  readonly name: string;
  readonly items: WorkStruct[];
  task: Task | undefined;
  idle: boolean;
  destroyed: boolean;
  processed: number;
}

export interface Spinlock {
  readonly name: string;
  owner: Task | undefined;
  /** Owner's waitSeq when it took the lock: a change means it slept inside. */
  waitSeq: number;
  sleepReported: boolean;
}

export interface Mutex {
  readonly name: string;
  owner: Task | undefined;
  readonly waiters: Task[];
}

/** `struct firmware`. */
export interface Firmware {
  readonly name: string;
  readonly data: Uint8Array;
  readonly size: number;
}

/** `struct napi_struct`. poll runs in the driver's softirq thread, must not block, returns work done. */
export interface NapiStruct {
  readonly poll: (napi: NapiStruct, budget: number) => number;
  readonly weight: number;
  enabled: boolean;
  scheduled: boolean;
  polls: number;
}

export interface DmaPoolBlock {
  readonly cpu: Uint8Array;
  readonly dv: DataView;
  readonly dma: number;
}

export interface DmaPool {
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly blockSize: number;
  readonly pageSize: number;
  readonly pages: DmaBuffer[];
  readonly free: DmaPoolBlock[];
  readonly live: Map<number, DmaPoolBlock>;
  destroyed: boolean;
}
