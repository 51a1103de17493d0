/**
 * The diff engine: streams two traces side by side, routes each event to its
 * stream (device or scheme, and kind), aligns the streams in bounded windows
 * (align.ts), collects counts and the first divergences (collect.ts) and the
 * timing phases of each trace (timing.ts). Nothing here holds a whole trace:
 * memory is the two readers' (one chunk and one blob window each), the
 * stream buffers (at most `maxBuffer` events per side and stream), the
 * address renaming tables and the divergences kept.
 *
 * Which trace to read next: the one that is behind, measured as the events
 * buffered in streams where it has fewer than the other trace, so both stay
 * at the same causal point of every stream as far as possible.
 */
import type { DeviceDecoder } from '../decoder.js';
import { TraceFormatError, type DamageReport, type TraceHeader } from '../format.js';
import { formatEvent, parseKinds, resolveDevices } from '../inspect.js';
import { openTrace, type EventCursor, type EventFilter, type EventView, type SeqEvent, type TraceReader, type TraceSource } from '../reader.js';
import { DEFAULT_ALIGN, StreamAligner, type AlignParams } from './align.js';
import { StreamCollector, type CollectEnv, type CollectLimits } from './collect.js';
import { describeChange } from './detail.js';
import { Normaliser, displayEvent, type Item, type StreamDesc } from './normalise.js';
import { TimingCollector, compareTiming } from './timing.js';
import { EventStore, inColumns } from './store.js';
import type { DiffResult, Divergence, HeaderDifference, TraceInfo } from './types.js';

export interface DiffEngineOptions {
  a: TraceSource;
  b: TraceSource;
  /** Register and payload decoders by device type (`deviceDecoders()`). */
  decoders: Map<string, DeviceDecoder>;
  /** Only these devices (ids or types; several allowed, or comma-separated). Scheme, process and log events are then left out. */
  device?: string | readonly string[];
  /** Only these kinds (as `simrun inspect --kind`). */
  kind?: string | readonly string[];
  /** Same rows shown around each divergence (default 3). */
  context?: number;
  /** Divergences kept in the result, first in trace order (default 10). */
  maxDivergences?: number;
  /** Divergent rows shown per divergence (default 12). */
  maxRows?: number;
  /** Alignment tuning (window sizes, see align.ts). */
  align?: Partial<AlignParams>;
  /** Called every 65,536 events read, with the events read from a and b so far. */
  progress?: (eventsA: number, eventsB: number) => void;
}

const BATCH = 64;
const LOG_RING = 64;
const LOG_CONTEXT = 3;
/** Divergence marks kept per stream, and in the result. */
const MAX_MARKS = 2000;

interface StreamState {
  desc: StreamDesc;
  /** Events as slots of the traces' stores (store.ts). */
  aligner: StreamAligner<number>;
  collector: StreamCollector;
  /** a.length - b.length after the last push (for the read balance). */
  delta: number;
}

function errorResult(message: string): DiffResult {
  return {
    exitCode: 2, identical: false, error: message, header: [], streams: [],
    totals: { same: 0, changed: 0, inserted: 0, removed: 0, divergences: 0 }, divergences: [], timing: [], marks: [],
  };
}

function headerDiff(a: TraceHeader, b: TraceHeader): HeaderDifference[] {
  const out: HeaderDifference[] = [];
  const cmp = (field: string, x: unknown, y: unknown): void => {
    const sx = typeof x === 'string' ? x : JSON.stringify(x) ?? 'undefined';
    const sy = typeof y === 'string' ? y : JSON.stringify(y) ?? 'undefined';
    if (sx !== sy) out.push({ field, a: sx, b: sy });
  };
  cmp('scenario.name', a.scenario?.name, b.scenario?.name);
  cmp('scenario.hash', a.scenario?.hash, b.scenario?.hash);
  cmp('seed', a.seed, b.seed);
  cmp('tool.version', a.tool?.version, b.tool?.version);
  cmp('machine', a.machine, b.machine);
  const fx = new Map((a.fixtures ?? []).map((f) => [f.path, f.hash]));
  const fy = new Map((b.fixtures ?? []).map((f) => [f.path, f.hash]));
  for (const p of [...new Set([...fx.keys(), ...fy.keys()])].sort()) cmp(`fixture ${p}`, fx.get(p) ?? 'absent', fy.get(p) ?? 'absent');
  const devs = (h: TraceHeader): string => h.devices.map((d) => `${d.id}:${d.type}@${d.bdf}`).join(', ');
  cmp('devices', devs(a), devs(b));
  return out;
}

