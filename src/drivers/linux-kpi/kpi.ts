import { EIO, ENODEV } from '../../kernel/errno.js';
import type { PciBarInfo, PciFunctionHandle } from '../../kernel/pcid.js';
import type { Co, Sys } from '../../kernel/sys.js';
import { LinuxBlkMq } from './blk-mq.js';
import { LinuxCompletion, type Completion } from './completion.js';
import { LinuxDelay } from './delay.js';
import { LinuxDeviceLog } from './device.js';
import { LinuxDmaMapping, type DmaCoherent, type DmaMapping } from './dma-mapping.js';
import { LinuxDmaPool, type DmaPool, type DmaPoolBlock } from './dmapool.js';
import { KpiEnv } from './env.js';
import { LinuxFirmware, type Firmware } from './firmware.js';
import { LinuxInterrupt, type IrqHandler } from './interrupt.js';
import { LinuxIo, type IoMem } from './io.js';
import { LinuxJiffies } from './jiffies.js';
import { LinuxKthread } from './kthread.js';
import { LinuxMutex, type Mutex } from './mutex.js';
import { LinuxNapi, type NapiStruct } from './napi.js';
import { LinuxNetdev, type NetDevice } from './netdev.js';
import { LinuxPci, type PciDev } from './pci.js';
import { LinuxSkb, type SkBuff, type SkBuffHead } from './skbuff.js';
import { LinuxSlab, type SlabTracker } from './slab.js';
import { LinuxSpinlocks, type Spinlock } from './spinlock.js';
import { LinuxTimers, type TimerList } from './timer.js';
import { LinuxWorkqueue, type DelayedWork, type WorkStruct, type Workqueue } from './workqueue.js';

export { HZ } from './jiffies.js';
export { PCI_IRQ_LEGACY, PCI_IRQ_MSI, PCI_IRQ_MSIX, PCI_IRQ_ALL_TYPES, IRQ_NONE, IRQ_HANDLED } from './interrupt.js';
export type { IrqReturn, IrqHandler } from './interrupt.js';
export { DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL } from './dma-mapping.js';
export type { DmaCoherent, DmaMapping } from './dma-mapping.js';
export { pciMatch } from './pci.js';
export type { PciDev, PciDeviceId, PciDriver } from './pci.js';
export type { IoMem } from './io.js';

/**
 * The Linux kernel API a ported driver calls, implemented on the Redox
 * model through `Sys` alone (plus pcid, irq: and memory: through
 * src/drivers/sys). One instance per driver process. Linux functions keep
 * their names so ported code reads like the original.
 *
 * This class is a facade: each group of functions lives in the module of
 * the Linux header it stands for (pci.ts, io.ts, dma-mapping.ts,
 * dmapool.ts, interrupt.ts, completion.ts, timer.ts, workqueue.ts,
 * spinlock.ts, mutex.ts, firmware.ts, skbuff.ts, napi.ts, netdev.ts, slab.ts,
 * device.ts, jiffies.ts, delay.ts, kthread.ts), reachable here as a field
 * and through the delegating methods below.
 */
export class LinuxKpi {
  readonly env: KpiEnv;
  readonly kmem: LinuxSlab;
  readonly devlog: LinuxDeviceLog;
  readonly time: LinuxJiffies;
  readonly delay: LinuxDelay;
  readonly pci: LinuxPci;
  readonly io = new LinuxIo();
  readonly dma: LinuxDmaMapping;
  readonly dmaPools: LinuxDmaPool;
  readonly irq: LinuxInterrupt;
  readonly completions: LinuxCompletion;
  readonly kthreads: LinuxKthread;
  readonly timers: LinuxTimers;
  readonly workqueues: LinuxWorkqueue;
  readonly spinlocks: LinuxSpinlocks;
  readonly mutexes: LinuxMutex;
  readonly firmware: LinuxFirmware;
  readonly skb: LinuxSkb;
  readonly napi: LinuxNapi;
  readonly netdev: LinuxNetdev;
  readonly blk: LinuxBlkMq;
  private extHooked = false;

