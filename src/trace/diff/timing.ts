/**
 * Timing phases per device and scheme, computed while a trace streams by
 * (docs/DIFF.md "Timing"). Memory is bounded: outstanding requests (capped),
 * and latency samples kept exactly up to a cap, then in a log-scale
 * histogram (src/trace/latency.ts).
 *
 * Device phases:
 * - reset→ready: from the last `reset` milestone before the first `ready`
 *   (or, without one, the device's first MMIO access) to the first `ready`.
 * - the device's own phases, from its decoder's `timingPhases` (for example
 *   a storage controller's identify, queue creation and I/O latencies);
 * - active span: first to last event of the device.
 * Scheme phases: request latency p50/p90/p99 and mean, schemeReq to the
 * schemeReply with the same request id; requests: replies matched.
 */
import type { DeviceDecoder, DeviceTimingPhases } from '../decoder.js';
import type { TraceHeader } from '../format.js';
import { LatencyStats, PENDING_CAP, PendingTimes } from '../latency.js';
import type { EventView, SeqEvent } from '../reader.js';
import { Rec } from '../../sim/tracer.js';

export { LatencyStats } from '../latency.js';

interface DevTiming {
  id: string;
  first: number;
  last: number;
  firstMmio: number | undefined;
  reset: number | undefined;
  ready: number | undefined;
  own: DeviceTimingPhases | undefined;
  /** Record kinds read from columns that `own` takes (bit per Rec code). */
  ownRecs: number;
  /** Kinds of event objects that `own` takes (undefined: all). */
  ownKinds: ReadonlySet<string> | undefined;
  /** DMA tags that `own` takes (undefined: all). */
  ownTags: ReadonlySet<string> | undefined;
}

/** Record kinds (Rec codes) of the event kinds read from columns. */
const COLUMN_RECS: Partial<Record<SeqEvent['kind'], readonly number[]>> = {
  mmio: [Rec.MmioRead, Rec.MmioWrite], pio: [Rec.PioRead, Rec.PioWrite], cfg: [Rec.CfgRead, Rec.CfgWrite],
  dma: [Rec.DmaRead, Rec.DmaWrite, Rec.DmaImage, Rec.DmaDelta], intx: [Rec.Intx], msi: [Rec.Msi],
};
const ALL_RECS = Object.values(COLUMN_RECS).flat().reduce((m, r) => m | (1 << r), 0);

function isDmaRec(k: number): boolean {
  return k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaImage || k === Rec.DmaDelta;
}

/** A device's own phases, with what they take (DeviceTimingPhases.kinds and dmaTags). */
function ownPhases(own: DeviceTimingPhases | undefined): Pick<DevTiming, 'own' | 'ownRecs' | 'ownKinds' | 'ownTags'> {
  const kinds = own?.kinds;
  return {
    own,
    ownRecs: kinds === undefined ? ALL_RECS : kinds.flatMap((k) => COLUMN_RECS[k] ?? []).reduce((m, r) => m | (1 << r), 0),
    ownKinds: kinds === undefined ? undefined : new Set(kinds),
    ownTags: own?.dmaTags === undefined ? undefined : new Set(own.dmaTags),
  };
}

/** Whether a device's own phases take this event object. */
function takes(d: DevTiming, ev: SeqEvent): boolean {
  return (d.ownKinds === undefined || d.ownKinds.has(ev.kind)) && (ev.kind !== 'dma' || d.ownTags === undefined || d.ownTags.has(ev.tag));
}

interface SchemeTiming {
  pending: PendingTimes;
  lat: LatencyStats;
}

/** One trace's timing, fed event by event. */
export class TimingCollector {
  private readonly devs = new Map<number, DevTiming>();
  /** The same devices of index 0..255 (the common case), without a map lookup. */
  private readonly devList: (DevTiming | undefined)[] = [];
  private readonly schemes = new Map<string, SchemeTiming>();

  constructor(private readonly header: TraceHeader, private readonly decoders: ReadonlyMap<string, DeviceDecoder> = new Map()) {}

