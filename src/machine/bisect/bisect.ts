/**
 * `simrun bisect`: finds the first bad commit of a git range, or the first
 * bad variant of an ordered list of machine/firmware variants, and shows
 * its first divergent event against the last good one.
 *
 * Classification of one item (commit or variant):
 * - `golden`: its trace is compared with the golden trace, streaming; identical is good.
 * - `first-variant` (variants only): the same against the first variant's trace, which must
 *   meet the scenario's expectations.
 * - `expectations`: the run meets the scenario's expectations (exit code 0) is good.
 * Default: `golden` when a golden trace exists; else `expectations` (git) or
 * `first-variant` (variants). The first item must be good and the last bad;
 * both are checked before the search. See docs/BISECT.md.
 *
 * Exit codes: 0 the first bad item was found; 1 nothing to isolate (the good
 * end is not good, the bad end is not bad) or untestable items hide the
 * exact answer; 2 bad input (options, refs, range, dirty tree, variants
 * file, an endpoint that cannot be tested).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError } from '../../sim/errors.js';
import { runScenario } from '../run.js';
import { deviceDecoders } from '../../devices/decoders.js';
import type { DeviceDecoder } from '../../trace/decoder.js';
import type { CompareResult } from '../../trace/compare/compare.js';
import { formatReport, reportJson } from '../../trace/compare/report.js';
import { TraceFormatError } from '../../trace/format.js';
import { openTrace } from '../../trace/reader.js';
import { judgeTraces, type FailOn } from '../../trace/verdict/judge.js';
import { compareTraceFiles, firstDifference, type EventComparison, type TraceComparison } from './compare.js';
import { parseRange, rangeCommits, repoRoot, requireClean, resolveCommit, runAtCommit, type Commit } from './git.js';
import { bisectSearch, stepsFor, type SearchState, type Verdict } from './search.js';
import { CLASSIFY_MODES, conventionalGolden, loadVariants, variantComparison, type ClassifyMode, type VariantsFile } from './variants.js';

export type { ClassifyMode } from './variants.js';
export type { Verdict } from './search.js';

export const DEFAULT_BISECT_SCENARIO = 'fixtures/scenarios/nvme-msix.json';
export const DEFAULT_INSTALL = 'npm install --no-audit --no-fund';

export interface BisectOptions {
  /** "<good>..<bad>": bisect the first-parent commits of this range. */
  git?: string;
  /** The repository (any folder inside it); default the current directory. */
  repo?: string;
  /** Git mode: scenario path relative to the repository root (or absolute), or a name in fixtures/scenarios/. */
  scenario?: string;
  /** Golden trace (relative to the current directory). Git default: traces/<scenario>.simtrace of the current tree. */
  golden?: string;
  /** Git mode: install command run in each worktree (default `npm ci --no-audit --no-fund` when the commit has a package-lock.json, else DEFAULT_INSTALL). */
  install?: string;
  /** Variants file: bisect its ordered list of variants instead of commits. */
  variants?: string;
  /** How an item is classified (default: golden if a golden trace exists, see above). */
  classify?: ClassifyMode;
  /**
   * Against a trace, what makes an item bad: a FUNCTIONAL verdict (default;
   * a timing-only difference is good) or any difference (`timing`: the
   * strict event-by-event comparison, for series that change timing on purpose).
   */
  failOn?: FailOn;
  /** Events of context on each side in the final report (default 20). */
  context?: number;
  /** One JSON object on `out` instead of text. */
  json?: boolean;
  /** Register decoders for reports (default: every device type's). */
  decoders?: Map<string, DeviceDecoder>;
  /** Folder for worktrees and traces (default the OS temp folder); everything made is removed. */
  tmpDir?: string;
  /** Result text (or the JSON object). */
  out: (text: string) => void;
  /** Progress lines (which item, its classification). Default: `out` in text mode, nowhere with json. */
  progress?: (text: string) => void;
  /** Error messages (exit 2). Default: `out`. */
  err?: (text: string) => void;
}

export interface BisectItem {
  /** Position in the list: 0 is the good end, the last one the bad end. */
  index: number;
  /** "1a2b3c4d5e6f subject" or the variant name. */
  label: string;
  commit?: string;
  subject?: string;
  name?: string;
}

export interface ProbeRecord {
  item: BisectItem;
  role: 'good end' | 'bad end' | 'probe';
  verdict: Verdict;
  /** Why, in one line: the first difference, the failed expectation, why it could not be tested. */
  why: string;
}

export type BisectStatus = 'found' | 'ambiguous' | 'good-end-bad' | 'bad-end-good' | 'bad-input';

