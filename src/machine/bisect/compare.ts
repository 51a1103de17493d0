/**
 * Streaming comparison of two trace files for bisect: open both, compare
 * event by event with compareStreams, and close the readers even when the
 * comparison stops at the first divergence (an unfinished generator would
 * keep its file open).
 */
import type { DeviceDecoder } from '../../trace/decoder.js';
import { compareStreams, type CompareOptions, type CompareResult } from '../../trace/compare/compare.js';
import { whatDiffers, type ReportContext } from '../../trace/compare/report.js';
import { openTrace } from '../../trace/reader.js';

/** Which events a comparison looks at and how it equates them (a variants file's `ignore` and `lengthOnly`). */
export type EventComparison = Pick<CompareOptions, 'relevant' | 'same'>;
import { locateFirstDivergence } from '../../trace/compare/locate.js';

export interface TraceComparison {
  result: CompareResult;
  ctx: ReportContext;
}

/** Compares the `actual` trace file with the `expected` one (both streamed from disk). */
export function compareTraceFiles(
  expected: string, actual: string, labels: { expected: string; actual: string },
  decoders: Map<string, DeviceDecoder>, context: number, locate = false, filter: EventComparison = {},
): TraceComparison {
  const e = openTrace(expected);
  const a = openTrace(actual);
  if (locate) {
    // Where both runs carry state digests, a binary search over them narrows
    // the search, and events are compared only from the last matching tick.
    const loc = locateFirstDivergence(expected, actual, { context });
    return {
      result: loc.result,
      ctx: { expectedHeader: e.header, actualHeader: a.header, decoders, expectedLabel: labels.expected, actualLabel: labels.actual },
    };
  }
  const ge = e.events();
  const ga = a.events();
  try {
    const result = compareStreams(ge, ga, { context, ...filter });
    const ctx: ReportContext = {
      expectedHeader: e.header, actualHeader: a.header, decoders,
      expectedLabel: labels.expected, actualLabel: labels.actual,
    };
    return { result, ctx };
  } finally {
    ge.return(undefined);
    ga.return(undefined);
  }
}

/** One line on the first divergence of a comparison ("identical" when there is none). */
export function firstDifference(c: TraceComparison): string {
  const d = c.result.divergences[0];
  if (c.result.identical || d === undefined) return `identical (${c.result.expectedEvents} events)`;
  return whatDiffers(d, c.ctx);
}
