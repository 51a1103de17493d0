//! EDID 1.3/1.4 base block: header and checksum, physical size, detailed
//! timing descriptors as modes (the first one preferred, as EDID 1.3+ says
//! when the feature bit is set, and as drm_edid does).

use alloc::string::String;
use alloc::vec::Vec;

use super::mode::ModeInfo;
use super::uapi::*;

pub const EDID_LEN: usize = 128;
const HEADER: [u8; 8] = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

#[derive(Clone, Debug, Default)]
pub struct Edid {
    pub manufacturer: [u8; 3],
    pub product: u16,
    /// From the first detailed timing's image size (mm), else the base block's cm.
    pub mm_width: u32,
    pub mm_height: u32,
    /// Detailed timings in EDID order, the preferred one first.
    pub modes: Vec<ModeInfo>,
    /// The display product name descriptor (0xFC), if any.
    pub name: String,
}

/// Why a block is not an EDID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdidError {
    Header,
    Checksum(u8),
}

pub fn parse(b: &[u8; EDID_LEN]) -> Result<Edid, EdidError> {
    if b[..8] != HEADER {
        return Err(EdidError::Header);
    }
    let sum = b.iter().fold(0u8, |a, &x| a.wrapping_add(x));
    if sum != 0 {
        return Err(EdidError::Checksum(sum));
    }
    let id = u16::from_be_bytes([b[8], b[9]]);
    let letter = |v: u16| (b'A' - 1).wrapping_add((v & 0x1f) as u8);
    let mut e = Edid {
        manufacturer: [letter(id >> 10), letter(id >> 5), letter(id)],
        product: u16::from_le_bytes([b[10], b[11]]),
        mm_width: b[21] as u32 * 10,
        mm_height: b[22] as u32 * 10,
        ..Edid::default()
    };
    let mut first_size = None;
    for d in 0..4 {
        let x = &b[54 + 18 * d..54 + 18 * (d + 1)];
        let clock10k = u16::from_le_bytes([x[0], x[1]]);
        if clock10k == 0 {
            if x[3] == 0xfc {
                let text: Vec<u8> = x[5..18].iter().copied().take_while(|&c| c != 0x0a).collect();
                e.name = String::from_utf8_lossy(&text).trim_end().into();
            }
            continue;
        }
        let hactive = x[2] as u16 | ((x[4] as u16 >> 4) << 8);
        let hblank = x[3] as u16 | ((x[4] as u16 & 0xf) << 8);
        let vactive = x[5] as u16 | ((x[7] as u16 >> 4) << 8);
        let vblank = x[6] as u16 | ((x[7] as u16 & 0xf) << 8);
        let hso = x[8] as u16 | (((x[11] as u16 >> 6) & 3) << 8);
        let hsw = x[9] as u16 | (((x[11] as u16 >> 4) & 3) << 8);
        let vso = (x[10] as u16 >> 4) | (((x[11] as u16 >> 2) & 3) << 4);
        let vsw = (x[10] as u16 & 0xf) | ((x[11] as u16 & 3) << 4);
        let wmm = x[12] as u32 | ((x[14] as u32 >> 4) << 8);
        let hmm = x[13] as u32 | ((x[14] as u32 & 0xf) << 8);
        let flags = x[17];
        if flags & 0x80 != 0 {
            // Interlaced timings are not driven by this driver.
            continue;
        }
        let mut m = ModeInfo {
            clock: clock10k as u32 * 10,
            hdisplay: hactive,
            hsync_start: hactive + hso,
            hsync_end: hactive + hso + hsw,
            htotal: hactive + hblank,
            vdisplay: vactive,
            vsync_start: vactive + vso,
            vsync_end: vactive + vso + vsw,
            vtotal: vactive + vblank,
            type_: MODE_TYPE_DRIVER,
            ..ModeInfo::default()
        };
        // Digital separate sync (bits 4:3 = 11): bit 2 vsync +, bit 1 hsync +; otherwise negative.
        if flags & 0x18 == 0x18 {
            m.flags |= if flags & 0x04 != 0 { MODE_FLAG_PVSYNC } else { MODE_FLAG_NVSYNC };
            m.flags |= if flags & 0x02 != 0 { MODE_FLAG_PHSYNC } else { MODE_FLAG_NHSYNC };
        } else {
            m.flags |= MODE_FLAG_NHSYNC | MODE_FLAG_NVSYNC;
        }
        if !m.valid() {
            continue;
        }
        m.vrefresh = m.compute_vrefresh();
        m.set_name();
        if e.modes.is_empty() {
            m.type_ |= MODE_TYPE_PREFERRED;
        }
        if first_size.is_none() && wmm > 0 && hmm > 0 {
            first_size = Some((wmm, hmm));
        }
        e.modes.push(m);
    }
    if let Some((w, h)) = first_size {
        e.mm_width = w;
        e.mm_height = h;
    }
    Ok(e)
}
