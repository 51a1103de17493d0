import type { Co } from '../../sim/scheduler.js';
import { TIMED_OUT } from '../../sim/scheduler.js';
import { EINVAL, EIO, ENODEV, ENOSPC, SyscallError } from '../../kernel/errno.js';
import type { PciBarInfo, PciFunctionHandle } from '../../kernel/pcid.js';
import type { DmaBuffer, Mmio, Sys } from '../../kernel/sys.js';
import { newCompletion, type Completion } from './completion.js';
import { SlabTracker } from './slab.js';
import { Dma, IrqHandle, mapBar, PciDevice } from '../sys/index.js';

/** Linux `HZ`: jiffies per second in this model. */
export const HZ = 1000;
const PS_PER_JIFFY = 1e12 / HZ;

export const PCI_IRQ_LEGACY = 1 << 0;
export const PCI_IRQ_MSI = 1 << 1;
export const PCI_IRQ_MSIX = 1 << 2;
export const PCI_IRQ_ALL_TYPES = PCI_IRQ_LEGACY | PCI_IRQ_MSI | PCI_IRQ_MSIX;

export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export type IrqReturn = typeof IRQ_NONE | typeof IRQ_HANDLED;
export type IrqHandler = (irq: number, devId: unknown) => IrqReturn;

export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
export const DMA_BIDIRECTIONAL = 0;

/** `struct pci_dev` as drivers see it. */
export interface PciDev {
  readonly vendor: number;
  readonly device: number;
  readonly class: number;
  readonly bdf: string;
  readonly handle: PciFunctionHandle;
  /** Legacy interrupt line (GSI). */
  irq: number;
  driverData: unknown;
  enabled: boolean;
  irqType: 'none' | 'legacy' | 'msi' | 'msix';
  /** Linux irq numbers of allocated vectors. */
  vectors: number[];
}

/** `void __iomem *`: a mapped BAR. */
export interface IoMem {
  readonly mmio: Mmio;
  readonly len: number;
  readonly bar: number;
}

/** A coherent DMA allocation: CPU view and bus address. */
export interface DmaCoherent {
  readonly cpu: Uint8Array;
  readonly dv: DataView;
  readonly dma: number;
  readonly size: number;
  readonly buf: DmaBuffer;
}

/** A streaming mapping (dma_map_single): bounced through a DMA buffer, as swiotlb does. */
export interface DmaMapping {
  readonly dma: number;
  readonly len: number;
  readonly dir: number;
  readonly src: Uint8Array;
  readonly bounce: DmaBuffer;
}

interface IrqVector {
  irq: number;
  handle: IrqHandle;
  kind: 'legacy' | 'msi' | 'msix';
  handler: IrqHandler | undefined;
  devId: unknown;
  name: string;
  thread: number;
  count: number;
}

export interface PciDeviceId {
  vendor?: number;
  device?: number;
  /** Class code and mask (PCI_DEVICE_CLASS). */
  class?: number;
  classMask?: number;
}

/** `struct pci_driver`. */
export interface PciDriver {
  name: string;
  idTable: PciDeviceId[];
  probe(k: LinuxKpi, pdev: PciDev, id: PciDeviceId): Co<number>;
  remove?(k: LinuxKpi, pdev: PciDev): Co<void>;
}

export function pciMatch(table: readonly PciDeviceId[], vendor: number, device: number, cls: number): PciDeviceId | undefined {
  return table.find((id) =>
    (id.vendor === undefined || id.vendor === vendor) &&
    (id.device === undefined || id.device === device) &&
    (id.class === undefined || (cls & (id.classMask ?? 0xffffff)) === (id.class & (id.classMask ?? 0xffffff))));
}

/**
 * The Linux kernel API a ported driver calls, implemented on the Redox
 * model (Sys, pcid, irq:, memory:). One instance per driver process. Linux
 * functions keep their names so ported code reads like the original.
 * Interrupt handlers run in a per-vector IRQ thread of the driver process,
 * woken by the irq: handle, and must not block (they are plain functions).
 */
export class LinuxKpi {
  readonly slab = new SlabTracker();
  private readonly irqs = new Map<number, IrqVector>();
  private nextMsiIrq = 256;
  private readonly scratch = new Uint8Array(8);
  private coherent = new Set<DmaBuffer>();

  constructor(readonly sys: Sys, readonly driverName: string) {
    sys.proc.exitHooks.push(() => this.reportLeaks());
  }

