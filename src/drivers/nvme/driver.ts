import type { Co } from '../../sim/scheduler.js';
import { EINVAL, EIO, ENOENT, ETIMEDOUT } from '../../kernel/errno.js';
import type { Packet } from '../../kernel/schemes/user.js';
import { OP_CLOSE, OP_FSIZE, OP_OPEN, OP_READ, OP_WRITE } from '../../kernel/schemes/user.js';
import type { DmaBuffer, Sys } from '../../kernel/sys.js';
import type { Completion } from '../linux-kpi/completion.js';
import type { PciDeviceId } from '../linux-kpi/pci.js';
import type { TimerList, WorkStruct } from '../linux-kpi/ext-types.js';
import {
  IRQ_HANDLED, IRQ_NONE, PCI_IRQ_LEGACY, PCI_IRQ_MSI, PCI_IRQ_MSIX,
  type IoMem, type LinuxKpi, type PciDev, type PciDriver,
} from '../linux-kpi/kpi.js';
import type { PropTable } from '../../sim/props.js';
import * as D from './defs.js';
import { QueuePair } from './queue.js';

export interface NvmeParams {
  /** Interrupt mechanism to ask for: msix, msi, intx, or auto (best available). */
  irqMode: string;
  /** I/O queue pairs to request. */
  ioQueues: number;
  /** Entries per I/O queue (capped by CAP.MQES). */
  queueDepth: number;
  /** Admin command timeout (Linux's ADMIN_TIMEOUT is 60 s; nvmed uses less). */
  adminTimeoutMs: number;
  /** I/O command timeout, then Abort (Linux's blk-mq default: 30 s). */
  ioTimeoutMs: number;
  /** Debug: a deliberate ordering bug, the SQ tail doorbell is rung before the I/O commands are written. */
  doorbellBeforeWrite?: boolean;
  /**
   * Debug: a deliberate completion-queue bug on the I/O queues (NVME_DEBUG_PARAMS.cqHeadBug):
   * 'ahead' writes each CQ head doorbell one entry past the completions consumed, 'stale' writes
   * the head from before the batch again after the right one. Absent or 'none' = off.
   */
  cqHeadBug?: string;
}

/**
 * Debug parameters of this driver in the registry's parameter-table form,
 * for drivers/registry.ts to spread into the nvme entry's table.
 */
export const NVME_DEBUG_PARAMS = {
  cqHeadBug: {
    type: 'enum', default: 'none', values: ['none', 'ahead', 'stale'],
    doc: 'debug: a deliberate bug in the I/O queues\' CQ head doorbell: "ahead" writes it one entry past the completions consumed '
      + '(nvme.cqe.consumed-unposted), "stale" writes the head from before the batch again after the right one, as a second reaper '
      + 'with a stale head would (nvme.cqe.consumed-twice); the controller ignores such writes',
  },
} as const satisfies PropTable;

interface Namespace {
  nsid: number;
  blocks: number;
  lbaSize: number;
}

/** One scheme request being served: possibly split into several commands. */
interface IoRequest {
  packet: Packet;
  write: boolean;
  remaining: number;
  failed: number;
}

/** Per-command slot state: a bounce buffer and PRP list page preallocated per (queue, cid). */
interface Slot {
  buf: DmaBuffer;
  prpList: DmaBuffer;
  req: IoRequest | null;
  /** Offset into the request's client buffer and length of this command's part. */
  bufOffset: number;
  length: number;
  adminDone: Completion | null;
  status: number;
  dw0: number;
  /** I/O: jiffies by which the command must complete; set at submission. */
  deadline: number;
  /** I/O: the timeout handler has taken it (abort under way or failed). */
  timedOut: boolean;
}

interface Pending {
  req: IoRequest;
  nsid: number;
  lba: number;
  blocks: number;
  bufOffset: number;
  length: number;
}

/**
 * An NVMe driver in the shape of Linux's nvme-pci, on linux-kpi: reset and
 * enable the controller, admin queue, identify, negotiate queues, one I/O
 * queue pair per vector with MSI-X (or all on one vector with MSI/INTx),
 * then serve `disk.nvme` — `disk.nvme:<nsid>` opens a namespace; reads and
 * writes at block-aligned offsets become NVMe commands, split at MDTS.
 */