export interface BisectOutcome {
  exitCode: 0 | 1 | 2;
  status: BisectStatus;
  mode: 'git' | 'variants' | undefined;
  classify: ClassifyMode | undefined;
  /** The golden trace used, if any. */
  golden: string | undefined;
  /** The first bad item (`found`), or the first known bad one (`ambiguous`). */
  firstBad?: BisectItem;
  /** The last good item. */
  lastGood?: BisectItem;
  /** `ambiguous`: the items one of which is the first bad one. */
  candidates?: BisectItem[];
  /** Expectation failures of the first bad item's run. */
  failures: string[];
  /** Last good trace (expected) against first bad trace (actual). */
  comparison?: CompareResult;
  probes: ProbeRecord[];
  /** One-paragraph summary (also printed). */
  message: string;
  /** The bad-input message (exit 2). */
  error?: string;
}

interface Probe {
  verdict: Verdict;
  why: string;
  trace: string | undefined;
  failures: string[];
}

/** What a bisect is over: the items and how to classify one. */
interface Subject {
  mode: 'git' | 'variants';
  noun: string;
  items: BisectItem[];
  classify: ClassifyMode;
  golden: string | undefined;
  intro: string;
  probe(i: number): Probe;
  /** Which events the comparisons look at and how they are equated (a variants file's `ignore`, `lengthOnly`); undefined = everything, exactly. */
  comparison?: EventComparison;
}

