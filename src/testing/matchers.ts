/**
 * Assertions for people who test their own drivers with simrun, framework
 * independent (vitest.ts registers them with `expect.extend`): a run's trace
 * against a golden trace by verdict, and a run without guest errors.
 */
import { deviceDecoders } from '../devices/decoders.js';
import type { RunOutcome } from '../machine/run.js';
import type { IgnoreRules } from '../trace/verdict/collect.js';
import { judgeTraces, traceBehaviour, type VerdictReport } from '../trace/verdict/judge.js';
import type { TraceSource } from '../trace/reader.js';

export interface MatchTraceOptions {
  /** 'ignore' (default): a TIMING-ONLY difference matches; 'exact': only IDENTICAL matches; 'budget': TIMING-ONLY within `budgetPct`. */
  timing?: 'ignore' | 'exact' | 'budget';
  budgetPct?: number;
  ignore?: IgnoreRules;
}

export interface MatchResult {
  pass: boolean;
  message: () => string;
  report?: VerdictReport;
}

/** A run outcome recorded with `recordToBuffer` or to a file, a trace path, or trace bytes. */
export type TraceLike = RunOutcome | TraceSource;

function traceOf(x: TraceLike): TraceSource {
  if (typeof x === 'string' || x instanceof Uint8Array) return x;
  const t = x.trace;
  if (t === undefined) throw new TypeError('the run was not recorded: run it with { recordToBuffer: true } or { record: path }');
  if (t.buffer !== undefined) return t.buffer;
  if (t.path !== null) return t.path;
  throw new TypeError('the run recorded no trace bytes or file');
}

export function matchTrace(actual: TraceLike, golden: TraceSource, opts: MatchTraceOptions = {}): MatchResult {
  const timing = opts.timing ?? 'ignore';
  const report = judgeTraces(golden, traceOf(actual), deviceDecoders(), {
    ...(timing === 'budget' ? { timingBudgetPct: opts.budgetPct ?? 10 } : {}),
    ...(opts.ignore !== undefined ? { ignore: opts.ignore } : {}),
  });
  const pass = report.verdict === 'IDENTICAL' || (report.verdict === 'TIMING-ONLY' && timing !== 'exact' && report.overBudget.length === 0);
  const lines = [`verdict ${report.verdict} against ${typeof golden === 'string' ? golden : 'the golden trace'}`, ...report.headlines.map((h) => `  ${h}`)];
  return {
    pass,
    report,
    message: () => pass ? `expected the run not to match the golden trace, but it did (${lines.join('\n')})` : `expected the run to match the golden trace (timing: ${timing}), got ${lines.join('\n')}`,
  };
}

export function noGuestErrors(actual: TraceLike): MatchResult {
  const errs: string[] = [];
  if (typeof actual !== 'string' && !(actual instanceof Uint8Array) && actual.trace === undefined) {
    // Not recorded: the run's own count and first errors.
    const n = actual.result.guestErrors;
    for (const g of actual.result.firstGuestErrors) errs.push(`${g.device}: ${g.code}: ${g.message}`);
    if (n > 0 && errs.length === 0) errs.push(`${n} guest errors`);
  } else {
    for (const s of traceBehaviour(traceOf(actual), deviceDecoders()).facts.streams.values()) {
      if (s.name === 'guest errors') for (const f of s.counts.keys()) errs.push(`${s.source}: ${f}`);
    }
  }
  const pass = errs.length === 0;
  return {
    pass,
    message: () => pass ? 'expected guest errors, the run had none' : `expected no guest errors, got:\n${errs.slice(0, 10).map((e) => `  ${e}`).join('\n')}`,
  };
}