/** Device filter on one header: indices, or an error message if the name matches nothing there. */
function devFilter(v: DiffEngineOptions['device'], h: TraceHeader): number[] | string | undefined {
  try {
    return resolveDevices(v, h);
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Diffs two traces. Never throws for bad input: the result carries `error` and exit code 2.
 * The traces are read through the reader's cursors (no generator step per event).
 */
export function diffTraces(opts: DiffEngineOptions): DiffResult {
  let ra: TraceReader;
  let rb: TraceReader;
  try {
    ra = openTrace(opts.a);
    rb = openTrace(opts.b);
  } catch (e) {
    return errorResult(e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`);
  }
  const fa: EventFilter = {};
  const fb: EventFilter = {};
  try {
    const kinds = parseKinds(opts.kind);
    if (kinds) fa.kinds = fb.kinds = kinds;
  } catch (e) {
    return errorResult((e as Error).message);
  }
  if (opts.device !== undefined) {
    const da = devFilter(opts.device, ra.header);
    const db = devFilter(opts.device, rb.header);
    if (typeof da === 'string' && typeof db === 'string') return errorResult(da);
    if (da !== undefined || db !== undefined) {
      // A device present in one trace only: the other contributes none of its events.
      fa.devs = typeof da === 'string' ? [] : da ?? [];
      fb.devs = typeof db === 'string' ? [] : db ?? [];
    }
  }

  const alignP: AlignParams = { ...DEFAULT_ALIGN, ...opts.align };
  const limits: CollectLimits = {
    context: Math.max(0, opts.context ?? 3), maxDivergences: Math.max(0, opts.maxDivergences ?? 10),
    maxRows: Math.max(1, opts.maxRows ?? 12), maxMarks: MAX_MARKS,
  };
  const ha = ra.header;
  const hb = rb.header;
  const decoders = opts.decoders;
  const logsA: SeqEvent[] = [];
  const logsB: SeqEvent[] = [];
  const logsBefore = (ring: SeqEvent[], seq: number, h: TraceHeader): string[] => {
    const before = ring.filter((e) => e.seq < seq);
    return before.slice(-LOG_CONTEXT).map((e) => formatEvent(e, h, decoders));
  };
  const storeA = new EventStore();
  const storeB = new EventStore();
  const env: CollectEnv = {
    a: storeA,
    b: storeB,
    formatA: (it: Item) => formatEvent(displayEvent(it), ha, decoders),
    formatB: (it: Item) => formatEvent(displayEvent(it), hb, decoders),
    detail: (x: Item, y: Item, lx: string, ly: string) => describeChange(x, y, lx, ly, { headerA: ha, headerB: hb, decoders }),
    logsBefore: (aSeq: number, bSeq: number) => ({ a: logsBefore(logsA, aSeq, ha), b: logsBefore(logsB, bSeq, hb) }),
  };

  const streams = new Map<string, StreamState>();
  const resolve = (d: StreamDesc): StreamState => {
    let s = streams.get(d.id);
    if (!s) {
      let aligner: StreamAligner<number> | undefined;
      const collector = new StreamCollector(d, limits, env, () => ({ a: aligner!.a.total, b: aligner!.b.total }));
      aligner = new StreamAligner<number>(alignP, collector);
      s = { desc: d, aligner, collector, delta: 0 };
      streams.set(d.id, s);
    }
    return s;
  };
  const na = new Normaliser<StreamState>(ha, decoders, resolve);
  const nb = new Normaliser<StreamState>(hb, decoders, resolve);
  const ta = new TimingCollector(ha, decoders);
  const tb = new TimingCollector(hb, decoders);

  // Read balance: events buffered where one side has more than the other.
  let leadA = 0;
  let leadB = 0;
  const push = (side: 0 | 1, v: EventView, ev: SeqEvent | undefined): void => {
    const norm = side === 0 ? na : nb;
    norm.item(v, ev);
    const slot = (side === 0 ? storeA : storeB).put(v, norm);
    const s = norm.stream;
    s.aligner.add(side, slot, norm);
    const d = s.aligner.a.length - s.aligner.b.length;
    const old = s.delta;
    if (old > 0) leadA -= old;
    else leadB += old;
    if (d > 0) leadA += d;
    else leadB -= d;
    s.delta = d;
  };

  const ga: EventCursor = ra.cursor(fa);
  const gb: EventCursor = rb.cursor(fb);
  let doneA = false;
  let doneB = false;
  let readA = 0;
  let readB = 0;
  // The last event time of a and b: in a typed array, as a time kept in a local across the loop's calls would be boxed.
  const ends = new Float64Array(2);
  let nextProgress = 65536;
  try {
    while (!doneA || !doneB) {
      const side: 0 | 1 = doneA ? 1 : doneB ? 0 : leadA <= leadB ? 0 : 1;
      const g = side === 0 ? ga : gb;
      const v = g.view;
      for (let k = 0; k < BATCH; k++) {
        if (!g.advance()) {
          if (side === 0) doneA = true;
          else doneB = true;
          break;
        }
        // Register accesses, interrupts, scheme events and DMA are read from the columns; the rest as objects.
        const ev = inColumns(v.block.kind[v.i]!) ? undefined : v.event();
        ends[side] = v.block.time[v.i]!;
        if (side === 0) {
          readA++;
          ta.addView(v, ev);
          if (ev !== undefined && ev.kind === 'log') {
            logsA.push(ev);
            if (logsA.length > LOG_RING) logsA.shift();
          }
        } else {
          readB++;
          tb.addView(v, ev);
          if (ev !== undefined && ev.kind === 'log') {
            logsB.push(ev);
            if (logsB.length > LOG_RING) logsB.shift();
          }
        }
        push(side, v, ev);
      }
      if (opts.progress && readA + readB >= nextProgress) {
        nextProgress += 65536;
        opts.progress(readA, readB);
      }
    }
  } catch (e) {
    // The reader's events say what went wrong.
    return errorResult(`reading ${doneA ? rb.path : ra.path} failed: ${(e as Error).message}`);
  } finally {
    ga.close();
    gb.close();
  }
  for (const s of streams.values()) {
    s.aligner.finish();
    s.collector.finish();
  }

  const ordered = [...streams.values()].sort((x, y) =>
    x.desc.source < y.desc.source ? -1 : x.desc.source > y.desc.source ? 1 : x.desc.kind < y.desc.kind ? -1 : x.desc.kind > y.desc.kind ? 1 : 0);
  const summaries = ordered.map((s) => s.collector.summary());
  const totals = { same: 0, changed: 0, inserted: 0, removed: 0, divergences: 0 };
  let identical = true;
  for (const s of summaries) {
    if (!s.structural) continue;
    totals.same += s.same;
    totals.changed += s.changed;
    totals.inserted += s.inserted;
    totals.removed += s.removed;
    totals.divergences += s.divergences;
    if (s.changed + s.inserted + s.removed > 0) identical = false;
  }
  const kept = ordered.flatMap((s) => s.collector.kept);
  // Trace order: by the earlier of the divergence's first events in a and b (the two traces
  // share their sequence numbers up to the first difference), then by a, then by stream.
  const first = (d: Divergence): number => Math.min(d.aSeq ?? Infinity, d.bSeq ?? Infinity);
  kept.sort((x, y) => first(x.d) - first(y.d) || x.pos - y.pos || (x.d.stream < y.d.stream ? -1 : x.d.stream > y.d.stream ? 1 : 0));
  const divergences: Divergence[] = kept.slice(0, limits.maxDivergences).map((k, i) => ({ ...k.d, index: i + 1 }));
  const allMarks = ordered.flatMap((s) => s.collector.marks);
  allMarks.sort((x, y) => (x.aTime ?? x.bTime ?? 0) - (y.aTime ?? y.bTime ?? 0));
  // At most MAX_MARKS in all, evenly spread over the run.
  const step = allMarks.length / MAX_MARKS;
  const marks = step <= 1 ? allMarks : Array.from({ length: MAX_MARKS }, (_, i) => allMarks[Math.floor(i * step)]!);

  const info = (r: TraceReader, h: TraceHeader, events: number, end: number, damage: DamageReport[]): TraceInfo => ({
    path: r.path, scenario: h.scenario?.name ?? '?', seed: h.seed, events, endTime: end, damage,
  });
  const damageA = [...ra.damage];
  const damageB = [...rb.damage];
  const damaged = damageA.length > 0 || damageB.length > 0;
  return {
    exitCode: damaged ? 2 : identical ? 0 : 1,
    identical,
    a: info(ra, ha, readA, ends[0]!, damageA),
    b: info(rb, hb, readB, ends[1]!, damageB),
    header: headerDiff(ha, hb),
    streams: summaries,
    totals,
    divergences,
    timing: compareTiming(ta.phases(), tb.phases()),
    marks,
  };
}
