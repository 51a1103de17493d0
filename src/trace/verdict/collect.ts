/**
 * Collects one trace's behaviour facts (facts.ts) and, alongside, a digest of
 * every event with its time (to tell IDENTICAL from TIMING-ONLY) and the
 * timing phases (for the timing budget).
 *
 * Generic rules, for events a device's own extractor does not claim:
 * - config space: `config`, in order, repeated reads collapsed;
 * - MMIO and port I/O: `registers`, in order, repeated reads collapsed;
 *   registers the device calls volatile are left out;
 * - DMA: `dma:<tag>`, a multiset of direction, length and payload hash with
 *   the decoder's address fields zeroed (addresses are allocation, not
 *   behaviour);
 * - INTx and MSI: `interrupts`, the set of lines and vectors used (how many
 *   interrupts fired is timing: drivers batch completions);
 * - milestones: `milestones`, in order, repeats collapsed (state digests are
 *   left out: they are periodic);
 * - guest errors: `guest errors`, a multiset of code and message;
 * - 802.11 frames: `air:tx` / `air:rx`, multisets of frame hashes;
 * - Ethernet frames: `eth:tx` / `eth:rx`, multisets of port, length, summary and frame hash;
 * - display frames: `frames:pipe A` (per pipe), in order: frame counter, size,
 *   format and pixel hash (when a frame was shown is timing; which frames, in
 *   which order, with which pixels, is behaviour: one missing, extra or
 *   different frame is a functional difference);
 * - per process (by name): its life (`process`: spawn, exit with status,
 *   crash), its error and warning log lines (`errors`, multiset) and its
 *   scheme requests with their results (`requests`, in order, repeats
 *   collapsed), except requests to the waiting schemes (irq, event, time),
 *   whose number is timing.
 */
import type { DeviceBehaviour, DeviceDecoder } from '../decoder.js';
import type { TraceHeader } from '../format.js';
import type { SeqEvent } from '../reader.js';
import { Hasher } from '../diff/hash.js';
import { TimingCollector } from '../diff/timing.js';
import type { PhaseValue } from '../diff/timing.js';
import { FactTable } from './facts.js';
import { describeEthFrame } from '../eth.js';
import { frameFact, frameHash, frameStreamName } from '../frames.js';

/** What to leave out of the functional comparison (options and the scenario's `compare` block). */
export interface IgnoreRules {
  /** Event kinds (`log`, `air`, `milestone`, `schemeReq`, `guestErr`, ...). */
  kinds?: readonly string[];
  /** Milestone names. */
  milestones?: readonly string[];
  /** Fact fields by key (for example an RX timestamp `tsf`). */
  fields?: readonly string[];
}

/** Rules from two places (a scenario's `compare.ignore` and the command line), both applied. */
export function mergeIgnore(a: IgnoreRules, b: IgnoreRules | undefined): IgnoreRules {
  if (b === undefined) return a;
  return {
    kinds: [...(a.kinds ?? []), ...(b.kinds ?? [])],
    milestones: [...(a.milestones ?? []), ...(b.milestones ?? [])],
    fields: [...(a.fields ?? []), ...(b.fields ?? [])],
  };
}

/** The 64-bit address fields of a payload as byte ranges to leave out (decoders hand out the same field arrays again). */
const rangesOf = new WeakMap<readonly number[], (readonly [number, number])[]>();
function addressRanges(fields: readonly number[]): readonly (readonly [number, number])[] {
  let r = rangesOf.get(fields);
  if (r === undefined) {
    r = [...fields].sort((x, y) => x - y).map((o) => [o, 8] as const);
    rangesOf.set(fields, r);
  }
  return r;
}

/** Requests whose non-negative result is a new file descriptor. */
const FD_RESULTS = new Set(['open', 'dup']);

/** Schemes whose requests stand for waiting: their number follows timing, not behaviour. */
const WAITING_SCHEMES = new Set(['irq', 'event', 'time']);

interface DevState {
  id: string;
  dec: DeviceDecoder | undefined;
  own: DeviceBehaviour | undefined;
  regNames: Map<number, string>;
  /** The last of a run of reads of one register, not yet a fact (see `flushRead`); '' when none. */
  pendingReg: string;
  pendingRead: string;
}

export interface TraceBehaviour {
  facts: FactTable;
  /** Digest of every event with its time and sequence: equal digests mean IDENTICAL. */
  exact: string;
  events: number;
  endTime: number;
  phases: PhaseValue[];
}

export class BehaviourCollector {
  readonly facts: FactTable;
  private readonly devs = new Map<number, DevState>();
  private readonly names = new Map<number, string>();
  private readonly pending = new Map<number, { pid: number; op: string; text: string }>();
  private readonly exact = new Hasher().start(0xe7ac7);
  private readonly timing: TimingCollector;
  private readonly ignoreKinds: ReadonlySet<string>;
  private readonly ignoreMilestones: ReadonlySet<string>;
  private readonly ph = new Hasher();
  private events = 0;
  private endTime = 0;

