//! Controller registers (NVMe base specification 1.4, 3.1): offsets into
//! BAR0 and the bits nvmed uses. nvmed's own definitions, kept apart from
//! the device model on purpose.

use redox_driver::Reg;

pub const CAP: Reg<u64> = Reg::new(0x00);
pub const VS: Reg<u32> = Reg::new(0x08);
pub const CC: Reg<u32> = Reg::new(0x14);
pub const CSTS: Reg<u32> = Reg::new(0x1c);
pub const AQA: Reg<u32> = Reg::new(0x24);
pub const ASQ: Reg<u64> = Reg::new(0x28);
pub const ACQ: Reg<u64> = Reg::new(0x30);
/// Doorbells start here; each is 4 << CAP.DSTRD bytes apart (SQ y tail, then CQ y head).
pub const DOORBELLS: usize = 0x1000;

pub const CC_EN: u32 = 1 << 0;
pub const CC_CSS_NVM: u32 = 0 << 4;
pub const CC_MPS_4K: u32 = 0 << 7;
pub const CC_AMS_RR: u32 = 0 << 11;
/// I/O submission queue entries of 2^6 = 64 bytes.
pub const CC_IOSQES: u32 = 6 << 16;
/// I/O completion queue entries of 2^4 = 16 bytes.
pub const CC_IOCQES: u32 = 4 << 20;

pub const CSTS_RDY: u32 = 1 << 0;
pub const CSTS_CFS: u32 = 1 << 1;

/// CAP fields.
pub fn cap_mqes(cap: u64) -> u32 {
    (cap & 0xffff) as u32 + 1
}
/// CAP.TO in milliseconds (500 ms units).
pub fn cap_timeout_ms(cap: u64) -> u64 {
    ((cap >> 24) & 0xff).max(1) * 500
}
pub fn cap_dstrd(cap: u64) -> u32 {
    ((cap >> 32) & 0xf) as u32
}

/// A completion's status field (SCT and SC) in words.
pub fn status_name(status: u16) -> alloc::string::String {
    let sct = (status >> 8) & 7;
    let sc = status & 0xff;
    let name = match (sct, sc) {
        (0, 0x00) => "Successful Completion",
        (0, 0x01) => "Invalid Command Opcode",
        (0, 0x02) => "Invalid Field in Command",
        (0, 0x04) => "Data Transfer Error",
        (0, 0x06) => "Internal Error",
        (0, 0x07) => "Command Abort Requested",
        (0, 0x08) => "Command Aborted due to SQ Deletion",
        (0, 0x0b) => "Invalid Namespace or Format",
        (0, 0x13) => "PRP Offset Invalid",
        (0, 0x80) => "LBA Out of Range",
        (1, 0x00) => "Completion Queue Invalid",
        (1, 0x01) => "Invalid Queue Identifier",
        (1, 0x02) => "Invalid Queue Size",
        (1, 0x08) => "Invalid Interrupt Vector",
        _ => "status",
    };
    alloc::format!("{} (SCT {} SC {:#04x})", name, sct, sc)
}
