import { ScanoutLog } from '../sim/scanout.js';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { hostFileSha256 } from '../sim/host-files.js';
import { relative, resolve } from 'node:path';
import { Core } from '../sim/cpu.js';
import { DmaPort } from '../sim/dma.js';
import { InputError } from '../sim/errors.js';
import { EventQueue } from '../sim/event-queue.js';
import { IrqFabric } from '../sim/irq.js';
import { PhysMem } from '../sim/memory.js';
import { PropError, validateProps, type PropTable, type PropValues } from '../sim/props.js';
import { Rng } from '../sim/rng.js';
import { Sanitizer } from '../sim/sanitize.js';
import { runLoop } from '../sim/run-loop.js';
import { rootRelative, scenarioRoot, type Scenario } from './scenario.js';
import { addImageFile, addImageRoot } from '../trace/images.js';
import { DeviceConfigError, type DeviceModel } from '../devices/device.js';
import { findDeviceFactory, DEVICE_FACTORIES } from '../devices/registry.js';
import { PciFunction } from '../devices/pci/function.js';
import { PciHostBridge } from '../devices/pci/host-bridge.js';
import { parseBdf } from '../devices/pci/bdf.js';
import { Kernel } from '../kernel/kernel.js';
import { ConfigPort, enumeratePci, PciFunctionHandle } from '../kernel/pcid.js';
import { EventScheme } from '../kernel/schemes/event.js';
import { IrqScheme } from '../kernel/schemes/irq.js';
import { MemoryScheme } from '../kernel/schemes/memory.js';
import { TimeScheme } from '../kernel/schemes/time.js';
import { RootScheme } from '../kernel/schemes/user.js';
import { DRIVERS, DriverConfigError, driverMatches, driverMatchesIds, validateDriverParams, type AnyDriverEntry } from '../drivers/registry.js';
import { findWorkload, WORKLOADS } from '../workloads/registry.js';
import { WorkloadConfigError, type RunningWorkload, type SummaryLine } from '../workloads/workload.js';
import { ObservedTracer } from '../trace/observed.js';
import { NULL_TRACER, type Tracer } from '../sim/tracer.js';
import type { TraceHeaderInput } from '../trace/format.js';
import { ps } from '../sim/time.js';

/** Physical memory map of the machine (documented in README "Machine"). */
export const ECAM_BASE = 0xe0000000;
export const PCI_MMIO_BASE = 0xc0000000;
export const PCI_MMIO_LIMIT = 0xdfffffff;
export const PCI_IO_BASE = 0xc000;
export const PCI_IO_LIMIT = 0xffff;

export const TOOL = { name: 'simrun', version: '0.1.0' };

export interface MachineDevice {
  index: number;
  id: string;
  type: string;
  bdf: string;
  model: DeviceModel;
  fn: PciFunction;
  /** Host path of the backing image, if the device has one. */
  imagePath: string | undefined;
}

export interface RunResult {
  simTimePs: number;
  events: number;
  interrupts: number;
  ios: number;
  guestErrors: number;
  crashes: { pid: number; name: string; reason: string }[];
  stoppedBy: 'workload-done' | 'idle' | 'time-limit' | 'until';
  /**
   * PASS: every expectation held; FAIL: some failed; STOPPED: the run was
   * stopped early (`until`) and nothing has failed yet, but expectations
   * that need the whole run are `notEvaluated`.
   */
  verdict: 'PASS' | 'FAIL' | 'STOPPED';
  /** Expectation failures (empty = pass). */
  failures: string[];
  /** A run stopped early: the expectations that need the whole run and were not met yet (neither passed nor failed). */
  notEvaluated: string[];
  /** A failed run: the first error-level log lines of the driver processes (empty when the run passed). */
  driverErrors: { time: number; pid: number; proc: string; text: string }[];
  /** A failed run: the first guest errors, with device and code (empty when the run passed). */
  firstGuestErrors: { time: number; device: string; code: string; message: string }[];
  /**
   * The run ended by its time limit or went idle before the workload was
   * done: what each device is waiting for, in its own words (DeviceModel.stall).
   */
  stall: { device: string; text: string }[];
  /** The workload's type, its result (see `workloadResult` in src/workloads/workload.ts) and summary lines. */
  workload: WorkloadOutcome | undefined;
  deviceStats: Record<string, Record<string, number>>;
}

