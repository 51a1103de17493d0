/**
 * simrun benchmarks. `npm run bench` prints a table; `npm run bench -- --json`
 * prints one JSON object (machine-readable, for tracking across changes).
 * Wall-clock measurement is allowed here: benchmarks measure the tool, they
 * are not simulated behaviour.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Core, DEFAULT_COSTS } from '../src/sim/cpu.js';
import { EventQueue } from '../src/sim/event-queue.js';
import { PhysMem } from '../src/sim/memory.js';
import { parseScenario } from '../src/machine/scenario.js';
import { runScenario } from '../src/machine/run.js';
import { Kernel } from '../src/kernel/kernel.js';
import { IrqFabric } from '../src/sim/irq.js';
import { MemoryScheme } from '../src/kernel/schemes/memory.js';
import { runLoop } from '../src/sim/run-loop.js';
import { NULL_TRACER } from '../src/sim/tracer.js';
import { nvmeReadsScenario } from './support/nvme-reads.js';
import { nvmeReadAllocBytes } from './support/alloc-workload.js';
import { checkoutRoot } from './support/root.js';
import { wifiResultOf } from '../src/workloads/wifi.js';
import { netEchoResultOf } from '../src/workloads/netecho.js';
import { drmFlipResultOf } from '../src/workloads/drm-flip.js';
import { at, ps } from '../src/sim/time.js';

/** The checkout (also from the bundled bench child in dist/cli/, bench/child.ts's build). */
const ROOT = checkoutRoot(import.meta.dirname);
/** The bench child, bundled at the start of a bench run (bin/build-cli.mjs --bench). */
const CHILD = join(ROOT, 'dist', 'cli', 'bench-child.mjs');

/** Runs `fn`: its wall seconds, and the process's CPU seconds over it (every thread: GC helpers too). */
function time<T>(fn: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const seconds = (performance.now() - t0) / 1000;
  return { value, seconds, cpuSeconds: cpuSecondsSince(c0) };
}

/** CPU seconds (user and system) the process used since `c0`. */
export function cpuSecondsSince(c0: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
}

/** Schedule and dispatch of no-op events with ~1000 pending (a realistic heap depth). */
export function benchEngine(events = 5_000_000): number {
  const q = new EventQueue(2048);
  let left = events;
  const t = q.register('noop', (_k, a0) => {
    if (--left > 0) q.schedule(ps(1 + (a0 % 97)), t, 0, a0 + 1);
  });
  for (let i = 0; i < 1000; i++) q.scheduleAt(at(i), t, 0, i);
  const r = time(() => { while (q.step()); });
  return q.dispatched / r.seconds;
}

/**
 * A simulator-like pattern, as NVMe runs make it (about 6 events pending):
 * 4 command streams, each with its next completion a little ahead (0.3 to
 * 100 us, log-uniform from a fixed pseudo-random table) and a 30 s command
 * timeout re-armed on every completion (cancel, then schedule), plus a 1 ms
 * timer tick. Dispatches per second.
 */
export function benchEngineSim(events = 2_000_000): number {
  const q = new EventQueue(64);
  const delays = new Float64Array(1024);
  let x = 0x2545f491;
  for (let i = 0; i < delays.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    delays[i] = Math.round(300_000 * 2 ** (((x >>> 0) / 2 ** 32) * Math.log2(100_000_000 / 300_000)));
  }
  const timeouts = [-1, -1, -1, -1];
  let left = events;
  let i = 0;
  const timeout = q.register('timeout', () => { throw new Error('bench: a command timed out'); });
  const dev = q.register('dev', (_k, stream) => {
    q.cancel(timeouts[stream]!);
    if (--left > 0) {
      timeouts[stream] = q.schedule(ps(30_000_000_000_000), timeout, 0, stream);
      q.schedule(ps(delays[i++ & 1023]!), dev, 0, stream);
    }
  });
  const tick = q.register('tick', () => { if (left > 0) q.schedule(ps(1_000_000_000), tick); });
  q.scheduleAt(at(1_000_000_000), tick);
  for (let s = 0; s < 4; s++) {
    timeouts[s] = q.scheduleAt(at(30_000_000_000_000), timeout, 0, s);
    q.scheduleAt(at(delays[s]!), dev, 0, s);
  }
  const r = time(() => { while (q.step()); });
  return q.dispatched / r.seconds;
}

