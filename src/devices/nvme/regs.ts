/**
 * NVMe 1.4 controller registers (section 3.1) and the BAR0 layout of this
 * model. The same table names registers in traces and diffs (decode.ts).
 *
 * BAR0 (64-bit memory, 16 KiB):
 *   0x0000-0x0FFF  controller registers (3.1)
 *   0x1000-0x1FFF  doorbells, CAP.DSTRD = 0: SQyTDBL at 0x1000 + 8y,
 *                  CQyHDBL at 0x1000 + 8y + 4
 *   0x2000-0x2FFF  MSI-X table (16 bytes per entry, owned by the PCI function)
 *   0x3000-0x3FFF  MSI-X PBA (owned by the PCI function)
 */

export const BAR0_SIZE = 0x4000;
export const DOORBELL_BASE = 0x1000;
export const MSIX_TABLE_OFFSET = 0x2000;
export const MSIX_PBA_OFFSET = 0x3000;
/** Vectors requested in the MSI capability (Multiple Message Capable = 32). */
export const MSI_VECTORS = 32;
/** The doorbell area ends where the MSI-X table starts. */
export const DOORBELL_END = MSIX_TABLE_OFFSET;

/** Register offsets (3.1). 64-bit registers are two dwords: low half at the offset, high half at +4. */
export const REG_CAP = 0x00;
export const REG_CAP_HI = 0x04;
export const REG_VS = 0x08;
export const REG_INTMS = 0x0c;
export const REG_INTMC = 0x10;
export const REG_CC = 0x14;
export const REG_CSTS = 0x1c;
export const REG_NSSR = 0x20;
export const REG_AQA = 0x24;
export const REG_ASQ = 0x28;
export const REG_ASQ_HI = 0x2c;
export const REG_ACQ = 0x30;
export const REG_ACQ_HI = 0x34;

/** VS: NVMe 1.4.0 (3.1.2). */
export const NVME_VERSION = 0x00010400;
/** NSSR.NSSRC: writing "NVMe" starts an NVM Subsystem Reset (3.1.7). */
export const NSSR_MAGIC = 0x4e564d65;

// CAP (3.1.1), as low and high dwords.
export const CAP_CQR = 1 << 16;
export const CAP_TO_SHIFT = 24;
/** High dword: NSSRS is CAP bit 36. */
export const CAP_HI_NSSRS = 1 << 4;
/** High dword: CSS is CAP bits 44:37; bit 37 = NVM command set. */
export const CAP_HI_CSS_NVM = 1 << 5;
export const CAP_HI_MPSMIN_SHIFT = 16;
export const CAP_HI_MPSMAX_SHIFT = 20;
/** Memory page sizes supported: 2^(12+MPSMIN) .. 2^(12+MPSMAX) = 4 KiB .. 64 KiB. */
export const MPSMIN = 0;
export const MPSMAX = 4;

// CC (3.1.5).
export const CC_EN = 1 << 0;
export const CC_CSS_SHIFT = 4;
export const CC_MPS_SHIFT = 7;
export const CC_AMS_SHIFT = 11;
export const CC_SHN_SHIFT = 14;
export const CC_SHN_MASK = 3 << CC_SHN_SHIFT;
export const CC_IOSQES_SHIFT = 16;
export const CC_IOCQES_SHIFT = 20;
/** Bits that exist in CC: EN, CSS, MPS, AMS, SHN, IOSQES, IOCQES (3:1 and 31:24 reserved). */
export const CC_DEFINED = 0x00fffff1;
/** Fields that may only change while CC.EN = 0: all but EN and SHN. */
export const CC_LOCKED_WHILE_ENABLED = CC_DEFINED & ~(CC_EN | CC_SHN_MASK);

// CSTS (3.1.6).
export const CSTS_RDY = 1 << 0;
export const CSTS_CFS = 1 << 1;
export const CSTS_SHST_MASK = 3 << 2;
export const CSTS_SHST_OCCURRING = 1 << 2;
export const CSTS_SHST_COMPLETE = 2 << 2;
export const CSTS_NSSRO = 1 << 4;
export const CSTS_PP = 1 << 5;

/** AQA (3.1.8): ASQS 11:0, ACQS 27:16, 0's based. */
export const AQA_DEFINED = 0x0fff0fff;
/** ASQ/ACQ low dword: bits 11:0 are reserved, read as 0 (3.1.9, 3.1.10). */
export const AQ_BASE_MASK = 0xfffff000;

/** Identify Controller SQES/CQES: required = maximum = 64/16 bytes. */
export const SQES = 6;
export const CQES = 4;
export const SQE_SIZE = 64;
export const CQE_SIZE = 16;

