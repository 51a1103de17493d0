import type { EventHandle } from '../../sim/event-queue.js';
import { InputError } from '../../sim/errors.js';
import { Rec } from '../../sim/tracer.js';
import type { HardwareStandIn, Machine } from '../machine.js';
import type { Scenario } from '../scenario.js';
import { parseBdf } from '../../devices/pci/bdf.js';
import { DivergenceGroups, type Divergence, type DivergenceKind } from '../../trace/compare/compare.js';
import type { TraceHeader } from '../../trace/format.js';
import type { EventCursor, EventKind, SeqEvent, TraceReader } from '../../trace/reader.js';
import { PciStandIn, type AccessSink } from './pci-stand-in.js';
import { EventRing, RingTracer, type ContextTracer } from './ring-tracer.js';
import { StreamCheck } from './stream-check.js';
import { RecordColumns } from './records.js';
import { divergenceKey } from './devices.js';
import { at } from '../../sim/time.js';

const EMPTY = new Uint8Array(0);

/** How far past a run of recorded polls the driver's access is looked for (records of the device). */
const MAX_SKIPPED_RECORDS = 100_000;

export interface TraceHardwareOptions {
  context?: number;
  /** Where the replay's own events go as well (a recorder), besides the context ring. */
  record?: import('../../sim/tracer.js').Tracer;
  /**
   * Check the run's events against the recording as they come (StreamCheck)
   * instead of keeping context and recording: no divergence report can be
   * made, and the run stops at the first difference (`differs`). `record` is
   * left unused.
   */
  checkStream?: boolean;
  keepGoing?: boolean;
  maxDivergences?: number;
  /** How far to look ahead when resynchronising (keep-going). */
  window?: number;
  /**
   * Extra polls (a driver re-reading the register it last read beyond the
   * recorded reads) tolerated in a row while the device has no injection
   * pending, before the read counts as a divergence (default 1000).
   */
  maxExtraPolls?: number;
  /**
   * Whether an MMIO register follows timing rather than behaviour (the
   * device decoder's `isVolatileRegister`: doorbells, interrupt status and
   * masks). Writes to these may come in another order than recorded among
   * other volatile accesses (two queues' doorbells): the verdict's facts
   * leave their order out, and so does the replay.
   */
  isVolatile?: (dev: number, bar: number, offset: number, size: number) => boolean;
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
 *
 * Poll counts are timing. A driver whose timing changed may poll a status
 * register a different number of times than the recording did (it waits for
 * an injected DMA write or interrupt, or for a timeout, while reading a
 * register). When the driver repeats the read it last made and the
 * recording goes on with something else, the read gets the last recorded
 * value of that register (an extra poll); when the recording repeated a read
 * the driver has stopped making, and the driver's access matches the first
 * access after those repeats, they are skipped (a skipped poll), their
 * device-side followers scheduled as usual. Neither is a divergence; both
 * are counted (`tolerated`), and the verdict calls them timing. So are
 * writes to volatile registers (doorbells, `isVolatile`) in another order
 * among volatile accesses, or merged, or split (see `volatileWrite`).
 */
/** The event kinds a device takes part in (what the golden stream is made of). */
const DEVICE_KINDS: readonly EventKind[] = ['mmio', 'pio', 'cfg', 'dma', 'intx', 'msi', 'milestone', 'guestErr', 'air', 'eth', 'frame'];

export class TraceHardware implements HardwareStandIn, AccessSink {
  /** Divergences grouped by root cause (kind and place): `count` groups, the first of each kept with its context. */
  readonly groups: DivergenceGroups;
  get divergences(): Divergence[] { return this.groups.divergences; }
  get count(): number { return this.groups.count; }
  /** Divergences identical to the previous one (a driver polling the same register), not counted again. */
  repeats = 0;
  private lastKey = '';
  stopped = false;
  matched = 0;
  injected = 0;
  /**
   * Differences tolerated as timing: reads the driver repeated beyond the
   * recording and recorded repeats it did not make (poll counts); volatile
   * register writes in another order, merged or split (doorbells).
   */
  readonly tolerated = { extraPolls: 0, skippedPolls: 0, reorderedWrites: 0, skippedWrites: 0, extraWrites: 0 };
  readonly tracer: ContextTracer;
  /** With `checkStream`: the tracer, checking the run against the recording. */
  private readonly check: StreamCheck | undefined;
  private machine!: Machine;
  private readonly it: EventCursor;
  private eof = false;
  /** Each device's records read and not used up yet, in recorded order (columns: no object per record). */
  private readonly queues: RecordColumns[];
  /** With `checkStream`: every record read and not yet checked, in sequence order. */
  private readonly inOrder: RecordColumns | undefined;
  /** Scheduled injections per device, in recorded order, by slot. */
  private readonly pending: number[][];
  /** The last `context` records used up per device (divergence reports). */
  private readonly consumed: EventRing[];
  /** The last recorded driver-side access consumed, by device (slot = device; kind 0 until there is one): what a repeated read repeats. */
  private readonly lastAccess: RecordColumns;
  /** Extra polls in a row, per device. */
  private readonly extraRun: number[];
  private injectTarget = -1;
  private readonly ctx: number;
  /**
   * Records taken off a device queue to be injected, by slot: scheduled
   * ones (with their event in the queue and whether it fired) and those
   * fired at once. A scheduled slot is taken until it leaves its device's
   * pending list (so a slot there is never another injection's).
   */
  private readonly slots = new RecordColumns();
  private readonly slotLive: boolean[] = [];
  private readonly slotHandle: EventHandle[] = [];
  private readonly slotFired: boolean[] = [];
  /** volatileWrite's scratch: queue positions of earlier writes to the same register. */
  private readonly sameReg: number[] = [];