/** Uncached MMIO reads from a driver task through the whole access path (core cost, device sync, window lookup). */
export function benchMmio(reads = 2_000_000): number {
  const queue = new EventQueue();
  const mem = new PhysMem(16 * 1024 * 1024);
  const irq = new IrqFabric(queue, NULL_TRACER);
  const cores = [new Core(0, DEFAULT_COSTS, queue, mem, NULL_TRACER)];
  let reg = 0;
  mem.mapMmio({ base: 0xc0000000, size: 0x1000, dev: 0, bar: 0, traced: true, handler: { read: () => reg++, write: () => {} } });
  const kernel = new Kernel({ queue, mem, irq, cores, tracer: NULL_TRACER, quantumPs: 1e9 });
  kernel.registerScheme(new MemoryScheme(mem));
  kernel.spawn('poller', function* (sys) {
    const m = sys.physmap(0xc0000000, 0x1000);
    for (let i = 0; i < reads; i++) m.read32(0x1c);
  });
  const r = time(() => runLoop(kernel.sched, queue, Infinity, () => false));
  return reads / r.seconds;
}

/**
 * `driver`: the TypeScript `nvme` or the C `nvme-c` (compiled to wasm). `root`: the folder holding
 * fixtures/disks/<image> (the repository by default; randomImageRoot() for incompressible data).
 */
function nvmeReadScenario(ops: number, driver: 'nvme' | 'nvme-c' = 'nvme', root = ROOT, image = 'nvme-8m.img') {
  return parseScenario(nvmeReadsScenario(ops, { driver, image: `../disks/${image}` }), join(root, 'fixtures/scenarios/bench.json'), 'bench');
}

/**
 * A folder with fixtures/disks/random-8m.img: 8 MiB of pseudo-random bytes (xorshift, fixed seed),
 * which no compressor shrinks, so trace size is measured without the fixture image's 80:1 help.
 */
export function randomImageRoot(dir: string): string {
  const root = join(dir, 'random-root');
  mkdirSync(join(root, 'fixtures', 'disks'), { recursive: true });
  const img = new Uint32Array(2 * 1024 * 1024);
  let x = 0x9e3779b9;
  for (let i = 0; i < img.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; img[i] = x >>> 0; }
  writeFileSync(join(root, 'fixtures', 'disks', 'random-8m.img'), new Uint8Array(img.buffer));
  return root;
}

/** 4 KiB reads per wall second through client, scheme, driver, device, DMA, MSI-X and back. */
export function benchNvme(ops: number, record: boolean, driver: 'nvme' | 'nvme-c' = 'nvme', randomRoot?: string): { readsPerS: number; readsPerCpuS: number; bytesPerEvent: number } {
  const s = randomRoot === undefined ? nvmeReadScenario(ops, driver) : nvmeReadScenario(ops, driver, randomRoot, 'random-8m.img');
  const r = time(() => runScenario(s, { recordToBuffer: record }));
  const out = r.value;
  if (out.result.ios !== ops) throw new Error(`bench run did ${out.result.ios} of ${ops} I/Os: ${out.result.failures.join('; ')}`);
  const trace = out.trace;
  return { readsPerS: ops / r.seconds, readsPerCpuS: ops / r.cpuSeconds, bytesPerEvent: trace === undefined ? 0 : trace.bytes / Math.max(1, trace.records) };
}

/** `f()` with every recording's chunks written by the trace writer thread (SIMRUN_TRACE_THREAD=1, src/trace/writer-thread.ts). */
function withWriterThread<T>(f: () => T): T {
  const was = process.env.SIMRUN_TRACE_THREAD;
  process.env.SIMRUN_TRACE_THREAD = '1';
  try {
    return f();
  } finally {
    if (was === undefined) delete process.env.SIMRUN_TRACE_THREAD;
    else process.env.SIMRUN_TRACE_THREAD = was;
  }
}

