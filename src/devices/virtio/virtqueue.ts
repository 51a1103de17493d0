/**
 * Split virtqueues, device side (virtio 1.2 2.7): the descriptor table, the
 * available ring the driver fills and the used ring the device returns
 * buffers on, with indirect descriptors (2.7.5.3), next chaining, and both
 * notification-suppression schemes (VIRTQ_AVAIL_F_NO_INTERRUPT, and with
 * VIRTIO_F_EVENT_IDX the used_event / avail_event indices, 2.7.7-2.7.10).
 *
 * Every ring access is a DMA through the device's port, tagged
 * "virtq.desc" (descriptor table), "virtq.indirect" (an indirect table),
 * "virtq.avail" (available ring: flags, idx, ring entries, used_event) and
 * "virtq.used" (used ring: entries, idx, avail_event). Nothing here
 * allocates after construction: ring fields travel as numbers through a
 * small scratch buffer, chains are popped into caller-owned `DescChain`s.
 *
 * A malformed chain or ring (loop, chain longer than the queue, index out of
 * range, device-readable after device-writable, indirect misuse, bad length)
 * or a ring DMA the port refuses is reported to the `RingHost` with a
 * catalogued code: the transport records the guest error and sets
 * DEVICE_NEEDS_RESET (2.1.2). The queue then stays broken (pops nothing)
 * until it or the device is reset.
 */
import type { DmaPort } from '../../sim/dma.js';
import type { VirtqGuestErrorCode } from './transport/guest-errors.js';

export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;
export const DESC_SIZE = 16;
export const USED_ELEM_SIZE = 8;
/** Largest split queue (2.7). */
export const QUEUE_SIZE_LIMIT = 32768;
/** A chain may not carry more than 2^32 bytes (2.7.5.2). */
const CHAIN_BYTES_LIMIT = 2 ** 32;

/** Where a queue reports what the driver got wrong (the transport). */
export interface RingHost {
  ringError(queue: number, code: VirtqGuestErrorCode, message: string): void;
}

/**
 * One popped descriptor chain: its head and its buffers in order, device-
 * readable ones first. Holds up to `capacity` segments; a longer chain keeps
 * its first capacity-1 segments and its last one (`overflow` is then true),
 * so a device can still find a trailing status byte.
 */
export class DescChain {
  head = -1;
  /** Descriptors in the chain (not counting one that points to an indirect table). */
  count = 0;
  /** Segments stored: min(count, capacity). */
  stored = 0;
  overflow = false;
  /** The chain used an indirect table. */
  indirect = false;
  readableBytes = 0;
  writableBytes = 0;
  /** Stored segments that are device-readable (they come first). */
  readableSegs = 0;
  readonly addr: Float64Array;
  readonly len: Uint32Array;
  readonly writable: Uint8Array;

  constructor(readonly capacity: number) {
    if (capacity < 2) throw new RangeError('a DescChain needs room for at least 2 segments');
    this.addr = new Float64Array(capacity);
    this.len = new Uint32Array(capacity);
    this.writable = new Uint8Array(capacity);
  }

  clear(): void {
    this.head = -1;
    this.count = 0;
    this.stored = 0;
    this.overflow = false;
    this.indirect = false;
    this.readableBytes = 0;
    this.writableBytes = 0;
    this.readableSegs = 0;
  }

  add(addr: number, len: number, writable: boolean): void {
    this.count++;
    let i = this.stored;
    if (i === this.capacity) {
      // Full: the newest segment replaces the previous last one.
      this.overflow = true;
      i = this.capacity - 1;
      if (this.writable[i] === 0) this.readableSegs--;
    } else {
      this.stored++;
    }
    this.addr[i] = addr;
    this.len[i] = len;
    this.writable[i] = writable ? 1 : 0;
    if (writable) this.writableBytes += len;
    else {
      this.readableBytes += len;
      this.readableSegs++;
    }
  }

