/**
 * `simrun import --mmiotrace`: a Linux mmiotrace log (src/trace/import/mmiotrace.ts)
 * becomes a simrun trace of one device of a scenario, so a capture of a
 * real driver on real hardware replays as hardware (`simrun replay`) and
 * diffs against a simulated run. docs/MMIOTRACE.md describes the mapping.
 *
 * - Which device: the scenario device (--device, or the one whose PCI ids
 *   match a PCIDEV line) and the PCIDEV line it is; the MAP lines whose
 *   physical range lies in a memory BAR of that PCIDEV are the device's
 *   mappings. R and W through them become MMIO records (BAR, offset in the
 *   BAR, width, value); accesses through other mappings are left out, each
 *   mapping named in a note.
 * - The header is the one a simulated run of the scenario writes, so replay
 *   finds the scenario, the device table and the decoders.
 * - An mmiotrace holds no configuration cycles (Linux reaches config space
 *   through ports 0xcf8/0xcfc or ECAM, never through an ioremap()), but a
 *   replay needs them: firmware sizes and places the BARs, pcid reads the
 *   ids, the driver enables the function and sets up MSI-X. They come from a
 *   simulated run of the scenario: its config accesses of the device before
 *   the device's first MMIO access open the trace, and each later one is put
 *   after the captured access that matches (same BAR, offset, width and
 *   direction) the MMIO access the simulated run made before it. Other
 *   devices of the scenario are as simulated. The simulated device's own
 *   events (DMA, interrupts, milestones) are left out: the capture is the
 *   device.
 * - Times: the capture's timestamps (microseconds), relative to its first
 *   access, placed where the simulated run made its first MMIO access.
 * - MARK lines become log records (pid 0; "Lost N events" at level warn),
 *   UNKNOWN lines of the device warn-level log records naming their line.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { InputError } from '../sim/errors.js';
import type { LogLevel, ProcEvent, TraceEvent, Tracer } from '../sim/tracer.js';
import { TraceRecorder } from '../trace/recorder.js';
import type { TraceHeader } from '../trace/format.js';
import { barOf, describePciDev, parseMmiotrace, type MmioPciDev, type MmiotraceLog } from '../trace/import/mmiotrace.js';
import { findDeviceFactory } from '../devices/registry.js';
import { Machine, traceHeader } from './machine.js';
import type { Scenario } from './scenario.js';

/** How an imported trace's header says where it came from (`createdBy`). */
export const MMIOTRACE_CREATED_BY = 'simrun import --mmiotrace';

/**
 * What `simrun replay` tells the user about a trace imported from an
 * mmiotrace capture: what it could check, and that what the driver waited
 * for after the capture's last access (a completion, an interrupt) never
 * came, because a capture holds neither. Undefined for other traces.
 */
export function importedTraceNote(header: TraceHeader, matched: number, divergences: number): string | undefined {
  if (header.createdBy?.startsWith(MMIOTRACE_CREATED_BY) !== true) return undefined;
  const upTo = divergences === 0 ? `Every recorded access was matched (${matched})` : `${matched} recorded accesses matched before the first divergence`;
  return `note: this trace was imported from an mmiotrace capture (${header.createdBy}): it holds the driver's MMIO accesses, with config space from a simulated run, and no DMA and no interrupts. ${upTo}; register reads were answered from the capture and writes compared with it. After the capture's last access nothing is injected: a driver waiting for a command completion or an interrupt waits in vain (a timeout, then errors and failed expectations), which is the capture's limit, not a fault of the driver (docs/MMIOTRACE.md)`;
}

export interface ImportMmiotraceOptions {
  /** The mmiotrace log. */
  file: string;
  /** The simrun trace to write. */
  out: string;
  scenario: Scenario;
  /** The scenario device the capture is of (default: the one whose PCI ids match a PCIDEV line). */
  device?: string | undefined;
}

export interface ImportMmiotraceResult {
  out: string;
  device: { index: number; id: string; type: string; bdf: string };
  pcidev: MmioPciDev;
  /** MMIO records written from the capture. */
  reads: number;
  writes: number;
  /** The device's mappings: map id, BAR, offset in the BAR, length. */
  maps: { id: number; bar: number; offset: number; len: number; line: number }[];
  marks: number;
  /** Config accesses of the device taken from the simulated run. */
  simulatedConfig: number;
  /** Records written in all. */
  records: number;
  /** Simulated time of the last record (ps). */
  endPs: number;
  /** Things left out or changed, each naming its line. */
  notes: string[];
}