  private dev(index: number, t: number): DevTiming {
    const small = index >>> 0 === index && index < 256;
    return (small ? this.devList[index] : this.devs.get(index)) ?? this.addDev(index, t, small);
  }

  /** The device of the view's event (register accesses, interrupts and DMA). */
  private viewDev(v: EventView): DevTiming {
    const b = v.block;
    const i = v.i;
    return this.dev(b.f[b.kind[i]! <= Rec.CfgWrite ? 1 : 0]![i]!, b.time[i]!);
  }

  /** A device's first event (apart from `dev`: a closure here would make `dev` allocate a context per call). */
  private addDev(index: number, t: number, small: boolean): DevTiming {
    const info = this.header.devices.find((x) => x.index === index);
    const d: DevTiming = {
      id: info?.id ?? `dev${index}`, first: t, last: t, firstMmio: undefined, reset: undefined, ready: undefined,
      ...ownPhases(info === undefined ? undefined : this.decoders.get(info.type)?.timingPhases?.()),
    };
    this.devs.set(index, d);
    if (small) this.devList[index] = d;
    return d;
  }

  /**
   * The event the cursor's view is on; `ev` is its object when the caller
   * built one (kinds other than register accesses, interrupts and DMA must
   * come with it).
   */
  addView(v: EventView, ev: SeqEvent | undefined): void {
    if (ev !== undefined) {
      this.add(ev);
      return;
    }
    const b = v.block;
    const i = v.i;
    const k = b.kind[i]!;
    const t = b.time[i]!;
    if (k === Rec.SchemeReq || k === Rec.SchemeReply) {
      // Fields: pid, scheme, op, reqId (request) or pid, scheme, reqId (reply); the scheme from the view.
      this.schemeEvent(v.scheme, k === Rec.SchemeReq, b.f[k === Rec.SchemeReq ? 3 : 2]![i]!, t);
      return;
    }
    const index = b.f[k <= Rec.CfgWrite ? 1 : 0]![i]!;
    // The last event's device, else one found from the view (a time passed to a call that is not inlined is boxed).
    const d = index === this.lastIndex ? this.lastDev! : this.viewDev(v);
    this.lastIndex = index;
    this.lastDev = d;
    d.last = t;
    if ((k === Rec.MmioRead || k === Rec.MmioWrite) && d.firstMmio === undefined) d.firstMmio = t;
    const own = d.own;
    if (own !== undefined && ((d.ownRecs >>> k) & 1) !== 0 && (d.ownTags === undefined || !isDmaRec(k) || d.ownTags.has(v.tag))) {
      own.add(this.scratch.fill(v));
    }
  }

  /** A request to scheme `scheme` (`request`) or its reply, at time `t`: the request's latency. */
  private schemeEvent(scheme: string, request: boolean, reqId: number, t: number): void {
    let s = this.schemes.get(scheme);
    if (!s) {
      s = { pending: new PendingTimes(), lat: new LatencyStats() };
      this.schemes.set(scheme, s);
    }
    if (request) {
      if (s.pending.size >= PENDING_CAP) s.pending.clear();
      s.pending.set(reqId, t);
    } else {
      const t0 = s.pending.get(reqId);
      if (t0 !== undefined) {
        s.pending.delete(reqId);
        s.lat.add(t - t0);
      }
    }
  }

  /** The device of the last event `addView` took, and its index (-1: none yet). */
  private lastIndex = -1;
  private lastDev: DevTiming | undefined = undefined;

  /** Reused event objects for a device's own phases (DeviceTimingPhases.add reads the event it is given, it does not keep it). */
  private readonly scratch = new ScratchEvents();