  /** Copies this chain into `dst` (same or larger capacity). */
  copyTo(dst: DescChain): void {
    dst.head = this.head;
    dst.count = this.count;
    dst.stored = this.stored;
    dst.overflow = this.overflow;
    dst.indirect = this.indirect;
    dst.readableBytes = this.readableBytes;
    dst.writableBytes = this.writableBytes;
    dst.readableSegs = this.readableSegs;
    for (let i = 0; i < this.stored; i++) {
      dst.addr[i] = this.addr[i]!;
      dst.len[i] = this.len[i]!;
      dst.writable[i] = this.writable[i]!;
    }
  }
}

/** Names a descriptor in error messages (built only when a chain is refused). */
function where(inIndirect: boolean, i: number, head: number): string {
  return `${inIndirect ? 'indirect descriptor' : 'descriptor'} ${i} (chain head ${head})`;
}

/** Result of `SplitQueue.pop`. */
export const POP_EMPTY = 0;
export const POP_OK = 1;
export const POP_ERROR = -1;

/**
 * vring_need_event (2.7.10): true if moving the used index from `old` to
 * `next` passes `event` (all 16-bit, wrapping).
 */
export function needEvent(event: number, next: number, old: number): boolean {
  return ((next - event - 1) & 0xffff) < ((next - old) & 0xffff);
}

export class SplitQueue {
  /** Queue size the driver chose (queue_size), a power of two up to sizeMax. */
  size: number;
  enabled = false;
  /** Reset by queue_reset and not re-enabled since (reads 1 in queue_reset). */
  resetPending = false;
  msixVector: number;
  descAddr = 0;
  driverAddr = 0;
  deviceAddr = 0;
  /** Next available ring slot the device will consume (free-running 16-bit). */
  lastAvail = 0;
  /** The driver's avail idx as last read by the device. */
  availIdx = 0;
  /** Next used ring slot (free-running 16-bit): the used idx the device published. */
  usedIdx = 0;
  /** Used idx at the last interrupt decision, for event-index suppression. */
  signalledUsed = 0;
  signalledValid = false;
  /** Negotiated ring features, set when the driver sets DRIVER_OK / enables the queue. */
  eventIdx = false;
  indirectAllowed = false;
  /** A ring error was reported: nothing is popped until reset. */
  broken = false;
  /** Counters for stats and stall diagnosis. */
  popped = 0;
  used = 0;
  notifies = 0;
  lastNotifyPs = -1;

  private readonly scratch = new Uint8Array(DESC_SIZE);
  private readonly view = new DataView(this.scratch.buffer);

  constructor(
    readonly index: number,
    readonly sizeMax: number,
    private readonly dma: DmaPort,
    private readonly host: RingHost,
    noVector: number,
  ) {
    this.size = sizeMax;
    this.msixVector = noVector;
  }

  /** Back to reset values (4.1.4.3.2: queue_enable 0, queue_size the maximum, vector none). */
  reset(noVector: number): void {
    this.size = this.sizeMax;
    this.enabled = false;
    this.resetPending = false;
    this.msixVector = noVector;
    this.descAddr = 0;
    this.driverAddr = 0;
    this.deviceAddr = 0;
    this.lastAvail = 0;
    this.availIdx = 0;
    this.usedIdx = 0;
    this.signalledUsed = 0;
    this.signalledValid = false;
    this.eventIdx = false;
    this.indirectAllowed = false;
    this.broken = false;
    this.lastNotifyPs = -1;
  }

  /** Why the queue cannot be enabled as configured, or undefined (2.7: alignment 16 / 2 / 4). */
  enableProblem(): string | undefined {
    if (this.descAddr % 16 !== 0) return `queue_desc 0x${this.descAddr.toString(16)} is not 16-byte aligned`;
    if (this.driverAddr % 2 !== 0) return `queue_driver 0x${this.driverAddr.toString(16)} is not 2-byte aligned`;
    if (this.deviceAddr % 4 !== 0) return `queue_device 0x${this.deviceAddr.toString(16)} is not 4-byte aligned`;
    if (this.descAddr === 0 || this.driverAddr === 0 || this.deviceAddr === 0) return 'a ring address is 0 (not programmed)';
    return undefined;
  }