  constructor(readonly sys: Sys, readonly driverName: string) {
    const env = this.env = new KpiEnv(sys, driverName);
    const hookExt = () => this.hookExit();
    this.kmem = new LinuxSlab(env);
    this.devlog = new LinuxDeviceLog(env);
    this.time = new LinuxJiffies(sys);
    this.delay = new LinuxDelay(sys);
    this.pci = new LinuxPci(sys);
    this.dma = new LinuxDmaMapping(env);
    this.dmaPools = new LinuxDmaPool(env, hookExt);
    this.irq = new LinuxInterrupt(env);
    this.completions = new LinuxCompletion(sys);
    this.kthreads = new LinuxKthread(sys);
    this.timers = new LinuxTimers(env);
    this.spinlocks = new LinuxSpinlocks(env);
    this.mutexes = new LinuxMutex(env, this.spinlocks);
    this.workqueues = new LinuxWorkqueue(env, this.timers, this.time, this.spinlocks);
    this.firmware = new LinuxFirmware(env, this.spinlocks, hookExt);
    this.skb = new LinuxSkb(env, hookExt);
    this.napi = new LinuxNapi(env);
    this.netdev = new LinuxNetdev(env);
    this.blk = new LinuxBlkMq(env, this.time, this.timers, this.workqueues);
    sys.atExit(() => this.reportLeaks());
  }

  /** The kmalloc allocation tracker (live blocks, totals, bad frees). */
  get slab(): SlabTracker { return this.kmem.tracker; }

  // ---- logging (device.h) ----------------------------------------------
  dev_err(pdev: PciDev, msg: string): void { this.devlog.dev_err(pdev, msg); }
  dev_warn(pdev: PciDev, msg: string): void { this.devlog.dev_warn(pdev, msg); }
  dev_info(pdev: PciDev, msg: string): void { this.devlog.dev_info(pdev, msg); }
  dev_dbg(pdev: PciDev, msg: string): void { this.devlog.dev_dbg(pdev, msg); }

  // ---- time (jiffies.h, delay.h) -----------------------------------------
  get jiffies(): number { return this.time.jiffies; }
  msecs_to_jiffies(ms: number): number { return this.time.msecs_to_jiffies(ms); }
  jiffies_to_msecs(j: number): number { return this.time.jiffies_to_msecs(j); }
  time_after(a: number, b: number): boolean { return this.time.time_after(a, b); }
  msleep(ms: number): Co<void> { return this.delay.msleep(ms); }
  usleep_range(minUs: number, maxUs: number): Co<void> { return this.delay.usleep_range(minUs, maxUs); }
  /** Busy-wait: the core spins (devices keep running). */
  udelay(us: number): void { this.delay.udelay(us); }
  ndelay(ns: number): void { this.delay.ndelay(ns); }

  // ---- memory (slab.h) ---------------------------------------------------
  kmalloc(size: number, tag = 'kmalloc'): Uint8Array { return this.kmem.kmalloc(size, tag); }
  kzalloc(size: number, tag = 'kzalloc'): Uint8Array { return this.kmem.kzalloc(size, tag); }
  kfree(p: Uint8Array | null | undefined): void { this.kmem.kfree(p); }

  /** Reports kmalloc blocks and coherent DMA buffers still live when the driver process ends. */
  reportLeaks(): void {
    this.kmem.reportLeaks();
    this.dma.reportLeaks();
  }

  /** Registers, on first use, the exit report of skbs, firmware images and DMA pools. */
  private hookExit(): void {
    if (this.extHooked) return;
    this.extHooked = true;
    this.sys.atExit(() => this.reportExtLeaks());
  }

  /** Leaks of skbs, firmware images and DMA pools at driver exit. */
  reportExtLeaks(): void {
    this.skb.reportLeaks();
    this.firmware.reportLeaks();
    this.dmaPools.reportLeaks();
  }

