/**
 * Admin command set (NVMe 1.4 section 5). Every command but Asynchronous
 * Event Request runs in an execution event ADMIN_LATENCY after its fetch.
 */
import type { NvmeController } from './controller.js';
import { defaultFeatures } from './features.js';
import {
  ERROR_LOG_SIZE, FW_SLOT_LOG_SIZE, IDENTIFY_SIZE, NS_ACTIVE, NS_BROADCAST, NS_INACTIVE, NS_INVALID, SMART_LOG_SIZE,
  fillActiveNsList, fillFirmwareSlotLog, fillSmartLog,
} from './identify.js';
import { abortQueued, abortSq } from './io.js';
import { SLOT_EXEC, SLOT_WAIT_DELETE, SQ_ACTIVE, SQ_DELETING, SQ_NONE } from './queues.js';
import { MSI_VECTORS, SQE_SIZE, hex } from './regs.js';
import { AdminOp, AeType, Fid, Lid, St } from './status.js';

const DEFAULT_FEATURES = defaultFeatures();

/** A fetched admin command: AERs are parked at once, the rest execute after the admin latency. */
export function dispatchAdmin(c: NvmeController, slot: number): void {
  c.counters.adminCommands++;
  const s = c.slots;
  if (s.opcode(slot) === AdminOp.ASYNC_EVENT_REQUEST && (s.sqe[slot * SQE_SIZE + 1]! & 0xc3) === 0) {
    // 5.2: at most AERL+1 outstanding; one more fails with AER Limit Exceeded.
    if (!c.addAer(slot)) {
      c.complete(slot, St.AER_LIMIT_EXCEEDED, 0, `more than AERL+1 = ${c.aerSlots.length} requests outstanding`);
    }
    return;
  }
  s.state[slot] = SLOT_EXEC;
  c.scheduleAdmin(slot);
}

export function execAdmin(c: NvmeController, slot: number): void {
  const s = c.slots;
  const opc = s.opcode(slot);
  const flags = s.sqe[slot * SQE_SIZE + 1]!;
  if ((flags & 0xc3) !== 0) {
    c.complete(slot, St.INVALID_FIELD, 0,
      `FUSE=${flags & 3} PSDT=${flags >>> 6}: fused operations and SGLs are not supported (Identify FUSES=0, SGLS=0)`);
    return;
  }
  switch (opc) {
    case AdminOp.DELETE_IO_SQ: deleteSq(c, slot); break;
    case AdminOp.CREATE_IO_SQ: createSq(c, slot); break;
    case AdminOp.GET_LOG_PAGE: getLogPage(c, slot); break;
    case AdminOp.DELETE_IO_CQ: deleteCq(c, slot); break;
    case AdminOp.CREATE_IO_CQ: createCq(c, slot); break;
    case AdminOp.IDENTIFY: identify(c, slot); break;
    case AdminOp.ABORT: abort(c, slot); break;
    case AdminOp.SET_FEATURES: setFeatures(c, slot); break;
    case AdminOp.GET_FEATURES: getFeatures(c, slot); break;
    default:
      c.complete(slot, St.INVALID_OPCODE, 0, `admin opcode ${hex(opc)} is not supported`);
  }
}

/** Why queue id `qid` cannot name a new I/O queue, for messages. */
function qidProblem(c: NvmeController, qid: number, exists: boolean): string {
  if (qid === 0) return 'queue 0 is the admin queue';
  if (qid > c.grantedQueues) return `only ${c.grantedQueues} I/O queue pairs are granted (Number of Queues)`;
  return exists ? 'the queue already exists' : 'the queue does not exist';
}

/**
 * The checks Create I/O CQ and SQ share (5.3, 5.4): QSIZE within CAP.MQES,
 * physically contiguous (PC = 1, CAP.CQR = 1), PRP1 page aligned. Completes
 * the command with the reason and returns true when one fails.
 */
