//! Identify data structures (NVMe 1.4, 5.15.2): the fields nvmed reads.

use alloc::string::String;

pub struct IdentifyController {
    pub serial: String,
    pub model: String,
    pub firmware: String,
    /// Maximum Data Transfer Size as a power of two of the minimum page size (0: no limit).
    pub mdts: u8,
    /// Number of Namespaces.
    pub nn: u32,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().into()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl IdentifyController {
    pub fn parse(b: &[u8]) -> IdentifyController {
        IdentifyController {
            serial: text(&b[4..24]),
            model: text(&b[24..64]),
            firmware: text(&b[64..72]),
            mdts: b[77],
            nn: u32_at(b, 516),
        }
    }
}

pub struct IdentifyNamespace {
    /// Namespace Size in logical blocks.
    pub blocks: u64,
    /// Logical block size of the formatted LBA format.
    pub block_size: u64,
}

impl IdentifyNamespace {
    pub fn parse(b: &[u8]) -> IdentifyNamespace {
        let nsze = u32_at(b, 0) as u64 | ((u32_at(b, 4) as u64) << 32);
        let flbas = (b[26] & 0xf) as usize;
        let lbads = b[128 + 4 * flbas + 2];
        IdentifyNamespace { blocks: nsze, block_size: 1u64 << lbads }
    }
}

/// The Active Namespace ID list (CNS 02h): ids until the first zero.
pub fn namespace_list(b: &[u8]) -> alloc::vec::Vec<u32> {
    (0..1024).map(|i| u32_at(b, i * 4)).take_while(|&id| id != 0).collect()
}