export class NvmeDriver {
  private bar!: IoMem;
  private dstrd = 0;
  private timeoutMs = 0;
  private mdtsBytes = 0;
  private admin!: QueuePair;
  private adminSlots: Slot[] = [];
  private readonly ioq: QueuePair[] = [];
  private readonly ioSlots: Slot[][] = [];
  private readonly pending: Pending[][] = [];
  /** Recycled request and command records (the I/O path allocates none in steady state). */
  private readonly freeReqs: IoRequest[] = [];
  private readonly freePending: Pending[] = [];
  /** blk-mq style timeout: one timer for the earliest deadline, a work item for the aborts. */
  private ioTimer: TimerList | undefined;
  private readonly abortWork: WorkStruct;
  private readonly ioTimeoutJiffies: number;
  private readonly timedOut: { qi: number; cid: number; req: IoRequest }[] = [];
  readonly namespaces = new Map<number, Namespace>();
  private schemeFd = -1;
  private readonly handles = new Map<number, number>();
  private nextHandle = 1;
  model = '';
  serial = '';
  ios = 0;

  constructor(private readonly k: LinuxKpi, private readonly pdev: PciDev, private readonly params: NvmeParams) {
    this.abortWork = k.INIT_WORK(() => this.abortTimedOut());
    this.ioTimeoutJiffies = k.msecs_to_jiffies(params.ioTimeoutMs);
  }

  private log(msg: string): void { this.k.dev_info(this.pdev, msg); }
  private err(msg: string): void { this.k.dev_err(this.pdev, msg); }

  *probe(): Co<number> {
    const { k, pdev } = this;
    yield* k.pci_enable_device(pdev);
    yield* k.pci_set_master(pdev);
    const bar = k.pci_iomap(pdev, 0);
    if (bar === null) { this.err('BAR0 is not a mapped memory BAR'); return -EIO; }
    this.bar = bar;

    const cap = k.readq(bar, D.REG_CAP);
    if (cap === 0xffffffffffffffffn) { this.err('CAP reads all ones: device not responding'); return -EIO; }
    const mqes = Number(cap & 0xffffn) + 1;
    const to = Number((cap >> 24n) & 0xffn);
    this.dstrd = Number((cap >> 32n) & 0xfn);
    this.timeoutMs = Math.max(1, to) * 500;
    const vs = k.readl(bar, D.REG_VS);
    this.log(`NVMe ${vs >>> 16}.${(vs >>> 8) & 0xff}, MQES ${mqes}, CAP.TO ${this.timeoutMs} ms, DSTRD ${this.dstrd}`);

    // Disable first (NVMe 1.4 7.6.1): CC.EN = 0, wait for CSTS.RDY = 0.
    const cc = k.readl(bar, D.REG_CC);
    if ((cc & D.CC_EN) !== 0) k.writel(cc & ~D.CC_EN, bar, D.REG_CC);
    if (!(yield* this.waitReady(false))) return -ETIMEDOUT;

    const adminDepth = Math.min(32, mqes);
    this.admin = new QueuePair(k, pdev, 0, adminDepth, this.dstrd, bar);
    this.adminSlots = this.makeSlots(adminDepth, false);
    k.writel(((adminDepth - 1) << 16) | (adminDepth - 1), bar, D.REG_AQA);
    k.writeq(this.admin.sq.dma, bar, D.REG_ASQ);
    k.writeq(this.admin.cq.dma, bar, D.REG_ACQ);

    const want = 1 + this.params.ioQueues;
    const flags = this.params.irqMode === 'msix' ? PCI_IRQ_MSIX
      : this.params.irqMode === 'msi' ? PCI_IRQ_MSI
      : this.params.irqMode === 'intx' ? PCI_IRQ_LEGACY
      : PCI_IRQ_MSIX | PCI_IRQ_MSI | PCI_IRQ_LEGACY;
    const nvec = yield* k.pci_alloc_irq_vectors(pdev, 1, want, flags);
    if (nvec < 0) { this.err(`no interrupt vectors of the requested kind (${this.params.irqMode})`); return nvec; }
    this.log(`interrupts: ${pdev.irqType}, ${nvec} vector(s)`);
    const r = yield* k.request_irq(k.pci_irq_vector(pdev, 0), (_irq, q) => this.onIrq(q as QueuePair[]), 0, 'nvme0q0', [this.admin]);
    if (r < 0) return r;

    k.writel(D.CC_EN | D.CC_CSS_NVM | D.CC_MPS_4K | D.CC_AMS_RR | D.CC_IOSQES | D.CC_IOCQES, bar, D.REG_CC);
    if (!(yield* this.waitReady(true))) return -ETIMEDOUT;
    this.log('controller ready');

    if (!(yield* this.identify())) return -EIO;

    // Number of Queues (5.21.1.7): 0-based counts in and out.
    const n = Math.min(this.params.ioQueues, pdev.irqType === 'msix' ? Math.max(1, nvec - 1) : this.params.ioQueues);
    const nq = yield* this.adminCmd((dv, o) => {
      dv.setUint8(o, D.ADMIN_SET_FEATURES);
      dv.setUint32(o + 40, D.FEAT_NUM_QUEUES, true);
      dv.setUint32(o + 44, ((n - 1) << 16) | (n - 1), true);
    }, 'Set Features (Number of Queues)');
    if (nq.status !== 0) return -EIO;
    const granted = Math.min((nq.dw0 & 0xffff) + 1, (nq.dw0 >>> 16) + 1, n);
    const depth = Math.min(this.params.queueDepth, mqes);
    for (let qid = 1; qid <= granted; qid++) {
      const vec = pdev.irqType === 'msix' && nvec > 1 ? ((qid - 1) % (nvec - 1)) + 1 : 0;
      if (!(yield* this.createIoQueue(qid, depth, vec))) return -EIO;
    }
    this.log(`${granted} I/O queue pair(s) of ${depth} entries`);
    return 0;
  }