export interface WorkloadOutcome {
  type: string;
  result: object;
  summary: SummaryLine[];
  /** The result as JSON (without per-operation arrays). */
  json: Record<string, unknown>;
}

/** Replaces the device models (trace-as-hardware replay). */
export interface HardwareStandIn {
  /** Adds the stand-in PCI functions to `machine.bridge` before firmware runs. */
  attach(machine: Machine): void;
  /** True when the run should end now (e.g. at the first divergence). */
  shouldStop?(): boolean;
}

/** Where `run --until` stops: at a simulated time (ps) or once `seq` events have been emitted. */
export interface StopPoint {
  timePs?: number;
  seq?: number;
}

export interface BuildOptions {
  /** Trace sink (default: recording off). */
  tracer?: Tracer;
  /** Trace-as-hardware: no device model is constructed; this serves the bus instead. */
  hardware?: HardwareStandIn;
  /** Trace-as-driver: build the devices only — no firmware resource assignment, no pcid, drivers or workload. */
  devicesOnly?: boolean;
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Overrides the scenario's `machine.sanitize` (boundary sanitizers). */
  sanitize?: boolean;
  /** Overrides the scenario's `machine.hostileTiming`. */
  hostileTiming?: boolean;
  /**
   * Builds the interrupt fabric in place of the default one (a qtest server
   * watches INTx lines and MSI messages through a subclass).
   */
  irqFabric?: (queue: EventQueue, tracer: Tracer) => IrqFabric;
}

/** The device table a trace header needs, derivable before anything is built. */
export function deviceTable(s: Scenario): TraceHeaderInput['devices'] {
  return s.machine.devices.map((d, index) => ({ index, id: d.id, type: d.type, bdf: d.bdf }));
}

/** Hashes of fixture files the scenario's devices reference (for the trace header). */
export function fixtureHashes(s: Scenario): { path: string; hash: string }[] {
  const out: { path: string; hash: string }[] = [];
  const add = (v: string) => {
    const p = resolve(s.baseDir, v);
    if (existsSync(p) && statSync(p).isFile()) out.push({ path: v, hash: hostFileSha256(p) });
  };
  for (const d of s.machine.devices) {
    for (const v of Object.values(d.props)) {
      if (typeof v !== 'string') continue;
      add(v);
      // A comma-separated list of files (AHCI `disks`): each file once.
      if (v.includes(',')) for (const part of new Set(v.split(',').map((x) => x.trim()))) if (part !== '') add(part);
    }
  }
  // The modules compiled drivers run (a changed driver build shows in the header as a changed fixture).
  for (const [name, raw] of Object.entries(s.drivers)) {
    const entry = DRIVERS.find((x) => x.name === name);
    if (entry?.inputFiles === undefined) continue;
    let files: string[];
    try {
      files = entry.inputFiles(validateDriverParams(entry, raw, `drivers.${name}`), { baseDir: s.baseDir });
    } catch {
      continue; // bad parameters: building the machine reports them
    }
    for (const f of files) add(relative(s.baseDir, f));
  }
  return out;
}

/**
 * Tells trace readers in this process where this scenario's fixtures are
 * (src/trace/images.ts): its root, and each file a device prop names, under
 * the name the trace header gives it. A format-6 trace reads referenced
 * disk-image bytes from them (after checking the header's hash).
 */
export function registerScenarioImages(s: Scenario): void {
  addImageRoot(scenarioRoot(s));
  for (const d of s.machine.devices) {
    for (const v of Object.values(d.props)) {
      if (typeof v !== 'string') continue;
      for (const part of v.includes(',') ? v.split(',').map((x) => x.trim()) : [v]) {
        const p = resolve(s.baseDir, part);
        if (part !== '' && existsSync(p) && statSync(p).isFile()) addImageFile(rootRelative(s, part), p);
      }
    }
  }
}

