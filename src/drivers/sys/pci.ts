import type { Co } from '../../sim/scheduler.js';
import type { PciBarInfo, PciFunctionHandle, PciFunctionInfo } from '../../kernel/pcid.js';
import type { Mmio, Sys } from '../../kernel/sys.js';
import { mapBar } from './bar.js';
import { IrqHandle } from './irq.js';

/**
 * A PCI function as a Redox driver holds it: identity and BARs from pcid,
 * config access and feature control through pcid, and helpers for the
 * common set-up steps (enable decode and bus mastering, map a BAR, set up
 * MSI-X vectors or the legacy line).
 */
export class PciDevice {
  constructor(readonly sys: Sys, readonly handle: PciFunctionHandle) {}

  get info(): PciFunctionInfo { return this.handle.info; }
  get bdf(): string { return this.handle.info.bdf; }
  bar(index: number): PciBarInfo | undefined { return this.handle.bar(index); }

  *enable(busMaster = true): Co<void> {
    yield* this.handle.enableDevice();
    if (busMaster) yield* this.handle.setBusMaster(true);
  }

  /** Maps memory BAR `index` uncached. Throws if it is absent or an I/O BAR. */
  mapBar(index: number): Mmio {
    return mapBar(this.sys, this.handle, index);
  }

  /**
   * Sets up `count` MSI-X vectors (programming the table in the BAR, then
   * unmasking the function); undefined if the function has no MSI-X or too
   * small a table.
   */
  *enableMsix(count: number): Co<IrqHandle[] | undefined> {
    const info = yield* this.handle.msixInfo();
    if (info === undefined || info.tableSize < count) return undefined;
    const bar = this.handle.bar(info.tableBar);
    if (bar === undefined) return undefined;
    const table = this.sys.physmap(bar.addr + info.tableOffset, count * 16);
    yield* this.handle.setMsix(true, true);
    const handles: IrqHandle[] = [];
    for (let i = 0; i < count; i++) {
      const h = yield* IrqHandle.msi(this.sys);
      table.write32(i * 16, h.msiAddress);
      table.write32(i * 16 + 4, 0);
      table.write32(i * 16 + 8, h.msiData);
      table.write32(i * 16 + 12, 0); // unmask the entry
      handles.push(h);
    }
    yield* this.handle.setMsix(true, false);
    yield* this.handle.setIntxDisable(true);
    return handles;
  }

  /** Sets up single-message MSI; undefined if the function has no MSI capability. */
  *enableMsi(): Co<IrqHandle | undefined> {
    if (this.handle.findCap(0x05) === undefined) return undefined;
    const h = yield* IrqHandle.msi(this.sys);
    yield* this.handle.enableMsi(h.msiAddress, h.msiData);
    yield* this.handle.setIntxDisable(true);
    return h;
  }

  /** Opens the legacy INTx line pcid reported; undefined if the function has no pin. */
  *legacyIrq(): Co<IrqHandle | undefined> {
    if (this.info.irqPin === 0) return undefined;
    const h = yield* IrqHandle.legacy(this.sys, this.info.irqLine);
    yield* this.handle.setIntxDisable(false);
    return h;
  }
}
