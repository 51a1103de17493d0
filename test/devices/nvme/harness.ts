/**
 * Test harness for the NVMe model: a real EventQueue, PhysMem and DmaPort
 * (with a bus-master gate the test controls), a MemoryTracer, and a fake
 * attachPci whose PciInterrupts records MSI/MSI-X messages and INTx levels.
 * A small "driver" builds SQEs in guest RAM, rings doorbells and reaps CQEs.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { PhysMem } from '../../../src/sim/memory.js';
import { DmaPort } from '../../../src/sim/dma.js';
import { Rng } from '../../../src/sim/rng.js';
import { us, type Duration } from '../../../src/sim/time.js';
import { validateProps } from '../../../src/sim/props.js';
import { MemoryTracer, type TraceEvent } from '../../../src/sim/tracer.js';
import type { DeviceContext } from '../../../src/devices/device.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import type { MmioHandler } from '../../../src/sim/memory.js';
import { NvmeController, nvmeFactory } from '../../../src/devices/nvme/index.js';
import { FakeIrq } from '../fake-irq.js';
export { FakeIrq };

let tmpDir: string | undefined;
let imageCount = 0;

/** A per-process temporary directory for disk images. */
export function tempDir(): string {
  if (tmpDir === undefined) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrun-nvme-'));
  return tmpDir;
}

/** Byte `i` of block `lba` in the test images. */
export function pattern(lba: number, i: number): number {
  return (lba * 31 + i * 7 + (i >> 8)) & 0xff;
}

/** Writes an image of `blocks` blocks filled with `pattern`; returns its file name inside tempDir(). */
export function makeImage(blocks: number, lbaSize: number, name?: string): string {
  const file = name ?? `img-${imageCount++}-${blocks}x${lbaSize}.img`;
  const buf = new Uint8Array(blocks * lbaSize);
  for (let b = 0; b < blocks; b++) for (let i = 0; i < lbaSize; i++) buf[b * lbaSize + i] = pattern(b, i);
  fs.writeFileSync(path.join(tempDir(), file), buf);
  return file;
}

export function expectedBlocks(lba: number, count: number, lbaSize: number): Uint8Array {
  const out = new Uint8Array(count * lbaSize);
  for (let b = 0; b < count; b++) for (let i = 0; i < lbaSize; i++) out[b * lbaSize + i] = pattern(lba + b, i);
  return out;
}

export interface Cmd {
  opc: number;
  nsid?: number;
  flags?: number;
  cid?: number;
  prp1?: number;
  prp2?: number;
  cdw10?: number;
  cdw11?: number;
  cdw12?: number;
  cdw13?: number;
  cdw14?: number;
  cdw15?: number;
}

export interface Cqe {
  dw0: number;
  sqhd: number;
  sqid: number;
  cid: number;
  phase: number;
  /** SCT << 8 | SC (no DNR/M). */
  status: number;
  dnr: boolean;
}

export interface QueuePair {
  qid: number;
  sqBase: number;
  sqSize: number;
  sqTail: number;
  cqBase: number;
  cqSize: number;
  cqHead: number;
  phase: number;
}

export interface HarnessOptions {
  props?: Record<string, unknown>;
  blocks?: number;
  lbaSize?: number;
  seed?: number;
  mode?: 'msix' | 'msi' | 'intx';
  /** Use this existing image file (inside tempDir) instead of a fresh one. */
  image?: string;
  /** Guest RAM size (default 32 MiB). */
  ramBytes?: number;
  /** Boundary sanitizers (DeviceContext.sanitize). */
  sanitize?: boolean;
  /** Seeded hostile timing (DeviceContext.hostileTiming). */
  hostileTiming?: boolean;
}

const DEFAULT_RAM = 32 << 20;
const ALLOC_BASE = 0x10_0000;

