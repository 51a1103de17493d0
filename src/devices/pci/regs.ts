/**
 * Names and bit layouts of PCI configuration space: the type-0 header (PCI
 * Local Bus 3.0, 6.1-6.2), the Power Management capability (PCI PM 1.2,
 * 3.2), MSI (PCI 3.0, 6.8.1), MSI-X (PCI 3.0, 6.8.2) and the PCI Express
 * capability (PCIe base 3.0, 7.8). Used by `PciFunction` for decoding and by
 * traces, diffs and `simrun inspect` for naming.
 */

// ---- Type-0 header offsets ------------------------------------------------
export const CFG_VENDOR_ID = 0x00;
export const CFG_DEVICE_ID = 0x02;
export const CFG_COMMAND = 0x04;
export const CFG_STATUS = 0x06;
export const CFG_REVISION_ID = 0x08;
export const CFG_CLASS_PROG_IF = 0x09;
export const CFG_CLASS_SUB = 0x0a;
export const CFG_CLASS_BASE = 0x0b;
export const CFG_CACHE_LINE_SIZE = 0x0c;
export const CFG_LATENCY_TIMER = 0x0d;
export const CFG_HEADER_TYPE = 0x0e;
export const CFG_BIST = 0x0f;
export const CFG_BAR0 = 0x10;
export const CFG_CARDBUS_CIS = 0x28;
export const CFG_SUBSYSTEM_VENDOR_ID = 0x2c;
export const CFG_SUBSYSTEM_ID = 0x2e;
export const CFG_EXPANSION_ROM = 0x30;
export const CFG_CAP_PTR = 0x34;
export const CFG_INTERRUPT_LINE = 0x3c;
export const CFG_INTERRUPT_PIN = 0x3d;
export const CFG_MIN_GNT = 0x3e;
export const CFG_MAX_LAT = 0x3f;
/** First byte after the header: capabilities live from here. */
export const CFG_HEADER_END = 0x40;
/** Conventional config space size, and the start of PCIe extended space. */
export const CFG_SPACE_SIZE = 0x100;
export const CFG_EXT_SPACE_SIZE = 0x1000;

export const HEADER_TYPE_MULTI_FUNCTION = 0x80;

// ---- Command register bits (PCI 3.0 6.2.2; PCIe 3.0 7.5.1.1) ---------------
export const CMD_IO = 1 << 0;
export const CMD_MEMORY = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;
export const CMD_PARITY_ERROR_RESPONSE = 1 << 6;
export const CMD_SERR = 1 << 8;
export const CMD_INTX_DISABLE = 1 << 10;

// ---- Status register bits --------------------------------------------------
export const STS_INTERRUPT = 1 << 3;
export const STS_CAP_LIST = 1 << 4;
export const STS_MASTER_DATA_PARITY_ERROR = 1 << 8;
export const STS_SIGNALED_TARGET_ABORT = 1 << 11;
export const STS_RECEIVED_TARGET_ABORT = 1 << 12;
export const STS_RECEIVED_MASTER_ABORT = 1 << 13;
export const STS_SIGNALED_SYSTEM_ERROR = 1 << 14;
export const STS_DETECTED_PARITY_ERROR = 1 << 15;
/** The write-1-to-clear error bits of Status. */
export const STS_W1C_MASK = STS_MASTER_DATA_PARITY_ERROR | STS_SIGNALED_TARGET_ABORT
  | STS_RECEIVED_TARGET_ABORT | STS_RECEIVED_MASTER_ABORT | STS_SIGNALED_SYSTEM_ERROR
  | STS_DETECTED_PARITY_ERROR;

// ---- BAR low bits (PCI 3.0 6.2.5.1) ----------------------------------------
export const BAR_IO_SPACE = 0x1;
export const BAR_MEM_TYPE_64 = 0x4;
export const BAR_MEM_PREFETCH = 0x8;
export const BAR_MEM_ADDR_MASK = 0xfffffff0;
export const BAR_IO_ADDR_MASK = 0xfffffffc;

// ---- Capability IDs ---------------------------------------------------------
export const CAP_ID_PM = 0x01;
export const CAP_ID_MSI = 0x05;
export const CAP_ID_PCIE = 0x10;
export const CAP_ID_MSIX = 0x11;
/** Vendor-specific capability (PCI 3.0 H.1). */
export const CAP_ID_VENDOR = 0x09;