  constructor(private readonly header: TraceHeader, private readonly decoders: ReadonlyMap<string, DeviceDecoder>, ignore: IgnoreRules = {}) {
    this.facts = new FactTable(new Set(ignore.fields ?? []));
    this.timing = new TimingCollector(header, decoders);
    this.ignoreKinds = new Set(ignore.kinds ?? []);
    this.ignoreMilestones = new Set(['state', ...(ignore.milestones ?? [])]);
  }

  private dev(index: number): DevState {
    let d = this.devs.get(index);
    if (d === undefined) {
      const info = this.header.devices.find((x) => x.index === index);
      const dec = info === undefined ? undefined : this.decoders.get(info.type);
      d = { id: info?.id ?? `dev${index}`, dec, own: dec?.behaviour?.(), regNames: new Map(), pendingReg: '', pendingRead: '' };
      this.devs.set(index, d);
    }
    return d;
  }

  private regName(d: DevState, bar: number, offset: number, size: number): string {
    const k = (bar * 0x1_0000_0000 + offset) * 16 + size;
    let n = d.regNames.get(k);
    if (n === undefined) {
      n = d.dec?.regName(bar, offset, size) ?? `bar${bar}+0x${offset.toString(16)}`;
      d.regNames.set(k, n);
    }
    return n;
  }

  /** A register's value as a fact: buffer addresses (the decoder's `addressRegisters`) keep only their offset in the page. */
  private registerValue(d: DevState, name: string, value: number): string {
    const regs = d.dec?.addressRegisters;
    if (regs !== undefined && regs.length > 0) {
      const dot = name.indexOf('.');
      const base = dot < 0 ? name : name.slice(0, dot);
      if (regs.includes(base)) return dot < 0 ? `addr+0x${(value % 4096).toString(16)}` : 'addr';
    }
    return `0x${value.toString(16)}`;
  }

  private flushRead(d: DevState): void {
    if (d.pendingReg === '') return;
    const src = this.facts.source;
    const dev = this.facts.sourceIsDevice;
    this.facts.source = d.id;
    this.facts.sourceIsDevice = true;
    this.facts.fact('registers', 'seq-collapse', d.pendingRead);
    this.facts.source = src;
    this.facts.sourceIsDevice = dev;
    d.pendingReg = '';
  }

  /** A process's name, for facts of its pid (when its proc events are filtered out). */
  learnProcess(pid: number, name: string): void {
    this.names.set(pid, name);
  }

  private proc(pid: number): string {
    return this.names.get(pid) ?? `pid${pid}`;
  }

  add(ev: SeqEvent): void {
    this.events++;
    this.endTime = ev.time;
    this.hashExact(ev);
    this.timing.add(ev);
    if (this.ignoreKinds.has(ev.kind)) {
      if (ev.kind === 'proc') this.names.set(ev.pid, ev.name);
      return;
    }
    const f = this.facts;
    f.sourceIsDevice = false;
    switch (ev.kind) {
      case 'proc': {
        this.names.set(ev.pid, ev.name);
        f.source = ev.name;
        f.fact('process', 'seq', ev.event === 'spawn' ? 'spawn' : `${ev.event} ${ev.detail}`);
        return;
      }
      case 'log':
        if (ev.level === 'error' || ev.level === 'warn') {
          f.source = this.proc(ev.pid);
          f.fact('errors', 'multiset', `${ev.level}: ${ev.text}`);
        }
        return;
      case 'schemeReq':
        if (WAITING_SCHEMES.has(ev.scheme)) return;
        this.pending.set(ev.reqId, { pid: ev.pid, op: ev.op, text: `${ev.scheme}: ${ev.op} a=${ev.a} b=${ev.b}` });
        return;
      case 'schemeReply': {
        const p = this.pending.get(ev.reqId);
        if (p === undefined) return;
        this.pending.delete(ev.reqId);
        f.source = this.proc(p.pid);
        // A new file descriptor's number is allocation: only success or the error counts.
        const result = ev.result >= 0 && FD_RESULTS.has(p.op) ? 'fd' : String(ev.result);
        f.fact('requests', 'seq-collapse', `${p.text} → ${result}`);
        return;
      }
      default:
        break;
    }
    const d = this.dev(ev.dev);
    f.source = d.id;
    f.sourceIsDevice = true;
    if (d.own !== undefined && d.own.add(ev, f)) return;
    switch (ev.kind) {
      case 'cfg':
        f.fact('config', 'seq-collapse', `${ev.write ? 'W' : 'R'} cfg+0x${ev.offset.toString(16)}/${ev.size} ${ev.write ? '<-' : '='} 0x${ev.value.toString(16)}`);
        return;
      case 'mmio': {
        const name = this.regName(d, ev.bar, ev.offset, ev.size);
        if (d.dec?.isVolatileRegister?.(name) === true) return;
        if (!ev.write) {
          // Consecutive reads of one register are a poll: only the value the driver went on with counts.
          if (d.pendingReg !== name) this.flushRead(d);
          d.pendingReg = name;
          d.pendingRead = `R ${name} = ${this.registerValue(d, name, ev.value)}`;
          return;
        }
        this.flushRead(d);
        f.fact('registers', 'seq-collapse', `W ${name} <- ${this.registerValue(d, name, ev.value)}`);
        return;
      }
      case 'pio':
        f.fact('registers', 'seq-collapse', `${ev.write ? 'OUT' : 'IN'} port 0x${ev.port.toString(16)}/${ev.size} 0x${ev.value.toString(16)}`);
        return;
      case 'dma': {
        const fields = d.dec?.dmaAddressFields?.(ev.tag, ev.data.length);
        const h = this.ph.start(0xd3a);
        if (fields === undefined || fields.length === 0) h.bytes(ev.data, 0, ev.data.length);
        else h.bytesWithout(ev.data, addressRanges(fields));
        f.fact(`dma:${ev.tag}`, 'multiset', `${ev.write ? 'to-host' : 'from-host'} len=${ev.data.length} data=${h.value().toString(16)}`);
        return;
      }
      case 'intx':
        f.fact('interrupts', 'set', `INTx gsi=${ev.gsi}`);
        return;
      case 'msi':
        f.fact('interrupts', 'set', `MSI vector=${ev.vector}`);
        return;
      case 'milestone':
        if (this.ignoreMilestones.has(ev.name)) return;
        f.fact('milestones', 'seq-collapse', `${ev.name} a=0x${ev.a.toString(16)} b=0x${ev.b.toString(16)}`);
        return;
      case 'guestErr':
        f.fact('guest errors', 'multiset', `${ev.code}: ${ev.message}`);
        return;
      case 'air':
        f.fact(ev.tx ? 'air:tx' : 'air:rx', 'multiset', `ch=${ev.channel} len=${ev.data.length} frame=${this.ph.start(0xa1e).bytes(ev.data, 0, ev.data.length).value().toString(16)}`);
        return;
      case 'eth':
        f.fact(ev.tx ? 'eth:tx' : 'eth:rx', 'multiset', `port=${ev.port} len=${ev.data.length} ${describeEthFrame(ev.data)} frame=${this.ph.start(0xe7).bytes(ev.data, 0, ev.data.length).value().toString(16)}`);
        return;
      case 'frame':
        f.fact(frameStreamName(ev.pipe), 'seq', frameFact(ev));
        return;
      default:
        return;
    }
  }

