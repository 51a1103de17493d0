import type { PciBarInfo, PciFunctionHandle } from '../../kernel/pcid.js';
import type { Co, Sys } from '../../kernel/sys.js';
import { mapBar } from '../sys/index.js';
import type { IoMem } from './io.js';
import type { LinuxKpi } from './kpi.js';

/** `struct pci_dev` as drivers see it. */
export interface PciDev {
  readonly vendor: number;
  readonly device: number;
  readonly class: number;
  readonly bdf: string;
  readonly handle: PciFunctionHandle;
  /** Legacy interrupt line (GSI). */
  irq: number;
  driverData: unknown;
  enabled: boolean;
  irqType: 'none' | 'legacy' | 'msi' | 'msix';
  /** Linux irq numbers of allocated vectors. */
  vectors: number[];
}

export interface PciDeviceId {
  vendor?: number;
  device?: number;
  /** Class code and mask (PCI_DEVICE_CLASS). */
  class?: number;
  classMask?: number;
}

/** `struct pci_driver`. */
export interface PciDriver {
  name: string;
  idTable: PciDeviceId[];
  probe(k: LinuxKpi, pdev: PciDev, id: PciDeviceId): Co<number>;
  remove?(k: LinuxKpi, pdev: PciDev): Co<void>;
}

/** The first entry of `table` matching the function's ids and class, as the PCI core matches id tables. */
export function pciMatch(table: readonly PciDeviceId[], vendor: number, device: number, cls: number): PciDeviceId | undefined {
  return table.find((id) =>
    (id.vendor === undefined || id.vendor === vendor) &&
    (id.device === undefined || id.device === device) &&
    (id.class === undefined || (cls & (id.classMask ?? 0xffffff)) === (id.class & (id.classMask ?? 0xffffff))));
}

/**
 * linux/pci.h (without interrupt vectors, see interrupt.ts): enabling the
 * function, bus mastering, BAR resources and mapping, config space; all
 * through the pcid-like function handle.
 */
export class LinuxPci {
  constructor(private readonly sys: Sys) {}

  makePciDev(handle: PciFunctionHandle): PciDev {
    const i = handle.info;
    return {
      vendor: i.vendorId, device: i.deviceId, class: i.classCode, bdf: i.bdf, handle,
      irq: i.irqLine, driverData: undefined, enabled: false, irqType: 'none', vectors: [],
    };
  }

  *pci_enable_device(pdev: PciDev): Co<number> {
    yield* pdev.handle.enableDevice();
    pdev.enabled = true;
    return 0;
  }

  *pci_disable_device(pdev: PciDev): Co<void> {
    yield* pdev.handle.setBusMaster(false);
    pdev.enabled = false;
  }

  *pci_set_master(pdev: PciDev): Co<void> { yield* pdev.handle.setBusMaster(true); }
  *pci_clear_master(pdev: PciDev): Co<void> { yield* pdev.handle.setBusMaster(false); }

  pci_resource(pdev: PciDev, bar: number): PciBarInfo | undefined { return pdev.handle.bar(bar); }
  pci_resource_start(pdev: PciDev, bar: number): number { return pdev.handle.bar(bar)?.addr ?? 0; }
  pci_resource_len(pdev: PciDev, bar: number): number { return pdev.handle.bar(bar)?.size ?? 0; }

  /** Maps a memory BAR (0 = whole BAR). Returns null if the BAR is absent or not memory. */
  pci_iomap(pdev: PciDev, bar: number, maxlen = 0): IoMem | null {
    const b = pdev.handle.bar(bar);
    if (b === undefined || b.kind === 'io' || b.addr === 0) return null;
    const mmio = mapBar(this.sys, pdev.handle, bar, maxlen);
    return { mmio, len: mmio.size, bar };
  }

  pci_iounmap(_pdev: PciDev, _io: IoMem): void {}

  *pci_read_config_dword(pdev: PciDev, off: number): Co<number> { return yield* pdev.handle.readConfig(off, 4); }
  *pci_read_config_word(pdev: PciDev, off: number): Co<number> { return yield* pdev.handle.readConfig(off, 2); }
  *pci_write_config_word(pdev: PciDev, off: number, v: number): Co<void> { yield* pdev.handle.writeConfig(off, 2, v); }
  *pci_write_config_dword(pdev: PciDev, off: number, v: number): Co<void> { yield* pdev.handle.writeConfig(off, 4, v); }
}
