import type { PhysMem } from '../../sim/memory.js';
import { Machine } from '../machine.js';
import { parseBdf } from '../../devices/pci/bdf.js';
import { DivergenceGroups, isStateDigest, type CompareResult, type Divergence, type DivergenceKind, type StateDiff } from '../../trace/compare/compare.js';
import { sameEvent, sameShape } from '../../trace/compare/events.js';
import { describePlace, divergenceDifference, formatReport, reportJson, type ReportContext } from '../../trace/compare/report.js';
import { compareTiming, TimingCollector } from '../../trace/diff/timing.js';
import { mergeIgnore, type IgnoreRules } from '../../trace/verdict/collect.js';
import { eventVerdict, verdictFails, type FailOn, type VerdictReport } from '../../trace/verdict/judge.js';
import { formatVerdict, verdictJson } from '../../trace/verdict/report.js';
import { formatTime } from '../../sim/time.js';
import type { DeviceDecoder } from '../../trace/decoder.js';
import type { SeqEvent, TraceReader } from '../../trace/reader.js';
import type { TraceHeader } from '../../trace/format.js';
import type { LogLevel, ProcEvent } from '../../sim/tracer.js';
import { assertIntact, openReplayInputs } from './inputs.js';
import { RingTracer } from './ring-tracer.js';
import type { ReplayOptions } from './run.js';
import { at } from '../../sim/time.js';

const DRIVER_SIDE = new Set(['cfg', 'mmio', 'pio']);
const DEVICE_SIDE = new Set(['dma', 'msi', 'intx', 'milestone', 'guestErr', 'air', 'eth', 'frame']);

/**
 * Trace as driver: the recorded driver-side stream (config and MMIO
 * accesses, at their recorded times) drives the current device models. Before
 * each access, memory is loaded with what the device read in the recording
 * (the commands the driver had written). The models' responses — read
 * values, DMA, MSI/INTx, milestones, guest errors, 802.11 frames on the air
 * — are checked against the record, per device and in order. Times are
 * not compared, only counted: a response that matches at another time than
 * recorded makes the verdict TIMING-ONLY, a divergence makes it FUNCTIONAL.
 */
class DevicePlayer extends RingTracer {
  /** Divergences grouped by root cause (kind and place): `count` groups, the first of each kept with its context. */
  readonly groups = new DivergenceGroups(100);
  get divergences(): Divergence[] { return this.groups.divergences; }
  get count(): number { return this.groups.count; }
  stopped = false;
  matched = 0;
  /** Where the models' state digests first differed from the recording's (localisation only, never counted). */
  stateFirstDiffers: StateDiff | undefined;
  /** Divergences identical to the previous one (same kind, expected record and place), not counted again. */
  repeats = 0;
  private lastKey = '';
  private readonly it: Iterator<SeqEvent>;
  private readonly expected: SeqEvent[][];
  /** Recorded state digests set aside per device, paired in order with the models' digests. */
  private readonly expectedDigests: SeqEvent[][];
  private readonly consumed: SeqEvent[] = [];
  private target = -1;
  /** Memory contents to load just before the device reads them (see `preload`), by event slot. */
  private readonly lateLoads: (SeqEvent | undefined)[] = [];
  private readonly freeLate: number[] = [];
  private lateTarget = -1;
  private current: SeqEvent | undefined;
  private machine!: Machine;
  /** Responses that matched at another time than recorded (timing), the largest shift and the first such response. */
  moved = 0;
  maxShift = 0;
  firstMoved: { expected: SeqEvent; actual: SeqEvent } | undefined;
  /** Timing phases of the recording and of the models, for the timing budget and the TIMING-ONLY headlines. */
  readonly expectedTiming: TimingCollector;
  readonly actualTiming: TimingCollector;
  /** Guest errors of the recording and of the models ("<device>: <code>: <message>" → count). */
  readonly guestErrors = { expected: new Map<string, number>(), actual: new Map<string, number>() };
  private readonly ignoreKinds: ReadonlySet<string>;
  private readonly ignoreMilestones: ReadonlySet<string>;

