/**
 * Queue and command-slot state, as parallel typed arrays allocated once at
 * construction (the QEMU "per-slot request objects allocated up front" idea):
 * fetching, executing and completing a command allocates nothing.
 *
 * Queue id 0 is the admin queue pair; 1..ioQueuePairs are I/O queues.
 */
import { NO_EVENT } from '../../sim/event-queue.js';
import { SQE_SIZE } from './regs.js';

export const SQ_NONE = 0;
export const SQ_ACTIVE = 1;
/** Delete I/O SQ in progress: no more fetching, waiting for outstanding commands to finish. */
export const SQ_DELETING = 2;

export class Queues {
  readonly count: number;
  readonly sqState: Uint8Array;
  readonly sqBase: Float64Array;
  readonly sqSize: Int32Array;
  readonly sqHead: Int32Array;
  readonly sqTail: Int32Array;
  readonly sqCq: Int32Array;
  readonly sqPrio: Uint8Array;
  /** Commands fetched from the SQ whose completion has not been posted yet. */
  readonly sqOutstanding: Int32Array;
  /** Slot of the Delete I/O SQ command waiting for the SQ to drain, or -1. */
  readonly sqDeleteSlot: Int32Array;
  /** Pending fetch event per SQ (NO_EVENT when none). */
  readonly sqFetchEv: Float64Array;
  /** Set when fetching stopped for lack of a free command slot. */
  readonly sqStarved: Uint8Array;

  readonly cqExists: Uint8Array;
  readonly cqBase: Float64Array;
  readonly cqSize: Int32Array;
  readonly cqHead: Int32Array;
  readonly cqTail: Int32Array;
  readonly cqPhase: Uint8Array;
  /** 1 once the CQ's tail wrapped since it was created: every slot then holds a completion (diagnosis only). */
  readonly cqLapped: Uint8Array;
  readonly cqIen: Uint8Array;
  readonly cqIv: Int32Array;
  /** Number of SQs that complete into this CQ. */
  readonly cqSqCount: Int32Array;
  /** FIFO (through Slots.next) of completions waiting for room in the CQ. */
  readonly cqWaitHead: Int32Array;
  readonly cqWaitTail: Int32Array;
  readonly cqDrainEv: Float64Array;
  /**
   * Time (ps) of the last accepted doorbell write per doorbell: index
   * 2 * qid for SQ<qid>TDBL, 2 * qid + 1 for CQ<qid>HDBL; -1 = none since
   * the queue was created. Stall diagnosis only (stall.ts).
   */
  readonly doorbellPs: Float64Array;

  ioSqCount = 0;
  ioCqCount = 0;

  constructor(ioQueuePairs: number) {
    const n = ioQueuePairs + 1;
    this.count = n;
    this.sqState = new Uint8Array(n);
    this.sqBase = new Float64Array(n);
    this.sqSize = new Int32Array(n);
    this.sqHead = new Int32Array(n);
    this.sqTail = new Int32Array(n);
    this.sqCq = new Int32Array(n);
    this.sqPrio = new Uint8Array(n);
    this.sqOutstanding = new Int32Array(n);
    this.sqDeleteSlot = new Int32Array(n).fill(-1);
    this.sqFetchEv = new Float64Array(n).fill(NO_EVENT);
    this.sqStarved = new Uint8Array(n);
    this.cqExists = new Uint8Array(n);
    this.cqBase = new Float64Array(n);
    this.cqSize = new Int32Array(n);
    this.cqHead = new Int32Array(n);
    this.cqTail = new Int32Array(n);
    this.cqPhase = new Uint8Array(n);
    this.cqLapped = new Uint8Array(n);
    this.cqIen = new Uint8Array(n);
    this.cqIv = new Int32Array(n);
    this.cqSqCount = new Int32Array(n);
    this.cqWaitHead = new Int32Array(n).fill(-1);
    this.cqWaitTail = new Int32Array(n).fill(-1);
    this.cqDrainEv = new Float64Array(n).fill(NO_EVENT);
    this.doorbellPs = new Float64Array(2 * n).fill(-1);
  }

