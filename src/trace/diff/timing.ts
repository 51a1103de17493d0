/**
 * Timing phases per device and scheme, computed while a trace streams by
 * (docs/DIFF.md "Timing"). Memory is bounded: outstanding commands and
 * requests (capped), and latency samples kept exactly up to a cap, then in a
 * log-scale histogram (buckets 0.5 % wide).
 *
 * Device phases (each only when the trace has what it needs):
 * - reset→ready: from the last `reset` milestone before the first `ready`
 *   (or, without one, the device's first MMIO access) to the first `ready`.
 * - identify: fetch of the first admin SQE (DMA tag nvme.asqe) with opcode
 *   0x06 to the admin completion (nvme.acqe) with the same command id.
 * - queue creation: fetch of the first Create I/O CQ/SQ admin command (or the
 *   first `*.create` milestone) to the last `*.create` milestone before the
 *   first I/O.
 * - ready→first I/O: first `ready` (or the device's first event) to the first
 *   I/O SQE fetch (nvme.sqe); first I/O latency: that SQE to its completion.
 * - I/O latency p50/p90/p99 and mean: every I/O SQE fetch to the completion
 *   posted for the same submission queue and command id (SQ found from the
 *   Create I/O SQ commands' base and size; CQE SQ id at bytes 10-11, command
 *   id at 12-13); I/Os: completions matched.
 * - active span: first to last event of the device.
 * Scheme phases: request latency p50/p90/p99 and mean, schemeReq to the
 * schemeReply with the same request id; requests: replies matched.
 */
import type { TraceHeader } from '../format.js';
import type { SeqEvent } from '../reader.js';

/** Exact samples kept before switching to the histogram. */
const EXACT_CAP = 1 << 16;
/** Histogram bucket ratio. */
const RATIO = 1.005;
const LOG_RATIO = Math.log(RATIO);
/** Outstanding commands/requests tracked per device or scheme. */
const PENDING_CAP = 1 << 16;

/** Latency samples: exact up to EXACT_CAP, then a log-scale histogram. */
export class LatencyStats {
  private exact: number[] = [];
  private hist: Map<number, number> | undefined;
  count = 0;
  sum = 0;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (this.hist) {
      this.bin(v);
      return;
    }
    this.exact.push(v);
    if (this.exact.length > EXACT_CAP) {
      this.hist = new Map();
      for (const x of this.exact) this.bin(x);
      this.exact = [];
    }
  }

  private bin(v: number): void {
    const b = v <= 0 ? -1 : Math.floor(Math.log(v) / LOG_RATIO);
    this.hist!.set(b, (this.hist!.get(b) ?? 0) + 1);
  }

  /** Nearest-rank percentile (exact below the cap; the bucket's geometric middle above it). */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (!this.hist) {
      const s = [...this.exact].sort((x, y) => x - y);
      return s[rank - 1];
    }
    let seen = 0;
    for (const b of [...this.hist.keys()].sort((x, y) => x - y)) {
      seen += this.hist.get(b)!;
      if (seen >= rank) return b < 0 ? 0 : Math.round(Math.exp((b + 0.5) * LOG_RATIO));
    }
    return undefined;
  }

  mean(): number | undefined {
    return this.count === 0 ? undefined : Math.round(this.sum / this.count);
  }
}

interface DevTiming {
  id: string;
  first: number;
  last: number;
  firstMmio: number | undefined;
  reset: number | undefined;
  ready: number | undefined;
  createStart: number | undefined;
  createEnd: number | undefined;
  identifyStart: number | undefined;
  identifyCid: number;
  identifyEnd: number | undefined;
  firstIo: number | undefined;
  firstIoKey: number;
  firstIoEnd: number | undefined;
  /** Submission queues from Create I/O SQ: [qid, base, end) triples. */
  sqs: number[];
  pending: Map<number, number>;
  io: LatencyStats;
}

interface SchemeTiming {
  pending: Map<number, number>;
  lat: LatencyStats;
}

