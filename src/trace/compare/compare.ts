import type { TraceHeader } from '../format.js';
import type { SeqEvent } from '../reader.js';
import { sameEvent as sameEventDefault, sameShape } from './events.js';

export type DivergenceKind = 'value' | 'address' | 'order' | 'missing' | 'extra' | 'timing';

/** One divergence between the expected (golden / recorded) and the actual stream. */
export interface Divergence {
  kind: DivergenceKind;
  /** The expected event at the divergence (undefined for `extra`). */
  expected: SeqEvent | undefined;
  /** The actual event at the divergence (undefined for `missing`). */
  actual: SeqEvent | undefined;
  /** Simulated time of the divergence (actual side when present). */
  time: number;
  /** Up to `context` events before and after, on each side. */
  before: { expected: SeqEvent[]; actual: SeqEvent[] };
  after: { expected: SeqEvent[]; actual: SeqEvent[] };
  /** Driver log lines seen on the actual side before the divergence (last few). */
  logs: { time: number; pid: number; level: string; text: string }[];
  /** Processes on the actual side at the divergence. */
  processes: { pid: number; name: string; state: string }[];
  /** How many events were skipped to resynchronise (keep-going). */
  skippedExpected: number;
  skippedActual: number;
  /**
   * Divergences of the same kind at the same place (DivergenceGroups) are one
   * group: this is its first, with its context; how many it stands for
   * (default 1) and when the last of them happened.
   */
  occurrences?: number;
  lastTime?: number;
  lastExpectedSeq?: number;
  lastActualSeq?: number;
}

export interface CompareOptions {
  /** Events of context on each side (default 20). */
  context?: number;
  /** Collect divergences and resynchronise instead of stopping at the first. */
  keepGoing?: boolean;
  /** Stop collecting after this many (keep-going; default 100). */
  maxDivergences?: number;
  /** Only these events take part (default: all). */
  relevant?: (e: SeqEvent) => boolean;
  /** How far to look ahead when classifying and resynchronising (default 64). */
  window?: number;
  /** Event equality (default sameEvent); e.g. one that compares some DMA payloads by length only. */
  same?: (a: SeqEvent, b: SeqEvent) => boolean;
}

/**
 * Where device state first differed: the first pair of periodic `state`
 * milestones (same device, same ordinal) whose digests differ. Digests only
 * localise a divergence; they are never counted as divergences themselves.
 */
export interface StateDiff {
  dev: number;
  expectedTime: number;
  actualTime: number;
  expectedSeq: number;
  actualSeq: number;
}

export interface CompareResult {
  identical: boolean;
  /** One per group of divergences (the first of each, with `occurrences`), in the order the groups began. */
  divergences: Divergence[];
  /** Distinct divergences: groups (may exceed divergences.length when capped); state digests are not counted. */
  count: number;
  /** Events that differ, over every divergence before grouping (a missing block counts each event); default `count`. */
  differingEvents?: number;
  /** Divergences before grouping; default `count`. */
  rawCount?: number;
  /** Where the state digests first differed, if they did (localisation only). */
  stateFirstDiffers?: StateDiff;
  expectedEvents: number;
  actualEvents: number;
}

/**
 * Where a divergence happened, for grouping: the device and register (MMIO
 * BAR and offset, config offset, port) with the direction, or for other
 * events their stream (a device's DMA tag and direction, its interrupts, a
 * milestone, a guest error code, its radio; a scheme's requests or replies;
 * a process's log or life). Values and addresses are left out: they are
 * what differs.
 */
