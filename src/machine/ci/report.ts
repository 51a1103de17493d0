/**
 * The report of a `simrun check` run over one or many scenarios, and its
 * CI renderings: text lines, one JSON object, JUnit XML, GitHub Actions
 * workflow commands. `simrun merge-reports` reads the JSON and JUnit forms
 * back and joins shards. Everything here is a pure function of the report:
 * no wall clock, so the same run gives the same bytes.
 */
import { relative, isAbsolute } from 'node:path';
import { InputError } from '../../sim/errors.js';
import { childrenNamed, parseXml, XmlError, xmlAttr, xmlText, type XmlElement } from './xml.js';

/** A comparison's verdict; ERROR when the scenario could not be checked at all (bad input, internal error). */
export type Verdict = 'IDENTICAL' | 'TIMING-ONLY' | 'FUNCTIONAL' | 'ERROR';
export const VERDICTS: readonly Verdict[] = ['IDENTICAL', 'TIMING-ONLY', 'FUNCTIONAL', 'ERROR'];

export interface ScenarioReport {
  /** Scenario name (the file name without .json). */
  name: string;
  /** Scenario file, as given. */
  scenario: string;
  /** Golden trace, as given. */
  golden: string;
  verdict: Verdict;
  /** The check's exit code: 0 passed, 1 failed, 2 bad input, 3 internal error. */
  exitCode: number;
  /** Fact-first lines saying what changed (or why the scenario could not be checked). */
  headlines: string[];
  /** Expectation failures of the re-simulation. */
  failures: string[];
  /** Divergences counted by the comparison (0 when identical or not compared). */
  divergences: number;
  /** Where the re-simulated trace was kept (--save-actual). */
  actual?: string;
  /** Where the HTML diff report was written (--html). */
  html?: string;
}

export interface CheckReport {
  format: 'simrun-check/1';
  /** The shard this run covered ("2/4"), if any. */
  shard?: string;
  scenarios: ScenarioReport[];
  /** Scenarios found without a golden trace (not checked). */
  withoutGolden: string[];
  totals: Record<Verdict, number>;
  /** The worst exit code of the scenarios (0 when there are none). */
  exitCode: number;
}

/** Names compare by code point, never by locale: the order is the same on every machine. */
export function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function makeReport(scenarios: ScenarioReport[], withoutGolden: string[] = [], shard?: string): CheckReport {
  const sorted = [...scenarios].sort(byName);
  const totals: Record<Verdict, number> = { IDENTICAL: 0, 'TIMING-ONLY': 0, FUNCTIONAL: 0, ERROR: 0 };
  for (const s of sorted) totals[s.verdict]++;
  const r: CheckReport = {
    format: 'simrun-check/1',
    scenarios: sorted,
    withoutGolden: [...withoutGolden].sort(),
    totals,
    exitCode: sorted.reduce((w, s) => Math.max(w, s.exitCode), 0),
  };
  if (shard !== undefined) r.shard = shard;
  return r;
}

// ---------------------------------------------------------------------------
// Text

/** One line per scenario with its verdict (and the first headlines of a failure), then the total. */
export function formatText(r: CheckReport, o: { headlines?: number } = {}): string[] {
  const width = Math.max(8, ...r.scenarios.map((s) => s.name.length));
  const lines: string[] = [];
  for (const s of r.scenarios) {
    const status = s.exitCode === 0 ? 'ok' : s.exitCode === 1 ? 'FAIL' : 'ERROR';
    lines.push(`${s.name.padEnd(width)}  ${s.verdict.padEnd(11)}  ${status}`);
    if (s.verdict !== 'IDENTICAL') {
      const n = o.headlines ?? 3;
      for (const h of s.headlines.slice(0, n)) lines.push(`${' '.repeat(width + 2)}${h}`);
      if (s.headlines.length > n) lines.push(`${' '.repeat(width + 2)}(${s.headlines.length - n} more)`);
      if (s.actual !== undefined) lines.push(`${' '.repeat(width + 2)}re-simulated trace: ${s.actual}`);
      if (s.html !== undefined) lines.push(`${' '.repeat(width + 2)}html report: ${s.html}`);
    }
  }
  lines.push(totalLine(r));
  return lines;
}

