/**
 * The verdict of a comparison of two traces (docs/VERDICTS.md):
 * - IDENTICAL: every event, with its time, is the same;
 * - TIMING-ONLY: every device and process did the same things (the same
 *   behaviour facts, per stream, as each stream's order kind compares them);
 *   only times, and the interleaving of independent streams, differ;
 * - FUNCTIONAL: some stream's facts differ: a device saw other values,
 *   commands, data or order within a stream, a process made other requests
 *   or got other results, ended differently, or logged other errors.
 * Each functional difference gets a fact-first headline naming the stream
 * and what changed, field by field.
 */
import type { DeviceDecoder } from '../decoder.js';
import { openTrace, type TraceSource } from '../reader.js';
import { parseKinds, resolveDevices } from '../inspect.js';
import { compareTiming, type TimingRow } from '../diff/timing.js';
import { BehaviourCollector, type IgnoreRules, type TraceBehaviour } from './collect.js';
import { factChange, type FactStream } from './facts.js';
import { counterOfFact, describePixelDiff, fetchFrames, frameRefKey, pipeName, pipeOfFrameStream, type FrameRef } from '../frames.js';

export type Verdict = 'IDENTICAL' | 'TIMING-ONLY' | 'FUNCTIONAL';
export type FailOn = 'timing' | 'functional';

export interface FunctionalDifference {
  source: string;
  stream: string;
  /** One line, facts first: what changed. */
  headline: string;
  /** Facts only in the expected / actual run (first few), for reports. */
  expected: string[];
  actual: string[];
  /**
   * For a display frame stream: the first differing frame, and the numbers of
   * the next few frames whose pixels differ (the HTML report shows them).
   */
  frame?: FrameRef & { status: 'differs' | 'missing' | 'extra'; alsoDiffer?: number[] };
}

export interface VerdictReport {
  verdict: Verdict;
  /** Functional differences (first `maxDifferences`), in source and stream order. */
  differences: FunctionalDifference[];
  /** Streams whose facts differ (may exceed differences.length). */
  differingStreams: number;
  /** Headline lines: the functional differences, or for TIMING-ONLY what moved and by how much. */
  headlines: string[];
  timing: TimingRow[];
  /** Timing rows beyond the budget (empty without one). */
  overBudget: TimingRow[];
  timingBudgetPct: number | undefined;
  expectedEvents: number;
  actualEvents: number;
  /** Guest errors of each run ("<device>: <code>: <message>"), first few: often the explanation. */
  guestErrors: { expected: string[]; actual: string[]; added: string[] };
}

export interface VerdictOptions {
  ignore?: IgnoreRules;
  /** Only these devices (ids or types) and kinds take part, as `simrun diff --device/--kind` (process facts are then left out with a device filter). */
  device?: string | readonly string[];
  kind?: string | readonly string[];
  /** Per-phase latency budget in percent: phases that moved more are reported (and fail with failOn 'timing'). */
  timingBudgetPct?: number;
  maxDifferences?: number;
}

/** Reads a whole trace into its behaviour facts (streaming: memory is the facts kept). */
export function traceBehaviour(source: TraceSource, decoders: ReadonlyMap<string, DeviceDecoder>, ignore: IgnoreRules = {}, only: Pick<VerdictOptions, 'device' | 'kind'> = {}): TraceBehaviour {
  const r = openTrace(source);
  const c = new BehaviourCollector(r.header, decoders, ignore);
  const devs = resolveDevices(only.device, r.header);
  const kinds = parseKinds(only.kind);
  const devSet = devs === undefined ? undefined : new Set(devs);
  const kindSet = kinds === undefined ? undefined : new Set<string>(kinds);
  for (const ev of r.events()) {
    if (kindSet !== undefined && !kindSet.has(ev.kind)) continue;
    // Process names still come from proc events, which a device filter otherwise leaves out.
    if (devSet !== undefined && !('dev' in ev && devSet.has(ev.dev))) { if (ev.kind === 'proc') c.learnProcess(ev.pid, ev.name); continue; }
    c.add(ev);
  }
  return c.finish();
}

export function judgeTraces(expected: TraceSource, actual: TraceSource, decoders: ReadonlyMap<string, DeviceDecoder>, opts: VerdictOptions = {}): VerdictReport {
  const only = { device: opts.device, kind: opts.kind };
  const r = judge(traceBehaviour(expected, decoders, opts.ignore, only), traceBehaviour(actual, decoders, opts.ignore, only), opts);
  addPixelDetail(r, expected, actual);
  return r;
}