type Item =
  | { kind: 'access'; write: boolean; bar: number; offset: number; size: number; value: number; timeUs: number }
  | { kind: 'log'; level: LogLevel; text: string; timeUs: number };

/** How far ahead in the capture a simulated access's counterpart is looked for. */
const ALIGN_WINDOW = 256;
/** Extra simulated accesses run past the capture's length before a one-device simulation stops. */
const SIM_SLACK = 64;

export function importMmiotrace(o: ImportMmiotraceOptions): ImportMmiotraceResult {
  let text: string;
  try {
    if (!statSync(o.file).isFile()) throw new InputError(o.file, '', 'is not a regular file; give an mmiotrace log');
    text = readFileSync(o.file, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(o.file, '', code === 'ENOENT' ? 'mmiotrace log not found' : `cannot read it (${code ?? (e as Error).message})`);
  }
  const log = parseMmiotrace(text, o.file);
  const s = o.scenario;
  const { device, pcidev } = chooseDevice(log, s, o.device);
  const notes = [...log.notes];
  const { items, maps, reads, writes, marks } = captureItems(log, pcidev, notes);
  if (reads + writes === 0) {
    throw new InputError(o.file, '', `no R or W line reaches a BAR of ${describePciDev(pcidev)} (PCIDEV line ${pcidev.line}); nothing to import`);
  }
  const accesses = reads + writes;

  // The simulated run that supplies config space (and the other devices).
  const tap = new SimTap(device.index);
  const m = new Machine(s, { tracer: tap, seed: s.seed });
  const limit = s.limits.simTimePs;
  for (const core of m.cores) core.limitPs = limit;
  const alone = s.machine.devices.length === 1;
  for (let step = 1_000_000_000; ; step *= 2) {
    const until = Math.min(limit, step);
    const r = m.run(limit, { timePs: until });
    if (r.stoppedBy !== 'until' || until >= limit) break;
    if (alone && tap.targetMmio > accesses + SIM_SLACK) break;
  }

  const header = { ...traceHeader(s, s.seed), createdBy: `${MMIOTRACE_CREATED_BY} ${basename(o.file)}` };
  const rec = TraceRecorder.create(o.out, header);
  let last = 0;
  let records = 0;
  let simulatedConfig = 0;
  const sim = tap.events;
  let firstMmio = sim.findIndex((e) => e.kind === 'mmio' && e.dev === device.index);
  if (firstMmio < 0) firstMmio = sim.length;
  try {
    const emit = (e: TraceEvent, t: number): void => {
      last = Math.max(last, t);
      replayInto(rec, e, last);
      records++;
    };
    // The prefix: everything simulated before the device's first MMIO access.
    for (let i = 0; i < firstMmio; i++) {
      const e = sim[i]!;
      if (e.kind === 'cfg' && e.dev === device.index) simulatedConfig++;
      emit(e, e.time);
    }
    const t0 = firstMmio < sim.length ? sim[firstMmio]!.time : last;
    const baseUs = items[0]!.timeUs;
    const at = (us: number): number => {
      const t = t0 + (us - baseUs) * 1_000_000;
      if (!Number.isSafeInteger(t)) throw new InputError(o.file, '', 'the capture spans more than 2^53 ps (about 2.5 hours), more than a trace holds');
      return t;
    };
    let p = 0;
    const through = (j: number): void => {
      for (; p <= j; p++) {
        const it = items[p]!;
        const t = Math.max(last, at(it.timeUs));
        if (it.kind === 'access') emit({ kind: 'mmio', write: it.write, time: t, core: 0, dev: device.index, bar: it.bar, offset: it.offset, size: it.size, value: it.value }, t);
        else emit({ kind: 'log', time: t, pid: 0, level: it.level, text: it.text }, t);
      }
    };
    for (let i = firstMmio; i < sim.length; i++) {
      const e = sim[i]!;
      const dev = 'dev' in e ? e.dev : -1;
      if (dev === device.index) {
        if (p >= items.length) continue; // the capture has ended: nothing more of the device
        if (e.kind === 'mmio') {
          const end = Math.min(items.length, p + ALIGN_WINDOW);
          for (let j = p; j < end; j++) {
            const it = items[j]!;
            if (it.kind === 'access' && it.write === e.write && it.bar === e.bar && it.offset === e.offset && it.size === e.size) {
              through(j);
              break;
            }
          }
        } else if (e.kind === 'cfg') {
          simulatedConfig++;
          emit(e, last);
        }
        continue;
      }
      // Another device, as simulated; processes only in the prefix (they are simrun's, not the capture's).
      if (dev >= 0) emit(e, e.time);
    }
    through(items.length - 1);
  } finally {
    rec.close();
  }
  return { out: o.out, device, pcidev, reads, writes, maps, marks, simulatedConfig, records, endPs: last, notes };
}

/** The scenario device and PCIDEV line the capture is of. */
function chooseDevice(log: MmiotraceLog, s: Scenario, wanted: string | undefined): { device: ImportMmiotraceResult['device']; pcidev: MmioPciDev } {
  const devs = s.machine.devices.map((d, index) => ({ index, id: d.id, type: d.type, bdf: d.bdf, ids: findDeviceFactory(d.type)?.pciIds }));
  const idText = (v: number, d: number): string => `${hex4(v)}:${hex4(d)}`;
  const listDevs = devs.map((d) => `${d.id} (${d.type}${d.ids ? ` ${idText(d.ids.vendorId, d.ids.deviceId)}` : ''})`).join(', ');
  const listPci = log.pcidevs.map(describePciDev).join(', ') || 'none';
  if (log.pcidevs.length === 0) {
    throw new InputError(log.path, '', 'no PCIDEV line: without the PCI devices and their BARs the mappings cannot be placed in a device (mmiotrace writes PCIDEV lines after VERSION)');
  }
  const sameIds = (d: (typeof devs)[number], p: MmioPciDev): boolean => d.ids !== undefined && d.ids.vendorId === p.vendorId && d.ids.deviceId === p.deviceId;
  const strip = ({ ids: _ids, ...d }: (typeof devs)[number]): ImportMmiotraceResult['device'] => d;
  if (wanted !== undefined) {
    const d = devs.find((x) => x.id === wanted);
    if (d === undefined) throw new InputError(s.path, 'machine.devices', `no device "${wanted}" in scenario ${s.name} (devices: ${listDevs})`);
    const byIds = log.pcidevs.filter((p) => sameIds(d, p));
    if (byIds.length === 1) return { device: strip(d), pcidev: byIds[0]! };
    // Real hardware has other ids than the model: the PCIDEV line whose BARs the driver's accesses reach.
    // Several candidates: the one at the scenario device's address.
    const reached = byIds.length > 1 ? byIds : log.pcidevs.filter((p) => accessesInto(log, p) > 0);
    const atBdf = reached.filter((p) => p.bdf === d.bdf);
    const cands = atBdf.length === 1 ? atBdf : reached;
    if (cands.length === 1) return { device: strip(d), pcidev: cands[0]! };
    throw new InputError(log.path, '', cands.length === 0
      ? `no PCIDEV line has a BAR that an R or W line reaches (PCIDEV lines: ${listPci})`
      : `${cands.length} PCIDEV lines could be ${wanted} (${cands.map(describePciDev).join(', ')}); the capture must reach the BARs of one device only, or the device must be at ${d.bdf} as in the scenario`);
  }
  const pairs: { d: (typeof devs)[number]; p: MmioPciDev }[] = [];
  for (const d of devs) for (const p of log.pcidevs) if (sameIds(d, p)) pairs.push({ d, p });
  if (pairs.length === 1) return { device: strip(pairs[0]!.d), pcidev: pairs[0]!.p };
  if (pairs.length === 0) {
    throw new InputError(log.path, '', `no PCIDEV line has the PCI ids of a device of scenario ${s.name} (devices: ${listDevs}; PCIDEV lines: ${listPci}); name the device with --device <id>`);
  }
  throw new InputError(log.path, '', `several PCIDEV lines match devices of scenario ${s.name} (${pairs.map((x) => `${describePciDev(x.p)} = ${x.d.id}`).join(', ')}); name the device with --device <id>`);
}

/** R and W lines reaching a BAR of `p`. */
function accessesInto(log: MmiotraceLog, p: MmioPciDev): number {
  const inside = new Set<number>();
  let n = 0;
  for (const r of log.records) {
    if (r.kind === 'map' && barOf(p, r.map.phys, r.map.len) >= 0) inside.add(r.map.id);
    else if (r.kind === 'unmap') inside.delete(r.id);
    else if (r.kind === 'rw' && inside.has(r.id)) n++;
  }
  return n;
}

/** The capture as the device's accesses and log lines, in file order; notes for what is left out. */
function captureItems(log: MmiotraceLog, dev: MmioPciDev, notes: string[]): {
  items: Item[]; maps: ImportMmiotraceResult['maps']; reads: number; writes: number; marks: number;
} {
  const items: Item[] = [];
  const maps: ImportMmiotraceResult['maps'] = [];
  const live = new Map<number, { bar: number; base: number }>();
  const other = new Map<number, { line: number; phys: number; len: number; where: string; n: number }>();
  let reads = 0, writes = 0, marks = 0;
  for (const r of log.records) {
    switch (r.kind) {
      case 'map': {
        const bar = barOf(dev, r.map.phys, r.map.len);
        if (bar >= 0) {
          const base = dev.resources[bar]!.start;
          live.set(r.map.id, { bar, base });
          maps.push({ id: r.map.id, bar, offset: r.map.phys - base, len: r.map.len, line: r.map.line });
        } else {
          let where = `not a BAR of ${dev.bdf}`;
          for (const p of log.pcidevs) {
            const b = barOf(p, r.map.phys, r.map.len);
            if (b >= 0 && p !== dev) where = `BAR${b} of ${describePciDev(p)}`;
          }
          other.set(r.map.id, { line: r.map.line, phys: r.map.phys, len: r.map.len, where, n: 0 });
        }
        break;
      }
      case 'unmap':
        live.delete(r.id);
        break;
      case 'rw': {
        const m = live.get(r.id);
        if (m === undefined) {
          const o = other.get(r.id);
          if (o !== undefined) o.n++;
          break;
        }
        const offset = r.phys - m.base;
        const timeUs = r.timeUs;
        if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) {
          // A trace stores register values exactly up to 2^53: the low then the high half, as lo_hi_readq/writeq do.
          const lo = Number(r.value & 0xffffffffn), hi = Number(r.value >> 32n);
          items.push({ kind: 'access', write: r.write, bar: m.bar, offset, size: 4, value: lo, timeUs });
          items.push({ kind: 'access', write: r.write, bar: m.bar, offset: offset + 4, size: 4, value: hi, timeUs });
          if (r.write) writes += 2; else reads += 2;
          notes.push(`line ${r.line}: the 8-byte ${r.write ? 'write' : 'read'} at bar${m.bar}+0x${offset.toString(16)} holds 0x${r.value.toString(16)}, above 2^53: imported as two 4-byte accesses (low half first)`);
          break;
        }
        items.push({ kind: 'access', write: r.write, bar: m.bar, offset, size: r.width, value: Number(r.value), timeUs });
        if (r.write) writes++; else reads++;
        break;
      }
      case 'unknown': {
        const m = live.get(r.id);
        if (m === undefined) break;
        const text = `mmiotrace line ${r.line}: UNKNOWN access at bar${m.bar}+0x${(r.phys - m.base).toString(16)} (instruction bytes ${r.opcode}): mmiotrace could not decode it, so it is not in this trace`;
        items.push({ kind: 'log', level: 'warn', text, timeUs: r.timeUs });
        notes.push(`line ${r.line}: UNKNOWN access to bar${m.bar}+0x${(r.phys - m.base).toString(16)} (instruction bytes ${r.opcode}): left out (a warn log record marks its place)`);
        break;
      }
      case 'mark': {
        const lost = /^Lost \d+ events\.?$/.test(r.text);
        items.push({ kind: 'log', level: lost ? 'warn' : 'info', text: `mmiotrace MARK: ${r.text}`, timeUs: r.timeUs });
        marks++;
        break;
      }
    }
  }
  for (const [id, o] of other) {
    notes.push(`line ${o.line}: map id ${id} (0x${o.phys.toString(16)}, 0x${o.len.toString(16)} bytes) is ${o.where}: ${o.n} access${o.n === 1 ? '' : 'es'} through it left out`);
  }
  // Marks before the first access keep their place; times are relative to the first access.
  const firstAccess = items.find((x) => x.kind === 'access');
  if (firstAccess !== undefined) {
    const t = firstAccess.timeUs;
    for (const it of items) if (it.timeUs < t) it.timeUs = t;
  }
  return { items, maps, reads, writes, marks };
}

