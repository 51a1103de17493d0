import { InputError } from './errors.js';
import { parseDuration } from './time.js';

export type JsonObject = Record<string, unknown>;

/** A value for an error message: JSON, or "nothing" when absent. */
export function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
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
      if (!allowed.includes(k)) this.fail(field ? `${field}.${k}` : k, `unknown field (allowed: ${allowed.join(', ')})`);
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
  /** A duration such as "10s", "250ms", "500us", in ps. */
  duration(v: unknown, field: string, defPs: number): number {
    if (v === undefined) return defPs;
    const d = typeof v === 'string' ? parseDuration(v) : undefined;
    if (d === undefined) this.fail(field, `must be a duration such as "10s", "250ms", "500us", got ${show(v)}`);
    return d;
  }
}