  constructor(readonly reader: TraceReader, private readonly ctx: number, private readonly keepGoing: boolean, decoders: ReadonlyMap<string, DeviceDecoder>, ignore: IgnoreRules = {}) {
    super(ctx);
    this.it = reader.events()[Symbol.iterator]();
    this.expected = reader.header.devices.map(() => []);
    this.expectedDigests = reader.header.devices.map(() => []);
    this.expectedTiming = new TimingCollector(reader.header, decoders);
    this.actualTiming = new TimingCollector(reader.header, decoders);
    this.ignoreKinds = new Set(ignore.kinds ?? []);
    this.ignoreMilestones = new Set(ignore.milestones ?? []);
    this.addressRegs = reader.header.devices.map((d) => {
      const dec = decoders.get(d.type);
      return { dec, names: new Set(dec?.addressRegisters ?? []) };
    });
  }

  /** Per device: its decoder and the registers whose value is a buffer address. */
  private readonly addressRegs: { dec: DeviceDecoder | undefined; names: ReadonlySet<string> }[];

  /**
   * A write of a buffer address into an address register (a GGTT entry, a
   * queue base) that points into a compiled driver's memory, which does not
   * exist here: the stand-in region is mapped before the device sees the
   * address, as DMA records get one before the transfer.
   */
  private standInForAddress(dev: number, bar: number, offset: number, size: number, value: number): void {
    const a = this.addressRegs[dev];
    if (a === undefined || a.dec === undefined || a.names.size === 0) return;
    const name = a.dec.regName(bar, offset, size);
    if (name === undefined || !a.names.has(name)) return;
    const addr = (value >>> 0) - ((value >>> 0) % 4096);
    const mem = this.machine.mem;
    if (addr >= mem.ramBytes && !mem.isRam(addr, 1)) standInRegion(mem, addr);
  }

  /** Left out of the comparison (`--ignore kind:` / `milestone:`); state digests are never compared as events. */
  private ignored(e: SeqEvent): boolean {
    return this.ignoreKinds.has(e.kind) || (e.kind === 'milestone' && this.ignoreMilestones.has(e.name));
  }

  protected override push(e: SeqEvent): void {
    super.push(e);
    if (isStateDigest(e)) return;
    this.actualTiming.add(e);
    if (e.kind === 'guestErr' && e.dev >= 0) count(this.guestErrors.actual, guestErrorText(e, this.reader.header));
  }

  start(m: Machine): void {
    this.machine = m;
    m.mem.markDma(0, m.mem.ramBytes, true); // no kernel allocator: all RAM is the recording's DMA memory
    this.target = m.queue.register('replay-driver', () => this.perform());
    this.lateTarget = m.queue.register('replay-late-load', (_k, slot) => {
      const r = this.lateLoads[slot];
      this.lateLoads[slot] = undefined;
      this.freeLate.push(slot);
      if (r?.kind === 'dma') m.mem.writeBytes(r.addr, r.data);
    });
    this.advance();
  }

  private remember(e: SeqEvent): void {
    this.consumed.push(e);
    if (this.consumed.length > this.ctx) this.consumed.shift();
  }

  /** The driver-side record after `current`, already read (its device-side followers are queued). */
  private lookahead: SeqEvent | undefined;
  private started = false;
  /** DMA that follows `current` / `lookahead`: reads loaded into memory (and regions made) when the access is performed. */
  private currentReads: SeqEvent[] = [];
  private lookaheadReads: SeqEvent[] = [];

  /**
   * Moves to the next driver-side record and schedules it at its recorded
   * time. The device-side records that follow it are queued (and DMA reads
   * preloaded) before it is performed: a device may react inside the access
   * itself (an INTx deassert on a doorbell write).
   */
  private advance(): void {
    if (!this.started) {
      this.started = true;
      this.prime();
      this.preload(this.lookaheadReads); // reads before the first access
    }
    this.current = this.lookahead;
    this.lookaheadReads = [];
    if (this.current === undefined) return;
    this.lookahead = this.readToDriverSide(); // collects the reads that follow `current`
    this.currentReads = this.lookaheadReads;
    this.lookaheadReads = [];
    this.machine.queue.scheduleAt(at(Math.max(this.current.time, this.machine.queue.now)), this.target);
  }

