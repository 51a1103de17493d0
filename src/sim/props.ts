import { show, showKey } from './json-checker.js';

/**
 * Validated, documented property tables for devices and machines. A bad
 * machine file gets an error naming the field before anything is built.
 */
export type PropSpec =
  | {
    type: 'number'; default: number; doc: string; min?: number; max?: number; integer?: boolean;
    /** Name of another number prop of the table this one must not exceed (e.g. minBlocks <= maxBlocks). */
    atMost?: string;
  }
  | { type: 'string'; default: string; doc: string; required?: boolean; minLength?: number; maxLength?: number }
  | { type: 'boolean'; default: boolean; doc: string }
  | { type: 'enum'; default: string; doc: string; values: readonly string[] };

export type PropTable = Record<string, PropSpec>;

export type PropValues<T extends PropTable> = {
  [K in keyof T]: T[K] extends { type: 'number' } ? number
    : T[K] extends { type: 'boolean' } ? boolean
    : string;
};

/**
 * Upper bound of every number prop without its own `max` (and the cap of any
 * `max`): exact in a double, so no prop can carry 1e300 into time arithmetic.
 */
export const PROP_NUMBER_MAX = Number.MAX_SAFE_INTEGER;

export class PropError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** Validates `raw` against `table`; `where` prefixes field names in errors (e.g. "machine.devices[0].props"). */
export function validateProps<T extends PropTable>(table: T, raw: unknown, where: string): PropValues<T> {
  const out: Record<string, unknown> = {};
  const obj = raw === undefined ? {} : raw;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new PropError(where, 'must be an object');
  }
  for (const key of Object.keys(obj)) {
    if (!(key in table)) {
      const known = Object.keys(table).join(', ') || '(none)';
      throw new PropError(`${where}.${showKey(key)}`, `unknown property (known: ${known})`);
    }
  }
  for (const [key, spec] of Object.entries(table)) {
    const v = (obj as Record<string, unknown>)[key];
    const field = `${where}.${key}`;
    if (v === undefined) {
      if (spec.type === 'string' && spec.required) throw new PropError(field, 'is required');
      out[key] = spec.default;
      continue;
    }
    switch (spec.type) {
      case 'number': {
        const n = typeof v === 'string' && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : v;
        if (typeof n !== 'number' || !Number.isFinite(n)) throw new PropError(field, `must be a number, got ${show(v)}`);
        if (spec.integer && !Number.isInteger(n)) throw new PropError(field, `must be an integer, got ${n}`);
        if (spec.min !== undefined && n < spec.min) throw new PropError(field, `must be >= ${spec.min}, got ${n}`);
        const max = Math.min(spec.max ?? PROP_NUMBER_MAX, PROP_NUMBER_MAX);
        if (n > max) throw new PropError(field, `must be <= ${max}, got ${n}`);
        out[key] = n;
        break;
      }
      case 'string':
        if (typeof v !== 'string') throw new PropError(field, `must be a string, got ${show(v)}`);
        if (spec.minLength !== undefined && v.length < spec.minLength) {
          throw new PropError(field, spec.minLength === 1 ? 'must not be empty' : `must have at least ${spec.minLength} characters, got ${v.length}`);
        }
        if (spec.maxLength !== undefined && v.length > spec.maxLength) {
          throw new PropError(field, `must have at most ${spec.maxLength} characters, got ${v.length}: ${show(v)}`);
        }
        out[key] = v;
        break;
      case 'boolean':
        if (typeof v !== 'boolean') throw new PropError(field, `must be true or false, got ${show(v)}`);
        out[key] = v;
        break;
      case 'enum':
        if (typeof v !== 'string' || !spec.values.includes(v)) {
          throw new PropError(field, `must be one of ${spec.values.join(', ')}, got ${show(v)}`);
        }
        out[key] = v;
        break;
    }
  }
  // Relations between props, once each is valid on its own.
  for (const [key, spec] of Object.entries(table)) {
    if (spec.type !== 'number' || spec.atMost === undefined) continue;
    const other = out[spec.atMost];
    const n = out[key] as number;
    if (typeof other === 'number' && n > other) {
      throw new PropError(`${where}.${key}`, `must be <= ${spec.atMost} (${other}), got ${n}`);
    }
  }
  return out as PropValues<T>;
}

/** Markdown table of a prop table, for docs and `simrun devices`. */
export function describeProps(table: PropTable): string {
  const rows = Object.entries(table).map(([k, s]) => {
    const extra = s.type === 'enum' ? ` (${s.values.join(' / ')})` : '';
    return `| ${k} | ${s.type}${extra} | ${JSON.stringify(s.default)} | ${s.doc} |`;
  });
  return ['| prop | type | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
