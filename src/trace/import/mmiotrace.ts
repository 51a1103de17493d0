/**
 * Linux mmiotrace logs (Documentation/trace/mmiotrace.rst, format version
 * 20070824): a strict parser, and the BAR arithmetic that places a mapping
 * in a PCI function's BARs. Knows no device: which simrun device a PCIDEV
 * line is, and what the trace around it holds, is decided in src/machine.
 *
 * One record a line, a keyword then space-separated fields, as the kernel
 * prints them (kernel/trace/trace_mmiotrace.c):
 *
 *   VERSION 20070824
 *   PCIDEV <bus><devfn> <vendor><device> <irq> <7 x start|flags> <7 x size> [driver]   (hex, no 0x)
 *   MAP <s>.<us> <map id> 0x<phys> 0x<virt> 0x<len> 0x<pc> <pid>
 *   UNMAP <s>.<us> <map id> 0x<pc> <pid>                         (map id -1: not found by the kernel)
 *   R|W <width> <s>.<us> <map id> 0x<phys> 0x<value> 0x<pc> <pid>
 *   UNKNOWN <s>.<us> <map id> 0x<phys> <b0>,<b1>,<b2> 0x<pc> <pid>  (an instruction mmiotrace could not decode)
 *   MARK <s>.<us> <text>                                          (trace_marker text; "Lost N events." on overruns)
 *   LSPCI <text>                                                  (a line of lspci -v, for the reader)
 *
 * Every line is checked: a malformed field, a line of an unknown kind, an
 * access through a mapping that does not exist (never mapped, or unmapped),
 * an address outside its mapping or a value wider than the access is an
 * InputError naming the file and line (exit 2). Blank lines are skipped.
 */
import { InputError } from '../../sim/errors.js';

export const MMIOTRACE_VERSION = '20070824';

/** A PCI resource as PCIDEV prints it: start (flag bits cleared), the flag bits, size (0 = absent). */
export interface PciResource {
  start: number;
  /** The low 4 bits of the BAR: bit 0 I/O space; for memory, bits 1-2 the type (2 = 64-bit) and bit 3 prefetchable. */
  flags: number;
  size: number;
}

export interface MmioPciDev {
  line: number;
  bus: number;
  device: number;
  fn: number;
  /** "bb:dd.f" */
  bdf: string;
  vendorId: number;
  deviceId: number;
  irq: number;
  /** Resources 0-5 are the BARs, 6 the expansion ROM. */
  resources: PciResource[];
  /** The bound driver's name ('' when none). */
  driver: string;
}

export interface MmioMap {
  line: number;
  timeUs: number;
  id: number;
  phys: number;
  len: number;
  /** The kernel virtual address (as printed; informational). */
  virt: string;
}

export type MmioRecord =
  | { kind: 'map'; map: MmioMap }
  | { kind: 'unmap'; line: number; timeUs: number; id: number }
  | { kind: 'rw'; line: number; write: boolean; width: 1 | 2 | 4 | 8; timeUs: number; id: number; phys: number; value: bigint; pc: string }
  | { kind: 'unknown'; line: number; timeUs: number; id: number; phys: number; opcode: string; pc: string }
  | { kind: 'mark'; line: number; timeUs: number; text: string };

export interface MmiotraceLog {
  path: string;
  version: string;
  pcidevs: MmioPciDev[];
  /** MAP, UNMAP, R, W, UNKNOWN and MARK records in file order. */
  records: MmioRecord[];
  /** LSPCI lines (informational). */
  lspci: string[];
  /** Things the parser accepted but a reader should know, each naming its line. */
  notes: string[];
}

const TIME = /^(\d{1,10})\.(\d{6})$/;
const HEX0X = /^0x[0-9a-fA-F]{1,16}$/;
const HEX = /^[0-9a-fA-F]{1,16}$/;
const DEC = /^(0|-?[1-9]\d{0,9})$/;