// ---- Power Management capability (PCI PM 1.2, 3.2.3-3.2.4) -----------------
export const PM_PMC = 0x02;
export const PM_PMCSR = 0x04;
export const PM_CAP_SIZE = 8;
/** PMC: version 3 = PCI PM 1.2. */
export const PMC_VERSION_1_2 = 0x3;
export const PMCSR_POWER_STATE_MASK = 0x3;
export const PMCSR_NO_SOFT_RESET = 1 << 3;
export const PMCSR_PME_EN = 1 << 8;
export const PMCSR_PME_STATUS = 1 << 15;
/** PMC: D1_Support, D2_Support, PME_Support (bit 11 + state: D0, D1, D2, D3hot, D3cold). */
export const PMC_D1_SUPPORT = 1 << 9;
export const PMC_D2_SUPPORT = 1 << 10;
export const PMC_PME_SUPPORT_SHIFT = 11;
/** PME_Support bit for D3cold (index 4 of the 5-bit field). */
export const PME_SUPPORT_D3COLD = 1 << 4;
/** PowerState values. */
export const PM_D0 = 0;
export const PM_D1 = 1;
export const PM_D2 = 2;
export const PM_D3HOT = 3;

// ---- MSI capability (PCI 3.0 6.8.1) -----------------------------------------
export const MSI_CONTROL = 0x02;
export const MSI_ADDRESS_LO = 0x04;
/** Only with 64-bit addressing. */
export const MSI_ADDRESS_HI = 0x08;
export const MSI_CTRL_ENABLE = 1 << 0;
export const MSI_CTRL_MMC_SHIFT = 1;
export const MSI_CTRL_MME_SHIFT = 4;
export const MSI_CTRL_MME_MASK = 0x7 << MSI_CTRL_MME_SHIFT;
export const MSI_CTRL_64BIT = 1 << 7;
export const MSI_CTRL_PER_VECTOR_MASK = 1 << 8;
/** Largest MSI capability: 64-bit with per-vector masking. */
export const MSI_CAP_MAX_SIZE = 0x18;

/** Offsets of the MSI fields that move with 64-bit addressing. */
export interface MsiLayout {
  data: number;
  /** -1 without per-vector masking. */
  mask: number;
  pending: number;
  size: number;
}

export function msiLayout(is64: boolean, perVectorMask: boolean): MsiLayout {
  const data = is64 ? 0x0c : 0x08;
  if (!perVectorMask) return { data, mask: -1, pending: -1, size: data + 2 };
  return { data, mask: data + 4, pending: data + 8, size: data + 12 };
}

// ---- MSI-X capability (PCI 3.0 6.8.2) ---------------------------------------
export const MSIX_CONTROL = 0x02;
export const MSIX_TABLE = 0x04;
export const MSIX_PBA = 0x08;
export const MSIX_CAP_SIZE = 12;
export const MSIX_CTRL_ENABLE = 1 << 15;
export const MSIX_CTRL_FUNCTION_MASK = 1 << 14;
export const MSIX_CTRL_TABLE_SIZE_MASK = 0x7ff;
export const MSIX_BIR_MASK = 0x7;
export const MSIX_ENTRY_SIZE = 16;
export const MSIX_ENTRY_ADDR_LO = 0x0;
export const MSIX_ENTRY_ADDR_HI = 0x4;
export const MSIX_ENTRY_DATA = 0x8;
export const MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const MSIX_VECTOR_CTRL_MASK = 1 << 0;

// ---- PCI Express capability, version 2 (PCIe 3.0 7.8) ----------------------
export const PCIE_CAPS = 0x02;
export const PCIE_DEVCAP = 0x04;
export const PCIE_DEVCTL = 0x08;
export const PCIE_DEVSTA = 0x0a;
export const PCIE_LINKCAP = 0x0c;
export const PCIE_LINKCTL = 0x10;
export const PCIE_LINKSTA = 0x12;
export const PCIE_SLOTCAP = 0x14;
export const PCIE_SLOTCTL = 0x18;
export const PCIE_SLOTSTA = 0x1a;
export const PCIE_ROOTCTL = 0x1c;
export const PCIE_ROOTCAP = 0x1e;
export const PCIE_ROOTSTA = 0x20;
export const PCIE_DEVCAP2 = 0x24;
export const PCIE_DEVCTL2 = 0x28;
export const PCIE_DEVSTA2 = 0x2a;
export const PCIE_LINKCAP2 = 0x2c;
export const PCIE_LINKCTL2 = 0x30;
export const PCIE_LINKSTA2 = 0x32;
export const PCIE_SLOTCAP2 = 0x34;
export const PCIE_SLOTCTL2 = 0x38;
export const PCIE_SLOTSTA2 = 0x3a;
export const PCIE_CAP_SIZE = 0x3c;

