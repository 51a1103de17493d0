import { NO_EVENT, type EventHandle } from '../../sim/event-queue.js';
import { InputError } from '../../sim/errors.js';
import type { HardwareStandIn, Machine } from '../machine.js';
import type { Scenario } from '../scenario.js';
import { parseBdf } from '../../devices/pci/bdf.js';
import type { Divergence, DivergenceKind } from '../../trace/compare/compare.js';
import type { TraceHeader } from '../../trace/format.js';
import type { SeqEvent, TraceReader } from '../../trace/reader.js';
import { PciStandIn, type AccessSink } from './pci-stand-in.js';
import { sameBytes } from '../../trace/compare/events.js';
import { RingTracer } from './ring-tracer.js';
import { divergenceKey } from './devices.js';
import { at } from '../../sim/time.js';

const DRIVER_SIDE = new Set(['cfg', 'mmio', 'pio']);

interface Injection {
  ev: SeqEvent;
  handle: EventHandle;
  fired: boolean;
  /** Index in `slots` (the event carries it), or -1 if not scheduled. */
  slot: number;
}

export interface TraceHardwareOptions {
  context?: number;
  /** Where the replay's own events go as well (a recorder), besides the context ring. */
  record?: import('../../sim/tracer.js').Tracer;
  keepGoing?: boolean;
  maxDivergences?: number;
  /** How far to look ahead when resynchronising (keep-going). */
  window?: number;
}

/** Checks that a trace was recorded from this scenario (same file content and device table). */
export function checkTraceMatchesScenario(header: TraceHeader, scenario: Scenario, tracePath: string): void {
  if (header.scenario.hash !== scenario.hash) {
    throw new InputError(tracePath, 'header.scenario',
      `the trace was recorded from scenario "${header.scenario.name}" (${header.scenario.path}, sha256 ${header.scenario.hash.slice(0, 12)}…), which does not match ${scenario.path} (sha256 ${scenario.hash.slice(0, 12)}…); pass the scenario it was recorded from with --scenario`);
  }
  const want = scenario.machine.devices.map((d, i) => `${i}:${d.id}:${d.type}:${d.bdf}`).join(',');
  const got = header.devices.map((d) => `${d.index}:${d.id}:${d.type}:${d.bdf}`).join(',');
  if (want !== got) throw new InputError(tracePath, 'header.devices', `device table ${got} does not match the scenario's ${want}`);
}

/**
 * Trace as hardware: the scenario's drivers and workload run, but no device
 * model exists. Each PCI function is a stand-in whose config space and BARs
 * are the recorded trace. A driver-side access (config, MMIO) must match the
 * next recorded access of that device: reads return the recorded value,
 * writes are checked. The device-side events recorded after an access (DMA,
 * MSI, INTx, milestones) are injected after it at the same relative delay —
 * and all of them before the device's next access, so cause precedes effect.
 * A device-side DMA read checks that memory holds what the device read in
 * the recording (the driver wrote the same command); a DMA write puts the
 * recorded bytes into memory. 802.11 frames on the air (`air` records) are
 * device-internal: nothing is injected for them and nothing checks them;
 * they are only traced again in their place among the device-side records.
 */
export class TraceHardware implements HardwareStandIn, AccessSink {
  readonly divergences: Divergence[] = [];
  count = 0;
  /** Divergences identical to the previous one (a driver polling the same register), not counted again. */
  repeats = 0;
  private lastKey = '';
  stopped = false;
  matched = 0;
  injected = 0;
  readonly tracer: RingTracer;
  private machine!: Machine;
  private readonly it: Iterator<SeqEvent>;
  private eof = false;
  private readonly queues: SeqEvent[][];
  private readonly pending: Injection[][];
  private readonly consumed: SeqEvent[][];
  private injectTarget = -1;
  private readonly ctx: number;
  private readonly slots: (Injection | undefined)[] = [];
  private readonly freeSlots: number[] = [];

  constructor(readonly reader: TraceReader, private readonly opts: TraceHardwareOptions = {}) {
    this.it = reader.events()[Symbol.iterator]();
    const n = reader.header.devices.length;
    this.queues = Array.from({ length: n }, () => []);
    this.pending = Array.from({ length: n }, () => []);
    this.consumed = Array.from({ length: n }, () => []);
    this.ctx = opts.context ?? 20;
    this.tracer = new RingTracer(this.ctx, opts.record);
  }

  get header(): TraceHeader { return this.reader.header; }

  attach(m: Machine): void {
    this.machine = m;
    this.injectTarget = m.queue.register('replay-inject', (_k, slot) => {
      const inj = this.slots[slot];
      if (inj !== undefined && !inj.fired) this.fire(inj);
    });
    for (const d of this.header.devices) {
      const p = parseBdf(d.bdf);
      if (!p.ok) throw new InputError(this.reader.path, 'header.devices', p.error);
      const fn = new PciStandIn(p.bdf, d.id, d.index, this, m.mem);
      m.bridge.add(fn);
    }
  }