  private primed = false;
  /**
   * Queues the records before the first driver-side access: what a model
   * does while it is built (a power-on milestone) is checked against them.
   */
  private prime(): void {
    if (this.primed) return;
    this.primed = true;
    this.lookahead = this.readToDriverSide();
  }

  /** Reads records up to the next driver-side one, queueing device-side expectations on the way. */
  private readToDriverSide(): SeqEvent | undefined {
    for (;;) {
      const r = this.it.next();
      if (r.done) return undefined;
      const e = r.value;
      if (e.time > this.horizon) this.horizon = e.time;
      if ('dev' in e && e.dev >= 0 && !isStateDigest(e)) {
        this.expectedTiming.add(e);
        if (e.kind === 'guestErr') count(this.guestErrors.expected, guestErrorText(e, this.reader.header));
      }
      if (DRIVER_SIDE.has(e.kind)) return e;
      if (DEVICE_SIDE.has(e.kind) && 'dev' in e && e.dev >= 0 && e.dev < this.expected.length && !this.ignored(e)) {
        this.expected[e.dev]!.push(e);
        if (e.kind === 'dma' && e.missing === undefined) this.lookaheadReads.push(e);
      }
    }
  }

  /**
   * What the device is about to read is what the driver had put in memory
   * (main RAM or a compiled driver's region, which gets a stand-in region
   * here); a region the device is about to write gets one too.
   */
  private preload(dmas: SeqEvent[]): void {
    const mem = this.machine.mem;
    const loaded: SeqEvent[] = [];
    for (const r of dmas) {
      if (r.kind !== 'dma') continue;
      if (!mem.isRam(r.addr, r.data.length)) standInRegion(mem, r.addr);
      if (r.write) continue;
      // The driver changed memory the device had already read since its last access (a
      // virtqueue's used_event, say): that later content is loaded just before it is read.
      if (loaded.some((x) => x.kind === 'dma' && x.addr < r.addr + r.data.length && r.addr < x.addr + x.data.length)) {
        const free = this.freeLate.pop();
        const slot = free ?? this.lateLoads.push(r) - 1;
        this.lateLoads[slot] = r;
        this.machine.queue.scheduleAt(at(Math.max(this.machine.queue.now, r.time - 1)), this.lateTarget, 0, slot);
      } else {
        mem.writeBytes(r.addr, r.data);
      }
      loaded.push(r);
    }
  }

  private perform(): void {
    const e = this.current;
    if (e === undefined || this.stopped) return;
    const m = this.machine;
    const now = m.queue.now;
    this.preload(this.currentReads);
    let got = 0;
    if (e.kind === 'cfg') {
      const d = m.devices[e.dev];
      if (d !== undefined) {
        const p = parseBdf(d.bdf);
        if (p.ok) {
          if (e.write) m.bridge.configWrite(p.bdf, e.offset, e.size, e.value);
          else got = m.bridge.configRead(p.bdf, e.offset, e.size);
        }
      }
    } else if (e.kind === 'mmio') {
      const d = m.devices[e.dev];
      const base = d?.fn.barBase(e.bar) ?? 0;
      const w = m.mem.findWindow(base + e.offset, e.size);
      if (w === undefined) got = e.size === 4 ? 0xffffffff : 0;
      else if (e.write) {
        this.standInForAddress(e.dev, e.bar, e.offset, e.size, e.value);
        this.mmio(true, now, -1, e.dev, e.bar, e.offset, e.size, e.value);
        w.handler.write(base + e.offset - w.base, e.size, e.value);
      } else {
        got = w.handler.read(base + e.offset - w.base, e.size);
        this.mmio(false, now, -1, e.dev, e.bar, e.offset, e.size, got);
      }
    }
    this.remember(e);
    if ((e.kind === 'cfg' || e.kind === 'mmio') && !e.write && got !== e.value && !this.ignored(e)) {
      const actual = { ...e, value: got, time: now, seq: this.seq } as SeqEvent;
      this.diverge('value', e, actual);
    } else this.matched++;
    if (!this.stopped) this.advance();
  }