/** A driver's process name: Redox names daemons <driver>d (nvmed, ahcid); a driver already named so keeps its name. */
export function daemonName(driver: string): string {
  return driver.endsWith('d') ? driver : `${driver}d`;
}

/**
 * The trace header of a run. Paths are relative to the scenario root
 * (scenarioRoot: the repository root for fixtures/scenarios/*.json) and go
 * with content hashes, so the same scenario and seed give the same bytes
 * wherever the checkout lives.
 */
export function traceHeader(s: Scenario, seed: number): TraceHeaderInput {
  return {
    tool: TOOL,
    scenario: { name: s.name, path: rootRelative(s, s.path), hash: s.hash },
    seed,
    machine: s.machine.raw,
    fixtures: fixtureHashes(s).map((f) => ({ path: rootRelative(s, f.path), hash: f.hash })),
    devices: deviceTable(s),
  };
}

/**
 * A built machine: event queue, memory, interrupt fabric, cores, PCI with
 * its devices, the kernel model with its schemes, and the processes the
 * scenario starts (pcid, matched drivers, the workload).
 */
export class Machine {
  readonly queue = new EventQueue(4096);
  readonly mem: PhysMem;
  readonly irq: IrqFabric;
  readonly cores: Core[];
  readonly kernel: Kernel;
  readonly bridge: PciHostBridge;
  readonly devices: MachineDevice[] = [];
  readonly tracer: ObservedTracer;
  readonly rng: Rng;
  readonly seed: number;
  /** The boundary sanitizer registry (freed DMA memory), or null when sanitize is off. */
  readonly sanitizer: Sanitizer | null;
  readonly hostileTiming: boolean;
  /** Content hashes of the frames display models scanned out (a workload turns `wanted` on to check pixels). */
  readonly scanout = new ScanoutLog();
  workload: RunningWorkload | undefined;
  readonly hardware: HardwareStandIn | undefined;
  /** Pids of the driver processes pcid-spawner started (their error lines explain a failed run). */
  readonly driverPids = new Set<number>();

