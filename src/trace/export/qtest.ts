/**
 * `simrun export --qtest`: the driver side of a trace as a qtest command
 * script (QEMU's qtest protocol, docs/QTEST.md) that drives a machine with
 * the same devices — simrun's (`simrun serve --script`) or QEMU's — through
 * the same accesses at the same times.
 *
 * For every driver-side record (cfg, mmio, pio) in order:
 *   1. `clock_step` to the record's time (rounded up to the nanosecond: the
 *      qtest clock counts ns, simrun's ps), so the device work due by then
 *      has run, as it had when the driver made the access;
 *   2. the memory the device read by DMA after this access and before the
 *      next one (the queue entries and buffers the driver had written),
 *      written with `b64write` — a read that overlaps an earlier one of the
 *      same stretch with other bytes is written later, just before the time
 *      it was read;
 *   3. the access: config space through CONFIG_ADDRESS/CONFIG_DATA
 *      (`outl 0xcf8` when the address changes, then `in`/`out` at 0xcfc +
 *      offset%4), extended config space (offset >= 0x100) through the ECAM
 *      window, MMIO at the BAR's address (BARs are followed through the
 *      trace's own config writes, the firmware's included), port I/O as is;
 *      a read is followed by `#< <reply>`, the reply the recorded value
 *      implies (QEMU's formats: `OK 0x%04x` for in*, `OK 0x%016x` for read*).
 * The script starts with `irq_intercept_in ioapic` and ends with a
 * `clock_step` to the trace's last record and `#! irq ...` lines: how many
 * times each MSI vector was signalled and each INTx pin raised, which a
 * replay compares with the IRQ lines it saw.
 *
 * Lines starting with `#` are comments (strip them before feeding the script
 * to QEMU: `grep -v '^#'`). The header names the trace, the scenario and
 * the device table.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { openTrace, type SeqEvent, type TraceReader, type TraceSource } from '../reader.js';

export interface ExportQtestOptions {
  /** Base of the ECAM window extended config accesses go through (simrun's machine: 0xe0000000). */
  ecamBase: number;
  /** Lines go here (without newlines). */
  line: (text: string) => void;
  /** The trace's name in the header comment. */
  traceName?: string;
}

export interface ExportQtestResult {
  /** Commands written (not counting comments). */
  commands: number;
  /** Replies the script checks (`#<` lines). */
  checks: number;
  /** DMA reads preloaded, their bytes, and how many had to be written later than the access (overlaps). */
  loads: number;
  loadBytes: number;
  lateLoads: number;
  /** Driver-side records that could not be expressed (an MMIO access to a BAR the trace never assigned), with a reason each. */
  skipped: string[];
  /** Damage reports of the trace (the script covers its intact chunks). */
  damage: { offset: number; reason: string }[];
  /** Recorded MSI messages per vector and INTx raises per IOAPIC pin. */
  msi: Map<number, number>;
  intxRaises: Map<number, number>;
  endNs: number;
}

const TWO32 = 2 ** 32;

interface DevState {
  bdf: { bus: number; device: number; fn: number };
  /** BAR registers as last written (dwords 0x10..0x24). */
  bars: number[];
  /** The low bits of each BAR as last read (type and space). */
  barBits: number[];
}

type Dma = SeqEvent & { kind: 'dma' };

export class QtestScriptWriter {
  readonly result: ExportQtestResult = {
    commands: 0, checks: 0, loads: 0, loadBytes: 0, lateLoads: 0, skipped: [], damage: [], msi: new Map(), intxRaises: new Map(), endNs: 0,
  };
  private nowNs = 0;
  private cf8: number | undefined;
  private readonly devs: (DevState | undefined)[];
  private current: SeqEvent | undefined;
  private reads: Dma[] = [];
  private lastTime = 0;
  private readonly intxLevel = new Map<string, number>();

  constructor(private readonly reader: TraceReader, private readonly o: ExportQtestOptions) {
    this.devs = reader.header.devices.map((d) => {
      const m = /^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(d.bdf);
      if (m === null) return undefined;
      const bdf = { bus: parseInt(m[1]!, 16), device: parseInt(m[2]!, 16), fn: Number(m[3]) };
      return { bdf, bars: [0, 0, 0, 0, 0, 0], barBits: [0, 0, 0, 0, 0, 0] };
    });
  }