  // ---- device responses ----------------------------------------------------

  private check(actual: SeqEvent): void {
    const dev = 'dev' in actual ? actual.dev : -1;
    this.prime();
    const q = this.expected[dev];
    if (q === undefined || this.stopped || (this.ignored(actual) && !isStateDigest(actual))) return;
    // State digests localise (where state first differed); they are not checked as responses.
    while (q[0] !== undefined && isStateDigest(q[0])) this.expectedDigests[dev]!.push(q.shift()!);
    if (isStateDigest(actual)) {
      this.pairDigest(dev, q, actual);
      return;
    }
    const want = q[0];
    if (want !== undefined && (sameEvent(want, actual) || sameFrameButPixels(want, actual))) {
      q.shift();
      this.matched++;
      this.remember(want);
      if (want.time !== actual.time) {
        this.moved++;
        const shift = Math.abs(actual.time - want.time);
        if (shift > this.maxShift) this.maxShift = shift;
        this.firstMoved ??= { expected: want, actual };
      }
      return;
    }
    let kind: DivergenceKind = 'extra';
    if (want !== undefined && sameShape(want, actual)) kind = want.kind === 'dma' && (want as { addr: number }).addr !== (actual as { addr: number }).addr ? 'address' : 'value';
    else if (want !== undefined && q.slice(1, 65).some((x) => sameEvent(x, actual))) kind = 'missing';
    this.diverge(kind, want, actual);
    if (this.keepGoing) {
      if (kind === 'value' || kind === 'address') q.shift();
      else if (kind === 'missing') { while (q.length > 0 && !sameEvent(q[0]!, actual)) q.shift(); q.shift(); }
    }
  }

  private pairDigest(dev: number, q: SeqEvent[], actual: SeqEvent): void {
    let want = this.expectedDigests[dev]!.shift();
    if (want === undefined) {
      const i = q.findIndex(isStateDigest);
      if (i < 0) return;
      want = q.splice(i, 1)[0]!;
    }
    if (this.stateFirstDiffers !== undefined || want.kind !== 'milestone' || actual.kind !== 'milestone') return;
    if (want.a !== actual.a || want.b !== actual.b) {
      this.stateFirstDiffers = { dev, expectedTime: want.time, actualTime: actual.time, expectedSeq: want.seq, actualSeq: actual.seq };
    }
  }

  private diverge(kind: DivergenceKind, expected: SeqEvent | undefined, actual: SeqEvent | undefined): void {
    if (this.stopped) return; // without --keep-going only the first divergence counts
    // The same divergence again (a model repeating one response): reported and counted once.
    const key = divergenceKey(kind, expected, actual);
    if (key === this.lastKey) { this.repeats++; return; }
    this.lastKey = key;
    if (!this.keepGoing) this.stopped = true;
    const now = (this.machine as Machine | undefined)?.queue.now ?? 0; // 0: while the models are built
    const exp = kind === 'extra' ? undefined : expected;
    const act = kind === 'missing' ? undefined : actual;
    this.groups.add(kind, exp, act, now, 1, () => {
      const dev = expected !== undefined && 'dev' in expected ? expected.dev : actual !== undefined && 'dev' in actual ? actual.dev : 0;
      return {
        kind, expected: exp, actual: act, time: now,
        before: { expected: [...this.consumed], actual: this.snapshot().filter((x) => x !== actual) },
        after: { expected: (this.expected[dev] ?? []).slice(1, this.ctx + 1), actual: [] },
        logs: [], processes: [], skippedExpected: 0, skippedActual: 0,
      };
    });
  }