  constructor(readonly reader: TraceReader, private readonly opts: TraceHardwareOptions = {}) {
    // Only device events, unless the run is checked against every record.
    this.it = reader.cursor(opts.checkStream ? {} : { kinds: DEVICE_KINDS });
    const n = reader.header.devices.length;
    this.queues = Array.from({ length: n }, () => new RecordColumns());
    this.pending = Array.from({ length: n }, () => []);
    this.ctx = opts.context ?? 20;
    // A checked run keeps no context: one that differs is replayed again for its report.
    this.consumed = Array.from({ length: n }, () => new EventRing(opts.checkStream ? 0 : this.ctx));
    this.lastAccess = new RecordColumns(n);
    this.extraRun = Array.from({ length: n }, () => 0);
    this.inOrder = opts.checkStream ? new RecordColumns() : undefined;
    this.check = this.inOrder !== undefined ? new StreamCheck(this.inOrder, () => this.nextInOrder()) : undefined;
    this.tracer = this.check ?? new RingTracer(this.ctx, opts.record);
    this.groups = new DivergenceGroups(opts.maxDivergences ?? 100);
  }

  get header(): TraceHeader { return this.reader.header; }

  attach(m: Machine): void {
    this.machine = m;
    this.injectTarget = m.queue.register('replay-inject', (_k, slot) => {
      if (this.slotLive[slot] === true && !this.slotFired[slot]) this.fireSlot(slot);
    });
    for (const d of this.header.devices) {
      const p = parseBdf(d.bdf);
      if (!p.ok) throw new InputError(this.reader.path, 'header.devices', p.error);
      const fn = new PciStandIn(p.bdf, d.id, d.index, this, m.mem);
      m.bridge.add(fn);
    }
  }

  shouldStop(): boolean {
    return this.stopped || this.check?.differs === true;
  }

  /** With `checkStream`: the run made the recording's events to its end (and nothing diverged). */
  get checkedIdentical(): boolean {
    return this.check !== undefined && this.count === 0 && this.check.complete();
  }

  // ---- the golden stream -------------------------------------------------

  /** Ensures the device's queue holds at least n records (or the trace ended). */
  private fill(dev: number, n: number): void {
    const q = this.queues[dev]!;
    while (q.length < n && this.readRecord());
  }