  // ---- PCI (pci.h) -------------------------------------------------------
  makePciDev(handle: PciFunctionHandle): PciDev { return this.pci.makePciDev(handle); }
  pci_enable_device(pdev: PciDev): Co<number> { return this.pci.pci_enable_device(pdev); }
  pci_disable_device(pdev: PciDev): Co<void> { return this.pci.pci_disable_device(pdev); }
  pci_set_master(pdev: PciDev): Co<void> { return this.pci.pci_set_master(pdev); }
  pci_clear_master(pdev: PciDev): Co<void> { return this.pci.pci_clear_master(pdev); }
  pci_resource(pdev: PciDev, bar: number): PciBarInfo | undefined { return this.pci.pci_resource(pdev, bar); }
  pci_resource_start(pdev: PciDev, bar: number): number { return this.pci.pci_resource_start(pdev, bar); }
  pci_resource_len(pdev: PciDev, bar: number): number { return this.pci.pci_resource_len(pdev, bar); }
  /** Maps a memory BAR (0 = whole BAR). Returns null if the BAR is absent or not memory. */
  pci_iomap(pdev: PciDev, bar: number, maxlen = 0): IoMem | null { return this.pci.pci_iomap(pdev, bar, maxlen); }
  pci_iounmap(pdev: PciDev, io: IoMem): void { this.pci.pci_iounmap(pdev, io); }
  pci_read_config_dword(pdev: PciDev, off: number): Co<number> { return this.pci.pci_read_config_dword(pdev, off); }
  pci_read_config_word(pdev: PciDev, off: number): Co<number> { return this.pci.pci_read_config_word(pdev, off); }
  pci_write_config_word(pdev: PciDev, off: number, v: number): Co<void> { return this.pci.pci_write_config_word(pdev, off, v); }
  pci_write_config_dword(pdev: PciDev, off: number, v: number): Co<void> { return this.pci.pci_write_config_dword(pdev, off, v); }

  // ---- MMIO (io.h) -------------------------------------------------------
  readb(io: IoMem, off: number): number { return this.io.readb(io, off); }
  readw(io: IoMem, off: number): number { return this.io.readw(io, off); }
  readl(io: IoMem, off: number): number { return this.io.readl(io, off); }
  writeb(v: number, io: IoMem, off: number): void { this.io.writeb(v, io, off); }
  writew(v: number, io: IoMem, off: number): void { this.io.writew(v, io, off); }
  writel(v: number, io: IoMem, off: number): void { this.io.writel(v, io, off); }
  /** 64-bit read as two dword reads, low then high (lo_hi_readq; the bus splits qwords). */
  readq(io: IoMem, off: number): bigint { return this.io.readq(io, off); }
  /** 64-bit write as two dword writes, low then high (lo_hi_writeq). */
  writeq(v: bigint | number, io: IoMem, off: number): void { this.io.writeq(v, io, off); }

  // ---- DMA (dma-mapping.h) -----------------------------------------------
  dma_set_mask_and_coherent(pdev: PciDev, bits: number): number { return this.dma.dma_set_mask_and_coherent(pdev, bits); }
  dma_alloc_coherent(pdev: PciDev, size: number): DmaCoherent | null { return this.dma.dma_alloc_coherent(pdev, size); }
  dma_free_coherent(pdev: PciDev, mem: DmaCoherent): void { this.dma.dma_free_coherent(pdev, mem); }
  /** Maps a CPU buffer for one transfer; the device sees a bounce buffer. */
  dma_map_single(pdev: PciDev, src: Uint8Array, dir: number): DmaMapping | null { return this.dma.dma_map_single(pdev, src, dir); }
  dma_unmap_single(pdev: PciDev, m: DmaMapping): void { this.dma.dma_unmap_single(pdev, m); }

  // ---- interrupts (interrupt.h, pci.h vectors) -----------------------------
  /** Allocates min..max vectors, preferring MSI-X, then MSI, then legacy. Returns the count or a negated errno. */
  pci_alloc_irq_vectors(pdev: PciDev, min: number, max: number, flags: number): Co<number> {
    return this.irq.pci_alloc_irq_vectors(pdev, min, max, flags);
  }
  pci_irq_vector(pdev: PciDev, nr: number): number { return this.irq.pci_irq_vector(pdev, nr); }
  pci_free_irq_vectors(pdev: PciDev): Co<void> { return this.irq.pci_free_irq_vectors(pdev); }
  /** Installs `handler` for `irq`, run in an IRQ thread for each interrupt. */
  *request_irq(irq: number, handler: IrqHandler, flags: number, name: string, devId: unknown): Co<number> {
    return this.irq.request_irq(irq, handler, flags, name, devId);
  }
  free_irq(irq: number): void { this.irq.free_irq(irq); }
  irqCount(irq: number): number { return this.irq.irqCount(irq); }