  private makeSlots(n: number, withBuffers: boolean): Slot[] {
    const slots: Slot[] = [];
    const bytes = withBuffers ? this.mdtsBytes : 4096;
    for (let i = 0; i < n; i++) {
      slots.push({
        buf: this.k.sys.physalloc(bytes), prpList: this.k.sys.physalloc(4096),
        req: null, bufOffset: 0, length: 0, adminDone: null, status: 0, dw0: 0, deadline: 0, timedOut: false,
      });
    }
    return slots;
  }

  /** Polls CSTS.RDY for `ready` up to CAP.TO, as nvme_wait_ready does (1 ms steps). */
  private *waitReady(ready: boolean): Co<boolean> {
    const { k, bar } = this;
    const deadline = k.jiffies + k.msecs_to_jiffies(this.timeoutMs);
    for (;;) {
      const csts = k.readl(bar, D.REG_CSTS);
      if (csts === 0xffffffff) { this.err('CSTS reads all ones: device gone'); return false; }
      if ((csts & D.CSTS_CFS) !== 0 && ready) { this.err('controller fatal status (CSTS.CFS) while enabling'); return false; }
      if (((csts & D.CSTS_RDY) !== 0) === ready) return true;
      if (k.time_after(k.jiffies, deadline)) {
        this.err(`timed out after ${this.timeoutMs} ms waiting for CSTS.RDY=${ready ? 1 : 0} (CSTS=0x${csts.toString(16)})`);
        return false;
      }
      yield* k.msleep(1);
    }
  }