export interface RegInfo {
  offset: number;
  name: string;
  /** 4 or 8 bytes. */
  width: number;
  doc: string;
}

/** Registers this controller implements; everything else below 0x1000 is reserved (reads 0). */
export const REGISTERS: readonly RegInfo[] = [
  { offset: REG_CAP, name: 'CAP', width: 8, doc: 'Controller Capabilities' },
  { offset: REG_VS, name: 'VS', width: 4, doc: 'Version' },
  { offset: REG_INTMS, name: 'INTMS', width: 4, doc: 'Interrupt Mask Set' },
  { offset: REG_INTMC, name: 'INTMC', width: 4, doc: 'Interrupt Mask Clear' },
  { offset: REG_CC, name: 'CC', width: 4, doc: 'Controller Configuration' },
  { offset: REG_CSTS, name: 'CSTS', width: 4, doc: 'Controller Status' },
  { offset: REG_NSSR, name: 'NSSR', width: 4, doc: 'NVM Subsystem Reset' },
  { offset: REG_AQA, name: 'AQA', width: 4, doc: 'Admin Queue Attributes' },
  { offset: REG_ASQ, name: 'ASQ', width: 8, doc: 'Admin Submission Queue Base Address' },
  { offset: REG_ACQ, name: 'ACQ', width: 8, doc: 'Admin Completion Queue Base Address' },
];

/** Registers of NVMe 1.4 this model does not implement (no CMB, boot partitions or PMR); named for traces. */
export const RESERVED_NAMED: readonly RegInfo[] = [
  { offset: 0x38, name: 'CMBLOC', width: 4, doc: 'Controller Memory Buffer Location (not supported, 0)' },
  { offset: 0x3c, name: 'CMBSZ', width: 4, doc: 'Controller Memory Buffer Size (not supported, 0)' },
  { offset: 0x40, name: 'BPINFO', width: 4, doc: 'Boot Partition Information (not supported, 0)' },
  { offset: 0x44, name: 'BPRSEL', width: 4, doc: 'Boot Partition Read Select (not supported, 0)' },
  { offset: 0x48, name: 'BPMBL', width: 8, doc: 'Boot Partition Memory Buffer Location (not supported, 0)' },
  { offset: 0x50, name: 'CMBMSC', width: 8, doc: 'CMB Memory Space Control (not supported, 0)' },
  { offset: 0x58, name: 'CMBSTS', width: 4, doc: 'CMB Status (not supported, 0)' },
  { offset: 0xe00, name: 'PMRCAP', width: 4, doc: 'Persistent Memory Capabilities (not supported, 0)' },
  { offset: 0xe04, name: 'PMRCTL', width: 4, doc: 'PMR Control (not supported, 0)' },
  { offset: 0xe08, name: 'PMRSTS', width: 4, doc: 'PMR Status (not supported, 0)' },
  { offset: 0xe0c, name: 'PMREBS', width: 4, doc: 'PMR Elasticity Buffer Size (not supported, 0)' },
  { offset: 0xe10, name: 'PMRSWTP', width: 4, doc: 'PMR Sustained Write Throughput (not supported, 0)' },
  { offset: 0xe14, name: 'PMRMSC', width: 8, doc: 'PMR Memory Space Control (not supported, 0)' },
];

/**
 * Name of the register (or register half) containing `offset` in the
 * register area, e.g. "CC", "ASQ.hi", "CC+1" for a byte inside CC; undefined
 * for reserved space.
 */
export function registerName(offset: number): string | undefined {
  for (const table of [REGISTERS, RESERVED_NAMED]) {
    for (const r of table) {
      if (offset >= r.offset && offset < r.offset + r.width) {
        const d = offset - r.offset;
        if (d === 0) return r.name;
        if (r.width === 8 && d === 4) return `${r.name}.hi`;
        if (r.width === 8 && d > 4) return `${r.name}.hi+${d - 4}`;
        return `${r.name}+${d}`;
      }
    }
  }
  return undefined;
}

/** Doorbell name for a BAR offset in the doorbell area (DSTRD = 0), e.g. "SQ3TDBL", "CQ3HDBL". */
export function doorbellName(offset: number): string {
  const idx = (offset - DOORBELL_BASE) >> 2;
  const qid = idx >> 1;
  const base = (idx & 1) === 0 ? `SQ${qid}TDBL` : `CQ${qid}HDBL`;
  const d = (offset - DOORBELL_BASE) & 3;
  return d === 0 ? base : `${base}+${d}`;
}

export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
