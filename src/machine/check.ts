import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
import { runDiff } from '../trace/diff/index.js';

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
  /** Keep the re-simulated trace here (a file) when it is not IDENTICAL to the golden one: the very trace compared, copied before its temporary file goes. */
  saveActual?: string;
  /** Write the `simrun diff` HTML report of golden vs re-simulated here (a file) when not IDENTICAL, from the traces in hand. */
  html?: string;
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
  /** The re-simulated trace kept (`saveActual`) and the HTML report written (`html`), when they were. */
  actualPath?: string;
  htmlPath?: string;
  /** Why `saveActual` or `html` could not be written (the check itself still ran). */
  artifactErrors?: string[];
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
      // A fixture (a disk image, a compiled driver's module) that changed explains a difference before any event does.
      if (!o.json) {
        const now = new Map(actual.header.fixtures.map((f) => [f.path, f.hash]));
        for (const f of golden.header.fixtures) {
          const h = now.get(f.path);
          if (h !== undefined && h !== f.hash) o.out(`note: ${f.path} changed since the golden trace was recorded (${f.hash.slice(0, 12)} -> ${h.slice(0, 12)})`);
        }
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
    const outcome: CheckOutcome = { exitCode: ok ? 0 : 1, result, failures: run.result.failures, ...verdictFields(report) };
    if (report !== undefined && report.verdict !== 'IDENTICAL') keepArtifacts(o, actualPath, report, failOnOf(o, scenario.compare.failOn), outcome);
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function failOnOf(o: CheckOptions, scenarioFailOn: FailOn): FailOn {
  return o.failOn ?? scenarioFailOn;
}

/**
 * The re-simulated trace (`saveActual`) and the HTML diff (`html`) of a
 * check that was not identical, from the trace just compared: the scenario
 * is not simulated again. A file that cannot be written is reported in
 * `artifactErrors`, not thrown: the verdict stands.
 */
function keepArtifacts(o: CheckOptions, actualPath: string, report: VerdictReport, failOn: FailOn, outcome: CheckOutcome): void {
  const errors: string[] = [];
  if (o.saveActual !== undefined) {
    try {
      mkdirSync(dirname(o.saveActual), { recursive: true });
      copyFileSync(actualPath, o.saveActual);
      outcome.actualPath = o.saveActual;
    } catch (e) {
      errors.push(`could not save the re-simulated trace to ${o.saveActual}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (o.html !== undefined) {
    const errs: string[] = [];
    try {
      mkdirSync(dirname(o.html), { recursive: true });
      const d = runDiff({ a: o.golden, b: actualPath, decoders: o.decoders, html: o.html, verdict: report, failOn, out: () => {}, err: (l) => errs.push(l) });
      if (d.htmlPath !== undefined) outcome.htmlPath = d.htmlPath;
      else errors.push(`could not write the HTML report ${o.html}: ${errs.join('; ') || `diff exit ${d.exitCode}`}`);
    } catch (e) {
      errors.push(`could not write the HTML report ${o.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  if (errors.length > 0) outcome.artifactErrors = errors;
}

function verdictFields(r: VerdictReport | undefined): Pick<CheckOutcome, 'verdict' | 'headlines' | 'report'> {
  return r === undefined ? {} : { verdict: r.verdict, headlines: r.headlines, report: r };
}