  private *identify(): Co<boolean> {
    const slot = this.adminSlots[0]!;
    const idc = yield* this.adminCmd((dv, o) => {
      dv.setUint8(o, D.ADMIN_IDENTIFY);
      dv.setUint32(o + 24, slot.buf.phys, true);
      dv.setUint32(o + 40, D.CNS_CONTROLLER, true);
    }, 'Identify Controller', slot.buf);
    if (idc.status !== 0) return false;
    const ctrl = idc.data!;
    const text = (a: number, b: number) => String.fromCharCode(...ctrl.subarray(a, b)).trim();
    this.serial = text(4, 24);
    this.model = text(24, 64);
    const mdts = ctrl[77]!;
    this.mdtsBytes = mdts === 0 ? 1 << 20 : Math.min(1 << 20, 4096 * 2 ** mdts);
    const nn = new DataView(ctrl.buffer, ctrl.byteOffset).getUint32(516, true);
    this.log(`model "${this.model}" serial "${this.serial}" fw "${text(64, 72)}", MDTS ${this.mdtsBytes} bytes, ${nn} namespace(s)`);

    const list = yield* this.adminCmd((dv, o) => {
      dv.setUint8(o, D.ADMIN_IDENTIFY);
      dv.setUint32(o + 24, slot.buf.phys, true);
      dv.setUint32(o + 40, D.CNS_ACTIVE_NS_LIST, true);
    }, 'Identify Active Namespace List', slot.buf);
    if (list.status !== 0) return false;
    const ids: number[] = [];
    const ldv = new DataView(list.data!.buffer, list.data!.byteOffset, 4096);
    for (let i = 0; i < 1024; i++) {
      const id = ldv.getUint32(i * 4, true);
      if (id === 0) break;
      ids.push(id);
    }
    for (const nsid of ids) {
      const ns = yield* this.adminCmd((dv, o) => {
        dv.setUint8(o, D.ADMIN_IDENTIFY);
        dv.setUint32(o + 4, nsid, true);
        dv.setUint32(o + 24, slot.buf.phys, true);
        dv.setUint32(o + 40, D.CNS_NAMESPACE, true);
      }, `Identify Namespace ${nsid}`, slot.buf);
      if (ns.status !== 0) return false;
      const nd = new DataView(ns.data!.buffer, ns.data!.byteOffset, 4096);
      const blocks = Number(nd.getBigUint64(0, true));
      const flbas = ns.data![26]! & 0xf;
      const lbads = ns.data![128 + 4 * flbas + 2]!;
      const lbaSize = 2 ** lbads;
      this.namespaces.set(nsid, { nsid, blocks, lbaSize });
      this.log(`namespace ${nsid}: ${blocks} blocks of ${lbaSize} bytes`);
    }
    return true;
  }

  private *createIoQueue(qid: number, depth: number, vector: number): Co<boolean> {
    const { k, pdev } = this;
    const q = new QueuePair(k, pdev, qid, depth, this.dstrd, this.bar);
    const cq = yield* this.adminCmd((dv, o) => {
      dv.setUint8(o, D.ADMIN_CREATE_CQ);
      dv.setUint32(o + 24, q.cq.dma, true);
      dv.setUint32(o + 40, ((depth - 1) << 16) | qid, true);
      dv.setUint32(o + 44, (vector << 16) | 0b11, true); // IEN | PC
    }, `Create I/O CQ ${qid}`);
    if (cq.status !== 0) return false;
    const sq = yield* this.adminCmd((dv, o) => {
      dv.setUint8(o, D.ADMIN_CREATE_SQ);
      dv.setUint32(o + 24, q.sq.dma, true);
      dv.setUint32(o + 40, ((depth - 1) << 16) | qid, true);
      dv.setUint32(o + 44, (qid << 16) | 0b1, true); // CQID | PC
    }, `Create I/O SQ ${qid}`);
    if (sq.status !== 0) return false;
    this.ioq.push(q);
    this.ioSlots.push(this.makeSlots(depth, true));
    this.pending.push([]);
    if (vector === 0) {
      // Shares the admin vector: its handler walks every queue.
      return true;
    }
    const r = yield* k.request_irq(k.pci_irq_vector(pdev, vector), (_irq, qs) => this.onIrq(qs as QueuePair[]), 0, `nvme0q${qid}`, [q]);
    return r === 0;
  }