/**
 * Keeps what the import needs of the simulated run: every event of the
 * other devices, process events (used before the device's first MMIO
 * access), and the device's config and MMIO accesses (not its DMA,
 * interrupts or milestones: the capture is the device).
 */
class SimTap implements Tracer {
  readonly enabled = true;
  readonly events: TraceEvent[] = [];
  targetMmio = 0;
  constructor(private readonly target: number) {}
  private keep(dev: number): boolean { return dev !== this.target; }
  private processes(): boolean { return this.targetMmio === 0; }
  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    if (dev === this.target) this.targetMmio++;
    this.events.push({ kind: 'mmio', write, time, core, dev, bar, offset, size, value });
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'pio', write, time, core, dev, port, size, value });
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    this.events.push({ kind: 'cfg', write, time, core, dev, offset, size, value });
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string): void {
    if (this.keep(dev)) this.events.push({ kind: 'dma', write, time, dev, addr, data: data.slice(offset, offset + length), tag });
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'intx', time, dev, gsi, level });
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'msi', time, dev, addr, data, core, vector });
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    if (this.processes()) this.events.push({ kind: 'schemeReq', time, pid, scheme, op, reqId, a, b });
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    if (this.processes()) this.events.push({ kind: 'schemeReply', time, pid, scheme, reqId, result });
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'milestone', time, dev, name, a, b });
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    if (this.processes()) this.events.push({ kind: 'log', time, pid, level, text });
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    if (this.keep(dev)) this.events.push({ kind: 'guestErr', time, dev, code, message });
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    if (this.processes()) this.events.push({ kind: 'proc', time, pid, event, name, detail });
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'air', time, dev, tx, channel, signal, rate, data: data.slice(offset, offset + length) });
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'eth', time, dev, tx, port, data: data.slice(offset, offset + length) });
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    if (this.keep(dev)) this.events.push({ kind: 'frame', time, dev, pipe, counter: seq, width, height, format, data: data.slice(offset, offset + length) });
  }
}

