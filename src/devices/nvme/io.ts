/**
 * NVM command set I/O commands (NVMe 1.4 section 6): Flush, Write, Read,
 * and the media model behind them.
 *
 * Media model: `mediaChannels` operations run at once; further commands wait
 * in a FIFO (these are "queued, not started": Abort can take them back).
 * A Write moves its data from the host when it starts on a channel; a Read
 * moves data to the host when its media latency has elapsed; then the
 * completion is posted.
 */
import type { NvmeController } from './controller.js';
import {
  MOP_FLUSH, MOP_READ, MOP_WRITE, SLOT_MEDIA, SLOT_MEDIA_WAIT, type Slots,
} from './queues.js';
import { NS_ACTIVE, NS_BROADCAST, NS_INACTIVE } from './identify.js';
import { SQE_SIZE, hex } from './regs.js';
import { IoOp, St } from './status.js';

/** FIFO of slots waiting for a channel (doubly linked through Slots.next/prev). */
export class Media {
  head = -1;
  tail = -1;
  busy = 0;

  constructor(readonly channels: number, private readonly slots: Slots) {}

  push(slot: number): void {
    const s = this.slots;
    s.state[slot] = SLOT_MEDIA_WAIT;
    s.next[slot] = -1;
    s.prev[slot] = this.tail;
    if (this.tail === -1) this.head = slot;
    else s.next[this.tail] = slot;
    this.tail = slot;
  }

  unlink(slot: number): void {
    const s = this.slots;
    const prev = s.prev[slot]!;
    const next = s.next[slot]!;
    if (prev === -1) this.head = next;
    else s.next[prev] = next;
    if (next === -1) this.tail = prev;
    else s.prev[next] = prev;
    s.next[slot] = -1;
    s.prev[slot] = -1;
  }

  clear(): void {
    this.head = -1;
    this.tail = -1;
    this.busy = 0;
  }
}

/**
 * A fetched I/O command: validate, map its PRPs, queue it for the media.
 * Checks, in order: opcode, FUSE/PSDT, namespace, MDTS, LBA range, data
 * pointer (PRPs, which may fetch PRP lists).
 */
export function startIo(c: NvmeController, slot: number): void {
  const s = c.slots;
  const opc = s.opcode(slot);
  const flags = s.sqe[slot * SQE_SIZE + 1]!;
  if (opc !== IoOp.FLUSH && opc !== IoOp.WRITE && opc !== IoOp.READ) {
    c.complete(slot, St.INVALID_OPCODE, 0, `opcode 0x${opc.toString(16)} is not supported`);
    return;
  }
  if ((flags & 0xc3) !== 0) {
    c.complete(slot, St.INVALID_FIELD, 0,
      `FUSE=${flags & 3} PSDT=${flags >>> 6}: fused operations and SGLs are not supported (Identify FUSES=0, SGLS=0)`);
    return;
  }
  const nsid = s.dword(slot, 1);
  // 6.1.5: an inactive NSID is Invalid Field in Command, an invalid one (0, above NN) Invalid Namespace or Format.
  const kind = c.nsidKind(nsid);
  if (opc === IoOp.FLUSH) {
    // Flush with NSID FFFFFFFFh applies to all namespaces (VWC bits 2:1 = 11b).
    if (kind !== NS_ACTIVE && kind !== NS_BROADCAST) {
      nsidRefused(c, slot, nsid, kind);
      return;
    }
    s.mop[slot] = MOP_FLUSH;
    c.media.push(slot);
    startNext(c);
    return;
  }
  // Read and Write name one namespace: FFFFFFFFh is invalid for them.
  if (kind !== NS_ACTIVE) {
    nsidRefused(c, slot, nsid, kind);
    return;
  }
  const nlb = (s.dword(slot, 12) & 0xffff) + 1;
  const slba = s.qword(slot, 10);
  const bytes = nlb * c.cfg.lbaSize;
  if (bytes > c.mdtsBytes) {
    c.complete(slot, St.INVALID_FIELD, 0, `${nlb} blocks (${bytes} bytes) exceed MDTS (${c.mdtsBytes} bytes)`);
    return;
  }
  if (slba + nlb > c.disk.blocks) {
    c.complete(slot, St.LBA_OUT_OF_RANGE, 0, `LBAs ${slba}+${nlb} beyond the namespace (NSZE ${c.disk.blocks})`);
    return;
  }
  const prp1 = s.qword(slot, 6);
  const prp2 = s.qword(slot, 8);
  const st = c.mover.map(slot, prp1, prp2, bytes, c.pageSize);
  if (st !== St.SUCCESS) {
    c.complete(slot, st, 0, `PRP1 ${hex(prp1)} PRP2 ${hex(prp2)} for ${bytes} bytes with ${c.pageSize}-byte pages (4.3)`);
    return;
  }
  s.mop[slot] = opc === IoOp.READ ? MOP_READ : MOP_WRITE;
  s.diskOff[slot] = slba * c.cfg.lbaSize;
  if (++c.ioAccepted === c.cfg.faultStallIo) {
    // Fault: this command hangs in the controller; only Abort (or deleting its SQ, or a reset) ends it.
    c.stalled.push(slot);
    c.tracer.milestone(c.queue.now, c.dev, 'fault.stall', s.sqid[slot]!, s.cid[slot]!);
    return;
  }
  c.media.push(slot);
  startNext(c);
}

