/**
 * Stall diagnosis for the NVMe controller (DeviceModel.stall): when a run
 * ends by its time limit or goes idle before the workload is done, say what
 * the controller is waiting for, read from its queue and slot state:
 *
 * - a completion queue that is full (the host has not moved the head
 *   doorbell), with the completions waiting for room;
 * - a completion queue holding entries the host has not consumed;
 * - submission queue entries not fetched (no free command slot), and
 *   commands fetched but not completed, by where they are;
 * - a controller that is disabled, not ready or in fatal status.
 *
 * Reads state only; allocates only when asked (once, at the end of a run).
 */
import { formatTime } from '../../sim/time.js';
import type { NvmeController } from './controller.js';
import {
  SLOT_EXEC, SLOT_MEDIA, SLOT_MEDIA_WAIT, SLOT_WAIT_DELETE, SLOT_WAIT_POST, SQ_NONE,
} from './queues.js';
import { CC_EN, CSTS_CFS, CSTS_RDY } from './regs.js';

/** "no CQ1HDBL write since 2.120 ms" / "no CQ1HDBL write since the queue was created". */
function lastWrite(name: string, at: number, now: number): string {
  if (at < 0) return `no ${name} write since the queue was created`;
  return `no ${name} write since ${formatTime(at)} (${formatTime(Math.max(0, now - at))} ago)`;
}

/** Lines naming what the controller `c` waits for at `now` (ps); empty when nothing is pending. */
export function nvmeStall(c: NvmeController, now: number): string[] {
  const out: string[] = [];
  if ((c.csts & CSTS_CFS) !== 0) out.push('controller in fatal status (CSTS.CFS=1): nothing is processed until the host resets it');
  else if ((c.cc & CC_EN) === 0) out.push('controller disabled (CC.EN=0): no queue is processed');
  else if ((c.csts & CSTS_RDY) === 0 || !c.running) out.push('controller enabling: CSTS.RDY not set yet');
  const q = c.q;
  const s = c.slots;
  // Where each SQ's fetched commands are (AERs are meant to stay outstanding: not counted).
  const exec = new Int32Array(q.count);
  const mediaWait = new Int32Array(q.count);
  const media = new Int32Array(q.count);
  const waitPost = new Int32Array(q.count);
  const waitDelete = new Int32Array(q.count);
  for (let slot = 0; slot < s.count; slot++) {
    const sq = s.sqid[slot]!;
    if (sq < 0 || sq >= q.count) continue;
    switch (s.state[slot]) {
      case SLOT_EXEC: exec[sq]!++; break;
      case SLOT_MEDIA_WAIT: mediaWait[sq]!++; break;
      case SLOT_MEDIA: media[sq]!++; break;
      case SLOT_WAIT_POST: waitPost[sq]!++; break;
      case SLOT_WAIT_DELETE: waitDelete[sq]!++; break;
      default: break;
    }
  }
  for (let cq = 0; cq < q.count; cq++) {
    if (q.cqExists[cq] === 0) continue;
    const size = q.cqSize[cq]!;
    const head = q.cqHead[cq]!;
    const tail = q.cqTail[cq]!;
    const posted = (tail - head + size) % size;
    let waiting = 0;
    for (let sq = 0; sq < q.count; sq++) if (q.sqState[sq] !== SQ_NONE && q.sqCq[sq] === cq) waiting += waitPost[sq]!;
    const db = lastWrite(`CQ${cq}HDBL`, q.doorbellPs[2 * cq + 1]!, now);
    if (q.cqFull(cq)) {
      out.push(`CQ${cq} full: head ${head}, tail ${tail}, ${waiting} completion${waiting === 1 ? '' : 's'} waiting for room, ${db}`);
    } else if (posted > 0) {
      out.push(`CQ${cq}: ${posted} completion${posted === 1 ? '' : 's'} posted and not consumed (head ${head}, tail ${tail}), ${db}`);
    }
  }
  for (let sq = 0; sq < q.count; sq++) {
    if (q.sqState[sq] === SQ_NONE) continue;
    const size = q.sqSize[sq]!;
    const unfetched = (q.sqTail[sq]! - q.sqHead[sq]! + size) % size;
    if (unfetched > 0) {
      out.push(`SQ${sq}: ${unfetched} entr${unfetched === 1 ? 'y' : 'ies'} not fetched (head ${q.sqHead[sq]}, tail ${q.sqTail[sq]})${q.sqStarved[sq] !== 0 ? ': no free command slot' : ''}`);
    }
    const open = exec[sq]! + mediaWait[sq]! + media[sq]! + waitPost[sq]! + waitDelete[sq]!;
    if (open === 0) continue;
    const where: string[] = [];
    if (exec[sq]! > 0) where.push(`${exec[sq]} executing`);
    if (mediaWait[sq]! > 0) where.push(`${mediaWait[sq]} queued for the media, not started`);
    if (media[sq]! > 0) where.push(`${media[sq]} on the media`);
    if (waitPost[sq]! > 0) where.push(`${waitPost[sq]} done, waiting for room in CQ${q.sqCq[sq]}`);
    if (waitDelete[sq]! > 0) where.push(`${waitDelete[sq]} Delete I/O SQ waiting for the queue to drain`);
    const dbSq = lastWrite(`SQ${sq}TDBL`, q.doorbellPs[2 * sq]!, now);
    out.push(`SQ${sq}: ${open} command${open === 1 ? '' : 's'} fetched, not completed (${where.join(', ')}); ${dbSq}`);
  }
  return out;
}