  createSq(qid: number, base: number, size: number, cqid: number, prio: number): void {
    this.sqState[qid] = SQ_ACTIVE;
    this.sqBase[qid] = base;
    this.sqSize[qid] = size;
    this.sqHead[qid] = 0;
    this.sqTail[qid] = 0;
    this.sqCq[qid] = cqid;
    this.sqPrio[qid] = prio;
    this.sqOutstanding[qid] = 0;
    this.sqDeleteSlot[qid] = -1;
    this.sqStarved[qid] = 0;
    this.doorbellPs[2 * qid] = -1;
    this.cqSqCount[cqid]!++;
    if (qid !== 0) this.ioSqCount++;
  }

  deleteSq(qid: number): void {
    if (this.sqState[qid] === SQ_NONE) return;
    this.sqState[qid] = SQ_NONE;
    this.cqSqCount[this.sqCq[qid]!]!--;
    this.sqDeleteSlot[qid] = -1;
    this.sqStarved[qid] = 0;
    if (qid !== 0) this.ioSqCount--;
  }

  createCq(qid: number, base: number, size: number, ien: boolean, iv: number): void {
    this.cqExists[qid] = 1;
    this.cqBase[qid] = base;
    this.cqSize[qid] = size;
    this.cqHead[qid] = 0;
    this.cqTail[qid] = 0;
    this.cqPhase[qid] = 1; // 4.6: the phase tag of the first pass is 1
    this.cqLapped[qid] = 0;
    this.cqIen[qid] = ien ? 1 : 0;
    this.cqIv[qid] = iv;
    this.cqSqCount[qid] = 0;
    this.cqWaitHead[qid] = -1;
    this.cqWaitTail[qid] = -1;
    this.doorbellPs[2 * qid + 1] = -1;
    if (qid !== 0) this.ioCqCount++;
  }

  deleteCq(qid: number): void {
    if (this.cqExists[qid] === 0) return;
    this.cqExists[qid] = 0;
    this.cqWaitHead[qid] = -1;
    this.cqWaitTail[qid] = -1;
    if (qid !== 0) this.ioCqCount--;
  }

  cqFull(qid: number): boolean {
    const size = this.cqSize[qid]!;
    return (this.cqTail[qid]! + 1) % size === this.cqHead[qid]!;
  }

  /** Forgets every queue (the caller has cancelled their events). */
  clear(): void {
    this.sqState.fill(SQ_NONE);
    this.sqOutstanding.fill(0);
    this.sqDeleteSlot.fill(-1);
    this.sqStarved.fill(0);
    this.sqFetchEv.fill(NO_EVENT);
    this.cqExists.fill(0);
    this.cqSqCount.fill(0);
    this.cqWaitHead.fill(-1);
    this.cqWaitTail.fill(-1);
    this.cqDrainEv.fill(NO_EVENT);
    this.ioSqCount = 0;
    this.ioCqCount = 0;
  }
}

// Slot states.
export const SLOT_FREE = 0;
/** Admin command waiting for its execution event. */
export const SLOT_EXEC = 1;
/** Outstanding Asynchronous Event Request. */
export const SLOT_AER = 2;
/** I/O command queued for a media channel (not started: abortable). */
export const SLOT_MEDIA_WAIT = 3;
/** I/O command on a media channel. */
export const SLOT_MEDIA = 4;
/** Completed, waiting for room in its CQ. */
export const SLOT_WAIT_POST = 5;
/** Delete I/O SQ waiting for the SQ's commands to finish. */
export const SLOT_WAIT_DELETE = 6;

/** Media operation of an I/O slot. */
export const MOP_READ = 1;
export const MOP_WRITE = 2;
export const MOP_FLUSH = 3;

/**
 * Command slots: slots [0, adminSlots) serve the admin queue, the rest are
 * shared by the I/O queues. A full pool stops fetching from the queue (as a
 * controller with a fixed number of internal command contexts does) until a
 * slot frees.
 */