  shouldStop(): boolean {
    return this.stopped;
  }

  // ---- the golden stream -------------------------------------------------

  /** Ensures the device's queue holds at least n records (or the trace ended). */
  private fill(dev: number, n: number): void {
    const q = this.queues[dev]!;
    while (q.length < n && !this.eof) {
      const r = this.it.next();
      if (r.done) { this.eof = true; break; }
      const e = r.value;
      const d = 'dev' in e ? e.dev : -1;
      if (d < 0 || d >= this.queues.length) continue;
      if (e.kind === 'log' || e.kind === 'proc' || e.kind === 'schemeReq' || e.kind === 'schemeReply') continue;
      this.queues[d]!.push(e);
    }
  }

  private remember(dev: number, e: SeqEvent): void {
    const c = this.consumed[dev]!;
    c.push(e);
    if (c.length > this.ctx) c.shift();
  }

  // ---- injection -----------------------------------------------------------

  /**
   * After consuming driver-side record `r`, injects the device-side records
   * that follow it: those recorded at the same instant as a write happened
   * inside it (an INTx deassert on a doorbell write) and are injected at
   * once; the others are scheduled at their recorded delay.
   */
  private scheduleFollowers(dev: number, r: SeqEvent): void {
    const q = this.queues[dev]!;
    const now = this.machine.queue.now;
    let inside = r.kind !== 'pio' && (r as { write: boolean }).write;
    for (;;) {
      this.fill(dev, 1);
      const e = q[0];
      if (e === undefined || DRIVER_SIDE.has(e.kind)) break;
      q.shift();
      if (inside && e.time === r.time) {
        this.fire({ ev: e, handle: NO_EVENT, fired: false, slot: -1 });
        continue;
      }
      inside = false;
      const slot = this.freeSlots.pop() ?? this.slots.length;
      const inj: Injection = { ev: e, handle: NO_EVENT, fired: false, slot };
      this.slots[slot] = inj;
      inj.handle = this.machine.queue.scheduleAt(at(now + Math.max(0, e.time - r.time)), this.injectTarget, 0, slot);
      this.pending[dev]!.push(inj);
    }
  }

  /** Fires every pending injection of `dev` now, in recorded order. */
  private flush(dev: number): void {
    const p = this.pending[dev]!;
    while (p.length > 0) {
      const inj = p.shift()!;
      if (inj.fired) continue;
      this.machine.queue.cancel(inj.handle);
      this.fire(inj);
    }
  }

  private fire(inj: Injection): void {
    inj.fired = true;
    if (inj.slot >= 0) {
      this.slots[inj.slot] = undefined;
      this.freeSlots.push(inj.slot);
    }
    const e = inj.ev;
    const m = this.machine;
    const dev = 'dev' in e ? e.dev : -1;
    const p = this.pending[dev];
    if (p !== undefined && p[0] === inj) p.shift();
    this.injected++;
    this.remember(dev, e);
    switch (e.kind) {
      case 'dma':
        if (e.write) {
          if (m.mem.isRam(e.addr, e.data.length)) m.mem.ram.set(e.data, e.addr);
          m.tracer.dma(true, m.queue.now, e.dev, e.addr, e.data, 0, e.data.length, e.tag);
        } else {
          const now = m.mem.isRam(e.addr, e.data.length) ? m.mem.ram.subarray(e.addr, e.addr + e.data.length) : new Uint8Array(0);
          m.tracer.dma(false, m.queue.now, e.dev, e.addr, now, 0, now.length, e.tag);
          if (e.missing === undefined && !sameBytes(now, e.data)) {
            this.diverge('value', e, this.tracer.last());
          }
        }
        break;
      case 'msi':
        m.irq.msi(e.dev, e.addr, e.data);
        break;
      case 'intx':
        m.irq.changeLine(e.dev, e.gsi, e.level ? 1 : -1);
        break;
      case 'milestone':
        m.tracer.milestone(m.queue.now, e.dev, e.name, e.a, e.b);
        break;
      case 'guestErr':
        m.tracer.guestErr(m.queue.now, e.dev, e.code, e.message);
        break;
      case 'air':
        // Device-internal (the radio's side of the air): nothing in the machine receives it and it
        // is never checked; it is only traced again, so a recorded replay still reproduces the recording.
        m.tracer.air(m.queue.now, e.dev, e.tx, e.channel, e.signal, e.rate, e.data, 0, e.data.length);
        break;
      default:
        break;
    }
  }

  // ---- driver-side accesses -------------------------------------------------

