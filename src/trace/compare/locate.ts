import { openTrace, type TraceSource } from '../reader.js';
import { compareStreams, type CompareOptions, type CompareResult } from './compare.js';

/** One tick of periodic device-state digests: its time, the seq of its last mark, and the digests. */
interface Tick {
  time: number;
  lastSeq: number;
  digests: string;
}

/** The `state` milestones of a trace grouped per tick (streams the trace; keeps one small entry per tick). */
export function stateTicks(source: TraceSource): Tick[] {
  const ticks: Tick[] = [];
  for (const e of openTrace(source).events({ kinds: ['milestone'] })) {
    if (e.kind !== 'milestone' || e.name !== 'state') continue;
    const last = ticks[ticks.length - 1];
    if (last !== undefined && last.time === e.time) {
      last.lastSeq = e.seq;
      last.digests += `,${e.dev}:${e.a}:${e.b}`;
    } else ticks.push({ time: e.time, lastSeq: e.seq, digests: `${e.dev}:${e.a}:${e.b}` });
  }
  return ticks;
}

export interface LocateResult {
  result: CompareResult;
  /** Digest comparisons made by the binary search. */
  probes: number;
  /** Ticks both traces have in common. */
  ticks: number;
  /** Where the event comparison started (after the last tick whose digests matched), or 0. */
  fromSeqExpected: number;
  fromSeqActual: number;
  fromTime: number;
}

/**
 * Finds the first divergence between two runs using the periodic state
 * digests recorded in both: a binary search over the ticks finds the first
 * one whose digests differ (O(log n) comparisons), and events are compared
 * only from the last matching tick on. This assumes a divergence that
 * matters changes device state and stays changed — true of register and
 * queue state once two runs part. Without digests it compares from the start.
 */
export function locateFirstDivergence(expected: TraceSource, actual: TraceSource, opts: CompareOptions = {}): LocateResult {
  const a = stateTicks(expected);
  const b = stateTicks(actual);
  let n = 0;
  while (n < a.length && n < b.length && a[n]!.time === b[n]!.time) n++;
  let probes = 0;
  const same = (k: number) => { probes++; return a[k]!.digests === b[k]!.digests; };
  // First tick (in 0..n) whose digests differ; n if none of the common ticks do.
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (same(mid)) lo = mid + 1;
    else hi = mid;
  }
  const startTick = lo - 1;
  // Start a little before the matching tick (the runs are identical up to it, so the
  // two streams stay aligned) so the report has context before the divergence.
  const back = 2 * (opts.context ?? 20);
  const atE = startTick >= 0 ? a[startTick]!.lastSeq + 1 : 0;
  const atA = startTick >= 0 ? b[startTick]!.lastSeq + 1 : 0;
  const fromE = Math.max(0, atE - Math.min(back, atE, atA));
  const fromA = Math.max(0, atA - Math.min(back, atE, atA));
  const ge = openTrace(expected).events({ fromSeq: fromE });
  const ga = openTrace(actual).events({ fromSeq: fromA });
  let result: CompareResult;
  try {
    result = compareStreams(ge, ga, opts);
  } finally {
    // Close both readers even when the comparison stopped early.
    ge.return(undefined);
    ga.return(undefined);
  }
  return { result, probes, ticks: n, fromSeqExpected: fromE, fromSeqActual: fromA, fromTime: startTick >= 0 ? a[startTick]!.time : 0 };
}
