/**
 * Simulated time. Everything is an integer count of picoseconds held in a JS
 * number: exact up to 2^53 ps (about 2.5 hours of simulated time).
 *
 * `SimTime` is a point on the timeline, `Duration` a distance between points;
 * they are distinct brands so a duration cannot be passed where an instant is
 * expected. Clock domains have an integer period in ps; a cycle count converts
 * to a duration by multiplication, which is exact. The only rounding rule is
 * frequency -> period: `periodFromHz` rounds 1e12/hz to the nearest ps (ties
 * away from zero), and every conversion after that is exact.
 */
export type SimTime = number & { readonly __brand: 'SimTime' };
export type Duration = number & { readonly __brand: 'Duration' };

export const ZERO_TIME = 0 as SimTime;
export const MAX_TIME = Number.MAX_SAFE_INTEGER as SimTime;

export const ps = (n: number): Duration => n as Duration;
export const ns = (n: number): Duration => Math.round(n * 1_000) as Duration;
export const us = (n: number): Duration => Math.round(n * 1_000_000) as Duration;
export const ms = (n: number): Duration => Math.round(n * 1_000_000_000) as Duration;
export const sec = (n: number): Duration => Math.round(n * 1_000_000_000_000) as Duration;

export const at = (n: number): SimTime => n as SimTime;
export const after = (t: SimTime, d: Duration): SimTime => (t + d) as SimTime;
export const between = (from: SimTime, to: SimTime): Duration => (to - from) as Duration;

/** Period in ps of a clock of `hz` hertz (the one rounding rule, see above). */
export function periodFromHz(hz: number): number {
  if (!(hz > 0)) throw new RangeError(`clock frequency must be positive, got ${hz}`);
  return Math.round(1e12 / hz);
}

/** Duration of `cycles` cycles of a clock with period `periodPs` (exact). */
export const cycles = (count: number, periodPs: number): Duration => (count * periodPs) as Duration;

/** Human-readable rendering: picks ns/us/ms/s so the figure stays short. */
export function formatTime(t: number): string {
  if (t < 1_000) return `${t} ps`;
  if (t < 1_000_000) return `${(t / 1_000).toFixed(3)} ns`;
  if (t < 1_000_000_000) return `${(t / 1_000_000).toFixed(3)} us`;
  if (t < 1_000_000_000_000) return `${(t / 1_000_000_000).toFixed(3)} ms`;
  return `${(t / 1_000_000_000_000).toFixed(6)} s`;
}

/** Parses "150us", "2ms", "1.5s", "300ns", "42ps" or a bare ps count. */
export function parseDuration(text: string): Duration | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ps|ns|us|µs|ms|s)?\s*$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  switch (m[2]) {
    case undefined:
    case 'ps': return Math.round(v) as Duration;
    case 'ns': return ns(v);
    case 'us':
    case 'µs': return us(v);
    case 'ms': return ms(v);
    case 's': return sec(v);
    default: return undefined;
  }
}
