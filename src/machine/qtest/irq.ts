/**
 * The interrupt fabric of a qtest machine: the machine's own fabric, plus a
 * listener that sees every INTx line change and every MSI message (so the
 * qtest server can report them as `IRQ raise/lower N` lines), and MSI
 * writes outside the local APIC window turned into memory writes, as on a
 * PC (and in QEMU): libqos-style tests point MSI-X vectors at guest RAM and
 * poll it.
 */
import { IrqFabric, MSI_ADDR_BASE } from '../../sim/irq.js';
import type { EventQueue } from '../../sim/event-queue.js';
import type { PhysMem } from '../../sim/memory.js';
import type { Tracer } from '../../sim/tracer.js';

export interface IrqListener {
  /** A source changed its drive of IOAPIC pin `gsi`: `deviceLevel` is the source's own drive, `lineLevel` the wired-OR line. */
  intx(dev: number, gsi: number, deviceLevel: 0 | 1, lineLevel: 0 | 1): void;
  /** A message to the local APIC window from device `dev`. */
  msi(dev: number, addr: number, data: number): void;
}

/** Tag of the DMA record an MSI written to RAM leaves in the trace. */
export const MSI_TO_RAM_TAG = 'msi';

export class QtestIrqFabric extends IrqFabric {
  listener: IrqListener | undefined;
  /** Set once the machine is built (the fabric is made before the memory map is complete). */
  mem: PhysMem | undefined;
  private readonly word = new Uint8Array(4);

  constructor(private readonly q: EventQueue, private readonly t: Tracer) {
    super(q, t);
  }

  override changeLine(dev: number, gsi: number, delta: 1 | -1): void {
    super.changeLine(dev, gsi, delta);
    this.listener?.intx(dev, gsi, delta > 0 ? 1 : 0, this.isAsserted(gsi) ? 1 : 0);
  }

  override msi(dev: number, addr: number, data: number): boolean {
    if ((addr & 0xfff00000) >>> 0 === MSI_ADDR_BASE) {
      const ok = super.msi(dev, addr, data);
      this.listener?.msi(dev, addr, data);
      return ok;
    }
    // Not the interrupt window: a posted memory write of the data dword, as a PC's root complex does it.
    const mem = this.mem;
    if (mem !== undefined && mem.isRam(addr, 4)) {
      const w = this.word;
      w[0] = data & 0xff; w[1] = (data >>> 8) & 0xff; w[2] = (data >>> 16) & 0xff; w[3] = (data >>> 24) & 0xff;
      mem.writeBytes(addr, w);
      if (this.t.enabled) this.t.dma(true, this.q.now, dev, addr, w, 0, 4, MSI_TO_RAM_TAG);
      return true;
    }
    return super.msi(dev, addr, data);
  }
}