/**
 * Differing display frames: the facts hold the pixels' hashes only, so the
 * two frames are read back from the traces (one pass over each trace's frame
 * records) to say how many pixels differ and where the first one is.
 */
function addPixelDetail(r: VerdictReport, expected: TraceSource, actual: TraceSource): void {
  const refs: FrameRef[] = [];
  for (const d of r.differences) if (d.frame?.status === 'differs') refs.push(d.frame);
  if (refs.length === 0) return;
  let fa, fb;
  try {
    fa = fetchFrames(expected, refs);
    fb = fetchFrames(actual, refs);
  } catch {
    return; // the verdict stands on the hashes
  }
  for (const d of r.differences) {
    if (d.frame?.status !== 'differs') continue;
    const a = fa.get(frameRefKey(d.frame));
    const b = fb.get(frameRefKey(d.frame));
    if (a === undefined || b === undefined) continue;
    const old = d.headline;
    d.headline = old.replace(' differs (', ` differs: ${describePixelDiff(a, b)} (`);
    const i = r.headlines.indexOf(old);
    if (i >= 0) r.headlines[i] = d.headline;
  }
}

/** Within a device: what the driver wrote first (config, registers), then commands and data, then derived events. */
const DEVICE_STREAM_RANK: Readonly<Record<string, number>> = { config: 0.1, registers: 0.2, milestones: 0.8, interrupts: 0.9 };

export function judge(a: TraceBehaviour, b: TraceBehaviour, opts: VerdictOptions = {}): VerdictReport {
  const max = opts.maxDifferences ?? 10;
  const differences: FunctionalDifference[] = [];
  let differing = 0;
  // Facts first: what a device saw, then what processes asked and got, then errors (the consequences).
  const rank = (k: string): number => {
    const s = a.facts.streams.get(k) ?? b.facts.streams.get(k)!;
    if (s.name === 'guest errors' || s.name === 'errors') return 3;
    if (s.device) return DEVICE_STREAM_RANK[s.name] ?? 0.5;
    return s.name === 'process' ? 2 : 1;
  };
  const keys = [...new Set([...a.facts.streams.keys(), ...b.facts.streams.keys()])]
    .map((k) => ({ k, r: rank(k) }))
    .sort((x, y) => x.r - y.r || (x.k < y.k ? -1 : x.k > y.k ? 1 : 0))
    .map((x) => x.k);
  for (const k of keys) {
    const sa = a.facts.streams.get(k);
    const sb = b.facts.streams.get(k);
    if (sa !== undefined && sb !== undefined && sa.digest() === sb.digest()) continue;
    differing++;
    if (differences.length < max) differences.push(describe(sa, sb));
  }
  const timing = compareTiming(a.phases, b.phases);
  const budget = opts.timingBudgetPct;
  const overBudget = budget === undefined ? [] : timing.filter((t) => t.unit === 'ps' && t.changePct !== null && Math.abs(t.changePct) > budget);
  const verdict: Verdict = differing > 0 ? 'FUNCTIONAL' : a.exact === b.exact ? 'IDENTICAL' : 'TIMING-ONLY';
  const headlines = verdict === 'FUNCTIONAL'
    ? differences.map((d) => d.headline).concat(differing > differences.length ? [`(${differing - differences.length} more streams differ)`] : [])
    : verdict === 'TIMING-ONLY' ? timingHeadlines(timing, overBudget, budget) : [];
  return {
    verdict, differences, differingStreams: differing, headlines, timing, overBudget, timingBudgetPct: budget,
    expectedEvents: a.events, actualEvents: b.events,
    guestErrors: guestErrorsOf(a, b),
  };
}

const GUEST_ERRORS_SHOWN = 10;

function guestErrorsOf(a: TraceBehaviour, b: TraceBehaviour): VerdictReport['guestErrors'] {
  const expected = guestErrors(a);
  const actual = guestErrors(b);
  return { expected, actual, added: actual.filter((g) => !expected.includes(g)) };
}

function guestErrors(t: TraceBehaviour): string[] {
  const out: string[] = [];
  for (const s of t.facts.streams.values()) {
    if (s.name !== 'guest errors') continue;
    for (const [f, n] of s.counts) {
      if (out.length >= GUEST_ERRORS_SHOWN) return out;
      out.push(`${s.source}: ${f}${n > 1 ? ` (×${n})` : ''}`);
    }
  }
  return out;
}