  // ---- completions (completion.h) ------------------------------------------
  init_completion(): Completion { return this.completions.init_completion(); }
  reinit_completion(c: Completion): void { this.completions.reinit_completion(c); }
  /** Wakes one waiter (or banks the completion). Safe from IRQ handlers. */
  complete(c: Completion): void { this.completions.complete(c); }
  complete_all(c: Completion): void { this.completions.complete_all(c); }
  wait_for_completion(c: Completion): Co<void> { return this.completions.wait_for_completion(c); }
  /** Returns 0 on timeout, else the jiffies left (at least 1). Call from any task of the driver. */
  wait_for_completion_timeout(c: Completion, timeoutJiffies: number): Co<number> {
    return this.completions.wait_for_completion_timeout(c, timeoutJiffies);
  }

  /** kthread_run: another thread of the driver process. */
  kthread_run(name: string, fn: (sys: Sys) => Co<void>): number { return this.kthreads.kthread_run(name, fn); }

  // ---- kernel timers (timer.h) ---------------------------------------------
  /** Timer callbacks run so far. */
  get timersFired(): number { return this.timers.fired; }
  timer_setup(fn: (t: TimerList) => void): TimerList { return this.timers.timer_setup(fn); }
  /** Arms (or re-arms) `t` to fire at jiffy `expires`. Returns 1 if it was pending. */
  mod_timer(t: TimerList, expires: number): number { return this.timers.mod_timer(t, expires); }
  add_timer(t: TimerList): void { this.timers.add_timer(t); }
  /** Deactivates `t`. Returns 1 if it was pending. */
  del_timer(t: TimerList): number { return this.timers.del_timer(t); }
  del_timer_sync(t: TimerList): number { return this.timers.del_timer_sync(t); }
  timer_pending(t: TimerList): boolean { return this.timers.timer_pending(t); }

  // ---- workqueues (workqueue.h) --------------------------------------------
  alloc_workqueue(name: string): Workqueue { return this.workqueues.alloc_workqueue(name); }
  /** The shared `system_wq` of this driver (schedule_work). */
  get system_wq(): Workqueue { return this.workqueues.system_wq; }
  INIT_WORK(fn: (sys: Sys) => Co<void>): WorkStruct { return this.workqueues.INIT_WORK(fn); }
  /** Queues `w` at the tail of `wq`. False if it was already pending. */
  queue_work(wq: Workqueue, w: WorkStruct): boolean { return this.workqueues.queue_work(wq, w); }
  schedule_work(w: WorkStruct): boolean { return this.workqueues.schedule_work(w); }
  /** Waits until the last queueing of `w` has run. Returns true if it had to wait. */
  flush_work(w: WorkStruct): Co<boolean> { return this.workqueues.flush_work(w); }
  /** Removes `w` if pending and waits for a running instance. Returns true if it was pending. */
  cancel_work_sync(w: WorkStruct): Co<boolean> { return this.workqueues.cancel_work_sync(w); }
  /** Waits until everything queued on `wq` before the call has run. */
  flush_workqueue(wq: Workqueue): Co<void> { return this.workqueues.flush_workqueue(wq); }
  /** Drains `wq`, then stops its worker. */
  destroy_workqueue(wq: Workqueue): Co<void> { return this.workqueues.destroy_workqueue(wq); }
  INIT_DELAYED_WORK(fn: (sys: Sys) => Co<void>): DelayedWork { return this.workqueues.INIT_DELAYED_WORK(fn); }
  /** Queues `dw.work` on `wq` after `delay` jiffies. False if already pending (timer or queue). */
  queue_delayed_work(wq: Workqueue, dw: DelayedWork, delay: number): boolean { return this.workqueues.queue_delayed_work(wq, dw, delay); }
  schedule_delayed_work(dw: DelayedWork, delay: number): boolean { return this.workqueues.schedule_delayed_work(dw, delay); }
  delayed_work_pending(dw: DelayedWork): boolean { return this.workqueues.delayed_work_pending(dw); }
  cancel_delayed_work_sync(dw: DelayedWork): Co<boolean> { return this.workqueues.cancel_delayed_work_sync(dw); }

