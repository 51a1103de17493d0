/**
 * Fails a test when a simulated task crashes, unless the test declared that
 * it expects the crash.
 *
 * The kernel model turns an exception in a task (a driver bug, or a failed
 * `expect` inside a `function*` a test spawned) into a crashed process and the
 * machine runs on; without this guard such a test passes unless it happens to
 * look at `kernel.crashes`. Importing this module (every harness that builds a
 * Kernel or a Machine does) registers a `Kernel.crashObservers` entry and
 * vitest hooks for the importing test file: the first unexpected crash is
 * re-thrown after the test (or before the next one, for a crash in a
 * `beforeAll`), naming the process and task, with the original error as its
 * cause, its stack frames, and the actual/expected values of a failed `expect`.
 *
 * Declaring expected crashes:
 * - `expectCrash(match?)` inside a test: crashes matching `match` are
 *   expected, and the test fails if none happened;
 * - `withCrashes(fn, match?)` anywhere (also `beforeAll`): crashes matching
 *   `match` during `fn` are expected and returned; at least one is required
 *   unless `{ required: false }`;
 * - `allowCrashes(kernel)` (the kernel harness's `allowCrashes` option): every
 *   crash of that kernel is the test's business (it checks `kernel.crashes`).
 *
 * A `match` is a string (contained in `process "p" (task "t"): message`), a
 * RegExp tested against that text, or a predicate.
 */
import { afterAll, afterEach, beforeEach } from 'vitest';
import { Kernel, type CrashInfo } from '../../src/kernel/kernel.js';

export type { CrashInfo };
export type CrashMatch = string | RegExp | ((crash: CrashInfo) => boolean);

interface Allowance {
  match: CrashMatch | undefined;
  required: boolean;
  seen: CrashInfo[];
}

const pending: CrashInfo[] = [];
const allowedKernels = new WeakSet<Kernel>();
/** `withCrashes` scopes, innermost last. */
const scopes: Allowance[] = [];
/** `expectCrash` declarations of the running test. */
let testAllowances: Allowance[] = [];

/** How a crash reads in messages and what a string or RegExp match is tested against. */
export function describeCrash(c: CrashInfo): string {
  const task = c.task !== undefined && c.task !== c.process ? ` (task "${c.task}")` : '';
  return `process "${c.process}"${task}: ${messageOf(c.error)}`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function matches(m: CrashMatch | undefined, c: CrashInfo): boolean {
  if (m === undefined) return true;
  if (typeof m === 'function') return m(c);
  const text = describeCrash(c);
  return typeof m === 'string' ? text.includes(m) : m.test(text);
}

function observe(c: CrashInfo): void {
  if (allowedKernels.has(c.kernel)) return;
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (matches(scopes[i]!.match, c)) { scopes[i]!.seen.push(c); return; }
  }
  for (const a of testAllowances) {
    if (matches(a.match, c)) { a.seen.push(c); return; }
  }
  pending.push(c);
}

Kernel.crashObservers.add(observe);

/** The error a crash fails a test with: names the process and task, keeps the original's stack, cause and expect values. */
export function crashError(c: CrashInfo, others: CrashInfo[] = [], when = ''): Error {
  const more = others.length === 0 ? '' : `\n(and ${others.length} more unexpected crash${others.length > 1 ? 'es' : ''}: ${others.map(describeCrash).join('; ')})`;
  const message = `simulated ${describeCrash(c)}${more}${when === '' ? '' : `\n[${when}]`}`;
  const err = new Error(message, { cause: c.error });
  err.name = 'SimulatedTaskCrash';
  const orig = c.error;
  if (orig instanceof Error) {
    const stack = orig.stack ?? '';
    const frame = stack.search(/\n\s+at /);
    if (frame >= 0) err.stack = `${err.name}: ${message}${stack.slice(frame)}`;
    // A failed expect: let vitest show its diff.
    const o = orig as Error & { actual?: unknown; expected?: unknown; showDiff?: boolean };
    if ('actual' in o || 'expected' in o) Object.assign(err, { actual: o.actual, expected: o.expected, showDiff: o.showDiff ?? true });
  }
  return err;
}

/** Throws for the first crash not declared as expected since the last check (and forgets them). */
export function checkCrashes(when = ''): void {
  if (pending.length === 0) return;
  const [first, ...rest] = pending.splice(0);
  throw crashError(first!, rest, when);
}

/** Inside a test: a crash matching `match` is expected (the test fails if none happens by its end). */
export function expectCrash(match?: CrashMatch): void {
  testAllowances.push({ match, required: true, seen: [] });
}

/**
 * Runs `fn` (synchronously); crashes matching `match` during it are expected
 * and returned. Throws if none happened, unless `required` is false.
 */
export function withCrashes<T>(fn: () => T, match?: CrashMatch, opts: { required?: boolean } = {}): { value: T; crashes: CrashInfo[] } {
  const scope: Allowance = { match, required: opts.required ?? true, seen: [] };
  scopes.push(scope);
  let value: T;
  try {
    value = fn();
  } finally {
    scopes.splice(scopes.lastIndexOf(scope), 1);
  }
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
    throw new Error('withCrashes takes a synchronous function');
  }
  if (scope.required && scope.seen.length === 0) {
    throw new Error(`expected a simulated crash${match === undefined ? '' : ` matching ${String(match)}`} during this run; none happened`);
  }
  return { value, crashes: scope.seen };
}

/** Every crash of `kernel` is left to the test (which checks `kernel.crashes` itself). */
export function allowCrashes(kernel: Kernel): void {
  allowedKernels.add(kernel);
}

beforeEach(() => {
  testAllowances = [];
  checkCrashes('crashed before this test started: in a beforeAll or a describe body');
});

afterEach(() => {
  const declared = testAllowances;
  testAllowances = [];
  checkCrashes();
  const unmet = declared.find((a) => a.required && a.seen.length === 0);
  if (unmet !== undefined) {
    throw new Error(`the test expected a simulated crash${unmet.match === undefined ? '' : ` matching ${String(unmet.match)}`}; none happened`);
  }
});

afterAll(() => {
  checkCrashes('crashed after the last test: in an afterAll hook');
});