  /** Reads the trace's next record into its device's queue (and the in-order queue when checking); false at the end. */
  private readRecord(): boolean {
    if (this.eof) return false;
    const it = this.it;
    if (!it.advance()) { this.eof = true; return false; }
    const v = it.view;
    const k = v.block.kind[v.i]!;
    const d = deviceOf(k, v.block.f[0]![v.i]!, v.block.f[1]![v.i]!);
    const q = d >= 0 && d < this.queues.length ? this.queues[d]! : undefined;
    if (q !== undefined) {
      q.push(v);
      this.inOrder?.pushFrom(q, q.slot(q.length - 1));
    } else {
      this.inOrder?.push(v);
    }
    return true;
  }

  /** With `checkStream`: the slot in `inOrder` of the next record in sequence order for the check (read on if need be), -1 at the end. */
  private nextInOrder(): number {
    const q = this.inOrder!;
    if (q.length === 0 && !this.readRecord()) return -1;
    const s = q.slot(0);
    q.shift();
    return s;
  }

  /** A record used up: kept for context (as an object) when the replay keeps context. */
  private remember(dev: number, src: RecordColumns, slot: number): void {
    const ring = this.consumed[dev];
    if (ring?.keeps === true) ring.push(src.event(slot));
  }

  // ---- injection -----------------------------------------------------------

  /**
   * After consuming a driver-side record recorded at `time`, injects the
   * device-side records that follow it: those recorded at the same instant
   * as a write (`write`: an MMIO or config write) happened inside it (an
   * INTx deassert on a doorbell write) and are injected at once; the others
   * are scheduled at their recorded delay.
   */
  private scheduleFollowers(dev: number, write: boolean, time: number): void {
    const q = this.queues[dev]!;
    const now = this.machine.queue.now;
    let inside = write;
    for (;;) {
      this.fill(dev, 1);
      if (q.length === 0 || q.driverSide(q.slot(0))) break;
      const slot = this.takeHead(dev);
      const t = this.slots.timeOf(slot);
      if (inside && t === time) {
        this.fire(slot);
        this.slots.release(slot);
        continue;
      }
      inside = false;
      this.slotLive[slot] = true;
      this.slotFired[slot] = false;
      this.slotHandle[slot] = this.machine.queue.scheduleAt(at(now + Math.max(0, t - time)), this.injectTarget, 0, slot);
      this.pending[dev]!.push(slot);
    }
  }

  /** Takes the device queue's oldest record off into an injection slot (which the caller releases). */
  private takeHead(dev: number): number {
    const q = this.queues[dev]!;
    const slot = this.slots.take();
    this.slots.copy(slot, q, q.slot(0));
    q.shift();
    return slot;
  }

  /** Injects the device queue's oldest record (device-side) now. */
  private fireHead(dev: number): void {
    const slot = this.takeHead(dev);
    this.fire(slot);
    this.slots.release(slot);
  }

  /** Fires every pending injection of `dev` now, in recorded order. */
  private flush(dev: number): void {
    const p = this.pending[dev]!;
    while (p.length > 0) {
      const slot = p.shift()!;
      this.slotLive[slot] = false;
      if (!this.slotFired[slot]) {
        this.machine.queue.cancel(this.slotHandle[slot]!);
        this.fire(slot);
      }
      this.slots.release(slot);
    }
  }

  /** A scheduled injection's time has come. */
  private fireSlot(slot: number): void {
    this.slotFired[slot] = true;
    const p = this.pending[this.slots.dev(slot)];
    const done = p !== undefined && p[0] === slot;
    if (done) {
      p.shift();
      this.slotLive[slot] = false;
    }
    this.fire(slot);
    if (done) this.slots.release(slot);
  }