export function totalLine(r: CheckReport): string {
  const t = r.totals;
  const failed = r.scenarios.filter((s) => s.exitCode !== 0).length;
  const parts = [`${t.IDENTICAL} identical`, `${t['TIMING-ONLY']} timing-only`, `${t.FUNCTIONAL} functional`];
  if (t.ERROR > 0) parts.push(`${t.ERROR} error${t.ERROR === 1 ? '' : 's'}`);
  const n = r.scenarios.length;
  return `${n} scenario${n === 1 ? '' : 's'}${r.shard !== undefined ? ` (shard ${r.shard})` : ''}: ${parts.join(', ')}; `
    + `${failed === 0 ? 'PASS' : `FAIL (${failed} failed)`}`
    + (r.withoutGolden.length > 0 ? `; without a golden trace, not checked: ${r.withoutGolden.join(', ')}` : '');
}

// ---------------------------------------------------------------------------
// JUnit XML

/**
 * JUnit XML as Jenkins, GitLab, GitHub test reporters and the like read it:
 * <testsuites><testsuite><testcase> with a <failure> (exit 1) or <error>
 * (exit 2 or 3) whose message is the first headline and whose text holds
 * them all. The verdict is the failure's type and the first line of
 * <system-out>. Times are 0: the simulated run takes no wall time that
 * would be the same twice.
 */