function rejectQueueShape(c: NvmeController, slot: number): boolean {
  const s = c.slots;
  const qsize = s.dword(slot, 10) >>> 16;
  const pc = s.dword(slot, 11) & 1;
  const base = s.qword(slot, 6);
  const mqes = c.cfg.maxQueueEntries - 1;
  if (qsize === 0 || qsize > mqes) {
    c.complete(slot, St.INVALID_QSIZE, 0, `QSIZE ${qsize} (0's based) outside 1..CAP.MQES (${mqes})`);
  } else if (pc === 0) {
    c.complete(slot, St.INVALID_FIELD, 0, 'PC=0: CAP.CQR=1, queues must be physically contiguous');
  } else if (base % c.pageSize !== 0) {
    c.complete(slot, St.PRP_OFFSET_INVALID, 0, `PRP1 ${hex(base)} is not aligned to the ${c.pageSize}-byte memory page`);
  } else {
    return false;
  }
  return true;
}

/** Create I/O Completion Queue (5.3). */
function createCq(c: NvmeController, slot: number): void {
  const s = c.slots;
  const q = c.q;
  const dw10 = s.dword(slot, 10);
  const dw11 = s.dword(slot, 11);
  const qid = dw10 & 0xffff;
  const qsize = dw10 >>> 16;
  const ien = (dw11 >>> 1) & 1;
  const iv = dw11 >>> 16;
  if (qid === 0 || qid > c.grantedQueues || q.cqExists[qid] !== 0) {
    c.complete(slot, St.INVALID_QID, 0, `CQ ${qid}: ${qidProblem(c, qid, true)}`);
    return;
  }
  if (rejectQueueShape(c, slot)) return;
  if (ien !== 0 && !c.vectorValid(iv)) {
    c.complete(slot, St.INVALID_INTERRUPT_VECTOR, 0, `IV ${iv} is not usable in ${c.irq.mode} mode`);
    return;
  }
  q.createCq(qid, s.qword(slot, 6), qsize + 1, ien !== 0, iv);
  c.tracer.milestone(c.queue.now, c.dev, 'cq.create', qid, qsize + 1);
  c.complete(slot, St.SUCCESS);
}

/** Create I/O Submission Queue (5.4). */
function createSq(c: NvmeController, slot: number): void {
  const s = c.slots;
  const q = c.q;
  const dw10 = s.dword(slot, 10);
  const dw11 = s.dword(slot, 11);
  const qid = dw10 & 0xffff;
  const qsize = dw10 >>> 16;
  const qprio = (dw11 >>> 1) & 3;
  const cqid = dw11 >>> 16;
  if (qid === 0 || qid > c.grantedQueues || q.sqState[qid] !== SQ_NONE) {
    c.complete(slot, St.INVALID_QID, 0, `SQ ${qid}: ${qidProblem(c, qid, true)}`);
    return;
  }
  if (cqid === 0 || cqid >= q.count || q.cqExists[cqid] === 0) {
    c.complete(slot, St.CQ_INVALID, 0, cqid === 0 ? 'CQID 0 is the admin completion queue' : `CQ ${cqid} does not exist`);
    return;
  }
  if (rejectQueueShape(c, slot)) return;
  q.createSq(qid, s.qword(slot, 6), qsize + 1, cqid, qprio);
  if (c.sqSan !== null) c.sqSan.created(qid, qsize + 1);
  c.tracer.milestone(c.queue.now, c.dev, 'sq.create', qid, qsize + 1);
  c.complete(slot, St.SUCCESS);
}

/**
 * Delete I/O Submission Queue (5.6): commands of the SQ still queued or on
 * the media complete with Command Aborted due to SQ Deletion; the delete
 * completes once every command of the SQ has posted its completion.
 */
