/**
 * AHCI 1.3.1 register map of this model (section 3) and its bit fields. The
 * same table names registers in traces and diffs (decode.ts). These are the
 * device model's own definitions: drivers keep theirs separately.
 *
 * ABAR (BAR5, 32-bit memory, 8 KiB):
 *   0x000-0x02B  generic host control (3.1)
 *   0x0A0-0x0FF  vendor specific (reads 0)
 *   0x100 + p*0x80  port p registers (3.3), p = 0..31
 */

export const ABAR_INDEX = 5;
export const ABAR_SIZE = 0x2000;
export const PORT_BASE = 0x100;
export const PORT_STRIDE = 0x80;
export const MAX_PORTS = 32;
export const SLOTS = 32;

// ---- Generic host control (3.1)
export const HBA_CAP = 0x00;
export const HBA_GHC = 0x04;
export const HBA_IS = 0x08;
export const HBA_PI = 0x0c;
export const HBA_VS = 0x10;
export const HBA_CCC_CTL = 0x14;
export const HBA_CCC_PORTS = 0x18;
export const HBA_EM_LOC = 0x1c;
export const HBA_EM_CTL = 0x20;
export const HBA_CAP2 = 0x24;
export const HBA_BOHC = 0x28;

/** VS: AHCI 1.3.1 (3.1.5). */
export const AHCI_VERSION = 0x00010301;

// CAP (3.1.1)
export const CAP_S64A = 1 << 31;
export const CAP_SNCQ = 1 << 30;
export const CAP_SSNTF = 1 << 29;
export const CAP_SSS = 1 << 27;
export const CAP_SCLO = 1 << 24;
export const CAP_ISS_SHIFT = 20;
export const CAP_SAM = 1 << 18;
export const CAP_PSC = 1 << 13;
export const CAP_SSC = 1 << 14;
export const CAP_NCS_SHIFT = 8;

// GHC (3.1.2)
export const GHC_HR = 1 << 0;
export const GHC_IE = 1 << 1;
export const GHC_MRSM = 1 << 2;
export const GHC_AE = 1 << 31;

// CAP2 (3.1.10): BIOS/OS handoff supported.
export const CAP2_BOH = 1 << 0;
// BOHC (3.1.11)
export const BOHC_BOS = 1 << 0;
export const BOHC_OOS = 1 << 1;
export const BOHC_SOOE = 1 << 2;
export const BOHC_OOC = 1 << 3;
export const BOHC_BB = 1 << 4;

// ---- Port registers, offsets within the port's 0x80 bytes (3.3)
export const PX_CLB = 0x00;
export const PX_CLBU = 0x04;
export const PX_FB = 0x08;
export const PX_FBU = 0x0c;
export const PX_IS = 0x10;
export const PX_IE = 0x14;
export const PX_CMD = 0x18;
export const PX_TFD = 0x20;
export const PX_SIG = 0x24;
export const PX_SSTS = 0x28;
export const PX_SCTL = 0x2c;
export const PX_SERR = 0x30;
export const PX_SACT = 0x34;
export const PX_CI = 0x38;
export const PX_SNTF = 0x3c;
export const PX_FBS = 0x40;
export const PX_DEVSLP = 0x44;

/** PxCLB bits 9:0 are reserved: the command list is 1 KiB aligned (3.3.1). */
export const CLB_MASK = 0xfffffc00;
/** PxFB bits 7:0 are reserved: the received FIS area is 256-byte aligned (3.3.3). */
export const FB_MASK = 0xffffff00;

// PxIS / PxIE (3.3.5, 3.3.6)
export const IS_DHRS = 1 << 0;
export const IS_PSS = 1 << 1;
export const IS_DSS = 1 << 2;
export const IS_SDBS = 1 << 3;
export const IS_UFS = 1 << 4;
export const IS_DPS = 1 << 5;
export const IS_PCS = 1 << 6;
export const IS_DMPS = 1 << 7;
export const IS_PRCS = 1 << 22;
export const IS_IPMS = 1 << 23;
export const IS_OFS = 1 << 24;
export const IS_INFS = 1 << 26;
export const IS_IFS = 1 << 27;
export const IS_HBDS = 1 << 28;
export const IS_HBFS = 1 << 29;
export const IS_TFES = 1 << 30;
export const IS_CPDS = 1 << 31;
/** Bits that exist in PxIS/PxIE. */
export const IS_DEFINED = 0xfdc000ff;
/** PxIS bits that are read-only mirrors: UFS (PxSERR.DIAG.F), PCS (DIAG.X), PRCS (DIAG.N) (3.3.5). */
export const IS_READ_ONLY = (IS_UFS | IS_PCS | IS_PRCS) >>> 0;
/** PxIS bits whose setting halts the command list: the fatal errors (6.1.2). */
export const IS_FATAL = (IS_TFES | IS_HBFS | IS_HBDS | IS_IFS) >>> 0;

// PxCMD (3.3.7)
export const CMD_ST = 1 << 0;
export const CMD_SUD = 1 << 1;
export const CMD_POD = 1 << 2;
export const CMD_CLO = 1 << 3;
export const CMD_FRE = 1 << 4;
export const CMD_CCS_SHIFT = 8;
export const CMD_CCS_MASK = 0x1f << CMD_CCS_SHIFT;
export const CMD_FR = 1 << 14;
export const CMD_CR = 1 << 15;
export const CMD_ICC_SHIFT = 28;
/** Bits software may write and read back: ST, SUD (with CAP.SSS), FRE, ICC (writes go back to 0). */
export const CMD_SW = (CMD_ST | CMD_FRE) >>> 0;

