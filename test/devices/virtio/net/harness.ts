/**
 * Test harness for virtio-net: a real EventQueue, PhysMem, IRQ fabric and
 * PciFunction, a MemoryTracer, the device built by its factory with a
 * network file attached, and a small virtio-net "driver" written here from
 * the spec (its own constants, not the model's): capability walk, status
 * handshake, split virtqueues in guest RAM, receive buffers, transmit
 * chains (virtio_net_hdr + frame), control commands.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventQueue } from '../../../../src/sim/event-queue.js';
import { IrqFabric } from '../../../../src/sim/irq.js';
import { PhysMem } from '../../../../src/sim/memory.js';
import { DmaPort } from '../../../../src/sim/dma.js';
import { Rng } from '../../../../src/sim/rng.js';
import { validateProps } from '../../../../src/sim/props.js';
import { MemoryTracer, type TraceEvent } from '../../../../src/sim/tracer.js';
import type { DeviceContext } from '../../../../src/devices/device.js';
import { PciFunction } from '../../../../src/devices/pci/function.js';
import { virtioNetFactory, type VirtioNet } from '../../../../src/devices/virtio/net/index.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const DEFAULT_NET = 'fixtures/networks/default.json';

// ---- The driver's own definitions (virtio 1.2) ----
export const V = {
  ACK: 1, DRIVER: 2, DRIVER_OK: 4, FEATURES_OK: 8, NEEDS_RESET: 0x40,
  F_INDIRECT: 28, F_EVENT_IDX: 29, F_VERSION_1: 32, F_RING_RESET: 40,
  N_CSUM: 0, N_GUEST_CSUM: 1, N_MTU: 3, N_MAC: 5, N_GUEST_TSO4: 7, N_HOST_TSO4: 11, N_MRG_RXBUF: 15, N_STATUS: 16,
  N_CTRL_VQ: 17, N_CTRL_RX: 18, N_MQ: 22, N_CTRL_MAC_ADDR: 23, N_SPEED_DUPLEX: 63,
  HDR_NEEDS_CSUM: 1, HDR_DATA_VALID: 2, GSO_NONE: 0, GSO_TCPV4: 1,
  S_LINK_UP: 1,
  CTRL_RX: 0, CTRL_RX_PROMISC: 0, CTRL_RX_ALLMULTI: 1, CTRL_RX_NOBCAST: 5, CTRL_MAC: 1, CTRL_MAC_TABLE_SET: 0, CTRL_MAC_ADDR_SET: 1,
  CTRL_OK: 0, CTRL_ERR: 1,
  DFSEL: 0x00, DF: 0x04, GFSEL: 0x08, GF: 0x0c, MSIX_CONFIG: 0x10, NUM_QUEUES: 0x12, STATUS: 0x14, GENERATION: 0x15,
  Q_SELECT: 0x16, Q_SIZE: 0x18, Q_MSIX: 0x1a, Q_ENABLE: 0x1c, Q_NOTIFY_OFF: 0x1e, Q_DESC: 0x20, Q_DRIVER: 0x28, Q_DEVICE: 0x30,
  DESC_NEXT: 1, DESC_WRITE: 2, DESC_INDIRECT: 4,
  HDR: 12,
} as const;

export function bit(b: number): bigint {
  return 1n << BigInt(b);
}

export interface Buf { addr: number; len: number; write: boolean }
export interface Used { id: number; len: number }

const MSIX_ADDR = 0xfee0_0000;
const BAR1_BASE = 0xd000_0000;
const BAR4_BASE = 0xd010_0000;
export const VEC_BASE = 0x40;

export class DriverQueue {
  availIdx = 0;
  lastUsed = 0;
  private free: number[] = [];
  private chains = new Map<number, number[]>();
  constructor(readonly h: NetHarness, readonly index: number, readonly size: number, readonly desc: number, readonly avail: number, readonly used: number) {
    for (let i = 0; i < size; i++) this.free.push(i);
  }

  private writeDesc(table: number, i: number, b: Buf, next: number | undefined, extra = 0): void {
    const a = table + 16 * i;
    this.h.write64(a, b.addr);
    this.h.view.setUint32(a + 8, b.len, true);
    this.h.view.setUint16(a + 12, (b.write ? V.DESC_WRITE : 0) | (next !== undefined ? V.DESC_NEXT : 0) | extra, true);
    this.h.view.setUint16(a + 14, next ?? 0, true);
  }

  add(bufs: Buf[], opts: { indirect?: boolean } = {}): number {
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
    this.h.view.setUint16(this.avail + 2, this.availIdx, true);
    return head;
  }

  private take(): number {
    const i = this.free.shift();
    if (i === undefined) throw new Error(`queue ${this.index}: no free descriptor`);
    return i;
  }

  kick(): void {
    this.h.notify(this.index);
  }

  setAvailFlags(f: number): void {
    this.h.view.setUint16(this.avail, f, true);
  }

  setUsedEvent(v: number): void {
    this.h.view.setUint16(this.avail + 4 + 2 * this.size, v, true);
  }

  availEvent(): number {
    return this.h.view.getUint16(this.used + 4 + 8 * this.size, true);
  }

  reap(): Used[] {
    const out: Used[] = [];
    const idx = this.h.view.getUint16(this.used + 2, true);
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

/** A received frame as the driver reads it: header fields and frame bytes (joined across num_buffers buffers). */
export interface RxFrame {
  flags: number;
  gsoType: number;
  numBuffers: number;
  frame: Uint8Array;
  lens: number[];
}