  /** Time of the latest record read from the recording: the device world has no reason to run far past it. */
  horizon = 0;

  /** The recording is used up: nothing left to perform or expect. */
  get done(): boolean {
    return this.current === undefined && this.expected.every((q) => q.length === 0);
  }

  finish(): void {
    if (this.stopped) return;
    for (const q of this.expected) {
      const first = q.find((e) => !isStateDigest(e));
      if (first !== undefined) { this.diverge('missing', first, undefined); if (this.stopped) return; }
    }
  }

  override dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    super.dma(write, time, dev, addr, data, offset, length, tag, image, imageOffset);
    this.check(this.last()!);
  }
  override msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    super.msi(time, dev, addr, data, core, vector);
    this.check(this.last()!);
  }
  override intx(time: number, dev: number, gsi: number, level: number): void {
    super.intx(time, dev, gsi, level);
    this.check(this.last()!);
  }
  override milestone(time: number, dev: number, name: string, a: number, b: number): void {
    super.milestone(time, dev, name, a, b);
    this.check(this.last()!);
  }
  override guestErr(time: number, dev: number, code: string, message: string): void {
    super.guestErr(time, dev, code, message);
    if (dev >= 0) this.check(this.last()!);
  }
  override air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    super.air(time, dev, tx, channel, signal, rate, data, offset, length);
    this.check(this.last()!);
  }
  override eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    super.eth(time, dev, tx, port, data, offset, length);
    this.check(this.last()!);
  }
  override frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    super.frame(time, dev, pipe, seq, width, height, format, data, offset, length);
    this.check(this.last()!);
  }
  override log(time: number, pid: number, level: LogLevel, text: string): void { super.log(time, pid, level, text); }
  override proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void { super.proc(time, pid, event, name, detail); }
}

/** `simrun replay --devices <trace>`: the trace drives the device models; a verdict on how they answered. */
export function runReplayDevices(o: ReplayOptions): { exitCode: 0 | 1; compare: CompareResult; verdict: VerdictReport; machine: Machine } {
  const { reader, scenario } = openReplayInputs(o.trace, o.scenario);
  const cmp = scenario.compare;
  const failOn: FailOn = o.failOn ?? cmp.failOn;
  const player = new DevicePlayer(reader, o.context ?? 20, o.keepGoing ?? false, o.decoders, mergeIgnore(cmp.ignore, o.ignore));
  const machine = new Machine(scenario, { tracer: player, seed: reader.header.seed, devicesOnly: true });
  player.start(machine);
  // Run the device world until the recorded stream and the device work are done.
  const q = machine.queue;
  // (The recording ends where the recorded run stopped: work still pending in the models then is not compared.)
  // Periodic device timers (state digests) keep the queue busy: never run more than a second past the recording.
  while (!player.stopped && !player.done && q.peekTime() <= player.horizon + 1e12 && q.step());
  player.finish();
  assertIntact(o.trace, reader);
  const compare: CompareResult = { identical: player.count === 0, ...player.groups.result(), expectedEvents: player.matched, actualEvents: player.seq };
  if (player.stateFirstDiffers !== undefined) compare.stateFirstDiffers = player.stateFirstDiffers;
  const ctx: ReportContext = { expectedHeader: reader.header, actualHeader: reader.header, decoders: o.decoders, expectedLabel: 'trace', actualLabel: 'devices' };
  const fm = player.firstMoved;
  const verdict = eventVerdict({
    differences: player.divergences.map((d) => divergenceDifference(d, ctx)), count: player.count,
    moved: player.moved,
    movedHeadline: fm === undefined ? undefined
      : `same responses; ${player.moved} at other times than recorded (largest shift ${formatTime(player.maxShift)}; first: ${describePlaceShort(fm.expected, ctx)} at ${formatTime(fm.actual.time)}, recorded ${formatTime(fm.expected.time)})`,
    timing: compareTiming(player.expectedTiming.phases(), player.actualTiming.phases()),
    timingBudgetPct: o.timingBudgetPct ?? cmp.timingBudgetPct,
    expectedEvents: player.matched, actualEvents: player.seq,
    guestErrors: { expected: listed(player.guestErrors.expected), actual: listed(player.guestErrors.actual) },
  });
  if (o.json) o.out(JSON.stringify({ mode: 'devices', trace: o.trace, scenario: scenario.name, moved: player.moved, ...verdictJson(verdict, failOn), ...reportJson(compare, ctx) }));
  else {
    o.out(formatVerdict(verdict, failOn).join('\n'));
    o.out(player.count === 0
      ? `replay (trace as driver): ${player.matched} accesses and device responses matched, no divergence${player.moved > 0 ? ` (${player.moved} at other times)` : ''}`
      : `\nwhere the models and the trace part (event by event):\n${formatReport(compare, ctx)}`);
  }
  return { exitCode: verdictFails(verdict, failOn) ? 1 : 0, compare, verdict, machine };
}

