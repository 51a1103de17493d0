/**
 * `simrun export --mmiotrace`: the MMIO accesses of one device of a trace as
 * a Linux mmiotrace log (format 20070824, see ../import/mmiotrace.ts), the
 * reverse of `simrun import --mmiotrace`: VERSION, a PCIDEV line for the
 * device, a MAP line for each BAR the driver touches (at its first access),
 * then one R or W line per MMIO access, in order.
 *
 * Everything comes from the trace's own config records: the ids from the
 * Vendor/Device ID read, each BAR's address from the last value written to
 * it before the access (its flag bits from the read-back), its size from the
 * sizing read-back (all ones written, the mask read), the irq from the
 * Interrupt Line. Times are the records' times in whole microseconds, as
 * mmiotrace prints them. Config accesses, DMA, interrupts and the rest are
 * not mmiotrace records: they are counted in a note.
 */
import * as fs from 'node:fs';
import { TraceFormatError, type DamageReport } from '../format.js';
import { openTrace, type TraceSource } from '../reader.js';
import { MMIOTRACE_VERSION } from '../import/mmiotrace.js';

export interface ExportMmiotraceOptions {
  trace: TraceSource;
  /** Output file (default: the trace path with .mmiotrace instead of .simtrace). */
  out?: string | undefined;
  /** The device (id or type; default: the only device with MMIO accesses). */
  device?: string | undefined;
  err: (line: string) => void;
}

export interface ExportMmiotraceResult {
  exitCode: 0 | 2;
  out: string | undefined;
  /** R and W lines written. */
  accesses: number;
  damage: DamageReport[];
}

/** The default output of a trace path: `x.simtrace` -> `x.mmiotrace`. */
export function defaultMmiotracePath(trace: string): string {
  return trace.endsWith('.simtrace') ? `${trace.slice(0, -'.simtrace'.length)}.mmiotrace` : `${trace}.mmiotrace`;
}

interface Bar {
  /** The last value written (or read back, when nothing was written). */
  value: number;
  high: number;
  /** The sizing read-back (0 = not sized). */
  mask: number;
  sizing: boolean;
}

/** Where the export's made-up kernel virtual addresses start (an x86-64 ioremap area address; informational). */
const VIRT_BASE = 0xffffc90000000000n;