export class Harness {
  readonly queue = new EventQueue();
  readonly mem: PhysMem;
  readonly tracer = new MemoryTracer();
  readonly gate = { busMaster: true };
  readonly irq = new FakeIrq(this.gate, () => this.queue.now);
  readonly dma: DmaPort;
  readonly dev: NvmeController;
  spec!: PciFunctionSpec;
  readonly bar: MmioHandler;
  readonly image: string;
  readonly lbaSize: number;
  readonly blocks: number;
  admin: QueuePair | undefined;
  readonly io = new Map<number, QueuePair>();
  private nextAlloc = ALLOC_BASE;
  private nextCid = 1;

  constructor(opts: HarnessOptions = {}) {
    this.lbaSize = opts.lbaSize ?? 512;
    this.blocks = opts.blocks ?? 2048;
    this.image = opts.image ?? makeImage(this.blocks, this.lbaSize);
    this.irq.mode = opts.mode ?? 'msix';
    this.mem = new PhysMem(opts.ramBytes ?? DEFAULT_RAM);
    this.dma = new DmaPort(0, 'nvme0', this.mem, this.queue, this.tracer, this.gate);
    const ctx: DeviceContext = {
      id: 'nvme0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(opts.seed ?? 1).fork('nvme0'),
      baseDir: tempDir(),
      sanitize: opts.sanitize,
      hostileTiming: opts.hostileTiming,
      attachPci: (spec) => {
        this.spec = spec;
        return { irq: this.irq, dma: this.dma };
      },
    };
    const props = validateProps(nvmeFactory.props, { image: this.image, lbaSize: this.lbaSize, ...opts.props }, 'nvme0.props');
    this.dev = nvmeFactory.create(ctx, props) as NvmeController;
    this.bar = this.spec.bars[0]!.handler;
  }

  // ---- registers

  r32(off: number): number {
    return this.bar.read(off, 4);
  }
  w32(off: number, v: number): void {
    this.bar.write(off, 4, v >>> 0);
  }
  /** A qword register as the bus splits it: low dword, then high dword. */
  r64(off: number): number {
    return this.r32(off + 4) * 0x1_0000_0000 + this.r32(off);
  }
  w64(off: number, v: number): void {
    this.w32(off, v % 0x1_0000_0000);
    this.w32(off + 4, Math.floor(v / 0x1_0000_0000));
  }
  sqDoorbell(qid: number, v: number): void {
    this.w32(0x1000 + 8 * qid, v);
  }
  cqDoorbell(qid: number, v: number): void {
    this.w32(0x1000 + 8 * qid + 4, v);
  }

  // ---- time

  get now(): number {
    return this.queue.now;
  }
  run(d: Duration): void {
    this.queue.runUntil(this.queue.now + d);
  }
  runUs(n: number): void {
    this.run(us(n));
  }
  /** Runs events until none is pending (bounded). */
  settle(max = 1_000_000): void {
    for (let i = 0; i < max && this.queue.step(); i++);
  }

  // ---- memory

  /** Allocates guest RAM (page aligned by default) and marks it DMA-able. */
  alloc(bytes: number, align = 4096, dma = true): number {
    const base = Math.ceil(this.nextAlloc / align) * align;
    this.nextAlloc = base + Math.max(bytes, 1);
    if (this.nextAlloc > this.mem.ramBytes) throw new Error('test RAM exhausted');
    if (dma) this.mem.markDma(base, bytes, true);
    return base;
  }
  write(addr: number, data: Uint8Array): void {
    this.mem.ram.set(data, addr);
  }
  readMem(addr: number, len: number): Uint8Array {
    return this.mem.ram.slice(addr, addr + len);
  }
  write64(addr: number, v: number): void {
    this.mem.ramView.setUint32(addr, v % 0x1_0000_0000, true);
    this.mem.ramView.setUint32(addr + 4, Math.floor(v / 0x1_0000_0000), true);
  }

  // ---- trace

