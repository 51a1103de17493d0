/**
 * Myers diff of two windows of numbers in typed arrays (the aligner's keys
 * and shapes), with the results of jsdiff's `diffArrays` (the same runs, the
 * same choices between equally short edit scripts) but without its copies
 * and objects per step: no token arrays, and paths and runs in reused typed
 * arrays (a step of the search writes numbers, not objects).
 *
 * The search follows jsdiff 7's `Diff.prototype.diff` exactly: diagonals
 * from the lowest to the highest, a path extended by an insertion when the
 * removal would start further back, diagonals past an edge of the edit graph
 * no longer considered, and runs of one kind merged as they are made.
 */
import { grown } from '../../sim/grown.js';

/** A run of the result: `count` items in both windows (neither flag), only in the new one (`added`) or only in the old one (`removed`). */
export interface Run {
  count: number;
  added: boolean;
  removed: boolean;
}

const COMMON = 0, ADDED = 1, REMOVED = 2;

/** Runs made during one diff, by index: count, kind, and the run before it (-1: none). Reused. */
let runCount = new Int32Array(1024);
let runKind = new Uint8Array(1024);
let runPrev = new Int32Array(1024);
let runs = 0;

/** The best path of each diagonal (index: diagonal + offset): its old position, last run, and whether it is set. Reused. */
let pathOld = new Int32Array(256);
let pathRun = new Int32Array(256);
let pathSet = new Uint8Array(256);

function newRun(count: number, kind: number, prev: number): number {
  if (runs === runCount.length) {
    runCount = grown(runCount, 2 * runs);
    runKind = grown(runKind, 2 * runs);
    runPrev = grown(runPrev, 2 * runs);
  }
  runCount[runs] = count;
  runKind[runs] = kind;
  runPrev[runs] = prev;
  return runs++;
}

/** Where `extend` stopped: the old position and the last run. */
let endOld = 0;
let endRun = -1;

/**
 * Follows diagonal `d` (old position - new position) from old position `o`, whose path ends with run
 * `r`, while the items are equal: sets `endOld` and `endRun` (a common run added), returns the new position.
 */
function extend(old: Float64Array, oldFrom: number, oldLen: number, cur: Float64Array, curFrom: number, curLen: number, o: number, r: number, d: number): number {
  let n = o - d;
  let c = 0;
  while (n + 1 < curLen && o + 1 < oldLen && old[oldFrom + o + 1] === cur[curFrom + n + 1]) {
    n++;
    o++;
    c++;
  }
  endOld = o;
  endRun = c > 0 ? newRun(c, COMMON, r) : r;
  return n;
}

/** The runs ending with run `last`, first to last. */
function collect(last: number): Run[] {
  const out: Run[] = [];
  for (let r = last; r >= 0; r = runPrev[r]!) out.push({ count: runCount[r]!, added: runKind[r] === ADDED, removed: runKind[r] === REMOVED });
  return out.reverse();
}

/**
 * Diffs old[oldFrom, oldFrom + oldLen) against cur[curFrom, curFrom + curLen)
 * (`===` on the numbers). Undefined when more than `maxEditLength` insertions
 * and removals would be needed (jsdiff's `maxEditLength`).
 */
export function diffRuns(old: Float64Array, oldFrom: number, oldLen: number, cur: Float64Array, curFrom: number, curLen: number,
  maxEditLength: number): Run[] | undefined {
  runs = 0;
  const maxEdit = Math.min(curLen + oldLen, maxEditLength);
  // Diagonals -maxEdit - 1 .. maxEdit + 1 are read.
  const off = maxEdit + 1;
  const width = 2 * maxEdit + 3;
  if (pathSet.length < width) {
    pathOld = new Int32Array(width);
    pathRun = new Int32Array(width);
    pathSet = new Uint8Array(width);
  } else {
    pathSet.fill(0, 0, width);
  }
  const common = (o: number, r: number, d: number): number => extend(old, oldFrom, oldLen, cur, curFrom, curLen, o, r, d);
  let newPos = common(-1, -1, 0);
  if (endOld + 1 >= oldLen && newPos + 1 >= curLen) return collect(endRun);
  pathOld[off] = endOld;
  pathRun[off] = endRun;
  pathSet[off] = 1;
  let minDiagonal = -Infinity;
  let maxDiagonal = Infinity;
  for (let edit = 1; edit <= maxEdit; edit++) {
    for (let d = Math.max(minDiagonal, -edit); d <= Math.min(maxDiagonal, edit); d += 2) {
      const ir = d - 1 + off;
      const ia = d + 1 + off;
      const hasRemove = pathSet[ir] === 1;
      const hasAdd = pathSet[ia] === 1;
      if (hasRemove) pathSet[ir] = 0;
      let canAdd = false;
      if (hasAdd) {
        const addNew = pathOld[ia]! - d;
        canAdd = addNew >= 0 && addNew < curLen;
      }
      const canRemove = hasRemove && pathOld[ir]! + 1 < oldLen;
      if (!canAdd && !canRemove) {
        pathSet[d + off] = 0;
        continue;
      }
      // From the path that went furthest in the old window (an insertion on a tie).
      const fromAdd = !canRemove || (canAdd && pathOld[ir]! < pathOld[ia]!);
      const from = fromAdd ? ia : ir;
      const kind = fromAdd ? ADDED : REMOVED;
      const last = pathRun[from]!;
      const run = last >= 0 && runKind[last] === kind ? newRun(runCount[last]! + 1, kind, runPrev[last]!) : newRun(1, kind, last);
      newPos = common(pathOld[from]! + (fromAdd ? 0 : 1), run, d);
      if (endOld + 1 >= oldLen && newPos + 1 >= curLen) return collect(endRun);
      pathOld[d + off] = endOld;
      pathRun[d + off] = endRun;
      pathSet[d + off] = 1;
      if (endOld + 1 >= oldLen) maxDiagonal = Math.min(maxDiagonal, d - 1);
      if (newPos + 1 >= curLen) minDiagonal = Math.max(minDiagonal, d + 1);
    }
  }
  return undefined;
}