export function divergencePlace(kind: DivergenceKind, expected: SeqEvent | undefined, actual: SeqEvent | undefined): string {
  const e = kind === 'extra' ? actual ?? expected : expected ?? actual;
  if (e === undefined) return '-';
  switch (e.kind) {
    case 'mmio': return `mmio:${e.dev}:${e.write ? 'w' : 'r'}:${e.bar}:${e.offset}`;
    case 'cfg': return `cfg:${e.dev}:${e.write ? 'w' : 'r'}:${e.offset}`;
    case 'pio': return `pio:${e.dev}:${e.write ? 'w' : 'r'}:${e.port}`;
    case 'dma': return `dma:${e.dev}:${e.write ? 'w' : 'r'}:${e.tag}`;
    case 'msi': case 'intx': return `irq:${e.dev}`;
    case 'milestone': return `milestone:${e.dev}:${e.name}`;
    case 'guestErr': return `guestErr:${e.dev}:${e.code}`;
    case 'air': return `air:${e.dev}:${e.tx ? 'tx' : 'rx'}`;
    case 'eth': return `eth:${e.dev}:${e.port}:${e.tx ? 'tx' : 'rx'}`;
    case 'frame': return `frame:${e.dev}:${e.pipe}`;
    case 'schemeReq': return `req:${e.scheme}`;
    case 'schemeReply': return `reply:${e.scheme}`;
    case 'log': return `log:${e.pid}`;
    case 'proc': return `proc:${e.pid}`;
  }
}

interface GroupStats { occurrences: number; lastTime: number; lastExpectedSeq: number | undefined; lastActualSeq: number | undefined }

/**
 * Divergences grouped by root cause. After the first real divergence a
 * comparison that goes on (keep-going) resynchronises again and again, and
 * the same story repeats: a driver that stopped ringing a doorbell misses
 * it thousands of times. A divergence of the same kind at the same place
 * (divergencePlace) as an earlier one joins that one's group, whatever other
 * groups' divergences came between: the group keeps its first divergence
 * with its context and counts the others (`occurrences`, `lastTime`).
 * `count` is the number of groups, the distinct divergences reported;
 * `raw` and `events` keep the size of it visible.
 */
export class DivergenceGroups {
  readonly divergences: Divergence[] = [];
  /** Groups: distinct divergences. */
  count = 0;
  /** Divergences before grouping. */
  raw = 0;
  /** Events that differ (a divergence skipping n events to resynchronise counts n). */
  events = 0;
  private readonly groups = new Map<string, GroupStats | Divergence>();

  /** At most `max` groups keep their divergence (with context); all are counted. */
  constructor(private readonly max = 100) {}

  /**
   * Adds one divergence. `make` builds it (context and all) only when it
   * begins a group that is kept; returns true when it began a group.
   */
  add(kind: DivergenceKind, expected: SeqEvent | undefined, actual: SeqEvent | undefined, time: number, width: number, make: () => Divergence): boolean {
    this.raw++;
    this.events += Math.max(1, width);
    const key = `${kind}|${divergencePlace(kind, expected, actual)}`;
    const g = this.groups.get(key);
    if (g !== undefined) {
      g.occurrences = (g.occurrences ?? 1) + 1;
      g.lastTime = time;
      g.lastExpectedSeq = expected?.seq;
      g.lastActualSeq = actual?.seq;
      return false;
    }
    this.count++;
    if (this.divergences.length < this.max) {
      const d = make();
      d.occurrences = 1;
      d.lastTime = time;
      this.divergences.push(d);
      this.groups.set(key, d);
    } else {
      this.groups.set(key, { occurrences: 1, lastTime: time, lastExpectedSeq: expected?.seq, lastActualSeq: actual?.seq });
    }
    return true;
  }

  /** The counts as a CompareResult carries them. */
  result(): Pick<CompareResult, 'divergences' | 'count' | 'differingEvents' | 'rawCount'> {
    return { divergences: this.divergences, count: this.count, differingEvents: this.events, rawCount: this.raw };
  }
}

/** A pull stream with lookahead over an event generator. */
class Stream {
  private readonly buf: SeqEvent[] = [];
  private done = false;
  consumed = 0;
  constructor(private readonly it: Iterator<SeqEvent>, private readonly relevant: (e: SeqEvent) => boolean, private readonly onEvent: (e: SeqEvent) => void) {}
  peek(i: number): SeqEvent | undefined {
    while (this.buf.length <= i && !this.done) {
      const r = this.it.next();
      if (r.done) { this.done = true; break; }
      this.onEvent(r.value);
      if (this.relevant(r.value)) this.buf.push(r.value);
    }
    return this.buf[i];
  }
  take(): SeqEvent | undefined {
    const e = this.peek(0);
    if (e !== undefined) { this.buf.shift(); this.consumed++; }
    return e;
  }
}

