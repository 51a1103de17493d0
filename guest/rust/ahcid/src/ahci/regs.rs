//! HBA registers (AHCI 1.3.1, section 3): offsets into the ABAR (BAR5) and
//! the bits ahcid uses. ahcid's own definitions, written from the
//! specification and kept apart from the device model on purpose.

/// The ABAR is BAR5 (2.1.11).
pub const ABAR_BAR: u8 = 5;

// Generic host control (3.1).
pub const CAP: usize = 0x00;
pub const GHC: usize = 0x04;
pub const IS: usize = 0x08;
pub const PI: usize = 0x0c;
pub const VS: usize = 0x10;
pub const CAP2: usize = 0x24;
pub const BOHC: usize = 0x28;

// CAP (3.1.1).
pub const CAP_S64A: u32 = 1 << 31;
pub const CAP_SNCQ: u32 = 1 << 30;
pub const CAP_SSS: u32 = 1 << 27;
pub const CAP_SCLO: u32 = 1 << 24;
/// Number of command slots minus one, bits 12:8.
pub fn cap_ncs(cap: u32) -> u32 {
    ((cap >> 8) & 0x1f) + 1
}
/// Number of ports minus one, bits 4:0.
pub fn cap_np(cap: u32) -> u32 {
    (cap & 0x1f) + 1
}
/// Interface speed support, bits 23:20.
pub fn cap_iss(cap: u32) -> u32 {
    (cap >> 20) & 0xf
}

// GHC (3.1.2).
pub const GHC_HR: u32 = 1 << 0;
pub const GHC_IE: u32 = 1 << 1;
pub const GHC_AE: u32 = 1 << 31;

// CAP2 (3.1.10) and BOHC (3.1.11): BIOS/OS handoff.
pub const CAP2_BOH: u32 = 1 << 0;
pub const BOHC_BOS: u32 = 1 << 0;
pub const BOHC_OOS: u32 = 1 << 1;
pub const BOHC_BB: u32 = 1 << 4;

/// Port registers start at 0x100, 0x80 bytes per port (3.3).
pub fn port_base(port: usize) -> usize {
    0x100 + port * 0x80
}
pub const PX_CLB: usize = 0x00;
pub const PX_CLBU: usize = 0x04;
pub const PX_FB: usize = 0x08;
pub const PX_FBU: usize = 0x0c;
pub const PX_IS: usize = 0x10;
pub const PX_IE: usize = 0x14;
pub const PX_CMD: usize = 0x18;
pub const PX_TFD: usize = 0x20;
pub const PX_SIG: usize = 0x24;
pub const PX_SSTS: usize = 0x28;
pub const PX_SCTL: usize = 0x2c;
pub const PX_SERR: usize = 0x30;
pub const PX_SACT: usize = 0x34;
pub const PX_CI: usize = 0x38;

// PxIS / PxIE (3.3.5, 3.3.6).
pub const PIS_DHRS: u32 = 1 << 0;
pub const PIS_PSS: u32 = 1 << 1;
pub const PIS_DSS: u32 = 1 << 2;
pub const PIS_SDBS: u32 = 1 << 3;
pub const PIS_OFS: u32 = 1 << 24;
pub const PIS_IFS: u32 = 1 << 27;
pub const PIS_HBDS: u32 = 1 << 28;
pub const PIS_HBFS: u32 = 1 << 29;
pub const PIS_TFES: u32 = 1 << 30;
/// The errors that stop the command list (6.1.2) and overflow: ahcid recovers the port on each.
pub const PIS_ERRORS: u32 = PIS_TFES | PIS_HBFS | PIS_HBDS | PIS_IFS | PIS_OFS;
/// What ahcid enables: command completions (D2H, PIO Setup, DMA Setup, Set Device Bits) and the errors.
pub const PIE_DEFAULT: u32 = PIS_DHRS | PIS_PSS | PIS_DSS | PIS_SDBS | PIS_ERRORS;

// PxCMD (3.3.7).
pub const PCMD_ST: u32 = 1 << 0;
pub const PCMD_SUD: u32 = 1 << 1;
pub const PCMD_POD: u32 = 1 << 2;
pub const PCMD_CLO: u32 = 1 << 3;
pub const PCMD_FRE: u32 = 1 << 4;
pub const PCMD_FR: u32 = 1 << 14;
pub const PCMD_CR: u32 = 1 << 15;
/// Current command slot, bits 12:8.
pub fn pcmd_ccs(cmd: u32) -> u32 {
    (cmd >> 8) & 0x1f
}

// PxTFD (3.3.8): status in 7:0, error in 15:8.
pub const TFD_ERR: u32 = 1 << 0;
pub const TFD_DRQ: u32 = 1 << 3;
pub const TFD_BSY: u32 = 1 << 7;

// PxSSTS / PxSCTL (3.3.10, 3.3.11): DET in 3:0.
pub const DET_MASK: u32 = 0xf;
pub const DET_PRESENT: u32 = 3;
pub const SCTL_DET_INIT: u32 = 1;

/// PxSIG of an ATA disk after its reset (3.3.9; the device's first D2H Register FIS).
pub const SIG_ATA: u32 = 0x0000_0101;
pub const SIG_ATAPI: u32 = 0xeb14_0101;
pub const SIG_SEMB: u32 = 0xc33c_0101;
pub const SIG_PM: u32 = 0x9669_0101;

/// Layout of the per-port memory (4.2): the command list is 32 headers of
/// 32 bytes (1 KiB aligned), the received FIS area 256 bytes (256-byte
/// aligned), each command table 128-byte aligned: the command FIS at 0x00,
/// the PRD table at 0x80, 16 bytes per entry.
pub const CMD_HEADER_BYTES: usize = 32;
pub const CMD_LIST_BYTES: usize = 32 * CMD_HEADER_BYTES;
pub const RX_FIS_BYTES: usize = 256;
pub const CT_PRDT: usize = 0x80;
pub const PRD_BYTES: usize = 16;
/// A PRD entry's byte count is 22 bits (count - 1): 4 MiB at most, and even (4.2.3.3).
pub const PRD_MAX: usize = 4 << 20;
