/**
 * The `redox` import module: what a Redox driver daemon uses (redox_syscall,
 * redox-driver-sys, pcid_interface, redox_scheme), backed by the kernel
 * model's `Sys` and src/drivers/sys. guest/rust/redox-driver/src/sys.rs
 * declares the same functions; its safe wrappers are how Rust drivers call
 * them.
 *
 * - Objects of the kernel side (an `irq:` handle, a served request) are
 *   small integer handles; one the driver never got crashes it with a report.
 * - MMIO goes through cookies, as linux-kpi's pci_iomap: addresses above the
 *   module's memory (0x80000000 + slot × 256 MiB), so dereferencing one
 *   traps; `mmio_read*`/`mmio_write*` are the accesses.
 * - Memory: `malloc`/`free` are the runtime heap (the Rust global
 *   allocator); `physalloc` is Sys.physalloc of this process (whole zeroed
 *   pages of the module's memory, marked for DMA) with the physical address.
 * - Threads: `spawn_thread` starts a kernel task that calls a function of the
 *   module's table; `futex_wait`/`futex_wake` are Redox's futex on a word of
 *   the module's memory, on Sys.park/unpark.
 * - A scheme request's client buffer stays with the client: the driver
 *   copies from and to it (`scheme_buf_read`/`scheme_buf_write`, charged as a
 *   copy), and `scheme_reply` completes it, from any thread.
 * - `panic` records the Rust panic message; the module traps right after and
 *   the crash report names the message (RedoxHost.crashOf).
 */
import type { Co } from '../../sim/scheduler.js';
import type { LogLevel } from '../../sim/tracer.js';
import { EINVAL, ENODEV, ENOENT, ETIMEDOUT, EAGAIN, SyscallError } from '../../kernel/errno.js';
import type { Packet } from '../../kernel/schemes/user.js';
import type { DmaBuffer, Sys, Thread } from '../../kernel/sys.js';
import { CAP_MSI, CAP_MSIX } from '../../kernel/pcid.js';
import type { PciFunctionHandle } from '../../kernel/pcid.js';
import { IrqHandle, PciDevice } from '../../drivers/sys/index.js';
import type { ImportTable, WasmCallContext, WasmProcess } from '../runtime/process.js';
import { WasmTrap } from '../runtime/process.js';

const MAP_BASE = 0x8000_0000;
const MAP_SLOT = 0x1000_0000;
const MAP_SLOTS = 8;
/** struct PciFunctionInfo (redox-driver/src/sys.rs RawPciInfo) on wasm32. */
export const PCI_INFO = {
  vendor: 0, device: 2, class: 4, revision: 8, irqLine: 9, irqPin: 10, bus: 11, dev: 12, func: 13,
  subsystemVendor: 16, subsystem: 18, bars: 20, barSize: 20, caps: 140, size: 144,
} as const;
/** struct RawRequest on wasm32. */
export const REQUEST = { id: 0, op: 4, pid: 8, handle: 12, offsetLo: 16, offsetHi: 20, len: 24, flags: 28, pathLen: 32, size: 40 } as const;
const BAR_KIND = { mem32: 1, mem64: 2, io: 3 } as const;
const UTF8 = new TextEncoder();

/** A mapped device window. */
interface Mapping {
  phys: number;
  size: number;
}

/** A request the driver has received and not yet answered. */
interface Served {
  fd: number;
  packet: Packet;
}

/** What the runtime needs to start the driver (run.ts). */
export interface RedoxDriverConfig {
  /** The driver's name in logs. */
  name: string;
  /** Scenario parameters the module reads with param_int. */
  params: Readonly<Record<string, unknown>>;
}

/** Per-process state behind the `redox` imports. */
export class RedoxHost {
  readonly pci: PciDevice;
  private readonly maps: (Mapping | undefined)[] = new Array<Mapping | undefined>(MAP_SLOTS).fill(undefined);
  private readonly irqs: IrqHandle[] = [];
  private readonly dma = new Map<number, DmaBuffer>();
  private readonly served = new Map<number, Served>();
  private nextRequest = 1;
  private readonly futexes = new Map<number, Thread[]>();
  /** The message of a Rust panic: the module traps right after reporting it. */
  panicMessage: string | undefined;