export class Slots {
  readonly count: number;
  readonly sqe: Uint8Array;
  readonly sqeView: DataView;
  readonly state: Uint8Array;
  readonly sqid: Int32Array;
  readonly cid: Int32Array;
  readonly status: Int32Array;
  readonly dw0: Float64Array;
  readonly ev: Float64Array;
  /** Links for the media FIFO (doubly linked) and the CQ wait FIFO (next only). */
  readonly next: Int32Array;
  readonly prev: Int32Array;
  readonly mop: Uint8Array;
  /** Byte offset on the disk of an I/O transfer. */
  readonly diskOff: Float64Array;
  readonly bytes: Int32Array;
  /** PRP segments mapped for the transfer: maxPrp entries per slot. */
  readonly maxPrp: number;
  readonly prpCount: Int32Array;
  readonly prpAddr: Float64Array;
  readonly prpLen: Int32Array;

  private readonly freeAdmin: Int32Array;
  private freeAdminCount = 0;
  private readonly freeIo: Int32Array;
  private freeIoCount = 0;

  constructor(readonly adminSlots: number, readonly ioSlots: number, maxPrp: number) {
    const n = adminSlots + ioSlots;
    this.count = n;
    this.sqe = new Uint8Array(n * SQE_SIZE);
    this.sqeView = new DataView(this.sqe.buffer);
    this.state = new Uint8Array(n);
    this.sqid = new Int32Array(n);
    this.cid = new Int32Array(n);
    this.status = new Int32Array(n);
    this.dw0 = new Float64Array(n);
    this.ev = new Float64Array(n).fill(NO_EVENT);
    this.next = new Int32Array(n).fill(-1);
    this.prev = new Int32Array(n).fill(-1);
    this.mop = new Uint8Array(n);
    this.diskOff = new Float64Array(n);
    this.bytes = new Int32Array(n);
    this.maxPrp = maxPrp;
    this.prpCount = new Int32Array(n);
    this.prpAddr = new Float64Array(n * maxPrp);
    this.prpLen = new Int32Array(n * maxPrp);
    this.freeAdmin = new Int32Array(adminSlots);
    this.freeIo = new Int32Array(ioSlots);
    this.reset();
  }

  /** Marks every slot free (the caller has cancelled their events). */
  reset(): void {
    this.state.fill(SLOT_FREE);
    this.ev.fill(NO_EVENT);
    this.next.fill(-1);
    this.prev.fill(-1);
    this.freeAdminCount = 0;
    for (let s = this.adminSlots - 1; s >= 0; s--) this.freeAdmin[this.freeAdminCount++] = s;
    this.freeIoCount = 0;
    for (let s = this.count - 1; s >= this.adminSlots; s--) this.freeIo[this.freeIoCount++] = s;
  }

  /** A free slot for the admin queue or an I/O queue, or -1 when the pool is empty. */
  alloc(admin: boolean, sqid: number): number {
    let s: number;
    if (admin) {
      if (this.freeAdminCount === 0) return -1;
      s = this.freeAdmin[--this.freeAdminCount]!;
    } else {
      if (this.freeIoCount === 0) return -1;
      s = this.freeIo[--this.freeIoCount]!;
    }
    this.sqid[s] = sqid;
    this.status[s] = 0;
    this.dw0[s] = 0;
    this.prpCount[s] = 0;
    this.bytes[s] = 0;
    this.next[s] = -1;
    this.prev[s] = -1;
    this.ev[s] = NO_EVENT;
    return s;
  }

  free(s: number): void {
    this.state[s] = SLOT_FREE;
    this.ev[s] = NO_EVENT;
    if (s < this.adminSlots) this.freeAdmin[this.freeAdminCount++] = s;
    else this.freeIo[this.freeIoCount++] = s;
  }

  /** Little-endian dword `dw` (0..15) of the slot's submission queue entry. */
  dword(s: number, dw: number): number {
    return this.sqeView.getUint32(s * SQE_SIZE + dw * 4, true);
  }

  /** 64-bit field at dwords dw, dw+1 as a number (exact below 2^53). */
  qword(s: number, dw: number): number {
    const o = s * SQE_SIZE + dw * 4;
    return this.sqeView.getUint32(o + 4, true) * 0x1_0000_0000 + this.sqeView.getUint32(o, true);
  }

  opcode(s: number): number {
    return this.sqe[s * SQE_SIZE]!;
  }
}