function deleteSq(c: NvmeController, slot: number): void {
  const q = c.q;
  const qid = c.slots.dword(slot, 10) & 0xffff;
  if (qid === 0 || qid >= q.count || q.sqState[qid] !== SQ_ACTIVE) {
    c.complete(slot, St.INVALID_QID, 0, `SQ ${qid}: ${qidProblem(c, qid, false)}`);
    return;
  }
  q.sqState[qid] = SQ_DELETING;
  q.sqDeleteSlot[qid] = slot;
  c.slots.state[slot] = SLOT_WAIT_DELETE;
  c.cancelFetch(qid);
  abortSq(c, qid);
  // If the last aborted completion was posted inside abortSq, release() already finished the deletion.
  if (q.sqState[qid] === SQ_DELETING && q.sqOutstanding[qid] === 0) {
    c.finishSqDelete(qid);
    c.complete(slot, St.SUCCESS);
  }
}

/** Delete I/O Completion Queue (5.5): refused while an SQ still completes into it. */
function deleteCq(c: NvmeController, slot: number): void {
  const q = c.q;
  const qid = c.slots.dword(slot, 10) & 0xffff;
  if (qid === 0 || qid >= q.count || q.cqExists[qid] === 0) {
    c.complete(slot, St.INVALID_QID, 0, `CQ ${qid}: ${qidProblem(c, qid, false)}`);
  } else if (q.cqSqCount[qid]! > 0) {
    c.complete(slot, St.INVALID_QUEUE_DELETION, 0, `CQ ${qid} still has ${q.cqSqCount[qid]} submission queue(s)`);
  } else {
    q.deleteCq(qid);
    c.updateIntx();
    c.tracer.milestone(c.queue.now, c.dev, 'cq.delete', qid, 0);
    c.complete(slot, St.SUCCESS);
  }
}

/**
 * Identify (5.15): CNS 00h namespace, 01h controller, 02h active NSID list,
 * 03h NS descriptors. NSIDs (figure 245, 6.1.5): CNS 00h of an inactive NSID
 * returns a zero-filled structure; CNS 03h of an inactive NSID is Invalid
 * Field in Command; an invalid NSID (0, above NN, or FFFFFFFFh, which needs
 * Namespace Management) is Invalid Namespace or Format. CNS 02h lists the
 * active NSIDs above NSID; FFFFFFFEh and FFFFFFFFh are Invalid Namespace or
 * Format.
 */
function identify(c: NvmeController, slot: number): void {
  const s = c.slots;
  const cns = s.dword(slot, 10) & 0xff;
  const nsid = s.dword(slot, 1);
  let src: Uint8Array;
  switch (cns) {
    case 0x00:
    case 0x03: {
      const kind = c.nsidKind(nsid);
      if (kind === NS_INVALID || kind === NS_BROADCAST) {
        c.complete(slot, St.INVALID_NAMESPACE, 0, `Identify CNS ${cns} with NSID ${hex(nsid)}: ${c.nsSummary()}`);
        return;
      }
      if (kind === NS_INACTIVE) {
        if (cns === 0x03) {
          c.complete(slot, St.INVALID_FIELD, 0, `Identify CNS 3 with NSID ${hex(nsid)}: the namespace is inactive (${c.nsSummary()})`);
          return;
        }
        c.scratch.fill(0, 0, IDENTIFY_SIZE);
        src = c.scratch;
        break;
      }
      src = cns === 0 ? c.idNamespace : c.idNsDescriptors;
      break;
    }
    case 0x01:
      src = c.idController;
      break;
    case 0x02:
      if (nsid >= 0xfffffffe) {
        c.complete(slot, St.INVALID_NAMESPACE, 0, `Identify CNS 2 with NSID ${hex(nsid)}`);
        return;
      }
      fillActiveNsList(c.scratch, nsid, c.activeNsid);
      src = c.scratch;
      break;
    default:
      c.complete(slot, St.INVALID_FIELD, 0, `Identify CNS ${hex(cns)} is not supported`);
      return;
  }
  let st = c.mover.map(slot, s.qword(slot, 6), s.qword(slot, 8), IDENTIFY_SIZE, c.pageSize);
  if (st === St.SUCCESS) st = c.mover.toHost(slot, src, 0, IDENTIFY_SIZE);
  c.complete(slot, st, 0, 'bad PRP entry');
}

