/**
 * Test harness for the AHCI model: a real EventQueue, PhysMem and DmaPort
 * (with a bus-master gate the test controls), a MemoryTracer, and a fake
 * attachPci. A small "driver" sets up a port's command list and FIS area,
 * builds command headers, command FISes and PRD tables in guest RAM, and
 * issues commands through PxCI / PxSACT.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { PhysMem, type MmioHandler } from '../../../src/sim/memory.js';
import { DmaPort } from '../../../src/sim/dma.js';
import { Rng } from '../../../src/sim/rng.js';
import { us, type Duration } from '../../../src/sim/time.js';
import { validateProps } from '../../../src/sim/props.js';
import { MemoryTracer, type TraceEvent } from '../../../src/sim/tracer.js';
import type { DeviceContext } from '../../../src/devices/device.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import { AhciHba, ahciFactory } from '../../../src/devices/ahci/index.js';
import { FakeIrq } from '../fake-irq.js';

let tmpDir: string | undefined;
let imageCount = 0;

export function tempDir(): string {
  if (tmpDir === undefined) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrun-ahci-'));
  return tmpDir;
}

/** Byte `i` of sector `lba` in the test images. */
export function pattern(lba: number, i: number): number {
  return (lba * 13 + i * 5 + (i >> 8)) & 0xff;
}

export function makeImage(sectors: number): string {
  const file = `ahci-${imageCount++}-${sectors}.img`;
  const buf = new Uint8Array(sectors * 512);
  for (let b = 0; b < sectors; b++) for (let i = 0; i < 512; i++) buf[b * 512 + i] = pattern(b, i);
  fs.writeFileSync(path.join(tempDir(), file), buf);
  return file;
}

export function expectedSectors(lba: number, count: number): Uint8Array {
  const out = new Uint8Array(count * 512);
  for (let b = 0; b < count; b++) for (let i = 0; i < 512; i++) out[b * 512 + i] = pattern(lba + b, i);
  return out;
}

// Register offsets used by tests (the tests keep their own, as a driver would).
export const CAP = 0x00, GHC = 0x04, IS = 0x08, PI = 0x0c, VS = 0x10, CAP2 = 0x24, BOHC = 0x28;
export const PxCLB = 0x00, PxCLBU = 0x04, PxFB = 0x08, PxFBU = 0x0c, PxIS = 0x10, PxIE = 0x14, PxCMD = 0x18, PxTFD = 0x20,
  PxSIG = 0x24, PxSSTS = 0x28, PxSCTL = 0x2c, PxSERR = 0x30, PxSACT = 0x34, PxCI = 0x38;

export interface Prd { addr: number; bytes: number; irq?: boolean; dbc?: number }

export interface CmdOpts {
  /** ATA command. */
  cmd: number;
  lba?: number;
  /** Count field (sectors for DMA EXT; for FPDMA the tag goes in bits 7:3 automatically). */
  count?: number;
  features?: number;
  write?: boolean;
  prds?: Prd[];
  /** CFIS type byte (default 0x27). */
  fisType?: number;
  cfl?: number;
  /** Extra bits added to CTBA (to test alignment). */
  ctbaOffset?: number;
  /** Tag for FPDMA commands (default: the slot). */
  tag?: number;
}

export interface HarnessOptions {
  props?: Record<string, unknown>;
  sectors?: number;
  seed?: number;
  mode?: 'msi' | 'intx';
  hostileTiming?: boolean;
}

const RAM = 32 << 20;

export class Harness {
  readonly queue = new EventQueue();
  readonly mem = new PhysMem(RAM);
  readonly tracer = new MemoryTracer();
  readonly gate = { busMaster: true };
  readonly irq = new FakeIrq(this.gate, () => this.queue.now);
  readonly dma: DmaPort;
  readonly dev: AhciHba;
  spec!: PciFunctionSpec;
  readonly bar: MmioHandler;
  readonly image: string;
  readonly sectors: number;
  private nextAlloc = 0x10_0000;
  /** Per port: command list, FIS area, and 32 command tables (4 KiB each). */
  readonly clb: number[] = [];
  readonly fb: number[] = [];
  readonly ct: number[][] = [];

  constructor(opts: HarnessOptions = {}) {
    this.sectors = opts.sectors ?? 4096;
    this.image = makeImage(this.sectors);
    this.irq.mode = opts.mode ?? 'msi';
    this.dma = new DmaPort(0, 'ahci0', this.mem, this.queue, this.tracer, this.gate);
    const ctx: DeviceContext = {
      id: 'ahci0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(opts.seed ?? 1).fork('ahci0'),
      baseDir: tempDir(),
      hostileTiming: opts.hostileTiming,
      attachPci: (spec) => {
        this.spec = spec;
        return { irq: this.irq, dma: this.dma };
      },
    };
    const props = validateProps(ahciFactory.props, { disks: this.image, ...opts.props }, 'ahci0.props');
    this.dev = ahciFactory.create(ctx, props) as AhciHba;
    this.bar = this.spec.bars[0]!.handler;
  }

  r32(off: number): number { return this.bar.read(off, 4); }
  w32(off: number, v: number): void { this.bar.write(off, 4, v >>> 0); }
  pr(port: number, reg: number): number { return this.r32(0x100 + port * 0x80 + reg); }
  pw(port: number, reg: number, v: number): void { this.w32(0x100 + port * 0x80 + reg, v); }

  get now(): number { return this.queue.now; }
  run(d: Duration): void { this.queue.runUntil(this.queue.now + d); }
  runUs(n: number): void { this.run(us(n)); }
  settle(max = 1_000_000): void { for (let i = 0; i < max && this.queue.step(); i++); }