class Ring {
  private readonly items: SeqEvent[] = [];
  constructor(private readonly cap: number) {}
  push(e: SeqEvent): void {
    this.items.push(e);
    if (this.items.length > this.cap) this.items.shift();
  }
  snapshot(): SeqEvent[] { return [...this.items]; }
}

/**
 * Compares two event streams in order, streaming (memory bounded by the
 * lookahead window and the context kept). The first divergence is
 * classified: `value` (same register or target, other value), `address`
 * (DMA to another address), `order` (the two next events swapped),
 * `missing` (expected events absent from the actual stream), `extra`
 * (actual events not expected), or `timing` (same events, other times; only
 * the first is reported). With `keepGoing` it resynchronises and goes on,
 * grouping divergences by root cause (DivergenceGroups).
 */
export function compareStreams(expected: Iterable<SeqEvent>, actual: Iterable<SeqEvent>, opts: CompareOptions = {}): CompareResult {
  const ctx = opts.context ?? 20;
  const win = opts.window ?? 64;
  const relevant = opts.relevant ?? (() => true);
  const sameEvent = opts.same ?? sameEventDefault;
  const logs: Divergence['logs'] = [];
  const procs = new Map<number, { pid: number; name: string; state: string }>();
  const onActual = (e: SeqEvent) => {
    if (e.kind === 'log') { logs.push({ time: e.time, pid: e.pid, level: e.level, text: e.text }); if (logs.length > 10) logs.shift(); }
    else if (e.kind === 'proc') procs.set(e.pid, { pid: e.pid, name: e.name, state: e.event === 'spawn' ? 'running' : e.event === 'exit' ? 'exited' : e.event === 'crash' ? 'crashed' : 'killed' });
  };
  // State digests localise (where state first differed), they are never compared as events:
  // once two runs part, every later digest differs too and would drown the real divergence.
  const digests = new DigestPairs();
  const notDigest = (e: SeqEvent) => !isStateDigest(e) && relevant(e);
  const E = new Stream(expected[Symbol.iterator](), notDigest, (e) => { if (isStateDigest(e)) digests.push(0, e); });
  const A = new Stream(actual[Symbol.iterator](), notDigest, (e) => { onActual(e); if (isStateDigest(e)) digests.push(1, e); });
  const ringE = new Ring(ctx);
  const ringA = new Ring(ctx);
  const groups = new DivergenceGroups(opts.maxDivergences ?? 100);
  let timingReported = false;

  const record = (kind: DivergenceKind, skipE: number, skipA: number) => {
    const e = E.peek(0);
    const a = A.peek(0);
    const expected = kind === 'extra' ? undefined : e;
    const actual = kind === 'missing' ? undefined : a;
    const time = (a ?? e)?.time ?? 0;
    groups.add(kind, expected, actual, time, Math.max(skipE, skipA), () => {
      const afterE: SeqEvent[] = [];
      const afterA: SeqEvent[] = [];
      for (let i = 1; i <= ctx; i++) {
        const x = E.peek(i); if (x !== undefined) afterE.push(x);
        const y = A.peek(i); if (y !== undefined) afterA.push(y);
      }
      return {
        kind, expected, actual, time,
        before: { expected: ringE.snapshot(), actual: ringA.snapshot() },
        after: { expected: afterE, actual: afterA },
        logs: [...logs], processes: [...procs.values()],
        skippedExpected: skipE, skippedActual: skipA,
      };
    });
  };
  const advance = (s: Stream, ring: Ring, n: number) => { for (let i = 0; i < n; i++) { const x = s.take(); if (x !== undefined) ring.push(x); } };

  for (;;) {
    const e = E.peek(0);
    const a = A.peek(0);
    if (e === undefined && a === undefined) break;
    if (e !== undefined && a !== undefined && sameEvent(e, a)) {
      if (e.time !== a.time && !timingReported) {
        timingReported = true;
        record('timing', 0, 0);
        if (!opts.keepGoing) break;
      }
      advance(E, ringE, 1);
      advance(A, ringA, 1);
      continue;
    }
    // Classify.
    let kind: DivergenceKind;
    let skipE = 1;
    let skipA = 1;
    if (e === undefined) { kind = 'extra'; skipE = 0; }
    else if (a === undefined) { kind = 'missing'; skipA = 0; }
    else {
      const e1 = E.peek(1);
      const a1 = A.peek(1);
      if (e1 !== undefined && a1 !== undefined && sameEvent(e, a1) && sameEvent(e1, a)) { kind = 'order'; skipE = 2; skipA = 2; }
      else {
        const inA = findAhead(A, e, win, sameEvent);
        const inE = findAhead(E, a, win, sameEvent);
        if (inA > 0 && inA === inE && blocksSwapped(E, A, inA, sameEvent)) { kind = 'order'; skipE = 2 * inA; skipA = 2 * inA; }
        else if (inA > 0 && (inE < 0 || inA <= inE)) { kind = 'extra'; skipE = 0; skipA = inA; }
        else if (inE > 0) { kind = 'missing'; skipE = inE; skipA = 0; }
        else if (sameShape(e, a)) kind = e.kind === 'dma' && (e as { addr: number }).addr !== (a as { addr: number }).addr ? 'address' : 'value';
        else kind = 'value';
      }
    }
    record(kind, skipE, skipA);
    if (!opts.keepGoing) break;
    advance(E, ringE, skipE);
    advance(A, ringA, skipA);
  }
  // Drain to count events, side by side (keeps memory flat: nothing is retained but unpaired digests).
  if (opts.keepGoing) {
    let moreE = true;
    let moreA = true;
    while (moreE || moreA) {
      if (moreE) moreE = E.take() !== undefined;
      if (moreA) moreA = A.take() !== undefined;
    }
  }
  const r: CompareResult = { identical: groups.count === 0, ...groups.result(), expectedEvents: E.consumed, actualEvents: A.consumed };
  if (digests.first !== undefined) r.stateFirstDiffers = digests.first;
  return r;
}