/** Completes an I/O command whose NSID names no active namespace (`kind` from NvmeController.nsidKind). */
function nsidRefused(c: NvmeController, slot: number, nsid: number, kind: number): void {
  if (kind === NS_INACTIVE) {
    c.complete(slot, St.INVALID_FIELD, 0, `NSID ${nsid} is inactive (${c.nsSummary()})`);
  } else {
    c.complete(slot, St.INVALID_NAMESPACE, 0, `NSID ${nsid} is not an active namespace`);
  }
}

/** Starts queued operations while channels are free. */
export function startNext(c: NvmeController): void {
  const m = c.media;
  const s = c.slots;
  while (c.running && m.busy < m.channels && m.head !== -1) {
    const slot = m.head;
    m.unlink(slot);
    s.state[slot] = SLOT_MEDIA;
    m.busy++;
    let lat;
    switch (s.mop[slot]) {
      case MOP_WRITE: {
        const st = c.mover.hostToDisk(slot, c.disk, s.diskOff[slot]!);
        if (st !== St.SUCCESS) {
          m.busy--;
          c.complete(slot, st);
          continue;
        }
        lat = c.writeLatency;
        break;
      }
      case MOP_READ:
        lat = c.readLatency;
        break;
      default:
        lat = c.flushLatency;
        break;
    }
    c.scheduleMedia(slot, c.latency(lat));
  }
}

/** The media latency of `slot` elapsed: move read data, complete, start the next operation. */
export function mediaDone(c: NvmeController, slot: number): void {
  const s = c.slots;
  c.media.busy--;
  let st: number = St.SUCCESS;
  const bytes = s.bytes[slot]!;
  switch (s.mop[slot]) {
    case MOP_READ:
      st = c.mover.diskToHost(slot, c.disk, s.diskOff[slot]!);
      if (st === St.SUCCESS) {
        c.counters.reads++;
        c.counters.bytesRead += bytes;
      }
      break;
    case MOP_WRITE:
      c.counters.writes++;
      c.counters.bytesWritten += bytes;
      break;
    default:
      c.counters.flushes++;
      break;
  }
  c.complete(slot, st);
  startNext(c);
}

/**
 * Abort (5.1): takes back a queued, not yet started command of (sqid, cid)
 * and completes it with Command Abort Requested. Returns false when no such
 * command is waiting (it already started or completed).
 */
export function abortQueued(c: NvmeController, sqid: number, cid: number): boolean {
  const s = c.slots;
  for (const list of [c.media, c.stalled]) {
    for (let slot = list.head; slot !== -1; slot = s.next[slot]!) {
      if (s.sqid[slot] === sqid && s.cid[slot] === cid) {
        list.unlink(slot);
        c.complete(slot, St.ABORT_REQUESTED);
        return true;
      }
    }
  }
  return false;
}

/**
 * Delete I/O SQ (5.6): every command of the SQ still queued or on the media
 * ends with Command Aborted due to SQ Deletion. Completions already waiting
 * for CQ room stay as they are.
 */
export function abortSq(c: NvmeController, sqid: number): void {
  const s = c.slots;
  const m = c.media;
  for (const list of [m, c.stalled]) {
    let slot = list.head;
    while (slot !== -1) {
      const next = s.next[slot]!;
      if (s.sqid[slot] === sqid) {
        list.unlink(slot);
        c.complete(slot, St.ABORTED_SQ_DELETION);
      }
      slot = next;
    }
  }
  for (let i = s.adminSlots; i < s.count; i++) {
    if (s.state[i] === SLOT_MEDIA && s.sqid[i] === sqid) {
      c.cancelSlotEvent(i);
      m.busy--;
      c.complete(i, St.ABORTED_SQ_DELETION);
    }
  }
  startNext(c);
}
