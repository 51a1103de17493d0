import { NO_EVENT, type EventHandle } from '../../sim/event-queue.js';
import { InputError } from '../../sim/errors.js';
import type { HardwareStandIn, Machine } from '../machine.js';
import type { Scenario } from '../scenario.js';
import { parseBdf } from '../../devices/pci/bdf.js';
import { DivergenceGroups, type Divergence, type DivergenceKind } from '../../trace/compare/compare.js';
import type { TraceHeader } from '../../trace/format.js';
import type { EventCursor, EventKind, SeqEvent, TraceReader } from '../../trace/reader.js';
import { PciStandIn, type AccessSink } from './pci-stand-in.js';
import { EventRing, RingTracer, type ContextTracer } from './ring-tracer.js';
import { StreamCheck } from './stream-check.js';
import { RecordFeed } from './record-feed.js';
import type { RecordPool, ReplayRecord } from './record.js';
import { divergenceKey } from './devices.js';
import { at } from '../../sim/time.js';

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
  /** How records are read: pooled records (and scheme records in columns when checking). */
  private readonly feed: RecordFeed;
  private readonly pool: RecordPool;
  /** Each device's records read and not yet used up (each holds its record). */
  private readonly queues: ReplayRecord[][];
  /** With `checkStream`: every record read and not yet checked, in sequence order (from `inOrderHead` on; each holds its record); null for a scheme record (in `feed.schemes`). */
  private readonly inOrder: (ReplayRecord | null)[] = [];
  private inOrderHead = 0;
  /** The record the check was last given (held until it asks for the next). */
  private checking: ReplayRecord | undefined;
  /** Scheduled injections per device, in recorded order, by slot. */
  private readonly pending: number[][];
  /** The last `context` records used up per device (divergence reports). */
  private readonly consumed: EventRing[];
  /** The last recorded driver-side access consumed, per device (what a repeated read repeats; held). */
  private readonly lastAccess: (ReplayRecord | undefined)[];
  /** Extra polls in a row, per device. */
  private readonly extraRun: number[];
  private injectTarget = -1;
  private readonly ctx: number;
  /**
   * Scheduled injections by slot: the record (held until it fires), its
   * event in the queue and whether it fired. A slot is taken from scheduling
   * until it leaves its device's pending list (so a slot there is never
   * another injection's).
   */
  private readonly slotEvent: (ReplayRecord | undefined)[] = [];
  private readonly slotHandle: EventHandle[] = [];
  /** The injection fired right after this one, by this one's event (-1: none; see scheduleFollowers). */
  private readonly slotNext: number[] = [];
  private readonly slotFired: boolean[] = [];
  private readonly freeSlots: number[] = [];

  constructor(readonly reader: TraceReader, private readonly opts: TraceHardwareOptions = {}) {
    // Only device events, unless the run is checked against every record: the reader then builds
    // no object for the scheme, log and process records.
    this.it = reader.cursor(opts.checkStream ? {} : { kinds: DEVICE_KINDS });
    const n = reader.header.devices.length;
    this.queues = Array.from({ length: n }, () => []);
    this.pending = Array.from({ length: n }, () => []);
    this.ctx = opts.context ?? 20;
    // A checked run keeps no context: one that differs is replayed again for its report.
    this.consumed = Array.from({ length: n }, () => new EventRing(opts.checkStream ? 0 : this.ctx));
    this.lastAccess = Array.from({ length: n }, () => undefined);
    this.extraRun = Array.from({ length: n }, () => 0);
    // A run that keeps context (for a divergence report) keeps the records' event objects too.
    this.feed = new RecordFeed(this.it, !opts.checkStream);
    this.pool = this.feed.pool;
    this.check = opts.checkStream ? new StreamCheck(() => this.nextInOrder(), this.feed.schemes) : undefined;
    this.tracer = this.check ?? new RingTracer(this.ctx, opts.record);
    this.groups = new DivergenceGroups(opts.maxDivergences ?? 100);
  }

  get header(): TraceHeader { return this.reader.header; }

  attach(m: Machine): void {
    this.machine = m;
    this.injectTarget = m.queue.register('replay-inject', (_k, slot) => {
      if (this.slotEvent[slot] !== undefined && !this.slotFired[slot]) this.fireSlot(slot);
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
    const r = this.feed.next();
    if (r === undefined) { this.eof = true; return false; }
    if (this.check !== undefined) {
      this.inOrder.push(r);
      if (r !== null) this.pool.retain(r);
    }
    if (r === null) return true;
    const d = r.dev;
    if (d >= 0 && d < this.queues.length) {
      this.queues[d]!.push(r);
      this.pool.retain(r);
    } else {
      this.pool.discard(r);
    }
    return true;
  }

  /**
   * With `checkStream`: the next record in sequence order for the check (read on if need be), valid
   * until the next call; null for a scheme record (the oldest in `schemes`).
   */
  private nextInOrder(): ReplayRecord | null | undefined {
    if (this.checking !== undefined) {
      this.pool.drop(this.checking);
      this.checking = undefined;
    }
    const r = this.takeInOrder();
    if (r) this.checking = r;
    return r;
  }

  private takeInOrder(): ReplayRecord | null | undefined {
    const q = this.inOrder;
    if (this.inOrderHead === q.length) {
      q.length = 0;
      this.inOrderHead = 0;
      if (!this.readRecord()) return undefined;
    } else if (this.inOrderHead >= 4096) {
      q.splice(0, this.inOrderHead); // keeps the queue from growing with what is checked
      this.inOrderHead = 0;
    }
    return q[this.inOrderHead++];
  }

  /** Context for a divergence report (a run that keeps none has no event objects). */
  private remember(dev: number, r: ReplayRecord): void {
    if (r.ev !== undefined) this.consumed[dev]?.push(r.ev);
  }

  /** The device's last recorded access is now `r` (held in its place). */
  private setLastAccess(dev: number, r: ReplayRecord): void {
    this.pool.retain(r);
    const old = this.lastAccess[dev];
    this.lastAccess[dev] = r;
    if (old !== undefined) this.pool.drop(old);
  }

  // ---- injection -----------------------------------------------------------

  /**
   * After consuming driver-side record `r`, injects the device-side records
   * that follow it: those recorded at the same instant as a write happened
   * inside it (an INTx deassert on a doorbell write) and are injected at
   * once; the others are scheduled at their recorded delay.
   */
  private scheduleFollowers(dev: number, r: ReplayRecord): void {
    const q = this.queues[dev]!;
    const now = this.machine.queue.now;
    let inside = r.kind !== 'pio' && r.write;
    // The last follower scheduled, its time, and whether it is a DMA transfer.
    let last = -1;
    let lastTime = -1;
    let lastDma = false;
    for (;;) {
      this.fill(dev, 1);
      const e = q[0];
      if (e === undefined || isDriverSide(e)) break;
      q.shift();
      if (inside && e.time === r.time) {
        this.fire(e);
        continue;
      }
      inside = false;
      // The queue's hold on the record passes to the slot.
      const slot = this.freeSlots.pop() ?? this.slotEvent.length;
      const t = now + Math.max(0, e.time - r.time);
      this.slotEvent[slot] = e;
      this.slotFired[slot] = false;
      this.slotNext[slot] = -1;
      if (last >= 0 && lastDma && t === lastTime) {
        // At the same instant as a DMA transfer scheduled just before it: fired by that one's event,
        // right after it. Its own event would come next anyway (events of one instant run in the order
        // they were scheduled), and injecting a transfer wakes no task and schedules nothing that
        // could come between.
        this.slotNext[last] = slot;
        this.slotHandle[slot] = NO_EVENT;
      } else {
        this.slotHandle[slot] = this.machine.queue.scheduleAt(at(t), this.injectTarget, 0, slot);
      }
      last = slot;
      lastTime = t;
      lastDma = e.kind === 'dma';
      this.pending[dev]!.push(slot);
    }
  }

  /** Fires every pending injection of `dev` now, in recorded order. */
  private flush(dev: number): void {
    const p = this.pending[dev]!;
    while (p.length > 0) {
      const slot = p.shift()!;
      const e = this.slotEvent[slot]!;
      const fired = this.slotFired[slot];
      this.freeSlot(slot);
      if (fired) continue;
      const h = this.slotHandle[slot]!;
      if (h !== NO_EVENT) this.machine.queue.cancel(h);
      this.fire(e);
    }
  }

  /**
   * A scheduled injection's time has come (its slot stays in the pending list until those before it
   * fire, without its record), and so has that of the injections fired with it (`slotNext`), in turn,
   * unless the replay stops on the way (their events would never have run).
   */
  private fireSlot(first: number): void {
    for (let slot = first; slot >= 0;) {
      const next = this.slotNext[slot]!;
      const e = this.slotEvent[slot];
      if (e === undefined || this.slotFired[slot]) return;
      this.slotFired[slot] = true;
      const p = this.pending[e.dev];
      if (p !== undefined && p[0] === slot) {
        p.shift();
        this.freeSlot(slot);
      } else {
        this.slotEvent[slot] = undefined;
      }
      this.fire(e);
      if (next >= 0 && this.shouldStop()) return;
      slot = next;
    }
  }

  private freeSlot(slot: number): void {
    this.slotEvent[slot] = undefined;
    this.freeSlots.push(slot);
  }

  /** Injects recorded device-side event `r` now, and lets go of the record (its holder passed it on). */
  private fire(r: ReplayRecord): void {
    this.inject(r);
    this.pool.drop(r);
  }

  /** Whether guest memory holds the bytes a DMA read of the recording read (its own copy of a queue entry: a word at a time). */
  private holds(r: ReplayRecord): boolean {
    const mem = this.machine.mem;
    const w = r.words;
    return w !== undefined ? mem.holdsWords(r.addr, w, r.data, r.length) : mem.holds(r.addr, r.data, r.at, r.length);
  }

  private inject(r: ReplayRecord): void {
    const m = this.machine;
    this.injected++;
    this.remember(r.dev, r);
    switch (r.kind) {
      case 'dma':
        if (r.write) {
          m.mem.writeFrom(r.addr, r.data, r.at, r.length);
          // Image bytes stay references in the replay's own trace, as in the recording.
          m.tracer.dma(true, m.queue.now, r.dev, r.addr, r.data, r.at, r.length, r.tag, r.image, r.image === undefined ? undefined : r.imageOffset);
        } else if (r.missing === undefined && this.holds(r)) {
          // Memory holding the recorded bytes (compared in place) is traced as the record's own payload (a checked run then compares no bytes again).
          m.tracer.dma(false, m.queue.now, r.dev, r.addr, r.data, r.at, r.length, r.tag);
        } else {
          const now = m.mem.bytesAt(r.addr, r.length) ?? new Uint8Array(0);
          m.tracer.dma(false, m.queue.now, r.dev, r.addr, now, 0, now.length, r.tag);
          if (r.missing === undefined) this.diverge('value', r, this.tracer.last());
        }
        return;
      case 'msi':
        m.irq.msi(r.dev, r.addr, r.value);
        return;
      case 'intx':
        m.irq.changeLine(r.dev, r.gsi, r.level ? 1 : -1);
        return;
      default:
        if (r.ev !== undefined) this.injectOther(r.ev);
    }
  }

  /** The rarer device-side kinds, from the record's event object. */
  private injectOther(e: SeqEvent): void {
    const m = this.machine;
    switch (e.kind) {
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
      const v = this.extraPoll(dev, q[0], kind, bar, offset, size);
      if (v !== undefined) return v;
    }
    this.flush(dev);
    this.fill(dev, 1);
    // Device-side records before the first access of a device: inject them now.
    while (q[0] !== undefined && !isDriverSide(q[0])) {
      this.fire(q.shift()!);
      this.fill(dev, 1);
    }
    let e = q[0];
    if (e !== undefined && !matches(e, kind, write, bar, offset, size, value) && this.skipPolls(dev, kind, write, bar, offset, size, value)) {
      this.flush(dev); // the skipped polls' followers came before this access in the recording
      e = q[0];
    }
    if (e !== undefined && matches(e, kind, write, bar, offset, size, value)) {
      q.shift();
      this.matched++;
      this.consume(dev, e);
      const v = e.value;
      this.pool.drop(e);
      return write ? 0 : v;
    }
    if (e !== undefined && write && kind === 'mmio' && this.volatileWrite(dev, bar, offset, size, value)) return 0;
    return this.mismatch(dev, e, kind, write, bar, offset, size, value);
  }

  private volatile(dev: number, e: ReplayRecord): boolean {
    return e.kind === 'mmio' && this.opts.isVolatile?.(dev, e.bar, e.offset, e.size) === true;
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
    const same: number[] = [];
    let overtaken = false;
    let at = -1;
    for (let i = 0; i < Math.min(win, q.length); i++) {
      const x = q[i]!;
      if (!isDriverSide(x)) continue;
      const sameReg = x.kind === 'mmio' && x.bar === bar && x.offset === offset && x.size === size;
      if (sameReg && x.write && x.value === value) { at = i; break; }
      if (sameReg && x.write) { same.push(i); continue; }
      if (sameReg || !this.volatile(dev, x)) break;
      overtaken = true;
    }
    if (at < 0) {
      if (same.length === 0) return false;
      this.tolerated.extraWrites++;
      return true;
    }
    const x = q[at]!;
    q.splice(at, 1);
    for (let k = same.length - 1; k >= 0; k--) {
      const r = q.splice(same[k]!, 1)[0]!;
      this.remember(dev, r);
      this.pool.drop(r);
    }
    this.tolerated.skippedWrites += same.length;
    if (overtaken) this.tolerated.reorderedWrites++;
    this.matched++;
    this.remember(dev, x);
    this.setLastAccess(dev, x);
    this.pool.drop(x);
    this.extraRun[dev] = 0;
    // Nothing recorded before its device-side records any more: they follow this write.
    if (q[0] !== undefined && !isDriverSide(q[0])) this.scheduleFollowers(dev, x);
    return true;
  }

  /** A recorded driver-side access is used up: context, the last access of the device, its device-side followers (the caller still holds it). */
  private consume(dev: number, e: ReplayRecord): void {
    this.remember(dev, e);
    this.setLastAccess(dev, e);
    this.extraRun[dev] = 0;
    this.scheduleFollowers(dev, e);
  }

  /**
   * A read repeating the device's last recorded access (same register and
   * width) when the recording goes on with something else: the driver polls
   * more often than the recording did. It gets the last recorded value, and
   * pending injections keep their recorded delays (the driver is waiting for
   * them). Undefined when this is not such a read.
   */
  private extraPoll(dev: number, next: ReplayRecord | undefined, kind: 'cfg' | 'mmio', bar: number, offset: number, size: number): number | undefined {
    if (this.stopped) return undefined;
    const last = this.lastAccess[dev];
    if (last === undefined || !isRead(last) || !matches(last, kind, false, bar, offset, size, 0)) return undefined;
    if (next !== undefined && (!isDriverSide(next) || samePoll(next, last))) return undefined;
    // Without anything pending for the device, a driver that keeps polling is waiting for something the recording never did.
    if (!this.pending[dev]!.some((slot) => !this.slotFired[slot]) && this.extraRun[dev]! >= (this.opts.maxExtraPolls ?? 1000)) return undefined;
    this.extraRun[dev]!++;
    this.tolerated.extraPolls++;
    return last.value;
  }

  /**
   * The recording repeated the read the driver last made (it polled more
   * often), and the driver has moved on: when the driver's access matches
   * the first recorded access after those repeated reads, they are skipped
   * (counted, their device-side followers scheduled) and true is returned.
   */
  private skipPolls(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): boolean {
    const last = this.lastAccess[dev];
    const q = this.queues[dev]!;
    const head = q[0];
    if (this.stopped || last === undefined || !isRead(last) || head === undefined || !samePoll(head, last)) return false;
    let i = 0;
    for (; i < MAX_SKIPPED_RECORDS; i++) {
      this.fill(dev, i + 1);
      const x = q[i];
      if (x === undefined) return false;
      if (isDriverSide(x) && !samePoll(x, last)) break;
    }
    const after = q[i];
    if (after === undefined || !matches(after, kind, write, bar, offset, size, value)) return false;
    while (q[0] !== after) {
      const r = q.shift()!;
      if (!isDriverSide(r)) { this.fire(r); continue; }
      this.tolerated.skippedPolls++;
      this.consume(dev, r);
      this.pool.drop(r);
    }
    return true;
  }

  private mismatch(dev: number, e: ReplayRecord | undefined, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number {
    const actual = pendingAccess(this.tracer.seq, kind, write, dev, bar, offset, size, value, this.machine.queue.now);
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
        if (isDriverSide(x) && matches(x, kind, write, bar, offset, size, value)) { at = i; break; }
      }
      k = at > 0 ? 'missing' : (q[1] !== undefined && matches(q[1], kind, write, bar, offset, size, value) ? 'order' : 'value');
      if (k === 'missing' && this.opts.keepGoing) {
        this.diverge(k, e, actual, at);
        for (let i = 0; i < at; i++) this.pool.drop(q.shift()!);
        return this.access(dev, kind, write, bar, offset, size, value);
      }
    }
    this.diverge(k, e, actual);
    if (e !== undefined && k === 'value' && samePlace(e, kind, write, bar, offset)) {
      // Consume it: the read gets the recorded value and the device side goes on.
      q.shift();
      this.consume(dev, e);
      const v = e.value;
      this.pool.drop(e);
      return write ? 0 : v;
    }
    return write ? 0 : size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  /**
   * A divergence at recorded record `rec`. Its report is made of event objects: a checked run (which
   * has none for the engine's own kinds, and whose report is never shown) reports what it has.
   */
  private diverge(kind: DivergenceKind, rec: ReplayRecord | undefined, actual: SeqEvent | undefined, width = 1): void {
    // Without --keep-going only the first divergence counts: the driver may go on touching the
    // device until the run loop sees the stop, and each of those accesses is the same story.
    if (this.stopped) return;
    const expected = rec?.ev;
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
      for (let i = rec !== undefined && q[0] === rec ? 1 : 0; i < Math.min(q.length, this.ctx + 1); i++) {
        const e = q[i]!.ev;
        if (e !== undefined) after.push(e);
      }
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
      while (q[0] !== undefined && !isDriverSide(q[0])) this.fire(q.shift()!);
      if (q[0] !== undefined) this.diverge('missing', q[0], undefined);
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

function isDriverSide(e: ReplayRecord): boolean {
  return e.kind === 'mmio' || e.kind === 'cfg' || e.kind === 'pio';
}

/** The access being made right now, as the event it will be (a read is traced only after it returns). */
function pendingAccess(seq: number, kind: 'cfg' | 'mmio', write: boolean, dev: number, bar: number, offset: number, size: number, value: number, time: number): SeqEvent {
  if (kind === 'mmio') return { kind, write, time, core: -1, dev, bar, offset, size, value, seq };
  return { kind, write, time, core: -1, dev, offset, size, value, seq };
}

function matches(e: ReplayRecord, kind: string, write: boolean, bar: number, offset: number, size: number, value: number): boolean {
  if (e.kind !== kind) return false;
  if (kind === 'mmio') return e.write === write && e.bar === bar && e.offset === offset && e.size === size && (!write || e.value === value);
  if (kind === 'cfg') return e.write === write && e.offset === offset && e.size === size && (!write || e.value === value);
  return false;
}

/** A recorded read of the same register and width as `poll` (a read too). */
function samePoll(e: ReplayRecord, poll: ReplayRecord): boolean {
  if (e.kind !== poll.kind || !isRead(e)) return false;
  if (e.kind === 'mmio') return e.bar === poll.bar && e.offset === poll.offset && e.size === poll.size;
  if (e.kind === 'cfg') return e.offset === poll.offset && e.size === poll.size;
  return false;
}

function isRead(e: ReplayRecord): boolean {
  return (e.kind === 'mmio' || e.kind === 'cfg') && !e.write;
}

function samePlace(e: ReplayRecord, kind: string, write: boolean, bar: number, offset: number): boolean {
  if (e.kind !== kind) return false;
  if (kind === 'mmio') return e.write === write && e.bar === bar && e.offset === offset;
  if (kind === 'cfg') return e.write === write && e.offset === offset;
  return false;
}