  run(): ExportQtestResult {
    const h = this.reader.header;
    const out = this.o.line;
    out('# simrun qtest script (simrun export --qtest): replay with simrun serve --script <this file>, or strip the # lines and feed it to a qtest server');
    if (this.o.traceName !== undefined) out(`# trace: ${this.o.traceName}`);
    out(`# scenario: ${h.scenario.path}`);
    out(`# seed: ${h.seed}`);
    for (const d of h.devices) out(`# device ${d.index}: ${d.id} ${d.type} ${d.bdf}`);
    out('# "#< REPLY" after a command: the reply the recorded value implies');
    this.cmd('irq_intercept_in ioapic', 'OK');
    for (const e of this.reader.events()) this.event(e);
    this.flush();
    // Let the device work the recording saw after the last access happen too.
    this.clockTo(this.lastTime);
    const r = this.result;
    r.endNs = this.nowNs;
    for (const [v, n] of [...r.msi].sort((a, b) => a[0] - b[0])) out(`#! irq msi-vector ${v} ${n}`);
    for (const [g, n] of [...r.intxRaises].sort((a, b) => a[0] - b[0])) out(`#! irq intx-gsi ${g} ${n}`);
    for (const s of r.skipped.slice(0, 20)) out(`# skipped: ${s}`);
    r.damage = this.reader.damage.map((d) => ({ offset: d.offset, reason: d.reason }));
    return r;
  }

  private event(e: SeqEvent): void {
    if (e.time > this.lastTime) this.lastTime = e.time;
    switch (e.kind) {
      case 'cfg': case 'mmio': case 'pio':
        if (e.dev < 0) return;
        this.flush();
        this.current = e;
        return;
      case 'dma':
        if (!e.write && e.dev >= 0 && e.missing === undefined) this.reads.push(e);
        return;
      case 'msi':
        if (e.dev >= 0) this.result.msi.set(e.vector, (this.result.msi.get(e.vector) ?? 0) + 1);
        return;
      case 'intx': {
        if (e.dev < 0) return;
        // Line raises (wired-OR of the devices driving the pin), as an interrupt controller sees them.
        const key = `${e.gsi}`;
        const before = this.intxLevel.get(key) ?? 0;
        const after = Math.max(0, before + (e.level ? 1 : -1));
        this.intxLevel.set(key, after);
        if (before === 0 && after > 0) this.result.intxRaises.set(e.gsi, (this.result.intxRaises.get(e.gsi) ?? 0) + 1);
        return;
      }
      default:
    }
  }

  private cmd(text: string, expect?: string): void {
    this.o.line(text);
    this.result.commands++;
    if (expect !== undefined) {
      this.o.line(`#< ${expect}`);
      this.result.checks++;
    }
  }

  private clockTo(timePs: number): void {
    const ns = Math.ceil(timePs / 1000);
    if (ns <= this.nowNs) return;
    const step = ns - this.nowNs;
    this.nowNs = ns;
    this.cmd(`clock_step ${step}`, `OK ${ns}`);
  }

  /** Writes out the pending access with the memory its stretch of device reads needs. */
  private flush(): void {
    const e = this.current;
    const reads = this.reads;
    this.current = undefined;
    this.reads = [];
    if (e !== undefined) this.clockTo(e.time);
    const late: Dma[] = [];
    const loaded: Dma[] = [];
    for (const r of reads) {
      if (loaded.some((x) => overlaps(x, r) && !sameBytesWhereOverlapping(x, r))) late.push(r);
      else this.load(r);
      loaded.push(r);
    }
    if (e !== undefined) this.access(e);
    for (const r of late) {
      this.result.lateLoads++;
      // Just before it was read: every device step before that time has run.
      const ns = Math.floor((r.time - 1) / 1000);
      if (ns > this.nowNs) this.clockTo(ns * 1000);
      this.load(r);
    }
  }

  private load(r: Dma): void {
    const data = r.data;
    this.result.loads++;
    this.result.loadBytes += data.length;
    if (data.length === 0) return;
    this.cmd(`b64write 0x${r.addr.toString(16)} ${data.length} ${Buffer.from(data.buffer, data.byteOffset, data.length).toString('base64')}`);
  }

