/**
 * A hostile virtio driver for the fuzz tests (blk: ./fuzz.test.ts, net:
 * ./net/fuzz.test.ts): fast-check generators and an interpreter for random
 * common-configuration, notify, ISR, device-configuration, MSI-X table and
 * VIRTIO_PCI_CAP_PCI_CFG accesses, status and feature writes, and
 * descriptor chains written straight into the rings (loops, out-of-range
 * next and head indices, indirect tables with garbage, huge lengths,
 * addresses outside RAM or outside DMA memory, readable after writable).
 * The device-type payloads (a blk request header, a virtio_net_hdr, a
 * control command) are given by the test as the bytes of the first
 * segments.
 */
import fc from 'fast-check';
import type { PhysMem } from '../../../src/sim/memory.js';
import type { PciFunction } from '../../../src/devices/pci/function.js';
import { us } from '../../../src/sim/time.js';

/** The parts of the blk and net harnesses the fuzz driver uses. */
export interface FuzzHost {
  readonly mem: PhysMem;
  readonly view: DataView;
  readonly fn: PciFunction;
  readonly queues: Map<number, { readonly desc: number; readonly avail: number; readonly used: number; readonly size: number; availIdx: number }>;
  alloc(bytes: number, align?: number): number;
  mmioRead(addr: number, size: number): number;
  mmioWrite(addr: number, size: number, value: number): void;
  settle(max?: number): void;
  readonly queue: { readonly now: number; runUntil(t: number): void };
}

const BAR1 = 0xd000_0000;
const BAR4 = 0xd010_0000;
const COMMON = BAR4;
const ISR = BAR4 + 0x1000;
const DEVCFG = BAR4 + 0x2000;
const NOTIFY = BAR4 + 0x3000;

/** Where a segment's buffer lives. */
/** 'next': right after the previous segment's buffer (a payload split across descriptors). */
export type Where = 'data' | 'nodma' | 'high' | 'any' | 'ring' | 'next';
export interface Seg { where: Where; off: number; len: number; write: boolean; flags: number }
export type Shape = 'chain' | 'indirect' | 'loop' | 'bad-next' | 'bad-head' | 'indirect-garbage' | 'indirect-nested' | 'indirect-next' | 'indirect-len';

export interface ChainOp {
  k: 'chain';
  q: number;
  shape: Shape;
  /** Index in the descriptor table of the first descriptor; the rest follow with `stride`. */
  start: number;
  stride: number;
  /** Device payload bytes for the first segment (a request header, a virtio_net_hdr, ...). */
  payload: number[];
  segs: Seg[];
  notify: boolean;
  garbage: number[];
}

export type VirtioOp =
  | { k: 'cw'; off: number; size: 1 | 2 | 4; value: number }
  | { k: 'cr'; off: number; size: 1 | 2 | 4 }
  | { k: 'bar'; bar: 1 | 4; off: number; size: 1 | 2 | 4 | 8; value: number; read: boolean }
  | { k: 'notify'; q: number; size: 1 | 2 | 4; value: number }
  | { k: 'isr' }
  | { k: 'status'; value: number }
  | { k: 'features'; sel: number; value: number }
  | { k: 'qsel'; q: number; reg: number; size: 1 | 2 | 4; value: number }
  | { k: 'pcicfg'; bar: number; off: number; len: number; value: number; read: boolean }
  | ChainOp
  | { k: 'availIdx'; q: number; delta: number }
  | { k: 'flags'; q: number; availFlags: number; usedEvent: number }
  | { k: 'busMaster'; on: boolean }
  | { k: 'run'; us: number }
  | { k: 'quiesce' }
  | { k: 'reinit' };

export const size124 = fc.constantFrom<1 | 2 | 4>(4, 4, 2, 2, 1);
const u32 = fc.oneof(fc.constantFrom(0, 1, 2, 0xffff, 0x8000, 0xffffffff, 0x80000000), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 64 }));