/** Whether a verdict fails a check with this `--fail-on` (over-budget timing fails with 'functional' too). */
export function verdictFails(r: Pick<VerdictReport, 'verdict' | 'overBudget'>, failOn: FailOn = 'functional'): boolean {
  if (r.verdict === 'FUNCTIONAL') return true;
  if (r.verdict === 'TIMING-ONLY') return failOn === 'timing' || r.overBudget.length > 0;
  return false;
}

/**
 * The verdict when an event-level comparison also found divergences (replay:
 * the driver and the trace parted): FUNCTIONAL whatever the facts say (the
 * divergence may be in a register the facts leave out, or the replay stopped
 * at it), with the first divergences as the first headlines (they say where
 * it started), then `note`, then the facts' own headlines.
 */
export function withEventDivergences(r: VerdictReport, divergences: FunctionalDifference[], count: number, note?: string): VerdictReport {
  if (count === 0) return r;
  const first = divergences.slice(0, 3);
  const facts = r.verdict === 'FUNCTIONAL';
  return {
    ...r, verdict: 'FUNCTIONAL',
    differences: [...first, ...(facts ? r.differences : [])],
    differingStreams: facts ? r.differingStreams : streamsOf(divergences),
    overBudget: [],
    headlines: [
      ...first.map((d) => d.headline),
      ...(count > first.length ? [`(${count - first.length} more divergences)`] : []),
      ...(note !== undefined ? [note] : []),
      ...(facts ? r.headlines : []),
    ],
  };
}

/** Distinct streams among differences (at least one). */
function streamsOf(d: FunctionalDifference[]): number {
  return Math.max(1, new Set(d.map((x) => `${x.source}\u0000${x.stream}`)).size);
}

/** What an event-level verdict (replay --devices) is made of. */
export interface EventVerdictInput {
  /** Divergences as differences (those kept) and how many there are: any makes it FUNCTIONAL. */
  differences: FunctionalDifference[];
  count: number;
  /** Events that matched but at another time than recorded: TIMING-ONLY when there is no divergence. */
  moved: number;
  /** Said first under TIMING-ONLY, e.g. how far the moved events moved. */
  movedHeadline?: string;
  timing: TimingRow[];
  timingBudgetPct?: number;
  expectedEvents: number;
  actualEvents: number;
  guestErrors: { expected: string[]; actual: string[] };
  maxDifferences?: number;
}

/** A verdict from an event-by-event comparison instead of facts: divergences are functional, moved times are timing. */
export function eventVerdict(o: EventVerdictInput): VerdictReport {
  const max = o.maxDifferences ?? 10;
  const budget = o.timingBudgetPct;
  const overBudget = budget === undefined ? [] : o.timing.filter((t) => t.unit === 'ps' && t.changePct !== null && Math.abs(t.changePct) > budget);
  const verdict: Verdict = o.count > 0 ? 'FUNCTIONAL' : o.moved > 0 ? 'TIMING-ONLY' : 'IDENTICAL';
  const differences = o.differences.slice(0, max);
  const headlines = verdict === 'FUNCTIONAL'
    ? differences.map((d) => d.headline).concat(o.count > differences.length ? [`(${o.count - differences.length} more divergences)`] : [])
    : verdict === 'TIMING-ONLY' ? timingHeadlines(o.timing, overBudget, budget, o.movedHeadline) : [];
  const { expected, actual } = o.guestErrors;
  return {
    verdict, differences: verdict === 'FUNCTIONAL' ? differences : [], differingStreams: o.count > 0 ? streamsOf(o.differences) : 0, headlines, timing: o.timing,
    overBudget: verdict === 'TIMING-ONLY' ? overBudget : [], timingBudgetPct: budget,
    expectedEvents: o.expectedEvents, actualEvents: o.actualEvents,
    guestErrors: { expected, actual, added: actual.filter((g) => !expected.includes(g)) },
  };
}

function timingHeadlines(rows: TimingRow[], over: TimingRow[], budget: number | undefined, first = 'same behaviour; only timing differs'): string[] {
  const fmt = (t: TimingRow): string => `${t.source} ${t.phase}: ${t.a ?? '-'} → ${t.b ?? '-'}${t.unit === 'ps' ? ' ps' : ''}${t.changePct === null ? '' : ` (${t.changePct > 0 ? '+' : ''}${t.changePct}%)`}`;
  if (over.length > 0) return over.slice(0, 5).map((t) => `over the ${budget}% timing budget: ${fmt(t)}`);
  const moved = rows.filter((t) => t.changePct !== null && t.changePct !== 0 && t.unit === 'ps')
    .sort((x, y) => Math.abs(y.changePct!) - Math.abs(x.changePct!));
  return [first, ...moved.slice(0, 3).map(fmt)];
}

