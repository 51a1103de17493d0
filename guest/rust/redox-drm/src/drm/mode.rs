//! Display modes: `drm_mode_modeinfo` (68 bytes) and what the driver
//! computes from it.

use alloc::format;
use alloc::vec::Vec;

use super::uapi::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ModeInfo {
    /// Pixel clock in kHz.
    pub clock: u32,
    pub hdisplay: u16,
    pub hsync_start: u16,
    pub hsync_end: u16,
    pub htotal: u16,
    pub hskew: u16,
    pub vdisplay: u16,
    pub vsync_start: u16,
    pub vsync_end: u16,
    pub vtotal: u16,
    pub vscan: u16,
    pub vrefresh: u32,
    pub flags: u32,
    pub type_: u32,
    pub name: [u8; 32],
}

impl ModeInfo {
    /// The mode's name as Linux makes it: "<h>x<v>" (an `i` suffix if interlaced).
    pub fn set_name(&mut self) {
        let s = format!("{}x{}{}", self.hdisplay, self.vdisplay, if self.flags & MODE_FLAG_INTERLACE != 0 { "i" } else { "" });
        self.name = [0; 32];
        let n = s.len().min(31);
        self.name[..n].copy_from_slice(&s.as_bytes()[..n]);
    }

    /// vrefresh in Hz, rounded as drm_mode_vrefresh does.
    pub fn compute_vrefresh(&self) -> u32 {
        let total = self.htotal as u64 * self.vtotal as u64;
        if total == 0 {
            return 0;
        }
        ((self.clock as u64 * 1000 + total / 2) / total) as u32
    }

    /// Same timings (what a commit's mode is compared on; type and name aside).
    pub fn same_timings(&self, o: &ModeInfo) -> bool {
        self.clock == o.clock && self.hdisplay == o.hdisplay && self.hsync_start == o.hsync_start && self.hsync_end == o.hsync_end
            && self.htotal == o.htotal && self.hskew == o.hskew && self.vdisplay == o.vdisplay && self.vsync_start == o.vsync_start
            && self.vsync_end == o.vsync_end && self.vtotal == o.vtotal && self.vscan == o.vscan
            && (self.flags & 0x1f) == (o.flags & 0x1f)
    }

    /// Timings make sense (display < sync start < sync end <= total, non-zero clock).
    pub fn valid(&self) -> bool {
        self.clock > 0 && self.hdisplay > 0 && self.vdisplay > 0
            && self.hdisplay <= self.hsync_start && self.hsync_start <= self.hsync_end && self.hsync_end <= self.htotal
            && self.vdisplay <= self.vsync_start && self.vsync_start <= self.vsync_end && self.vsync_end <= self.vtotal
    }

    pub fn encode(&self, out: &mut [u8]) {
        let put16 = |o: &mut [u8], at: usize, v: u16| o[at..at + 2].copy_from_slice(&v.to_le_bytes());
        let put32 = |o: &mut [u8], at: usize, v: u32| o[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put32(out, 0, self.clock);
        put16(out, 4, self.hdisplay);
        put16(out, 6, self.hsync_start);
        put16(out, 8, self.hsync_end);
        put16(out, 10, self.htotal);
        put16(out, 12, self.hskew);
        put16(out, 14, self.vdisplay);
        put16(out, 16, self.vsync_start);
        put16(out, 18, self.vsync_end);
        put16(out, 20, self.vtotal);
        put16(out, 22, self.vscan);
        put32(out, 24, self.vrefresh);
        put32(out, 28, self.flags);
        put32(out, 32, self.type_);
        out[36..68].copy_from_slice(&self.name);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = alloc::vec![0u8; MODEINFO_SIZE];
        self.encode(&mut v);
        v
    }

    pub fn decode(b: &[u8]) -> ModeInfo {
        let g16 = |at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
        let g32 = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut name = [0u8; 32];
        name.copy_from_slice(&b[36..68]);
        ModeInfo {
            clock: g32(0), hdisplay: g16(4), hsync_start: g16(6), hsync_end: g16(8), htotal: g16(10), hskew: g16(12),
            vdisplay: g16(14), vsync_start: g16(16), vsync_end: g16(18), vtotal: g16(20), vscan: g16(22),
            vrefresh: g32(24), flags: g32(28), type_: g32(32), name,
        }
    }
}
