/**
 * The contract between a PCI device model and its PCI function (config space,
 * BARs, capabilities, interrupt signalling). Implemented by `PciFunction` in
 * ./function.ts. A device model describes itself with a `PciFunctionSpec`,
 * and signals interrupts through `PciInterrupts`; it never decodes config
 * space itself.
 */
import type { MmioHandler } from '../../sim/memory.js';

export type BarKind = 'mem32' | 'mem64' | 'io';

export interface BarSpec {
  /** BAR index 0..5; a mem64 BAR takes index and index+1. */
  index: number;
  kind: BarKind;
  /** Size in bytes, a power of two (>= 16 for memory, >= 4 for I/O). */
  size: number;
  prefetchable?: boolean;
  /** Register block behind the BAR, addressed by offset from the BAR base. */
  handler: MmioHandler;
}

export interface MsiSpec {
  /** Vectors requested (1, 2, 4, 8, 16, 32): Multiple Message Capable. */
  vectors: number;
  is64: boolean;
  perVectorMask: boolean;
}

export interface MsixSpec {
  /** Number of table entries (1..2048). */
  tableSize: number;
  tableBar: number;
  tableOffset: number;
  pbaBar: number;
  pbaOffset: number;
}

export interface PciFunctionSpec {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | prog-if. */
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  /** 0 = no INTx, 1..4 = INTA#..INTD#. */
  interruptPin: number;
  bars: BarSpec[];
  capabilities: {
    pm?: boolean;
    msi?: MsiSpec;
    msix?: MsixSpec;
    /** PCI Express capability (endpoint); offsets 0x100+ become extended config space. */
    pcie?: boolean;
  };
}

/** What a device model uses to raise interrupts; the PCI function picks MSI-X, MSI or INTx. */
export interface PciInterrupts {
  /** Which mechanism the driver enabled: MSI-X enable wins, then MSI enable, else INTx. */
  readonly mode: 'msix' | 'msi' | 'intx';
  /**
   * Sends the message for `vector` (MSI-X table entry, or MSI vector offset
   * below the enabled count). MSI-X: if the entry or the function is masked,
   * sets the PBA bit instead and sends when unmasked (PCIe base spec 6.1.4.5).
   * Ignored in INTx mode.
   */
  sendMessage(vector: number): void;
  /** Drives INTx (level). Honours Command.INTx Disable; updates Status.Interrupt Status. */
  setIntx(level: boolean): void;
  /** True while bus mastering is enabled (Command bit 2). */
  readonly busMaster: boolean;
}
