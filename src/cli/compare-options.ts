/** The verdict options shared by `check` and `diff`: --fail-on, --timing-budget, --ignore. */
import type { IgnoreRules } from '../trace/verdict/collect.js';
import type { FailOn } from '../trace/verdict/judge.js';
import { UsageError } from './exit.js';

export function parseFailOn(v: unknown): FailOn | undefined {
  if (v === undefined) return undefined;
  if (v === 'timing' || v === 'functional') return v;
  throw new UsageError(`--fail-on: ${JSON.stringify(String(v)).slice(0, 60)} is not "timing" or "functional"`);
}

/** "10%", "10" or "2.5%": a per-phase latency budget in percent. */
export function parseTimingBudget(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,7}(?:\.\d{1,3})?)%?$/.exec(String(v));
  if (m === null) throw new UsageError(`--timing-budget: ${JSON.stringify(String(v)).slice(0, 60)} is not a percentage (e.g. 10%)`);
  return Number(m[1]);
}

const IGNORE_KINDS = { kind: 'kinds', milestone: 'milestones', field: 'fields' } as const;

/** `--ignore kind:log --ignore field:tsf --ignore milestone:fw.alive` (also comma-separated). */
export function parseIgnore(v: unknown): IgnoreRules | undefined {
  if (v === undefined) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter((x) => x !== '');
  const out = { kinds: [] as string[], milestones: [] as string[], fields: [] as string[] };
  for (const it of items) {
    const colon = it.indexOf(':');
    const what = colon < 0 ? '' : it.slice(0, colon);
    const name = it.slice(colon + 1);
    if (!(what in IGNORE_KINDS) || name === '') {
      throw new UsageError(`--ignore: ${JSON.stringify(it).slice(0, 60)} is not kind:<event kind>, milestone:<name> or field:<fact field>`);
    }
    out[IGNORE_KINDS[what as keyof typeof IGNORE_KINDS]].push(name);
  }
  return out;
}