export interface NetHarnessOptions {
  props?: Record<string, unknown>;
  seed?: number;
  /** Network file; '' for none. Default: fixtures/networks/default.json. */
  network?: string;
}

let tmpDir: string | undefined;
export function tempDir(): string {
  if (tmpDir === undefined) tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrun-vnet-'));
  return tmpDir;
}

/** Writes a network file (default.json with `patch` merged at the top level) and returns its absolute path. */
export function networkFile(name: string, patch: Record<string, unknown>): string {
  const base = JSON.parse(fs.readFileSync(path.join(REPO, DEFAULT_NET), 'utf8')) as Record<string, unknown>;
  const file = path.join(tempDir(), `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...base, name, ...patch }));
  return file;
}

export class NetHarness {
  readonly queue = new EventQueue();
  readonly tracer = new MemoryTracer();
  readonly mem = new PhysMem(32 << 20);
  readonly irq = new IrqFabric(this.queue, this.tracer);
  readonly delivered: number[] = [];
  fn!: PciFunction;
  dma!: DmaPort;
  readonly dev: VirtioNet;
  readonly view: DataView;
  readonly queues = new Map<number, DriverQueue>();
  /** RX buffers posted, by head: address and size. */
  readonly rxBufs = new Map<number, { addr: number; len: number }>();
  private nextAlloc = 0x10_0000;

  constructor(opts: NetHarnessOptions = {}) {
    this.view = this.mem.ramView;
    this.irq.cores = 1;
    this.irq.setSink((_core, vector) => this.delivered.push(vector));
    const ctx: DeviceContext = {
      id: 'vnet0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(opts.seed ?? 1).fork('vnet0'),
      baseDir: REPO,
      attachPci: (spec) => {
        this.fn = new PciFunction({
          bdf: { bus: 0, device: 6, fn: 0 }, dev: 0, name: 'vnet0', spec, mem: this.mem, irq: this.irq, queue: this.queue,
          tracer: this.tracer, onFlr: () => this.dev.quiesce(),
        });
        this.dma = new DmaPort(0, 'vnet0', this.mem, this.queue, this.tracer, this.fn);
        return { irq: this.fn, dma: this.dma };
      },
    };
    const props = validateProps(virtioNetFactory.props, { network: opts.network ?? DEFAULT_NET, ...opts.props }, 'vnet0.props');
    this.dev = virtioNetFactory.create(ctx, props) as VirtioNet;
    this.fn.assignBar(1, BAR1_BASE);
    this.fn.assignBar(4, BAR4_BASE);
    this.fn.configWrite(0x04, 2, 0x0006);
  }

  // ---- config space and BARs

  cfg8(off: number): number { return this.fn.configRead(off, 1); }
  cfg16(off: number): number { return this.fn.configRead(off, 2); }
  cfg32(off: number): number { return this.fn.configRead(off, 4); }

  private capAt(type: number): number {
    let at = this.cfg8(0x34) & 0xfc;
    for (let n = 0; at !== 0 && n < 48; n++) {
      if (this.cfg8(at) === 0x09 && this.cfg8(at + 3) === type) return at;
      at = this.cfg8(at + 1) & 0xfc;
    }
    throw new Error(`no virtio capability of type ${type}`);
  }

  private structBase(type: number): number {
    const at = this.capAt(type);
    const bar = this.cfg8(at + 4);
    const lo = this.cfg32(0x10 + 4 * bar);
    const hi = (lo & 0x4) !== 0 ? this.cfg32(0x14 + 4 * bar) : 0;
    return hi * 0x1_0000_0000 + ((lo & ~0xf) >>> 0) + this.cfg32(at + 8);
  }

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
  devCfg(off: number, size: number): number { return this.mmioRead(this.deviceCfg + off, size); }
  mac(): string {
    const b: string[] = [];
    for (let i = 0; i < 6; i++) b.push(this.devCfg(i, 1).toString(16).padStart(2, '0'));
    return b.join(':');
  }

  notify(q: number): void {
    const at = this.capAt(2);
    const mult = this.cfg32(at + 16);
    this.w16(V.Q_SELECT, q);
    const off = this.c16(V.Q_NOTIFY_OFF);
    this.mmioWrite(this.structBase(2) + off * mult, 2, q);
  }

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

  enableMsix(): void {
    let at = this.cfg8(0x34) & 0xfc;
    while (at !== 0 && this.cfg8(at) !== 0x11) at = this.cfg8(at + 1) & 0xfc;
    const ctrl = this.cfg16(at + 2);
    const n = (ctrl & 0x7ff) + 1;
    const table = this.cfg32(at + 4);
    const base = ((this.cfg32(0x10 + 4 * (table & 7)) & ~0xf) >>> 0) + ((table & ~7) >>> 0);
    for (let i = 0; i < n; i++) {
      this.mmioWrite(base + 16 * i, 4, MSIX_ADDR);
      this.mmioWrite(base + 16 * i + 4, 4, 0);
      this.mmioWrite(base + 16 * i + 8, 4, VEC_BASE + i);
      this.mmioWrite(base + 16 * i + 12, 4, 0);
    }
    this.fn.configWrite(at + 2, 2, ctrl | 0x8000);
  }

  // ---- time and memory

  settle(max = 1_000_000): void {
    for (let i = 0; i < max && this.queue.step(); i++);
  }

  /** Runs events up to simulated time `t` (ps). */
  runUntil(t: number): void {
    this.queue.runUntil(t);
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

  codes(prefix = ''): string[] {
    return this.tracer.events.flatMap((e) => (e.kind === 'guestErr' && e.code.startsWith(prefix) ? [e.code] : []));
  }

  eth(): Array<Extract<TraceEvent, { kind: 'eth' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'eth' }> => e.kind === 'eth');
  }

  dmaTags(): string[] {
    return this.tracer.events.flatMap((e) => (e.kind === 'dma' ? [e.tag] : []));
  }

  // ---- driver

  /** 3.1.1 with features (default: all offered), queues 0..n-1 (default: every queue), DRIVER_OK. */
  init(opts: { features?: bigint; drop?: number[]; queues?: number; queueSize?: number; msix?: boolean } = {}): void {
    this.setStatus(0);
    this.setStatus(V.ACK);
    this.setStatus(V.ACK | V.DRIVER);
    let f = opts.features ?? this.deviceFeatures();
    for (const b of opts.drop ?? []) f &= ~bit(b);
    this.writeDriverFeatures(f);
    this.setStatus(V.ACK | V.DRIVER | V.FEATURES_OK);
    if ((this.status() & V.FEATURES_OK) === 0) throw new Error('FEATURES_OK refused');
    if (opts.msix === true) {
      this.enableMsix();
      this.w16(V.MSIX_CONFIG, 0);
    }
    const nq = opts.queues ?? this.c16(V.NUM_QUEUES);
    this.queues.clear();
    this.rxBufs.clear();
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

  q(i: number): DriverQueue {
    const dq = this.queues.get(i);
    if (dq === undefined) throw new Error(`queue ${i} not set up`);
    return dq;
  }

  /** Posts `n` receive buffers of `size` bytes (split in pieces of `split` bytes, if given) and notifies. */
  postRx(n: number, size = 1526, opts: { split?: number; kick?: boolean } = {}): number[] {
    const heads: number[] = [];
    for (let i = 0; i < n; i++) {
      const addr = this.alloc(size, 16);
      this.mem.ram.fill(0xee, addr, addr + size);
      const bufs: Buf[] = [];
      const split = opts.split ?? size;
      for (let o = 0; o < size; o += split) bufs.push({ addr: addr + o, len: Math.min(split, size - o), write: true });
      const head = this.q(0).add(bufs);
      this.rxBufs.set(head, { addr, len: size });
      heads.push(head);
    }
    if (opts.kick !== false) this.q(0).kick();
    return heads;
  }

  /** Reaps receiveq and joins buffers into frames by num_buffers. */
  received(): RxFrame[] {
    const used = this.q(0).reap();
    const out: RxFrame[] = [];
    for (let i = 0; i < used.length;) {
      const u = used[i]!;
      const b = this.rxBufs.get(u.id)!;
      const hdr = this.bytes(b.addr, V.HDR);
      const hv = new DataView(hdr.buffer);
      const numBuffers = hv.getUint16(10, true);
      const parts = [this.bytes(b.addr + V.HDR, u.len - V.HDR)];
      const lens = [u.len];
      for (let k = 1; k < numBuffers; k++) {
        const uk = used[i + k]!;
        parts.push(this.bytes(this.rxBufs.get(uk.id)!.addr, uk.len));
        lens.push(uk.len);
      }
      const total = parts.reduce((a, p) => a + p.length, 0);
      const frame = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        frame.set(p, o);
        o += p.length;
      }
      out.push({ flags: hdr[0]!, gsoType: hdr[1]!, numBuffers, frame, lens });
      i += Math.max(1, numBuffers);
    }
    return out;
  }

  /** Queues one frame on transmitq (header + frame, in `pieces` descriptors), optionally notifies. */
  transmit(frame: Uint8Array, hdr: { flags?: number; gsoType?: number; csumStart?: number; csumOffset?: number } = {}, opts: { kick?: boolean; split?: boolean; indirect?: boolean } = {}): number {
    const h = this.alloc(V.HDR, 16);
    this.mem.ram.fill(0, h, h + V.HDR);
    this.mem.ram[h] = hdr.flags ?? 0;
    this.mem.ram[h + 1] = hdr.gsoType ?? 0;
    this.view.setUint16(h + 6, hdr.csumStart ?? 0, true);
    this.view.setUint16(h + 8, hdr.csumOffset ?? 0, true);
    const f = this.alloc(Math.max(frame.length, 1), 16);
    this.mem.ram.set(frame, f);
    const bufs: Buf[] = [{ addr: h, len: V.HDR, write: false }];
    if (opts.split === true && frame.length > 20) {
      bufs.push({ addr: f, len: 20, write: false }, { addr: f + 20, len: frame.length - 20, write: false });
    } else {
      bufs.push({ addr: f, len: frame.length, write: false });
    }
    const head = this.q(1).add(bufs, { indirect: opts.indirect });
    if (opts.kick !== false) this.q(1).kick();
    return head;
  }

  /** Sends a control command and returns the ack byte (0xff if none written). */
  control(cls: number, cmd: number, data: Uint8Array): number {
    const a = this.alloc(2 + data.length, 16);
    this.mem.ram[a] = cls;
    this.mem.ram[a + 1] = cmd;
    this.mem.ram.set(data, a + 2);
    const ack = this.alloc(1, 1);
    this.mem.ram[ack] = 0xff;
    this.q(2).add([{ addr: a, len: 2 + data.length, write: false }, { addr: ack, len: 1, write: true }]);
    this.q(2).kick();
    this.settle();
    this.q(2).reap();
    return this.mem.ram[ack]!;
  }
}
