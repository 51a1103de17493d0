/**
 * MSI-X table and Pending Bit Array storage (PCI 3.0 6.8.2; PCIe base 3.0
 * 6.1.4.5), and the BAR handler wrapper that routes table/PBA offsets to it
 * and everything else to the device's own register block.
 */
import type { MmioHandler } from '../../sim/memory.js';
import { MSIX_ENTRY_SIZE, MSIX_VECTOR_CTRL_MASK } from './regs.js';

/** What the wrapper calls for accesses inside the table or the PBA. */
export interface MsixAccess {
  msixTableRead(offset: number, size: number): number;
  msixTableWrite(offset: number, size: number, value: number): void;
  msixPbaRead(offset: number, size: number): number;
}

function laneMask(size: number): number {
  return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
}

/** The `size` bytes of `word` starting at byte `lane`, unsigned. */
function lanes(word: number, lane: number, size: number): number {
  const v = word >>> (lane * 8);
  return size === 4 ? v : v & (size === 2 ? 0xffff : 0xff);
}

export class MsixTable {
  /** Four dwords per entry: address low, address high, data, vector control. */
  readonly words: Uint32Array;
  /** Pending bits, one per vector, in QWORDs (so a whole number of dwords). */
  readonly pba: Uint32Array;
  readonly tableBytes: number;
  readonly pbaBytes: number;

  constructor(readonly entries: number) {
    this.words = new Uint32Array(entries * 4);
    this.pbaBytes = Math.ceil(entries / 64) * 8;
    this.pba = new Uint32Array(this.pbaBytes / 4);
    this.tableBytes = entries * MSIX_ENTRY_SIZE;
    this.reset();
  }

  /** Power-on state: every entry masked, nothing pending (PCI 3.0 6.8.2.9). */
  reset(): void {
    this.words.fill(0);
    for (let i = 0; i < this.entries; i++) this.words[i * 4 + 3] = MSIX_VECTOR_CTRL_MASK;
    this.pba.fill(0);
  }

  addrLo(v: number): number { return this.words[v * 4]!; }
  addrHi(v: number): number { return this.words[v * 4 + 1]!; }
  data(v: number): number { return this.words[v * 4 + 2]!; }
  masked(v: number): boolean { return (this.words[v * 4 + 3]! & MSIX_VECTOR_CTRL_MASK) !== 0; }

  pending(v: number): boolean {
    return ((this.pba[v >>> 5]! >>> (v & 31)) & 1) !== 0;
  }

  setPending(v: number): void {
    this.pba[v >>> 5] = (this.pba[v >>> 5]! | (1 << (v & 31))) >>> 0;
  }

  clearPending(v: number): void {
    this.pba[v >>> 5] = (this.pba[v >>> 5]! & ~(1 << (v & 31))) >>> 0;
  }

  anyPending(): boolean {
    for (let i = 0; i < this.pba.length; i++) if (this.pba[i] !== 0) return true;
    return false;
  }

  read(offset: number, size: number): number {
    // Software must use aligned DWORD or QWORD accesses (6.8.2); narrower ones get the byte lanes.
    return lanes(this.words[offset >>> 2]!, offset & 3, size);
  }

  /**
   * Writes the table; returns the entry whose Mask bit went from 1 to 0, or -1.
   * Address low bits 1:0 and Vector Control bits 31:1 are read-only 0.
   */
  write(offset: number, size: number, value: number): number {
    const idx = offset >>> 2;
    const shift = (offset & 3) * 8;
    const lanes = (laneMask(size) << shift) >>> 0;
    const old = this.words[idx]!;
    let nv = ((old & ~lanes) | ((value << shift) & lanes)) >>> 0;
    const field = idx & 3;
    if (field === 0) nv = (nv & 0xfffffffc) >>> 0;
    else if (field === 3) nv &= MSIX_VECTOR_CTRL_MASK;
    this.words[idx] = nv;
    if (field === 3 && (old & MSIX_VECTOR_CTRL_MASK) !== 0 && (nv & MSIX_VECTOR_CTRL_MASK) === 0) return idx >>> 2;
    return -1;
  }

  readPba(offset: number, size: number): number {
    return lanes(this.pba[offset >>> 2]!, offset & 3, size);
  }
}

/**
 * The handler mapped for a BAR that holds the MSI-X table and/or PBA. Two
 * range checks per access, no allocation. A range not in this BAR is empty
 * (start = end = 0).
 */
export class MsixBarHandler implements MmioHandler {
  constructor(
    private readonly inner: MmioHandler,
    private readonly owner: MsixAccess,
    private readonly tableStart: number,
    private readonly tableEnd: number,
    private readonly pbaStart: number,
    private readonly pbaEnd: number,
  ) {}

  read(offset: number, size: number): number {
    if (offset >= this.tableStart && offset < this.tableEnd) return this.owner.msixTableRead(offset - this.tableStart, size);
    if (offset >= this.pbaStart && offset < this.pbaEnd) return this.owner.msixPbaRead(offset - this.pbaStart, size);
    return this.inner.read(offset, size);
  }

  write(offset: number, size: number, value: number): void {
    if (offset >= this.tableStart && offset < this.tableEnd) {
      this.owner.msixTableWrite(offset - this.tableStart, size, value);
      return;
    }
    // PBA bits are read-only; writes are ignored (6.8.2.10 leaves them undefined).
    if (offset >= this.pbaStart && offset < this.pbaEnd) return;
    this.inner.write(offset, size, value);
  }
}
