/**
 * The CI kit around `runCheck`: one scenario checked into a ScenarioReport
 * (verdict, fact-first headlines, expectation failures), with the
 * re-simulated trace kept and an HTML diff written when asked (by runCheck,
 * from the run it compared: each scenario is simulated once); and
 * `check --all`: every scenario that has a golden trace, optionally one
 * shard of them, on worker threads. Results do not depend on the number of
 * jobs: each scenario is simulated on its own, and the report is sorted by
 * name.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../sim/worker-start.js';
import { InputError } from '../../sim/errors.js';
import { TraceFormatError } from '../../trace/format.js';
import { deviceDecoders } from '../../devices/decoders.js';
import { runCheck, type CheckOptions, type CheckOutcome } from '../check.js';
import type { IgnoreRules } from '../../trace/verdict/collect.js';
import { inShard, type Shard } from './shard.js';
import { byName, makeReport, VERDICTS, type CheckReport, type ScenarioReport, type Verdict } from './report.js';

export type { FailOn } from '../../trace/verdict/judge.js';
import type { FailOn } from '../../trace/verdict/judge.js';

/** One scenario to check; plain data, so it can be posted to a worker. */
export interface ScenarioTask {
  name: string;
  scenario: string;
  golden: string;
  keepGoing?: boolean;
  context?: number;
  failOn?: FailOn;
  /** Per-phase latency budget in percent, and what the verdict leaves out (plain data: posted to workers). */
  timingBudgetPct?: number;
  ignore?: IgnoreRules;
  /** Boundary sanitizers in the re-simulation (runCheck's default: on). */
  sanitize?: boolean;
  /** Keep the re-simulated trace here when the result is not IDENTICAL (runCheck copies the trace it compared). */
  saveActual?: string;
  /** Write the HTML diff report (golden vs re-simulated) here when the result is not IDENTICAL (from the same run). */
  html?: string;
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Headlines from what runCheck printed, for a runCheck without `headlines`:
 * each divergence's "what" (JSON report), or the line under each "#n kind
 * at t" heading (text report).
 */
export function headlinesFromOutput(printed: string[]): string[] {
  for (const chunk of printed) {
    const t = chunk.trim();
    if (!t.startsWith('{')) continue;
    try {
      const j = JSON.parse(t) as { divergences?: { what?: unknown }[] };
      if (Array.isArray(j.divergences)) return j.divergences.map((d) => d.what).filter((w): w is string => typeof w === 'string');
    } catch {
      // not the JSON report
    }
  }
  const lines = printed.join('\n').replace(ANSI, '').split('\n');
  const out: string[] = [];
  lines.forEach((l, i) => {
    if (/^#\d+ \S+ at /.test(l)) {
      const next = lines[i + 1]?.trim();
      if (next !== undefined && next !== '') out.push(next);
    }
  });
  return out;
}

function errorReport(t: ScenarioTask, e: unknown): ScenarioReport {
  const bad = e instanceof InputError || e instanceof TraceFormatError || (e as NodeJS.ErrnoException)?.code === 'ENOENT';
  const msg = e instanceof Error ? e.message : String(e);
  return {
    name: t.name, scenario: t.scenario, golden: t.golden, verdict: 'ERROR', exitCode: bad ? 2 : 3,
    headlines: [bad ? msg : `internal error: ${msg}`], failures: [], divergences: 0,
  };
}

/**
 * Checks one scenario. `print` receives runCheck's own report (the single
 * `check <scenario>` command prints it), and bad input then throws as from
 * runCheck; without it the report is captured as JSON and only read for
 * headlines, and an error becomes an ERROR report (exit 2 or 3).
 */
export function checkOne(t: ScenarioTask, print?: { out: (text: string) => void; json?: boolean }): ScenarioReport {
  const printed: string[] = [];
  const decoders = deviceDecoders();
  const base: CheckOptions = {
    scenario: t.scenario, golden: t.golden, keepGoing: t.keepGoing, context: t.context ?? 3, json: print?.json ?? true, decoders,
    out: (s) => { printed.push(s); print?.out(s); },
  };
  if (t.failOn !== undefined) base.failOn = t.failOn;
  if (t.timingBudgetPct !== undefined) base.timingBudgetPct = t.timingBudgetPct;
  if (t.ignore !== undefined) base.ignore = t.ignore;
  if (t.sanitize !== undefined) base.sanitize = t.sanitize;
  if (t.saveActual !== undefined) base.saveActual = t.saveActual;
  if (t.html !== undefined) base.html = t.html;
  let outcome: CheckOutcome;
  try {
    outcome = runCheck(base);
  } catch (e) {
    if (print !== undefined) throw e;
    return errorReport(t, e);
  }
  const v = outcome.verdict;
  const verdict: Verdict = v !== undefined && (VERDICTS as readonly string[]).includes(v) ? v as Verdict
    : outcome.exitCode === 0 ? 'IDENTICAL' : 'FUNCTIONAL';
  const headlines = outcome.headlines !== undefined ? [...outcome.headlines] : [
    ...headlinesFromOutput(printed),
    ...(outcome.exitCode !== 0 ? outcome.failures.map((f) => `expectation failed: ${f}`) : []),
  ];
  const report: ScenarioReport = {
    name: t.name, scenario: t.scenario, golden: t.golden, verdict, exitCode: outcome.exitCode, headlines,
    failures: outcome.failures, divergences: outcome.result?.count ?? 0,
  };
  // runCheck kept them from the run it compared (the scenario runs once).
  if (outcome.actualPath !== undefined) report.actual = outcome.actualPath;
  if (outcome.htmlPath !== undefined) report.html = outcome.htmlPath;
  if (outcome.artifactErrors !== undefined) {
    report.headlines.push(...outcome.artifactErrors);
    report.exitCode = Math.max(report.exitCode, 2);
  }
  return report;
}

// ---------------------------------------------------------------------------
// Many scenarios

export { inShard, parseShard, type Shard } from './shard.js';

export interface Found {
  tasks: { name: string; scenario: string; golden: string }[];
  /** Scenario names with no golden trace. */
  withoutGolden: string[];
}

/** Every scenario in `scenarioDir` (*.json) with a golden trace <name>.simtrace in `goldenDir`, sorted by name. */
export function findScenarios(scenarioDir: string, goldenDir: string): Found {
  for (const [dir, what] of [[scenarioDir, 'scenario folder'], [goldenDir, '--golden-dir']] as const) {
    if (!existsSync(dir)) throw new InputError(dir, '', `${what}: folder not found`);
    if (!statSync(dir).isDirectory()) throw new InputError(dir, '', `${what}: not a folder`);
  }
  const tasks: Found['tasks'] = [];
  const withoutGolden: string[] = [];
  for (const f of readdirSync(scenarioDir).filter((n) => n.endsWith('.json')).sort()) {
    const name = basename(f, '.json');
    const golden = join(goldenDir, `${name}.simtrace`);
    if (existsSync(golden)) tasks.push({ name, scenario: join(scenarioDir, f), golden });
    else withoutGolden.push(name);
  }
  return { tasks: tasks.sort(byName), withoutGolden };
}

/** How every scenario of a `check --all` is compared (the same fields as one ScenarioTask). */
export interface CheckAllOptions extends Pick<ScenarioTask, 'keepGoing' | 'context' | 'failOn' | 'timingBudgetPct' | 'ignore' | 'sanitize'> {
  scenarioDir: string;
  goldenDir: string;
  jobs?: number;
  shard?: Shard;
  /** Folder for the re-simulated traces of scenarios that are not IDENTICAL (<name>.simtrace). */
  saveActual?: string;
  /** Folder for the HTML reports of scenarios that are not IDENTICAL (<name>.html). */
  htmlDir?: string;
  /** Called as each scenario finishes (in completion order, which varies with jobs; the report does not). */
  progress?: (done: number, total: number, r: ScenarioReport) => void;
}

export async function runCheckAll(o: CheckAllOptions): Promise<CheckReport> {
  const found = findScenarios(o.scenarioDir, o.goldenDir);
  const tasks: ScenarioTask[] = inShard(found.tasks, o.shard).map((t) => {
    const task: ScenarioTask = { ...t, context: o.context };
    if (o.keepGoing !== undefined) task.keepGoing = o.keepGoing;
    if (o.failOn !== undefined) task.failOn = o.failOn;
    if (o.timingBudgetPct !== undefined) task.timingBudgetPct = o.timingBudgetPct;
    if (o.ignore !== undefined) task.ignore = o.ignore;
    if (o.sanitize !== undefined) task.sanitize = o.sanitize;
    if (o.saveActual !== undefined) task.saveActual = join(o.saveActual, `${t.name}.simtrace`);
    if (o.htmlDir !== undefined) task.html = join(o.htmlDir, `${t.name}.html`);
    return task;
  });
  const jobs = Math.max(1, Math.min(o.jobs ?? 1, tasks.length));
  let results: ScenarioReport[];
  if (jobs <= 1) {
    results = tasks.map((t, k) => {
      const r = checkOne(t);
      o.progress?.(k + 1, tasks.length, r);
      return r;
    });
  } else {
    results = await inWorkers(tasks, jobs, o.progress);
  }
  const shard = o.shard === undefined ? undefined : `${o.shard.index}/${o.shard.count}`;
  return makeReport(results, found.withoutGolden, shard);
}

/** Bundled CLI: the worker is bundled next to it (bin/build-cli.mjs). */
export const WORKER_BUNDLE_NAME = 'check-worker.mjs';

/** A worker running ./worker.ts (its bundled twin from the bundled CLI). */
function startCheckWorker(): Worker {
  return startWorker(import.meta.url, './worker.ts', WORKER_BUNDLE_NAME);
}

interface WorkerReply { id: number; report: ScenarioReport }

function inWorkers(tasks: ScenarioTask[], jobs: number, progress?: CheckAllOptions['progress']): Promise<ScenarioReport[]> {
  return new Promise((resolveAll, rejectAll) => {
    const results: (ScenarioReport | undefined)[] = tasks.map(() => undefined);
    let next = 0;
    let done = 0;
    let live = 0;
    let failed = false;
    const finish = (k: number, r: ScenarioReport) => {
      results[k] = r;
      done++;
      progress?.(done, tasks.length, r);
    };
    const spawn = () => {
      let current = -1;
      const w = startCheckWorker();
      live++;
      const feed = () => {
        if (failed || next >= tasks.length) {
          current = -1;
          void w.terminate();
          return;
        }
        current = next++;
        w.postMessage({ id: current, task: tasks[current] });
      };
      w.on('message', (m: WorkerReply) => {
        finish(m.id, m.report);
        feed();
      });
      w.on('error', (e) => {
        // The worker died (not a failed check: checkOne reports those). Its scenario is an internal error; carry on with a new worker.
        if (current >= 0 && results[current] === undefined) finish(current, errorReport(tasks[current]!, e));
        current = -1;
      });
      w.on('exit', () => {
        live--;
        if (!failed && next < tasks.length) spawn();
        else if (live === 0) {
          const missing = results.findIndex((r) => r === undefined);
          if (missing >= 0) {
            failed = true;
            rejectAll(new Error(`worker pool ended without a result for ${tasks[missing]!.name}`));
          } else resolveAll(results as ScenarioReport[]);
        }
      });
      feed();
    };
    for (let j = 0; j < jobs; j++) spawn();
  });
}