  constructor(readonly proc: WasmProcess, readonly main: Sys, pci: PciFunctionHandle, readonly config: RedoxDriverConfig) {
    this.pci = new PciDevice(main, pci);
  }

  trap(what: string): never {
    throw new WasmTrap(what, undefined, this.proc.history());
  }

  // ---- calls into the module

  /**
   * Runs a function of the module as the calling task (main, a spawned
   * thread). A crash comes out as a WasmTrap naming the panic message, or
   * the function (Rust symbol names demangled).
   */
  *call(sys: Sys, fn: (...a: number[]) => number, args: readonly number[], what: string): Co<number> {
    try {
      return yield* this.proc.call(sys, fn, args, what);
    } catch (e) {
      throw this.crashOf(e);
    }
  }

  crashOf(e: unknown): unknown {
    if (!(e instanceof WasmTrap)) return e;
    if (this.panicMessage !== undefined) return new WasmTrap(this.panicMessage, undefined, e.history);
    return e.func !== undefined && e.func.includes('_ZN') ? new WasmTrap(e.bare, demangle(e.func), e.history) : e;
  }

  // ---- MMIO cookies

  addMapping(m: Mapping): number {
    const slot = this.maps.indexOf(undefined);
    if (slot < 0) return 0;
    this.maps[slot] = m;
    return MAP_BASE + slot * MAP_SLOT;
  }

  unmap(cookie: number): void {
    const slot = Math.floor(((cookie >>> 0) - MAP_BASE) / MAP_SLOT);
    if (slot >= 0 && slot < MAP_SLOTS && (cookie >>> 0) === MAP_BASE + slot * MAP_SLOT) this.maps[slot] = undefined;
  }

  /** The physical address an MMIO cookie stands for (the access must fall inside one mapping). */
  mmio(addr: number, size: number): number {
    const a = addr >>> 0;
    const slot = Math.floor((a - MAP_BASE) / MAP_SLOT);
    const m = slot >= 0 && slot < MAP_SLOTS ? this.maps[slot] : undefined;
    const off = a - MAP_BASE - slot * MAP_SLOT;
    if (m === undefined || off + size > m.size) this.trap(`MMIO ${size}-byte access at 0x${a.toString(16)}: not inside a mapping (physmap or pci_map_bar)`);
    return m.phys + off;
  }

  // ---- handles

  addIrq(h: IrqHandle): number { return this.irqs.push(h); }
  irq(h: number): IrqHandle {
    const i = this.irqs[h - 1];
    if (i === undefined) this.trap(`irq handle ${h} is not one the kernel interface handed out`);
    return i;
  }

  addDma(ptr: number, b: DmaBuffer): void { this.dma.set(ptr, b); }
  takeDma(ptr: number, size: number): DmaBuffer | undefined {
    const b = this.dma.get(ptr);
    if (b === undefined || b.size !== Math.ceil(size / 4096) * 4096) return undefined;
    this.dma.delete(ptr);
    return b;
  }

  addRequest(fd: number, packet: Packet): number {
    const id = this.nextRequest++;
    this.served.set(id, { fd, packet });
    return id;
  }
  request(id: number): Served {
    const s = this.served.get(id);
    if (s === undefined) this.trap(`request ${id} is not one the driver received and has not answered`);
    return s;
  }
  takeRequest(id: number): Served | undefined {
    const s = this.served.get(id);
    this.served.delete(id);
    return s;
  }

  // ---- futex

  addWaiter(addr: number, t: Thread): void {
    let q = this.futexes.get(addr);
    if (q === undefined) this.futexes.set(addr, q = []);
    q.push(t);
  }
  removeWaiter(addr: number, t: Thread): void {
    const q = this.futexes.get(addr);
    if (q === undefined) return;
    const i = q.indexOf(t);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) this.futexes.delete(addr);
  }
  /** Up to `n` waiters on `addr`, oldest first, taken off its queue. */
  takeWaiters(addr: number, n: number): Thread[] {
    const q = this.futexes.get(addr);
    if (q === undefined) return [];
    const out = q.splice(0, n);
    if (q.length === 0) this.futexes.delete(addr);
    return out;
  }
}