  // ---- locks (spinlock.h, mutex.h) -----------------------------------------
  /** Logs an error if the calling task holds a spinlock: it is about to sleep. */
  might_sleep(what: string): void { this.spinlocks.might_sleep(what); }
  spin_lock_init(name: string): Spinlock { return this.spinlocks.spin_lock_init(name); }
  spin_lock(l: Spinlock): void { this.spinlocks.spin_lock(l); }
  spin_unlock(l: Spinlock): void { this.spinlocks.spin_unlock(l); }
  /** Returns the saved flags. IRQ handlers run in their own threads, so only lock state matters. */
  spin_lock_irqsave(l: Spinlock): number { return this.spinlocks.spin_lock_irqsave(l); }
  spin_unlock_irqrestore(l: Spinlock, flags: number): void { this.spinlocks.spin_unlock_irqrestore(l, flags); }
  spin_lock_bh(l: Spinlock): void { this.spinlocks.spin_lock_bh(l); }
  spin_unlock_bh(l: Spinlock): void { this.spinlocks.spin_unlock_bh(l); }
  mutex_init(name: string): Mutex { return this.mutexes.mutex_init(name); }
  mutex_is_locked(m: Mutex): boolean { return this.mutexes.mutex_is_locked(m); }
  /** Blocks while held; waiters get the mutex in the order they asked (handoff on unlock). */
  mutex_lock(m: Mutex): Co<void> { return this.mutexes.mutex_lock(m); }
  /** 1 if acquired, 0 if held. */
  mutex_trylock(m: Mutex): number { return this.mutexes.mutex_trylock(m); }
  mutex_unlock(m: Mutex): void { this.mutexes.mutex_unlock(m); }

  // ---- firmware (firmware.h) -----------------------------------------------
  setFirmwareDir(dir: string): void { this.firmware.setFirmwareDir(dir); }
  /** Loads `/lib/firmware/<name>` (blocking). Returns the image or a negated errno. */
  request_firmware(name: string): Co<Firmware | number> { return this.firmware.request_firmware(name); }
  release_firmware(fw: Firmware | null | undefined): void { this.firmware.release_firmware(fw); }

  // ---- sk_buff (skbuff.h) --------------------------------------------------
  alloc_skb(size: number, tag = 'alloc_skb'): SkBuff { return this.skb.alloc_skb(size, tag); }
  /** alloc_skb with NET_SKB_PAD (32) bytes of headroom reserved. */
  dev_alloc_skb(len: number, tag = 'dev_alloc_skb'): SkBuff { return this.skb.dev_alloc_skb(len, tag); }
  /** Extends the data at the tail; returns the added area. Overflow is skb_over_panic (the driver crashes). */
  skb_put(skb: SkBuff, len: number): Uint8Array { return this.skb.skb_put(skb, len); }
  skb_put_data(skb: SkBuff, data: Uint8Array): Uint8Array { return this.skb.skb_put_data(skb, data); }
  /** Extends the data at the head; returns the new data (starting with the pushed bytes). */
  skb_push(skb: SkBuff, len: number): Uint8Array { return this.skb.skb_push(skb, len); }
  /** Removes `len` bytes from the head; returns the remaining data, or null if shorter than len. */
  skb_pull(skb: SkBuff, len: number): Uint8Array | null { return this.skb.skb_pull(skb, len); }
  skb_trim(skb: SkBuff, len: number): void { this.skb.skb_trim(skb, len); }
  /** Reserves headroom in an empty skb. */
  skb_reserve(skb: SkBuff, len: number): void { this.skb.skb_reserve(skb, len); }
  skb_headroom(skb: SkBuff): number { return this.skb.skb_headroom(skb); }
  skb_tailroom(skb: SkBuff): number { return this.skb.skb_tailroom(skb); }
  kfree_skb(skb: SkBuff | null | undefined): void { this.skb.kfree_skb(skb); }
  dev_kfree_skb_any(skb: SkBuff | null | undefined): void { this.skb.kfree_skb(skb); }
  consume_skb(skb: SkBuff | null | undefined): void { this.skb.kfree_skb(skb); }
  skbLiveCount(): number { return this.skb.liveCount(); }
  skb_queue_head_init(): SkBuffHead { return this.skb.skb_queue_head_init(); }
  skb_queue_tail(q: SkBuffHead, skb: SkBuff): void { this.skb.skb_queue_tail(q, skb); }
  skb_queue_head(q: SkBuffHead, skb: SkBuff): void { this.skb.skb_queue_head(q, skb); }
  skb_dequeue(q: SkBuffHead): SkBuff | null { return this.skb.skb_dequeue(q); }
  skb_peek(q: SkBuffHead): SkBuff | null { return this.skb.skb_peek(q); }
  skb_queue_len(q: SkBuffHead): number { return this.skb.skb_queue_len(q); }
  skb_queue_empty(q: SkBuffHead): boolean { return this.skb.skb_queue_empty(q); }
  skb_queue_purge(q: SkBuffHead): void { this.skb.skb_queue_purge(q); }

