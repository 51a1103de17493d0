import { EINVAL, EIO, ENOENT } from '../../kernel/errno.js';
import type { Co, DmaBuffer, Packet, Sys } from '../../kernel/sys.js';
import { OP_CLOSE, OP_FSIZE, OP_OPEN, OP_READ, OP_WRITE } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';
import type { LinuxJiffies } from './jiffies.js';
import type { LinuxTimers, TimerList } from './timer.js';
import type { LinuxWorkqueue, WorkStruct } from './workqueue.js';

export const BLK_STS_OK = 0;
export const BLK_STS_RESOURCE = 9;
export const BLK_STS_IOERR = 10;
export const BLK_EH_DONE = 0;
export const BLK_EH_RESET_TIMER = 1;
export const REQ_OP_READ = 0;
export const REQ_OP_WRITE = 1;

/** One scheme read or write: split into requests of at most the disk's max_hw_sectors. */
interface SchemeIo {
  /** The scheme's fd, to reply on. */
  fd: number;
  packet: Packet;
  write: boolean;
  remaining: number;
  failed: number;
  length: number;
}

/** A block request (`struct request`) as the block layer tracks it. */
export interface BlkRequest {
  readonly hctx: number;
  readonly tag: number;
  op: number;
  /** First 512-byte sector. */
  sector: number;
  bytes: number;
  /** The data, in DMA-able memory of the driver (page-aligned, contiguous); grown as needed, kept per tag. */
  buf: DmaBuffer | undefined;
  io: SchemeIo | undefined;
  /** Offset of this request's part in the scheme request's buffer. */
  ioOffset: number;
  /** Jiffy by which it must end (set by blk_mq_start_request). */
  deadline: number;
  inFlight: boolean;
  /** blk_mq_start_request was called: only started requests time out (MQ_RQ_IN_FLIGHT). */
  started: boolean;
  timedOut: boolean;
}

/** What a driver implements (`struct blk_mq_ops`). */
export interface BlkMqOps {
  /**
   * Starts `rq` on hardware queue `hctx`; BLK_STS_OK, or BLK_STS_RESOURCE to
   * be called again later. Must not sleep (no BLK_MQ_F_BLOCKING): it runs in
   * the submitting context, and when a request ends, in kblockd.
   */
  queueRq(hctx: number, rq: BlkRequest, last: boolean): number;
  /** Binds hardware queue `hctx` (may sleep); called once per queue before its first request. 0 or a negated errno. */
  initHctx?(hctx: number): Co<number>;
  /** A request past its deadline (worker thread, may sleep): BLK_EH_DONE or BLK_EH_RESET_TIMER. */
  timeout?(rq: BlkRequest): Co<number>;
}

export interface BlkTagSet {
  readonly ops: BlkMqOps;
  readonly nrHwQueues: number;
  readonly queueDepth: number;
  readonly timeoutJiffies: number;
  /** Requests per hardware queue, indexed by tag. */
  readonly rqs: BlkRequest[][];
  readonly freeTags: number[][];
  /** Requests waiting for a tag or for the driver to have room. */
  readonly waiting: Waiting[];
  /** Hardware queues whose initHctx ran (or failed: then their requests fail). */
  readonly initState: ('no' | 'ok' | 'failed')[];
}

/** A part of a scheme request waiting for a tag or for room in the driver (pooled). */
interface Waiting {
  hctx: number;
  io: SchemeIo;
  sector: number;
  bytes: number;
  ioOffset: number;
}

export interface BlkDisk {
  readonly set: BlkTagSet;
  readonly schemeName: string;
  readonly index: number;
  readonly logicalBlockSize: number;
  readonly maxBytes: number;
  /** In 512-byte sectors. */
  readonly capacity: number;
}

/**
 * The multi-queue block layer (linux/blk-mq.h) as simrun's linux-kpi gives
 * it to drivers: disks are served to Redox programs as the scheme
 * `disk.<name>:<index>` (open by index, fsize, block-aligned read and
 * write). A read or write is split at the disk's largest request, each part
 * gets a tag on the hardware queue of the calling program (pid modulo the
 * queue count) and a DMA buffer of the driver's, and goes to `queueRq`;
 * `endRequest` (from the driver's interrupt handler) copies read data back
 * and replies when all parts ended. Requests that find no free tag, or that
 * the driver refuses with BLK_STS_RESOURCE, wait and are dispatched again by
 * a kblockd thread when a request ends. A timer fails requests over to the
 * driver's `timeout` in a work item (blk_mq_timeout_work).
 */