function describePlaceShort(e: SeqEvent, c: ReportContext): string {
  return describePlace(e, c.expectedHeader, c.decoders);
}

function guestErrorText(e: SeqEvent & { kind: 'guestErr' }, h: TraceHeader): string {
  return `${h.devices.find((d) => d.index === e.dev)?.id ?? `dev${e.dev}`}: ${e.code}: ${e.message}`;
}

function count(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** The first guest errors as the verdict lists them ("… (×3)"). */
function listed(m: Map<string, number>): string[] {
  return [...m].slice(0, 10).map(([k, n]) => `${k}${n > 1 ? ` (×${n})` : ''}`);
}

/** Identity of a divergence for de-duplication: kind, the expected record (by sequence) and the actual event's place and value. */
export function divergenceKey(kind: DivergenceKind, expected: SeqEvent | undefined, actual: SeqEvent | undefined): string {
  const place = (e: SeqEvent | undefined): string => {
    if (e === undefined) return '-';
    switch (e.kind) {
      case 'mmio': return `mmio:${e.dev}:${e.write ? 'w' : 'r'}:${e.bar}:${e.offset}:${e.size}:${e.value}`;
      case 'cfg': return `cfg:${e.dev}:${e.write ? 'w' : 'r'}:${e.offset}:${e.size}:${e.value}`;
      case 'dma': return `dma:${e.dev}:${e.write ? 'w' : 'r'}:${e.addr}:${e.tag}:${e.data.length}`;
      case 'milestone': return `milestone:${e.dev}:${e.name}:${e.a}:${e.b}`;
      case 'guestErr': return `guestErr:${e.dev}:${e.code}`;
      default: return e.kind;
    }
  };
  return `${kind}|${expected?.seq ?? -1}|${place(actual)}`;
}

/**
 * Frames are compared without their pixels here: what a display scans out
 * is memory the driver's clients wrote with the CPU, which crosses no device
 * boundary and so is not in the trace (`replay` as hardware and `check`
 * compare pixels). Which pipe, frame counter, size and format still must match.
 */
function sameFrameButPixels(a: SeqEvent, b: SeqEvent): boolean {
  if (a.kind !== 'frame' || b.kind !== 'frame') return false;
  return a.dev === b.dev && a.pipe === b.pipe && a.counter === b.counter && a.width === b.width && a.height === b.height && a.format === b.format;
}

/**
 * A recording of a compiled driver has DMA into its memory region (above
 * main RAM); no driver runs here, so a stand-in region (16 MiB, all of it DMA
 * memory) is mapped where the recording's addresses fall.
 */
function standInRegion(mem: PhysMem, addr: number): void {
  const SIZE = 16 * 1024 * 1024;
  const base = Math.floor(addr / SIZE) * SIZE;
  if (base < mem.ramBytes || mem.regionOf(base, 1) !== undefined) return;
  try {
    mem.addRegion(base, SIZE, new Uint8Array(SIZE), 'replay stand-in');
    mem.markDma(base, SIZE, true);
  } catch {
    // Overlaps a device window: the address is not memory in this machine; the device's DMA will say so.
  }
}