/** A periodic device-state digest (`state` milestone, machine.stateHashUs). */
export function isStateDigest(e: SeqEvent): boolean {
  return e.kind === 'milestone' && e.name === 'state';
}

/** Pairs the two sides' state digests per device in order and keeps the first pair that differs. */
class DigestPairs {
  first: StateDiff | undefined;
  private readonly pending: [Map<number, SeqEvent[]>, Map<number, SeqEvent[]>] = [new Map(), new Map()];
  push(side: 0 | 1, e: SeqEvent): void {
    if (this.first !== undefined || e.kind !== 'milestone') return;
    const mine = this.pending[side];
    const other = this.pending[side === 0 ? 1 : 0].get(e.dev);
    const match = other?.shift();
    if (match === undefined || match.kind !== 'milestone') {
      let q = mine.get(e.dev);
      if (q === undefined) { q = []; mine.set(e.dev, q); }
      q.push(e);
      return;
    }
    if (match.a === e.a && match.b === e.b) return;
    const [x, y] = side === 0 ? [e, match] : [match, e];
    this.first = { dev: e.dev, expectedTime: x.time, actualTime: y.time, expectedSeq: x.seq, actualSeq: y.seq };
    this.pending[0].clear();
    this.pending[1].clear();
  }
}

/** True if the next 2n events are two blocks of n swapped between the streams. */
function blocksSwapped(E: Stream, A: Stream, n: number, sameEvent: (a: SeqEvent, b: SeqEvent) => boolean): boolean {
  for (let i = 0; i < n; i++) {
    const e0 = E.peek(i); const a1 = A.peek(n + i);
    const e1 = E.peek(n + i); const a0 = A.peek(i);
    if (e0 === undefined || a1 === undefined || e1 === undefined || a0 === undefined) return false;
    if (!sameEvent(e0, a1) || !sameEvent(e1, a0)) return false;
  }
  return true;
}

function findAhead(s: Stream, target: SeqEvent, win: number, sameEvent: (a: SeqEvent, b: SeqEvent) => boolean): number {
  for (let i = 1; i <= win; i++) {
    const x = s.peek(i);
    if (x === undefined) return -1;
    if (sameEvent(x, target)) return i;
  }
  return -1;
}

export type { TraceHeader };