  /** Injects recorded device-side record `slot` (of `slots`) now. */
  private fire(slot: number): void {
    const m = this.machine;
    const r = this.slots;
    const dev = r.dev(slot);
    this.injected++;
    this.remember(dev, r, slot);
    switch (r.kind[slot]) {
      case Rec.DmaRead: case Rec.DmaWrite: case Rec.DmaImage: case Rec.DmaDelta: {
        const addr = r.field(slot, 1);
        const data = r.data[slot]!;
        const from = r.at[slot]!;
        const len = r.len[slot]!;
        const tag = r.s0[slot]!;
        if (r.write(slot)) {
          m.mem.writeFrom(addr, data, from, len);
          // Image bytes stay references in the replay's own trace, as in the recording.
          const image = r.kind[slot] === Rec.DmaImage;
          m.tracer.dma(true, m.queue.now, dev, addr, data, from, len, tag, image ? r.s1[slot] : undefined, image ? r.field(slot, 4) : undefined);
          break;
        }
        const missing = r.missing[slot];
        if (missing === undefined && m.mem.holds(addr, data, from, len)) {
          // Memory holding the recorded bytes is traced as the record's own payload (a checked run then compares no bytes again).
          m.tracer.dma(false, m.queue.now, dev, addr, data, from, len, tag);
          break;
        }
        const now = m.mem.bytesAt(addr, len) ?? EMPTY;
        m.tracer.dma(false, m.queue.now, dev, addr, now, 0, now.length, tag);
        if (missing === undefined) this.diverge('value', r, slot, false, this.tracer.last());
        break;
      }
      case Rec.Msi:
        m.irq.msi(dev, r.field(slot, 1), r.field(slot, 2));
        break;
      case Rec.Intx:
        m.irq.changeLine(dev, r.field(slot, 1), r.field(slot, 2) !== 0 ? 1 : -1);
        break;
      default:
        this.fireObject(r.object(slot));
    }
  }

  /** Injects a recorded device-side event of a rare kind (kept as an object). */
  private fireObject(e: SeqEvent | undefined): void {
    const m = this.machine;
    switch (e?.kind) {
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
      case 'eth':
        // The same for Ethernet frames: the link and its peer are below the device boundary.
        m.tracer.eth(m.queue.now, e.dev, e.tx, e.port, e.data, 0, e.data.length);
        break;
      case 'frame':
        // A scanned-out frame is what the monitor saw, not driver input: traced again, and
        // handed to the scanout log, where a workload checking pixels looks for it.
        m.tracer.frame(m.queue.now, e.dev, e.pipe, e.counter, e.width, e.height, e.format, e.data, 0, e.data.length);
        m.scanout.frame(m.queue.now, e.dev, e.pipe, e.counter, e.width, e.height, e.format, e.data, 0, e.data.length);
        break;
      default:
        break;
    }
  }

  // ---- driver-side accesses -------------------------------------------------