/** A 4 KiB-read blockio scenario (no verify) on one disk device and its compiled driver. */
function diskReadScenario(name: string, device: object, drivers: object, target: string, clients: number, ops: number) {
  return parseScenario({
    name,
    machine: { cores: 2, ramMiB: 256, devices: [device] },
    drivers,
    workload: { type: 'blockio', target, clients, ops, readPct: 100, minBlocks: 8, maxBlocks: 8, verify: false },
    limits: { simTime: '600s' },
  }, join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
}

/** Times one recorded run of a read scenario; throws unless every one of its `ops` I/Os completed. */
function readsPerWallS(what: string, s: ReturnType<typeof parseScenario>, ops: number): number {
  const r = time(() => runScenario(s, { recordToBuffer: true }));
  const res = r.value.result;
  if (res.ios !== ops) throw new Error(`${what} bench run did ${res.ios} of ${ops} I/Os: ${res.failures.join('; ')}`);
  return ops / r.seconds;
}

/** 4 KiB reads per wall second through ahcid (Rust, compiled to wasm) on an `ahci` HBA, MSI and NCQ (16 clients, up to 32 tags), recording on. */
export function benchAhciNcq(ops: number): number {
  const s = diskReadScenario('bench-ahci-ncq-4k-reads',
    { type: 'ahci', id: 'ahci0', bdf: '00:05.0', props: { disks: '../disks/nvme-8m.img', ports: 1 } },
    { ahcid: { irqMode: 'msi', ncq: true } }, 'disk.ahci:0', 16, ops);
  return readsPerWallS('ahci', s, ops);
}

/** 4 KiB reads per wall second through virtio-blkd (Rust on virtio-core, compiled to wasm), MSI-X, two request queues, recording on. */
export function benchVirtioBlk(ops: number): number {
  const s = diskReadScenario('bench-virtio-blk-4k-reads',
    { type: 'virtio-blk', id: 'vblk0', bdf: '00:05.0', props: { image: '../disks/nvme-8m.img', numQueues: 2 } },
    { 'virtio-blkd': { irqMode: 'msix', ioQueues: 2, queueDepth: 128 } }, 'disk.virtio:0', 4, ops);
  return readsPerWallS('virtio-blk', s, ops);
}

/**
 * Ethernet frames per wall second through virtio-netd (Rust on virtio-core,
 * compiled to wasm), MSI-X, on the default network: netecho with `exchanges`
 * pings and as many UDP echoes, no pause between them, recording on. Frames
 * are the device's txFrames + rxFrames (ARP included).
 */
export function benchVirtioNet(exchanges: number): number {
  const s = parseScenario({
    name: 'bench-virtio-net-echo',
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'virtio-net', id: 'vnet0', bdf: '00:06.0', props: { network: '../networks/default.json' } }] },
    drivers: { 'virtio-netd': { irqMode: 'msix', ifname: 'eth0' } },
    workload: { type: 'netecho', ifname: 'eth0', pings: exchanges, udpDatagrams: exchanges, intervalUs: 0 },
    limits: { simTime: '600s' },
  }, join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
  const r = time(() => runScenario(s, { recordToBuffer: true }));
  const res = r.value.result;
  const w = netEchoResultOf(res.workload);
  if (w === undefined || w.pingsOk !== exchanges || w.udpOk !== exchanges) {
    throw new Error(`virtio-net bench: ${w?.pingsOk ?? 0} of ${exchanges} pings and ${w?.udpOk ?? 0} of ${exchanges} UDP echoes: ${res.failures.join('; ')}`);
  }
  const st = res.deviceStats.vnet0;
  const frames = (st?.txFrames ?? 0) + (st?.rxFrames ?? 0);
  if (frames < 4 * exchanges) throw new Error(`virtio-net bench: ${frames} frames for ${2 * exchanges} round trips`);
  return frames / r.seconds;
}