const u16 = (d: Uint8Array, o: number): number => d[o]! | (d[o + 1]! << 8);
const u32 = (d: Uint8Array, o: number): number => (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
const u64 = (d: Uint8Array, o: number): number => u32(d, o + 4) * 4294967296 + u32(d, o);

const UNKNOWN_SQ = 0xffff;
const ADMIN_IDENTIFY = 0x06;
const ADMIN_CREATE_SQ = 0x01;
const ADMIN_CREATE_CQ = 0x05;

/** One trace's timing, fed event by event. */
export class TimingCollector {
  private readonly devs = new Map<number, DevTiming>();
  private readonly schemes = new Map<string, SchemeTiming>();

  constructor(private readonly header: TraceHeader) {}

  private dev(index: number, t: number): DevTiming {
    let d = this.devs.get(index);
    if (!d) {
      d = {
        id: this.header.devices.find((x) => x.index === index)?.id ?? `dev${index}`,
        first: t, last: t, firstMmio: undefined, reset: undefined, ready: undefined, createStart: undefined,
        createEnd: undefined, identifyStart: undefined, identifyCid: -1, identifyEnd: undefined, firstIo: undefined,
        firstIoKey: -1, firstIoEnd: undefined, sqs: [], pending: new Map(), io: new LatencyStats(),
      };
      this.devs.set(index, d);
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
        return;
      }
      case 'milestone': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        if (ev.name === 'reset' && d.ready === undefined) d.reset = t;
        else if (ev.name === 'ready' && d.ready === undefined) d.ready = t;
        else if (ev.name.endsWith('.create')) {
          if (d.createStart === undefined) d.createStart = t;
          if (d.firstIo === undefined) d.createEnd = t;
        }
        return;
      }
      case 'dma': {
        const d = this.dev(ev.dev, t);
        d.last = t;
        this.dma(d, ev, t);
        return;
      }
      case 'pio':
      case 'cfg':
      case 'intx':
      case 'msi':
      case 'guestErr':
      case 'air':
        this.dev(ev.dev, t).last = t;
        return;
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

  private dma(d: DevTiming, ev: SeqEvent & { kind: 'dma' }, t: number): void {
    const data = ev.data;
    switch (ev.tag) {
      case 'nvme.asqe': {
        if (data.length < 64) return;
        const opc = data[0]!;
        if (opc === ADMIN_IDENTIFY && d.identifyStart === undefined) {
          d.identifyStart = t;
          d.identifyCid = u16(data, 2);
        } else if (opc === ADMIN_CREATE_SQ || opc === ADMIN_CREATE_CQ) {
          if (d.createStart === undefined) d.createStart = t;
          if (opc === ADMIN_CREATE_SQ) {
            const dw10 = u32(data, 40);
            const qid = dw10 & 0xffff;
            const size = (dw10 >>> 16) + 1;
            const base = u64(data, 24);
            for (let i = 0; i < d.sqs.length; i += 3) {
              if (d.sqs[i] === qid) {
                d.sqs.splice(i, 3);
                break;
              }
            }
            d.sqs.push(qid, base, base + size * 64);
          }
        }
        return;
      }
      case 'nvme.acqe':
        if (data.length >= 16 && d.identifyStart !== undefined && d.identifyEnd === undefined && u16(data, 12) === d.identifyCid) {
          d.identifyEnd = t;
        }
        return;
      case 'nvme.sqe': {
        if (data.length < 64) return;
        let sq = UNKNOWN_SQ;
        for (let i = 0; i < d.sqs.length; i += 3) {
          if (ev.addr >= d.sqs[i + 1]! && ev.addr < d.sqs[i + 2]!) {
            sq = d.sqs[i]!;
            break;
          }
        }
        const key = sq * 65536 + u16(data, 2);
        if (d.firstIo === undefined) {
          d.firstIo = t;
          d.firstIoKey = key;
        }
        if (d.pending.size >= PENDING_CAP) d.pending.clear();
        d.pending.set(key, t);
        return;
      }
      case 'nvme.cqe': {
        if (data.length < 16) return;
        const cid = u16(data, 12);
        let key = u16(data, 10) * 65536 + cid;
        let t0 = d.pending.get(key);
        if (t0 === undefined) {
          key = UNKNOWN_SQ * 65536 + cid;
          t0 = d.pending.get(key);
        }
        if (t0 === undefined) return;
        d.pending.delete(key);
        d.io.add(t - t0);
        if (d.firstIoEnd === undefined && key === d.firstIoKey) d.firstIoEnd = t;
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
      if (d.identifyStart !== undefined && d.identifyEnd !== undefined) push('identify', d.identifyEnd - d.identifyStart);
      if (d.createStart !== undefined && d.createEnd !== undefined && d.createEnd >= d.createStart) {
        push('queue creation', d.createEnd - d.createStart);
      }
      if (d.firstIo !== undefined) {
        push(d.ready !== undefined ? 'ready→first I/O' : 'start→first I/O', d.firstIo - (d.ready ?? d.first));
        if (d.firstIoEnd !== undefined) push('first I/O latency', d.firstIoEnd - d.firstIo);
      }
      if (d.io.count > 0) {
        push('I/Os', d.io.count, 'count');
        push('I/O latency p50', d.io.percentile(50));
        push('I/O latency p90', d.io.percentile(90));
        push('I/O latency p99', d.io.percentile(99));
        push('I/O latency mean', d.io.mean());
      }
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