  alloc(bytes: number, align = 4096, dmaOk = true): number {
    const base = Math.ceil(this.nextAlloc / align) * align;
    this.nextAlloc = base + Math.max(bytes, 1);
    if (this.nextAlloc > RAM) throw new Error('test RAM exhausted');
    if (dmaOk) this.mem.markDma(base, bytes, true);
    return base;
  }
  readMem(addr: number, len: number): Uint8Array { return this.mem.ram.slice(addr, addr + len); }
  u32(addr: number): number { return this.mem.ramView.getUint32(addr, true); }

  events(kind: TraceEvent['kind']): TraceEvent[] { return this.tracer.events.filter((e) => e.kind === kind); }
  guestErrs(prefix = ''): Array<Extract<TraceEvent, { kind: 'guestErr' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'guestErr' }> => e.kind === 'guestErr' && e.code.startsWith(prefix));
  }
  dmaEvents(tag: string): Array<Extract<TraceEvent, { kind: 'dma' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'dma' }> => e.kind === 'dma' && e.tag === tag);
  }

  /** Waits for the power-on link and signature (linkUpDelayUs + 50 us). */
  waitLink(port = 0): void {
    for (let i = 0; i < 100 && this.pr(port, PxSIG) !== 0x101; i++) this.runUs(100);
  }

  /** Allocates and programs the port's command list and FIS area, sets FRE then ST (10.1.2). */
  startPort(port = 0, opts: { ie?: number; ghcIe?: boolean } = {}): void {
    if (this.clb[port] === undefined) {
      this.clb[port] = this.alloc(1024, 1024);
      this.fb[port] = this.alloc(256, 256);
      this.ct[port] = Array.from({ length: 32 }, () => this.alloc(4096, 128));
    }
    this.pw(port, PxCLB, this.clb[port]!);
    this.pw(port, PxCLBU, 0);
    this.pw(port, PxFB, this.fb[port]!);
    this.pw(port, PxFBU, 0);
    this.pw(port, PxSERR, 0xffffffff);
    this.pw(port, PxIS, 0xffffffff);
    this.pw(port, PxIE, opts.ie ?? 0xfdc000ff);
    if (opts.ghcIe ?? true) this.w32(GHC, 0x80000002);
    this.pw(port, PxCMD, 0x10 | 0x6);
    this.pw(port, PxCMD, 0x11 | 0x6);
  }

  /** Writes the command header and table of `slot`; does not issue. */
  build(port: number, slot: number, c: CmdOpts): void {
    const ram = this.mem.ram;
    const v = this.mem.ramView;
    const ct = this.ct[port]![slot]!;
    ram.fill(0, ct, ct + 4096);
    const prds = c.prds ?? [];
    const cfl = c.cfl ?? 5;
    const hdr = this.clb[port]! + slot * 32;
    ram.fill(0, hdr, hdr + 32);
    v.setUint32(hdr, (cfl | (c.write ? 0x40 : 0) | (prds.length << 16)) >>> 0, true);
    v.setUint32(hdr + 8, ct + (c.ctbaOffset ?? 0), true);
    const lba = c.lba ?? 0;
    const fpdma = c.cmd === 0x60 || c.cmd === 0x61;
    ram[ct] = c.fisType ?? 0x27;
    ram[ct + 1] = 0x80;
    ram[ct + 2] = c.cmd;
    const count = c.count ?? 0;
    const features = fpdma ? count : c.features ?? 0;
    ram[ct + 3] = features & 0xff;
    ram[ct + 11] = (features >> 8) & 0xff;
    ram[ct + 4] = lba & 0xff;
    ram[ct + 5] = (lba >>> 8) & 0xff;
    ram[ct + 6] = (lba >>> 16) & 0xff;
    ram[ct + 7] = 0x40;
    ram[ct + 8] = (lba >>> 24) & 0xff;
    ram[ct + 9] = Math.floor(lba / 2 ** 32) & 0xff;
    if (fpdma) {
      ram[ct + 12] = (c.tag ?? slot) << 3;
    } else {
      ram[ct + 12] = count & 0xff;
      ram[ct + 13] = (count >> 8) & 0xff;
    }
    prds.forEach((p, i) => {
      const e = ct + 0x80 + i * 16;
      v.setUint32(e, p.addr, true);
      v.setUint32(e + 12, ((p.dbc ?? p.bytes - 1) | (p.irq ? 0x80000000 : 0)) >>> 0, true);
    });
  }

  /** Builds and issues a command in `slot`; for FPDMA sets PxSACT first. */
  issue(port: number, slot: number, c: CmdOpts): void {
    this.build(port, slot, c);
    if (c.cmd === 0x60 || c.cmd === 0x61) this.pw(port, PxSACT, 1 << slot);
    this.pw(port, PxCI, 1 << slot);
  }

  /** Issues, runs to idle, returns PxTFD. */
  exec(port: number, slot: number, c: CmdOpts): number {
    this.issue(port, slot, c);
    this.settle();
    return this.pr(port, PxTFD);
  }

  /** A buffer and a PRD table entry covering it. */
  buffer(bytes: number, fill = 0xee): { addr: number; prd: Prd } {
    const addr = this.alloc(bytes);
    this.mem.ram.fill(fill, addr, addr + bytes);
    return { addr, prd: { addr, bytes } };
  }

  /** Received FIS area bytes at `off` of the port's FIS area. */
  rfis(port: number, off: number, len: number): Uint8Array {
    return this.readMem(this.fb[port]! + off, len);
  }
}