export class LinuxBlkMq {
  private readonly disks = new Map<string, Map<number, BlkDisk>>();
  private readonly sets: BlkTagSet[] = [];
  private kblockd: { sys: Sys; tid: number; idle: boolean } | undefined;
  private timer: TimerList | undefined;
  private readonly timeoutWork: WorkStruct;
  private readonly expired: BlkRequest[] = [];
  /** Recycled records: the I/O path allocates none in steady state. */
  private readonly freeIos: SchemeIo[] = [];
  private readonly freeWaiting: Waiting[] = [];
  private readonly setOf = new Map<BlkRequest, BlkTagSet>();
  /** Requests ended so far. */
  ended = 0;
  private unstartedReported = false;

  constructor(private readonly env: KpiEnv, private readonly time: LinuxJiffies, private readonly timers: LinuxTimers, private readonly wq: LinuxWorkqueue) {
    this.timeoutWork = wq.INIT_WORK(() => this.runTimeouts());
  }

  blk_mq_alloc_tag_set(ops: BlkMqOps, nrHwQueues: number, queueDepth: number, timeoutJiffies: number): BlkTagSet {
    const set: BlkTagSet = {
      ops, nrHwQueues, queueDepth, timeoutJiffies: timeoutJiffies > 0 ? timeoutJiffies : this.time.msecs_to_jiffies(30_000),
      rqs: [], freeTags: [], waiting: [], initState: Array.from({ length: nrHwQueues }, () => 'no' as const),
    };
    for (let h = 0; h < nrHwQueues; h++) {
      set.rqs.push(Array.from({ length: queueDepth }, (_, tag) => ({
        hctx: h, tag, op: 0, sector: 0, bytes: 0, buf: undefined, io: undefined, ioOffset: 0, deadline: 0, inFlight: false, started: false, timedOut: false,
      })));
      set.freeTags.push(Array.from({ length: queueDepth }, (_, i) => queueDepth - 1 - i));
    }
    this.sets.push(set);
    for (const q of set.rqs) for (const rq of q) this.setOf.set(rq, set);
    return set;
  }

  /** Makes `disk` visible as disk.<schemeName>:<index>; the first disk of a scheme starts its server thread. */
  add_disk(disk: BlkDisk): number {
    let byIndex = this.disks.get(disk.schemeName);
    if (byIndex?.has(disk.index)) return -EINVAL;
    if (byIndex === undefined) {
      byIndex = new Map();
      this.disks.set(disk.schemeName, byIndex);
      const ns = byIndex;
      this.env.spawn(`blk-${disk.schemeName}`, (sys) => this.serve(sys, `disk.${disk.schemeName}`, ns));
    }
    byIndex.set(disk.index, disk);
    return 0;
  }

  private *serve(sys: Sys, name: string, disks: Map<number, BlkDisk>): Co<void> {
    const fd = yield* sys.createScheme(name);
    this.env.log('info', `serving ${name}: (${[...disks.keys()].map((n) => `${name}:${n}`).join(', ')})`);
    const handles = new Map<number, BlkDisk>();
    let nextHandle = 1;
    for (;;) {
      const p = yield* sys.nextRequest(fd);
      if (p === null) return;
      switch (p.op) {
        case OP_OPEN: {
          const d = /^\d+$/.test(p.path) ? disks.get(Number(p.path)) : undefined;
          if (d === undefined) { sys.reply(fd, p, -ENOENT); break; }
          handles.set(nextHandle, d);
          sys.reply(fd, p, nextHandle++);
          break;
        }
        case OP_CLOSE:
          sys.reply(fd, p, handles.delete(p.handle) ? 0 : -EINVAL);
          break;
        case OP_FSIZE: {
          const d = handles.get(p.handle);
          sys.reply(fd, p, d === undefined ? -EINVAL : d.capacity * 512);
          break;
        }
        case OP_READ:
        case OP_WRITE: {
          const d = handles.get(p.handle);
          if (d !== undefined) yield* this.initQueues(d.set);
          this.submit(sys, fd, p, d, p.op === OP_WRITE);
          break;
        }
        default:
          sys.reply(fd, p, -EINVAL);
      }
    }
  }

