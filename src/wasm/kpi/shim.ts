/**
 * The `linux` import module: what guest/include/linux/*.h declare, backed by
 * the same TypeScript linux-kpi (LinuxKpi) the TypeScript drivers use. The
 * C side holds handles (small integers in `__handle` fields) for the
 * shim's objects (a pci_dev, a completion) and pointers into its own memory;
 * MMIO goes through pci_iomap cookies: addresses above the module's memory,
 * 0x80000000 + slot × 256 MiB, so a driver that dereferences one directly
 * traps instead of touching a device behind the shim's back.
 */
import type { LinuxKpi, PciDev, IoMem, DmaCoherent } from '../../drivers/linux-kpi/kpi.js';
import type { Completion } from '../../drivers/linux-kpi/completion.js';
import type { ImportTable, WasmCallContext, WasmProcess } from '../runtime/process.js';
import { WasmTrap } from '../runtime/process.js';

const IOMAP_BASE = 0x8000_0000;
const IOMAP_SLOT = 0x1000_0000;
const IOMAP_SLOTS = 8;
const GFP_ZERO = 0x100;
const EINVAL = 22;

/** Per-process state behind the `linux` imports. */
export class KpiShim {
  private readonly devs: PciDev[] = [];
  private readonly iomaps: (IoMem | undefined)[] = new Array<IoMem | undefined>(IOMAP_SLOTS).fill(undefined);
  private readonly completions: Completion[] = [];
  private readonly coherent = new Map<number, DmaCoherent>();
  /** The `struct pci_driver *` module init registered (0: none yet). */
  driverStruct = 0;
  /** Where kfree/dma frees went wrong: logged once per kind. */
  badFrees = 0;

  constructor(readonly k: LinuxKpi, readonly proc: WasmProcess, readonly params: Readonly<Record<string, unknown>>) {}

  /** A handle (≥ 1) for `pdev`, for the C struct's `__handle`. */
  addDev(pdev: PciDev): number {
    return this.devs.push(pdev);
  }

  dev(h: number): PciDev {
    const d = this.devs[h - 1];
    if (d === undefined) throw new WasmTrap(`device handle ${h} is not a device the kernel interface handed out (a corrupted struct pci_dev?)`, undefined, this.proc.history());
    return d;
  }

  iomap(io: IoMem): number {
    const slot = this.iomaps.indexOf(undefined);
    if (slot < 0) return 0;
    this.iomaps[slot] = io;
    return IOMAP_BASE + slot * IOMAP_SLOT;
  }

  iounmap(addr: number): void {
    const slot = Math.floor(((addr >>> 0) - IOMAP_BASE) / IOMAP_SLOT);
    if (slot >= 0 && slot < IOMAP_SLOTS) this.iomaps[slot] = undefined;
  }

  /** The mapping an iomem cookie falls in; `ioOffset` gets the offset inside it. */
  io(addr: number, size: number): IoMem {
    const a = addr >>> 0;
    const slot = Math.floor((a - IOMAP_BASE) / IOMAP_SLOT);
    const io = slot >= 0 && slot < IOMAP_SLOTS ? this.iomaps[slot] : undefined;
    const off = a - IOMAP_BASE - slot * IOMAP_SLOT;
    if (io === undefined || off + size > io.len) {
      throw new WasmTrap(`MMIO ${size}-byte access at 0x${a.toString(16)}: not inside a pci_iomap mapping`, undefined, this.proc.history());
    }
    this.ioOffset = off;
    return io;
  }
  ioOffset = 0;

  addCompletion(c: Completion): number { return this.completions.push(c); }
  completion(h: number): Completion {
    const c = this.completions[h - 1];
    if (c === undefined) throw new WasmTrap(`completion handle ${h} was never initialised (init_completion missing?)`, undefined, this.proc.history());
    return c;
  }

  private readonly objs: { kind: string; v: unknown }[] = [];

  /** A handle (≥ 1) for a kernel object of `kind` (a spinlock, a work item, a request...). */
  add(kind: string, v: unknown): number {
    return this.objs.push({ kind, v });
  }

  /** The object behind handle `h`; a wrong or stale handle (a corrupted struct) crashes the driver with a report. */
  get<T>(h: number, kind: string): T {
    const o = this.objs[h - 1];
    if (o === undefined || o.kind !== kind) {
      throw new WasmTrap(`${kind} handle ${h} is not one the kernel interface handed out (uninitialised or corrupted struct${o !== undefined ? `; it names a ${o.kind}` : ''})`, undefined, this.proc.history());
    }
    return o.v as T;
  }