/** Parses an mmiotrace log; `path` names it in errors. Throws InputError (exit 2) at the first malformed line. */
export function parseMmiotrace(text: string, path: string): MmiotraceLog {
  const log: MmiotraceLog = { path, version: '', pcidevs: [], records: [], lspci: [], notes: [] };
  const live = new Map<number, MmioMap>();
  const lines = text.split('\n');
  // A final newline ends the last line; it does not start another.
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  let sawRecord = false;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const fail = (msg: string): never => { throw new InputError(path, `line ${n}`, msg); };
    if (line.trim() === '') continue;
    const sp = line.indexOf(' ');
    const kw = sp < 0 ? line : line.slice(0, sp);
    if (log.version === '' && kw !== 'VERSION') fail(`expected "VERSION ${MMIOTRACE_VERSION}" as the first line of an mmiotrace log, got ${show(line)}`);
    const f = line.split(' ');
    const fieldCount = (want: number, layout: string): void => {
      if (f.length !== want + 1) fail(`${kw} takes ${want} space-separated fields (${layout}), got ${f.length - 1}: ${show(line)}`);
    };
    switch (kw) {
      case 'VERSION':
        if (log.version !== '') fail(`a second VERSION line (the first is at the top of the file)`);
        fieldCount(1, 'the format version');
        if (f[1] !== MMIOTRACE_VERSION) fail(`unsupported mmiotrace format version ${show(f[1]!)}: this reader knows ${MMIOTRACE_VERSION} (Linux 2.6.25 and later)`);
        log.version = f[1]!;
        break;
      case 'PCIDEV': {
        if (sawRecord) fail('PCIDEV lines belong to the header, before the first MAP, R, W, UNMAP, UNKNOWN or MARK line');
        // The kernel ends the line with " <driver>" or a lone space; an editor may have stripped that space.
        const parts = f.length === 19 && f[18] === '' ? f.slice(0, 18) : f;
        if (parts.length !== 18 && parts.length !== 19) {
          fail(`PCIDEV takes 17 fields (bus and devfn, vendor and device, irq, 7 resource starts, 7 resource sizes) and the driver name, got ${parts.length - 1}`);
        }
        const hex = (k: number, what: string, digits?: number): number => {
          const t = parts[k]!;
          if (!HEX.test(t) || (digits !== undefined && t.length !== digits)) fail(`PCIDEV field ${k} (${what}): ${show(t)} is not ${digits !== undefined ? `${digits} hex digits` : 'a hex number (no 0x)'}`);
          return safe(BigInt(`0x${t}`), () => fail(`PCIDEV field ${k} (${what}): ${t} is above 2^53`));
        };
        const bbdf = hex(1, 'bus and devfn', 4);
        const ids = hex(2, 'vendor and device id', 8);
        const irq = hex(3, 'irq');
        const resources: PciResource[] = [];
        for (let r = 0; r < 7; r++) {
          const v = hex(4 + r, `resource ${r} start`);
          const size = hex(11 + r, `resource ${r} size`);
          const io = (v & 1) === 1;
          const flags = io ? v % 4 : v % 16;
          resources.push({ start: v - flags, flags, size });
        }
        const bus = Math.floor(bbdf / 256), devfn = bbdf % 256;
        const pd: MmioPciDev = {
          line: n, bus, device: devfn >> 3, fn: devfn & 7,
          bdf: `${hex2(bus)}:${hex2(devfn >> 3)}.${devfn & 7}`,
          vendorId: Math.floor(ids / 0x10000), deviceId: ids % 0x10000, irq, resources, driver: parts[18] ?? '',
        };
        if (log.pcidevs.some((p) => p.bdf === pd.bdf)) fail(`a second PCIDEV line for ${pd.bdf}`);
        log.pcidevs.push(pd);
        break;
      }
      case 'LSPCI':
        log.lspci.push(line.slice(sp + 1));
        break;
      case 'MAP': {
        fieldCount(7, 'timestamp, map id, 0x physical, 0x virtual, 0x length, 0x pc, pid');
        const timeUs = time(f[1]!, fail);
        const id = dec(f[2]!, 'map id', fail);
        const phys = hex0x(f[3]!, 'physical address', fail);
        hex0x(f[4]!, 'virtual address', fail, true);
        const len = hex0x(f[5]!, 'length', fail);
        hex0x(f[6]!, 'pc', fail, true);
        dec(f[7]!, 'pid', fail);
        if (id < 0) fail(`MAP with map id ${id}: ids of mappings are positive`);
        if (len === 0) fail('MAP of length 0');
        const prev = live.get(id);
        if (prev !== undefined) fail(`map id ${id} is mapped already (line ${prev.line}) and was not unmapped`);
        const map: MmioMap = { line: n, timeUs, id, phys, len, virt: f[4]! };
        live.set(id, map);
        log.records.push({ kind: 'map', map });
        sawRecord = true;
        break;
      }
      case 'UNMAP': {
        fieldCount(4, 'timestamp, map id, 0x pc, pid');
        const timeUs = time(f[1]!, fail);
        const id = dec(f[2]!, 'map id', fail);
        hex0x(f[3]!, 'pc', fail, true);
        dec(f[4]!, 'pid', fail);
        if (id === -1) log.notes.push(`line ${n}: UNMAP of a mapping the kernel did not know (map id -1)`);
        else if (!live.delete(id)) fail(`UNMAP of map id ${id}, which is not mapped (no MAP line before, or unmapped already)`);
        log.records.push({ kind: 'unmap', line: n, timeUs, id });
        sawRecord = true;
        break;
      }
      case 'R':
      case 'W': {
        fieldCount(7, 'width, timestamp, map id, 0x physical, 0x value, 0x pc, pid');
        const w = dec(f[1]!, 'width', fail);
        if (w !== 1 && w !== 2 && w !== 4 && w !== 8) fail(`${kw}: width ${w} is not 1, 2, 4 or 8 bytes`);
        const width = w as 1 | 2 | 4 | 8;
        const timeUs = time(f[2]!, fail);
        const id = dec(f[3]!, 'map id', fail);
        const phys = hex0x(f[4]!, 'physical address', fail);
        if (!HEX0X.test(f[5]!)) fail(`value: ${show(f[5]!)} is not a hex number with 0x`);
        const value = BigInt(f[5]!);
        if (value >> BigInt(width * 8) !== 0n) fail(`${kw}: value ${f[5]} does not fit in ${width} byte${width === 1 ? '' : 's'}`);
        hex0x(f[6]!, 'pc', fail, true);
        dec(f[7]!, 'pid', fail);
        mapOf(live, id, phys, width, kw, fail);
        if (phys % width !== 0) log.notes.push(`line ${n}: ${kw} of ${width} bytes at 0x${phys.toString(16)}, not aligned to its width`);
        log.records.push({ kind: 'rw', line: n, write: kw === 'W', width, timeUs, id, phys, value, pc: f[6]! });
        sawRecord = true;
        break;
      }
      case 'UNKNOWN': {
        fieldCount(6, 'timestamp, map id, 0x physical, 3 opcode bytes, 0x pc, pid');
        const timeUs = time(f[1]!, fail);
        const id = dec(f[2]!, 'map id', fail);
        const phys = hex0x(f[3]!, 'physical address', fail);
        if (!/^[0-9a-fA-F]{2},[0-9a-fA-F]{2},[0-9a-fA-F]{2}$/.test(f[4]!)) fail(`UNKNOWN: the instruction bytes ${show(f[4]!)} are not three 2-digit hex bytes separated by commas`);
        hex0x(f[5]!, 'pc', fail, true);
        dec(f[6]!, 'pid', fail);
        mapOf(live, id, phys, 1, kw, fail);
        log.records.push({ kind: 'unknown', line: n, timeUs, id, phys, opcode: f[4]!, pc: f[5]! });
        sawRecord = true;
        break;
      }
      case 'MARK': {
        if (f.length < 2) fail('MARK takes a timestamp and the marker text');
        const timeUs = time(f[1]!, fail);
        const text = f.slice(2).join(' ');
        log.records.push({ kind: 'mark', line: n, timeUs, text });
        if (/^Lost \d+ events\.?$/.test(text)) log.notes.push(`line ${n}: the kernel lost events here (${text}): the capture is incomplete`);
        sawRecord = true;
        break;
      }
      default:
        fail(`unknown mmiotrace record ${show(kw)} (known: VERSION, PCIDEV, LSPCI, MAP, UNMAP, R, W, UNKNOWN, MARK)`);
    }
  }
  if (log.version === '') throw new InputError(path, '', `empty: an mmiotrace log starts with "VERSION ${MMIOTRACE_VERSION}"`);
  return log;
}