/**
 * The display at 1080p60 (fixtures/displays/default.json): redox-drm and the
 * drm-flip compositor, recording on (every vblank's frame hashed and stored)
 * and pixels checked. `flips` 0: bring-up, probe and modeset only. Returns
 * wall seconds and the frames flipped.
 */
export function benchDisplay(flips: number): { seconds: number; flips: number } {
  const s = parseScenario({
    name: 'bench-display',
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'intel-display', id: 'gfx0', bdf: '00:02.0', props: { displays: '../displays/default.json' } }] },
    workload: { type: 'drm-flip', flips, disableAtEnd: false },
    limits: { simTime: '600s' },
  }, join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
  const r = time(() => runScenario(s, { recordToBuffer: true }));
  const w = drmFlipResultOf(r.value.result.workload);
  if (w === undefined || w.flips !== flips || w.pixelErrors !== 0 || !w.steps.includes('modeset')) {
    throw new Error(`display bench: ${w?.flips ?? 0} of ${flips} flips, ${w?.pixelErrors ?? 0} pixel errors: ${r.value.result.failures.join('; ')}`);
  }
  return { seconds: r.seconds, flips: w.flips };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Register reads per wall second from compiled C code (kpi-selftest's burst): import call, charge, MMIO path. */
export function benchWasmBoundary(reads: number): number {
  const s = parseScenario({
    name: 'bench-wasm-boundary',
    machine: { cores: 1, ramMiB: 64, devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: '../disks/nvme-8m.img' } }] },
    drivers: { 'kpi-selftest': { loops: 0, mmio_reads: reads } },
    limits: { simTime: '600s' },
  }, join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
  const r = time(() => runScenario(s));
  if (!r.value.machine.kernel.logs.some((l) => l.text.includes(`${reads} register reads done`))) throw new Error('bench: kpi-selftest did not finish its reads');
  return reads / r.seconds;
}

/** Writes the 4 KiB-read scenario with `ops` operations to a temporary file (absolute image path). */
function scenarioFile(dir: string, ops: number): string {
  const p = join(dir, `reads-${ops}.json`);
  writeFileSync(p, JSON.stringify(nvmeReadsScenario(ops, { name: `bench-reads-${ops}`, image: join(ROOT, 'fixtures/disks/nvme-8m.img'), simTime: '3600s' })));
  return p;
}

