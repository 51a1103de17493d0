//! ATA commands (ACS-3), the Register Host-to-Device FIS that carries them
//! (SATA 3.x, 10.5.5) and the IDENTIFY DEVICE data (ACS-3 7.12.7). ahcid's
//! own definitions.

use alloc::string::String;

pub const READ_DMA_EXT: u8 = 0x25;
pub const READ_LOG_EXT: u8 = 0x2f;
pub const WRITE_DMA_EXT: u8 = 0x35;
pub const READ_FPDMA_QUEUED: u8 = 0x60;
pub const WRITE_FPDMA_QUEUED: u8 = 0x61;
pub const FLUSH_CACHE_EXT: u8 = 0xea;
pub const IDENTIFY_DEVICE: u8 = 0xec;

/// The NCQ Command Error log (ACS-3 A.14).
pub const LOG_NCQ_ERROR: u8 = 0x10;

/// FIS type of a Register FIS, host to device.
const FIS_REG_H2D: u8 = 0x27;
/// Byte 1 bit 7: the FIS carries a command (not a device control update).
const H2D_C: u8 = 0x80;
/// Device register bit 6: the LBA is an LBA (not CHS).
const DEV_LBA: u8 = 0x40;
/// Length of a Register H2D FIS in dwords (the command header's CFL).
pub const H2D_DWORDS: u32 = 5;

/// A Register H2D FIS (20 bytes).
#[derive(Clone, Copy, Default)]
pub struct H2dFis {
    pub command: u8,
    pub features: u16,
    pub lba: u64,
    pub device: u8,
    pub count: u16,
}

impl H2dFis {
    /// READ/WRITE DMA EXT: 48-bit LBA, sector count in the count field (0 means 65536).
    pub fn dma_ext(write: bool, lba: u64, sectors: u32) -> H2dFis {
        H2dFis { command: if write { WRITE_DMA_EXT } else { READ_DMA_EXT }, features: 0, lba, device: DEV_LBA, count: sectors as u16 }
    }

    /// READ/WRITE FPDMA QUEUED (ACS-3 7.22, 7.61): sector count in FEATURE, the tag in COUNT bits 7:3.
    pub fn fpdma(write: bool, lba: u64, sectors: u32, tag: u32) -> H2dFis {
        H2dFis {
            command: if write { WRITE_FPDMA_QUEUED } else { READ_FPDMA_QUEUED },
            features: sectors as u16, lba, device: DEV_LBA, count: ((tag & 0x1f) << 3) as u16,
        }
    }

    pub fn flush() -> H2dFis {
        H2dFis { command: FLUSH_CACHE_EXT, device: DEV_LBA, ..H2dFis::default() }
    }

    pub fn identify() -> H2dFis {
        H2dFis { command: IDENTIFY_DEVICE, ..H2dFis::default() }
    }

    /// READ LOG EXT of one page: log address in LBA 7:0, page number in LBA 15:8 (ACS-3 7.24).
    pub fn read_log(log: u8, page: u8) -> H2dFis {
        H2dFis { command: READ_LOG_EXT, lba: log as u64 | ((page as u64) << 8), count: 1, ..H2dFis::default() }
    }

    /// The FIS as five little-endian dwords.
    pub fn dwords(&self) -> [u32; 5] {
        let b: [u8; 20] = [
            FIS_REG_H2D, H2D_C, self.command, self.features as u8,
            self.lba as u8, (self.lba >> 8) as u8, (self.lba >> 16) as u8, self.device,
            (self.lba >> 24) as u8, (self.lba >> 32) as u8, (self.lba >> 40) as u8, (self.features >> 8) as u8,
            self.count as u8, (self.count >> 8) as u8, 0, 0,
            0, 0, 0, 0,
        ];
        let mut out = [0u32; 5];
        for (i, d) in out.iter_mut().enumerate() {
            *d = u32::from_le_bytes([b[i * 4], b[i * 4 + 1], b[i * 4 + 2], b[i * 4 + 3]]);
        }
        out
    }
}

/// Status bits of the ATA Status register in words.
pub fn status_text(status: u8, error: u8) -> String {
    let mut s = String::new();
    for (bit, name) in [(0x80, "BSY"), (0x40, "DRDY"), (0x20, "DF"), (0x08, "DRQ"), (0x01, "ERR")] {
        if status & bit != 0 {
            if !s.is_empty() { s.push(' '); }
            s.push_str(name);
        }
    }
    if status & 0x01 != 0 {
        for (bit, name) in [(0x80, "ICRC"), (0x40, "UNC"), (0x10, "IDNF"), (0x04, "ABRT")] {
            if error & bit != 0 {
                s.push(' ');
                s.push_str(name);
            }
        }
    }
    if s.is_empty() { s.push_str("-"); }
    s
}

/// What ahcid takes from IDENTIFY DEVICE.
pub struct Identify {
    pub serial: String,
    pub firmware: String,
    pub model: String,
    pub lba48: bool,
    pub sectors: u64,
    pub sector_size: u32,
    pub ncq: bool,
    /// Queue depth (word 75 bits 4:0, plus one).
    pub queue_depth: u32,
}

fn word(d: &[u8], w: usize) -> u16 {
    u16::from_le_bytes([d[w * 2], d[w * 2 + 1]])
}

/// An ATA string: each word holds two characters, the first in its high byte; trailing spaces trimmed.
fn ata_string(d: &[u8], first: usize, words: usize) -> String {
    let mut s = String::with_capacity(words * 2);
    for w in first..first + words {
        let v = word(d, w);
        for c in [(v >> 8) as u8, v as u8] {
            s.push(if (0x20..0x7f).contains(&c) { c as char } else { '?' });
        }
    }
    String::from(s.trim())
}

impl Identify {
    pub fn parse(d: &[u8]) -> Identify {
        // Word 83 bit 10: the 48-bit address feature set is supported (86 bit 10: enabled).
        let lba48 = word(d, 83) & (1 << 10) != 0 && word(d, 86) & (1 << 10) != 0;
        let sectors = if lba48 {
            (0..4).fold(0u64, |acc, i| acc | ((word(d, 100 + i) as u64) << (16 * i)))
        } else {
            word(d, 60) as u64 | ((word(d, 61) as u64) << 16)
        };
        // Word 106: valid when bit 14 is 1 and bit 15 is 0; bit 12: the logical sector is longer than 256 words (words 117-118).
        let w106 = word(d, 106);
        let sector_size = if w106 & 0xc000 == 0x4000 && w106 & (1 << 12) != 0 {
            (word(d, 117) as u32 | ((word(d, 118) as u32) << 16)) * 2
        } else {
            512
        };
        // Word 76 bit 8: NCQ; 0xffff and 0 mean the word is not reported.
        let w76 = word(d, 76);
        let ncq = w76 != 0xffff && w76 & (1 << 8) != 0;
        Identify {
            serial: ata_string(d, 10, 10),
            firmware: ata_string(d, 23, 4),
            model: ata_string(d, 27, 20),
            lba48,
            sectors,
            sector_size,
            ncq,
            queue_depth: (word(d, 75) as u32 & 0x1f) + 1,
        }
    }
}
