/** `--shard i/n`: a deterministic split of the scenarios for the jobs of a CI matrix. */
import { InputError } from '../../sim/errors.js';
import { byName } from './report.js';

export interface Shard {
  index: number;
  count: number;
}

/** "i/n", 1-based; exit 2 naming --shard otherwise. */
export function parseShard(text: string): Shard {
  const m = /^([0-9]{1,6})\/([0-9]{1,6})$/.exec(text.trim());
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!(count >= 1) || !(index >= 1) || index > count) {
    throw new InputError('--shard', '', `"${text}" is not a shard: give i/n with 1 <= i <= n, e.g. 2/4`);
  }
  return { index, count };
}

/** The items of shard i/n: every n-th item of the list sorted by name, starting at the i-th. Each item is in exactly one shard. */
export function inShard<T extends { name: string }>(items: readonly T[], shard: Shard | undefined): T[] {
  const sorted = [...items].sort(byName);
  return shard === undefined ? sorted : sorted.filter((_, k) => k % shard.count === shard.index - 1);
}