  add(ev: SeqEvent): void {
    const t = ev.time;
    switch (ev.kind) {
      case 'mmio': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (d.firstMmio === undefined) d.firstMmio = t;
        if (d.own !== undefined && takes(d, ev)) d.own.add(ev);
        return;
      }
      case 'milestone': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (ev.name === 'reset' && d.ready === undefined) d.reset = t;
        else if (ev.name === 'ready' && d.ready === undefined) d.ready = t;
        if (d.own !== undefined && takes(d, ev)) d.own.add(ev);
        return;
      }
      case 'dma':
      case 'pio':
      case 'cfg':
      case 'intx':
      case 'msi':
      case 'guestErr':
      case 'air':
      case 'eth':
      case 'frame': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (d.own !== undefined && takes(d, ev)) d.own.add(ev);
        return;
      }
      case 'schemeReq':
      case 'schemeReply':
        this.schemeEvent(ev.scheme, ev.kind === 'schemeReq', ev.reqId, t);
        return;
      default:
        return;
    }
  }

  /** Phases as [source, phase, value, unit] in a stable order. */
  phases(): PhaseValue[] {
    const out: PhaseValue[] = [];
    const devs = [...this.devs.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    for (const d of devs) {
      const push = (phase: string, v: number | undefined, unit: 'ps' | 'count' = 'ps'): void => {
        if (v !== undefined) out.push({ source: d.id, phase, value: v, unit });
      };
      if (d.ready !== undefined) {
        const start = d.reset ?? d.firstMmio;
        if (start !== undefined && start <= d.ready) push('reset→ready', d.ready - start);
      }
      if (d.own) for (const p of d.own.phases({ first: d.first, ready: d.ready })) out.push({ source: d.id, ...p });
      push('active span', d.last - d.first);
    }
    const schemes = [...this.schemes.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [name, s] of schemes) {
      if (s.lat.count === 0) continue;
      const source = `${name}:`;
      out.push({ source, phase: 'requests', value: s.lat.count, unit: 'count' });
      for (const p of [50, 90, 99]) out.push({ source, phase: `request latency p${p}`, value: s.lat.percentile(p)!, unit: 'ps' });
      out.push({ source, phase: 'request latency mean', value: s.lat.mean()!, unit: 'ps' });
    }
    return out;
  }
}

type Of<K extends SeqEvent['kind']> = SeqEvent & { kind: K };

/** One reused event object per kind, filled from a cursor's view (register accesses, interrupts and DMA). */
class ScratchEvents {
  private readonly mmio: Of<'mmio'> = { seq: 0, kind: 'mmio', write: false, time: 0, core: 0, dev: 0, bar: 0, offset: 0, size: 0, value: 0 };
  private readonly pio: Of<'pio'> = { seq: 0, kind: 'pio', write: false, time: 0, core: 0, dev: 0, port: 0, size: 0, value: 0 };
  private readonly cfg: Of<'cfg'> = { seq: 0, kind: 'cfg', write: false, time: 0, core: 0, dev: 0, offset: 0, size: 0, value: 0 };
  private readonly intx: Of<'intx'> = { seq: 0, kind: 'intx', time: 0, dev: 0, gsi: 0, level: 0 };
  private readonly msi: Of<'msi'> = { seq: 0, kind: 'msi', time: 0, dev: 0, addr: 0, data: 0, core: 0, vector: 0 };
  private readonly dma: Of<'dma'> = {
    seq: 0, kind: 'dma', write: false, time: 0, dev: 0, addr: 0, data: new Uint8Array(0), tag: '', missing: undefined, image: undefined, imageOffset: undefined,
  };
  /**
   * The last payload window handed out, as a view of exactly its bytes: a stream's word-delta
   * base is rewritten in place, so its next payload is the same window (the view reads the
   * current bytes, and the phases read them at once, they keep nothing).
   */
  private winOf: Uint8Array = new Uint8Array(0);
  private winAt = -1;
  private winLen = -1;
  private win: Uint8Array = new Uint8Array(0);