  constructor(readonly scenario: Scenario, opts: BuildOptions = {}) {
    this.hardware = opts.hardware;
    const s = scenario;
    const file = s.path;
    this.seed = opts.seed ?? s.seed;
    this.rng = new Rng(this.seed);
    this.tracer = new ObservedTracer(opts.tracer ?? NULL_TRACER);
    const tracer = this.tracer;
    this.mem = new PhysMem(s.machine.ramMiB * 1024 * 1024);
    this.mem.regionLimit = PCI_MMIO_BASE;
    this.sanitizer = (opts.sanitize ?? s.machine.sanitize) ? new Sanitizer(this.mem.ramBytes) : null;
    this.hostileTiming = opts.hostileTiming ?? s.machine.hostileTiming;
    this.irq = opts.irqFabric?.(this.queue, tracer) ?? new IrqFabric(this.queue, tracer);
    this.cores = [];
    for (let i = 0; i < s.machine.cores; i++) this.cores.push(new Core(i, s.machine.costs, this.queue, this.mem, tracer));
    this.bridge = new PciHostBridge({ mem: this.mem, irq: this.irq, queue: this.queue, tracer });
    this.bridge.mapEcam(ECAM_BASE);
    this.bridge.mapConfigPorts();

    // Devices, in file order (the trace device table order) — or, when
    // replaying a trace as hardware, the trace's stand-ins and no models.
    if (opts.hardware !== undefined) opts.hardware.attach(this);
    else this.buildDevices();

    this.startStateDigests(s.machine.stateHashUs * 1e6, opts.devicesOnly === true);
    this.kernel = new Kernel({
      queue: this.queue, mem: this.mem, irq: this.irq, cores: this.cores, tracer, quantumPs: s.machine.tickUs * 1e6,
    });
    if (opts.devicesOnly) return;
    // Firmware: BAR assignment (fixed addresses from the machine file honoured).
    const fixed = new Map<string, Map<number, number>>();
    for (const d of s.machine.devices) {
      if (Object.keys(d.bars).length === 0) continue;
      fixed.set(d.bdf, new Map(Object.entries(d.bars).map(([k, v]) => [Number(k), v])));
    }
    try {
      this.bridge.assignResources({ mmioBase: PCI_MMIO_BASE, mmioLimit: PCI_MMIO_LIMIT, ioBase: PCI_IO_BASE, ioLimit: PCI_IO_LIMIT, fixed });
    } catch (e) {
      const msg = (e as Error).message;
      const bdf = /\b[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]\b/.exec(msg)?.[0];
      const i = s.machine.devices.findIndex((d) => d.bdf === bdf);
      throw new InputError(file, i >= 0 ? `machine.devices[${i}].bars` : 'machine.devices', msg);
    }

    const k = this.kernel;
    k.registerScheme(new RootScheme());
    k.registerScheme(new MemoryScheme(this.mem, this.sanitizer));
    k.registerScheme(new IrqScheme(k));
    k.registerScheme(new EventScheme());
    k.registerScheme(new TimeScheme(this.queue));
    k.onCrash.push((proc) => {
      for (const devIndex of proc.devices) {
        const d = this.devices[devIndex];
        if (d === undefined) continue;
        d.fn.reset();
        d.model.quiesce();
        k.log(proc, 'warn', `device ${d.id} (${d.bdf}) quiesced after its driver crashed`);
      }
    });

    // Drivers: validate the scenario's selection and parameters up front.
    const enabled = new Map<string, { entry: AnyDriverEntry; params: Record<string, unknown> }>();
    const selection = Object.keys(s.drivers).length === 0 ? Object.fromEntries(DRIVERS.filter((d) => d.explicit !== true).map((d) => [d.name, {}])) : s.drivers;
    for (const [name, raw] of Object.entries(selection)) {
      const entry = DRIVERS.find((d) => d.name === name);
      if (entry === undefined) throw new InputError(file, `drivers.${name}`, `unknown driver (known: ${DRIVERS.map((d) => d.name).join(', ')})`);
      try {
        enabled.set(name, { entry, params: validateDriverParams(entry, raw, `drivers.${name}`) });
      } catch (e) {
        if (e instanceof PropError) throw new InputError(file, e.field, e.message.slice(e.field.length + 2));
        throw e;
      }
    }
    // One driver per device: two enabled drivers for the same device (nvme and nvme-c) is ambiguous.
    for (const d of s.machine.devices) {
      const f = findDeviceFactory(d.type);
      if (f === undefined) continue;
      const names = [...enabled].filter(([, e]) => driverMatchesIds(e.entry, f.pciIds)).map(([n]) => n);
      if (names.length > 1) throw new InputError(file, `drivers.${names[1]!}`, `drivers ${names.join(' and ')} would both drive ${d.id} (${d.type}); enable one of them`);
    }
    // pcid + pcid-spawner: enumerate over config cycles, start matching drivers.
    k.spawn('pcid', (sys) => this.pcid(sys.ctx, enabled), { core: 0 });

    // Workload.
    if (s.workload !== undefined) {
      const entry = findWorkload(s.workload.type);
      if (entry === undefined) {
        throw new InputError(file, 'workload.type', `unknown workload "${s.workload.type}" (known: ${WORKLOADS.map((w) => w.type).join(', ')})`);
      }
      try {
        const params = validateProps(entry.params, s.workload.params, 'workload') as Record<string, unknown>;
        this.workload = entry.spawn({ kernel: k, rng: this.rng.fork('workload'), devices: this.devices, scanout: this.scanout }, params);
      } catch (e) {
        if (e instanceof PropError) throw new InputError(file, e.field, e.message.slice(e.field.length + 2));
        if (e instanceof WorkloadConfigError) throw new InputError(file, `workload.${e.field}`, e.message.slice(e.field.length + 2));
        throw e;
      }
    }
    // Host files the drivers' parameters name (a firmware directory), for drivers that will run;
    // after every other field is validated, so a malformed scenario reports its own error first.
    for (const [name, { entry, params }] of enabled) {
      if (entry.checkInputs === undefined) continue;
      const used = s.machine.devices.some((d) => {
        const f = findDeviceFactory(d.type);
        return f !== undefined && driverMatchesIds(entry, f.pciIds);
      });
      if (!used) continue;
      try {
        entry.checkInputs(params, { baseDir: s.baseDir });
      } catch (e) {
        if (e instanceof DriverConfigError) throw new InputError(file, `drivers.${name}.${e.field}`, e.message.slice(e.field.length + 2));
        throw e;
      }
    }
  }