  access(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number {
    const q = this.queues[dev]!;
    this.fill(dev, 1);
    if (!write) {
      const v = this.extraPoll(dev, kind, bar, offset, size);
      if (v !== undefined) return v;
    }
    this.flush(dev);
    this.fill(dev, 1);
    // Device-side records before the first access of a device: inject them now.
    while (q.length > 0 && !q.driverSide(q.slot(0))) {
      this.fireHead(dev);
      this.fill(dev, 1);
    }
    if (q.length > 0 && !matches(q, q.slot(0), kind, write, bar, offset, size, value) && this.skipPolls(dev, kind, write, bar, offset, size, value)) {
      this.flush(dev); // the skipped polls' followers came before this access in the recording
    }
    if (q.length > 0 && matches(q, q.slot(0), kind, write, bar, offset, size, value)) {
      const v = write ? 0 : valueOf(q, q.slot(0));
      this.matched++;
      this.consumeHead(dev);
      return v;
    }
    if (q.length > 0 && write && kind === 'mmio' && this.volatileWrite(dev, bar, offset, size, value)) return 0;
    return this.mismatch(dev, kind, write, bar, offset, size, value);
  }

  private volatile(dev: number, r: RecordColumns, s: number): boolean {
    const k = r.kind[s];
    return (k === Rec.MmioRead || k === Rec.MmioWrite) && this.opts.isVolatile?.(dev, r.field(s, 2), r.field(s, 3), r.field(s, 4)) === true;
  }

  /**
   * A write to a volatile register (a doorbell) that does not come where the
   * recording has it. Volatile registers follow timing: the verdict's facts
   * leave them out, and so does the replay, within the window and among
   * volatile accesses only (anything else recorded in between ends the
   * search, and the write is a divergence):
   * - recorded later, after volatile accesses to other registers (another
   *   queue's doorbell): taken out where it is (`reorderedWrites`); the
   *   device-side records after it stay in place, so they still follow the
   *   accesses recorded before it;
   * - recorded after other writes to the same register (two CQ head updates
   *   the driver now makes in one): those are skipped (`skippedWrites`);
   * - not recorded, while a later write to the same register is (an
   *   intermediate value the recording skipped): nothing is consumed
   *   (`extraWrites`).
   */
  private volatileWrite(dev: number, bar: number, offset: number, size: number, value: number): boolean {
    if (this.stopped || this.opts.isVolatile?.(dev, bar, offset, size) !== true) return false;
    const q = this.queues[dev]!;
    const win = this.opts.window ?? 64;
    this.fill(dev, win);
    const same = this.sameReg;
    same.length = 0;
    let overtaken = false;
    let found = -1;
    for (let i = 0; i < Math.min(win, q.length); i++) {
      const s = q.slot(i);
      if (!q.driverSide(s)) continue;
      const k = q.kind[s];
      const reg = (k === Rec.MmioRead || k === Rec.MmioWrite) && q.field(s, 2) === bar && q.field(s, 3) === offset && q.field(s, 4) === size;
      if (reg && k === Rec.MmioWrite && q.field(s, 5) === value) { found = i; break; }
      if (reg && k === Rec.MmioWrite) { same.push(i); continue; }
      if (reg || !this.volatile(dev, q, s)) break;
      overtaken = true;
    }
    if (found < 0) {
      if (same.length === 0) return false;
      this.tolerated.extraWrites++;
      return true;
    }
    const x = this.slots.take();
    this.slots.copy(x, q, q.slot(found));
    q.removeAt(found);
    for (let k = same.length - 1; k >= 0; k--) {
      this.remember(dev, q, q.slot(same[k]!));
      q.removeAt(same[k]!);
    }
    this.tolerated.skippedWrites += same.length;
    if (overtaken) this.tolerated.reorderedWrites++;
    this.matched++;
    this.remember(dev, this.slots, x);
    this.lastAccess.copy(dev, this.slots, x);
    this.extraRun[dev] = 0;
    const time = this.slots.timeOf(x);
    this.slots.release(x);
    // Nothing recorded before its device-side records any more: they follow this write.
    if (q.length > 0 && !q.driverSide(q.slot(0))) this.scheduleFollowers(dev, true, time);
    return true;
  }

  /** The device's oldest recorded record (a driver-side access) is used up: context, the last access of the device, its device-side followers. */
  private consumeHead(dev: number): void {
    const q = this.queues[dev]!;
    const s = q.slot(0);
    this.remember(dev, q, s);
    this.lastAccess.copy(dev, q, s);
    this.extraRun[dev] = 0;
    const k = q.kind[s];
    const time = q.timeOf(s);
    q.shift();
    this.scheduleFollowers(dev, k === Rec.MmioWrite || k === Rec.CfgWrite, time);
  }

  /**
   * A read repeating the device's last recorded access (same register and
   * width) when the recording goes on with something else: the driver polls
   * more often than the recording did. It gets the last recorded value, and
   * pending injections keep their recorded delays (the driver is waiting for
   * them). Undefined when this is not such a read.
   */
  private extraPoll(dev: number, kind: 'cfg' | 'mmio', bar: number, offset: number, size: number): number | undefined {
    if (this.stopped) return undefined;
    const last = this.lastAccess;
    if (!isRead(last, dev) || !matches(last, dev, kind, false, bar, offset, size, 0)) return undefined;
    const q = this.queues[dev]!;
    if (q.length > 0 && (!q.driverSide(q.slot(0)) || samePoll(q, q.slot(0), last, dev))) return undefined;
    // Without anything pending for the device, a driver that keeps polling is waiting for something the recording never did.
    if (!this.anyUnfired(dev) && this.extraRun[dev]! >= (this.opts.maxExtraPolls ?? 1000)) return undefined;
    this.extraRun[dev]!++;
    this.tolerated.extraPolls++;
    return valueOf(last, dev);
  }

  /** Whether an injection of `dev` is scheduled and has not fired yet. */
  private anyUnfired(dev: number): boolean {
    const p = this.pending[dev]!;
    for (let i = 0; i < p.length; i++) if (!this.slotFired[p[i]!]) return true;
    return false;
  }

  /**
   * The recording repeated the read the driver last made (it polled more
   * often), and the driver has moved on: when the driver's access matches
   * the first recorded access after those repeated reads, they are skipped
   * (counted, their device-side followers scheduled) and true is returned.
   */
  private skipPolls(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): boolean {
    const last = this.lastAccess;
    const q = this.queues[dev]!;
    if (this.stopped || !isRead(last, dev) || q.length === 0 || !samePoll(q, q.slot(0), last, dev)) return false;
    let i = 0;
    for (; i < MAX_SKIPPED_RECORDS; i++) {
      this.fill(dev, i + 1);
      if (i >= q.length) return false;
      const s = q.slot(i);
      if (q.driverSide(s) && !samePoll(q, s, last, dev)) break;
    }
    if (i >= q.length || !matches(q, q.slot(i), kind, write, bar, offset, size, value)) return false;
    const after = q.seqOf(q.slot(i));
    while (q.seqOf(q.slot(0)) !== after) {
      if (!q.driverSide(q.slot(0))) { this.fireHead(dev); continue; }
      this.tolerated.skippedPolls++;
      this.consumeHead(dev);
    }
    return true;
  }

  private mismatch(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number {
    const actual = pendingAccess(this.tracer.seq, kind, write, dev, bar, offset, size, value, this.machine.queue.now);
    const q = this.queues[dev]!;
    const has = q.length > 0;
    let k: DivergenceKind;
    if (!has) k = 'extra';
    else if (samePlace(q, q.slot(0), kind, write, bar, offset)) k = 'value';
    else {
      // Is the access further ahead (expected ones missing), or not there at all (extra)?
      const win = this.opts.window ?? 64;
      this.fill(dev, win);
      let found = -1;
      for (let i = 1; i < Math.min(win, q.length); i++) {
        const s = q.slot(i);
        if (q.driverSide(s) && matches(q, s, kind, write, bar, offset, size, value)) { found = i; break; }
      }
      k = found > 0 ? 'missing' : (q.length > 1 && matches(q, q.slot(1), kind, write, bar, offset, size, value) ? 'order' : 'value');
      if (k === 'missing' && this.opts.keepGoing) {
        this.diverge(k, q, q.slot(0), true, actual, found);
        for (let i = 0; i < found; i++) q.shift();
        return this.access(dev, kind, write, bar, offset, size, value);
      }
    }
    if (has) this.diverge(k, q, q.slot(0), true, actual);
    else this.diverge(k, undefined, -1, false, actual);
    if (has && k === 'value' && samePlace(q, q.slot(0), kind, write, bar, offset)) {
      // Consume it: the read gets the recorded value and the device side goes on.
      const v = write ? 0 : valueOf(q, q.slot(0));
      this.consumeHead(dev);
      return v;
    }
    return write ? 0 : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  /**
   * A divergence: the recorded record expected is slot `slot` of `src`
   * (undefined: none), `atHead` when it is its device queue's oldest (the
   * report's records after it then start behind it).
   */
  private diverge(kind: DivergenceKind, src: RecordColumns | undefined, slot: number, atHead: boolean, actual: SeqEvent | undefined, width = 1): void {
    // Without --keep-going only the first divergence counts: the driver may go on touching the
    // device until the run loop sees the stop, and each of those accesses is the same story.
    if (this.stopped) return;
    const expected = src?.event(slot);
    const key = divergenceKey(kind, expected, actual);
    if (key === this.lastKey) { this.repeats++; return; }
    this.lastKey = key;
    if (!this.opts.keepGoing) this.stopped = true;
    const now = this.machine.queue.now;
    const act = kind === 'missing' ? undefined : actual;
    this.groups.add(kind, expected, act, now, width, () => {
      const dev = expected !== undefined && 'dev' in expected ? expected.dev : actual !== undefined && 'dev' in actual ? actual.dev : 0;
      this.fill(dev, this.ctx + 1);
      const k = this.machine.kernel;
      const q = this.queues[dev]!;
      const after: SeqEvent[] = [];
      for (let i = expected !== undefined && atHead ? 1 : 0; i < Math.min(this.ctx + 1, q.length); i++) after.push(q.event(q.slot(i)));
      return {
        kind, expected, actual: act, time: now,
        before: { expected: this.consumed[dev]?.snapshot() ?? [], actual: this.tracer.snapshot().filter((x) => x !== actual) },
        after: { expected: after, actual: [] },
        logs: k.logs.slice(-10).map((l) => ({ time: l.time, pid: l.pid, level: l.level, text: l.text })),
        processes: k.processes.map((p) => ({ pid: p.pid, name: p.name, state: p.state === 'running' ? taskState(p.tasks) : p.state })),
        skippedExpected: width > 1 ? width : 0, skippedActual: 0,
      };
    });
  }

  /** At the end of the run: recorded accesses the driver never made are missing. */
  finish(): void {
    if (this.stopped) return;
    for (let dev = 0; dev < this.queues.length; dev++) {
      this.flush(dev);
      this.fill(dev, 1);
      const q = this.queues[dev]!;
      while (q.length > 0 && !q.driverSide(q.slot(0))) this.fireHead(dev);
      if (q.length > 0) this.diverge('missing', q, q.slot(0), true, undefined);
    }
  }

  /** Closes the trace (the events left unread are not needed any more). */
  close(): void {
    this.it.close();
  }
}

function taskState(tasks: { state: string; name: string }[]): string {
  const live = tasks.filter((t) => t.state !== 'done');
  return live.length === 0 ? 'running' : `running (${live.map((t) => `${t.name}: ${t.state}`).join(', ')})`;
}

/** The device of a record from its kind and first two column fields (-1 for the scheme, log and process records). */
function deviceOf(k: number, f0: number, f1: number): number {
  if (k >= Rec.MmioRead && k <= Rec.CfgWrite) return f1;
  if (k === Rec.SchemeReq || k === Rec.SchemeReply || k === Rec.Log || k === Rec.Proc) return -1;
  return f0;
}

/** The access being made right now, as the event it will be (a read is traced only after it returns). */
function pendingAccess(seq: number, kind: 'cfg' | 'mmio', write: boolean, dev: number, bar: number, offset: number, size: number, value: number, time: number): SeqEvent {
  if (kind === 'mmio') return { kind, write, time, core: -1, dev, bar, offset, size, value, seq };
  return { kind, write, time, core: -1, dev, offset, size, value, seq };
}

/** The value of a recorded access (MMIO, port I/O or config). */
function valueOf(r: RecordColumns, s: number): number {
  const k = r.kind[s];
  return r.field(s, k === Rec.MmioRead || k === Rec.MmioWrite ? 5 : 4);
}

function matches(r: RecordColumns, s: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): boolean {
  const k = r.kind[s];
  if (kind === 'mmio') return k === (write ? Rec.MmioWrite : Rec.MmioRead) && r.field(s, 2) === bar && r.field(s, 3) === offset && r.field(s, 4) === size && (!write || r.field(s, 5) === value);
  return k === (write ? Rec.CfgWrite : Rec.CfgRead) && r.field(s, 2) === offset && r.field(s, 3) === size && (!write || r.field(s, 4) === value);
}

/** Record `s` of `r` is a read of the same register and width as record `p` of `poll` (a read too). */
function samePoll(r: RecordColumns, s: number, poll: RecordColumns, p: number): boolean {
  const k = r.kind[s];
  if (k !== poll.kind[p] || !isRead(r, s)) return false;
  if (k === Rec.MmioRead) return r.field(s, 2) === poll.field(p, 2) && r.field(s, 3) === poll.field(p, 3) && r.field(s, 4) === poll.field(p, 4);
  return r.field(s, 2) === poll.field(p, 2) && r.field(s, 3) === poll.field(p, 3);
}

function isRead(r: RecordColumns, s: number): boolean {
  const k = r.kind[s];
  return k === Rec.MmioRead || k === Rec.CfgRead;
}

function samePlace(r: RecordColumns, s: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number): boolean {
  const k = r.kind[s];
  if (kind === 'mmio') return k === (write ? Rec.MmioWrite : Rec.MmioRead) && r.field(s, 2) === bar && r.field(s, 3) === offset;
  return k === (write ? Rec.CfgWrite : Rec.CfgRead) && r.field(s, 2) === offset;
}