  // ---- logging ---------------------------------------------------------
  dev_err(pdev: PciDev, msg: string): void { this.sys.log('error', `${this.driverName} ${pdev.bdf}: ${msg}`); }
  dev_warn(pdev: PciDev, msg: string): void { this.sys.log('warn', `${this.driverName} ${pdev.bdf}: ${msg}`); }
  dev_info(pdev: PciDev, msg: string): void { this.sys.log('info', `${this.driverName} ${pdev.bdf}: ${msg}`); }
  dev_dbg(pdev: PciDev, msg: string): void { this.sys.log('debug', `${this.driverName} ${pdev.bdf}: ${msg}`); }

  // ---- time ------------------------------------------------------------
  get jiffies(): number { return Math.floor(this.sys.now / PS_PER_JIFFY); }
  msecs_to_jiffies(ms: number): number { return Math.ceil((ms * HZ) / 1000); }
  jiffies_to_msecs(j: number): number { return (j * 1000) / HZ; }
  time_after(a: number, b: number): boolean { return a > b; }
  *msleep(ms: number): Co<void> { yield* this.sys.sleep(ms * 1e9); }
  *usleep_range(minUs: number, _maxUs: number): Co<void> { yield* this.sys.sleep(minUs * 1e6); }
  /** Busy-wait: the core spins (devices keep running). */
  udelay(us: number): void { this.sys.spin(us * 1e6); }
  ndelay(ns: number): void { this.sys.spin(ns * 1e3); }

  // ---- memory ----------------------------------------------------------
  kmalloc(size: number, tag = 'kmalloc'): Uint8Array { return this.slab.alloc(size, tag, false); }
  kzalloc(size: number, tag = 'kzalloc'): Uint8Array { return this.slab.alloc(size, tag, true); }
  kfree(p: Uint8Array | null | undefined): void {
    if (!this.slab.free(p)) this.sys.log('error', `${this.driverName}: kfree of memory that was not allocated or already freed`);
  }

  /** Reports allocations still live when the driver process ends. */
  reportLeaks(): void {
    for (const b of this.slab.leaks()) {
      this.sys.log('warn', `${this.driverName}: leak: ${b.size} bytes from ${b.tag} (allocation #${b.id}) not freed at driver exit`);
    }
    if (this.coherent.size > 0) {
      this.sys.log('warn', `${this.driverName}: leak: ${this.coherent.size} coherent DMA buffers not freed at driver exit`);
    }
  }

  // ---- PCI -------------------------------------------------------------
  makePciDev(handle: PciFunctionHandle): PciDev {
    const i = handle.info;
    return {
      vendor: i.vendorId, device: i.deviceId, class: i.classCode, bdf: i.bdf, handle,
      irq: i.irqLine, driverData: undefined, enabled: false, irqType: 'none', vectors: [],
    };
  }

  *pci_enable_device(pdev: PciDev): Co<number> {
    yield* pdev.handle.enableDevice();
    pdev.enabled = true;
    return 0;
  }

  *pci_disable_device(pdev: PciDev): Co<void> {
    yield* pdev.handle.setBusMaster(false);
    pdev.enabled = false;
  }

  *pci_set_master(pdev: PciDev): Co<void> { yield* pdev.handle.setBusMaster(true); }
  *pci_clear_master(pdev: PciDev): Co<void> { yield* pdev.handle.setBusMaster(false); }

  pci_resource(pdev: PciDev, bar: number): PciBarInfo | undefined { return pdev.handle.bar(bar); }
  pci_resource_start(pdev: PciDev, bar: number): number { return pdev.handle.bar(bar)?.addr ?? 0; }
  pci_resource_len(pdev: PciDev, bar: number): number { return pdev.handle.bar(bar)?.size ?? 0; }

  /** Maps a memory BAR (0 = whole BAR). Returns null if the BAR is absent or not memory. */
  pci_iomap(pdev: PciDev, bar: number, maxlen = 0): IoMem | null {
    const b = pdev.handle.bar(bar);
    if (b === undefined || b.kind === 'io' || b.addr === 0) return null;
    const mmio = mapBar(this.sys, pdev.handle, bar, maxlen);
    return { mmio, len: mmio.size, bar };
  }

  pci_iounmap(_pdev: PciDev, _io: IoMem): void {}

  *pci_read_config_dword(pdev: PciDev, off: number): Co<number> { return yield* pdev.handle.readConfig(off, 4); }
  *pci_read_config_word(pdev: PciDev, off: number): Co<number> { return yield* pdev.handle.readConfig(off, 2); }
  *pci_write_config_word(pdev: PciDev, off: number, v: number): Co<void> { yield* pdev.handle.writeConfig(off, 2, v); }
  *pci_write_config_dword(pdev: PciDev, off: number, v: number): Co<void> { yield* pdev.handle.writeConfig(off, 4, v); }

