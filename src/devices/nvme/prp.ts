/**
 * Physical Region Page handling (NVMe 1.4 4.3) and data movement.
 *
 * `map` turns a command's PRP1/PRP2 into the slot's segment list before any
 * data moves (PRP lists are fetched by DMA with tag "nvme.prp"); the movers
 * then copy segment by segment with tag "data", through a preallocated bounce
 * buffer for the disk, so nothing is allocated per command.
 *
 * Rules enforced (4.3, figure 108/109):
 * - PRP1 may have a page offset but must be dword aligned (bits 1:0 = 0).
 * - If the transfer ends in the second page, PRP2 is that page's address and
 *   its offset must be 0.
 * - Otherwise PRP2 points to a PRP list (qword aligned, any offset in its
 *   page); every list entry must have offset 0; when more entries are needed
 *   than fit in the rest of the list page, the last entry of the page points
 *   to the next list page (which must be page aligned).
 * A violated rule ends the command with PRP Offset Invalid; a refused PRP
 * list fetch with Data Transfer Error.
 */
import type { DmaPort } from '../../sim/dma.js';
import type { Disk } from '../disk-image.js';
import type { Slots } from './queues.js';
import { St } from './status.js';

/** Largest memory page this controller supports (CAP.MPSMAX = 4: 64 KiB). */
export const MAX_PAGE = 1 << 16;

export class DataMover {
  private readonly list = new Uint8Array(MAX_PAGE);
  private readonly listView = new DataView(this.list.buffer);
  /** A Buffer so the disk copies into and out of it without creating views. */
  private readonly bounce = Buffer.alloc(MAX_PAGE);

  constructor(private readonly dma: DmaPort, private readonly slots: Slots) {}

  /** Maps `len` bytes described by prp1/prp2 into `slot`'s segments; returns a status. */
  map(slot: number, prp1: number, prp2: number, len: number, pageSize: number): number {
    const s = this.slots;
    s.prpCount[slot] = 0;
    s.bytes[slot] = len;
    if (len === 0) return St.SUCCESS;
    if ((prp1 & 3) !== 0) return St.PRP_OFFSET_INVALID;
    const mask = pageSize - 1;
    const first = Math.min(len, pageSize - (prp1 & mask));
    if (!this.add(slot, prp1, first)) return St.INVALID_FIELD;
    let rem = len - first;
    if (rem === 0) return St.SUCCESS;
    if (rem <= pageSize) {
      if ((prp2 & mask) !== 0) return St.PRP_OFFSET_INVALID;
      return this.add(slot, prp2, rem) ? St.SUCCESS : St.INVALID_FIELD;
    }
    let listAddr = prp2;
    if ((listAddr & 7) !== 0) return St.PRP_OFFSET_INVALID;
    const view = this.listView;
    while (rem > 0) {
      const room = (pageSize - (listAddr & mask)) >>> 3;
      const needed = Math.ceil(rem / pageSize);
      const chain = needed > room;
      const n = chain ? room : needed;
      if (!this.dma.read(listAddr, this.list, 0, n * 8, 'nvme.prp')) return St.DATA_TRANSFER_ERROR;
      const data = chain ? n - 1 : n;
      for (let i = 0; i < data; i++) {
        const lo = view.getUint32(i * 8, true);
        const hi = view.getUint32(i * 8 + 4, true);
        if ((lo & mask) !== 0) return St.PRP_OFFSET_INVALID;
        const seg = Math.min(rem, pageSize);
        if (!this.add(slot, hi * 0x1_0000_0000 + lo, seg)) return St.INVALID_FIELD;
        rem -= seg;
      }
      if (chain) {
        const lo = view.getUint32((n - 1) * 8, true);
        const hi = view.getUint32((n - 1) * 8 + 4, true);
        if ((lo & mask) !== 0) return St.PRP_OFFSET_INVALID;
        listAddr = hi * 0x1_0000_0000 + lo;
      }
    }
    return St.SUCCESS;
  }

  private add(slot: number, addr: number, len: number): boolean {
    const s = this.slots;
    const i = s.prpCount[slot]!;
    if (i >= s.maxPrp) return false; // only reachable if len exceeded MDTS; callers check first
    s.prpAddr[slot * s.maxPrp + i] = addr;
    s.prpLen[slot * s.maxPrp + i] = len;
    s.prpCount[slot] = i + 1;
    return true;
  }

  /** Copies src[srcOff..srcOff+len) to the host through the slot's segments (len <= mapped bytes). */
  toHost(slot: number, src: Uint8Array, srcOff: number, len: number): number {
    const s = this.slots;
    const base = slot * s.maxPrp;
    const n = s.prpCount[slot]!;
    for (let i = 0; i < n && len > 0; i++) {
      const seg = Math.min(s.prpLen[base + i]!, len);
      if (!this.dma.write(s.prpAddr[base + i]!, src, srcOff, seg, 'data')) return St.DATA_TRANSFER_ERROR;
      srcOff += seg;
      len -= seg;
    }
    return St.SUCCESS;
  }

  /** Disk [byteOff, byteOff + mapped bytes) to the host. */
  diskToHost(slot: number, disk: Disk, byteOff: number): number {
    const s = this.slots;
    const base = slot * s.maxPrp;
    const n = s.prpCount[slot]!;
    for (let i = 0; i < n; i++) {
      const seg = s.prpLen[base + i]!;
      // Straight from the disk's storage when the segment is contiguous there; else through the bounce buffer.
      let src: Uint8Array = this.bounce;
      let srcOff = 0;
      // Unwritten image bytes go out with their place in the image, so a trace can reference them.
      let image: string | undefined;
      if (disk.span(byteOff, seg)) {
        src = disk.spanBuf;
        srcOff = disk.spanOff;
        if (disk.spanIsImage) image = disk.fixture;
      } else {
        disk.read(this.bounce, 0, byteOff, seg);
      }
      if (!this.dma.write(s.prpAddr[base + i]!, src, srcOff, seg, 'data', image, srcOff)) return St.DATA_TRANSFER_ERROR;
      byteOff += seg;
    }
    return St.SUCCESS;
  }

  /**
   * Host to disk [byteOff, ...). A refused segment ends the transfer with
   * Data Transfer Error; segments before it have reached the disk (the
   * contents of a failed write's LBAs are indeterminate).
   */
  hostToDisk(slot: number, disk: Disk, byteOff: number): number {
    const s = this.slots;
    const base = slot * s.maxPrp;
    const n = s.prpCount[slot]!;
    for (let i = 0; i < n; i++) {
      const seg = s.prpLen[base + i]!;
      if (!this.dma.read(s.prpAddr[base + i]!, this.bounce, 0, seg, 'data')) return St.DATA_TRANSFER_ERROR;
      disk.write(this.bounce, 0, byteOff, seg);
      byteOff += seg;
    }
    return St.SUCCESS;
  }
}