  fill(v: EventView): SeqEvent {
    const b = v.block;
    const i = v.i;
    const k = b.kind[i]!;
    const f = b.f;
    const time = b.time[i]!;
    const seq = v.seq;
    switch (k) {
      case Rec.MmioRead:
      case Rec.MmioWrite: {
        const e = this.mmio;
        e.seq = seq; e.time = time; e.write = k === Rec.MmioWrite;
        e.core = f[0]![i]!; e.dev = f[1]![i]!; e.bar = f[2]![i]!; e.offset = f[3]![i]!; e.size = f[4]![i]!; e.value = f[5]![i]!;
        return e;
      }
      case Rec.PioRead:
      case Rec.PioWrite: {
        const e = this.pio;
        e.seq = seq; e.time = time; e.write = k === Rec.PioWrite;
        e.core = f[0]![i]!; e.dev = f[1]![i]!; e.port = f[2]![i]!; e.size = f[3]![i]!; e.value = f[4]![i]!;
        return e;
      }
      case Rec.CfgRead:
      case Rec.CfgWrite: {
        const e = this.cfg;
        e.seq = seq; e.time = time; e.write = k === Rec.CfgWrite;
        e.core = f[0]![i]!; e.dev = f[1]![i]!; e.offset = f[2]![i]!; e.size = f[3]![i]!; e.value = f[4]![i]!;
        return e;
      }
      case Rec.Intx: {
        const e = this.intx;
        e.seq = seq; e.time = time; e.dev = f[0]![i]!; e.gsi = f[1]![i]!; e.level = f[2]![i]!;
        return e;
      }
      case Rec.Msi: {
        const e = this.msi;
        e.seq = seq; e.time = time; e.dev = f[0]![i]!; e.addr = f[1]![i]!; e.data = f[2]![i]!; e.core = f[3]![i]!; e.vector = f[4]![i]!;
        return e;
      }
      default: {
        const e = this.dma;
        e.seq = seq; e.time = time; e.dev = f[0]![i]!; e.addr = f[1]![i]!; e.tag = v.tag; e.missing = v.missing;
        e.write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
        e.image = v.image;
        e.imageOffset = k === Rec.DmaImage ? f[4]![i]! : undefined;
        e.data = this.bytes(v);
        return e;
      }
    }
  }

  private bytes(v: EventView): Uint8Array {
    const p = v.payload;
    if (p.at === 0 && p.length === p.data.length) return p.data;
    if (p.data !== this.winOf || p.at !== this.winAt || p.length !== this.winLen) {
      this.winOf = p.data;
      this.winAt = p.at;
      this.winLen = p.length;
      this.win = p.data.subarray(p.at, p.at + p.length);
    }
    return this.win;
  }
}

export interface PhaseValue {
  source: string;
  phase: string;
  value: number;
  unit: 'ps' | 'count';
}

/** One row of the timing comparison. */
export interface TimingRow {
  source: string;
  phase: string;
  unit: 'ps' | 'count';
  /** Value in trace a / b (ps or a count); null when that trace lacks the phase. */
  a: number | null;
  b: number | null;
  /** (b - a) / a in percent, rounded to 0.1; null when either is missing or a is 0 and b is not. */
  changePct: number | null;
}

/** Pairs the phases of a and b (order of a, then phases only in b). */
export function compareTiming(a: PhaseValue[], b: PhaseValue[]): TimingRow[] {
  const key = (p: PhaseValue): string => `${p.source}\u0000${p.phase}`;
  const bm = new Map(b.map((p) => [key(p), p]));
  const rows: TimingRow[] = [];
  const seen = new Set<string>();
  const pct = (x: number | null, y: number | null): number | null => {
    if (x === null || y === null) return null;
    if (x === 0) return y === 0 ? 0 : null;
    return Math.round(((y - x) / x) * 1000) / 10;
  };
  for (const p of a) {
    const k = key(p);
    seen.add(k);
    const q = bm.get(k);
    rows.push({ source: p.source, phase: p.phase, unit: p.unit, a: p.value, b: q?.value ?? null, changePct: pct(p.value, q?.value ?? null) });
  }
  for (const q of b) {
    if (!seen.has(key(q))) rows.push({ source: q.source, phase: q.phase, unit: q.unit, a: null, b: q.value, changePct: null });
  }
  return rows;
}