  /** Submits an admin command and waits for it (nvme_submit_sync_cmd). */
  private *adminCmd(build: (dv: DataView, off: number) => void, what: string, dataBuf?: DmaBuffer):
    Co<{ status: number; dw0: number; data: Uint8Array | undefined }> {
    const { k } = this;
    const q = this.admin;
    const cid = q.allocCid();
    if (cid < 0) { this.err(`${what}: admin queue full`); return { status: -1, dw0: 0, data: undefined }; }
    const slot = this.adminSlots[cid]!;
    slot.adminDone = k.init_completion();
    const off = q.nextSqe();
    build(q.sq.dv, off);
    q.sq.dv.setUint16(off + 2, cid, true);
    q.ringSq();
    const left = yield* k.wait_for_completion_timeout(slot.adminDone, k.msecs_to_jiffies(this.params.adminTimeoutMs));
    if (left === 0) {
      this.err(`${what}: admin command timed out after ${this.params.adminTimeoutMs} ms (cid ${cid})`);
      return { status: -1, dw0: 0, data: undefined };
    }
    q.releaseCid(cid);
    slot.adminDone = null;
    if (slot.status !== 0) this.err(`${what}: ${D.statusName(slot.status)}`);
    return { status: slot.status, dw0: slot.dw0, data: dataBuf?.view };
  }

  /** Interrupt handler: reap every queue served by this vector. */
  private onIrq(queues: QueuePair[]): 0 | 1 {
    let handled = false;
    const all = this.pdev.irqType === 'msix' ? queues : [this.admin, ...this.ioq];
    for (const q of all) if (this.reap(q)) handled = true;
    return handled ? IRQ_HANDLED : IRQ_NONE;
  }

  private reap(q: QueuePair): boolean {
    const start = q.cqHead;
    let n = 0;
    while (q.peekCqe()) {
      const { cid, status, dw0 } = q.cqe;
      q.popCqe();
      n++;
      if (q.qid === 0) {
        const slot = this.adminSlots[cid];
        if (slot === undefined || slot.adminDone === null) { this.err(`admin completion for idle cid ${cid}`); continue; }
        slot.status = status;
        slot.dw0 = dw0;
        this.k.complete(slot.adminDone);
      } else {
        this.completeIo(q, cid, status);
      }
    }
    if (n > 0) this.ringCq(q, start);
    if (q.qid !== 0 && n > 0) this.drainPending(q);
    return n > 0;
  }

  /** CQ head doorbell after a batch that started at `start`; the `cqHeadBug` debug parameter plants its bug here. */
  private ringCq(q: QueuePair, start: number): void {
    const bug = q.qid === 0 ? 'none' : this.params.cqHeadBug ?? 'none';
    if (bug === 'ahead') {
      q.ringCqAt((q.cqHead + 1) % q.depth);
      return;
    }
    q.ringCq();
    if (bug === 'stale') q.ringCqAt(start);
  }

  // ---- the disk scheme -------------------------------------------------

  /** Serves `disk.nvme` until the process ends. */
  *serve(sys: Sys, schemeName: string): Co<void> {
    this.schemeFd = yield* sys.createScheme(schemeName);
    this.log(`serving ${schemeName}: (${[...this.namespaces.keys()].map((n) => `${schemeName}:${n}`).join(', ')})`);
    for (;;) {
      const p = yield* sys.nextRequest(this.schemeFd);
      if (p === null) return;
      this.handle(p);
    }
  }

  private handle(p: Packet): void {
    const sys = this.k.sys;
    switch (p.op) {
      case OP_OPEN: {
        const nsid = /^\d+$/.test(p.path) ? Number(p.path) : -1;
        if (!this.namespaces.has(nsid)) { sys.reply(this.schemeFd, p, -ENOENT); return; }
        const h = this.nextHandle++;
        this.handles.set(h, nsid);
        sys.reply(this.schemeFd, p, h);
        return;
      }
      case OP_CLOSE:
        sys.reply(this.schemeFd, p, this.handles.delete(p.handle) ? 0 : -EINVAL);
        return;
      case OP_FSIZE: {
        const ns = this.namespaces.get(this.handles.get(p.handle) ?? -1);
        sys.reply(this.schemeFd, p, ns === undefined ? -EINVAL : ns.blocks * ns.lbaSize);
        return;
      }
      case OP_READ:
      case OP_WRITE:
        this.startIo(p, p.op === OP_WRITE);
        return;
      default:
        sys.reply(this.schemeFd, p, -EINVAL);
    }
  }