export function mostly<T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>, validWeight = 6): fc.Arbitrary<T> {
  return fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

export const seg = (len: fc.Arbitrary<number>, write: fc.Arbitrary<boolean>): fc.Arbitrary<Seg> => fc.record({
  where: mostly(fc.constant<Where>('data'), fc.constantFrom<Where>('nodma', 'high', 'any', 'ring'), 20),
  off: fc.integer({ min: 0, max: 0x3ffff }),
  len: mostly(len, fc.constantFrom(0, 1, 0xffffffff, 0x80000000, 0x100000, 0x7fffffff), 20),
  write,
  flags: mostly(fc.constant(0), fc.integer({ min: 0, max: 0xffff }), 20),
});

/** Generators for the common part of the traffic; `chain` builds the device-type requests. */
export function virtioOps(numQueues: number, chain: fc.Arbitrary<ChainOp>): fc.Arbitrary<VirtioOp> {
  const q = mostly(fc.integer({ min: 0, max: numQueues - 1 }), fc.oneof(fc.integer({ min: numQueues, max: numQueues + 2 }), fc.constantFrom(0xffff, 0x8000)), 4);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ k: fc.constant('cw' as const), off: fc.oneof(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 0, max: 0xfff })), size: size124, value: u32 }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('cr' as const), off: fc.oneof(fc.integer({ min: 0, max: 0x3f }), fc.integer({ min: 0, max: 0xfff })), size: size124 }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('bar' as const), bar: fc.constantFrom<1 | 4>(1, 4, 4), off: fc.integer({ min: 0, max: 0x3ff8 }),
        size: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 4, 8), value: u32, read: fc.boolean(),
      }),
    },
    { weight: 4, arbitrary: fc.record({ k: fc.constant('notify' as const), q, size: mostly(fc.constant<1 | 2 | 4>(2), size124), value: fc.oneof(fc.integer({ min: 0, max: numQueues + 1 }), u32) }) },
    { weight: 1, arbitrary: fc.constant({ k: 'isr' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('status' as const),
        value: fc.oneof(fc.constantFrom(0, 0, 1, 3, 0x0b, 0x0f, 0x07, 0x40, 0x80, 0x4f, 0xff), fc.integer({ min: 0, max: 255 })),
      }),
    },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('features' as const), sel: fc.oneof(fc.integer({ min: 0, max: 3 }), u32), value: u32 }) },
    {
      weight: 3,
      arbitrary: fc.record({
        k: fc.constant('qsel' as const), q, reg: fc.constantFrom(0x18, 0x1a, 0x1c, 0x1e, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38, 0x3a),
        size: mostly(fc.constant<1 | 2 | 4>(2), size124), value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 16, 256, 0xffff, 0x10000, 0x100000), u32),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constant('pcicfg' as const), bar: fc.oneof(fc.constantFrom(1, 4), fc.integer({ min: 0, max: 255 })),
        off: fc.oneof(fc.constantFrom(0, 0x14, 0x1000, 0x2000, 0x3000), fc.integer({ min: 0, max: 0xffffffff })),
        len: fc.constantFrom(0, 1, 2, 3, 4, 8), value: u32, read: fc.boolean(),
      }),
    },
    { weight: 16, arbitrary: chain },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('availIdx' as const), q, delta: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.integer({ min: 0, max: 0xffff })) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('flags' as const), q, availFlags: fc.integer({ min: 0, max: 0xffff }), usedEvent: fc.integer({ min: 0, max: 0xffff }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('busMaster' as const), on: fc.oneof(fc.constant(true), fc.constant(false)) }) },
    { weight: 5, arbitrary: fc.record({ k: fc.constant('run' as const), us: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 2000 })) }) },
    { weight: 1, arbitrary: fc.constant({ k: 'quiesce' as const }) },
    { weight: 3, arbitrary: fc.constant({ k: 'reinit' as const }) },
  );
}

export function chainShape(): fc.Arbitrary<Shape> {
  return mostly(
    fc.constantFrom<Shape>('chain', 'chain', 'chain', 'indirect'),
    fc.constantFrom<Shape>('loop', 'bad-next', 'bad-head', 'indirect-garbage', 'indirect-nested', 'indirect-next', 'indirect-len'),
    8,
  );
}

export class FuzzDriver {
  readonly data: number;
  readonly noDma: number;
  /** Scratch for indirect tables and payloads. */
  readonly scratch: number;
  private scratchAt = 0;

