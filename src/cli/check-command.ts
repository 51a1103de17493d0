/**
 * `simrun check` with its CI options (one scenario, or --all), and
 * `simrun merge-reports`. The machine side is src/machine/ci; this file
 * parses options, writes the files and prints.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError } from '../sim/errors.js';
import { checkOne, parseShard, runCheckAll, type ScenarioTask } from '../machine/ci/check-all.js';
import {
  formatText, makeReport, mergeReports, parseReport, renderAnnotations, renderJson, renderJunit, type CheckReport,
} from '../machine/ci/report.js';
import { runCheck } from '../machine/check.js';
import { deviceDecoders } from '../devices/decoders.js';
import { UsageError } from './exit.js';
import { parseFailOn, parseIgnore, parseTimingBudget } from './compare-options.js';
import { intOption } from './options.js';
import { checkWritablePath } from './paths.js';

export interface CheckCommandOptions {
  /** Resolved scenario file (one-scenario mode). */
  scenario?: string;
  all?: boolean;
  /** Golden trace (one-scenario mode; default <goldenDir>/<name>.simtrace). */
  golden?: string;
  goldenDir: string;
  scenarioDir: string;
  update?: boolean;
  keepGoing?: boolean;
  context?: number;
  json?: boolean;
  failOn?: unknown;
  timingBudget?: unknown;
  ignore?: unknown;
  /** Boundary sanitizers in the re-simulation (default on). */
  sanitize?: boolean;
  jobs?: unknown;
  shard?: string;
  junit?: string;
  annotations?: boolean;
  saveActual?: string;
  html?: string;
  out: (text: string) => void;
}

/** A folder for output files: created when missing; exit 2 naming the option when it is a file. */
function outputDir(path: string, option: string): string {
  try {
    if (!statSync(path).isDirectory()) throw new InputError(path, '', `${option}: not a folder`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new InputError(path, '', `${option}: cannot create the folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return path;
}

function writeOutput(path: string, text: string, option: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(path, '', `${option}: cannot write it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

/** The JUnit file, annotations and the exit code, common to both modes. */
function finish(o: CheckCommandOptions, r: CheckReport): number {
  if (o.junit !== undefined) writeOutput(o.junit, renderJunit(r), '--junit');
  // Workflow commands go to stdout, where the Actions runner reads them (after a --json object, on their own lines).
  if (o.annotations) for (const l of renderAnnotations(r, process.cwd())) o.out(l);
  return r.exitCode;
}

export async function checkCommand(o: CheckCommandOptions): Promise<number> {
  const failOn = parseFailOn(o.failOn);
  const timingBudgetPct = parseTimingBudget(o.timingBudget);
  const ignore = parseIgnore(o.ignore);
  const taskOpts = {
    ...(timingBudgetPct !== undefined ? { timingBudgetPct } : {}), ...(ignore !== undefined ? { ignore } : {}),
    ...(o.sanitize !== undefined ? { sanitize: o.sanitize } : {}),
  };
  const jobs = intOption('jobs', o.jobs, 1, 256);
  if (o.junit !== undefined) checkWritablePath(o.junit, '--junit');
  if (o.all) {
    if (o.scenario !== undefined) throw new UsageError('check --all checks every scenario with a golden trace; give no scenario with it');
    if (o.update) throw new UsageError('check --all cannot --update: update golden traces one scenario at a time (simrun check <scenario> --update), so each change is reviewed');
    if (o.golden !== undefined) throw new UsageError('--golden names one trace; with --all give --golden-dir');
    const shard = o.shard === undefined ? undefined : parseShard(o.shard);
    const saveActual = o.saveActual === undefined ? undefined : outputDir(o.saveActual, '--save-actual');
    const htmlDir = o.html === undefined ? undefined : outputDir(o.html, '--html');
    const r = await runCheckAll({
      scenarioDir: o.scenarioDir, goldenDir: o.goldenDir, jobs, shard, keepGoing: o.keepGoing, context: o.context, failOn, saveActual, htmlDir, ...taskOpts,
    });
    if (o.json) o.out(renderJson(r));
    else for (const l of formatText(r)) o.out(l);
    return finish(o, r);
  }
  if (o.scenario === undefined) throw new UsageError('check needs a scenario, or --all');
  if (o.shard !== undefined || jobs !== undefined) throw new UsageError('--jobs and --shard are for check --all');
  const name = basename(o.scenario, '.json');
  const task: ScenarioTask = { name, scenario: o.scenario, golden: o.golden ?? join(o.goldenDir, `${name}.simtrace`), context: o.context };
  if (o.keepGoing !== undefined) task.keepGoing = o.keepGoing;
  if (failOn !== undefined) task.failOn = failOn;
  Object.assign(task, taskOpts);
  if (o.update) {
    if (o.saveActual !== undefined || o.html !== undefined || o.junit !== undefined || o.annotations) {
      throw new UsageError('--update rewrites the golden trace; --save-actual, --html, --junit and --annotations are for checking');
    }
    // Plain update: runCheck itself (it prints what changed and writes the golden trace).
    return runCheck({
      scenario: task.scenario, golden: task.golden, update: true, keepGoing: o.keepGoing, context: o.context, json: o.json,
      ...(o.sanitize !== undefined ? { sanitize: o.sanitize } : {}), decoders: deviceDecoders(), out: o.out,
    }).exitCode;
  }
  if (o.saveActual !== undefined) task.saveActual = join(outputDir(o.saveActual, '--save-actual'), `${name}.simtrace`);
  if (o.html !== undefined) {
    let isDir = false;
    try { isDir = statSync(o.html).isDirectory(); } catch { /* a new file */ }
    task.html = isDir ? join(o.html, `${name}.html`) : o.html;
    if (!isDir) checkWritablePath(o.html, '--html');
  }
  // Bad input or an internal error throws, to the CLI's error handler (exit 2 or 3, as without the CI options).
  const s = checkOne(task, { out: o.out, json: o.json === true });
  if (!o.json) {
    if (s.actual !== undefined) o.out(`re-simulated trace kept: ${s.actual}`);
    if (s.html !== undefined) o.out(`html report: ${s.html}`);
  }
  return finish(o, makeReport([s]));
}

export interface MergeOptions {
  files: string[];
  junit?: string;
  json?: boolean;
  annotations?: boolean;
  out: (text: string) => void;
}

/** `simrun merge-reports`: joins the JSON or JUnit reports of shards into one. */
export function mergeCommand(o: MergeOptions): number {
  if (o.files.length === 0) throw new UsageError('merge-reports needs report files (from check --all --json or --junit)');
  if (o.junit !== undefined) checkWritablePath(o.junit, '--junit');
  const reports = o.files.map((file) => {
    let text: string;
    try {
      if (statSync(file).isDirectory()) throw new InputError(file, '', 'is a directory, not a report file');
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (e instanceof InputError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(file, '', code === 'ENOENT' ? 'report file not found' : `cannot read it (${code ?? String(e)})`);
    }
    return { file, report: parseReport(text, file) };
  });
  const merged = mergeReports(reports);
  if (o.json) o.out(renderJson(merged));
  else for (const l of formatText(merged)) o.out(l);
  if (o.junit !== undefined) writeOutput(o.junit, renderJunit(merged), '--junit');
  if (o.annotations) for (const l of renderAnnotations(merged, process.cwd())) o.out(l);
  return merged.exitCode;
}
