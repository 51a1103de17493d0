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
import { LatencyStats, PENDING_CAP } from '../latency.js';
import type { SeqEvent } from '../reader.js';

export { LatencyStats } from '../latency.js';

interface DevTiming {
  id: string;
  first: number;
  last: number;
  firstMmio: number | undefined;
  reset: number | undefined;
  ready: number | undefined;
  own: DeviceTimingPhases | undefined;
}

interface SchemeTiming {
  pending: Map<number, number>;
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
    let d = small ? this.devList[index] : this.devs.get(index);
    if (!d) {
      const info = this.header.devices.find((x) => x.index === index);
      d = {
        id: info?.id ?? `dev${index}`, first: t, last: t, firstMmio: undefined, reset: undefined, ready: undefined,
        own: info === undefined ? undefined : this.decoders.get(info.type)?.timingPhases?.(),
      };
      this.devs.set(index, d);
      if (small) this.devList[index] = d;
    }
    return d;
  }

  add(ev: SeqEvent): void {
    const t = ev.time;
    switch (ev.kind) {
      case 'mmio': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (d.firstMmio === undefined) d.firstMmio = t;
        d.own?.add(ev);
        return;
      }
      case 'milestone': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (ev.name === 'reset' && d.ready === undefined) d.reset = t;
        else if (ev.name === 'ready' && d.ready === undefined) d.ready = t;
        d.own?.add(ev);
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
        d.own?.add(ev);
        return;
      }
      case 'schemeReq':
      case 'schemeReply': {
        let s = this.schemes.get(ev.scheme);
        if (!s) {
          s = { pending: new Map(), lat: new LatencyStats() };
          this.schemes.set(ev.scheme, s);
        }
        if (ev.kind === 'schemeReq') {
          if (s.pending.size >= PENDING_CAP) s.pending.clear();
          s.pending.set(ev.reqId, t);
        } else {
          const t0 = s.pending.get(ev.reqId);
          if (t0 !== undefined) {
            s.pending.delete(ev.reqId);
            s.lat.add(t - t0);
          }
        }
        return;
      }
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