export function runBisect(opts: BisectOptions): BisectOutcome {
  const json = opts.json === true;
  const progress = opts.progress ?? (json ? () => {} : opts.out);
  const decoders = opts.decoders ?? deviceDecoders();
  const context = opts.context ?? 20;
  let tmp: string | undefined;
  const probes: ProbeRecord[] = [];
  let subject: Subject | undefined;
  try {
    if ((opts.git === undefined) === (opts.variants === undefined)) {
      throw new InputError('bisect', '', 'give either --git <good>..<bad> or --variants <file>');
    }
    if (opts.classify !== undefined && !CLASSIFY_MODES.includes(opts.classify)) {
      throw new InputError('--classify', '', `must be one of ${CLASSIFY_MODES.join(', ')}, got ${JSON.stringify(opts.classify)}`);
    }
    if (opts.context !== undefined && (!Number.isInteger(opts.context) || opts.context < 0)) {
      throw new InputError('--context', '', `must be a whole number of events, got ${opts.context}`);
    }
    tmp = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'simrun-bisect-'));
    const t = tmp;
    subject = opts.git !== undefined ? gitSubject(opts, opts.git, t, decoders) : variantsSubject(opts, opts.variants!, t, decoders);
    return bisect(subject, opts, probes, progress, decoders, context, json);
  } catch (e) {
    if (e instanceof InputError || e instanceof TraceFormatError) {
      const outcome: BisectOutcome = {
        exitCode: 2, status: 'bad-input', mode: subject?.mode ?? (opts.git !== undefined ? 'git' : opts.variants !== undefined ? 'variants' : undefined),
        classify: subject?.classify, golden: subject?.golden, failures: [], probes, message: e.message, error: e.message,
      };
      if (json) opts.out(JSON.stringify(outcomeJson(outcome, undefined)));
      else (opts.err ?? opts.out)(`error: ${e.message}`);
      return outcome;
    }
    throw e;
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// The search, common to both modes

function bisect(
  s: Subject, opts: BisectOptions, probes: ProbeRecord[], progress: (t: string) => void,
  decoders: Map<string, DeviceDecoder>, context: number, json: boolean,
): BisectOutcome {
  const n = s.items.length;
  const results = new Map<number, Probe>();
  const Noun = s.noun[0]!.toUpperCase() + s.noun.slice(1);
  progress(s.intro);
  const run = (i: number, role: ProbeRecord['role'], state?: SearchState): Probe => {
    const item = s.items[i]!;
    const p = s.probe(i);
    results.set(i, p);
    probes.push({ item, role, verdict: p.verdict, why: p.why });
    const head = role === 'probe' ? `[${state?.left ?? 0} left, ~${state?.steps ?? 0} step${state?.steps === 1 ? '' : 's'}]` : `[${role}]`;
    progress(`${head} ${item.label}: ${p.verdict}${p.why ? ` (${p.why})` : ''}`);
    return p;
  };
  const base = { mode: s.mode, classify: s.classify, golden: s.golden, probes } as const;
  const finish = (o: BisectOutcome, cmp: TraceComparison | undefined): BisectOutcome => {
    if (json) opts.out(JSON.stringify(outcomeJson(o, cmp)));
    else {
      const lines = [o.message];
      if (o.failures.length > 0) lines.push(`expectations failed at the first bad ${s.noun}:`, ...o.failures.map((f) => `  - ${f}`));
      if (cmp !== undefined) {
        lines.push('', `first divergence, ${cmp.ctx.expectedLabel} against ${cmp.ctx.actualLabel}:`, formatReport(cmp.result, cmp.ctx));
      }
      opts.out(lines.join('\n'));
    }
    return o;
  };

  const good = s.items[0]!;
  const bad = s.items[n - 1]!;
  const g = run(0, 'good end');
  if (g.verdict === 'skip') throw new InputError(good.label, '', `the good end cannot be tested: ${g.why}`);
  if (g.verdict === 'bad') {
    return finish({
      ...base, exitCode: 1, status: 'good-end-bad', failures: g.failures,
      message: `nothing to bisect: the good end ${good.label} is not good (${g.why}). `
        + (s.classify === 'golden' ? 'Either the regression is older than the range, or the golden trace does not match it: pick an older good end, or pass --golden.'
          : `The regression is older than the range: pick an older good ${s.noun}.`),
    }, undefined);
  }
  const b = run(n - 1, 'bad end');
  if (b.verdict === 'skip') throw new InputError(bad.label, '', `the bad end cannot be tested: ${b.why}`);
  if (b.verdict === 'good') {
    return finish({
      ...base, exitCode: 1, status: 'bad-end-good', failures: [],
      message: `nothing to bisect: the bad end ${bad.label} is good (${b.why}), so there is no regression to find between the two ends`
        + `${s.classify === 'golden' ? ' (with respect to the golden trace)' : s.classify === 'expectations' ? ' (its expectations hold)' : ''}.`,
    }, undefined);
  }
  if (n > 2) progress(`bisecting: ${n - 2} ${s.noun}s between the ends, about ${stepsFor(n - 2)} steps`);
  const r = bisectSearch(n, (i, state) => run(i, 'probe', state).verdict);
  const lastGood = s.items[r.lastGood]!;
  const firstBad = s.items[r.firstBad]!;
  const lg = results.get(r.lastGood)!;
  const fb = results.get(r.firstBad)!;
  let cmp: TraceComparison | undefined;
  let note = '';
  if (lg.trace !== undefined && fb.trace !== undefined) {
    try {
      cmp = compareTraceFiles(lg.trace, fb.trace, { expected: `last good (${short(lastGood)})`, actual: `first bad (${short(firstBad)})` }, decoders, context, s.comparison === undefined, s.comparison);
      if (cmp.result.identical) note = ` Its trace is identical to the last good ${s.noun}'s: the difference is in the expectations only.`;
    } catch (e) {
      if (!(e instanceof TraceFormatError)) throw e;
      note = ` Its trace cannot be compared: ${e.message}.`;
    }
  } else note = ` No trace to compare: ${fb.why}.`;
  if (r.status === 'found') {
    return finish({
      ...base, exitCode: 0, status: 'found', firstBad, lastGood, failures: fb.failures, comparison: cmp?.result,
      message: `first bad ${s.noun}: ${full(firstBad)}\n  (${fb.why})\nlast good ${s.noun}: ${full(lastGood)}\n`
        + `${Noun}s probed: ${r.probed.length + 2} of ${n}.${note}`,
    }, cmp);
  }
  const candidates = [...r.skipped.map((i) => s.items[i]!), firstBad];
  return finish({
    ...base, exitCode: 1, status: 'ambiguous', firstBad, lastGood, candidates, failures: fb.failures, comparison: cmp?.result,
    message: `could not isolate the first bad ${s.noun}: ${r.skipped.length} untestable ${s.noun}${r.skipped.length === 1 ? '' : 's'} `
      + `between the last good one (${lastGood.label}) and the first known bad one (${firstBad.label}). The first bad ${s.noun} is one of:\n`
      + candidates.map((c) => `  ${c.label}`).join('\n') + note,
  }, cmp);
}

/** The full hash and subject of a commit, or the variant name. */
function full(item: BisectItem): string {
  return item.commit !== undefined ? `${item.commit} ${item.subject ?? ''}` : item.label;
}

function short(item: BisectItem): string {
  return item.commit !== undefined ? item.commit.slice(0, 12) : item.label;
}

function outcomeJson(o: BisectOutcome, cmp: TraceComparison | undefined): Record<string, unknown> {
  return {
    exitCode: o.exitCode,
    status: o.status,
    mode: o.mode,
    classify: o.classify,
    golden: o.golden,
    firstBad: o.firstBad,
    lastGood: o.lastGood,
    candidates: o.candidates,
    failures: o.failures,
    message: o.message,
    error: o.error,
    probes: o.probes.map((p) => ({ ...p.item, role: p.role, verdict: p.verdict, why: p.why })),
    divergence: cmp === undefined ? undefined : reportJson(cmp.result, cmp.ctx),
  };
}

/** Checks a golden trace can be read (exit 2 otherwise) and returns its absolute path. */
function checkGolden(path: string, field: string): string {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(field, '', `golden trace not found: ${abs}`);
  openTrace(abs);
  return abs;
}

/** Classifies a recorded trace against a reference trace. */
function againstTrace(
  ref: string, refLabel: string, trace: string | undefined, label: string, decoders: Map<string, DeviceDecoder>, failures: string[],
  failOn: FailOn, comparison?: EventComparison,
): Probe {
  if (trace === undefined) return { verdict: 'bad', why: 'no trace was recorded', trace, failures };
  try {
    if (failOn === 'functional' && comparison === undefined) {
      const v = judgeTraces(ref, trace, decoders);
      if (v.verdict !== 'FUNCTIONAL') {
        return { verdict: 'good', why: `${v.verdict === 'IDENTICAL' ? 'identical to' : 'timing-only against'} the ${refLabel} trace, ${v.actualEvents} events`, trace, failures };
      }
      return { verdict: 'bad', why: `differs from the ${refLabel} trace (FUNCTIONAL): ${v.headlines[0] ?? 'behaviour differs'}`, trace, failures };
    }
    const c = compareTraceFiles(ref, trace, { expected: refLabel, actual: label }, decoders, 2, false, comparison);
    if (c.result.identical) return { verdict: 'good', why: `identical to the ${refLabel} trace, ${c.result.expectedEvents} events`, trace, failures };
    return { verdict: 'bad', why: `differs from the ${refLabel} trace: ${firstDifference(c)}`, trace, failures };
  } catch (e) {
    if (e instanceof TraceFormatError) return { verdict: 'bad', why: `unreadable trace: ${e.message}`, trace: undefined, failures };
    throw e;
  }
}

function byExpectations(failures: string[], trace: string | undefined): Probe {
  if (failures.length === 0) return { verdict: 'good', why: 'expectations held', trace, failures };
  return { verdict: 'bad', why: `expectations failed: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`, trace, failures };
}

// ---------------------------------------------------------------------------
// Git mode

/** The scenario argument for `simrun run` inside a worktree: relative to the repository root, or absolute outside it. */
function scenarioInRepo(s: string | undefined, root: string): string {
  if (s === undefined || s === '') return DEFAULT_BISECT_SCENARIO;
  if (!s.endsWith('.json') && !s.includes('/')) return `fixtures/scenarios/${s}.json`;
  if (isAbsolute(s)) {
    const rel = relative(root, s);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : s;
  }
  return s;
}

function gitSubject(opts: BisectOptions, rangeText: string, tmp: string, decoders: Map<string, DeviceDecoder>): Subject {
  if (opts.classify === 'first-variant') throw new InputError('--classify', '', 'first-variant is for --variants; with --git use golden or expectations');
  const range = parseRange(rangeText);
  const root = repoRoot(resolve(opts.repo ?? '.'));
  requireClean(root);
  const good = resolveCommit(root, range.good, 'good');
  const bad = resolveCommit(root, range.bad, 'bad');
  const commits: Commit[] = [good, ...rangeCommits(root, good, bad, rangeText)];
  const scenario = scenarioInRepo(opts.scenario, root);
  let golden: string | undefined;
  if (opts.golden !== undefined) golden = checkGolden(opts.golden, '--golden');
  else {
    const g = join(root, 'traces', `${basename(scenario, '.json')}.simtrace`);
    if (existsSync(g)) golden = checkGolden(g, '--golden');
  }
  const classify: ClassifyMode = opts.classify ?? (golden !== undefined ? 'golden' : 'expectations');
  const failOn: FailOn = opts.failOn ?? 'functional';
  if (classify === 'golden' && golden === undefined) {
    throw new InputError('--golden', '', `no golden trace for ${scenario} (looked for traces/${basename(scenario, '.json')}.simtrace in ${root}); pass --golden, or --classify expectations`);
  }
  // Undefined: each worktree picks npm ci (lockfile) or npm install (defaultInstall).
  const install = opts.install;
  const items: BisectItem[] = commits.map((c, index) => ({ index, label: `${c.hash.slice(0, 12)} ${c.subject}`, commit: c.hash, subject: c.subject }));
  return {
    mode: 'git', noun: 'commit', items, classify, golden: classify === 'golden' ? golden : undefined,
    intro: `bisect: ${scenario} over ${commits.length - 1} commits after ${good.hash.slice(0, 12)} up to ${bad.hash.slice(0, 12)} (first-parent), `
      + (classify === 'golden' ? `compared with the golden trace ${golden}` : "classified by the scenario's expectations"),
    probe(i) {
      const c = commits[i]!;
      const tracePath = join(tmp, `${i}-${c.hash.slice(0, 12)}.simtrace`);
      const r = runAtCommit(root, c, { tmp, scenario, install, tracePath });
      if (r.kind === 'untestable') return { verdict: 'skip', why: r.reason, trace: undefined, failures: [] };
      if (r.exitCode !== 0 && r.exitCode !== 1) {
        const how = r.exitCode === null ? `killed by ${r.signal ?? 'a signal'}` : `exit ${r.exitCode}`;
        return { verdict: 'bad', why: `the run crashed (${how})${r.reason ? `: ${r.reason}` : ''}`, trace: r.trace, failures: r.failures };
      }
      if (classify === 'golden') return againstTrace(golden!, 'golden', r.trace, short(items[i]!), decoders, r.failures, failOn);
      if (r.exitCode === 1 && r.failures.length === 0) {
        return { verdict: 'bad', why: `the run failed (exit 1)${r.reason ? `: ${r.reason}` : ''}`, trace: r.trace, failures: r.failures };
      }
      return byExpectations(r.failures, r.trace);
    },
  };
}

// ---------------------------------------------------------------------------
// Variants mode

function variantsSubject(opts: BisectOptions, file: string, tmp: string, decoders: Map<string, DeviceDecoder>): Subject {
  for (const [k, flag] of [['scenario', '--scenario'], ['install', '--install'], ['repo', '--repo']] as const) {
    if (opts[k] !== undefined) throw new InputError(flag, '', `is for --git; a variants file names its scenario itself`);
  }
  const vf: VariantsFile = loadVariants(file);
  let golden: string | undefined;
  if (opts.golden !== undefined) golden = checkGolden(opts.golden, '--golden');
  else if (vf.golden !== undefined) golden = checkGolden(vf.golden, `${file}: golden`);
  else {
    const g = conventionalGolden(vf.scenarioPath);
    if (g !== undefined) golden = checkGolden(g, '--golden');
  }
  const classify: ClassifyMode = opts.classify ?? vf.classify ?? (golden !== undefined ? 'golden' : 'first-variant');
  const failOn: FailOn = opts.failOn ?? vf.failOn ?? 'functional';
  if (classify === 'golden' && golden === undefined) {
    throw new InputError(file, 'classify', `no golden trace for ${vf.scenarioPath} (give "golden" in the file or --golden, or classify by first-variant or expectations)`);
  }
  const items: BisectItem[] = vf.variants.map((v) => ({ index: v.index, label: v.name, name: v.name }));
  const first = vf.variants[0]!;
  const comparison = variantComparison(vf);
  const traces = new Map<number, string>();
  return {
    mode: 'variants', noun: 'variant', items, classify, golden: classify === 'golden' ? golden : undefined, comparison,
    intro: `bisect: ${vf.variants.length} variants of ${vf.scenarioPath} (${file}), `
      + (classify === 'golden' ? `compared with the golden trace ${golden}`
        : classify === 'first-variant' ? `compared with the trace of the first variant, ${first.name}` : "classified by the scenario's expectations"),
    probe(i) {
      const v = vf.variants[i]!;
      const tracePath = join(tmp, `${i}.simtrace`);
      let failures: string[];
      try {
        failures = runScenario(v.scenario, { record: tracePath }).result.failures;
      } catch (e) {
        if (e instanceof InputError) throw new InputError(file, v.field, e.message);
        // The simulator threw: the variant is bad, and its trace is incomplete.
        return { verdict: 'bad', why: `the run threw: ${(e as Error).message}`, trace: undefined, failures: [] };
      }
      traces.set(i, tracePath);
      switch (classify) {
        case 'golden': return againstTrace(golden!, 'golden', tracePath, v.name, decoders, failures, failOn, comparison);
        case 'expectations': return byExpectations(failures, tracePath);
        case 'first-variant': {
          if (i === 0) {
            const p = byExpectations(failures, tracePath);
            return p.verdict === 'good' ? { ...p, why: 'expectations held; its trace is the reference' }
              : { ...p, why: `${p.why}; the first variant must be good to be the reference` };
          }
          const ref = traces.get(0);
          if (ref === undefined) throw new Error('the first variant was not run before the others');
          return againstTrace(ref, first.name, tracePath, v.name, decoders, failures, failOn, comparison);
        }
      }
    },
  };
}