/** Get Log Page (5.14): error information (zeros), SMART / health, firmware slot. */
function getLogPage(c: NvmeController, slot: number): void {
  const s = c.slots;
  const dw10 = s.dword(slot, 10);
  const dw11 = s.dword(slot, 11);
  const lid = dw10 & 0xff;
  const rae = (dw10 >>> 15) & 1;
  const numd = (dw11 & 0xffff) * 0x10000 + (dw10 >>> 16) + 1;
  const len = numd * 4;
  const off = s.qword(slot, 12);
  if (len > c.mdtsBytes) {
    c.complete(slot, St.INVALID_FIELD, 0, `NUMD ${numd} dwords exceed MDTS (${c.mdtsBytes} bytes)`);
    return;
  }
  let size: number;
  let aeType = -1;
  switch (lid) {
    case Lid.ERROR_INFO:
      size = ERROR_LOG_SIZE;
      c.scratch.fill(0, 0, size);
      aeType = AeType.ERROR;
      break;
    case Lid.SMART:
      size = SMART_LOG_SIZE;
      fillSmartLog(c.scratch, c.counters);
      aeType = AeType.SMART;
      break;
    case Lid.FIRMWARE_SLOT:
      size = FW_SLOT_LOG_SIZE;
      fillFirmwareSlotLog(c.scratch, c.cfg.firmware);
      break;
    default:
      c.complete(slot, St.INVALID_LOG_PAGE, 0, `log page ${hex(lid)} is not supported`);
      return;
  }
  if (off % 4 !== 0 || off >= size) {
    c.complete(slot, St.INVALID_FIELD, 0, `log page offset ${off} is not a dword inside the ${size}-byte log`);
    return;
  }
  let st = c.mover.map(slot, s.qword(slot, 6), s.qword(slot, 8), len, c.pageSize);
  if (st === St.SUCCESS) st = c.mover.toHost(slot, c.scratch, off, Math.min(len, size - off));
  c.complete(slot, st, 0, 'bad PRP entry');
  // 5.14.1: reading the log without RAE re-arms events of its type (after this completion).
  if (st === St.SUCCESS && rae === 0 && aeType >= 0) c.clearEventMask(aeType);
}

/**
 * Abort (5.1): a command still queued for the media (or an outstanding AER)
 * is completed with Command Abort Requested and DW0 bit 0 = 0; otherwise
 * nothing is aborted and DW0 bit 0 = 1. Aborts execute at once, so the
 * Abort Command Limit (ACL) is never reached.
 */
function abort(c: NvmeController, slot: number): void {
  const dw10 = c.slots.dword(slot, 10);
  const sqid = dw10 & 0xffff;
  const cid = dw10 >>> 16;
  let aborted = false;
  if (sqid === 0) {
    const target = c.takeAer(cid);
    if (target >= 0) {
      c.complete(target, St.ABORT_REQUESTED);
      aborted = true;
    }
  } else if (sqid < c.q.count && c.q.sqState[sqid] !== SQ_NONE) {
    aborted = abortQueued(c, sqid, cid);
  }
  c.complete(slot, St.SUCCESS, aborted ? 0 : 1);
}

/**
 * NSID checks of Get/Set Features (5.21, 6.1.5): 0 and FFFFFFFFh name no
 * namespace; an invalid NSID is Invalid Namespace or Format, an inactive one
 * Invalid Field in Command; an active NSID with a feature that is not
 * namespace specific (all but Error Recovery, figure 271) is Feature
 * Identifier Not Namespace Specific.
 */
function nsidProblem(c: NvmeController, fid: number, nsid: number): number {
  if (nsid === 0 || nsid === 0xffffffff) return St.SUCCESS;
  const kind = c.nsidKind(nsid);
  if (kind === NS_INVALID) return St.INVALID_NAMESPACE;
  if (kind !== NS_ACTIVE) return St.INVALID_FIELD;
  return fid === Fid.ERROR_RECOVERY ? St.SUCCESS : St.FEATURE_NOT_NS_SPECIFIC;
}