  addCoherent(ptr: number, c: DmaCoherent): void { this.coherent.set(ptr, c); }
  takeCoherent(ptr: number): DmaCoherent | undefined {
    const c = this.coherent.get(ptr);
    this.coherent.delete(ptr);
    return c;
  }
}

function shim(cx: WasmCallContext): KpiShim {
  return cx.proc.host as KpiShim;
}

const LEVELS = ['error', 'error', 'error', 'error', 'warn', 'info', 'info', 'debug'] as const;
const levelOf = (n: number) => LEVELS[n & 7]!;

/** The `linux` import module (see the file comment); every name matches a declaration in guest/include. */
export const LINUX_IMPORTS: ImportTable = {
  linux: {
    // ---- printk.h, device.h
    printk: { fn: (cx, level, p, len) => { shim(cx).k.env.log(levelOf(level), cx.proc.string(p, len)); } },
    dev_printk: {
      fn: (cx, level, h, p, len) => {
        const s = shim(cx);
        const text = cx.proc.string(p, len);
        if (h === 0) { s.k.env.log(levelOf(level), text); return; }
        const d = s.dev(h);
        const lv = levelOf(level);
        if (lv === 'error') s.k.dev_err(d, text);
        else if (lv === 'warn') s.k.dev_warn(d, text);
        else if (lv === 'info') s.k.dev_info(d, text);
        else s.k.dev_dbg(d, text);
      },
    },
    // ---- slab.h
    kmalloc: { fn: (cx, size, flags) => cx.proc.malloc(size >>> 0, 16, (flags & GFP_ZERO) !== 0) },
    kfree: {
      fn: (cx, p) => {
        if (!cx.proc.free(p >>> 0)) {
          shim(cx).badFrees++;
          shim(cx).k.env.log('error', `kfree(0x${(p >>> 0).toString(16)}): not a block kmalloc returned (double free?)`);
        }
      },
    },
    // ---- jiffies.h, delay.h
    jiffies: { fn: (cx) => shim(cx).k.jiffies },
    msleep: { blocking: true, fn: (cx, ms) => shim(cx).k.msleep(ms >>> 0) },
    usleep_range: { blocking: true, fn: (cx, lo, hi) => shim(cx).k.usleep_range(lo >>> 0, hi >>> 0) },
    udelay: { fn: (cx, us) => { shim(cx).k.udelay(us >>> 0); } },
    ndelay: { fn: (cx, ns) => { shim(cx).k.ndelay(ns >>> 0); } },
    // ---- io.h
    readb: { fn: (cx, a) => { const s = shim(cx); const io = s.io(a, 1); return s.k.readb(io, s.ioOffset); } },
    readw: { fn: (cx, a) => { const s = shim(cx); const io = s.io(a, 2); return s.k.readw(io, s.ioOffset); } },
    readl: { fn: (cx, a) => { const s = shim(cx); const io = s.io(a, 4); return s.k.readl(io, s.ioOffset); } },
    writeb: { fn: (cx, v, a) => { const s = shim(cx); const io = s.io(a, 1); s.k.writeb(v & 0xff, io, s.ioOffset); } },
    writew: { fn: (cx, v, a) => { const s = shim(cx); const io = s.io(a, 2); s.k.writew(v & 0xffff, io, s.ioOffset); } },
    writel: { fn: (cx, v, a) => { const s = shim(cx); const io = s.io(a, 4); s.k.writel(v >>> 0, io, s.ioOffset); } },
    // ---- pci.h
    pci_register_driver: { fn: (cx, drv) => { shim(cx).driverStruct = drv >>> 0; return 0; } },
    pci_enable_device: { blocking: true, fn: (cx, h) => shim(cx).k.pci_enable_device(shim(cx).dev(h)) },
    pci_disable_device: { blocking: true, fn: (cx, h) => shim(cx).k.pci_disable_device(shim(cx).dev(h)) },
    pci_set_master: { blocking: true, fn: (cx, h) => shim(cx).k.pci_set_master(shim(cx).dev(h)) },
    pci_iomap: {
      fn: (cx, h, bar, maxlen) => {
        const s = shim(cx);
        const io = s.k.pci_iomap(s.dev(h), bar, maxlen >>> 0);
        return io === null ? 0 : s.iomap(io);
      },
    },
    pci_iounmap: { fn: (cx, _h, a) => { shim(cx).iounmap(a); } },
    pci_resource_len: { fn: (cx, h, bar) => shim(cx).k.pci_resource_len(shim(cx).dev(h), bar) },
    pci_alloc_irq_vectors: { blocking: true, fn: (cx, h, min, max, flags) => shim(cx).k.pci_alloc_irq_vectors(shim(cx).dev(h), min, max, flags) },
    pci_free_irq_vectors: { blocking: true, fn: (cx, h) => shim(cx).k.pci_free_irq_vectors(shim(cx).dev(h)) },
    pci_irq_vector: { fn: (cx, h, nr) => shim(cx).k.pci_irq_vector(shim(cx).dev(h), nr) },
    pci_read_config_dword: {
      blocking: true,
      *fn(cx, h, where, out) {
        const v = yield* shim(cx).k.pci_read_config_dword(shim(cx).dev(h), where);
        cx.proc.setU32(out, v);
        return 0;
      },
    },
    pci_write_config_dword: {
      blocking: true,
      *fn(cx, h, where, v) {
        yield* shim(cx).k.pci_write_config_dword(shim(cx).dev(h), where, v >>> 0);
        return 0;
      },
    },
    // ---- dma-mapping.h
    dma_alloc_coherent: {
      fn: (cx, h, size, handle) => {
        const s = shim(cx);
        const c = s.k.dma_alloc_coherent(s.dev(h), size >>> 0);
        if (c === null) return 0;
        const ptr = cx.proc.pointerOf(c.cpu);
        s.addCoherent(ptr, c);
        cx.proc.setU64(handle, c.dma);
        return ptr;
      },
    },
    dma_free_coherent: {
      fn: (cx, h, _size, cpu) => {
        const s = shim(cx);
        const c = s.takeCoherent(cpu >>> 0);
        if (c === undefined) {
          s.badFrees++;
          s.k.env.log('error', `dma_free_coherent(0x${(cpu >>> 0).toString(16)}): not a buffer dma_alloc_coherent returned`);
          return;
        }
        s.k.dma_free_coherent(s.dev(h), c);
      },
    },
    dma_set_mask_and_coherent: { fn: (cx, h, bits) => shim(cx).k.dma_set_mask_and_coherent(shim(cx).dev(h), bits) },
    // ---- interrupt.h
    request_irq: {
      blocking: true,
      *fn(cx, irq, handler, flags, name, devId) {
        const s = shim(cx);
        const proc = cx.proc;
        const fn = proc.tableFunction(handler);
        if (fn === undefined) return -EINVAL;
        const label = `irq handler ${irq}`;
        const main = cx.sys;
        const args = [0, devId];
        return yield* s.k.request_irq(irq, (n: number) => { args[0] = n; return proc.callSync(main, fn, args, label) as 0 | 1; },
          flags, proc.cstring(name, 64), devId);
      },
    },
    free_irq: { fn: (cx, irq) => { shim(cx).k.free_irq(irq); return 0; } },
    // ---- completion.h
    init_completion: { fn: (cx) => { const s = shim(cx); return s.addCompletion(s.k.init_completion()); } },
    reinit_completion: { fn: (cx, h) => { const s = shim(cx); s.k.reinit_completion(s.completion(h)); } },
    complete: { fn: (cx, h) => { const s = shim(cx); s.k.complete(s.completion(h)); } },
    complete_all: { fn: (cx, h) => { const s = shim(cx); s.k.complete_all(s.completion(h)); } },
    wait_for_completion: { blocking: true, fn: (cx, h) => { const s = shim(cx); return s.k.wait_for_completion(s.completion(h)); } },
    wait_for_completion_timeout: { blocking: true, fn: (cx, h, t) => { const s = shim(cx); return s.k.wait_for_completion_timeout(s.completion(h), t >>> 0); } },
    // ---- moduleparam.h
    param_int: {
      fn: (cx, name, dflt) => {
        const v = shim(cx).params[cx.proc.cstring(name, 64)];
        return typeof v === 'number' ? v | 0 : typeof v === 'boolean' ? (v ? 1 : 0) : dflt;
      },
    },
  },
};