  private hashExact(ev: SeqEvent): void {
    const h = this.exact;
    h.num(ev.seq).num(ev.time).str(ev.kind);
    switch (ev.kind) {
      case 'mmio': case 'cfg': h.num(ev.dev).num(ev.write ? 1 : 0).num(ev.offset).num(ev.size).num(ev.value).num(ev.kind === 'mmio' ? ev.bar : 0); break;
      case 'pio': h.num(ev.dev).num(ev.write ? 1 : 0).num(ev.port).num(ev.size).num(ev.value); break;
      case 'dma': h.num(ev.dev).num(ev.write ? 1 : 0).num(ev.addr).str(ev.tag).bytes(ev.data, 0, ev.data.length); break;
      case 'intx': h.num(ev.dev).num(ev.gsi).num(ev.level); break;
      case 'msi': h.num(ev.dev).num(ev.addr).num(ev.data).num(ev.vector); break;
      case 'schemeReq': h.num(ev.pid).str(ev.scheme).str(ev.op).num(ev.reqId).num(ev.a).num(ev.b); break;
      case 'schemeReply': h.num(ev.pid).str(ev.scheme).num(ev.reqId).num(ev.result); break;
      case 'milestone': h.num(ev.dev).str(ev.name).num(ev.a).num(ev.b); break;
      case 'log': h.num(ev.pid).str(ev.level).str(ev.text); break;
      case 'guestErr': h.num(ev.dev).str(ev.code).str(ev.message); break;
      case 'proc': h.num(ev.pid).str(ev.event).str(ev.name).str(ev.detail); break;
      case 'air': h.num(ev.dev).num(ev.tx ? 1 : 0).num(ev.channel).num(ev.signal).num(ev.rate).bytes(ev.data, 0, ev.data.length); break;
      case 'eth': h.num(ev.dev).num(ev.tx ? 1 : 0).num(ev.port).bytes(ev.data, 0, ev.data.length); break;
      // Pixels by their hash (cached per blob: an unchanged frame is not hashed again).
      case 'frame': h.num(ev.dev).num(ev.pipe).num(ev.counter).num(ev.width).num(ev.height).num(ev.format).num(ev.data.length).str(frameHash(ev.data)); break;
    }
  }

  finish(): TraceBehaviour {
    for (const d of this.devs.values()) {
      this.flushRead(d);
      if (d.own?.end !== undefined) {
        this.facts.source = d.id;
        this.facts.sourceIsDevice = true;
        d.own.end(this.facts);
      }
    }
    return { facts: this.facts, exact: `${this.events}:${this.exact.value()}`, events: this.events, endTime: this.endTime, phases: this.timing.phases() };
  }
}