const host = (cx: WasmCallContext) => cx.proc.host as RedoxHost;

/** Log levels as the `log` crate numbers them (1 error ... 5 trace). */
const LEVELS: readonly LogLevel[] = ['error', 'error', 'warn', 'info', 'debug', 'debug'];

/** An errno as a negative result; a SyscallError from a Sys helper becomes its errno. */
function* errnoOf<T>(co: Co<T>, ok: (v: T) => number): Co<number> {
  try {
    return ok(yield* co);
  } catch (e) {
    if (e instanceof SyscallError) return -e.errno;
    throw e;
  }
}

/** Demangles the Rust (legacy mangling) symbols in a function description: `_ZN6nvmed4nvme4Nvme4init17h…E` → `nvmed::nvme::Nvme::init`. */
export function demangle(s: string): string {
  return s.replace(/_ZN((?:\d+[A-Za-z0-9_$.]+?)+)E/g, (whole, body: string) => {
    const parts: string[] = [];
    let i = 0;
    while (i < body.length) {
      const m = /^\d+/.exec(body.slice(i));
      if (m === null) return whole;
      const n = Number(m[0]);
      i += m[0].length;
      parts.push(body.slice(i, i + n));
      i += n;
    }
    if (parts.length > 1 && /^h[0-9a-f]{16}$/.test(parts[parts.length - 1]!)) parts.pop();
    const esc: Record<string, string> = { SP: '@', BP: '*', RF: '&', LT: '<', GT: '>', LP: '(', RP: ')', C: ',' };
    return parts.map((p) => p.replace(/^_\$/, '$').replace(/\$([A-Z]{1,2}|u[0-9a-f]+)\$/g, (e, k: string) =>
      esc[k] ?? (k.startsWith('u') ? String.fromCodePoint(parseInt(k.slice(1), 16)) : e)).replace(/\.\./g, '::')).join('::');
  });
}