  access(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number {
    this.flush(dev);
    const q = this.queues[dev]!;
    this.fill(dev, 1);
    // Device-side records before the first access of a device: inject them now.
    while (q[0] !== undefined && !DRIVER_SIDE.has(q[0].kind)) this.fire({ ev: q.shift()!, handle: NO_EVENT, fired: false, slot: -1 });
    const e = q[0];
    if (e !== undefined && matches(e, kind, write, bar, offset, size, value)) {
      q.shift();
      this.matched++;
      this.remember(dev, e);
      this.scheduleFollowers(dev, e);
      return write ? 0 : (e as { value: number }).value;
    }
    return this.mismatch(dev, e, kind, write, bar, offset, size, value);
  }

  private mismatch(dev: number, e: SeqEvent | undefined, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number {
    const actual = this.tracer.pendingAccess(kind, write, dev, bar, offset, size, value, this.machine.queue.now);
    const q = this.queues[dev]!;
    let k: DivergenceKind;
    if (e === undefined) k = 'extra';
    else if (samePlace(e, kind, write, bar, offset)) k = 'value';
    else {
      // Is the access further ahead (expected ones missing), or not there at all (extra)?
      const win = this.opts.window ?? 64;
      this.fill(dev, win);
      let at = -1;
      for (let i = 1; i < Math.min(win, q.length); i++) {
        const x = q[i]!;
        if (DRIVER_SIDE.has(x.kind) && matches(x, kind, write, bar, offset, size, value)) { at = i; break; }
      }
      k = at > 0 ? 'missing' : (q[1] !== undefined && matches(q[1], kind, write, bar, offset, size, value) ? 'order' : 'value');
      if (k === 'missing' && this.opts.keepGoing) {
        this.diverge(k, e, actual);
        for (let i = 0; i < at; i++) q.shift();
        return this.access(dev, kind, write, bar, offset, size, value);
      }
    }
    this.diverge(k, e, actual);
    if (e !== undefined && k === 'value' && samePlace(e, kind, write, bar, offset)) {
      // Consume it: the read gets the recorded value and the device side goes on.
      q.shift();
      this.remember(dev, e);
      this.scheduleFollowers(dev, e);
      return write ? 0 : (e as { value: number }).value;
    }
    return write ? 0 : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  private diverge(kind: DivergenceKind, expected: SeqEvent | undefined, actual: SeqEvent | undefined): void {
    // Without --keep-going only the first divergence counts: the driver may go on touching the
    // device until the run loop sees the stop, and each of those accesses is the same story.
    if (this.stopped) return;
    const key = divergenceKey(kind, expected, actual);
    if (key === this.lastKey) { this.repeats++; return; }
    this.lastKey = key;
    this.count++;
    if (!this.opts.keepGoing) this.stopped = true;
    if (this.divergences.length >= (this.opts.maxDivergences ?? 100)) return;
    const dev = expected !== undefined && 'dev' in expected ? expected.dev : actual !== undefined && 'dev' in actual ? actual.dev : 0;
    this.fill(dev, this.ctx + 1);
    const k = this.machine.kernel;
    const after = this.queues[dev]!.slice(expected !== undefined && this.queues[dev]![0] === expected ? 1 : 0, this.ctx + 1);
    this.divergences.push({
      kind, expected, actual: kind === 'missing' ? undefined : actual,
      time: this.machine.queue.now,
      before: { expected: [...this.consumed[dev]!], actual: this.tracer.snapshot().filter((x) => x !== actual) },
      after: { expected: after, actual: [] },
      logs: k.logs.slice(-10).map((l) => ({ time: l.time, pid: l.pid, level: l.level, text: l.text })),
      processes: k.processes.map((p) => ({ pid: p.pid, name: p.name, state: p.state === 'running' ? taskState(p.tasks) : p.state })),
      skippedExpected: 0, skippedActual: 0,
    });
  }

  /** At the end of the run: recorded accesses the driver never made are missing. */
  finish(): void {
    if (this.stopped) return;
    for (let dev = 0; dev < this.queues.length; dev++) {
      this.flush(dev);
      this.fill(dev, 1);
      const q = this.queues[dev]!;
      while (q[0] !== undefined && !DRIVER_SIDE.has(q[0].kind)) this.fire({ ev: q.shift()!, handle: NO_EVENT, fired: false, slot: -1 });
      if (q[0] !== undefined) this.diverge('missing', q[0], undefined);
    }
  }
}

function taskState(tasks: { state: string; name: string }[]): string {
  const live = tasks.filter((t) => t.state !== 'done');
  return live.length === 0 ? 'running' : `running (${live.map((t) => `${t.name}: ${t.state}`).join(', ')})`;
}

function matches(e: SeqEvent, kind: string, write: boolean, bar: number, offset: number, size: number, value: number): boolean {
  if (e.kind !== kind) return false;
  if (e.kind === 'mmio') return e.write === write && e.bar === bar && e.offset === offset && e.size === size && (!write || e.value === value);
  if (e.kind === 'cfg') return e.write === write && e.offset === offset && e.size === size && (!write || e.value === value);
  return false;
}

function samePlace(e: SeqEvent, kind: string, write: boolean, bar: number, offset: number): boolean {
  if (e.kind !== kind) return false;
  if (e.kind === 'mmio') return e.write === write && e.bar === bar && e.offset === offset;
  if (e.kind === 'cfg') return e.write === write && e.offset === offset;
  return false;
}