  // ---- available ring ---------------------------------------------------------

  /** Reads avail idx; returns the number of chains available, or -1 after a ring error. */
  available(): number {
    if (this.broken) return -1;
    const idx = this.read16(this.driverAddr + 2, 'virtq.avail');
    if (idx < 0) return -1;
    const n = (idx - this.lastAvail) & 0xffff;
    if (n > this.size) {
      this.fail('virtq.avail.idx', `avail idx ${idx} is ${n} entries past the ${this.lastAvail} the device consumed: more than the queue size ${this.size}`);
      return -1;
    }
    this.availIdx = idx;
    return n;
  }

  /**
   * Pops the next available chain into `out`. Reads avail idx again only
   * when the last value read is used up. POP_EMPTY when nothing is
   * available, POP_ERROR after a ring error (already reported).
   */
  pop(out: DescChain): number {
    if (this.broken) return POP_ERROR;
    if (this.availIdx === this.lastAvail) {
      const n = this.available();
      if (n < 0) return POP_ERROR;
      if (n === 0) return POP_EMPTY;
    }
    const slot = this.lastAvail % this.size;
    const head = this.read16(this.driverAddr + 4 + 2 * slot, 'virtq.avail');
    if (head < 0) return POP_ERROR;
    if (head >= this.size) {
      return this.fail('virtq.avail.head', `avail ring entry ${slot} (avail idx ${this.lastAvail}) names descriptor ${head}, outside the ${this.size}-entry table`);
    }
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    out.clear();
    out.head = head;
    if (!this.walk(head, out)) return POP_ERROR;
    this.popped++;
    return POP_OK;
  }

