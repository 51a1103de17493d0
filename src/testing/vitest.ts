/**
 * vitest matchers for driver tests (`import 'simrun/vitest'` in a test or a
 * setup file):
 *
 *   const run = runScenario('my-driver.json', { recordToBuffer: true });
 *   expect(run).toMatchTrace('traces/my-driver.simtrace', { timing: 'ignore' });
 *   expect(run).toHaveNoGuestErrors();
 */
import { expect } from 'vitest';
import { matchTrace, noGuestErrors, type MatchTraceOptions, type TraceLike } from './matchers.js';
import type { TraceSource } from '../trace/reader.js';

export { matchTrace, noGuestErrors, type MatchTraceOptions } from './matchers.js';

interface SimrunMatchers<R = unknown> {
  /** Same behaviour as the golden trace (TIMING-ONLY passes unless `timing: 'exact'`). */
  toMatchTrace(golden: TraceSource, opts?: MatchTraceOptions): R;
  /** The run recorded no guest error. */
  toHaveNoGuestErrors(): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Assertion<T = any> extends SimrunMatchers<T> {}
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface AsymmetricMatchersContaining extends SimrunMatchers {}
}

expect.extend({
  toMatchTrace(received: TraceLike, golden: TraceSource, opts?: MatchTraceOptions) {
    const r = matchTrace(received, golden, opts);
    return { pass: r.pass, message: r.message };
  },
  toHaveNoGuestErrors(received: TraceLike) {
    return noGuestErrors(received);
  },
});