  /** Runs initHctx for the set's queues not yet bound (the first request of a disk). */
  private *initQueues(set: BlkTagSet): Co<void> {
    for (let h = 0; h < set.nrHwQueues; h++) {
      if (set.initState[h] !== 'no') continue;
      set.initState[h] = 'ok';
      if (set.ops.initHctx !== undefined && (yield* set.ops.initHctx(h)) < 0) {
        set.initState[h] = 'failed';
        this.env.log('error', `init_hctx of hardware queue ${h} failed: its requests fail`);
      }
    }
  }

  private submit(sys: Sys, fd: number, p: Packet, d: BlkDisk | undefined, write: boolean): void {
    const buf = p.buf;
    if (d === undefined || buf === null) { sys.reply(fd, p, -EINVAL); return; }
    const lbs = d.logicalBlockSize;
    if (p.offset % lbs !== 0 || buf.length % lbs !== 0) { sys.reply(fd, p, -EINVAL); return; }
    const total = d.capacity * 512;
    if (p.offset >= total || buf.length === 0) { sys.reply(fd, p, 0); return; }
    const n = Math.min(buf.length, total - p.offset);
    const io = this.freeIos.pop() ?? { fd, packet: p, write, remaining: 0, failed: 0, length: n };
    io.fd = fd; io.packet = p; io.write = write; io.remaining = 0; io.failed = 0; io.length = n;
    const set = d.set;
    const hctx = p.pid % set.nrHwQueues;
    for (let off = 0; off < n; off += d.maxBytes) {
      io.remaining++;
      const w = this.freeWaiting.pop() ?? { hctx, io, sector: 0, bytes: 0, ioOffset: 0 };
      w.hctx = hctx; w.io = io; w.sector = (p.offset + off) / 512; w.bytes = Math.min(d.maxBytes, n - off); w.ioOffset = off;
      set.waiting.push(w);
    }
    this.dispatch(sys, set);
  }

  /** Hands waiting requests to the driver while tags are free and it accepts them. */
  private dispatch(sys: Sys, set: BlkTagSet): void {
    for (let i = 0; i < set.waiting.length;) {
      const w = set.waiting[i]!;
      const tags = set.freeTags[w.hctx]!;
      if (tags.length === 0) { i++; continue; }
      const tag = tags.pop()!;
      const rq = set.rqs[w.hctx]![tag]!;
      rq.op = w.io.write ? REQ_OP_WRITE : REQ_OP_READ;
      rq.sector = w.sector;
      rq.bytes = w.bytes;
      rq.io = w.io;
      rq.ioOffset = w.ioOffset;
      rq.timedOut = false;
      rq.started = false;
      if (rq.buf === undefined || rq.buf.size < w.bytes) {
        if (rq.buf !== undefined) sys.physfree(rq.buf, 'blk-mq request buffer');
        rq.buf = sys.physalloc(w.bytes);
      }
      if (w.io.write) sys.memcpy(rq.buf.view, 0, w.io.packet.buf!, w.ioOffset, w.bytes);
      rq.inFlight = true;
      set.waiting.splice(i, 1);
      let last = true;
      for (let j = i; j < set.waiting.length; j++) if (set.waiting[j]!.hctx === w.hctx) { last = false; break; }
      const st = set.initState[w.hctx] === 'failed' ? BLK_STS_IOERR : set.ops.queueRq(w.hctx, rq, last);
      if (st === BLK_STS_RESOURCE) {
        // The driver has no room: the request waits (first in line) for an end to free some;
        // with nothing in flight on the queue no end will come, so it is re-run after a delay
        // (blk_mq_delay_run_hw_queue, BLK_MQ_RESOURCE_DELAY 3 ms).
        rq.inFlight = false;
        rq.io = undefined;
        tags.push(tag);
        set.waiting.splice(i, 0, w);
        if (tags.length === set.queueDepth) this.rerunLater();
        return;
      }
      this.freeWaiting.push(w);
      if (st !== BLK_STS_OK) this.finish(sys, set, rq, st);
    }
  }

  /** The driver hands `rq` to the hardware: its timeout starts now (blk_mq_start_request). */
  blk_mq_start_request(rq: BlkRequest): void {
    const set = this.setOf.get(rq);
    if (set === undefined || !rq.inFlight) {
      this.env.log('error', `blk_mq_start_request of a request that is not in flight (hctx ${rq.hctx}, tag ${rq.tag})`);
      return;
    }
    rq.started = true;
    rq.deadline = this.time.jiffies + set.timeoutJiffies;
    this.armTimer(rq.deadline);
  }

