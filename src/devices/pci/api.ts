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

/**
 * Bytes of a vendor-specific capability that the device serves itself rather
 * than config space storage: a config access starting inside the window goes
 * to `read`/`write` (virtio's PCI configuration access data, virtio 1.2
 * 4.1.4.9). `cap` is a view of the capability's current bytes (ID byte
 * first), made once, so the handler can read the fields beside the window.
 */
export interface CapabilityWindow {
  /** Offset of the window from the capability's ID byte, and its length in bytes (1..4, within one dword). */
  offset: number;
  length: number;
  read(cap: Uint8Array, offset: number, size: number): number;
  write(cap: Uint8Array, offset: number, size: number, value: number): void;
}

/** A vendor-specific capability (ID 09h, PCI 3.0 6.7 / H.1): the layout after the ID and next pointer is the vendor's. */
export interface VendorCapSpec {
  /** The capability's bytes from offset 2 on (for virtio, byte 2 is cap_len); its length is the capability's size minus 2. */
  body: readonly number[];
  /** Guest-writable bits per body byte (same indexing; a missing entry is read-only). */
  writable?: readonly number[];
  window?: CapabilityWindow;
}

/**
 * A device-specific register in the device-dependent part of config space
 * (0x40..0xFF) that is plain storage with a power-on value and a write mask
 * (an Intel GPU's GGC, BDSM and ASLS). Capabilities are placed around these.
 */
export interface ConfigRegSpec {
  /** Offset, aligned to the size, in 0x40..0xFF. */
  offset: number;
  size: 1 | 2 | 4;
  /** Power-on value (also the value after reset and FLR). */
  value: number;
  /** Guest-writable bits (0 or absent: read-only). */
  writable?: number;
}

/**
 * What a Power Management capability claims (PCI PM 1.2, 3.2.3-3.2.4).
 * `pm: true` is `{}`: D0 and D3hot only, No_Soft_Reset 1, no PME.
 */
export interface PmSpec {
  /** PMCSR No_Soft_Reset (default true): D3hot -> D0 keeps the configuration context; false: the function is reset. */
  noSoftReset?: boolean;
  /** D1 / D2 supported (PMC D1_Support, D2_Support); default false. */
  d1?: boolean;
  d2?: boolean;
  /**
   * PME_Support, 5 bits: bit 0 D0, 1 D1, 2 D2, 3 D3hot, 4 D3cold (default 0:
   * no PME, PME_En and PME_Status read 0). Bits for D1/D2 need those states.
   */
  pmeSupport?: number;
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
    /** Power Management capability: true (D0/D3hot, No_Soft_Reset, no PME) or what it claims. */
    pm?: boolean | PmSpec;
    msi?: MsiSpec;
    msix?: MsixSpec;
    /** PCI Express capability (endpoint); offsets 0x100+ become extended config space. */
    pcie?: boolean;
    /** Vendor-specific capabilities, listed after the others in this order, each at a dword-aligned offset. */
    vendor?: VendorCapSpec[];
  };
  /** Device-specific config registers (plain storage); capabilities are placed so as not to overlap them. */
  configRegs?: ConfigRegSpec[];
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
  /**
   * Signals a power management event (PCI PM 1.2 3.2.4, PCIe 3.0 5.3.3):
   * sets PME_Status and, with PME_En, sends a PME message. Only where the PM
   * capability claims PME from the current power state; returns false
   * (nothing changes) otherwise. Absent on interrupt paths without PM.
   */
  signalPme?(): boolean;
}