export const PCIE_DEVCAP_MPS_256 = 0x1;
export const PCIE_DEVCAP_EXT_TAG = 1 << 5;
export const PCIE_DEVCAP_ROLE_BASED_ERR = 1 << 15;
export const PCIE_DEVCAP_FLR = 1 << 28;
export const PCIE_DEVCTL_CORR_ERR_EN = 1 << 0;
export const PCIE_DEVCTL_NONFATAL_ERR_EN = 1 << 1;
export const PCIE_DEVCTL_FATAL_ERR_EN = 1 << 2;
export const PCIE_DEVCTL_UR_EN = 1 << 3;
export const PCIE_DEVCTL_RELAXED_ORDERING = 1 << 4;
export const PCIE_DEVCTL_MPS_MASK = 0x7 << 5;
export const PCIE_DEVCTL_EXT_TAG = 1 << 8;
export const PCIE_DEVCTL_NO_SNOOP = 1 << 11;
export const PCIE_DEVCTL_MRRS_MASK = 0x7 << 12;
export const PCIE_DEVCTL_INITIATE_FLR = 1 << 15;
export const PCIE_DEVSTA_CORR_ERR = 1 << 0;
export const PCIE_DEVSTA_NONFATAL_ERR = 1 << 1;
export const PCIE_DEVSTA_FATAL_ERR = 1 << 2;
export const PCIE_DEVSTA_UR = 1 << 3;
export const PCIE_DEVSTA_W1C_MASK = 0xf;
export const PCIE_LINKCTL_ASPM_MASK = 0x3;
export const PCIE_LINKCTL_COMMON_CLOCK = 1 << 6;
export const PCIE_LINKCTL_EXTENDED_SYNCH = 1 << 7;
export const PCIE_DEVCTL2_COMPLETION_TIMEOUT_DISABLE = 1 << 4;
export const PCIE_LINKCTL2_TARGET_SPEED_MASK = 0xf;
export const PCIE_LINKCTL2_HW_AUTONOMOUS_SPEED_DISABLE = 1 << 5;

// ---- Naming ------------------------------------------------------------------

/** Where a function placed its capabilities (offset of each capability header, -1 if absent). */
export interface PciCapLayout {
  pm: number;
  msi: number;
  msi64: boolean;
  msiMask: boolean;
  msix: number;
  pcie: number;
  /** Offsets of the vendor-specific capabilities, in spec order (absent when there are none). */
  vendor?: number[];
}

interface RegName {
  offset: number;
  size: number;
  name: string;
}

function regs(list: ReadonlyArray<readonly [number, number, string]>): RegName[] {
  return list.map(([offset, size, name]) => ({ offset, size, name }));
}

const HEADER_REGS = regs([
  [CFG_VENDOR_ID, 2, 'VENDOR_ID'],
  [CFG_DEVICE_ID, 2, 'DEVICE_ID'],
  [CFG_COMMAND, 2, 'COMMAND'],
  [CFG_STATUS, 2, 'STATUS'],
  [CFG_REVISION_ID, 1, 'REVISION_ID'],
  [CFG_CLASS_PROG_IF, 1, 'PROG_IF'],
  [CFG_CLASS_SUB, 1, 'SUBCLASS'],
  [CFG_CLASS_BASE, 1, 'CLASS'],
  [CFG_CACHE_LINE_SIZE, 1, 'CACHE_LINE_SIZE'],
  [CFG_LATENCY_TIMER, 1, 'LATENCY_TIMER'],
  [CFG_HEADER_TYPE, 1, 'HEADER_TYPE'],
  [CFG_BIST, 1, 'BIST'],
  [0x10, 4, 'BAR0'],
  [0x14, 4, 'BAR1'],
  [0x18, 4, 'BAR2'],
  [0x1c, 4, 'BAR3'],
  [0x20, 4, 'BAR4'],
  [0x24, 4, 'BAR5'],
  [CFG_CARDBUS_CIS, 4, 'CARDBUS_CIS'],
  [CFG_SUBSYSTEM_VENDOR_ID, 2, 'SUBSYSTEM_VENDOR_ID'],
  [CFG_SUBSYSTEM_ID, 2, 'SUBSYSTEM_ID'],
  [CFG_EXPANSION_ROM, 4, 'EXPANSION_ROM'],
  [CFG_CAP_PTR, 1, 'CAP_PTR'],
  [CFG_INTERRUPT_LINE, 1, 'INTERRUPT_LINE'],
  [CFG_INTERRUPT_PIN, 1, 'INTERRUPT_PIN'],
  [CFG_MIN_GNT, 1, 'MIN_GNT'],
  [CFG_MAX_LAT, 1, 'MAX_LAT'],
]);

