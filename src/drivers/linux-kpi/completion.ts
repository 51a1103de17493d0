import type { Task } from '../../sim/scheduler.js';

/**
 * `struct completion`: a counter of `complete()` calls and the tasks
 * waiting for one. `complete` may be called from an interrupt handler.
 */
export interface Completion {
  done: number;
  waiters: Task[];
}

export function newCompletion(): Completion {
  return { done: 0, waiters: [] };
}