  /**
   * Every `intervalPs`, each device's state digest goes into the trace as a
   * `state` milestone (a = digest). The timer re-arms only while something
   * else is pending, so it never keeps an idle machine alive.
   */
  private startStateDigests(intervalPs: number, devicesOnly: boolean): void {
    if (intervalPs <= 0) return;
    const target = this.queue.register('state-digest', () => {
      for (const d of this.devices) {
        const h = d.model.stateHash?.();
        if (h === undefined) continue;
        // The function's config space is part of the device's state (capabilities, BARs, command).
        this.tracer.milestone(this.queue.now, d.index, 'state', h, d.fn.configDigest());
      }
      // Device events run synchronously inside a task's MMIO access too: a task mid-slice means the machine is busy.
      // Trace-as-driver replay has no kernel activity to go by: the replay's loop ends with the recording.
      const sched = this.kernel.sched;
      if (devicesOnly || this.queue.pending > 0 || sched.current !== undefined || sched.nextRunnable().core >= 0) this.queue.schedule(ps(intervalPs), target);
    });
    this.queue.schedule(ps(intervalPs), target);
  }

  private buildDevices(): void {
    const s = this.scenario;
    const file = s.path;
    const tracer = this.tracer;
    s.machine.devices.forEach((decl, index) => {
      const where = `machine.devices[${index}]`;
      const factory = findDeviceFactory(decl.type);
      if (factory === undefined) {
        throw new InputError(file, `${where}.type`, `unknown device type "${decl.type}" (known: ${DEVICE_FACTORIES.map((f) => f.type).join(', ')})`);
      }
      let props: Record<string, unknown>;
      try {
        props = validateProps(factory.props, decl.props, `${where}.props`) as Record<string, unknown>;
      } catch (e) {
        if (e instanceof PropError) throw new InputError(file, e.field, e.message.slice(e.field.length + 2));
        throw e;
      }
      const parsed = parseBdf(decl.bdf);
      if (!parsed.ok) throw new InputError(file, `${where}.bdf`, parsed.error);
      let fn: PciFunction | undefined;
      let model: DeviceModel;
      try {
        model = factory.create({
          id: decl.id, index, queue: this.queue, tracer, rng: this.rng.fork(decl.id), baseDir: s.baseDir,
          fixtureName: (file) => rootRelative(s, file),
          sanitize: this.sanitizer !== null, hostileTiming: this.hostileTiming,
          scanout: this.scanout,
          reserveRam: (size, owner) => this.mem.reserveDeviceRam(size, owner),
          attachPci: (spec) => {
            fn = new PciFunction({
              bdf: parsed.bdf, dev: index, name: decl.id, spec, mem: this.mem, irq: this.irq, queue: this.queue, tracer,
              onFlr: () => model.quiesce(),
            });
            const dma = new DmaPort(index, decl.id, this.mem, this.queue, tracer, fn);
            dma.sanitizer = this.sanitizer;
            return { irq: fn, dma };
          },
        }, props);
      } catch (e) {
        if (e instanceof DeviceConfigError) {
          const field = e.field.startsWith('machine.') ? e.field : `${where}.props.${e.field}`;
          throw new InputError(file, field, e.message.slice(e.field.length + 2));
        }
        throw e;
      }
      if (fn === undefined) throw new Error(`device ${decl.id}: factory did not attach a PCI function`);
      try {
        this.bridge.add(fn);
      } catch (e) {
        throw new InputError(file, `${where}.bdf`, (e as Error).message);
      }
      // A disk's backing image (what blockio's verify starts from): `image`, or the first of a multi-disk device's `disks`.
      const firstDisk = typeof props.disks === 'string' ? props.disks.split(',').map((d) => d.trim()).find((d) => d !== '') : undefined;
      const imageProp = typeof props.image === 'string' ? props.image : firstDisk;
      const image = imageProp !== undefined ? resolve(s.baseDir, imageProp) : undefined;
      this.devices.push({ index, id: decl.id, type: decl.type, bdf: decl.bdf, model, fn, imagePath: image });
    });

  }