  /** blk_mq_end_request: from the interrupt handler (must not sleep). */
  blk_mq_end_request(rq: BlkRequest, status: number): void {
    const set = this.setOf.get(rq);
    if (set === undefined || !rq.inFlight) {
      this.env.log('error', `blk_mq_end_request of a request that is not in flight (hctx ${rq.hctx}, tag ${rq.tag}): ended twice?`);
      return;
    }
    if (!rq.started && !this.unstartedReported) {
      this.unstartedReported = true;
      this.env.log('warn', `request (hctx ${rq.hctx}, tag ${rq.tag}) ended without blk_mq_start_request: its timeout never ran`);
    }
    this.finish(this.env.sys, set, rq, status);
    if (set.waiting.length > 0) this.kickKblockd();
  }

  private finish(sys: Sys, set: BlkTagSet, rq: BlkRequest, status: number): void {
    const io = rq.io!;
    rq.inFlight = false;
    rq.started = false;
    rq.io = undefined;
    set.freeTags[rq.hctx]!.push(rq.tag);
    this.ended++;
    if (status !== BLK_STS_OK) {
      io.failed++;
      this.env.log('error', `blk_update_request: I/O error, ${io.write ? 'write' : 'read'} sector ${rq.sector} (${rq.bytes} bytes), status ${status}`);
    } else if (!io.write) {
      sys.memcpy(io.packet.buf!, rq.ioOffset, rq.buf!.view, 0, rq.bytes);
    }
    if (--io.remaining === 0) {
      sys.reply(io.fd, io.packet, io.failed > 0 ? -EIO : io.length);
      this.freeIos.push(io);
    }
  }

  /** Dispatches waiting requests from kblockd (the ending context cannot call the driver). */
  private kickKblockd(): void {
    if (this.kblockd === undefined) {
      const k: { sys: Sys; tid: number; idle: boolean } = { sys: this.env.sys, tid: 0, idle: false };
      const self = this;
      k.tid = this.env.spawn('kblockd', function* (sys) {
        k.sys = sys;
        for (;;) {
          for (const s of self.sets) if (s.waiting.length > 0) self.dispatch(sys, s);
          k.idle = true;
          yield* sys.park();
          k.idle = false;
        }
      }).tid;
      this.kblockd = k;
      return;
    }
    this.env.wakeIdle(this.env.sys.thread(this.kblockd.tid), this.kblockd.idle);
  }

  private rerun: TimerList | undefined;

  /** Kicks kblockd in 3 ms (a driver refused a request with nothing in flight). */
  private rerunLater(): void {
    this.rerun ??= this.timers.timer_setup(() => this.kickKblockd());
    if (!this.rerun.pending) this.timers.mod_timer(this.rerun, this.time.jiffies + this.time.msecs_to_jiffies(3));
  }

  private armTimer(deadline: number): void {
    this.timer ??= this.timers.timer_setup(() => this.onTimer());
    if (!this.timer.pending || this.timer.expires > deadline) this.timers.mod_timer(this.timer, deadline);
  }

  /** Timer context: requests past their deadline go to the timeout work; re-arm for the next deadline. */
  private onTimer(): void {
    const now = this.time.jiffies;
    let next = Infinity;
    for (const set of this.sets) {
      for (const q of set.rqs) for (const rq of q) {
        if (!rq.inFlight || !rq.started || rq.timedOut) continue;
        if (rq.deadline <= now) { rq.timedOut = true; this.expired.push(rq); } else if (rq.deadline < next) next = rq.deadline;
      }
    }
    if (this.expired.length > 0) this.wq.schedule_work(this.timeoutWork);
    if (next !== Infinity) this.timers.mod_timer(this.timer!, next);
  }

  private *runTimeouts(): Co<void> {
    while (this.expired.length > 0) {
      const rq = this.expired.shift()!;
      if (!rq.inFlight) continue;
      const set = this.setOf.get(rq)!;
      const r = set.ops.timeout === undefined ? BLK_EH_RESET_TIMER : yield* set.ops.timeout(rq);
      if (r === BLK_EH_RESET_TIMER && rq.inFlight) {
        rq.timedOut = false;
        rq.deadline = this.time.jiffies + set.timeoutJiffies;
        this.armTimer(rq.deadline);
      }
    }
  }
}