  private access(e: SeqEvent): void {
    if (e.kind === 'pio') {
      const sfx = suffix(e.size);
      if (e.write) this.cmd(`out${sfx} 0x${e.port.toString(16)} 0x${e.value.toString(16)}`);
      else this.cmd(`in${sfx} 0x${e.port.toString(16)}`, portReply(e.value));
      return;
    }
    if (e.kind !== 'cfg' && e.kind !== 'mmio') return;
    const d = this.devs[e.dev];
    if (d === undefined) { this.result.skipped.push(`record ${e.seq}: device ${e.dev} has no PCI address in the header`); return; }
    if (e.kind === 'cfg') {
      this.trackBars(d, e.write, e.offset, e.size, e.value);
      if (e.offset >= 0x100) {
        const addr = this.o.ecamBase + ((d.bdf.bus << 20) | (d.bdf.device << 15) | (d.bdf.fn << 12)) + e.offset;
        this.memAccess(e.write, addr, e.size, e.value);
        return;
      }
      const ca = (0x80000000 | (d.bdf.bus << 16) | (d.bdf.device << 11) | (d.bdf.fn << 8) | (e.offset & 0xfc)) >>> 0;
      if (this.cf8 !== ca) {
        this.cmd(`outl 0xcf8 0x${ca.toString(16)}`);
        this.cf8 = ca;
      }
      const port = 0xcfc + (e.offset & 3);
      const sfx = suffix(e.size);
      if (e.write) this.cmd(`out${sfx} 0x${port.toString(16)} 0x${e.value.toString(16)}`);
      else this.cmd(`in${sfx} 0x${port.toString(16)}`, portReply(e.value));
      return;
    }
    if (e.kind === 'mmio') {
      const base = barBase(d, e.bar);
      if (base === undefined) {
        this.result.skipped.push(`record ${e.seq}: MMIO ${e.write ? 'write' : 'read'} at BAR${e.bar}+0x${e.offset.toString(16)} before the BAR was assigned`);
        return;
      }
      this.memAccess(e.write, base + e.offset, e.size, e.value);
    }
  }

  private memAccess(write: boolean, addr: number, size: number, value: number): void {
    const sfx = suffix(size);
    if (write) this.cmd(`write${sfx} 0x${addr.toString(16)} 0x${(value >>> 0).toString(16)}`);
    else this.cmd(`read${sfx} 0x${addr.toString(16)}`, `OK 0x${(value >>> 0).toString(16).padStart(16, '0')}`);
  }

  /** Follows the BAR registers through config writes (any width) and their type bits through reads. */
  private trackBars(d: DevState, write: boolean, offset: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const off = offset + i;
      if (off < 0x10 || off >= 0x28) continue;
      const bar = (off - 0x10) >> 2;
      const shift = 8 * ((off - 0x10) & 3);
      const byte = (value >>> (8 * i)) & 0xff;
      if (write) d.bars[bar] = ((d.bars[bar]! & ~(0xff << shift)) | (byte << shift)) >>> 0;
      else if (shift === 0) d.barBits[bar] = byte & 0xf;
    }
  }
}

function barBase(d: DevState, bar: number): number | undefined {
  const lo = d.bars[bar];
  if (lo === undefined) return undefined;
  const bits = d.barBits[bar]!;
  if ((bits & 1) !== 0) return (lo & ~3) >>> 0;
  let base = (lo & ~0xf) >>> 0;
  if (((bits >> 1) & 3) === 2) base += (d.bars[bar + 1] ?? 0) * TWO32;
  return base === 0 ? undefined : base;
}

function suffix(size: number): string {
  return size === 1 ? 'b' : size === 2 ? 'w' : size === 4 ? 'l' : 'q';
}

function portReply(v: number): string {
  return `OK 0x${(v >>> 0).toString(16).padStart(4, '0')}`;
}

function overlaps(a: Dma, b: Dma): boolean {
  return a.addr < b.addr + b.data.length && b.addr < a.addr + a.data.length;
}

function sameBytesWhereOverlapping(a: Dma, b: Dma): boolean {
  const lo = Math.max(a.addr, b.addr);
  const hi = Math.min(a.addr + a.data.length, b.addr + b.data.length);
  for (let p = lo; p < hi; p++) if (a.data[p - a.addr] !== b.data[p - b.addr]) return false;
  return true;
}

/**
 * Writes the script of `trace` to `out` (a file path). Returns the summary;
 * a damaged trace still gives the script of its intact chunks, with the
 * damage listed in the result.
 */
export function runExportQtest(trace: TraceSource, out: string, o: Omit<ExportQtestOptions, 'line'>): ExportQtestResult {
  const reader = openTrace(trace);
  const fd = openSync(out, 'w');
  let buf: string[] = [];
  let size = 0;
  const flush = (): void => {
    if (buf.length === 0) return;
    writeSync(fd, `${buf.join('\n')}\n`);
    buf = [];
    size = 0;
  };
  try {
    const w = new QtestScriptWriter(reader, {
      ...o,
      line: (t) => {
        buf.push(t);
        size += t.length;
        if (size > 1 << 20) flush();
      },
    });
    const r = w.run();
    flush();
    return r;
  } finally {
    closeSync(fd);
  }
}