  private *pcid(ctx: import('../kernel/types.js').TaskCtx, enabled: Map<string, { entry: AnyDriverEntry; params: Record<string, unknown> }>) {
    const k = this.kernel;
    const proc = ctx.proc;
    const found = enumeratePci(new ConfigPort(ctx, ECAM_BASE));
    for (const info of found) {
      k.log(proc, 'info', `${info.bdf} ${hex4(info.vendorId)}:${hex4(info.deviceId)} class ${info.classCode.toString(16).padStart(6, '0')}`);
      const match = [...enabled.values()].find((e) => driverMatches(e.entry, info));
      if (match === undefined) continue;
      const dev = this.devices.find((d) => d.bdf === info.bdf);
      const driverProc = k.spawn(daemonName(match.entry.name), (sys) => match.entry.main(sys, new PciFunctionHandle(info, sys.ctx, ECAM_BASE), match.params, { baseDir: this.scenario.baseDir }));
      if (dev !== undefined) driverProc.devices.push(dev.index);
      this.driverPids.add(driverProc.pid);
      k.log(proc, 'info', `spawned ${match.entry.name} (pid ${driverProc.pid}) for ${info.bdf}`);
    }
    return 0;
  }

  /** Runs until the workload is done, nothing can happen any more, or the time limit. */
  /**
   * Runs until the workload is done, nothing can happen any more, the time
   * limit, or a stop point (`until`: a time, or an event sequence number).
   * Calling it again continues exactly where it stopped.
   */
  run(limitPs = this.scenario.limits.simTimePs, until?: StopPoint): RunResult {
    if (until !== undefined) {
      const tracer = this.tracer;
      const atSeq = until.seq;
      const stopAtSeq = atSeq === undefined ? undefined : () => tracer.count >= atSeq;
      const limit = until.timePs === undefined ? limitPs : Math.min(limitPs, until.timePs);
      const r = this.runInner(limit, stopAtSeq);
      const reached = (until.timePs !== undefined && r.stoppedBy === 'time-limit' && until.timePs < limitPs) || r.stoppedBy === 'until';
      return reached && r.stoppedBy !== 'until' ? this.result('until') : r;
    }
    return this.runInner(limitPs, undefined);
  }

  private runInner(limitPs: number, extraStop: (() => boolean) | undefined): RunResult {
    const w = this.workload;
    const hw = this.hardware;
    const workloadDone = w !== undefined ? () => w.done() : () => false;
    const base = hw?.shouldStop === undefined ? workloadDone : () => workloadDone() || hw.shouldStop!();
    const stop = extraStop === undefined ? base : () => base() || extraStop();
    const reason = runLoop(this.kernel.sched, this.queue, limitPs, stop);
    if (reason === 'stopped' && extraStop !== undefined && !base()) return this.result('until');
    return this.result(reason === 'stopped' ? 'workload-done' : reason);
  }

  /**
   * A digest of the machine's observable state at a stop point: time, event
   * and syscall counts, per-core clocks, device counters. A resumed run must
   * reach the same digest at the checkpoint (checkpoint.ts).
   */
  stateDigest(): string {
    const parts = [
      this.queue.now, this.queue.dispatched, this.tracer.count, this.kernel.syscalls, this.kernel.interrupts,
      ...this.cores.map((c) => c.time), JSON.stringify(this.devices.map((d) => d.model.stats())),
      this.workload === undefined ? '' : this.workload.digest(),
    ];
    return createHash('sha256').update(parts.join('|')).digest('hex');
  }

