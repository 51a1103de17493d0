/**
 * Submission-queue sanitizer (machine option `sanitize`, README
 * "Sanitizers"). On hardware the controller may fetch a submission entry
 * any time after the tail doorbell that makes it available (NVMe 1.4 4.1,
 * 7.2.1): a driver that writes or changes the entry after ringing the
 * doorbell races the fetch. In the simulator the driver's memory writes take
 * no time and the fetch comes later, so the race never shows; this catches it.
 *
 * At each SQ tail doorbell the entries it makes available are copied from
 * guest memory (untraced, `DmaPort.peek`). When the controller fetches an
 * entry it compares:
 * - the entry changed since the doorbell: 'nvme.sqe.changed-after-doorbell',
 *   naming the queue, slot and changed fields;
 * - it did not, and it is byte-identical to the entry the controller fetched
 *   from that slot last time (or all zero in a slot never used since the
 *   queue was created): 'nvme.sqe.not-written', the doorbell went beyond
 *   what the driver wrote and the controller executes a stale entry.
 * A driver that writes a command identical to the previous one in the same
 * slot, CID included, would be reported too; drivers take CIDs from a tag
 * allocator, so that needs the same tag, command and buffers a full queue
 * apart.
 *
 * Only guest errors are added: the controller's behaviour and the rest of
 * the trace are the same with the sanitizer on or off. Buffers are
 * allocated per queue when it is created, never per command.
 */
import type { DmaPort } from '../../sim/dma.js';
import { formatTime } from '../../sim/time.js';
import { SQE_SIZE, hex } from './regs.js';
import { opcodeName } from './status.js';

/** Submission entry fields (Common Command Format, NVMe 1.4 figure 105) by byte range. */
const SQE_FIELDS: ReadonlyArray<{ name: string; at: number; len: number }> = [
  { name: 'OPC', at: 0, len: 1 },
  { name: 'FUSE/PSDT', at: 1, len: 1 },
  { name: 'CID', at: 2, len: 2 },
  { name: 'NSID', at: 4, len: 4 },
  { name: 'CDW2', at: 8, len: 4 },
  { name: 'CDW3', at: 12, len: 4 },
  { name: 'MPTR', at: 16, len: 8 },
  { name: 'PRP1', at: 24, len: 8 },
  { name: 'PRP2', at: 32, len: 8 },
  { name: 'CDW10', at: 40, len: 4 },
  { name: 'CDW11', at: 44, len: 4 },
  { name: 'CDW12', at: 48, len: 4 },
  { name: 'CDW13', at: 52, len: 4 },
  { name: 'CDW14', at: 56, len: 4 },
  { name: 'CDW15', at: 60, len: 4 },
];

function field(b: Uint8Array, off: number, len: number): number {
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + b[off + i]!;
  return v;
}

/** What the sanitizer found at a fetch. */
export type SqeFinding = { code: 'nvme.sqe.changed-after-doorbell' | 'nvme.sqe.not-written'; message: string };

export class SqSanitizer {
  /** Per SQ: entries as they were at the doorbell that made them available. */
  private readonly atDoorbell: Array<Uint8Array | undefined>;
  /** Per SQ: the entry last fetched from each slot (zero after creation). */
  private readonly lastFetched: Array<Uint8Array | undefined>;
  /** Per SQ: 1 where the snapshot holds the entry (the doorbell could read it). */
  private readonly valid: Array<Uint8Array | undefined>;
  /** Per SQ and slot: simulated time of the doorbell that made the entry available. */
  private readonly when: Array<Float64Array | undefined>;

  constructor(queues: number, private readonly dma: DmaPort) {
    this.atDoorbell = new Array<Uint8Array | undefined>(queues).fill(undefined);
    this.lastFetched = new Array<Uint8Array | undefined>(queues).fill(undefined);
    this.valid = new Array<Uint8Array | undefined>(queues).fill(undefined);
    this.when = new Array<Float64Array | undefined>(queues).fill(undefined);
  }