// PxTFD (3.3.8): STS 7:0, ERR 15:8.
export const TFD_RESET = 0x7f;

// PxSSTS / PxSCTL (3.3.10, 3.3.11)
export const SSTS_DET_NONE = 0;
export const SSTS_DET_PRESENT_NO_PHY = 1;
export const SSTS_DET_PHY = 3;
export const SSTS_DET_OFFLINE = 4;
export const SCTL_DET_COMRESET = 1;
export const SCTL_DET_DISABLE = 4;
/** PxSCTL fields: DET 3:0, SPD 7:4, IPM 11:8 (the rest reserved). */
export const SCTL_DEFINED = 0xfff;

// PxSERR (3.3.12): ERR 15:0, DIAG 31:16.
export const SERR_ERR_I = 1 << 0;
export const SERR_ERR_C = 1 << 9;
export const SERR_ERR_P = 1 << 10;
export const SERR_ERR_E = 1 << 11;
export const SERR_DIAG_N = 1 << 16;
export const SERR_DIAG_F = 1 << 25;
export const SERR_DIAG_X = 1 << 26;
export const SERR_DEFINED = (0x0f03 | (0x07ff << 16)) >>> 0;

/** Received FIS area offsets (4.2.1). */
export const RFIS_DSFIS = 0x00;
export const RFIS_PSFIS = 0x20;
export const RFIS_RFIS = 0x40;
export const RFIS_SDBFIS = 0x58;
export const RFIS_UFIS = 0x60;

/** Command header (4.2.2): 32 bytes per slot. Command table (4.2.3): CFIS 0x00, ACMD 0x40, PRDT 0x80. */
export const CMDHDR_SIZE = 32;
export const CT_PRDT = 0x80;
export const PRD_SIZE = 16;
/** Command tables are 128-byte aligned: CTBA bits 6:0 reserved (4.2.2). */
export const CTBA_ALIGN = 128;
/** DBC is 22 bits: a PRD entry moves at most 4 MiB (4.2.3.3). */
export const PRD_MAX_BYTES = 4 << 20;

export interface RegInfo {
  offset: number;
  name: string;
  doc: string;
}

export const HBA_REGISTERS: readonly RegInfo[] = [
  { offset: HBA_CAP, name: 'CAP', doc: 'Host Capabilities' },
  { offset: HBA_GHC, name: 'GHC', doc: 'Global Host Control' },
  { offset: HBA_IS, name: 'IS', doc: 'Interrupt Status' },
  { offset: HBA_PI, name: 'PI', doc: 'Ports Implemented' },
  { offset: HBA_VS, name: 'VS', doc: 'Version' },
  { offset: HBA_CCC_CTL, name: 'CCC_CTL', doc: 'Command Completion Coalescing Control (not supported, 0)' },
  { offset: HBA_CCC_PORTS, name: 'CCC_PORTS', doc: 'Command Completion Coalescing Ports (not supported, 0)' },
  { offset: HBA_EM_LOC, name: 'EM_LOC', doc: 'Enclosure Management Location (not supported, 0)' },
  { offset: HBA_EM_CTL, name: 'EM_CTL', doc: 'Enclosure Management Control (not supported, 0)' },
  { offset: HBA_CAP2, name: 'CAP2', doc: 'Host Capabilities Extended' },
  { offset: HBA_BOHC, name: 'BOHC', doc: 'BIOS/OS Handoff Control and Status' },
];

/** Port register names by offset / 4 (undefined = reserved). */
export const PORT_REG_NAMES: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = new Array<string | undefined>(PORT_STRIDE / 4).fill(undefined);
  const set = (off: number, n: string): void => { names[off >> 2] = n; };
  set(PX_CLB, 'CLB'); set(PX_CLBU, 'CLBU'); set(PX_FB, 'FB'); set(PX_FBU, 'FBU');
  set(PX_IS, 'IS'); set(PX_IE, 'IE'); set(PX_CMD, 'CMD'); set(PX_TFD, 'TFD'); set(PX_SIG, 'SIG');
  set(PX_SSTS, 'SSTS'); set(PX_SCTL, 'SCTL'); set(PX_SERR, 'SERR'); set(PX_SACT, 'SACT'); set(PX_CI, 'CI');
  set(PX_SNTF, 'SNTF'); set(PX_FBS, 'FBS'); set(PX_DEVSLP, 'DEVSLP');
  return names;
})();

/**
 * Name of the register at `offset` in the ABAR: "GHC", "P0CMD", "P3CI+2"
 * for a byte inside; undefined for reserved or vendor space. Allocates
 * (for traces and messages, never on the hot path).
 */
export function registerName(offset: number): string | undefined {
  if (offset < 0 || offset >= ABAR_SIZE) return undefined;
  if (offset < PORT_BASE) {
    for (const r of HBA_REGISTERS) {
      if (offset >= r.offset && offset < r.offset + 4) return offset === r.offset ? r.name : `${r.name}+${offset - r.offset}`;
    }
    return undefined;
  }
  const port = (offset - PORT_BASE) >> 7;
  if (port >= MAX_PORTS) return undefined;
  const rel = (offset - PORT_BASE) & (PORT_STRIDE - 1);
  const n = PORT_REG_NAMES[rel >> 2];
  if (n === undefined) return undefined;
  return (rel & 3) === 0 ? `P${port}${n}` : `P${port}${n}+${rel & 3}`;
}

export function hex(v: number): string {
  return `0x${(v >>> 0).toString(16)}`;
}
