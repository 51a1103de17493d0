import type { Co, Task } from '../../sim/scheduler.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TIMED_OUT } from '../../sim/scheduler.js';
import { EINVAL, EIO, ENODEV, ENOENT, ENOSPC, SyscallError } from '../../kernel/errno.js';
import type { PciBarInfo, PciFunctionHandle } from '../../kernel/pcid.js';
import type { DmaBuffer, Mmio, Sys } from '../../kernel/sys.js';
import { newCompletion, type Completion } from './completion.js';
import { SlabTracker } from './slab.js';
import { SkBuff, SkBuffHead } from './skbuff.js';
import type { DelayedWork, DmaPool, DmaPoolBlock, Firmware, Mutex, NapiStruct, Spinlock, TimerList, WorkStruct, Workqueue } from './ext-types.js';
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

  // ======================================================================
  // Extensions: timers, workqueues, locks, firmware, sk_buff, NAPI, DMA pools.
  // ======================================================================

  private extHooked = false;
  private readonly timersPending = new Set<TimerList>();
  private timerSeq = 0;
  private timerTask: Task | undefined;
  private timerIdle = false;
  /** Timer callbacks run so far. */
  timersFired = 0;
  private systemWq: Workqueue | undefined;
  private readonly heldSpinlocks = new Map<Task, Set<Spinlock>>();
  private firmwareDir: string | undefined;
  private readonly firmwareLive = new Set<Firmware>();
  private readonly skbLive = new Set<SkBuff>();
  private nextSkbId = 0;
  private readonly napiList: NapiStruct[] = [];
  private napiTask: Task | undefined;
  private napiIdle = false;
  private readonly dmaPools = new Set<DmaPool>();

  private curTask(): Task { return this.sys.kernel.currentTask(this.sys.ctx); }
  private wakeIf(task: Task | undefined, idle: boolean): void {
    if (task !== undefined && idle) this.sys.kernel.wake(task, 0, this.sys.now);
  }

  private hookExit(): void {
    if (this.extHooked) return;
    this.extHooked = true;
    this.sys.proc.exitHooks.push(() => this.reportExtLeaks());
  }

  /** Leaks of skbs, firmware images and DMA pools at driver exit. */
  reportExtLeaks(): void {
    const d = this.driverName;
    for (const s of [...this.skbLive].sort((a, b) => a.id - b.id)) {
      this.sys.log('warn', `${d}: leak: skb #${s.id} (${s.end} bytes from ${s.tag}) not freed at driver exit`);
    }
    for (const f of this.firmwareLive) this.sys.log('warn', `${d}: leak: firmware ${f.name} not released at driver exit`);
    for (const p of this.dmaPools) {
      this.sys.log('warn', `${d}: leak: dma pool ${p.name} not destroyed at driver exit (${p.live.size} blocks in use)`);
    }
  }

  // ---- kernel timers ---------------------------------------------------
  timer_setup(fn: (t: TimerList) => void): TimerList {
    return { expires: 0, pending: false, seq: 0, fn };
  }

  /** Arms (or re-arms) `t` to fire at jiffy `expires`. Returns 1 if it was pending. */
  mod_timer(t: TimerList, expires: number): number {
    const was = t.pending ? 1 : 0;
    t.expires = expires;
    t.pending = true;
    t.seq = ++this.timerSeq;
    this.timersPending.add(t);
    this.kickTimers();
    return was;
  }

  add_timer(t: TimerList): void { this.mod_timer(t, t.expires); }

  /** Deactivates `t`. Returns 1 if it was pending. */
  del_timer(t: TimerList): number {
    if (!t.pending) return 0;
    t.pending = false;
    this.timersPending.delete(t);
    this.kickTimers();
    return 1;
  }

  /**
   * Callbacks run without yielding, so no callback is ever half-run when
   * another task runs: del_timer_sync is del_timer here.
   */
  del_timer_sync(t: TimerList): number { return this.del_timer(t); }
  timer_pending(t: TimerList): boolean { return t.pending; }

  private kickTimers(): void {
    if (this.timerTask === undefined) {
      const kpi = this;
      const tid = this.sys.spawnThread(`timers/${this.driverName}`, function* (sys) { yield* kpi.timerThread(sys); });
      this.timerTask = this.sys.kernel.sched.tasks[tid];
      return;
    }
    this.wakeIf(this.timerTask, this.timerIdle);
  }

  private *timerThread(sys: Sys): Co<void> {
    for (;;) {
      const nowJ = Math.floor(sys.now / PS_PER_JIFFY);
      const due = [...this.timersPending].filter((t) => t.expires <= nowJ)
        .sort((a, b) => a.expires - b.expires || a.seq - b.seq)
        .map((t) => [t, t.seq] as const);
      if (due.length > 0) {
        for (const [t, seq] of due) {
          if (!t.pending || t.seq !== seq) continue; // deleted or re-armed by an earlier callback
          t.pending = false;
          this.timersPending.delete(t);
          this.timersFired++;
          t.fn(t);
        }
        continue;
      }
      let next: number | undefined;
      for (const t of this.timersPending) if (next === undefined || t.expires < next) next = t.expires;
      this.timerIdle = true;
      yield* sys.kernel.block(sys.ctx, next === undefined ? undefined : next * PS_PER_JIFFY);
      this.timerIdle = false;
    }
  }

  // ---- workqueues ------------------------------------------------------
  alloc_workqueue(name: string): Workqueue {
    const wq: Workqueue = { name, items: [], task: undefined, idle: false, destroyed: false, processed: 0 };
    const kpi = this;
    const tid = this.sys.spawnThread(`kworker/${name}`, function* (sys) { yield* kpi.workerThread(sys, wq); });
    wq.task = this.sys.kernel.sched.tasks[tid];
    return wq;
  }

  /** The shared `system_wq` of this driver (schedule_work). */
  get system_wq(): Workqueue {
    this.systemWq ??= this.alloc_workqueue('events');
    return this.systemWq;
  }

  INIT_WORK(fn: (sys: Sys) => Co<void>): WorkStruct {
    return { fn, pending: false, running: false, queuedGen: 0, runGen: 0, doneGen: 0, wq: undefined, flushers: [] };
  }

  private *workerThread(sys: Sys, wq: Workqueue): Co<void> {
    for (;;) {
      const w = wq.items.shift();
      if (w === undefined) {
        wq.idle = true;
        yield* sys.kernel.block(sys.ctx);
        wq.idle = false;
        continue;
      }
      w.pending = false;
      w.running = true;
      w.runGen = w.queuedGen;
      yield* w.fn(sys);
      w.running = false;
      w.doneGen = w.runGen;
      wq.processed++;
      this.wakeFlushers(w, w.doneGen);
    }
  }

  private wakeFlushers(w: WorkStruct, upTo: number): void {
    const keep: WorkStruct['flushers'] = [];
    for (const f of w.flushers) {
      if (f.gen <= upTo) this.sys.kernel.wake(f.task, 0, this.sys.now);
      else keep.push(f);
    }
    w.flushers.splice(0, w.flushers.length, ...keep);
  }

  /** Queues `w` at the tail of `wq`. False if it was already pending. */
  queue_work(wq: Workqueue, w: WorkStruct): boolean {
    if (wq.destroyed) {
      this.sys.log('error', `${this.driverName}: queue_work on destroyed workqueue ${wq.name}`);
      return false;
    }
    if (w.pending) return false;
    w.pending = true;
    w.queuedGen++;
    w.wq = wq;
    wq.items.push(w);
    this.wakeIf(wq.task, wq.idle);
    return true;
  }

  schedule_work(w: WorkStruct): boolean { return this.queue_work(this.system_wq, w); }

  /** Waits until the last queueing of `w` has run. Returns true if it had to wait. */
  *flush_work(w: WorkStruct): Co<boolean> {
    if (!w.pending && !w.running) return false;
    this.might_sleep('flush_work');
    const gen = w.pending ? w.queuedGen : w.runGen;
    w.flushers.push({ task: this.curTask(), gen });
    yield* this.sys.kernel.block(this.sys.ctx);
    return true;
  }

  /** Removes `w` if pending and waits for a running instance. Returns true if it was pending. */
  *cancel_work_sync(w: WorkStruct): Co<boolean> {
    const was = w.pending;
    if (w.pending && w.wq !== undefined) {
      const i = w.wq.items.indexOf(w);
      if (i >= 0) w.wq.items.splice(i, 1);
      w.pending = false;
      w.queuedGen = w.running ? w.runGen : w.doneGen;
      // Flushers of the cancelled instance have nothing left to wait for (beyond a running one).
      if (!w.running) this.wakeFlushers(w, Number.MAX_SAFE_INTEGER);
    }
    if (w.running) yield* this.flush_work(w);
    return was;
  }

  /** Waits until everything queued on `wq` before the call has run. */
  *flush_workqueue(wq: Workqueue): Co<void> {
    const barrier = this.INIT_WORK(function* () { /* barrier */ });
    if (this.queue_work(wq, barrier)) yield* this.flush_work(barrier);
  }

  /** Drains `wq`, then stops its worker. */
  *destroy_workqueue(wq: Workqueue): Co<void> {
    if (wq.destroyed) return;
    yield* this.flush_workqueue(wq);
    wq.destroyed = true;
    if (wq.task !== undefined) this.sys.kernel.sched.kill(wq.task);
    if (this.systemWq === wq) this.systemWq = undefined;
  }

  INIT_DELAYED_WORK(fn: (sys: Sys) => Co<void>): DelayedWork {
    const work = this.INIT_WORK(fn);
    const dw: DelayedWork = {
      work,
      wq: undefined,
      timer: this.timer_setup(() => { if (dw.wq !== undefined) this.queue_work(dw.wq, work); }),
    };
    return dw;
  }

  /** Queues `dw.work` on `wq` after `delay` jiffies. False if already pending (timer or queue). */
  queue_delayed_work(wq: Workqueue, dw: DelayedWork, delay: number): boolean {
    if (dw.work.pending || dw.timer.pending) return false;
    dw.wq = wq;
    if (delay <= 0) return this.queue_work(wq, dw.work);
    this.mod_timer(dw.timer, this.jiffies + delay);
    return true;
  }

  schedule_delayed_work(dw: DelayedWork, delay: number): boolean {
    return this.queue_delayed_work(this.system_wq, dw, delay);
  }

  delayed_work_pending(dw: DelayedWork): boolean { return dw.timer.pending || dw.work.pending; }

  *cancel_delayed_work_sync(dw: DelayedWork): Co<boolean> {
    const t = this.del_timer(dw.timer) === 1;
    const w = yield* this.cancel_work_sync(dw.work);
    return t || w;
  }

  // ---- locks -----------------------------------------------------------
  /**
   * Logs an error if the calling task holds a spinlock: it is about to
   * sleep. (Sleeps through other calls are caught at spin_unlock.)
   */
  might_sleep(what: string): void {
    const held = this.heldSpinlocks.get(this.curTask());
    if (held === undefined) return;
    for (const l of held) {
      this.sys.log('error', `${this.driverName}: BUG: ${what} (sleeping) while holding spinlock ${l.name}`);
      l.sleepReported = true;
    }
  }

  spin_lock_init(name: string): Spinlock {
    return { name, owner: undefined, waitSeq: 0, sleepReported: false };
  }

  spin_lock(l: Spinlock): void {
    const task = this.curTask();
    if (l.owner === task) {
      this.sys.log('error', `${this.driverName}: BUG: recursive spin_lock of ${l.name} (deadlock)`);
      return;
    }
    if (l.owner !== undefined) {
      this.sys.log('error', `${this.driverName}: BUG: spin_lock of ${l.name} held by task ${l.owner.name}, which slept while holding it (would spin forever)`);
      this.heldSpinlocks.get(l.owner)?.delete(l);
    }
    l.owner = task;
    l.waitSeq = task.waitSeq;
    l.sleepReported = false;
    let held = this.heldSpinlocks.get(task);
    if (held === undefined) this.heldSpinlocks.set(task, held = new Set());
    held.add(l);
  }

  spin_unlock(l: Spinlock): void {
    const task = this.curTask();
    if (l.owner === undefined) {
      this.sys.log('error', `${this.driverName}: BUG: spin_unlock of unlocked spinlock ${l.name}`);
      return;
    }
    if (l.owner !== task) {
      this.sys.log('error', `${this.driverName}: BUG: spin_unlock of ${l.name} by task ${task.name}, held by ${l.owner.name}`);
    } else if (task.waitSeq !== l.waitSeq && !l.sleepReported) {
      this.sys.log('error', `${this.driverName}: BUG: sleeping while holding spinlock ${l.name}`);
    }
    const held = this.heldSpinlocks.get(l.owner);
    held?.delete(l);
    if (held !== undefined && held.size === 0) this.heldSpinlocks.delete(l.owner);
    l.owner = undefined;
  }

  /** Returns the saved flags. IRQ handlers run in their own threads, so only lock state matters. */
  spin_lock_irqsave(l: Spinlock): number { this.spin_lock(l); return 1; }
  spin_unlock_irqrestore(l: Spinlock, _flags: number): void { this.spin_unlock(l); }
  spin_lock_bh(l: Spinlock): void { this.spin_lock(l); }
  spin_unlock_bh(l: Spinlock): void { this.spin_unlock(l); }

  mutex_init(name: string): Mutex { return { name, owner: undefined, waiters: [] }; }
  mutex_is_locked(m: Mutex): boolean { return m.owner !== undefined; }

  /** Blocks while held; waiters get the mutex in the order they asked (handoff on unlock). */
  *mutex_lock(m: Mutex): Co<void> {
    const task = this.curTask();
    if (m.owner === task) {
      this.sys.log('error', `${this.driverName}: BUG: recursive mutex_lock of ${m.name} (deadlock)`);
      return;
    }
    this.might_sleep(`mutex_lock(${m.name})`);
    if (m.owner === undefined) { m.owner = task; return; }
    m.waiters.push(task);
    yield* this.sys.kernel.block(this.sys.ctx);
  }

  /** 1 if acquired, 0 if held. */
  mutex_trylock(m: Mutex): number {
    if (m.owner !== undefined) return 0;
    m.owner = this.curTask();
    return 1;
  }

  mutex_unlock(m: Mutex): void {
    const task = this.curTask();
    if (m.owner === undefined) {
      this.sys.log('error', `${this.driverName}: BUG: mutex_unlock of unlocked mutex ${m.name}`);
      return;
    }
    if (m.owner !== task) this.sys.log('error', `${this.driverName}: BUG: mutex_unlock of ${m.name} by task ${task.name}, owned by ${m.owner.name}`);
    const next = m.waiters.shift();
    m.owner = next;
    if (next !== undefined) this.sys.kernel.wake(next, 0, this.sys.now);
  }

  // ---- firmware --------------------------------------------------------
  setFirmwareDir(dir: string): void { this.firmwareDir = dir; }

  /**
   * Loads `/lib/firmware/<name>` from the firmware directory: a round trip
   * to the firmware-loading scheme (blocking) plus the copy into driver
   * memory. Returns the image or a negated errno.
   */
  *request_firmware(name: string): Co<Firmware | number> {
    this.might_sleep('request_firmware');
    const costs = this.sys.ctx.core.costs;
    yield* this.sys.sleep(2 * costs.schemeHopPs);
    const dir = this.firmwareDir;
    const bad = name === '' || name.split('/').some((p) => p === '..' || p === '');
    const file = dir === undefined || bad ? undefined : join(dir, name);
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) {
      this.sys.log('error', `${this.driverName}: Direct firmware load for ${name} failed with error -${ENOENT} (not found in ${dir ?? '(no firmware directory set)'})`);
      return -ENOENT;
    }
    const src = new Uint8Array(readFileSync(file));
    const data = new Uint8Array(src.length);
    this.sys.memcpy(data, 0, src, 0, src.length);
    const fw: Firmware = { name, data, size: data.length };
    this.firmwareLive.add(fw);
    this.hookExit();
    return fw;
  }

  release_firmware(fw: Firmware | null | undefined): void {
    if (fw === null || fw === undefined) return;
    if (!this.firmwareLive.delete(fw)) this.sys.log('error', `${this.driverName}: release_firmware of ${fw.name}, which is not loaded`);
  }

  // ---- sk_buff ---------------------------------------------------------
  alloc_skb(size: number, tag = 'alloc_skb'): SkBuff {
    const skb = new SkBuff(this.nextSkbId++, new Uint8Array(size), tag);
    this.skbLive.add(skb);
    this.hookExit();
    return skb;
  }

  /** alloc_skb with NET_SKB_PAD (32) bytes of headroom reserved. */
  dev_alloc_skb(len: number, tag = 'dev_alloc_skb'): SkBuff {
    const skb = this.alloc_skb(len + 32, tag);
    this.skb_reserve(skb, 32);
    return skb;
  }

  /** Extends the data at the tail; returns the added area. Overflow is skb_over_panic (the driver crashes). */
  skb_put(skb: SkBuff, len: number): Uint8Array {
    if (skb.tail + len > skb.end) throw new Error(`skb_over_panic: skb_put ${len} with tailroom ${skb.end - skb.tail} (skb #${skb.id})`);
    const at = skb.tail;
    skb.tail += len;
    return skb.head.subarray(at, skb.tail);
  }

  skb_put_data(skb: SkBuff, data: Uint8Array): Uint8Array {
    const p = this.skb_put(skb, data.length);
    p.set(data);
    return p;
  }

  /** Extends the data at the head; returns the new data (starting with the pushed bytes). */
  skb_push(skb: SkBuff, len: number): Uint8Array {
    if (len > skb.data) throw new Error(`skb_under_panic: skb_push ${len} with headroom ${skb.data} (skb #${skb.id})`);
    skb.data -= len;
    return skb.bytes;
  }

  /** Removes `len` bytes from the head; returns the remaining data, or null if shorter than len. */
  skb_pull(skb: SkBuff, len: number): Uint8Array | null {
    if (len > skb.len) return null;
    skb.data += len;
    return skb.bytes;
  }

  skb_trim(skb: SkBuff, len: number): void { if (skb.len > len) skb.tail = skb.data + len; }

  /** Reserves headroom in an empty skb. */
  skb_reserve(skb: SkBuff, len: number): void {
    if (skb.tail + len > skb.end) throw new Error(`skb_over_panic: skb_reserve ${len} (skb #${skb.id})`);
    skb.data += len;
    skb.tail += len;
  }

  skb_headroom(skb: SkBuff): number { return skb.data; }
  skb_tailroom(skb: SkBuff): number { return skb.end - skb.tail; }

  kfree_skb(skb: SkBuff | null | undefined): void {
    if (skb === null || skb === undefined) return;
    if (!this.skbLive.delete(skb)) this.sys.log('error', `${this.driverName}: kfree_skb of skb #${skb.id}, which is not allocated or already freed`);
  }

  dev_kfree_skb_any(skb: SkBuff | null | undefined): void { this.kfree_skb(skb); }
  consume_skb(skb: SkBuff | null | undefined): void { this.kfree_skb(skb); }
  skbLiveCount(): number { return this.skbLive.size; }

  skb_queue_head_init(): SkBuffHead { return new SkBuffHead(); }
  skb_queue_tail(q: SkBuffHead, skb: SkBuff): void { q.list.push(skb); }
  skb_queue_head(q: SkBuffHead, skb: SkBuff): void { q.list.unshift(skb); }
  skb_dequeue(q: SkBuffHead): SkBuff | null { return q.list.shift() ?? null; }
  skb_peek(q: SkBuffHead): SkBuff | null { return q.list[0] ?? null; }
  skb_queue_len(q: SkBuffHead): number { return q.qlen; }
  skb_queue_empty(q: SkBuffHead): boolean { return q.qlen === 0; }
  skb_queue_purge(q: SkBuffHead): void { for (const s of q.list.splice(0)) this.kfree_skb(s); }

  // ---- NAPI ------------------------------------------------------------
  netif_napi_add(poll: (napi: NapiStruct, budget: number) => number, weight = 64): NapiStruct {
    return { poll, weight, enabled: false, scheduled: false, polls: 0 };
  }

  napi_enable(n: NapiStruct): void { n.enabled = true; }

  napi_disable(n: NapiStruct): void {
    n.enabled = false;
    n.scheduled = false;
    const i = this.napiList.indexOf(n);
    if (i >= 0) this.napiList.splice(i, 1);
  }

  netif_napi_del(n: NapiStruct): void { this.napi_disable(n); }

  /** Schedules a poll in the driver's softirq thread (safe from IRQ handlers). False if already scheduled or disabled. */
  napi_schedule(n: NapiStruct): boolean {
    if (!n.enabled || n.scheduled) return false;
    n.scheduled = true;
    this.napiList.push(n);
    if (this.napiTask === undefined) {
      const kpi = this;
      const tid = this.sys.spawnThread(`softirq/${this.driverName}`, function* (sys) { yield* kpi.napiThread(sys); });
      this.napiTask = this.sys.kernel.sched.tasks[tid];
    } else {
      this.wakeIf(this.napiTask, this.napiIdle);
    }
    return true;
  }

  /** Called by poll when it is done (work < budget): interrupts may be re-enabled. */
  napi_complete_done(n: NapiStruct, _work: number): boolean {
    n.scheduled = false;
    return true;
  }

  private *napiThread(sys: Sys): Co<void> {
    for (;;) {
      const n = this.napiList.shift();
      if (n === undefined) {
        this.napiIdle = true;
        yield* sys.kernel.block(sys.ctx);
        this.napiIdle = false;
        continue;
      }
      n.polls++;
      const work = n.poll(n, n.weight);
      if (work > n.weight) this.sys.log('error', `${this.driverName}: napi poll returned ${work}, more than its budget ${n.weight}`);
      if (work >= n.weight) {
        // Whole budget used: more work is likely, poll again (after the others).
        if (n.enabled && n.scheduled && !this.napiList.includes(n)) this.napiList.push(n);
      } else if (n.scheduled && !this.napiList.includes(n)) {
        this.sys.log('error', `${this.driverName}: napi poll returned ${work} < budget ${n.weight} without napi_complete_done`);
        n.scheduled = false;
      }
      if (this.napiList.length > 0) yield* sys.yield();
    }
  }

  // ---- DMA pools -------------------------------------------------------
  /** Fixed-size DMA blocks carved from physalloc pages. */
  dma_pool_create(name: string, size: number, align = 8): DmaPool {
    const a = Math.max(1, align);
    const blockSize = Math.ceil(Math.max(1, size) / a) * a;
    const pageSize = Math.max(4096, Math.ceil(blockSize / 4096) * 4096);
    const pool: DmaPool = { name, size, align: a, blockSize, pageSize, pages: [], free: [], live: new Map(), destroyed: false };
    this.dmaPools.add(pool);
    this.hookExit();
    return pool;
  }

  /** A block ({cpu, dma}), or null when out of memory. */
  dma_pool_alloc(pool: DmaPool): DmaPoolBlock | null {
    if (pool.destroyed) {
      this.sys.log('error', `${this.driverName}: dma_pool_alloc from destroyed pool ${pool.name}`);
      return null;
    }
    if (pool.free.length === 0) {
      let page: DmaBuffer;
      try { page = this.sys.physalloc(pool.pageSize, Math.max(4096, pool.align)); } catch (e) {
        if (e instanceof SyscallError) return null;
        throw e;
      }
      pool.pages.push(page);
      for (let off = 0; off + pool.blockSize <= pool.pageSize; off += pool.blockSize) {
        const cpu = page.view.subarray(off, off + pool.size);
        pool.free.push({ cpu, dv: new DataView(cpu.buffer, cpu.byteOffset, cpu.byteLength), dma: page.phys + off });
      }
    }
    const b = pool.free.shift()!;
    pool.live.set(b.dma, b);
    return b;
  }

  dma_pool_zalloc(pool: DmaPool): DmaPoolBlock | null {
    const b = this.dma_pool_alloc(pool);
    b?.cpu.fill(0);
    return b;
  }

  dma_pool_free(pool: DmaPool, b: DmaPoolBlock): void {
    if (pool.live.get(b.dma) !== b) {
      this.sys.log('error', `${this.driverName}: dma_pool_free ${pool.name}: block 0x${b.dma.toString(16)} not allocated from this pool or already freed`);
      return;
    }
    pool.live.delete(b.dma);
    pool.free.unshift(b); // most recently freed is reused first
  }

  /** Frees the pool's pages; reports blocks still in use. */
  dma_pool_destroy(pool: DmaPool | null | undefined): void {
    if (pool === null || pool === undefined || pool.destroyed) return;
    if (pool.live.size > 0) {
      const addrs = [...pool.live.keys()].sort((a, b) => a - b).map((a) => `0x${a.toString(16)}`).join(', ');
      this.sys.log('error', `${this.driverName}: dma_pool_destroy ${pool.name}: ${pool.live.size} blocks still in use (${addrs})`);
    }
    for (const p of pool.pages) this.sys.physfree(p);
    pool.pages.length = 0;
    pool.free.length = 0;
    pool.live.clear();
    pool.destroyed = true;
    this.dmaPools.delete(pool);
  }

  /** Errors drivers commonly return. */
  static readonly ENODEV = -ENODEV;
  static readonly EIO = -EIO;
}