  events(kind: TraceEvent['kind']): TraceEvent[] {
    return this.tracer.events.filter((e) => e.kind === kind);
  }
  guestErrs(prefix = ''): Array<Extract<TraceEvent, { kind: 'guestErr' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'guestErr' }> =>
      e.kind === 'guestErr' && e.code.startsWith(prefix));
  }
  milestones(name?: string): Array<Extract<TraceEvent, { kind: 'milestone' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'milestone' }> =>
      e.kind === 'milestone' && (name === undefined || e.name === name));
  }
  dmaEvents(tag: string): Array<Extract<TraceEvent, { kind: 'dma' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'dma' }> => e.kind === 'dma' && e.tag === tag);
  }

  // ---- mini driver

  /** Programs the admin queues and CC, sets EN, runs until CSTS.RDY. */
  enable(opts: { sq?: number; cq?: number; mps?: number; cc?: number } = {}): void {
    const sq = opts.sq ?? 32;
    const cq = opts.cq ?? 32;
    const page = 4096 << (opts.mps ?? 0);
    const sqBase = this.alloc(sq * 64, page);
    const cqBase = this.alloc(cq * 16, page);
    this.admin = { qid: 0, sqBase, sqSize: sq, sqTail: 0, cqBase, cqSize: cq, cqHead: 0, phase: 1 };
    this.w32(0x24, ((cq - 1) << 16) | (sq - 1));
    this.w64(0x28, sqBase);
    this.w64(0x30, cqBase);
    this.w32(0x14, opts.cc ?? ((4 << 20) | (6 << 16) | ((opts.mps ?? 0) << 7) | 1));
    this.settle();
    if ((this.r32(0x1c) & 1) !== 1) throw new Error(`controller did not become ready: CSTS=${this.r32(0x1c).toString(16)}`);
  }

  pair(qid: number): QueuePair {
    const p = qid === 0 ? this.admin : this.io.get(qid);
    if (p === undefined) throw new Error(`no queue ${qid}`);
    return p;
  }

  /** Writes a command into SQ `qid` at the driver's tail (no doorbell); returns its CID. */
  submit(qid: number, c: Cmd): number {
    const p = this.pair(qid);
    const cid = c.cid ?? (this.nextCid++ & 0xffff);
    const a = p.sqBase + p.sqTail * 64;
    const v = this.mem.ramView;
    this.mem.ram.fill(0, a, a + 64);
    v.setUint8(a, c.opc);
    v.setUint8(a + 1, c.flags ?? 0);
    v.setUint16(a + 2, cid, true);
    v.setUint32(a + 4, c.nsid ?? 0, true);
    this.write64(a + 24, c.prp1 ?? 0);
    this.write64(a + 32, c.prp2 ?? 0);
    const dws = [c.cdw10, c.cdw11, c.cdw12, c.cdw13, c.cdw14, c.cdw15];
    for (let i = 0; i < 6; i++) v.setUint32(a + 40 + i * 4, (dws[i] ?? 0) >>> 0, true);
    p.sqTail = (p.sqTail + 1) % p.sqSize;
    return cid;
  }

  ring(qid: number): void {
    this.sqDoorbell(qid, this.pair(qid).sqTail);
  }

  /** Reads every new CQE of CQ `qid`; rings the CQ head doorbell unless `ack` is false. */
  reap(qid: number, ack = true): Cqe[] {
    const p = this.pair(qid);
    const out: Cqe[] = [];
    const v = this.mem.ramView;
    for (;;) {
      const a = p.cqBase + p.cqHead * 16;
      const dw3 = v.getUint32(a + 12, true);
      if (((dw3 >>> 16) & 1) !== p.phase) break;
      const dw2 = v.getUint32(a + 8, true);
      const st = dw3 >>> 17;
      out.push({
        dw0: v.getUint32(a, true), sqhd: dw2 & 0xffff, sqid: dw2 >>> 16, cid: dw3 & 0xffff,
        phase: (dw3 >>> 16) & 1, status: st & 0x7ff, dnr: (st & 0x4000) !== 0,
      });
      p.cqHead++;
      if (p.cqHead === p.cqSize) {
        p.cqHead = 0;
        p.phase ^= 1;
      }
      if (out.length > p.cqSize) throw new Error('CQ reaping ran away');
    }
    if (ack && out.length > 0) this.cqDoorbell(qid, p.cqHead);
    return out;
  }

  /** Submits, rings, runs to idle and returns the command's completion. */
  exec(qid: number, c: Cmd): Cqe {
    const cid = this.submit(qid, c);
    this.ring(qid);
    this.settle();
    const cqes = this.reap(qid);
    const mine = cqes.find((e) => e.cid === cid);
    if (mine === undefined) throw new Error(`no completion for cid ${cid} on queue ${qid} (got ${JSON.stringify(cqes)})`);
    return mine;
  }

  /** Creates I/O CQ and SQ `qid` with the given sizes; asserts success. */
  createIoPair(qid: number, opts: { sq?: number; cq?: number; iv?: number; ien?: boolean; cqid?: number } = {}): QueuePair {
    const sq = opts.sq ?? 64;
    const cq = opts.cq ?? 64;
    const cqBase = this.alloc(cq * 16);
    const sqBase = this.alloc(sq * 64);
    const ien = opts.ien ?? true;
    const iv = opts.iv ?? (this.irq.mode === 'intx' ? 0 : qid);
    const r1 = this.exec(0, { opc: 0x05, prp1: cqBase, cdw10: ((cq - 1) << 16) | qid, cdw11: (iv << 16) | ((ien ? 1 : 0) << 1) | 1 });
    if (r1.status !== 0) throw new Error(`create CQ ${qid} failed: 0x${r1.status.toString(16)}`);
    const r2 = this.exec(0, { opc: 0x01, prp1: sqBase, cdw10: ((sq - 1) << 16) | qid, cdw11: (qid << 16) | 1 });
    if (r2.status !== 0) throw new Error(`create SQ ${qid} failed: 0x${r2.status.toString(16)}`);
    const p: QueuePair = { qid, sqBase, sqSize: sq, sqTail: 0, cqBase, cqSize: cq, cqHead: 0, phase: 1 };
    this.io.set(qid, p);
    return p;
  }

  /** A Read or Write command on namespace 1. */
  rw(write: boolean, slba: number, nlb: number, prp1: number, prp2 = 0): Cmd {
    return {
      opc: write ? 0x01 : 0x02, nsid: 1, prp1, prp2,
      cdw10: slba % 0x1_0000_0000, cdw11: Math.floor(slba / 0x1_0000_0000), cdw12: nlb - 1,
    };
  }
}

/** Status values (SCT << 8 | SC) for assertions. */
export const S = {
  SUCCESS: 0x000,
  INVALID_OPCODE: 0x001,
  INVALID_FIELD: 0x002,
  DATA_TRANSFER_ERROR: 0x004,
  ABORT_REQUESTED: 0x007,
  ABORTED_SQ_DELETION: 0x008,
  INVALID_NAMESPACE: 0x00b,
  COMMAND_SEQUENCE_ERROR: 0x00c,
  PRP_OFFSET_INVALID: 0x013,
  LBA_OUT_OF_RANGE: 0x080,
  CQ_INVALID: 0x100,
  INVALID_QID: 0x101,
  INVALID_QSIZE: 0x102,
  AER_LIMIT_EXCEEDED: 0x105,
  INVALID_INTERRUPT_VECTOR: 0x108,
  INVALID_LOG_PAGE: 0x109,
  INVALID_QUEUE_DELETION: 0x10c,
  FEATURE_NOT_SAVEABLE: 0x10d,
  FEATURE_NOT_NS_SPECIFIC: 0x10f,
} as const;