/** The `redox` import module (see the file comment); every name matches guest/rust/redox-driver/src/sys.rs. */
export const REDOX_IMPORTS: ImportTable = {
  redox: {
    // ---- logging and failure
    log: { fn: (cx, level, p, len) => { cx.sys.log(LEVELS[level >>> 0] ?? 'debug', cx.proc.string(p, len >>> 0)); } },
    panic: {
      fn: (cx, p, len) => {
        const h = host(cx);
        h.panicMessage ??= cx.proc.string(p, Math.min(len >>> 0, 4096)) || 'panicked (no message)';
      },
    },
    exit: { blocking: true, *fn(cx, code) { yield* cx.sys.exit(code | 0); } },
    param_int: {
      fn: (cx, name, len, dflt) => {
        const v = host(cx).config.params[cx.proc.string(name, len >>> 0)];
        return typeof v === 'number' ? v | 0 : typeof v === 'boolean' ? (v ? 1 : 0) : dflt;
      },
    },
    param_str: {
      fn: (cx, name, len, out, cap) => {
        const v = host(cx).config.params[cx.proc.string(name, len >>> 0)];
        if (typeof v !== 'string') return -ENOENT;
        const b = UTF8.encode(v);
        const n = Math.min(b.length, cap >>> 0);
        if (n > 0) {
          cx.proc.u8(out + n - 1); // bounds
          cx.proc.u8(out);
          cx.proc.bytes.set(b.subarray(0, n), out >>> 0);
        }
        return b.length;
      },
    },

    // ---- memory
    malloc: { fn: (cx, size, align) => cx.proc.malloc(size >>> 0, Math.max(16, align >>> 0)) },
    free: {
      fn: (cx, p) => {
        if ((p >>> 0) === 0) return;
        if (!cx.proc.free(p >>> 0)) return host(cx).trap(`free(0x${(p >>> 0).toString(16)}): not a block malloc returned (double free or heap corruption)`);
      },
    },
    physalloc: {
      fn: (cx, size, physOut) => {
        let b: DmaBuffer;
        try {
          b = cx.sys.physalloc(size >>> 0);
        } catch (e) {
          if (e instanceof SyscallError) return 0; // ENOMEM (or no memory: scheme in its namespace)
          throw e;
        }
        const ptr = cx.proc.pointerOf(b.view);
        host(cx).addDma(ptr, b);
        cx.proc.setU64(physOut, b.phys);
        return ptr;
      },
    },
    physfree: {
      fn: (cx, p, size) => {
        const b = host(cx).takeDma(p >>> 0, size >>> 0);
        if (b === undefined) return host(cx).trap(`physfree(0x${(p >>> 0).toString(16)}, ${size >>> 0}): not a buffer physalloc returned`);
        cx.sys.physfree(b);
        return 0;
      },
    },
    physmap: {
      fn: (cx, lo, hi, size) => {
        const phys = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
        try {
          const m = cx.sys.physmap(phys, Math.min(size >>> 0, MAP_SLOT));
          return host(cx).addMapping({ phys: m.phys, size: m.size });
        } catch (e) {
          if (e instanceof SyscallError) return 0;
          throw e;
        }
      },
    },
    physunmap: { fn: (cx, cookie) => { host(cx).unmap(cookie); } },
    mmio_read8: { fn: (cx, a) => cx.sys.ctx.core.mmioRead(host(cx).mmio(a, 1), 1) },
    mmio_read16: { fn: (cx, a) => cx.sys.ctx.core.mmioRead(host(cx).mmio(a, 2), 2) },
    mmio_read32: { fn: (cx, a) => cx.sys.ctx.core.mmioRead(host(cx).mmio(a, 4), 4) },
    mmio_write8: { fn: (cx, a, v) => { cx.sys.ctx.core.mmioWrite(host(cx).mmio(a, 1), 1, v & 0xff); } },
    mmio_write16: { fn: (cx, a, v) => { cx.sys.ctx.core.mmioWrite(host(cx).mmio(a, 2), 2, v & 0xffff); } },
    mmio_write32: { fn: (cx, a, v) => { cx.sys.ctx.core.mmioWrite(host(cx).mmio(a, 4), 4, v >>> 0); } },

    // ---- the pcid handle
    pci_config: {
      fn: (cx, out, len) => {
        const p = cx.proc;
        const info = host(cx).pci.info;
        if ((len >>> 0) < PCI_INFO.size) return -EINVAL;
        p.bytes.fill(0, out >>> 0, (out >>> 0) + PCI_INFO.size);
        const u16 = (off: number, v: number) => { p.bytes[out + off] = v & 0xff; p.bytes[out + off + 1] = (v >>> 8) & 0xff; };
        u16(PCI_INFO.vendor, info.vendorId);
        u16(PCI_INFO.device, info.deviceId);
        p.setU32(out + PCI_INFO.class, info.classCode);
        p.bytes[out + PCI_INFO.revision] = info.revision;
        p.bytes[out + PCI_INFO.irqLine] = info.irqLine;
        p.bytes[out + PCI_INFO.irqPin] = info.irqPin;
        p.bytes[out + PCI_INFO.bus] = info.bus;
        p.bytes[out + PCI_INFO.dev] = info.device;
        p.bytes[out + PCI_INFO.func] = info.fn;
        u16(PCI_INFO.subsystemVendor, info.subsystemVendorId);
        u16(PCI_INFO.subsystem, info.subsystemId);
        for (const b of info.bars) {
          if (b.index < 0 || b.index > 5) continue;
          const at = out + PCI_INFO.bars + b.index * PCI_INFO.barSize;
          p.setU32(at, BAR_KIND[b.kind]);
          p.setU64(at + 4, b.addr);
          p.setU64(at + 12, b.size);
        }
        const caps = (info.caps.some((c) => c.id === CAP_MSI) ? 1 : 0) | (info.caps.some((c) => c.id === CAP_MSIX) ? 2 : 0);
        p.setU32(out + PCI_INFO.caps, caps);
        return PCI_INFO.size;
      },
    },
    pci_enable_device: { blocking: true, *fn(cx) { yield* host(cx).pci.enable(true); return 0; } },
    pci_read_config: { blocking: true, *fn(cx, off) { return yield* host(cx).pci.handle.readConfig(off & 0xffc, 4); } },
    pci_write_config: { blocking: true, *fn(cx, off, v) { yield* host(cx).pci.handle.writeConfig(off & 0xffc, 4, v >>> 0); return 0; } },
    pci_map_bar: {
      fn: (cx, bar, sizeOut) => {
        const h = host(cx);
        const b = h.pci.bar(bar);
        if (b === undefined || b.kind === 'io' || b.addr === 0) return 0;
        const m = cx.sys.physmap(b.addr, Math.min(b.size, MAP_SLOT));
        const cookie = h.addMapping({ phys: m.phys, size: m.size });
        if (cookie !== 0) cx.proc.setU32(sizeOut, m.size);
        return cookie;
      },
    },
    pci_msix_table_size: { blocking: true, *fn(cx) { return (yield* host(cx).pci.handle.msixInfo())?.tableSize ?? 0; } },
    pci_enable_msix: {
      blocking: true,
      *fn(cx, count, out) {
        const h = host(cx);
        if ((count >>> 0) === 0 || (count >>> 0) > 2048) return -EINVAL;
        const irqs = yield* errnoOf(h.pci.enableMsix(count >>> 0), (v) => {
          if (v === undefined) return -ENODEV;
          v.forEach((irq, i) => cx.proc.setU32(out + 4 * i, h.addIrq(irq)));
          return v.length;
        });
        return irqs;
      },
    },
    pci_enable_msi: {
      blocking: true,
      *fn(cx) {
        const h = host(cx);
        return yield* errnoOf(h.pci.enableMsi(), (v) => v === undefined ? -ENODEV : h.addIrq(v));
      },
    },
    pci_legacy_irq: {
      blocking: true,
      *fn(cx) {
        const h = host(cx);
        return yield* errnoOf(h.pci.legacyIrq(), (v) => v === undefined ? -ENODEV : h.addIrq(v));
      },
    },

    // ---- irq:
    irq_wait: { blocking: true, *fn(cx, h) { return yield* host(cx).irq(h).wait(cx.sys); } },
    irq_ack: { blocking: true, *fn(cx, h) { yield* host(cx).irq(h).ack(cx.sys); return 0; } },

    // ---- time and threads
    clock_ns: { fn: (cx) => BigInt(Math.floor(cx.sys.clock() / 1000)) },
    nanosleep: { blocking: true, *fn(cx, sec, nsec) { yield* cx.sys.sleep((sec >>> 0) * 1e12 + (nsec >>> 0) * 1e3); } },
    sched_yield: { blocking: true, fn: (cx) => cx.sys.yield() },
    spawn_thread: {
      fn: (cx, fn, arg, name, len) => {
        const h = host(cx);
        const f = cx.proc.tableFunction(fn);
        if (f === undefined) return h.trap(`spawn_thread: 0x${(fn >>> 0).toString(16)} is not a function of the module`);
        const label = cx.proc.string(name, Math.min(len >>> 0, 64)) || 'thread';
        return cx.sys.spawnThread(label, (sys) => h.call(sys, f, [arg], `thread ${label}`));
      },
    },
    futex_wait: {
      blocking: true,
      *fn(cx, addr, expected, timeout) {
        const h = host(cx);
        if ((addr & 3) !== 0) return -EINVAL;
        if (cx.proc.u32(addr) !== (expected >>> 0)) return -EAGAIN;
        let deadline: number | undefined;
        if (timeout !== 0) deadline = cx.sys.now + cx.proc.u64(timeout) * 1e12 + cx.proc.u32(timeout + 8) * 1e3;
        const me = cx.sys.currentThread();
        h.addWaiter(addr >>> 0, me);
        const woken = yield* cx.sys.park(deadline);
        if (woken) return 0;
        h.removeWaiter(addr >>> 0, me);
        return -ETIMEDOUT;
      },
    },
    futex_wake: {
      fn: (cx, addr, count) => {
        let n = 0;
        for (const t of host(cx).takeWaiters(addr >>> 0, count >>> 0)) if (cx.sys.unpark(t)) n++;
        return n;
      },
    },

    // ---- serving a scheme
    scheme_create: {
      blocking: true,
      *fn(cx, name, len) { return yield* errnoOf(cx.sys.createScheme(cx.proc.string(name, len >>> 0)), (fd) => fd); },
    },
    scheme_next: {
      blocking: true,
      *fn(cx, fd, out, pathOut, cap) {
        const h = host(cx);
        const p = yield* errnoOf(cx.sys.nextRequest(fd), (pk) => {
          if (pk === null) return -ENODEV;
          const proc = cx.proc;
          proc.setU32(out + REQUEST.id, h.addRequest(fd, pk));
          proc.setU32(out + REQUEST.op, pk.op);
          proc.setU32(out + REQUEST.pid, pk.pid);
          proc.setU32(out + REQUEST.handle, pk.handle);
          proc.setU64(out + REQUEST.offsetLo, Math.max(0, pk.offset));
          proc.setU32(out + REQUEST.len, pk.buf === null ? 0 : pk.buf.length);
          proc.setU32(out + REQUEST.flags, pk.flags);
          if (pk.path === '') {
            proc.setU32(out + REQUEST.pathLen, 0);
            return 0;
          }
          const path = UTF8.encode(pk.path);
          proc.setU32(out + REQUEST.pathLen, path.length);
          const n = Math.min(path.length, cap >>> 0);
          if (n > 0) {
            proc.u8(pathOut + n - 1); // bounds
            proc.bytes.set(path.subarray(0, n), pathOut >>> 0);
          }
          return 0;
        });
        return p;
      },
    },
    scheme_buf_read: { fn: (cx, id, off, dst, len) => copyRequestBuf(cx, id, off, dst, len, 'to-module') },
    scheme_buf_write: { fn: (cx, id, off, src, len) => copyRequestBuf(cx, id, off, src, len, 'to-request') },
    scheme_reply: {
      fn: (cx, fd, id, lo, hi) => {
        const s = host(cx).takeRequest(id);
        if (s === undefined || s.fd !== fd) return -EINVAL;
        return cx.sys.reply(fd, s.packet, (hi | 0) * 0x1_0000_0000 + (lo >>> 0));
      },
    },
    scheme_post_event: {
      fn: (cx, fd, handle, flags) => {
        try {
          return cx.sys.postEvent(fd, handle >>> 0, flags >>> 0);
        } catch (e) {
          if (e instanceof SyscallError) return -e.errno;
          throw e;
        }
      },
    },
  },
};

/**
 * scheme_buf_read / scheme_buf_write: copies up to `len` bytes between the
 * request's buffer at `off` and the module's memory at `ptr`; the count, 0
 * past the end, or -EINVAL for a request without a buffer. A module range
 * out of bounds traps with the call named.
 */
function copyRequestBuf(cx: WasmCallContext, id: number, off: number, ptr: number, len: number, dir: 'to-module' | 'to-request'): number {
  const buf = host(cx).request(id).packet.buf;
  if (buf === null) return -EINVAL;
  const n = Math.max(0, Math.min(len >>> 0, buf.length - (off >>> 0)));
  if (n === 0) return 0;
  cx.proc.u8(ptr + n - 1);
  cx.proc.u8(ptr);
  if (dir === 'to-module') cx.sys.memcpy(cx.proc.bytes, ptr >>> 0, buf, off >>> 0, n);
  else cx.sys.memcpy(buf, off >>> 0, cx.proc.bytes, ptr >>> 0, n);
  return n;
}
