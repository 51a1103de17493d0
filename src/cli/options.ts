import { UsageError } from './exit.js';

/** Largest count or sequence number an option accepts (exact in a double). */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

/** A value for a usage message: at most 40 characters of it. */
function excerpt(v: string): string {
  const s = JSON.stringify(v);
  return s.length <= 40 ? s : `${s.slice(0, 37)}..."`;
}

/**
 * An integer option given as text (options are declared as strings so that
 * yargs does not turn "abc" into NaN or "1e30" into a float): decimal digits
 * or 0x hex, in [min, max]. Undefined when the option is absent.
 * A bad value is a usage error (exit 2) naming the option.
 */
export function intOption(name: string, v: unknown, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${name} given ${v.length} times; give it once`);
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string' || text === '') throw new UsageError(`--${name} needs a value (an integer from ${min} to ${max})`);
  const t = text.trim();
  let n: number;
  if (/^[0-9]+$/.test(t)) n = Number(t);
  else if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else throw new UsageError(`--${name}: ${excerpt(text)} is not an integer (expected an integer from ${min} to ${max})`);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name}: ${excerpt(text)} is out of range (expected an integer from ${min} to ${max})`);
  }
  return n;
}

/** Edit distance (insertions, deletions, substitutions, adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    d.push([]);
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) { d[i]![j] = i + j; continue; }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The command closest to `word`, if it is close enough to be a likely typo. */
export function closestCommand(word: string, commands: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const w = word.toLowerCase();
  for (const c of commands) {
    const d = c.startsWith(w) && w.length >= 2 ? 0 : editDistance(w, c);
    if (d < bestD) { bestD = d; best = c; }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}
