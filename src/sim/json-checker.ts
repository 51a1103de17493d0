import { InputError } from './errors.js';
import { parseDuration } from './time.js';

export type JsonObject = Record<string, unknown>;

/** Longest rendering of a value in an error message. */
export const SHOW_MAX = 80;
/** Nesting shown in an error message; deeper arrays and objects are elided. */
const SHOW_DEPTH = 3;

/**
 * A value for an error message: a bounded excerpt of its JSON (at most
 * `max` characters, nesting beyond three levels elided as […] / {…}), or
 * "nothing" when absent. Never walks more of the value than it shows, so a
 * deeply nested or huge input cannot overflow the stack or flood the output.
 */
export function show(v: unknown, max = SHOW_MAX): string {
  if (v === undefined) return 'nothing';
  const s = render(v, SHOW_DEPTH, max + 1);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** A field name or key for an error message (bounded like `show`). */
export function showKey(k: string, max = SHOW_MAX): string {
  return k.length > max ? `${k.slice(0, max - 1)}…` : k;
}

function render(v: unknown, depth: number, budget: number): string {
  if (typeof v === 'string') return JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return JSON.stringify(v);
  if (typeof v !== 'object') return String(v).slice(0, budget);
  const isArray = Array.isArray(v);
  const [open, close] = isArray ? ['[', ']'] : ['{', '}'];
  const entries: [string | undefined, unknown][] = [];
  if (isArray) {
    for (let i = 0; i < v.length && i < budget; i++) entries.push([undefined, v[i]]);
  } else {
    for (const k in v as Record<string, unknown>) {
      if (entries.length >= budget) break;
      entries.push([k, (v as Record<string, unknown>)[k]]);
    }
  }
  if (entries.length === 0) return `${open}${close}`;
  if (depth <= 0) return `${open}…${close}`;
  let out = open;
  for (let i = 0; i < entries.length; i++) {
    const [k, x] = entries[i]!;
    if (i > 0) out += ',';
    if (k !== undefined) out += `${JSON.stringify(k.length > budget ? k.slice(0, budget) : k)}:`;
    if (out.length >= budget) break;
    out += render(x, depth - 1, budget - out.length);
    if (out.length >= budget) break;
  }
  return `${out}${close}`;
}

/**
 * Strict validation of a JSON input file (scenarios, radio environments):
 * unknown fields are errors, and every error is an InputError naming the
 * file and the field path ("accessPoints[1].channel: ...").
 */
export class JsonChecker {
  constructor(readonly file: string) {}
  fail(field: string, msg: string): never {
    throw new InputError(this.file, field, msg);
  }
  obj(v: unknown, field: string, allowed: readonly string[]): JsonObject {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, `must be an object, got ${show(v)}`);
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) this.fail(field ? `${field}.${showKey(k)}` : showKey(k), `unknown field (allowed: ${allowed.join(', ')})`);
    }
    return v as JsonObject;
  }
  str(v: unknown, field: string, def?: string): string {
    if (v === undefined && def !== undefined) return def;
    if (typeof v !== 'string') this.fail(field, v === undefined ? 'is required' : `must be a string, got ${show(v)}`);
    return v;
  }
  bool(v: unknown, field: string, def: boolean): boolean {
    if (v === undefined) return def;
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${show(v)}`);
    return v;
  }
  /** An integer in [min, max] (also written as a "0x.." string); `def` undefined = required. */
  int(v: unknown, field: string, def: number | undefined, min: number, max: number): number {
    if (v === undefined) {
      if (def === undefined) this.fail(field, `is required (an integer from ${min} to ${max})`);
      return def;
    }
    const n = typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) this.fail(field, `must be an integer, got ${show(v)}`);
    if (n < min || n > max) this.fail(field, `must be between ${min} and ${max}, got ${n}`);
    return n;
  }
  /**
   * A duration such as "10s", "250ms", "500us", in ps: a whole number of ps
   * within the exact range of simulated time (2^53 ps, about 2.5 hours).
   */
  duration(v: unknown, field: string, defPs: number): number {
    if (v === undefined) return defPs;
    const d = typeof v === 'string' ? parseDuration(v) : undefined;
    if (d === undefined) this.fail(field, `must be a duration such as "10s", "250ms", "500us", got ${show(v)}`);
    if (d > Number.MAX_SAFE_INTEGER) {
      this.fail(field, `${show(v)} is beyond the exact range of simulated time (2^53 ps, about 2.5 hours)`);
    }
    if (!Number.isInteger(d) || d < 0) this.fail(field, `must be a whole number of picoseconds, got ${show(v)}`);
    return d;
  }
}
