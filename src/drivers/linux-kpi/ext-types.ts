/**
 * The linux-kpi structure types, re-exported from the modules that define
 * them (one per Linux header), for code that imports them from here.
 */
export type { TimerList } from './timer.js';
export type { WorkStruct, DelayedWork, Workqueue } from './workqueue.js';
export type { Spinlock } from './spinlock.js';
export type { Mutex } from './mutex.js';
export type { Firmware } from './firmware.js';
export type { NapiStruct } from './napi.js';
export type { DmaPool, DmaPoolBlock } from './dmapool.js';
