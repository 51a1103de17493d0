import { BLOCK, type Co, type Task } from '../sim/scheduler.js';

/*
 * Syscalls without a generator per call.
 *
 * Callers write `yield* sys.read(fd, buf)`; `yield*` accepts any iterator,
 * so a syscall need not be a generator function. The kernel's hot calls are
 * plain functions that do their work at once and return one of:
 *
 * - `done(value)`: the call completed without blocking. One shared iterator
 *   whose first `next()` reports completion with `value`.
 * - a `Frame`: the call blocked the task (the task is marked blocked and
 *   waits for its wake-up). The frame is the calling task's own, reused from
 *   one blocking call to the next: its first `next()` yields BLOCK, and each
 *   later one (the task resumed) runs the frame's `Resume` step, which either
 *   completes the call or blocks again.
 * - a generator, for the rare paths (a syscall entry that must first give up
 *   the core, operations of schemes written as generator functions).
 *
 * Under `yield*` the three are indistinguishable from the generator the call
 * used to be: the work happens in the same order at the same simulated
 * instant (between the call and `yield*`'s first `next()` nothing runs), and
 * the values are the same. What changes: the work happens when the function
 * is called, not at the first `next()`. So a call's result must be consumed
 * (by `yield*`, or driven with `next()` as the wasm runtime does) before the
 * task makes another call: `done` is shared (kernel code returns `done(v)` as
 * its very last step), and a task cannot block in two calls at once. A
 * blocking call made while the task's previous one was never started is
 * refused with an error (the process crashes, naming the task) rather than
 * giving a wrong result.
 */

/** The result object of every non-final step: a task yields BLOCK. Shared; never mutated. */
const YIELDED: IteratorYieldResult<typeof BLOCK> = Object.freeze({ done: false, value: BLOCK }) as IteratorYieldResult<typeof BLOCK>;

/** The shared iterator of calls that completed at once (see `done`). */
class Done implements Co<unknown> {
  /** The one result object: `yield*` reads `done` and `value` as soon as `next()` returns. */
  readonly result: IteratorReturnResult<unknown> = { done: true, value: undefined };
  next(): IteratorResult<typeof BLOCK, unknown> { return this.result; }
  return(value: unknown): IteratorResult<typeof BLOCK, unknown> { return { done: true, value }; }
  throw(e: unknown): IteratorResult<typeof BLOCK, unknown> { throw e; }
  [Symbol.iterator](): Co<unknown> { return this; }
}

/** The already-completed call. Exported for tests (a non-blocking call returns this very object). */
export const DONE: Co<unknown> = new Done();
const DONE_RESULT = (DONE as Done).result;

/**
 * A call that completed at once with `value`, as a `Co` (no allocation: the
 * iterator is shared, so consume it before making another).
 */
export function done<T>(value: T): Co<T> {
  DONE_RESULT.value = value;
  return DONE as Co<T>;
}

/** What a frame does when its task resumes: complete the call (set `f.value`, return true) or block again (false). */
export interface Resume {
  resume(f: Frame, wake: unknown): boolean;
}

/** A step applied to a call's result when it completes (one level of a wrapping call, such as a file offset update). */
export interface Post {
  apply(arg: unknown, value: unknown): unknown;
}

/**
 * A blocked call of one task: the state its `Resume` step needs (`a`, `b`,
 * `c`, `n`), and the `Post` steps of the calls wrapping it, innermost first.
 * Reused by the task's next blocking call once this one completes.
 */
export class Frame implements Co<unknown> {
  /** Between the blocking call and its completion (or the task's end). */
  busy = false;
  /** The consumer took the first step (the call is blocking now). */
  started = false;
  op: Resume | null = null;
  a: unknown = null;
  b: unknown = null;
  c: unknown = null;
  n = 0;
  /** The call's result, set by `op` when it completes. */
  value: unknown = undefined;
  private readonly posts: Post[] = [];
  private readonly postArgs: unknown[] = [];
  private depth = 0;
  private readonly result: IteratorReturnResult<unknown> = { done: true, value: undefined };

  constructor(readonly task: Task) {}

  /** Starts a blocking call (the caller has marked the task blocked). */
  begin(op: Resume, a: unknown, b: unknown, n: number, c: unknown = null): this {
    this.busy = true;
    this.started = false;
    this.op = op;
    this.a = a;
    this.b = b;
    this.c = c;
    this.n = n;
    this.depth = 0;
    return this;
  }

  /** Adds the step of a wrapping call, applied after the ones already there. */
  addPost(post: Post, arg: unknown): this {
    this.posts[this.depth] = post;
    this.postArgs[this.depth] = arg;
    this.depth++;
    return this;
  }

  next(wake?: unknown): IteratorResult<typeof BLOCK, unknown> {
    if (!this.started) {
      this.started = true;
      return YIELDED;
    }
    if (!this.op!.resume(this, wake)) return YIELDED;
    let v = this.value;
    const depth = this.depth;
    this.reset();
    // A step may throw (Sys.waitEvent's SyscallError): the frame is already free, as a generator would be done.
    for (let i = 0; i < depth; i++) {
      const arg = this.postArgs[i];
      this.postArgs[i] = null;
      v = this.posts[i]!.apply(arg, v);
    }
    this.result.value = v;
    return this.result;
  }

  /** The task ended while blocked here (its coroutine was closed): the frame is free again. */
  return(value: unknown): IteratorResult<typeof BLOCK, unknown> {
    this.reset();
    this.postArgs.fill(null);
    return { done: true, value };
  }

  throw(e: unknown): IteratorResult<typeof BLOCK, unknown> {
    this.reset();
    this.postArgs.fill(null);
    throw e;
  }

  [Symbol.iterator](): Co<unknown> { return this; }

  private reset(): void {
    this.busy = false;
    this.op = null;
    this.a = null;
    this.b = null;
    this.c = null;
    this.value = undefined;
    this.depth = 0;
  }
}

/**
 * Applies `post` (with `arg`) to the result of `co`: at once if it completed,
 * when it completes otherwise. (Not named `then`: a module or object with a
 * `then` function is a thenable, and awaiting a dynamic import of it hangs.)
 */
export function afterwards<T>(co: Co<unknown>, post: Post, arg: unknown): Co<T> {
  if (co === DONE) return done(post.apply(arg, DONE_RESULT.value) as T);
  if (co instanceof Frame) return co.addPost(post, arg) as Co<T>;
  return thenGen(co, post, arg) as Co<T>;
}

function* thenGen(co: Co<unknown>, post: Post, arg: unknown): Co<unknown> {
  return post.apply(arg, yield* co);
}

/**
 * Per-task frames of one kernel: one per task, reused by each of its
 * blocking calls.
 */
export class Frames {
  private readonly byTid: (Frame | undefined)[] = [];
  /** Frames made (one per task in the common case); tests watch it. */
  made = 0;

  of(task: Task): Frame {
    let f = this.byTid[task.tid];
    if (f !== undefined && f.busy && !f.started) {
      throw new Error(`simrun: task ${task.name} made a blocking call while the result of its previous one was never consumed (write \`yield*\` on every syscall)`);
    }
    // A frame left busy after it started belongs to a consumer that is gone without closing it: start afresh.
    if (f === undefined || f.busy) {
      f = new Frame(task);
      this.byTid[task.tid] = f;
      this.made++;
    }
    return f;
  }
}