export function renderJunit(r: CheckReport, suiteName = 'simrun check'): string {
  const failures = r.scenarios.filter((s) => s.exitCode === 1).length;
  const errors = r.scenarios.filter((s) => s.exitCode > 1).length;
  const counts = `tests="${r.scenarios.length}" failures="${failures}" errors="${errors}" skipped="0" time="0"`;
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(`<testsuites name="${xmlAttr(suiteName)}" ${counts}>`);
  out.push(`  <testsuite name="${xmlAttr(suiteName)}" ${counts}>`);
  if (r.shard !== undefined) out.push(`    <properties><property name="shard" value="${xmlAttr(r.shard)}"/></properties>`);
  for (const s of r.scenarios) {
    out.push(`    <testcase classname="simrun.check" name="${xmlAttr(s.name)}" file="${xmlAttr(s.scenario)}" time="0">`);
    const body = [...s.headlines, ...s.failures.filter((f) => !s.headlines.includes(f)).map((f) => `expectation failed: ${f}`)].join('\n');
    const message = s.headlines[0] ?? s.failures[0] ?? s.verdict;
    if (s.exitCode === 1) out.push(`      <failure message="${xmlAttr(message)}" type="${s.verdict}">${xmlText(body)}</failure>`);
    else if (s.exitCode > 1) out.push(`      <error message="${xmlAttr(message)}" type="${s.verdict}">${xmlText(body)}</error>`);
    const sysout = [`verdict: ${s.verdict}`, `exit code: ${s.exitCode}`, `golden: ${s.golden}`,
      ...(s.divergences > 0 ? [`divergences: ${s.divergences}`] : []),
      ...(s.actual !== undefined ? [`re-simulated trace: ${s.actual}`] : []),
      ...(s.html !== undefined ? [`html report: ${s.html}`] : []),
      ...(s.exitCode === 0 ? s.headlines.map((h) => `headline: ${h}`) : []),
      ...(s.exitCode === 0 ? s.failures.map((f) => `failure: ${f}`) : [])];
    out.push(`      <system-out>${xmlText(sysout.join('\n'))}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

/** Reads a JUnit file written by renderJunit (or a compatible one: verdicts are inferred when absent). */
export function parseJunit(text: string, file: string): CheckReport {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlError) throw new InputError(file, '', `not well-formed XML: ${e.message}`);
    throw e;
  }
  const suites = root.name === 'testsuites' ? childrenNamed(root, 'testsuite') : root.name === 'testsuite' ? [root] : undefined;
  if (suites === undefined) throw new InputError(file, root.name, 'not a JUnit report: the root element must be <testsuites> or <testsuite>');
  const scenarios: ScenarioReport[] = [];
  let shard: string | undefined;
  for (const suite of suites) {
    for (const props of childrenNamed(suite, 'properties')) {
      for (const p of childrenNamed(props, 'property')) if (p.attrs.name === 'shard') shard = p.attrs.value;
    }
    childrenNamed(suite, 'testcase').forEach((tc, k) => {
      const name = tc.attrs.name;
      if (name === undefined || name === '') throw new InputError(file, `testsuite.testcase[${k}]`, 'has no name attribute');
      const failure = childrenNamed(tc, 'failure')[0];
      const error = childrenNamed(tc, 'error')[0];
      const sysout = childrenNamed(tc, 'system-out').map((e) => e.text).join('\n').split('\n');
      const field = (key: string) => sysout.find((l) => l.startsWith(`${key}: `))?.slice(key.length + 2);
      const fields = (key: string) => sysout.filter((l) => l.startsWith(`${key}: `)).map((l) => l.slice(key.length + 2));
      const exitText = field('exit code');
      const exitCode = exitText !== undefined && /^[0-9]$/.test(exitText) ? Number(exitText) : error !== undefined ? 2 : failure !== undefined ? 1 : 0;
      const v = field('verdict') ?? (failure ?? error)?.attrs.type;
      const verdict: Verdict = v !== undefined && (VERDICTS as readonly string[]).includes(v) ? v as Verdict
        : error !== undefined ? 'ERROR' : failure !== undefined ? 'FUNCTIONAL' : 'IDENTICAL';
      const bodyLines = ((failure ?? error)?.text ?? '').split('\n').filter((l) => l !== '');
      const headlines = failure !== undefined || error !== undefined
        ? bodyLines.filter((l) => !l.startsWith('expectation failed: ')) : fields('headline');
      const failures = failure !== undefined || error !== undefined
        ? bodyLines.filter((l) => l.startsWith('expectation failed: ')).map((l) => l.slice('expectation failed: '.length)) : fields('failure');
      const s: ScenarioReport = {
        name, scenario: tc.attrs.file ?? '', golden: field('golden') ?? '', verdict, exitCode, headlines, failures,
        divergences: Number(field('divergences') ?? 0) || 0,
      };
      const actual = field('re-simulated trace');
      if (actual !== undefined) s.actual = actual;
      const html = field('html report');
      if (html !== undefined) s.html = html;
      scenarios.push(s);
    });
  }
  return makeReport(scenarios, [], shard);
}

// ---------------------------------------------------------------------------
// JSON

export function renderJson(r: CheckReport): string {
  return JSON.stringify(r);
}

/** Reads a report printed by `check --all --json` (or `merge-reports --json`); exit 2 naming the field when it is not one. */
export function parseJsonReport(text: string, file: string): CheckReport {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, '', `not JSON: ${(e as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || !Array.isArray((j as { scenarios?: unknown }).scenarios)) {
    throw new InputError(file, 'scenarios', 'not a simrun check report (expected an object with a scenarios array, as `simrun check --all --json` prints)');
  }
  const o = j as { scenarios: unknown[]; withoutGolden?: unknown; shard?: unknown };
  const scenarios = o.scenarios.map((x, k): ScenarioReport => {
    const at = `scenarios[${k}]`;
    if (typeof x !== 'object' || x === null) throw new InputError(file, at, 'not an object');
    const s = x as Record<string, unknown>;
    const str = (key: string, def?: string): string => {
      const v = s[key] ?? def;
      if (typeof v !== 'string') throw new InputError(file, `${at}.${key}`, 'missing or not a string');
      return v;
    };
    const strs = (key: string): string[] => {
      const v = s[key] ?? [];
      if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) throw new InputError(file, `${at}.${key}`, 'not an array of strings');
      return v as string[];
    };
    const num = (key: string, def?: number): number => {
      const v = s[key] ?? def;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new InputError(file, `${at}.${key}`, 'missing or not a non-negative integer');
      return v;
    };
    const verdict = str('verdict');
    if (!(VERDICTS as readonly string[]).includes(verdict)) throw new InputError(file, `${at}.verdict`, `"${verdict}" is not one of ${VERDICTS.join(', ')}`);
    const r: ScenarioReport = {
      name: str('name'), scenario: str('scenario', ''), golden: str('golden', ''), verdict: verdict as Verdict,
      exitCode: num('exitCode'), headlines: strs('headlines'), failures: strs('failures'), divergences: num('divergences', 0),
    };
    if (typeof s.actual === 'string') r.actual = s.actual;
    if (typeof s.html === 'string') r.html = s.html;
    return r;
  });
  const without = Array.isArray(o.withoutGolden) ? o.withoutGolden.filter((w): w is string => typeof w === 'string') : [];
  return makeReport(scenarios, without, typeof o.shard === 'string' ? o.shard : undefined);
}

/** Reads either form, by its first character. */
export function parseReport(text: string, file: string): CheckReport {
  const t = text.replace(/^\ufeff/, '').trimStart();
  if (t.startsWith('<')) return parseJunit(t, file);
  if (t.startsWith('{')) return parseJsonReport(t, file);
  throw new InputError(file, '', 'neither a JSON report (check --all --json) nor a JUnit XML file (check --junit)');
}

/**
 * Joins shard reports: every scenario once (a scenario in two reports is bad
 * input naming both files, as overlapping shards would be), sorted by name.
 */
export function mergeReports(reports: { file: string; report: CheckReport }[]): CheckReport {
  const seen = new Map<string, string>();
  const all: ScenarioReport[] = [];
  const without = new Set<string>();
  for (const { file, report } of reports) {
    for (const s of report.scenarios) {
      const first = seen.get(s.name);
      if (first !== undefined) throw new InputError(file, s.name, `scenario "${s.name}" is also in ${first}: the reports overlap (were the shards split the same way?)`);
      seen.set(s.name, file);
      all.push(s);
    }
    for (const w of report.withoutGolden) without.add(w);
  }
  return makeReport(all, [...without]);
}

// ---------------------------------------------------------------------------
// GitHub Actions workflow commands

/** Escapes the message of a workflow command. */
function ghData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value of a workflow command. */
function ghProp(s: string): string {
  return ghData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * `::error` for every failing scenario, `::warning` for a TIMING-ONLY one
 * that passed, nothing for IDENTICAL. `file` is the scenario relative to
 * `base` (the repository root, where GitHub resolves it).
 */
export function renderAnnotations(r: CheckReport, base: string): string[] {
  const lines: string[] = [];
  for (const s of r.scenarios) {
    const level = s.exitCode !== 0 ? 'error' : s.verdict === 'TIMING-ONLY' ? 'warning' : undefined;
    if (level === undefined) continue;
    const file = s.scenario === '' ? '' : isAbsolute(s.scenario) ? relative(base, s.scenario) : s.scenario;
    const title = `simrun check ${s.name}: ${s.verdict}`;
    const facts = [...s.headlines, ...s.failures.filter((f) => !s.headlines.includes(f)).map((f) => `expectation failed: ${f}`)];
    const message = facts.length > 0 ? facts.join('\n') : s.verdict === 'TIMING-ONLY' ? 'only timing changed' : `check failed (exit ${s.exitCode})`;
    const props = [...(file !== '' && !file.startsWith('..') ? [`file=${ghProp(file)}`] : []), `title=${ghProp(title)}`];
    lines.push(`::${level} ${props.join(',')}::${ghData(message)}`);
  }
  return lines;
}
