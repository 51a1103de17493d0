import type { DmaCoherent, IoMem, LinuxKpi, PciDev } from '../linux-kpi/kpi.js';
import { CQE_SIZE, DOORBELL_BASE, SQE_SIZE } from './defs.js';

/** One completion as the driver reads it from the CQ. */
export interface Cqe {
  cid: number;
  status: number;
  dw0: number;
  sqhd: number;
}

/**
 * A submission/completion queue pair in coherent DMA memory, with the
 * driver's tail/head/phase bookkeeping (NVMe 1.4 4.1, 4.6). One slot per
 * command id; a slot is busy from submission to completion.
 */
export class QueuePair {
  readonly sq: DmaCoherent;
  readonly cq: DmaCoherent;
  sqTail = 0;
  /** Last SQ head reported by the controller. */
  sqHead = 0;
  cqHead = 0;
  phase = 1;
  private readonly freeCids: number[] = [];
  readonly sqDoorbell: number;
  readonly cqDoorbell: number;
  /** Entry index of the CQ in use; also counts completions. */
  completions = 0;
  readonly cqe: Cqe = { cid: 0, status: 0, dw0: 0, sqhd: 0 };

  constructor(
    private readonly k: LinuxKpi,
    pdev: PciDev,
    readonly qid: number,
    readonly depth: number,
    dstrd: number,
    private readonly bar: IoMem,
  ) {
    const sq = k.dma_alloc_coherent(pdev, depth * SQE_SIZE);
    const cq = k.dma_alloc_coherent(pdev, depth * CQE_SIZE);
    if (sq === null || cq === null) throw new Error(`nvme: out of DMA memory for queue ${qid}`);
    this.sq = sq;
    this.cq = cq;
    const stride = 4 << dstrd;
    this.sqDoorbell = DOORBELL_BASE + 2 * qid * stride;
    this.cqDoorbell = DOORBELL_BASE + (2 * qid + 1) * stride;
    // One entry stays empty so a full queue is distinguishable from an empty one.
    for (let c = depth - 2; c >= 0; c--) this.freeCids.push(c);
  }

  get freeSlots(): number {
    return this.freeCids.length;
  }

  allocCid(): number {
    return this.freeCids.pop() ?? -1;
  }

  releaseCid(cid: number): void {
    this.freeCids.push(cid);
  }

  /** Zeroes the next SQ entry and returns its byte offset in `sq` for the caller to fill. */
  nextSqe(): number {
    const off = this.sqTail * SQE_SIZE;
    this.sq.cpu.fill(0, off, off + SQE_SIZE);
    this.sqTail = (this.sqTail + 1) % this.depth;
    return off;
  }

  ringSq(): void {
    this.k.writel(this.sqTail, this.bar, this.sqDoorbell);
  }

  /** Writes the SQ tail doorbell `n` entries ahead of the entries written so far (the `doorbellBeforeWrite` bug). */
  ringSqAhead(n: number): void {
    this.k.writel((this.sqTail + n) % this.depth, this.bar, this.sqDoorbell);
  }

  /** Reads the CQE at the head if its phase tag is current; fills `this.cqe`. */
  peekCqe(): boolean {
    const off = this.cqHead * CQE_SIZE;
    const dv = this.cq.dv;
    const base = this.cq.cpu.byteOffset - dv.byteOffset + off;
    const dw3 = dv.getUint32(base + 12, true);
    if (((dw3 >>> 16) & 1) !== this.phase) return false;
    this.cqe.dw0 = dv.getUint32(base, true);
    this.cqe.sqhd = dv.getUint16(base + 8, true);
    this.cqe.cid = dw3 & 0xffff;
    this.cqe.status = (dw3 >>> 17) & 0x7fff;
    return true;
  }

  popCqe(): void {
    this.sqHead = this.cqe.sqhd;
    this.completions++;
    this.cqHead++;
    if (this.cqHead === this.depth) {
      this.cqHead = 0;
      this.phase ^= 1;
    }
  }

  ringCq(): void {
    this.k.writel(this.cqHead, this.bar, this.cqDoorbell);
  }

  /** Writes the CQ head doorbell with `head` rather than the head consumed to (the `cqHeadBug` debug parameter). */
  ringCqAt(head: number): void {
    this.k.writel(head, this.bar, this.cqDoorbell);
  }

  free(pdev: PciDev): void {
    this.k.dma_free_coherent(pdev, this.sq);
    this.k.dma_free_coherent(pdev, this.cq);
  }
}