  private startIo(p: Packet, write: boolean): void {
    const sys = this.k.sys;
    const ns = this.namespaces.get(this.handles.get(p.handle) ?? -1);
    const buf = p.buf;
    if (ns === undefined || buf === null || this.ioq.length === 0) { sys.reply(this.schemeFd, p, -EINVAL); return; }
    const len = buf.length;
    if (p.offset % ns.lbaSize !== 0 || len % ns.lbaSize !== 0) { sys.reply(this.schemeFd, p, -EINVAL); return; }
    const total = ns.blocks * ns.lbaSize;
    if (p.offset >= total || len === 0) { sys.reply(this.schemeFd, p, 0); return; }
    const n = Math.min(len, total - p.offset);
    const qi = p.pid % this.ioq.length;
    const req = this.freeReqs.pop() ?? { packet: p, write, remaining: 0, failed: 0 };
    req.packet = p;
    req.write = write;
    req.remaining = 0;
    req.failed = 0;
    const pend = this.pending[qi]!;
    for (let off = 0; off < n; off += this.mdtsBytes) {
      const chunk = Math.min(this.mdtsBytes, n - off);
      req.remaining++;
      const c = this.freePending.pop() ?? { req, nsid: 0, lba: 0, blocks: 0, bufOffset: 0, length: 0 };
      c.req = req;
      c.nsid = ns.nsid;
      c.lba = (p.offset + off) / ns.lbaSize;
      c.blocks = chunk / ns.lbaSize;
      c.bufOffset = off;
      c.length = chunk;
      pend.push(c);
    }
    this.drainPending(this.ioq[qi]!);
  }

  /** Submits queued commands while the queue has free slots; one doorbell write for the batch. */
  private drainPending(q: QueuePair): void {
    const qi = q.qid - 1;
    const pend = this.pending[qi]!;
    let submitted = 0;
    // The bug `doorbellBeforeWrite` plants: the entries are made available before they hold the commands.
    const early = this.params.doorbellBeforeWrite === true ? Math.min(pend.length, q.freeSlots) : 0;
    if (early > 0) q.ringSqAhead(early);
    while (pend.length > 0 && q.freeSlots > 0) {
      const c = pend.shift()!;
      const cid = q.allocCid();
      const slot = this.ioSlots[qi]![cid]!;
      slot.req = c.req;
      slot.bufOffset = c.bufOffset;
      slot.length = c.length;
      slot.timedOut = false;
      slot.deadline = this.k.jiffies + this.ioTimeoutJiffies;
      if (this.ioTimer === undefined) this.ioTimer = this.k.timer_setup(() => this.onIoTimer());
      if (!this.ioTimer.pending) this.k.mod_timer(this.ioTimer, slot.deadline);
      if (c.req.write) this.k.sys.memcpy(slot.buf.view, 0, c.req.packet.buf!, c.bufOffset, c.length);
      const off = q.nextSqe();
      const dv = q.sq.dv;
      dv.setUint8(off, c.req.write ? D.IO_WRITE : D.IO_READ);
      dv.setUint16(off + 2, cid, true);
      dv.setUint32(off + 4, c.nsid, true);
      this.setPrps(dv, off, slot, c.length);
      dv.setUint32(off + 40, c.lba >>> 0, true);
      dv.setUint32(off + 44, Math.floor(c.lba / 2 ** 32), true);
      dv.setUint32(off + 48, c.blocks - 1, true);
      this.freePending.push(c);
      submitted++;
    }
    if (submitted > 0 && early === 0) q.ringSq();
  }

  /** PRP1/PRP2/PRP list for a page-aligned bounce buffer (NVMe 1.4 4.3). */
  private setPrps(dv: DataView, off: number, slot: Slot, length: number): void {
    const pages = Math.ceil(length / D.PAGE);
    dv.setUint32(off + 24, slot.buf.phys, true);
    if (pages === 2) dv.setUint32(off + 32, slot.buf.phys + D.PAGE, true);
    else if (pages > 2) {
      for (let i = 1; i < pages; i++) slot.prpList.dv.setUint32((i - 1) * 8, slot.buf.phys + i * D.PAGE, true);
      dv.setUint32(off + 32, slot.prpList.phys, true);
    }
  }

