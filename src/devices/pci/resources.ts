/**
 * Firmware-style PCI resource assignment, done the way a BIOS does it: probe
 * every BAR with config cycles (write all ones, read the size mask back,
 * restore), then place BARs at naturally aligned addresses in the MMIO and
 * I/O windows, write Interrupt Line, and enable decode. Everything goes
 * through the host bridge's config path, so it appears in the trace like the
 * real firmware's enumeration would.
 *
 * Placement is deterministic: functions in BDF order, BARs by index, each at
 * the lowest free address aligned to its size (memory BARs to at least
 * 4 KiB): first fit.
 */
import type { PhysMem } from '../../sim/memory.js';
import { intxGsi } from '../../sim/irq.js';
import type { BarKind } from './api.js';
import { bdfKey, formatBdf, parseBdf, type Bdf } from './bdf.js';
import type { PciBusFunction } from './host-bridge.js';
import * as R from './regs.js';

/** What `assignPciResources` needs from the bridge (config cycles and the function list). */
export interface PciConfigAccess {
  functions(): readonly PciBusFunction[];
  configRead(bdf: Bdf, offset: number, size: number): number;
  configWrite(bdf: Bdf, offset: number, size: number, value: number): void;
}

export interface PciResourceOptions {
  /** First address of the MMIO window for BARs. */
  mmioBase: number;
  /** Last address (inclusive, as in a PCI bridge's Memory Limit) of the MMIO window. */
  mmioLimit: number;
  /** First port of the I/O window. */
  ioBase: number;
  /** Last port (inclusive) of the I/O window. */
  ioLimit: number;
  /** Addresses that must be used: "bb:dd.f" -> BAR index -> address. */
  fixed?: Map<string, Map<number, number>>;
}

export interface PciAssignment {
  bdf: string;
  bar: number;
  kind: BarKind;
  prefetchable: boolean;
  size: number;
  address: number;
  fixed: boolean;
}

/** A resource plan that cannot work: conflicting fixed addresses, overlap with RAM, or no room. */
export class PciResourceError extends Error {
  override readonly name = 'PciResourceError';
}

interface Probe {
  fn: PciBusFunction;
  bdf: string;
  bar: number;
  kind: BarKind;
  prefetchable: boolean;
  size: number;
  address: number;
  fixed: boolean;
}

interface Range {
  start: number;
  /** Exclusive. */
  end: number;
  what: string;
}

const TWO32 = 2 ** 32;

function hexRange(start: number, end: number): string {
  return `[0x${start.toString(16)}-0x${(end - 1).toString(16)}]`;
}

function describe(p: Probe): string {
  return `${p.bdf} BAR${p.bar}`;
}

/** Sizes the BARs of one function by config cycles, with decode disabled meanwhile. */
function probeFunction(access: PciConfigAccess, fn: PciBusFunction): Probe[] {
  const bdf = fn.bdf;
  const out: Probe[] = [];
  if ((access.configRead(bdf, R.CFG_HEADER_TYPE, 1) & 0x7f) !== 0) return out; // only type-0 headers
  const cmd = access.configRead(bdf, R.CFG_COMMAND, 2);
  access.configWrite(bdf, R.CFG_COMMAND, 2, cmd & ~(R.CMD_IO | R.CMD_MEMORY));
  for (let i = 0; i < 6; i++) {
    const reg = R.CFG_BAR0 + 4 * i;
    const orig = access.configRead(bdf, reg, 4);
    access.configWrite(bdf, reg, 4, 0xffffffff);
    const mask = access.configRead(bdf, reg, 4);
    access.configWrite(bdf, reg, 4, orig);
    if (mask === 0) continue;
    const base = { fn, bdf: formatBdf(bdf), bar: i, address: 0, fixed: false };
    if ((mask & R.BAR_IO_SPACE) !== 0) {
      let m = (mask & R.BAR_IO_ADDR_MASK) >>> 0;
      if ((m & 0xffff0000) === 0) m = (m | 0xffff0000) >>> 0; // upper 16 bits may be hardwired to 0
      out.push({ ...base, kind: 'io', prefetchable: false, size: ((~m) >>> 0) + 1 });
      continue;
    }
    const type = (mask >>> 1) & 3;
    const prefetchable = (mask & R.BAR_MEM_PREFETCH) !== 0;
    const low = (mask & R.BAR_MEM_ADDR_MASK) >>> 0;
    if (type === 2) {
      const origHi = access.configRead(bdf, reg + 4, 4);
      access.configWrite(bdf, reg + 4, 4, 0xffffffff);
      const hi = access.configRead(bdf, reg + 4, 4);
      access.configWrite(bdf, reg + 4, 4, origHi);
      const size = low !== 0 ? ((~low) >>> 0) + 1 : (((~hi) >>> 0) + 1) * TWO32;
      out.push({ ...base, kind: 'mem64', prefetchable, size });
      i++;
    } else if (type === 0) {
      out.push({ ...base, kind: 'mem32', prefetchable, size: ((~low) >>> 0) + 1 });
    }
    // Types 1 (below 1 MiB, legacy) and 3 (reserved) are not assigned.
  }
  access.configWrite(bdf, R.CFG_COMMAND, 2, cmd);
  return out;
}