function vectorCount(c: NvmeController): number {
  return Math.max(c.cfg.msixVectors, MSI_VECTORS);
}

/** Set Features (5.21). */
function setFeatures(c: NvmeController, slot: number): void {
  const s = c.slots;
  const dw10 = s.dword(slot, 10);
  const dw11 = s.dword(slot, 11);
  const fid = dw10 & 0xff;
  const nsid = s.dword(slot, 1);
  const f = c.features;
  if ((dw10 >>> 31) !== 0) {
    c.complete(slot, St.FEATURE_NOT_SAVEABLE, 0, `feature ${hex(fid)}: no feature is saveable`);
    return;
  }
  const nsSt = nsidProblem(c, fid, nsid);
  if (nsSt !== St.SUCCESS) {
    c.complete(slot, nsSt, 0, `feature ${hex(fid)} with NSID ${hex(nsid)}`);
    return;
  }
  let dw0 = 0;
  switch (fid) {
    case Fid.ARBITRATION:
      f.arbitration = dw11;
      break;
    case Fid.POWER_MANAGEMENT:
      if ((dw11 & 0x1f) !== 0) {
        c.complete(slot, St.INVALID_FIELD, 0, `power state ${dw11 & 0x1f} does not exist (NPSS=0)`);
        return;
      }
      f.powerManagement = dw11 & 0xff;
      break;
    case Fid.TEMPERATURE_THRESHOLD: {
      const tmpsel = (dw11 >>> 16) & 0xf;
      const thsel = (dw11 >>> 20) & 3;
      if (tmpsel !== 0 || thsel > 1) {
        c.complete(slot, St.INVALID_FIELD, 0, `TMPSEL ${tmpsel} THSEL ${thsel}: only the composite temperature's over/under thresholds exist`);
        return;
      }
      if (thsel === 0) f.tempOver = dw11 & 0xffff;
      else f.tempUnder = dw11 & 0xffff;
      break;
    }
    case Fid.ERROR_RECOVERY:
      if ((dw11 & (1 << 16)) !== 0) {
        c.complete(slot, St.INVALID_FIELD, 0, 'DULBE: deallocated/unwritten block errors are not supported');
        return;
      }
      f.errorRecovery = dw11 & 0xffff;
      break;
    case Fid.VOLATILE_WRITE_CACHE:
      f.volatileWriteCache = dw11 & 1;
      break;
    case Fid.NUMBER_OF_QUEUES: {
      // 5.21.1.7: only before any I/O queue exists; the controller grants its maximum.
      if (c.q.ioSqCount + c.q.ioCqCount > 0) {
        c.complete(slot, St.COMMAND_SEQUENCE_ERROR, 0, 'Number of Queues set after I/O queues were created');
        return;
      }
      if ((dw11 & 0xffff) === 0xffff || (dw11 >>> 16) === 0xffff) {
        c.complete(slot, St.INVALID_FIELD, 0, `NSQR/NCQR ${hex(dw11)}: 65535 is not a valid request`);
        return;
      }
      const g = c.grantedQueues - 1;
      dw0 = (g | (g << 16)) >>> 0;
      break;
    }
    case Fid.INTERRUPT_COALESCING:
      f.interruptCoalescing = dw11 & 0xffff;
      break;
    case Fid.INTERRUPT_VECTOR_CONFIG: {
      const iv = dw11 & 0xffff;
      const cd = (dw11 >>> 16) & 1;
      if (iv >= vectorCount(c)) {
        c.complete(slot, St.INVALID_FIELD, 0, `interrupt vector ${iv} does not exist`);
        return;
      }
      if (iv === 0 && cd === 0) {
        c.complete(slot, St.INVALID_FIELD, 0, 'the admin vector 0 cannot be coalesced (5.21.1.9)');
        return;
      }
      c.vectorCd[iv] = cd;
      break;
    }
    case Fid.WRITE_ATOMICITY:
      f.writeAtomicity = dw11 & 1;
      break;
    case Fid.ASYNC_EVENT_CONFIG:
      f.asyncEventConfig = dw11 >>> 0;
      break;
    default:
      c.complete(slot, St.INVALID_FIELD, 0, `feature ${hex(fid)} is not supported`);
      return;
  }
  c.complete(slot, St.SUCCESS, dw0);
}

