/**
 * jsdiff's Myers diff (`diffArrays`) on windows of the aligner's key and
 * shape buffers (typed arrays): each window is copied into a reused plain
 * array of its length, and the changes come back as runs.
 */
import { diffArrays } from 'diff';

/** A run of the result: `count` items in both windows (neither flag), only in the new one (`added`) or only in the old one (`removed`). */
export interface Run {
  count: number;
  added: boolean;
  removed: boolean;
}

/** Window copies, reused (their length is set per diff). */
const oldItems: number[] = [];
const curItems: number[] = [];

function windowOf(out: number[], src: Float64Array, from: number, len: number): number[] {
  out.length = len;
  for (let i = 0; i < len; i++) out[i] = src[from + i]!;
  return out;
}

/**
 * Diffs old[oldFrom, oldFrom + oldLen) against cur[curFrom, curFrom + curLen)
 * (`===` on the numbers). Undefined when more than `maxEditLength` insertions
 * and removals would be needed (jsdiff's `maxEditLength`).
 */
export function diffRuns(old: Float64Array, oldFrom: number, oldLen: number, cur: Float64Array, curFrom: number, curLen: number,
  maxEditLength: number): Run[] | undefined {
  const changes = diffArrays(windowOf(oldItems, old, oldFrom, oldLen), windowOf(curItems, cur, curFrom, curLen), { maxEditLength });
  if (changes === undefined) return undefined;
  const runs: Run[] = new Array<Run>(changes.length);
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    runs[i] = { count: c.count, added: c.added === true, removed: c.removed === true };
  }
  return runs;
}
