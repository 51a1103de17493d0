import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../sim/errors.js';
import { runScenario } from './run.js';
import { loadScenario } from './scenario.js';
import type { DeviceDecoder } from '../trace/decoder.js';
import { compareStreams, type CompareResult } from '../trace/compare/compare.js';
import { formatReport, reportJson, type ReportContext } from '../trace/compare/report.js';
import { openTrace } from '../trace/reader.js';
import { judgeTraces, verdictFails, type FailOn, type Verdict, type VerdictReport } from '../trace/verdict/judge.js';
import { mergeIgnore, type IgnoreRules } from '../trace/verdict/collect.js';
import { formatVerdict, verdictJson } from '../trace/verdict/report.js';

export interface CheckOptions {
  scenario: string;
  golden: string;
  update?: boolean;
  keepGoing?: boolean;
  context?: number;
  json?: boolean;
  /** What fails the check: a functional change only (default), or any timing change too. */
  failOn?: FailOn;
  /** Per-phase latency budget in percent (overrides the scenario's `compare.timingBudgetPct`). */
  timingBudgetPct?: number;
  /** Left out of the functional comparison, on top of the scenario's `compare.ignore`. */
  ignore?: IgnoreRules;
  /** Boundary sanitizers during the re-simulation (README "Sanitizers"); default on. A clean run's trace is the same either way. */
  sanitize?: boolean;
  decoders: Map<string, DeviceDecoder>;
  out: (text: string) => void;
}

export interface CheckOutcome {
  exitCode: 0 | 1;
  result: CompareResult | undefined;
  /** Expectation failures of the re-simulation. */
  failures: string[];
  /** IDENTICAL, TIMING-ONLY or FUNCTIONAL (undefined when there was no golden trace to compare with). */
  verdict?: Verdict;
  /** Fact-first lines: what changed. */
  headlines?: string[];
  report?: VerdictReport;
}

/**
 * `simrun check`: re-simulates the scenario (recording to a temporary file)
 * and compares the new trace with the golden one event by event, streaming.
 * `update` rewrites the golden trace on purpose and says what changed.
 */
export function runCheck(o: CheckOptions): CheckOutcome {
  const scenario = loadScenario(o.scenario);
  const haveGolden = existsSync(o.golden);
  if (!haveGolden && !o.update) {
    throw new InputError(o.golden, '', `no golden trace for scenario "${scenario.name}"; record one with: simrun check ${o.scenario} --update`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'simrun-check-'));
  const actualPath = join(dir, 'actual.simtrace');
  try {
    const run = runScenario(scenario, { record: actualPath, sanitize: o.sanitize ?? true });
    const actual = openTrace(actualPath);
    let result: CompareResult | undefined;
    let report: VerdictReport | undefined;
    let failsVerdict = false;
    if (haveGolden) {
      const golden = openTrace(o.golden);
      if (golden.header.scenario.hash !== scenario.hash && !o.json) {
        o.out(`note: the scenario file changed since the golden trace was recorded (${golden.header.scenario.hash.slice(0, 12)} -> ${scenario.hash.slice(0, 12)})`);
      }
      const cmp = scenario.compare;
      const failOn: FailOn = o.failOn ?? cmp.failOn;
      report = judgeTraces(o.golden, actualPath, o.decoders, {
        timingBudgetPct: o.timingBudgetPct ?? cmp.timingBudgetPct,
        ignore: mergeIgnore(cmp.ignore, o.ignore),
      });
      failsVerdict = verdictFails(report, failOn);
      // The event-level comparison localises a functional change: the first event where the runs part.
      result = report.verdict === 'FUNCTIONAL' || (failsVerdict && report.verdict !== 'IDENTICAL')
        ? compareStreams(golden.events(), actual.events(), { keepGoing: o.keepGoing, context: o.context })
        : { identical: report.verdict === 'IDENTICAL', divergences: [], count: 0, expectedEvents: report.expectedEvents, actualEvents: report.actualEvents };
      const ctx: ReportContext = {
        expectedHeader: golden.header, actualHeader: actual.header, decoders: o.decoders,
        expectedLabel: 'golden', actualLabel: 're-simulated',
      };
      if (o.json) {
        o.out(JSON.stringify({ scenario: scenario.name, golden: o.golden, failures: run.result.failures, ...verdictJson(report, failOn), ...reportJson(result, ctx) }));
      } else {
        o.out(formatVerdict(report, failOn).join('\n'));
        if (report.verdict === 'IDENTICAL') o.out(formatReport(result, ctx));
        else if (result.count > 0) o.out(`\nwhere the runs part (event by event):\n${formatReport(result, ctx)}`);
      }
    }
    if (o.update) {
      copyFileSync(actualPath, o.golden);
      if (!o.json) {
        o.out(haveGolden
          ? (report?.verdict === 'IDENTICAL' ? `golden trace ${o.golden} unchanged` : `golden trace ${o.golden} rewritten (${report?.verdict ?? 'changed'} against the old one, shown above)`)
          : `golden trace ${o.golden} created (${run.trace?.records ?? 0} events)`);
      }
      return { exitCode: 0, result, failures: run.result.failures, ...verdictFields(report) };
    }
    if (!o.json && run.result.failures.length > 0) {
      o.out(`expectations failed:\n${run.result.failures.map((f) => `  - ${f}`).join('\n')}`);
    }
    const ok = report !== undefined && !failsVerdict && run.result.failures.length === 0;
    return { exitCode: ok ? 0 : 1, result, failures: run.result.failures, ...verdictFields(report) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verdictFields(r: VerdictReport | undefined): Pick<CheckOutcome, 'verdict' | 'headlines' | 'report'> {
  return r === undefined ? {} : { verdict: r.verdict, headlines: r.headlines, report: r };
}