const PM_REGS = regs([[0, 1, 'PM.CAP_ID'], [1, 1, 'PM.NEXT'], [PM_PMC, 2, 'PM.PMC'], [PM_PMCSR, 2, 'PM.PMCSR'],
  [6, 1, 'PM.PMCSR_BSE'], [7, 1, 'PM.DATA']]);

const MSIX_REGS = regs([[0, 1, 'MSIX.CAP_ID'], [1, 1, 'MSIX.NEXT'], [MSIX_CONTROL, 2, 'MSIX.CONTROL'],
  [MSIX_TABLE, 4, 'MSIX.TABLE'], [MSIX_PBA, 4, 'MSIX.PBA']]);

const PCIE_REGS = regs([
  [0, 1, 'PCIE.CAP_ID'], [1, 1, 'PCIE.NEXT'], [PCIE_CAPS, 2, 'PCIE.CAPS'],
  [PCIE_DEVCAP, 4, 'PCIE.DEVCAP'], [PCIE_DEVCTL, 2, 'PCIE.DEVCTL'], [PCIE_DEVSTA, 2, 'PCIE.DEVSTA'],
  [PCIE_LINKCAP, 4, 'PCIE.LINKCAP'], [PCIE_LINKCTL, 2, 'PCIE.LINKCTL'], [PCIE_LINKSTA, 2, 'PCIE.LINKSTA'],
  [PCIE_SLOTCAP, 4, 'PCIE.SLOTCAP'], [PCIE_SLOTCTL, 2, 'PCIE.SLOTCTL'], [PCIE_SLOTSTA, 2, 'PCIE.SLOTSTA'],
  [PCIE_ROOTCTL, 2, 'PCIE.ROOTCTL'], [PCIE_ROOTCAP, 2, 'PCIE.ROOTCAP'], [PCIE_ROOTSTA, 4, 'PCIE.ROOTSTA'],
  [PCIE_DEVCAP2, 4, 'PCIE.DEVCAP2'], [PCIE_DEVCTL2, 2, 'PCIE.DEVCTL2'], [PCIE_DEVSTA2, 2, 'PCIE.DEVSTA2'],
  [PCIE_LINKCAP2, 4, 'PCIE.LINKCAP2'], [PCIE_LINKCTL2, 2, 'PCIE.LINKCTL2'], [PCIE_LINKSTA2, 2, 'PCIE.LINKSTA2'],
  [PCIE_SLOTCAP2, 4, 'PCIE.SLOTCAP2'], [PCIE_SLOTCTL2, 2, 'PCIE.SLOTCTL2'], [PCIE_SLOTSTA2, 2, 'PCIE.SLOTSTA2'],
]);

function msiRegs(is64: boolean, mask: boolean): RegName[] {
  const l = msiLayout(is64, mask);
  const list: Array<readonly [number, number, string]> = [
    [0, 1, 'MSI.CAP_ID'], [1, 1, 'MSI.NEXT'], [MSI_CONTROL, 2, 'MSI.CONTROL'], [MSI_ADDRESS_LO, 4, 'MSI.ADDRESS_LO'],
  ];
  if (is64) list.push([MSI_ADDRESS_HI, 4, 'MSI.ADDRESS_HI']);
  list.push([l.data, 2, 'MSI.DATA']);
  if (mask) list.push([l.mask, 4, 'MSI.MASK'], [l.pending, 4, 'MSI.PENDING']);
  return regs(list);
}

const MSI_REGS_BY_KIND = [msiRegs(false, false), msiRegs(true, false), msiRegs(false, true), msiRegs(true, true)];

function lookup(table: readonly RegName[], base: number, offset: number): string | undefined {
  for (const r of table) {
    const start = base + r.offset;
    if (offset >= start && offset < start + r.size) {
      return offset === start ? r.name : `${r.name}+${offset - start}`;
    }
  }
  return undefined;
}