  // ---- NAPI (netdevice.h) --------------------------------------------------
  netif_napi_add(poll: (napi: NapiStruct, budget: number) => number, weight = 64): NapiStruct { return this.napi.netif_napi_add(poll, weight); }
  napi_enable(n: NapiStruct): void { this.napi.napi_enable(n); }
  napi_disable(n: NapiStruct): void { this.napi.napi_disable(n); }
  netif_napi_del(n: NapiStruct): void { this.napi.netif_napi_del(n); }
  /** Schedules a poll in the driver's softirq thread (safe from IRQ handlers). False if already scheduled or disabled. */
  napi_schedule(n: NapiStruct): boolean { return this.napi.napi_schedule(n); }
  /** Called by poll when it is done (work < budget): interrupts may be re-enabled. */
  napi_complete_done(n: NapiStruct, work: number): boolean { return this.napi.napi_complete_done(n, work); }

  // ---- network devices (netdevice.h, etherdevice.h): served as network.<name>: --------
  alloc_etherdev(): NetDevice { return this.netdev.alloc_etherdev(); }
  /** 0, or -EINVAL (no ops, bad or duplicate name). A "%d" in the name takes the first free number. */
  register_netdev(dev: NetDevice): number { return this.netdev.register_netdev(dev); }
  unregister_netdev(dev: NetDevice): void { this.netdev.unregister_netdev(dev); }
  /** A received frame (Ethernet header first) for the stack; NET_RX_SUCCESS or NET_RX_DROP. Copies it. */
  netif_rx(dev: NetDevice, frame: Uint8Array): number { return this.netdev.netif_rx(dev, frame); }
  netif_receive_skb(dev: NetDevice, frame: Uint8Array): number { return this.netdev.netif_rx(dev, frame); }
  netif_start_queue(dev: NetDevice): void { this.netdev.netif_start_queue(dev); }
  netif_stop_queue(dev: NetDevice): void { this.netdev.netif_stop_queue(dev); }
  netif_wake_queue(dev: NetDevice): void { this.netdev.netif_wake_queue(dev); }
  netif_queue_stopped(dev: NetDevice): boolean { return this.netdev.netif_queue_stopped(dev); }
  netif_carrier_on(dev: NetDevice): void { this.netdev.netif_carrier_on(dev); }
  netif_carrier_off(dev: NetDevice): void { this.netdev.netif_carrier_off(dev); }
  netif_carrier_ok(dev: NetDevice): boolean { return this.netdev.netif_carrier_ok(dev); }

  // ---- DMA pools (dmapool.h) -----------------------------------------------
  /** Fixed-size DMA blocks carved from physalloc pages. */
  dma_pool_create(name: string, size: number, align = 8): DmaPool { return this.dmaPools.dma_pool_create(name, size, align); }
  /** A block ({cpu, dma}), or null when out of memory. */
  dma_pool_alloc(pool: DmaPool): DmaPoolBlock | null { return this.dmaPools.dma_pool_alloc(pool); }
  dma_pool_zalloc(pool: DmaPool): DmaPoolBlock | null { return this.dmaPools.dma_pool_zalloc(pool); }
  dma_pool_free(pool: DmaPool, b: DmaPoolBlock): void { this.dmaPools.dma_pool_free(pool, b); }
  /** Frees the pool's pages; reports blocks still in use. */
  dma_pool_destroy(pool: DmaPool | null | undefined): void { this.dmaPools.dma_pool_destroy(pool); }

  /** Errors drivers commonly return. */
  static readonly ENODEV = -ENODEV;
  static readonly EIO = -EIO;
}