export function runExportMmiotrace(o: ExportMmiotraceOptions): ExportMmiotraceResult {
  const fail = (msg: string): ExportMmiotraceResult => {
    o.err(`error: ${msg}`);
    return { exitCode: 2, out: undefined, accesses: 0, damage: [] };
  };
  let reader;
  try {
    reader = openTrace(o.trace);
  } catch (e) {
    return fail(e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`);
  }
  const h = reader.header;
  let dev: number;
  if (o.device !== undefined) {
    const hits = h.devices.filter((d) => d.id === o.device || d.type === o.device);
    const list = h.devices.map((d) => `${d.id} (${d.type})`).join(', ') || 'none';
    if (hits.length !== 1) return fail(`${reader.path}: ${hits.length === 0 ? `no device '${o.device}'` : `several devices are '${o.device}'; give an id`} in this trace (devices: ${list})`);
    dev = hits[0]!.index;
  } else {
    const withMmio = new Set<number>();
    for (const e of reader.events({ kinds: ['mmio'] })) if (e.kind === 'mmio') withMmio.add(e.dev);
    if (withMmio.size !== 1) {
      const list = h.devices.filter((d) => withMmio.has(d.index)).map((d) => d.id).join(', ');
      return fail(`${reader.path}: ${withMmio.size === 0 ? 'no device has MMIO accesses' : `several devices have MMIO accesses (${list}); choose one with --dev`}`);
    }
    dev = [...withMmio][0]!;
  }
  const info = h.devices.find((d) => d.index === dev)!;
  let out = o.out;
  if (out === undefined) {
    if (typeof o.trace !== 'string') return fail('an in-memory trace needs an output path');
    out = defaultMmiotracePath(o.trace);
  }

  const bars: Bar[] = Array.from({ length: 6 }, () => ({ value: 0, high: 0, mask: 0, sizing: false }));
  let ids = -1, irq = 0;
  const maps = new Map<string, { id: number; bar: number; base: number; size: number }>();
  const mapOrder: { id: number; bar: number; base: number; size: number; flags: number }[] = [];
  const body: string[] = [];
  let accesses = 0, other = 0;
  const stamp = (ps: number): string => {
    const us = Math.floor(ps / 1_000_000);
    return `${Math.floor(us / 1_000_000)}.${String(us % 1_000_000).padStart(6, '0')}`;
  };
  for (const e of reader.events({ devs: [dev] })) {
    if (e.kind === 'cfg') {
      const off = e.offset;
      if (!e.write && off === 0 && e.size === 4) ids = e.value >>> 0;
      else if (!e.write && off === 0 && e.size === 2) ids = ids < 0 ? e.value : ((ids >>> 16) * 0x10000 + e.value) >>> 0;
      else if (!e.write && off === 2 && e.size === 2) ids = ((e.value * 0x10000) + (ids < 0 ? 0 : ids & 0xffff)) >>> 0;
      if (off === 0x3c && e.write && e.size === 1) irq = e.value;
      if (e.size === 4 && off >= 0x10 && off < 0x28 && (off & 3) === 0) {
        const i = (off - 0x10) >> 2;
        const b = bars[i]!;
        const prev = i > 0 ? bars[i - 1]! : undefined;
        const upper = prev !== undefined && (prev.value & 7) === 4; // the high half of a 64-bit memory BAR
        if (e.write) {
          if (upper && e.value >>> 0 !== 0xffffffff) prev!.high = e.value >>> 0;
          else if (!upper) { b.sizing = e.value >>> 0 === 0xffffffff; if (!b.sizing) b.value = e.value >>> 0; }
        } else if (!upper) {
          if (b.sizing) { b.mask = e.value >>> 0; b.sizing = false; } else b.value = e.value >>> 0;
        }
      }
      other++;
      continue;
    }
    if (e.kind !== 'mmio') { other++; continue; }
    const b = bars[e.bar];
    if (b === undefined) return fail(`${reader.path}: an MMIO access of ${info.id} to BAR ${e.bar} (event ${e.seq}): mmiotrace maps memory BARs 0-5`);
    const flags = b.value & 0xf;
    const base = b.high * 2 ** 32 + (b.value - flags);
    if (base === 0) return fail(`${reader.path}: ${info.id} is accessed through BAR${e.bar} (event ${e.seq}) before the trace shows the BAR's address (a config write to it): the MAP line cannot be written`);
    const size = b.mask === 0 ? 0 : (~(b.mask & 0xfffffff0) >>> 0) + 1;
    const key = `${e.bar}:${base}`;
    let m = maps.get(key);
    if (m === undefined) {
      m = { id: maps.size + 1, bar: e.bar, base, size: size === 0 ? 0x1000 * Math.ceil((e.offset + e.size) / 0x1000) : size };
      maps.set(key, m);
      mapOrder.push({ ...m, flags });
      body.push(`MAP ${stamp(e.time)} ${m.id} 0x${base.toString(16)} 0x${(VIRT_BASE + BigInt(m.id - 1) * 0x100000n).toString(16)} 0x${m.size.toString(16)} 0x0 0`);
    }
    body.push(`${e.write ? 'W' : 'R'} ${e.size} ${stamp(e.time)} ${m.id} 0x${(base + e.offset).toString(16)} 0x${e.value.toString(16)} 0x0 0`);
    accesses++;
  }
  const damage = [...reader.damage];
  if (accesses === 0) return fail(`${reader.path}: ${info.id} has no MMIO accesses in this trace; nothing to export`);
  const [bus, devNo, fn] = parseBdf(info.bdf);
  const starts: string[] = [], sizes: string[] = [];
  for (let i = 0; i < 7; i++) {
    const m = mapOrder.find((x) => x.bar === i);
    starts.push(m === undefined ? '0' : (m.base + m.flags).toString(16));
    sizes.push(m === undefined ? '0' : m.size.toString(16));
  }
  const head = [
    `VERSION ${MMIOTRACE_VERSION}`,
    `PCIDEV ${hex(bus, 2)}${hex((devNo << 3) | fn, 2)} ${hex(ids < 0 ? 0xffffffff : ids & 0xffff, 4)}${hex(ids < 0 ? 0xffff : ids >>> 16, 4)} ${irq.toString(16)} ${starts.join(' ')} ${sizes.join(' ')} `,
    `MARK ${stamp(0)} simrun export --mmiotrace: device ${info.id} (${info.type}, ${info.bdf}) of scenario ${h.scenario.name}, seed ${h.seed}`,
  ];
  try {
    fs.writeFileSync(out, `${[...head, ...body].join('\n')}\n`);
  } catch (e) {
    return fail(`${out}: cannot write the mmiotrace log (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (ids < 0) o.err(`note: the trace has no read of ${info.id}'s Vendor/Device ID: the PCIDEV line says ffff:ffff`);
  if (other > 0) o.err(`note: ${other} other record${other === 1 ? '' : 's'} of ${info.id} (config space, DMA, interrupts, milestones) are not mmiotrace records and were left out`);
  for (const d of damage) o.err(`warning: damage at byte ${d.offset} (0x${d.offset.toString(16)})${d.length > 0 ? `, ${d.length} bytes` : ''}: ${d.reason}`);
  return { exitCode: damage.length > 0 ? 2 : 0, out, accesses, damage };
}

function parseBdf(bdf: string): [number, number, number] {
  const m = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(bdf);
  return m === null ? [0, 0, 0] : [parseInt(m[1]!, 16), parseInt(m[2]!, 16), Number(m[3])];
}

function hex(v: number, digits: number): string {
  return v.toString(16).padStart(digits, '0');
}