function streamLabel(s: FactStream): string {
  return `${s.source} ${s.name}`;
}

function describe(sa: FactStream | undefined, sb: FactStream | undefined): FunctionalDifference {
  const s = (sa ?? sb)!;
  const base = { source: s.source, stream: s.name };
  if (sa === undefined) {
    const first = firstFacts(sb!, 3);
    return { ...base, headline: `${streamLabel(s)}: only in the actual run (${sb!.count} facts), first: ${first[0] ?? '?'}`, expected: [], actual: first };
  }
  if (sb === undefined) {
    const first = firstFacts(sa, 3);
    return { ...base, headline: `${streamLabel(s)}: missing from the actual run (${sa.count} facts expected), first: ${first[0] ?? '?'}`, expected: first, actual: [] };
  }
  const pipe = pipeOfFrameStream(s.name);
  if (pipe !== undefined) {
    const f = describeFrames(sa, sb, pipe);
    if (f !== undefined) return f;
  }
  if (s.order === 'seq' || s.order === 'seq-collapse') return describeSeq(sa, sb);
  return describeBag(sa, sb);
}

/**
 * A display pipe's frames (facts "frame=12 size=... format=... hash=...",
 * in order): the first frame, by frame counter, that differs in content or
 * is missing or extra, with the counts of each.
 */
function describeFrames(sa: FactStream, sb: FactStream, pipe: number): FunctionalDifference | undefined {
  const byCounter = (s: FactStream): Map<number, string> | undefined => {
    const m = new Map<number, string>();
    for (const f of s.seq) {
      const c = counterOfFact(f);
      if (c === undefined) return undefined;
      if (!m.has(c)) m.set(c, f);
    }
    return m;
  };
  const ma = byCounter(sa);
  const mb = byCounter(sb);
  if (ma === undefined || mb === undefined || sa.truncated || sb.truncated) return undefined;
  let differs = 0;
  let missing = 0;
  let extra = 0;
  let first: { counter: number; status: 'differs' | 'missing' | 'extra'; ea?: string; eb?: string } | undefined;
  const note = (counter: number, status: 'differs' | 'missing' | 'extra', ea?: string, eb?: string): void => {
    if (first === undefined || counter < first.counter) first = { counter, status, ...(ea !== undefined ? { ea } : {}), ...(eb !== undefined ? { eb } : {}) };
  };
  const differing: number[] = [];
  for (const [c, fa] of ma) {
    const fb = mb.get(c);
    if (fb === undefined) { missing++; note(c, 'missing', fa); } else if (fb !== fa) { differs++; note(c, 'differs', fa, fb); differing.push(c); }
  }
  for (const [c, fb] of mb) if (!ma.has(c)) { extra++; note(c, 'extra', undefined, fb); }
  if (first === undefined) return undefined; // same frames in another order or repeated: the generic description
  const p = pipeName(pipe);
  const counts = [
    differs > 0 ? `${differs} ${differs === 1 ? 'frame differs' : 'frames differ'}` : '',
    missing > 0 ? `${missing} missing` : '',
    extra > 0 ? `${extra} extra` : '',
  ].filter((x) => x !== '').join(', ');
  const what = first.status === 'differs' ? 'differs' : first.status === 'missing' ? 'missing from the actual run' : 'only in the actual run';
  const base = { source: sa.source, stream: sa.name };
  return {
    ...base,
    headline: `${sa.source} frame ${first.counter} on pipe ${p} ${what} (${counts} of ${ma.size} expected frames)`,
    expected: first.ea !== undefined ? [first.ea] : [],
    actual: first.eb !== undefined ? [first.eb] : [],
    frame: {
      device: sa.source, pipe, counter: first.counter, status: first.status,
      alsoDiffer: differing.filter((c) => c !== first!.counter).sort((x, y) => x - y).slice(0, 3),
    },
  };
}

function firstFacts(s: FactStream, n: number): string[] {
  return s.seq.length > 0 ? s.seq.slice(0, n) : [...s.counts.keys()].slice(0, n);
}