/** Get Features (5.15): SEL 0 current, 1 default, 2 saved (= default), 3 supported capabilities. */
function getFeatures(c: NvmeController, slot: number): void {
  const s = c.slots;
  const dw10 = s.dword(slot, 10);
  const dw11 = s.dword(slot, 11);
  const fid = dw10 & 0xff;
  const sel = (dw10 >>> 8) & 7;
  if (sel > 3) {
    c.complete(slot, St.INVALID_FIELD, 0, `SEL ${sel} is reserved`);
    return;
  }
  // 6.1.5: an invalid or inactive NSID fails; features are read whatever namespace an active NSID names.
  const nsid = s.dword(slot, 1);
  const kind = nsid === 0 ? NS_BROADCAST : c.nsidKind(nsid);
  if (kind === NS_INVALID || kind === NS_INACTIVE) {
    c.complete(slot, kind === NS_INVALID ? St.INVALID_NAMESPACE : St.INVALID_FIELD, 0, `feature ${hex(fid)} with NSID ${hex(nsid)}: ${c.nsSummary()}`);
    return;
  }
  const f = sel === 0 ? c.features : DEFAULT_FEATURES;
  let dw0: number;
  switch (fid) {
    case Fid.ARBITRATION: dw0 = f.arbitration; break;
    case Fid.POWER_MANAGEMENT: dw0 = f.powerManagement; break;
    case Fid.TEMPERATURE_THRESHOLD: {
      const tmpsel = (dw11 >>> 16) & 0xf;
      const thsel = (dw11 >>> 20) & 3;
      if (tmpsel !== 0 || thsel > 1) {
        c.complete(slot, St.INVALID_FIELD, 0, `TMPSEL ${tmpsel} THSEL ${thsel}: only the composite temperature's over/under thresholds exist`);
        return;
      }
      dw0 = thsel === 0 ? f.tempOver : f.tempUnder;
      break;
    }
    case Fid.ERROR_RECOVERY: dw0 = f.errorRecovery; break;
    case Fid.VOLATILE_WRITE_CACHE: dw0 = f.volatileWriteCache; break;
    case Fid.NUMBER_OF_QUEUES: {
      const g = c.grantedQueues - 1;
      dw0 = g | (g << 16);
      break;
    }
    case Fid.INTERRUPT_COALESCING: dw0 = f.interruptCoalescing; break;
    case Fid.INTERRUPT_VECTOR_CONFIG: {
      const iv = dw11 & 0xffff;
      if (iv >= vectorCount(c)) {
        c.complete(slot, St.INVALID_FIELD, 0, `interrupt vector ${iv} does not exist`);
        return;
      }
      const cd = iv === 0 || (sel === 0 && c.vectorCd[iv] !== 0) ? 1 : 0;
      dw0 = iv | (cd << 16);
      break;
    }
    case Fid.WRITE_ATOMICITY: dw0 = f.writeAtomicity; break;
    case Fid.ASYNC_EVENT_CONFIG: dw0 = f.asyncEventConfig; break;
    default:
      c.complete(slot, St.INVALID_FIELD, 0, `feature ${hex(fid)} is not supported`);
      return;
  }
  if (sel === 3) {
    // Capabilities (figure 283): bit 2 changeable, bit 1 namespace specific, bit 0 saveable.
    dw0 = fid === Fid.ERROR_RECOVERY ? 0b110 : 0b100;
  }
  c.complete(slot, St.SUCCESS, dw0 >>> 0);
}