/**
 * The BAR (0-5) of `dev` whose memory range holds [phys, phys+len), or -1.
 * I/O BARs and the expansion ROM never hold an ioremap()ed range.
 */
export function barOf(dev: MmioPciDev, phys: number, len: number): number {
  for (let b = 0; b < 6; b++) {
    const r = dev.resources[b]!;
    if (r.size === 0 || (r.flags & 1) === 1) continue;
    if (phys >= r.start && phys + len <= r.start + r.size) return b;
  }
  return -1;
}

/** "bb:dd.f vvvv:dddd" of a PCIDEV line. */
export function describePciDev(d: MmioPciDev): string {
  return `${d.bdf} ${hex4(d.vendorId)}:${hex4(d.deviceId)}${d.driver !== '' ? ` (${d.driver})` : ''}`;
}

function mapOf(live: Map<number, MmioMap>, id: number, phys: number, width: number, kw: string, fail: (m: string) => never): void {
  const m = live.get(id);
  if (m === undefined) return fail(`${kw} through map id ${id}, which is not mapped (no MAP line before, or unmapped already)`);
  if (phys < m.phys || phys + width > m.phys + m.len) {
    fail(`${kw} at 0x${phys.toString(16)} (${width} bytes) is outside map id ${id} (0x${m.phys.toString(16)}, 0x${m.len.toString(16)} bytes, line ${m.line})`);
  }
}

function time(t: string, fail: (m: string) => never): number {
  const m = TIME.exec(t);
  if (m === null) return fail(`timestamp ${show(t)} is not <seconds>.<6 digits of microseconds>`);
  return Number(m[1]) * 1_000_000 + Number(m[2]);
}

function dec(t: string, what: string, fail: (m: string) => never): number {
  if (!DEC.test(t)) fail(`${what}: ${show(t)} is not a decimal integer`);
  return Number(t);
}

/** A 0x hex field; `loose` fields (pc, virtual address) may use all 64 bits and are only checked. */
function hex0x(t: string, what: string, fail: (m: string) => never, loose = false): number {
  if (!HEX0X.test(t)) fail(`${what}: ${show(t)} is not a hex number with 0x`);
  const v = BigInt(t);
  if (loose) return 0;
  return safe(v, () => fail(`${what}: ${t} is above 2^53, beyond what a trace stores exactly`));
}

function safe(v: bigint, fail: () => never): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail();
  return Number(v);
}

function show(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}