function overlaps(a: Range, start: number, end: number): boolean {
  return start < a.end && a.start < end;
}

/**
 * Memory BARs are aligned to at least a page, as SeaBIOS does, so no two
 * functions' registers share a 4 KiB page (a driver maps whole pages).
 */
const MEM_MIN_ALIGN = 0x1000;

/** Lowest `align`-aligned address in [lo, hiExclusive) where `size` bytes overlap nothing in `taken`, or -1. */
function firstFit(taken: readonly Range[], size: number, align: number, lo: number, hiExclusive: number): number {
  let addr = Math.ceil(lo / align) * align;
  for (;;) {
    if (addr + size > hiExclusive) return -1;
    let moved = false;
    for (const r of taken) {
      if (overlaps(r, addr, addr + size)) {
        addr = Math.ceil(r.end / align) * align;
        moved = true;
      }
    }
    if (!moved) return addr;
  }
}

/**
 * Assigns every BAR of every function on `access`. Fixed addresses are
 * honoured; a fixed address that is misaligned, overlaps RAM, a platform
 * window or another fixed BAR, or a BAR that finds no room, throws
 * `PciResourceError` before anything is programmed. Returns the plan in the
 * order it was programmed.
 */
export function assignPciResources(access: PciConfigAccess, mem: PhysMem, opts: PciResourceOptions): PciAssignment[] {
  const fns = access.functions();
  const ours = new Set<number>();
  for (const fn of fns) if (fn.dev >= 0) ours.add(fn.dev);

  // 1. Probe.
  const probes: Probe[] = [];
  for (const fn of fns) probes.push(...probeFunction(access, fn));

  // 2. Fixed addresses.
  const fixedByKey = new Map<number, Map<number, number>>();
  for (const [text, bars] of opts.fixed ?? []) {
    const parsed = parseBdf(text);
    if (!parsed.ok) throw new PciResourceError(`fixed BAR address: ${parsed.error}`);
    const key = bdfKey(parsed.bdf);
    if (!fns.some((f) => bdfKey(f.bdf) === key)) throw new PciResourceError(`fixed BAR address for ${text}: no PCI function there`);
    fixedByKey.set(key, bars);
  }
  for (const [key, bars] of fixedByKey) {
    for (const [bar, address] of bars) {
      const p = probes.find((x) => bdfKey(x.fn.bdf) === key && x.bar === bar);
      const name = `${formatBdf({ bus: key >>> 8, device: (key >>> 3) & 31, fn: key & 7 })} BAR${bar}`;
      if (p === undefined) throw new PciResourceError(`fixed address for ${name}: the function has no BAR ${bar}`);
      if (!Number.isInteger(address) || address < 0 || address % p.size !== 0) {
        throw new PciResourceError(`fixed address 0x${address.toString(16)} for ${name} is not aligned to the BAR size 0x${p.size.toString(16)}`);
      }
      const limit = p.kind === 'io' ? 0x10000 : p.kind === 'mem32' ? TWO32 : Number.MAX_SAFE_INTEGER;
      if (address + p.size > limit) {
        throw new PciResourceError(`fixed address 0x${address.toString(16)} for ${name} is out of range for a ${p.kind} BAR`);
      }
      p.address = address;
      p.fixed = true;
    }
  }

  // 3. What is already taken: RAM and platform windows (not BARs of these functions).
  const memTaken: Range[] = [{ start: 0, end: mem.ramBytes, what: `RAM ${hexRange(0, mem.ramBytes)}` }];
  for (const w of mem.listWindows()) {
    if (w.bar >= 0 && ours.has(w.dev)) continue;
    memTaken.push({ start: w.base, end: w.base + w.size, what: `platform MMIO window ${hexRange(w.base, w.base + w.size)}` });
  }
  const ioTaken: Range[] = [];
  const portBusy = (start: number, end: number): string | undefined => {
    for (let p = start; p < end; p++) {
      const r = mem.findPorts(p, 1);
      if (r !== undefined && !(r.dev >= 0 && ours.has(r.dev))) return `platform I/O ports ${hexRange(r.base, r.base + r.size)}`;
    }
    return undefined;
  };

  // Fixed BARs against everything taken and each other.
  const fixedMem: Array<Range & { p: Probe }> = [];
  const fixedIo: Array<Range & { p: Probe }> = [];
  for (const p of probes) {
    if (!p.fixed) continue;
    const start = p.address;
    const end = p.address + p.size;
    const mine = `${describe(p)} ${hexRange(start, end)}`;
    const list = p.kind === 'io' ? fixedIo : fixedMem;
    for (const other of list) {
      if (overlaps(other, start, end)) throw new PciResourceError(`fixed ${mine} overlaps fixed ${other.what}`);
    }
    if (p.kind === 'io') {
      const busy = portBusy(start, end);
      if (busy !== undefined) throw new PciResourceError(`fixed ${mine} overlaps ${busy}`);
    } else {
      for (const t of memTaken) if (overlaps(t, start, end)) throw new PciResourceError(`fixed ${mine} overlaps ${t.what}`);
    }
    list.push({ start, end, what: mine, p });
  }
  memTaken.push(...fixedMem);
  ioTaken.push(...fixedIo);

  // 4. Place the rest, first fit, BDF order then BAR index.
  for (const p of probes) {
    if (p.fixed) continue;
    if (p.kind === 'io') {
      let lo = opts.ioBase;
      const hi = Math.min(opts.ioLimit + 1, 0x10000);
      let addr = -1;
      // Platform port ranges are not listable; step past busy ones.
      for (;;) {
        addr = firstFit(ioTaken, p.size, p.size, lo, hi);
        if (addr < 0 || portBusy(addr, addr + p.size) === undefined) break;
        lo = addr + p.size;
      }
      if (addr < 0) {
        throw new PciResourceError(`no room for ${describe(p)} (I/O, ${p.size} bytes) in the I/O window ${hexRange(opts.ioBase, opts.ioLimit + 1)}`);
      }
      p.address = addr;
      ioTaken.push({ start: addr, end: addr + p.size, what: `${describe(p)} ${hexRange(addr, addr + p.size)}` });
    } else {
      const hi = p.kind === 'mem32' ? Math.min(opts.mmioLimit + 1, TWO32) : opts.mmioLimit + 1;
      const addr = firstFit(memTaken, p.size, Math.max(p.size, MEM_MIN_ALIGN), opts.mmioBase, hi);
      if (addr < 0) {
        throw new PciResourceError(`no room for ${describe(p)} (${p.kind}, 0x${p.size.toString(16)} bytes) in the MMIO window `
          + `${hexRange(opts.mmioBase, opts.mmioLimit + 1)}`);
      }
      p.address = addr;
      memTaken.push({ start: addr, end: addr + p.size, what: `${describe(p)} ${hexRange(addr, addr + p.size)}` });
    }
  }

  // 5. Program: decode off everywhere first, so no old window is in the way of a new one.
  const cmds = fns.map((fn) => access.configRead(fn.bdf, R.CFG_COMMAND, 2));
  fns.forEach((fn, i) => access.configWrite(fn.bdf, R.CFG_COMMAND, 2, cmds[i]! & ~(R.CMD_IO | R.CMD_MEMORY)));
  fns.forEach((fn, i) => {
    const mine = probes.filter((p) => p.fn === fn);
    for (const p of mine) {
      const reg = R.CFG_BAR0 + 4 * p.bar;
      access.configWrite(fn.bdf, reg, 4, (p.address % TWO32) >>> 0);
      if (p.kind === 'mem64') access.configWrite(fn.bdf, reg + 4, 4, Math.floor(p.address / TWO32) >>> 0);
    }
    const pin = access.configRead(fn.bdf, R.CFG_INTERRUPT_PIN, 1);
    if (pin >= 1 && pin <= 4) access.configWrite(fn.bdf, R.CFG_INTERRUPT_LINE, 1, intxGsi(fn.bdf.device, pin));
    const decode = (mine.some((p) => p.kind === 'io') ? R.CMD_IO : 0) | (mine.some((p) => p.kind !== 'io') ? R.CMD_MEMORY : 0);
    access.configWrite(fn.bdf, R.CFG_COMMAND, 2, (cmds[i]! & ~(R.CMD_IO | R.CMD_MEMORY)) | decode);
  });

  return probes.map((p) => ({ bdf: p.bdf, bar: p.bar, kind: p.kind, prefetchable: p.prefetchable, size: p.size, address: p.address, fixed: p.fixed }));
}