/** Writes a decoded event to a tracer at time `t`. */
function replayInto(tr: Tracer, e: TraceEvent, t: number): void {
  switch (e.kind) {
    case 'mmio': tr.mmio(e.write, t, e.core, e.dev, e.bar, e.offset, e.size, e.value); break;
    case 'pio': tr.pio(e.write, t, e.core, e.dev, e.port, e.size, e.value); break;
    case 'cfg': tr.cfg(e.write, t, e.core, e.dev, e.offset, e.size, e.value); break;
    case 'dma': tr.dma(e.write, t, e.dev, e.addr, e.data, 0, e.data.length, e.tag); break;
    case 'intx': tr.intx(t, e.dev, e.gsi, e.level); break;
    case 'msi': tr.msi(t, e.dev, e.addr, e.data, e.core, e.vector); break;
    case 'schemeReq': tr.schemeReq(t, e.pid, e.scheme, e.op, e.reqId, e.a, e.b); break;
    case 'schemeReply': tr.schemeReply(t, e.pid, e.scheme, e.reqId, e.result); break;
    case 'milestone': tr.milestone(t, e.dev, e.name, e.a, e.b); break;
    case 'log': tr.log(t, e.pid, e.level, e.text); break;
    case 'guestErr': tr.guestErr(t, e.dev, e.code, e.message); break;
    case 'proc': tr.proc(t, e.pid, e.event, e.name, e.detail); break;
    case 'air': tr.air(t, e.dev, e.tx, e.channel, e.signal, e.rate, e.data, 0, e.data.length); break;
    case 'eth': tr.eth(t, e.dev, e.tx, e.port, e.data, 0, e.data.length); break;
    case 'frame': tr.frame(t, e.dev, e.pipe, e.counter, e.width, e.height, e.format, e.data, 0, e.data.length); break;
  }
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