  /** `reinit`: reset and the clean initialization of 3.1.1 (the test's driver). */
  constructor(readonly h: FuzzHost, readonly quiesce: () => void, readonly reinit: () => void) {
    this.data = h.alloc(0x40000);
    this.noDma = h.alloc(0x10000);
    h.mem.markDma(this.noDma, 0x10000, false);
    this.scratch = h.alloc(0x10000);
  }

  private scratchAlloc(bytes: number): number {
    if (this.scratchAt + bytes > 0x10000) this.scratchAt = 0;
    const a = this.scratch + this.scratchAt;
    this.scratchAt += (bytes + 15) & ~15;
    return a;
  }

  addr(s: Seg, q: number): number {
    switch (s.where) {
      case 'data': return this.data + (s.off % 0x40000);
      case 'nodma': return this.noDma + (s.off & 0xffff);
      case 'high': return 0x0200_0000 + s.off * 0x100; // beyond the 32 MiB of RAM
      case 'any': return s.off * 0x1000 + 0x1_0000_0000 * (s.off & 1);
      case 'ring': return this.h.queues.get(q)?.desc ?? 0; // the descriptor table itself
      case 'next': return this.data; // (resolved against the previous segment in chain())
    }
  }

  private writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const v = this.h.view;
    const a = table + 16 * i;
    v.setUint32(a, addr % 0x1_0000_0000, true);
    v.setUint32(a + 4, Math.floor(addr / 0x1_0000_0000), true);
    v.setUint32(a + 8, len >>> 0, true);
    v.setUint16(a + 12, flags & 0xffff, true);
    v.setUint16(a + 14, next & 0xffff, true);
  }

  pushAvail(q: number, head: number): void {
    const dq = this.h.queues.get(q);
    if (dq === undefined) return;
    const v = this.h.view;
    v.setUint16(dq.avail + 4 + 2 * (dq.availIdx % dq.size), head & 0xffff, true);
    dq.availIdx = (dq.availIdx + 1) & 0xffff;
    v.setUint16(dq.avail + 2, dq.availIdx, true);
  }

  /** Writes the chain's descriptors (payload in the first segment) and puts its head on the available ring. */
  chain(o: ChainOp): void {
    const dq = this.h.queues.get(o.q);
    if (dq === undefined) {
      if (o.notify) this.notify(o.q, 2, o.q);
      return;
    }
    const ram = this.h.mem.ram;
    const segs: Array<Seg & { addr: number }> = [];
    for (const s of o.segs) {
      const prev = segs[segs.length - 1];
      segs.push({ ...s, addr: s.where === 'next' && prev !== undefined ? prev.addr + prev.len : this.addr(s, o.q) });
    }
    // The payload goes at the first segment's buffer (and on into 'next' ones) when it is in the data area.
    const first = segs[0];
    if (first !== undefined && first.where === 'data') ram.set(o.payload, first.addr);
    const n = dq.size;
    const idx = (i: number): number => (o.start + i * o.stride) % n;
    const F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4;
    const flagsOf = (s: { write: boolean; flags: number }): number => (s.write ? F_WRITE : 0) | (s.flags & ~(F_NEXT | F_WRITE));
    let head = idx(0);
    if (o.shape.startsWith('indirect')) {
      const count = Math.max(segs.length, 1);
      const table = this.scratchAlloc(16 * (count + 1));
      segs.forEach((s, i) => {
        const last = i + 1 === segs.length;
        let flags = flagsOf(s) & ~F_INDIRECT;
        if (!last) flags |= F_NEXT;
        if (o.shape === 'indirect-nested' && i === 0) flags |= F_INDIRECT;
        this.writeDesc(table, i, s.addr, s.len, flags, last ? 0 : i + 1);
      });
      if (o.shape === 'indirect-garbage') ram.set(o.garbage.slice(0, 16 * count), table);
      const len = o.shape === 'indirect-len' ? 16 * count + 3 : o.shape === 'indirect-garbage' ? 16 * count : 16 * segs.length;
      const f = F_INDIRECT | (o.shape === 'indirect-next' ? F_NEXT : 0);
      this.writeDesc(dq.desc, head, table, len, f, idx(1));
    } else {
      segs.forEach((s, i) => {
        const last = i + 1 === segs.length;
        let next = last ? 0 : idx(i + 1);
        let flags = flagsOf(s) & ~F_INDIRECT;
        if (!last) flags |= F_NEXT;
        if (last && o.shape === 'loop') { flags |= F_NEXT; next = idx(0); }
        if (last && o.shape === 'bad-next') { flags |= F_NEXT; next = n + (o.garbage[0] ?? 0); }
        this.writeDesc(dq.desc, idx(i), s.addr, s.len, flags, next);
      });
      if (o.shape === 'bad-head') head = n + (o.garbage[0] ?? 0) * 3;
    }
    this.pushAvail(o.q, head);
    if (o.notify) this.notify(o.q, 2, o.q);
  }

  notify(q: number, size: 1 | 2 | 4, value: number): void {
    this.h.mmioWrite(NOTIFY + ((q * 4) & 0xffc), size, value & (size === 4 ? 0xffffffff : (1 << (size * 8)) - 1));
  }

  /** The VIRTIO_PCI_CAP_PCI_CFG capability's offset in config space (0 if none). */
  pciCfgCap(): number {
    const fn = this.h.fn;
    let at = fn.configRead(0x34, 1) & 0xfc;
    for (let n = 0; at !== 0 && n < 48; n++) {
      if (fn.configRead(at, 1) === 0x09 && fn.configRead(at + 3, 1) === 5) return at;
      at = fn.configRead(at + 1, 1) & 0xfc;
    }
    return 0;
  }

  apply(o: VirtioOp): void {
    const h = this.h;
    switch (o.k) {
      case 'cw': h.mmioWrite(COMMON + o.off, o.size, o.value & mask(o.size)); break;
      case 'cr': h.mmioRead(COMMON + o.off, o.size); break;
      case 'bar': {
        const base = o.bar === 1 ? BAR1 : BAR4;
        const off = o.bar === 1 ? o.off & 0xff8 : o.off;
        if (o.read) h.mmioRead(base + off, o.size);
        else h.mmioWrite(base + off, o.size, o.value & mask(o.size));
        break;
      }
      case 'notify': this.notify(o.q, o.size, o.value); break;
      case 'isr': h.mmioRead(ISR, 1); break;
      case 'status': h.mmioWrite(COMMON + 0x14, 1, o.value & 0xff); break;
      case 'features':
        h.mmioWrite(COMMON + 0x08, 4, o.sel >>> 0);
        h.mmioWrite(COMMON + 0x0c, 4, o.value >>> 0);
        break;
      case 'qsel':
        h.mmioWrite(COMMON + 0x16, 2, o.q & 0xffff);
        h.mmioWrite(COMMON + o.reg, o.size, o.value & mask(o.size));
        break;
      case 'pcicfg': {
        const at = this.pciCfgCap();
        if (at === 0) break;
        const fn = h.fn;
        fn.configWrite(at + 4, 1, o.bar & 0xff);
        fn.configWrite(at + 8, 4, o.off >>> 0);
        fn.configWrite(at + 12, 4, o.len);
        if (o.read) fn.configRead(at + 16, 4);
        else fn.configWrite(at + 16, 4, o.value >>> 0);
        break;
      }
      case 'chain': this.chain(o); break;
      case 'availIdx': {
        const dq = h.queues.get(o.q);
        if (dq === undefined) break;
        dq.availIdx = (dq.availIdx + o.delta + 0x10000) & 0xffff;
        h.view.setUint16(dq.avail + 2, dq.availIdx, true);
        break;
      }
      case 'flags': {
        const dq = h.queues.get(o.q);
        if (dq === undefined) break;
        h.view.setUint16(dq.avail, o.availFlags, true);
        h.view.setUint16(dq.avail + 4 + 2 * dq.size, o.usedEvent, true);
        break;
      }
      case 'busMaster': h.fn.configWrite(0x04, 2, o.on ? 0x0006 : 0x0002); break;
      case 'run': h.queue.runUntil(h.queue.now + us(o.us)); break;
      case 'quiesce': this.quiesce(); break;
      case 'reinit': this.reinit(); break;
    }
  }

  /** Reads the device configuration window (any access is allowed to be refused, never to throw). */
  touchDeviceConfig(off: number, size: 1 | 2 | 4): void {
    this.h.mmioRead(DEVCFG + off, size);
  }
}

function mask(size: number): number {
  return size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1;
}