function describeSeq(sa: FactStream, sb: FactStream): FunctionalDifference {
  const base = { source: sa.source, stream: sa.name };
  const label = streamLabel(sa);
  const n = Math.min(sa.seq.length, sb.seq.length);
  let i = 0;
  while (i < n && sa.seq[i] === sb.seq[i]) i++;
  const ea = sa.seq[i];
  const eb = sb.seq[i];
  if (ea !== undefined && eb !== undefined) {
    // Swapped neighbours read as an order change, not two value changes.
    if (sa.seq[i + 1] === eb && sb.seq[i + 1] === ea) {
      return { ...base, headline: `${label} #${i + 1}: order changed: expected "${ea}" before "${eb}"`, expected: [ea, eb], actual: [eb, ea] };
    }
    if (sb.seq.indexOf(ea, i + 1) > i && sb.seq.indexOf(ea, i + 1) - i <= 16) {
      return { ...base, headline: `${label} #${i + 1}: extra "${eb}"`, expected: [ea], actual: [eb] };
    }
    if (sa.seq.indexOf(eb, i + 1) > i && sa.seq.indexOf(eb, i + 1) - i <= 16) {
      return { ...base, headline: `${label} #${i + 1}: missing "${ea}"`, expected: [ea], actual: [eb] };
    }
    const ch = factChange(ea, eb);
    return {
      ...base,
      headline: ch !== undefined ? `${label} #${i + 1}: ${lead(ea, eb)} ${ch}` : `${label} #${i + 1}: expected "${ea}", got "${eb}"`,
      expected: [ea], actual: [eb],
    };
  }
  if (ea !== undefined) return { ...base, headline: `${label}: ends early after ${i} facts; next expected "${ea}" (${sa.count - sb.count} fewer)`, expected: sa.seq.slice(i, i + 3), actual: [] };
  if (eb !== undefined) return { ...base, headline: `${label}: ${sb.count - sa.count} more facts than expected, from #${i + 1}: "${eb}"`, expected: [], actual: sb.seq.slice(i, i + 3) };
  return { ...base, headline: `${label}: differs beyond the first ${n} facts kept (${sa.count} vs ${sb.count})`, expected: [], actual: [] };
}

/**
 * What two facts have in common before their fields (an opcode, or a
 * register access "W AQA <-"), for headlines: the leading tokens without
 * '=' that both share.
 */
function lead(a: string, b: string = a): string {
  const ta = a.split(' ');
  const tb = b.split(' ');
  const out: string[] = [];
  for (let i = 0; i < ta.length && ta[i] === tb[i] && !ta[i]!.includes('='); i++) out.push(ta[i]!);
  if (out.length === 0) return '';
  const last = out[out.length - 1]!;
  return last === '<-' || last === '=' || last === '→' ? out.join(' ') : `${out.join(' ')}:`;
}

function describeBag(sa: FactStream, sb: FactStream): FunctionalDifference {
  const base = { source: sa.source, stream: sa.name };
  const label = streamLabel(sa);
  const onlyA: string[] = [];
  const onlyB: string[] = [];
  let nA = 0;
  let nB = 0;
  for (const [f, c] of sa.counts) {
    const d = c - (sb.counts.get(f) ?? 0);
    if (d > 0) { nA += d; if (onlyA.length < 5) onlyA.push(f); }
  }
  for (const [f, c] of sb.counts) {
    const d = c - (sa.counts.get(f) ?? 0);
    if (d > 0) { nB += d; if (onlyB.length < 5) onlyB.push(f); }
  }
  if (nA === 0 && nB === 0) {
    return { ...base, headline: `${label}: differs beyond the first facts kept (${sa.count} vs ${sb.count})`, expected: [], actual: [] };
  }
  // Pair the first differing facts by their closest counterpart, to say what changed in them.
  const paired = onlyA[0] !== undefined && onlyB.length > 0 ? closest(onlyA[0], onlyB) : undefined;
  const counts = `${nA} expected ${nA === 1 ? 'fact' : 'facts'} missing, ${nB} unexpected`;
  let headline: string;
  if (paired !== undefined) headline = `${label}: ${lead(onlyA[0]!, paired.with)} ${paired.change} (${counts})`;
  else if (onlyA[0] !== undefined) headline = `${label}: missing "${onlyA[0]}" (${counts})`;
  else headline = `${label}: unexpected "${onlyB[0]}" (${counts})`;
  return { ...base, headline, expected: onlyA, actual: onlyB };
}

function closest(a: string, candidates: string[]): { change: string; with: string } | undefined {
  let best: { change: string; with: string; n: number } | undefined;
  for (const b of candidates) {
    const ch = factChange(a, b);
    if (ch === undefined) continue;
    const n = ch.split(', ').length;
    if (best === undefined || n < best.n) best = { change: ch, with: b, n };
  }
  return best;
}