  // ---- MMIO ------------------------------------------------------------
  readb(io: IoMem, off: number): number { return io.mmio.read8(off); }
  readw(io: IoMem, off: number): number { return io.mmio.read16(off); }
  readl(io: IoMem, off: number): number { return io.mmio.read32(off); }
  writeb(v: number, io: IoMem, off: number): void { io.mmio.write8(off, v); }
  writew(v: number, io: IoMem, off: number): void { io.mmio.write16(off, v); }
  writel(v: number, io: IoMem, off: number): void { io.mmio.write32(off, v); }
  /** 64-bit read as two dword reads, low then high (lo_hi_readq; the bus splits qwords). */
  readq(io: IoMem, off: number): bigint {
    const lo = io.mmio.read32(off);
    const hi = io.mmio.read32(off + 4);
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** 64-bit write as two dword writes, low then high (lo_hi_writeq). */
  writeq(v: bigint | number, io: IoMem, off: number): void {
    const b = BigInt(v);
    io.mmio.write32(off, Number(b & 0xffffffffn));
    io.mmio.write32(off + 4, Number((b >> 32n) & 0xffffffffn));
  }

  // ---- DMA -------------------------------------------------------------
  dma_set_mask_and_coherent(_pdev: PciDev, _bits: number): number { return 0; }

  dma_alloc_coherent(_pdev: PciDev, size: number): DmaCoherent | null {
    try {
      const buf = Dma.zeroed(this.sys, size).buf;
      this.coherent.add(buf);
      return { cpu: buf.view.subarray(0, size), dv: buf.dv, dma: buf.phys, size, buf };
    } catch (e) {
      if (e instanceof SyscallError) return null;
      throw e;
    }
  }

  dma_free_coherent(_pdev: PciDev, mem: DmaCoherent): void {
    if (!this.coherent.delete(mem.buf)) {
      this.sys.log('error', `${this.driverName}: dma_free_coherent of a buffer that is not allocated`);
      return;
    }
    this.sys.physfree(mem.buf);
  }

  /** Maps a CPU buffer for one transfer; the device sees a bounce buffer. */
  dma_map_single(_pdev: PciDev, src: Uint8Array, dir: number): DmaMapping | null {
    let bounce: DmaBuffer;
    try { bounce = this.sys.physalloc(Math.max(1, src.length)); } catch { return null; }
    if (dir !== DMA_FROM_DEVICE) this.sys.memcpy(bounce.view, 0, src, 0, src.length);
    return { dma: bounce.phys, len: src.length, dir, src, bounce };
  }

  dma_unmap_single(_pdev: PciDev, m: DmaMapping): void {
    if (m.dir !== DMA_TO_DEVICE) this.sys.memcpy(m.src, 0, m.bounce.view, 0, m.len);
    this.sys.physfree(m.bounce);
  }

  // ---- interrupts ------------------------------------------------------
  /**
   * Allocates between min and max vectors of the allowed types, preferring
   * MSI-X, then MSI (one vector), then the legacy line. Returns the count
   * or a negated errno.
   */
  *pci_alloc_irq_vectors(pdev: PciDev, min: number, max: number, flags: number): Co<number> {
    if (pdev.irqType !== 'none') return -EINVAL;
    const dev = new PciDevice(this.sys, pdev.handle);
    const add = (irq: number, h: IrqHandle, kind: IrqVector['kind']) => {
      this.irqs.set(irq, { irq, handle: h, kind, handler: undefined, devId: undefined, name: '', thread: -1, count: 0 });
      pdev.vectors.push(irq);
    };
    if (flags & PCI_IRQ_MSIX) {
      const info = yield* pdev.handle.msixInfo();
      if (info !== undefined && info.tableSize >= min) {
        const hs = yield* dev.enableMsix(Math.min(max, info.tableSize));
        if (hs !== undefined) {
          for (const h of hs) add(this.nextMsiIrq++, h, 'msix');
          pdev.irqType = 'msix';
          return hs.length;
        }
      }
    }
    if ((flags & PCI_IRQ_MSI) && min <= 1) {
      const h = yield* dev.enableMsi();
      if (h !== undefined) {
        add(this.nextMsiIrq++, h, 'msi');
        pdev.irqType = 'msi';
        return 1;
      }
    }
    if ((flags & PCI_IRQ_LEGACY) && min <= 1) {
      const h = yield* dev.legacyIrq();
      if (h !== undefined) {
        add(pdev.irq, h, 'legacy');
        pdev.irqType = 'legacy';
        return 1;
      }
    }
    return -ENOSPC;
  }

  pci_irq_vector(pdev: PciDev, nr: number): number {
    return pdev.vectors[nr] ?? -EINVAL;
  }

  *pci_free_irq_vectors(pdev: PciDev): Co<void> {
    for (const irq of pdev.vectors) {
      const v = this.irqs.get(irq);
      if (v === undefined) continue;
      yield* v.handle.close();
      this.irqs.delete(irq);
    }
    if (pdev.irqType === 'msix') yield* pdev.handle.setMsix(false, false);
    pdev.vectors = [];
    pdev.irqType = 'none';
  }

  /**
   * Installs `handler` for `irq`: an IRQ thread waits on the vector's irq:
   * handle and calls it for each interrupt (acknowledging legacy lines).
   */
  *request_irq(irq: number, handler: IrqHandler, _flags: number, name: string, devId: unknown): Co<number> {
    const v = this.irqs.get(irq);
    if (v === undefined) return -EINVAL;
    if (v.handler !== undefined) return -EINVAL;
    v.handler = handler;
    v.devId = devId;
    v.name = name;
    const kpi = this;
    v.thread = this.sys.spawnThread(`irq/${irq}-${name}`, function* (sys) {
      for (;;) {
        const n = yield* v.handle.wait(sys);
        if (n < 0) return;
        if (v.handler === undefined) return;
        v.count++;
        const r = v.handler(irq, v.devId);
        if (v.kind === 'legacy') yield* v.handle.ack(sys);
        if (r === IRQ_NONE && v.kind !== 'legacy') kpi.sys.log('debug', `irq ${irq}: handler returned IRQ_NONE`);
      }
    });
    return 0;
  }

  free_irq(irq: number): void {
    const v = this.irqs.get(irq);
    if (v === undefined) return;
    v.handler = undefined;
    const t = this.sys.kernel.sched.tasks[v.thread];
    if (t !== undefined) this.sys.kernel.sched.kill(t);
  }

  irqCount(irq: number): number {
    return this.irqs.get(irq)?.count ?? 0;
  }

  // ---- completions -------------------------------------------------------
  init_completion(): Completion { return newCompletion(); }
  reinit_completion(c: Completion): void { c.done = 0; }

  /** Wakes one waiter (or banks the completion). Safe from IRQ handlers. */
  complete(c: Completion): void {
    const w = c.waiters.shift();
    if (w !== undefined) this.sys.kernel.wake(w, 1, this.sys.now);
    else c.done++;
  }

  complete_all(c: Completion): void {
    for (const w of c.waiters.splice(0)) this.sys.kernel.wake(w, 1, this.sys.now);
    c.done = Number.MAX_SAFE_INTEGER;
  }

  *wait_for_completion(c: Completion): Co<void> {
    yield* this.wait_for_completion_timeout(c, Infinity);
  }

  /** Returns 0 on timeout, else the jiffies left (at least 1). Call from any task of the driver. */
  *wait_for_completion_timeout(c: Completion, timeoutJiffies: number): Co<number> {
    if (c.done > 0) {
      c.done--;
      return timeoutJiffies === Infinity ? 1 : Math.max(1, timeoutJiffies);
    }
    const sched = this.sys.kernel.sched;
    const task = sched.current;
    if (task === undefined) throw new Error('wait_for_completion outside a task');
    const now = Math.max(this.sys.kernel.cores[task.core]!.time, this.sys.kernel.queue.now);
    const deadline = timeoutJiffies === Infinity ? undefined : now + timeoutJiffies * PS_PER_JIFFY;
    c.waiters.push(task);
    const r = yield* sched.wait(task, deadline);
    if (r === TIMED_OUT) {
      const i = c.waiters.indexOf(task);
      if (i >= 0) c.waiters.splice(i, 1);
      return 0;
    }
    if (deadline === undefined) return 1;
    return Math.max(1, Math.ceil((deadline - this.sys.now) / PS_PER_JIFFY));
  }

  /** kthread_run: another thread of the driver process. */
  kthread_run(name: string, fn: (sys: Sys) => Co<void>): number {
    return this.sys.spawnThread(name, fn);
  }

  /** Errors drivers commonly return. */
  static readonly ENODEV = -ENODEV;
  static readonly EIO = -EIO;
}