/**
 * Spec name of the config register containing `offset` ("COMMAND", "BAR2",
 * "MSIX.CONTROL", "PCIE.DEVCTL+1"). Capability fields are named only when
 * `caps` (from `PciFunction.caps`) says where the capabilities are. Unknown
 * offsets are rendered as hex ("0x1a4").
 */
export function pciConfigRegName(offset: number, caps?: PciCapLayout): string {
  if (offset < CFG_HEADER_END) return lookup(HEADER_REGS, 0, offset) ?? hexOffset(offset);
  if (caps !== undefined) {
    const hit = (caps.pm >= 0 ? lookup(PM_REGS, caps.pm, offset) : undefined)
      ?? (caps.msi >= 0 ? lookup(MSI_REGS_BY_KIND[(caps.msi64 ? 1 : 0) + (caps.msiMask ? 2 : 0)]!, caps.msi, offset) : undefined)
      ?? (caps.msix >= 0 ? lookup(MSIX_REGS, caps.msix, offset) : undefined)
      ?? (caps.pcie >= 0 ? lookup(PCIE_REGS, caps.pcie, offset) : undefined);
    if (hit !== undefined) return hit;
  }
  if (offset === CFG_SPACE_SIZE) return 'EXT_CAP_HEADER';
  return hexOffset(offset);
}

function hexOffset(offset: number): string {
  return `0x${offset.toString(16)}`;
}

function flags(value: number, bits: ReadonlyArray<readonly [number, string]>): string {
  return bits.map(([bit, name]) => `${name}=${(value >>> bit) & 1}`).join(' ');
}

/**
 * Field breakdown of a config register value for traces and `inspect`, e.g.
 * "IO=0 MEM=1 BM=1 PERR=0 SERR=0 INTX_DIS=1". Only for registers whose fields
 * matter when reading a trace; undefined otherwise. `offset` must be the
 * register's first byte and `value` the register (not a wider access).
 */
export function pciConfigRegFields(offset: number, value: number, caps?: PciCapLayout): string | undefined {
  switch (offset) {
    case CFG_COMMAND:
      return flags(value, [[0, 'IO'], [1, 'MEM'], [2, 'BM'], [6, 'PERR'], [8, 'SERR'], [10, 'INTX_DIS']]);
    case CFG_STATUS:
      return flags(value, [[3, 'INT'], [4, 'CAP'], [8, 'MDPE'], [11, 'STA'], [12, 'RTA'], [13, 'RMA'], [14, 'SSE'], [15, 'DPE']]);
    default:
      break;
  }
  if (caps === undefined) return undefined;
  if (caps.msi >= 0 && offset === caps.msi + MSI_CONTROL) {
    return `EN=${value & 1} MMC=${(value >>> 1) & 7} MME=${(value >>> 4) & 7} 64=${(value >>> 7) & 1} PVM=${(value >>> 8) & 1}`;
  }
  if (caps.msix >= 0 && offset === caps.msix + MSIX_CONTROL) {
    return `EN=${(value >>> 15) & 1} FMASK=${(value >>> 14) & 1} SIZE=${(value & MSIX_CTRL_TABLE_SIZE_MASK) + 1}`;
  }
  if (caps.pm >= 0 && offset === caps.pm + PM_PMCSR) {
    return `D${value & 3} NSR=${(value >>> 3) & 1} PME_EN=${(value >>> 8) & 1} PME=${(value >>> 15) & 1}`;
  }
  if (caps.pcie >= 0 && offset === caps.pcie + PCIE_DEVCTL) {
    return `${flags(value, [[0, 'CERE'], [1, 'NFERE'], [2, 'FERE'], [3, 'URRE'], [4, 'RO'], [8, 'ETE'], [11, 'NS']])}`
      + ` MPS=${128 << ((value >>> 5) & 7)} MRRS=${128 << ((value >>> 12) & 7)} FLR=${(value >>> 15) & 1}`;
  }
  return undefined;
}

/** Names of MSI-X table entry fields, for the BAR holding the table. */
export function msixTableFieldName(offsetInTable: number): string {
  const entry = Math.floor(offsetInTable / MSIX_ENTRY_SIZE);
  const field = offsetInTable % MSIX_ENTRY_SIZE;
  const name = field < 4 ? 'ADDR_LO' : field < 8 ? 'ADDR_HI' : field < 12 ? 'DATA' : 'VECTOR_CTRL';
  return `MSIX[${entry}].${name}`;
}