function wifiScenario(pings: number) {
  const json = {
    name: `bench-wifi-${pings}`,
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/home.json' } }] },
    drivers: { iwlwifi: { irqMode: 'msi' } },
    workload: { type: 'wifi', ssid: 'simnet', pings, intervalUs: 0, pollUs: 1000, disconnect: false },
    limits: { simTime: '3600s' },
  };
  return parseScenario(json, join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
}

/**
 * Wi-Fi: wall time from power-on (reset, firmware load, ALIVE, INIT and
 * runtime images, scan) to associated; then data-path throughput as 802.11
 * data frames (each ping is one frame out and one back) per wall second,
 * the bring-up subtracted.
 */
export function benchWifi(pings: number): { bringupMs: number; framesPerS: number } {
  const up = time(() => runScenario(wifiScenario(0), {}));
  const w0 = wifiResultOf(up.value.result.workload);
  if (w0 === undefined || !w0.steps.includes('connect')) throw new Error(`wifi bench: bring-up failed: ${up.value.result.failures.join('; ')}`);
  const run = time(() => runScenario(wifiScenario(pings), {}));
  const w = wifiResultOf(run.value.result.workload);
  if (w === undefined || w.pingsOk !== pings) throw new Error(`wifi bench: ${w?.pingsOk ?? 0} of ${pings} pings answered: ${run.value.result.failures.join('; ')}`);
  return { bringupMs: up.seconds * 1000, framesPerS: (2 * pings) / Math.max(1e-6, run.seconds - up.seconds) };
}

/** A child job's events, its wall and CPU seconds (the job alone, not the process start) and peak RSS. */
interface ChildResult { events: number; seconds: number; cpuSeconds: number; maxRssMiB: number }

/**
 * Runs one bench job in its own process (so its peak RSS is its own), from the bundled bench child:
 * the code the installed CLI runs, without tsx compiling TypeScript in the child (its loader thread
 * and compile jobs are not simrun's, and they took CPU and about 80 MiB from the measured work).
 */
function child(...args: string[]): ChildResult {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`bench child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/**
 * Replay throughput on a recorded trace of `ops` reads, and the peak RSS of
 * recording and replaying it (flat memory means RSS does not grow with ops).
 * With `pairs` > 1 the recording and the replay run that many times,
 * interleaved, and the figures are medians (a ratio is taken within each
 * pair, so load that drifts over the pairs cancels out).
 */
export function benchReplay(dir: string, ops: number, pairs = 1): {
  eventsPerS: number; peakRssMiB: number; events: number; vsLive: number; vsLiveCpu: number; trace: string;
} {
  const trace = join(dir, `reads-${ops}.simtrace`);
  const scenario = scenarioFile(dir, ops);
  const perS: number[] = [], vsLive: number[] = [], vsLiveCpu: number[] = [], rss: number[] = [];
  let events = 0;
  for (let i = 0; i < pairs; i++) {
    const rec = child('record', scenario, trace);
    // The trace names its scenario relative to the scenario's own folder: pass it.
    const r = child('replay', trace, scenario);
    // Throughput counts the trace's events replayed; `events` is the trace's size. The live run
    // is the recording child's (same events, same process set-up): events per second replayed
    // over events per second recorded.
    events = rec.events;
    perS.push(rec.events / r.seconds);
    vsLive.push(rec.seconds / r.seconds);
    vsLiveCpu.push(rec.cpuSeconds / r.cpuSeconds);
    rss.push(r.maxRssMiB);
  }
  return { eventsPerS: median(perS), peakRssMiB: Math.max(...rss), events, vsLive: median(vsLive), vsLiveCpu: median(vsLiveCpu), trace };
}

/** Events per second reading every record of `trace` (typed-array chunks: lz4, CRCs and column decoding). */
export function benchDecode(trace: string): number {
  const r = child('decode', trace);
  return r.events / r.seconds;
}

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }

/** Which part of the stack a profiled function belongs to, from its source path. */
function component(url: string, fn: string): string {
  const m = /\/src\/([a-z-]+)\/(?:([a-z-]+)\/)?/.exec(url);
  if (m !== null) {
    if (m[1] === 'trace') return 'trace recorder (src/trace)';
    if (m[1] === 'sim') return m[2] === undefined ? 'engine: queue, cores, DMA, IRQ (src/sim)' : `src/sim/${m[2]}`;
    if (m[1] === 'kernel') return 'kernel model (src/kernel)';
    if (m[1] === 'devices') return `device model (src/devices/${m[2] ?? ''})`;
    if (m[1] === 'drivers') return `driver (src/drivers/${m[2] ?? ''})`;
    if (m[1] === 'workloads') return 'workload clients (src/workloads)';
    return `src/${m[1]}`;
  }
  if (fn === '(garbage collector)') return 'garbage collector';
  if (url.startsWith('node:')) return 'Node builtins (Buffer copies, crypto)';
  if (url === '') return 'native (typed-array copies, memcmp, lz4, CRC)';
  return 'other';
}

/**
 * Per-component breakdown of one NVMe run (table output only): the run is
 * profiled in-process with the inspector's sampling profiler and self time
 * is summed by source directory. Profiling slows the run, so it is a
 * separate run and only the shares are printed.
 */
function nvmeBreakdown(ops: number, record: boolean): [string, number][] {
  const session = new Session();
  session.connect();
  let profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } | undefined;
  // The inspector answers same-thread messages synchronously.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.start');
  benchNvme(ops, record);
  session.post('Profiler.stop', (err, res) => { if (err === null) profile = res.profile as never; });
  session.disconnect();
  if (profile === undefined) return [];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const shares = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id);
    const dt = profile!.timeDeltas[i] ?? 0;
    if (n === undefined || n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)') return;
    const k = component(n.callFrame.url, n.callFrame.functionName);
    shares.set(k, (shares.get(k) ?? 0) + dt);
    total += dt;
  });
  return [...shares].map(([k, v]): [string, number] => [k, v / Math.max(1, total)]).sort((a, b) => b[1] - a[1]);
}

/**
 * Diffs two synthetic `events`-event traces (recorded by one child, diffed in
 * another so the diff's peak RSS is its own). Returns the diff child's figures.
 */
export function benchDiffPair(dir: string, events: number, runs = 1): ChildResult {
  const sub = mkdtempSync(join(dir, `diff-${events}-`));
  child('make-diff', String(events), sub);
  return childRuns(runs, () => child('diff', join(sub, 'diff-bench-a.simtrace'), join(sub, 'diff-bench-b.simtrace')));
}

/** `runs` child runs of one job: the first's events, median wall and CPU seconds, the highest peak RSS. */
function childRuns(runs: number, run: () => ChildResult): ChildResult {
  const rs: ChildResult[] = [];
  for (let i = 0; i < runs; i++) rs.push(run());
  return {
    events: rs[0]!.events,
    seconds: median(rs.map((r) => r.seconds)),
    cpuSeconds: median(rs.map((r) => r.cpuSeconds)),
    maxRssMiB: Math.max(...rs.map((r) => r.maxRssMiB)),
  };
}

/**
 * Diffs `trace` against a copy of itself in child processes (`runs` of them;
 * medians): the diff's cost on a recorded run's own mix of events (register
 * accesses, queue entries, image references, interrupts and scheme requests),
 * where nothing changed.
 */
export function benchDiffSame(trace: string, runs: number): ChildResult {
  const copy = trace.replace(/\.simtrace$/, '') + '-copy.simtrace';
  copyFileSync(trace, copy);
  try {
    return childRuns(runs, () => child('diff', trace, copy));
  } finally {
    rmSync(copy, { force: true });
  }
}

/**
 * Wall time of the installed command, end to end (process start to exit):
 * `simrun devices` (start-up alone) and `simrun check nvme-msix` (what a CI
 * check costs). Medians of a few runs; the first run of each also refreshes
 * the CLI bundle if a source changed, so it is not counted.
 */
export function benchCli(runs: number): { startupMs: number; checkMs: number } {
  const median = (args: string[]): number => {
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`bench: simrun ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      if (i > 0) times.push(ms);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  };
  return { startupMs: median(['devices']), checkMs: median(['check', 'nvme-msix']) };
}

