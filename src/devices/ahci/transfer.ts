/**
 * Moves a command's data between the disk (or a device buffer such as the
 * IDENTIFY data) and host memory through the command's PRD table (AHCI
 * 1.3.1 4.2.3.3). PRD entries are fetched from the command table as the
 * transfer walks them (tag "ahci.prdt"), in batches into a preallocated
 * buffer; data moves in chunks of a preallocated bounce buffer, or straight
 * from the disk's storage when it is contiguous (tag "data"). Nothing here
 * allocates.
 */
import type { DmaPort } from '../../sim/dma.js';
import type { Disk } from '../disk-image.js';
import { CT_PRDT, PRD_SIZE } from './regs.js';

/** PRD entries fetched per DMA read. */
const PRD_BATCH = 64;
const BOUNCE = 64 * 1024;

export const XFER_OK = 0;
/** A DMA was refused (PxIS.HBFS). */
export const XFER_HBFS = 1;
/** The PRD table holds fewer bytes than the command transfers (PxIS.OFS). */
export const XFER_SHORT = 2;

/** What the walk noticed about the PRD entries (bits), for guest errors. */
export const PRD_ODD = 1;
export const PRD_RESERVED = 2;
export const PRD_DBA_ODD = 4;

export class PrdWalker {
  private readonly prds = new Uint8Array(PRD_BATCH * PRD_SIZE);
  private readonly prdView = new DataView(this.prds.buffer);
  private readonly bounce = new Uint8Array(BOUNCE);
  /** Bytes moved by the last transfer (the PRDBC the HBA reports). */
  bytes = 0;
  /** PRD_* bits seen by the last transfer. */
  flags = 0;
  /** Some PRD entry with the I bit set was completed by the last transfer (PxIS.DPS). */
  interrupt = false;

  constructor(private readonly dma: DmaPort) {}

  /**
   * Transfers `len` bytes. toHost: from the disk at `diskOff` (or from
   * `src` when given) into host memory; else from host memory into the disk
   * at `diskOff`. Returns XFER_*.
   */
  run(ctba: number, prdtl: number, len: number, toHost: boolean, disk: Disk | null, diskOff: number, src: Uint8Array | null): number {
    this.bytes = 0;
    this.flags = 0;
    this.interrupt = false;
    let remaining = len;
    let index = 0;
    while (remaining > 0) {
      if (index >= prdtl) return XFER_SHORT;
      const batch = Math.min(PRD_BATCH, prdtl - index);
      if (!this.dma.read(ctba + CT_PRDT + index * PRD_SIZE, this.prds, 0, batch * PRD_SIZE, 'ahci.prdt')) return XFER_HBFS;
      for (let e = 0; e < batch && remaining > 0; e++) {
        const v = this.prdView;
        let dba = v.getUint32(e * PRD_SIZE, true);
        const dbau = v.getUint32(e * PRD_SIZE + 4, true);
        const dw3 = v.getUint32(e * PRD_SIZE + 12, true);
        if ((dba & 1) !== 0) {
          this.flags |= PRD_DBA_ODD;
          dba = (dba & ~1) >>> 0;
        }
        if ((dw3 & 0x7fc00000) !== 0) this.flags |= PRD_RESERVED;
        const dbc = dw3 & 0x3fffff;
        if ((dbc & 1) === 0) this.flags |= PRD_ODD;
        const entryBytes = (dbc | 1) + 1;
        const n = Math.min(entryBytes, remaining);
        const addr = dbau * 0x1_0000_0000 + dba;
        if (!this.move(addr, n, toHost, disk, diskOff + this.bytes, src, this.bytes)) return XFER_HBFS;
        this.bytes += n;
        remaining -= n;
        if ((dw3 & 0x80000000) !== 0) this.interrupt = true;
      }
      index += batch;
    }
    return XFER_OK;
  }

  private move(addr: number, n: number, toHost: boolean, disk: Disk | null, diskOff: number, src: Uint8Array | null, srcOff: number): boolean {
    const dma = this.dma;
    if (toHost) {
      if (src !== null) return dma.write(addr, src, srcOff, n, 'data');
      if (disk === null) return true;
      // Unwritten image bytes go out with their place in the image, so a trace can reference them.
      if (disk.span(diskOff, n)) return dma.write(addr, disk.spanBuf, disk.spanOff, n, 'data', disk.spanIsImage ? disk.fixture : undefined, disk.spanOff);
      let done = 0;
      while (done < n) {
        const k = Math.min(BOUNCE, n - done);
        disk.read(this.bounce, 0, diskOff + done, k);
        if (!dma.write(addr + done, this.bounce, 0, k, 'data')) return false;
        done += k;
      }
      return true;
    }
    let done = 0;
    while (done < n) {
      const k = Math.min(BOUNCE, n - done);
      if (!dma.read(addr + done, this.bounce, 0, k, 'data')) return false;
      disk?.write(this.bounce, 0, diskOff + done, k);
      done += k;
    }
    return true;
  }
}