  /**
   * The I/O timer (timer context: no sleeping): commands past their deadline
   * go to the abort work item (nvme_timeout); the timer re-arms for the
   * earliest remaining deadline.
   */
  private onIoTimer(): void {
    const now = this.k.jiffies;
    let next = Infinity;
    this.ioSlots.forEach((slots, qi) => slots.forEach((slot, cid) => {
      if (slot.req === null || slot.timedOut) return;
      if (slot.deadline <= now) {
        slot.timedOut = true;
        this.timedOut.push({ qi, cid, req: slot.req });
      } else if (slot.deadline < next) next = slot.deadline;
    }));
    if (this.timedOut.length > 0) this.k.schedule_work(this.abortWork);
    if (next !== Infinity) this.k.mod_timer(this.ioTimer!, next);
  }

  /**
   * Aborts timed-out commands (NVMe 1.4 5.1). An aborted command completes on
   * its queue with Command Abort Requested and its request fails with EIO. If
   * the controller cannot abort it, the request is failed here and the
   * command's slot stays taken (Linux would reset the controller).
   */
  private *abortTimedOut(): Co<void> {
    while (this.timedOut.length > 0) {
      const t = this.timedOut.shift()!;
      const slot = this.ioSlots[t.qi]![t.cid]!;
      if (slot.req !== t.req) continue; // completed meanwhile
      const qid = t.qi + 1;
      this.k.dev_warn(this.pdev, `I/O ${t.cid} QID ${qid} timeout, aborting`);
      const r = yield* this.adminCmd((dv, o) => {
        dv.setUint8(o, D.ADMIN_ABORT);
        dv.setUint32(o + 40, (qid | (t.cid << 16)) >>> 0, true);
      }, `Abort (cid ${t.cid}, QID ${qid})`);
      if (slot.req !== t.req) continue; // the abort completed it
      if (r.status === 0 && (r.dw0 & 1) === 0) continue; // its completion is on the way
      this.err(`I/O ${t.cid} QID ${qid} was not aborted by the controller; failing it (a controller reset is needed to reuse the slot)`);
      const req = t.req;
      slot.req = null;
      req.failed++;
      if (--req.remaining === 0) {
        this.k.sys.reply(this.schemeFd, req.packet, -EIO);
        this.freeReqs.push(req);
      }
    }
  }

  private completeIo(q: QueuePair, cid: number, status: number): void {
    const slot = this.ioSlots[q.qid - 1]![cid];
    if (slot === undefined || slot.req === null) { this.err(`I/O completion on queue ${q.qid} for idle cid ${cid}`); return; }
    const req = slot.req;
    slot.req = null;
    q.releaseCid(cid);
    this.ios++;
    if (status !== 0) {
      req.failed++;
      this.err(`${req.write ? 'write' : 'read'} at byte ${req.packet.offset + slot.bufOffset} failed: ${D.statusName(status)}`);
    } else if (!req.write) {
      this.k.sys.memcpy(req.packet.buf!, slot.bufOffset, slot.buf.view, 0, slot.length);
    }
    if (--req.remaining === 0) {
      const len = req.packet.buf!.length;
      this.k.sys.reply(this.schemeFd, req.packet, req.failed > 0 ? -EIO : len);
      this.freeReqs.push(req);
    }
  }
}

export const NVME_PARAM_DEFAULTS: NvmeParams = { irqMode: 'auto', ioQueues: 2, queueDepth: 64, adminTimeoutMs: 2000, ioTimeoutMs: 30_000 };

/** nvme-pci's id table, reduced to what this port drives: any NVMe I/O controller (class 01:08:02). */
export const NVME_ID_TABLE: readonly PciDeviceId[] = [{ class: 0x010802, classMask: 0xffffff }];

/** The pci_driver registered in the match table. */
export function makeNvmePciDriver(params: NvmeParams, onReady?: (d: NvmeDriver) => void): PciDriver {
  return {
    name: 'nvme',
    idTable: [...NVME_ID_TABLE],
    *probe(k: LinuxKpi, pdev: PciDev): Co<number> {
      const d = new NvmeDriver(k, pdev, params);
      pdev.driverData = d;
      const r = yield* d.probe();
      if (r < 0) return r;
      onReady?.(d);
      k.kthread_run('nvme-scheme', (sys) => d.serve(sys, 'disk.nvme'));
      return 0;
    },
  };
}
