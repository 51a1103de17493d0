/**
 * Test harness for the virtio PCI models: a real EventQueue, PhysMem, IRQ
 * fabric and PciFunction (config space, BAR decode, MSI-X table), a
 * MemoryTracer, and a small virtio "driver" written here from the spec
 * (its own constants, not the model's): capability walk, the status
 * handshake, split virtqueues in guest RAM, notifications, used ring reaping
 * and virtio-blk requests.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { IrqFabric } from '../../../src/sim/irq.js';
import { PhysMem } from '../../../src/sim/memory.js';
import { DmaPort } from '../../../src/sim/dma.js';
import { Rng } from '../../../src/sim/rng.js';
import { validateProps } from '../../../src/sim/props.js';
import { MemoryTracer, type TraceEvent } from '../../../src/sim/tracer.js';
import type { DeviceContext } from '../../../src/devices/device.js';
import { PciFunction } from '../../../src/devices/pci/function.js';
import { virtioBlkFactory, type VirtioBlk } from '../../../src/devices/virtio/blk/index.js';

// ---- The driver's own definitions (virtio 1.2) ----
export const V = {
  ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 0x40, FAILED: 0x80,
  F_INDIRECT: 28, F_EVENT_IDX: 29, F_VERSION_1: 32, F_RING_RESET: 40,
  BLK_F_SIZE_MAX: 1, BLK_F_SEG_MAX: 2, BLK_F_RO: 5, BLK_F_BLK_SIZE: 6, BLK_F_FLUSH: 9, BLK_F_MQ: 12, BLK_F_DISCARD: 13, BLK_F_WRITE_ZEROES: 14,
  NO_VECTOR: 0xffff,
  // common configuration offsets
  DFSEL: 0x00, DF: 0x04, GFSEL: 0x08, GF: 0x0c, MSIX_CONFIG: 0x10, NUM_QUEUES: 0x12, STATUS: 0x14, GENERATION: 0x15,
  Q_SELECT: 0x16, Q_SIZE: 0x18, Q_MSIX: 0x1a, Q_ENABLE: 0x1c, Q_NOTIFY_OFF: 0x1e, Q_DESC: 0x20, Q_DRIVER: 0x28, Q_DEVICE: 0x30,
  Q_NOTIFY_DATA: 0x38, Q_RESET: 0x3a,
  DESC_NEXT: 1, DESC_WRITE: 2, DESC_INDIRECT: 4,
  T_IN: 0, T_OUT: 1, T_FLUSH: 4, T_GET_ID: 8, T_DISCARD: 11, T_WRITE_ZEROES: 13,
  S_OK: 0, S_IOERR: 1, S_UNSUPP: 2,
} as const;

let tmpDir: string | undefined;
let imageCount = 0;

export function tempDir(): string {
  if (tmpDir === undefined) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrun-virtio-'));
  return tmpDir;
}

/** Byte `i` of sector `s` in the test images. */
export function pattern(s: number, i: number): number {
  return (s * 13 + i * 5 + (i >> 8)) & 0xff;
}

export function makeImage(sectors: number): string {
  const file = `vblk-${imageCount++}-${sectors}.img`;
  const buf = new Uint8Array(sectors * 512);
  for (let s = 0; s < sectors; s++) for (let i = 0; i < 512; i++) buf[s * 512 + i] = pattern(s, i);
  fs.writeFileSync(path.join(tempDir(), file), buf);
  return file;
}

export function expectedSectors(s: number, n: number): Uint8Array {
  const out = new Uint8Array(n * 512);
  for (let k = 0; k < n; k++) for (let i = 0; i < 512; i++) out[k * 512 + i] = pattern(s + k, i);
  return out;
}

export interface Cap {
  at: number;
  id: number;
  type: number;
  bar: number;
  offset: number;
  length: number;
  len: number;
}

export interface Buf {
  addr: number;
  len: number;
  write: boolean;
}

export interface Used {
  id: number;
  len: number;
}

const MSIX_ADDR = 0xfee0_0000;
const BAR1_BASE = 0xd000_0000;
const BAR4_BASE = 0xd010_0000;
/** MSI-X entry i is programmed to deliver CPU vector VEC_BASE + i. */
export const VEC_BASE = 0x40;