/** Bundles the CLI, its worker threads and the bench child from the sources as they are now. */
function buildBundles(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'build-cli.mjs'), '--bench'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bin/build-cli.mjs --bench failed: ${r.stderr}`);
}

function main(): void {
  buildBundles();
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const ops = quick ? 5000 : 30000;
  // Samples behind each goal ratio (recording, replay against live, diff), interleaved where two runs
  // are compared; medians. On a 2-core VM single runs of the same work spread by a third, so three
  // samples can land a ratio a tenth off its centre.
  const samples = quick ? 3 : 7;
  // Warm-up: let the JIT reach steady state on every path (recording off, on, and through the writer thread)
  // before anything is measured.
  for (let i = 0; i < 2; i++) {
    benchNvme(quick ? 3000 : 10_000, false);
    benchNvme(quick ? 3000 : 10_000, true);
    withWriterThread(() => benchNvme(quick ? 3000 : 10_000, true));
  }
  const results: Record<string, number> = {};
  // The engine and MMIO figures each come from fresh processes of their own (medians of 3): in this
  // process, after the runs above, their call sites have seen every device and driver (megamorphic).
  const perS = (...args: string[]): number => median([0, 1, 2].map(() => { const c = child(...args); return c.events / c.seconds; }));
  results.engine_events_per_s = Math.round(perS('engine', String(quick ? 1_000_000 : 5_000_000)));
  results.engine_events_per_s_sim_pattern = Math.round(perS('engine-sim', String(quick ? 1_000_000 : 3_000_000)));
  results.mmio_accesses_per_s = Math.round(perS('mmio', String(quick ? 500_000 : 2_000_000)));
  // `samples` interleaved pairs (off, on), medians: one 30,000-read run is a fifth of a second, short
  // enough for a collection or a busy neighbour to move a single sample by a tenth.
  // A third run of each triple records through the trace writer thread (SIMRUN_TRACE_THREAD=1; off by default).
  const offRuns: ReturnType<typeof benchNvme>[] = [];
  const onRuns: ReturnType<typeof benchNvme>[] = [];
  const threadRuns: ReturnType<typeof benchNvme>[] = [];
  for (let i = 0; i < samples; i++) {
    offRuns.push(benchNvme(ops, false));
    onRuns.push(benchNvme(ops, true));
    threadRuns.push(withWriterThread(() => benchNvme(ops, true)));
  }
  const offPerS = median(offRuns.map((r) => r.readsPerS));
  const onPerS = median(onRuns.map((r) => r.readsPerS));
  results.nvme_reads_per_wall_s_record_off = Math.round(offPerS);
  results.nvme_reads_per_wall_s_record_on = Math.round(onPerS);
  results.recording_cost_factor = Number((offPerS / onPerS).toFixed(3));
  // The same from CPU seconds (all threads): what recording costs, less the load of other processes.
  results.recording_cost_factor_cpu = Number((median(offRuns.map((r) => r.readsPerCpuS)) / median(onRuns.map((r) => r.readsPerCpuS))).toFixed(3));
  results.recording_cost_factor_writer_thread = Number((offPerS / median(threadRuns.map((r) => r.readsPerS))).toFixed(3));
  results.recording_cost_factor_writer_thread_cpu = Number((median(offRuns.map((r) => r.readsPerCpuS)) / median(threadRuns.map((r) => r.readsPerCpuS))).toFixed(3));
  results.trace_bytes_per_event = Number(onRuns[0]!.bytesPerEvent.toFixed(2));
  {
    const tmp = mkdtempSync(join(tmpdir(), 'simrun-bench-img-'));
    try {
      results.trace_bytes_per_event_random_image = Number(benchNvme(quick ? 3000 : 10_000, true, 'nvme', randomImageRoot(tmp)).bytesPerEvent.toFixed(2));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  // Heap bytes allocated per 4 KiB read (whole path), recording off.
  results.nvme_read_alloc_bytes = Math.round(nvmeReadAllocBytes(quick ? 5000 : 20_000));
  // The same reads through the C driver compiled to wasm (instruction-counted), next to the TypeScript figure.
  // Warm-up as for the TypeScript driver: the JIT reaches steady state on the wasm path too.
  for (let i = 0; i < 3; i++) benchNvme(quick ? 3000 : 10_000, true, 'nvme-c');
  // Median of three: the wasm path's speed varies with JIT state more than the TypeScript one's.
  // C against TypeScript, fairly: each run in a child process of its own after a warm-up there (a
  // process that ran one driver has the other's shared paths compiled for it), alternating, medians of 3.
  const cRuns: number[] = [];
  const tsRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    cRuns.push(ops / child('reads', 'nvme-c', String(ops)).seconds);
    tsRuns.push(ops / child('reads', 'nvme', String(ops)).seconds);
  }
  results.wasm_nvme_reads_per_wall_s_record_on = Math.round(median(cRuns));
  results.wasm_vs_ts_reads_ratio = Number((median(cRuns) / median(tsRuns)).toFixed(3));
  benchWasmBoundary(quick ? 100_000 : 200_000); // warm-up
  results.wasm_boundary_calls_per_s = Math.round(benchWasmBoundary(quick ? 500_000 : 2_000_000));
  // The Rust drivers compiled to wasm, recording on; each after a warm-up run.
  benchAhciNcq(quick ? 1000 : 3000);
  results.ahci_ncq_reads_per_wall_s = Math.round(benchAhciNcq(ops));
  benchVirtioBlk(quick ? 1000 : 3000);
  results.virtio_blk_reads_per_wall_s = Math.round(benchVirtioBlk(ops));
  benchVirtioNet(quick ? 200 : 500);
  results.virtio_net_frames_per_wall_s = Math.round(benchVirtioNet(quick ? 2000 : 10_000));
  benchDisplay(quick ? 5 : 20); // warm-up
  const modeset: number[] = [];
  for (let i = 0; i < 3; i++) modeset.push(benchDisplay(0).seconds * 1000);
  results.display_modeset_wall_ms = Number(median(modeset).toFixed(1));
  const disp = benchDisplay(quick ? 60 : 300);
  results.display_frames_per_wall_s = Number((disp.flips / disp.seconds).toFixed(1));
  benchWifi(quick ? 200 : 500); // warm-up
  const wifi = benchWifi(quick ? 2000 : 10_000);
  results.wifi_bringup_wall_ms = Number(wifi.bringupMs.toFixed(1));
  results.wifi_frames_per_wall_s = Math.round(wifi.framesPerS);
  const cli = benchCli(quick ? 2 : 5);
  results.cli_startup_ms = Number(cli.startupMs.toFixed(1));
  results.check_nvme_msix_wall_ms = Number(cli.checkMs.toFixed(1));
  const dir = mkdtempSync(join(tmpdir(), 'simrun-bench-'));
  try {
    const replay = benchReplay(dir, quick ? 20_000 : 100_000, samples);
    results.replay_events_per_s = Math.round(replay.eventsPerS);
    results.replay_vs_live_ratio = Number(replay.vsLive.toFixed(3));
    results.replay_vs_live_ratio_cpu = Number(replay.vsLiveCpu.toFixed(3));
    // Real traffic through the diff: that 100,000-read trace against a copy of itself.
    const nvmeDiff = benchDiffSame(replay.trace, samples);
    results.diff_nvme_reads_seconds = Number(nvmeDiff.seconds.toFixed(2));
    results.diff_nvme_reads_events_per_s = Math.round(nvmeDiff.events / nvmeDiff.seconds);
    // ~10 million events: about 1.35 million 4 KiB reads (about 7.4 events per read).
    const big = benchReplay(dir, quick ? 100_000 : 1_350_000);
    results.replay_10m_events = big.events;
    results.replay_10m_peak_rss_mib = big.peakRssMiB;
    // Reading every record of that ~10 M-event trace (median of 3 fresh processes).
    results.trace_decode_events_per_s = Math.round(median([0, 1, 2].map(() => benchDecode(big.trace))));
    const diff1m = benchDiffPair(dir, 1_000_000, samples);
    results.diff_1m_seconds = Number(diff1m.seconds.toFixed(2));
    results.diff_1m_cpu_seconds = Number(diff1m.cpuSeconds.toFixed(2));
    const bigDiff = benchDiffPair(dir, quick ? 1_000_000 : 10_000_000);
    results.diff_10m_events = bigDiff.events;
    results.diff_10m_peak_rss_mib = bigDiff.maxRssMiB;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    return;
  }
  process.stdout.write('simrun benchmarks\n');
  for (const [k, v] of Object.entries(results)) process.stdout.write(`  ${k.padEnd(36)} ${v.toLocaleString('en-US')}\n`);
  for (const record of [false, true]) {
    process.stdout.write(`\nwhere the time goes: NVMe 4 KiB reads, recording ${record ? 'on' : 'off'} (share of CPU samples)\n`);
    for (const [k, share] of nvmeBreakdown(2 * ops, record)) {
      if (share >= 0.005) process.stdout.write(`  ${k.padEnd(52)} ${(share * 100).toFixed(1).padStart(5)} %\n`);
    }
  }
}

// Run when executed (npm run bench), not when a script imports a single measurement.
// (Inside the bundled bench child, bench/child.ts's build, this module is not what runs.)
if (process.argv[1] !== undefined && import.meta.url.endsWith('/bench/run.ts') && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