  /** Simulated time reached: the furthest of the queue and the cores. */
  get simTime(): number {
    let t: number = this.queue.now;
    for (const c of this.cores) if (c.time > t) t = c.time;
    return t;
  }

  /** The first `n` error-level log lines of driver processes (pcid-spawner's children). */
  private driverErrorLines(n: number): RunResult['driverErrors'] {
    const out: RunResult['driverErrors'] = [];
    for (const l of this.kernel.logs) {
      if (out.length >= n) break;
      if (l.level === 'error' && this.driverPids.has(l.pid)) out.push({ time: l.time, pid: l.pid, proc: l.proc, text: l.text });
    }
    return out;
  }

  /** What each device is waiting for (devices that implement `stall`), at the time reached. */
  stallLines(): RunResult['stall'] {
    const now = this.simTime;
    const out: RunResult['stall'] = [];
    for (const d of this.devices) {
      for (const text of d.model.stall?.(now) ?? []) out.push({ device: d.id, text });
    }
    return out;
  }

  result(stoppedBy: RunResult['stoppedBy']): RunResult {
    const s = this.scenario;
    const w = this.workload;
    const ios = w === undefined ? 0 : w.ios();
    const failures: string[] = [];
    // Stopped early: what needs the whole run (a minimum not reached yet, a log line not seen yet) is not evaluated.
    const early = stoppedBy === 'until';
    const notEvaluated: string[] = [];
    const e = s.expect;
    if (w === undefined && ios < e.minIos) {
      if (early) notEvaluated.push(`minIos: at least ${e.minIos} I/Os (${ios} so far)`);
      else failures.push(`expected at least ${e.minIos} I/Os, got ${ios}`);
    }
    if (this.tracer.guestErrorCount > e.maxGuestErrors) failures.push(`expected at most ${e.maxGuestErrors} guest errors, got ${this.tracer.guestErrorCount}`);
    const crashes = this.kernel.crashes.length;
    if (early && crashes < e.crashes) notEvaluated.push(`crashes: ${e.crashes} crashed processes (${crashes} so far)`);
    else if (crashes !== e.crashes) failures.push(`expected ${e.crashes} crashed processes, got ${crashes}${this.kernel.crashes.map((c) => `; ${c.name}: ${c.reason}`).join('')}`);
    if (w !== undefined) {
      failures.push(...w.failures(e, stoppedBy));
      if (early) notEvaluated.push(...(w.notEvaluated?.(e, stoppedBy) ?? []));
    }
    for (const text of e.logContains) {
      if (this.kernel.logs.some((l) => l.text.includes(text))) continue;
      if (early) notEvaluated.push(`logContains: a log line containing ${JSON.stringify(text)} (not seen so far)`);
      else failures.push(`expected a log line containing ${JSON.stringify(text)}`);
    }
    const failed = failures.length > 0;
    const stalled = (stoppedBy === 'time-limit' || stoppedBy === 'idle') && w !== undefined && !w.done();
    const deviceStats: Record<string, Record<string, number>> = {};
    for (const d of this.devices) deviceStats[d.id] = d.model.stats();
    return {
      simTimePs: this.simTime,
      events: this.queue.dispatched,
      interrupts: this.kernel.interrupts,
      ios,
      guestErrors: this.tracer.guestErrorCount,
      crashes: this.kernel.crashes,
      stoppedBy,
      verdict: failed ? 'FAIL' : early ? 'STOPPED' : 'PASS',
      failures,
      notEvaluated,
      driverErrors: failed ? this.driverErrorLines(5) : [],
      firstGuestErrors: failed ? this.tracer.guestErrors.slice(0, 5).map((g) => ({
        time: g.time, device: this.devices.find((d) => d.index === g.dev)?.id ?? `dev${g.dev}`, code: g.code, message: g.message,
      })) : [],
      stall: stalled ? this.stallLines() : [],
      workload: w === undefined ? undefined : { type: w.type, result: w.result, summary: w.summary(), json: w.json() },
      deviceStats,
    };
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}