export class DriverQueue {
  availIdx = 0;
  lastUsed = 0;
  private free: number[] = [];
  /** Descriptors of each outstanding chain, by head, freed when the chain is reaped. */
  private chains = new Map<number, number[]>();
  constructor(
    readonly h: Harness,
    readonly index: number,
    readonly size: number,
    readonly desc: number,
    readonly avail: number,
    readonly used: number,
  ) {
    for (let i = 0; i < size; i++) this.free.push(i);
  }

  writeDesc(table: number, i: number, b: Buf, next: number | undefined, extraFlags = 0): void {
    const a = table + 16 * i;
    this.h.write64(a, b.addr);
    this.h.view.setUint32(a + 8, b.len, true);
    this.h.view.setUint16(a + 12, (b.write ? V.DESC_WRITE : 0) | (next !== undefined ? V.DESC_NEXT : 0) | extraFlags, true);
    this.h.view.setUint16(a + 14, next ?? 0, true);
  }

  /** Puts a chain in the descriptor table (or an indirect table) and on the available ring; returns the head. */
  add(bufs: Buf[], opts: { indirect?: boolean; publish?: boolean } = {}): number {
    let head: number;
    if (opts.indirect === true) {
      const table = this.h.alloc(16 * bufs.length, 16);
      bufs.forEach((b, i) => this.writeDesc(table, i, b, i + 1 < bufs.length ? i + 1 : undefined));
      head = this.take();
      this.writeDesc(this.desc, head, { addr: table, len: 16 * bufs.length, write: false }, undefined, V.DESC_INDIRECT);
      this.chains.set(head, [head]);
    } else {
      const ids = bufs.map(() => this.take());
      bufs.forEach((b, i) => this.writeDesc(this.desc, ids[i]!, b, ids[i + 1]));
      head = ids[0]!;
      this.chains.set(head, ids);
    }
    this.h.view.setUint16(this.avail + 4 + 2 * (this.availIdx % this.size), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    if (opts.publish !== false) this.publish();
    return head;
  }

  /** Writes avail idx. */
  publish(): void {
    this.h.view.setUint16(this.avail + 2, this.availIdx, true);
  }

  /** Puts `head` on the available ring as is (for malformed chains built by hand). */
  addHead(head: number): void {
    this.h.view.setUint16(this.avail + 4 + 2 * (this.availIdx % this.size), head, true);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.publish();
  }

  private take(): number {
    const i = this.free.shift();
    if (i === undefined) throw new Error(`queue ${this.index}: no free descriptor`);
    return i;
  }

  kick(): void {
    this.h.notify(this.index);
  }

  usedIdx(): number {
    return this.h.view.getUint16(this.used + 2, true);
  }

  availEvent(): number {
    return this.h.view.getUint16(this.used + 4 + 8 * this.size, true);
  }

  setAvailFlags(f: number): void {
    this.h.view.setUint16(this.avail, f, true);
  }

  setUsedEvent(v: number): void {
    this.h.view.setUint16(this.avail + 4 + 2 * this.size, v, true);
  }

  reap(): Used[] {
    const out: Used[] = [];
    const idx = this.usedIdx();
    while (this.lastUsed !== idx) {
      const e = this.used + 4 + 8 * (this.lastUsed % this.size);
      const id = this.h.view.getUint32(e, true);
      out.push({ id, len: this.h.view.getUint32(e + 4, true) });
      const ids = this.chains.get(id);
      if (ids !== undefined) {
        this.chains.delete(id);
        this.free.push(...ids);
      }
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }
}

export interface HarnessOptions {
  props?: Record<string, unknown>;
  sectors?: number;
  seed?: number;
  image?: string;
}

export class Harness {
  readonly queue = new EventQueue();
  readonly tracer = new MemoryTracer();
  readonly mem = new PhysMem(32 << 20);
  readonly irq = new IrqFabric(this.queue, this.tracer);
  readonly delivered: number[] = [];
  fn!: PciFunction;
  dma!: DmaPort;
  readonly dev: VirtioBlk;
  readonly view: DataView;
  readonly image: string;
  readonly queues = new Map<number, DriverQueue>();
  private nextAlloc = 0x10_0000;

  constructor(opts: HarnessOptions = {}) {
    this.image = opts.image ?? makeImage(opts.sectors ?? 2048);
    this.view = this.mem.ramView;
    this.irq.cores = 1;
    this.irq.setSink((_core, vector) => this.delivered.push(vector));
    const ctx: DeviceContext = {
      id: 'vblk0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(opts.seed ?? 1).fork('vblk0'),
      baseDir: tempDir(),
      attachPci: (spec) => {
        this.fn = new PciFunction({
          bdf: { bus: 0, device: 5, fn: 0 }, dev: 0, name: 'vblk0', spec, mem: this.mem, irq: this.irq, queue: this.queue,
          tracer: this.tracer, onFlr: () => this.dev.quiesce(),
        });
        this.dma = new DmaPort(0, 'vblk0', this.mem, this.queue, this.tracer, this.fn);
        return { irq: this.fn, dma: this.dma };
      },
    };
    const props = validateProps(virtioBlkFactory.props, { image: this.image, ...opts.props }, 'vblk0.props');
    this.dev = virtioBlkFactory.create(ctx, props) as VirtioBlk;
    this.fn.assignBar(1, BAR1_BASE);
    this.fn.assignBar(4, BAR4_BASE);
    this.fn.configWrite(0x04, 2, 0x0006); // memory space + bus master
  }

  // ---- config space

  cfg8(off: number): number { return this.fn.configRead(off, 1); }
  cfg16(off: number): number { return this.fn.configRead(off, 2); }
  cfg32(off: number): number { return this.fn.configRead(off, 4); }

  /** Walks the capability list from the Capabilities Pointer. */
  caps(): Cap[] {
    const out: Cap[] = [];
    let at = this.cfg8(0x34) & 0xfc;
    for (let n = 0; at !== 0 && n < 48; n++) {
      out.push({
        at, id: this.cfg8(at), len: this.cfg8(at + 2), type: this.cfg8(at + 3), bar: this.cfg8(at + 4),
        offset: this.cfg32(at + 8), length: this.cfg32(at + 12),
      });
      at = this.cfg8(at + 1) & 0xfc;
    }
    return out;
  }

  virtioCap(type: number): Cap {
    const c = this.caps().find((x) => x.id === 0x09 && x.type === type);
    if (c === undefined) throw new Error(`no virtio capability of type ${type}`);
    return c;
  }

  // ---- BAR access through the decoded windows

  mmioRead(addr: number, size: number): number {
    const w = this.mem.findWindow(addr, size);
    if (w === undefined) throw new Error(`no MMIO window at 0x${addr.toString(16)}`);
    return w.handler.read(addr - w.base, size);
  }

  mmioWrite(addr: number, size: number, value: number): void {
    const w = this.mem.findWindow(addr, size);
    if (w === undefined) throw new Error(`no MMIO window at 0x${addr.toString(16)}`);
    w.handler.write(addr - w.base, size, value >>> 0);
  }

  private structBase(type: number): number {
    const c = this.virtioCap(type);
    const barReg = this.cfg32(0x10 + 4 * c.bar) & ~0xf;
    const hi = (this.cfg32(0x10 + 4 * c.bar) & 0x4) !== 0 ? this.cfg32(0x14 + 4 * c.bar) : 0;
    return hi * 0x1_0000_0000 + (barReg >>> 0) + c.offset;
  }

  get common(): number { return this.structBase(1); }
  get isrAddr(): number { return this.structBase(3); }
  get deviceCfg(): number { return this.structBase(4); }

  c8(off: number): number { return this.mmioRead(this.common + off, 1); }
  c16(off: number): number { return this.mmioRead(this.common + off, 2); }
  c32(off: number): number { return this.mmioRead(this.common + off, 4); }
  w8(off: number, v: number): void { this.mmioWrite(this.common + off, 1, v); }
  w16(off: number, v: number): void { this.mmioWrite(this.common + off, 2, v); }
  w32(off: number, v: number): void { this.mmioWrite(this.common + off, 4, v); }
  w64(off: number, v: number): void {
    this.w32(off, v % 0x1_0000_0000);
    this.w32(off + 4, Math.floor(v / 0x1_0000_0000));
  }
  status(): number { return this.c8(V.STATUS); }
  setStatus(v: number): void { this.w8(V.STATUS, v); }
  readIsr(): number { return this.mmioRead(this.isrAddr, 1); }
  devCfg32(off: number): number { return this.mmioRead(this.deviceCfg + off, 4); }

  notify(q: number): void {
    const c = this.virtioCap(2);
    const mult = this.cfg32(c.at + 16);
    this.w16(V.Q_SELECT, q);
    const off = this.c16(V.Q_NOTIFY_OFF);
    this.mmioWrite(this.structBase(2) + off * mult, 2, q);
  }

  /** Device feature bits 0..63 as a bigint (test convenience, not on a hot path). */
  deviceFeatures(): bigint {
    this.w32(V.DFSEL, 0);
    const lo = this.c32(V.DF);
    this.w32(V.DFSEL, 1);
    const hi = this.c32(V.DF);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  writeDriverFeatures(f: bigint): void {
    this.w32(V.GFSEL, 0);
    this.w32(V.GF, Number(f & 0xffffffffn));
    this.w32(V.GFSEL, 1);
    this.w32(V.GF, Number((f >> 32n) & 0xffffffffn));
  }

  // ---- MSI-X

  /** Enables MSI-X in config space and programs + unmasks every table entry. */
  enableMsix(): void {
    const cap = this.caps().find((c) => c.id === 0x11)!;
    const ctrl = this.cfg16(cap.at + 2);
    const n = (ctrl & 0x7ff) + 1;
    const table = this.cfg32(cap.at + 4);
    const base = ((this.cfg32(0x10 + 4 * (table & 7)) & ~0xf) >>> 0) + ((table & ~7) >>> 0);
    for (let i = 0; i < n; i++) {
      this.mmioWrite(base + 16 * i, 4, MSIX_ADDR);
      this.mmioWrite(base + 16 * i + 4, 4, 0);
      this.mmioWrite(base + 16 * i + 8, 4, VEC_BASE + i);
      this.mmioWrite(base + 16 * i + 12, 4, 0);
    }
    this.fn.configWrite(cap.at + 2, 2, ctrl | 0x8000);
  }

  // ---- time and memory

  settle(max = 1_000_000): void {
    for (let i = 0; i < max && this.queue.step(); i++);
  }

  alloc(bytes: number, align = 4096): number {
    const base = Math.ceil(this.nextAlloc / align) * align;
    this.nextAlloc = base + Math.max(bytes, 1);
    this.mem.markDma(base, Math.max(bytes, 1), true);
    return base;
  }

  write64(addr: number, v: number): void {
    this.view.setUint32(addr, v % 0x1_0000_0000, true);
    this.view.setUint32(addr + 4, Math.floor(v / 0x1_0000_0000), true);
  }

  bytes(addr: number, len: number): Uint8Array {
    return this.mem.ram.slice(addr, addr + len);
  }

  // ---- trace

  guestErrs(prefix = ''): Array<Extract<TraceEvent, { kind: 'guestErr' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'guestErr' }> => e.kind === 'guestErr' && e.code.startsWith(prefix));
  }

  codes(prefix = ''): string[] {
    return this.guestErrs(prefix).map((e) => e.code);
  }

  dmaTags(): string[] {
    return this.tracer.events.flatMap((e) => (e.kind === 'dma' ? [e.tag] : []));
  }

  // ---- driver

  /**
   * The initialization sequence of 3.1.1: reset, ACKNOWLEDGE, DRIVER,
   * features (default: everything offered), FEATURES_OK (checked), queues,
   * DRIVER_OK. `msix` programs vectors (queue q -> entry q + 1, config -> 0).
   */
  init(opts: { features?: bigint; drop?: number[]; queues?: number; queueSize?: number; msix?: boolean } = {}): void {
    this.setStatus(0);
    if (this.status() !== 0) throw new Error('device did not reset');
    this.setStatus(V.ACK);
    this.setStatus(V.ACK | V.DRIVER);
    let f = opts.features ?? this.deviceFeatures();
    for (const b of opts.drop ?? []) f &= ~(1n << BigInt(b));
    this.writeDriverFeatures(f);
    this.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK);
    if ((this.status() & V.FEATURES_OK) === 0) throw new Error('FEATURES_OK refused');
    if (opts.msix === true) {
      this.enableMsix();
      this.w16(V.MSIX_CONFIG, 0);
    }
    const nq = opts.queues ?? 1;
    for (let q = 0; q < nq; q++) this.setupQueue(q, opts.queueSize, opts.msix === true ? q + 1 : undefined);
    this.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK | V.DRIVER_OK);
  }

  setupQueue(q: number, size?: number, vector?: number): DriverQueue {
    this.w16(V.Q_SELECT, q);
    const n = size ?? this.c16(V.Q_SIZE);
    this.w16(V.Q_SIZE, n);
    const desc = this.alloc(16 * n, 16);
    const avail = this.alloc(6 + 2 * n, 2);
    const used = this.alloc(6 + 8 * n, 4);
    this.w64(V.Q_DESC, desc);
    this.w64(V.Q_DRIVER, avail);
    this.w64(V.Q_DEVICE, used);
    if (vector !== undefined) this.w16(V.Q_MSIX, vector);
    this.w16(V.Q_ENABLE, 1);
    const dq = new DriverQueue(this, q, n, desc, avail, used);
    this.queues.set(q, dq);
    return dq;
  }

  q(i = 0): DriverQueue {
    const dq = this.queues.get(i);
    if (dq === undefined) throw new Error(`queue ${i} not set up`);
    return dq;
  }

  // ---- virtio-blk requests

  /**
   * Builds a block request: header (type, sector), data buffers (device-
   * writable for reads), a status byte. Returns its buffers; `status()`
   * reads the status byte.
   */
  blkRequest(type: number, sector: number, data: { out?: Uint8Array; inLen?: number; split?: number } = {}): BlkReq {
    const hdr = this.alloc(16, 16);
    this.view.setUint32(hdr, type, true);
    this.view.setUint32(hdr + 4, 0, true);
    this.write64(hdr + 8, sector);
    const bufs: Buf[] = [{ addr: hdr, len: 16, write: false }];
    let dataAddr = 0;
    let dataLen = 0;
    if (data.out !== undefined) {
      dataLen = data.out.length;
      dataAddr = this.alloc(dataLen);
      this.mem.ram.set(data.out, dataAddr);
      bufs.push(...this.pieces(dataAddr, dataLen, false, data.split));
    } else if (data.inLen !== undefined && data.inLen > 0) {
      dataLen = data.inLen;
      dataAddr = this.alloc(dataLen);
      this.mem.ram.fill(0xee, dataAddr, dataAddr + dataLen);
      bufs.push(...this.pieces(dataAddr, dataLen, true, data.split));
    }
    const st = this.alloc(1, 1);
    this.mem.ram[st] = 0xff;
    bufs.push({ addr: st, len: 1, write: true });
    return new BlkReq(this, bufs, dataAddr, dataLen, st);
  }

  private pieces(addr: number, len: number, write: boolean, split?: number): Buf[] {
    if (split === undefined) return [{ addr, len, write }];
    const out: Buf[] = [];
    for (let o = 0; o < len; o += split) out.push({ addr: addr + o, len: Math.min(split, len - o), write });
    return out;
  }

  /** Submits `r` on queue `q`, notifies, runs to idle, and returns its used element. */
  exec(r: BlkReq, q = 0, opts: { indirect?: boolean } = {}): Used {
    const head = this.q(q).add(r.bufs, opts);
    this.q(q).kick();
    this.settle();
    const used = this.q(q).reap();
    const mine = used.find((u) => u.id === head);
    if (mine === undefined) throw new Error(`request head ${head} not returned (used: ${JSON.stringify(used)})`);
    return mine;
  }
}

export class BlkReq {
  constructor(readonly h: Harness, readonly bufs: Buf[], readonly dataAddr: number, readonly dataLen: number, readonly statusAddr: number) {}
  status(): number {
    return this.h.mem.ram[this.statusAddr]!;
  }
  data(): Uint8Array {
    return this.h.bytes(this.dataAddr, this.dataLen);
  }
}