  /** Follows the chain from `head` (2.7.5), into an indirect table if there is one. */
  private walk(head: number, out: DescChain): boolean {
    let table = this.descAddr;
    let entries = this.size;
    let tag = 'virtq.desc';
    let i = head;
    let inIndirect = false;
    let seen = 0;
    let sawWritable = false;
    let bytes = 0;
    for (;;) {
      if (!this.readDesc(table + i * DESC_SIZE, tag)) return false;
      const v = this.view;
      const addr = v.getUint32(0, true) + v.getUint32(4, true) * 0x1_0000_0000;
      const len = v.getUint32(8, true);
      const flags = v.getUint16(12, true);
      const next = v.getUint16(14, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (inIndirect) return this.failB('virtq.desc.indirect-nested', `${where(inIndirect, i, head)} sets INDIRECT inside an indirect table (only one table per descriptor)`);
        if (!this.indirectAllowed) return this.failB('virtq.desc.indirect-feature', `${where(inIndirect, i, head)} sets INDIRECT but VIRTIO_F_INDIRECT_DESC was not negotiated`);
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) return this.failB('virtq.desc.indirect-next', `${where(inIndirect, i, head)} sets both INDIRECT and NEXT`);
        if (len === 0 || len % DESC_SIZE !== 0) {
          return this.failB('virtq.desc.indirect-len', `${where(inIndirect, i, head)}: indirect table length ${len} is not a non-zero multiple of 16`);
        }
        if (len / DESC_SIZE > this.size) {
          return this.failB('virtq.desc.chain-too-long', `${where(inIndirect, i, head)}: indirect table of ${len / DESC_SIZE} descriptors is longer than the queue size ${this.size}`);
        }
        inIndirect = true;
        out.indirect = true;
        table = addr;
        entries = len / DESC_SIZE;
        tag = 'virtq.indirect';
        i = 0;
        seen = 0;
        continue;
      }
      const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (writable) sawWritable = true;
      else if (sawWritable) {
        return this.failB('virtq.desc.order', `${where(inIndirect, i, head)} is device-readable after a device-writable one (2.7.4.2)`);
      }
      bytes += len;
      if (bytes > CHAIN_BYTES_LIMIT) return this.failB('virtq.desc.chain-bytes', `chain ${head} carries more than 2^32 bytes`);
      out.add(addr, len, writable);
      seen++;
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return true;
      if (seen >= entries || out.count >= this.size) {
        return this.failB('virtq.desc.loop',
          `chain ${head} has more than ${Math.min(entries, this.size)} descriptors${inIndirect ? ' in its indirect table' : ''}: a loop, or longer than the queue size`);
      }
      if (next >= entries) {
        return this.failB('virtq.desc.next', `${where(inIndirect, i, head)}: next ${next} is outside the ${entries}-entry ${inIndirect ? 'indirect table' : 'descriptor table'}`);
      }
      i = next;
    }
  }

  // ---- used ring ------------------------------------------------------------------

  /** Returns chain `head` with `len` bytes written (2.7.8): the element, then used idx. False after a ring error. */
  pushUsed(head: number, len: number): boolean {
    if (this.broken || !this.enabled) return false;
    const slot = this.usedIdx % this.size;
    const v = this.view;
    v.setUint32(0, head, true);
    v.setUint32(4, len >>> 0, true);
    if (!this.dma.write(this.deviceAddr + 4 + USED_ELEM_SIZE * slot, this.scratch, 0, USED_ELEM_SIZE, 'virtq.used')) {
      this.fail('virtq.dma', `used ring element ${slot} could not be written`);
      return false;
    }
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    v.setUint16(0, this.usedIdx, true);
    if (!this.dma.write(this.deviceAddr + 2, this.scratch, 0, 2, 'virtq.used')) {
      this.fail('virtq.dma', 'used idx could not be written');
      return false;
    }
    this.used++;
    return true;
  }

  /**
   * Whether the driver wants a used buffer notification now (2.7.7.2 /
   * 2.7.10): with EVENT_IDX, if the used idx moved past used_event since the
   * last decision; otherwise unless avail flags has NO_INTERRUPT.
   */
  shouldNotify(): boolean {
    if (this.broken) return false;
    if (this.eventIdx) {
      const event = this.read16(this.driverAddr + 4 + 2 * this.size, 'virtq.avail');
      if (event < 0) return false;
      const old = this.signalledUsed;
      const valid = this.signalledValid;
      this.signalledUsed = this.usedIdx;
      this.signalledValid = true;
      return !valid || needEvent(event, this.usedIdx, old);
    }
    const flags = this.read16(this.driverAddr, 'virtq.avail');
    if (flags < 0) return false;
    return (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
  }

  /** With EVENT_IDX: asks to be notified when the driver makes the next chain available (avail_event = lastAvail). */
  publishAvailEvent(): void {
    if (!this.eventIdx || this.broken || !this.enabled) return;
    this.view.setUint16(0, this.lastAvail, true);
    if (!this.dma.write(this.deviceAddr + 4 + USED_ELEM_SIZE * this.size, this.scratch, 0, 2, 'virtq.used')) {
      this.fail('virtq.dma', 'avail_event could not be written');
    }
  }

  /** Chains popped and not yet returned. */
  get inFlight(): number {
    return (this.lastAvail - this.usedIdx) & 0xffff;
  }

  // ---- helpers ----------------------------------------------------------------------

  private read16(addr: number, tag: string): number {
    if (!this.dma.read(addr, this.scratch, 0, 2, tag)) {
      this.fail('virtq.dma', `ring read at 0x${addr.toString(16)} (${tag}) refused`);
      return -1;
    }
    return this.view.getUint16(0, true);
  }

  private readDesc(addr: number, tag: string): boolean {
    if (!this.dma.read(addr, this.scratch, 0, DESC_SIZE, tag)) {
      this.fail('virtq.dma', `descriptor read at 0x${addr.toString(16)} (${tag}) refused`);
      return false;
    }
    return true;
  }

  private fail(code: VirtqGuestErrorCode, message: string): number {
    this.broken = true;
    this.host.ringError(this.index, code, `queue ${this.index}: ${message}`);
    return POP_ERROR;
  }

  private failB(code: VirtqGuestErrorCode, message: string): boolean {
    this.fail(code, message);
    return false;
  }
}