  /** SQ `qid` was created with `size` entries: no slot has been fetched yet. */
  created(qid: number, size: number): void {
    const cur = this.atDoorbell[qid];
    if (cur !== undefined && cur.length === size * SQE_SIZE) {
      this.lastFetched[qid]!.fill(0);
      this.valid[qid]!.fill(0);
      return;
    }
    this.atDoorbell[qid] = new Uint8Array(size * SQE_SIZE);
    this.lastFetched[qid] = new Uint8Array(size * SQE_SIZE);
    this.valid[qid] = new Uint8Array(size);
    this.when[qid] = new Float64Array(size);
  }

  /** A tail doorbell moved SQ `qid`'s tail from `oldTail` to `newTail`: snapshot the entries it made available. */
  doorbell(qid: number, base: number, size: number, oldTail: number, newTail: number, now: number): void {
    const snap = this.atDoorbell[qid];
    if (snap === undefined || snap.length !== size * SQE_SIZE) return;
    const valid = this.valid[qid]!;
    const when = this.when[qid]!;
    for (let i = oldTail; i !== newTail; i = i + 1 === size ? 0 : i + 1) {
      valid[i] = this.dma.peek(base + i * SQE_SIZE, snap, i * SQE_SIZE, SQE_SIZE) ? 1 : 0;
      when[i] = now;
    }
  }

  /**
   * The controller fetched slot `head` of SQ `qid` into `sqe[off..off+64)`.
   * Returns what is wrong with it, or undefined (the common case: no allocation).
   */
  fetched(qid: number, head: number, sqe: Uint8Array, off: number): SqeFinding | undefined {
    const snap = this.atDoorbell[qid];
    const last = this.lastFetched[qid];
    if (snap === undefined || last === undefined || (head + 1) * SQE_SIZE > snap.length) return undefined;
    const at = head * SQE_SIZE;
    let changed = false;
    let stale = true;
    for (let i = 0; i < SQE_SIZE; i++) {
      const b = sqe[off + i]!;
      if (b !== snap[at + i]) changed = true;
      if (b !== last[at + i]) stale = false;
    }
    const wasValid = this.valid[qid]![head] === 1;
    this.valid[qid]![head] = 0;
    let finding: SqeFinding | undefined;
    if (wasValid && changed) {
      finding = { code: 'nvme.sqe.changed-after-doorbell', message: this.changedMessage(qid, head, sqe, off, snap, at) };
    } else if (wasValid && stale) {
      finding = { code: 'nvme.sqe.not-written', message: this.staleMessage(qid, head, sqe, off) };
    }
    for (let i = 0; i < SQE_SIZE; i++) last[at + i] = sqe[off + i]!;
    return finding;
  }

  private describe(qid: number, sqe: Uint8Array, off: number): string {
    return `${opcodeName(qid === 0, sqe[off]!)} cid=${field(sqe, off + 2, 2)}`;
  }

  private changedMessage(qid: number, head: number, sqe: Uint8Array, off: number, snap: Uint8Array, at: number): string {
    const diffs: string[] = [];
    for (const f of SQE_FIELDS) {
      const before = field(snap, at + f.at, f.len);
      const after = field(sqe, off + f.at, f.len);
      if (before !== after) diffs.push(`${f.name} ${hex(before)} -> ${hex(after)}`);
    }
    const t = formatTime(this.when[qid]![head]!);
    return `SQ${qid} slot ${head} (${this.describe(qid, sqe, off)}) changed between the tail doorbell at ${t} and the fetch: `
      + `${diffs.join(', ')}; the driver wrote the entry after making it available (on hardware the controller may fetch it at once) (NVMe 1.4 4.1, 7.2.1)`;
  }

  private staleMessage(qid: number, head: number, sqe: Uint8Array, off: number): string {
    let zero = true;
    for (let i = 0; i < SQE_SIZE; i++) if (sqe[off + i] !== 0) { zero = false; break; }
    const t = formatTime(this.when[qid]![head]!);
    const what = zero ? 'it is all zero, never written since the queue was created'
      : `it is byte-identical to the entry fetched from that slot last time (${this.describe(qid, sqe, off)})`;
    return `SQ${qid} tail doorbell at ${t} made slot ${head} available but the driver did not write it: ${what}; the controller executes a stale entry (NVMe 1.4 4.1)`;
  }
}
