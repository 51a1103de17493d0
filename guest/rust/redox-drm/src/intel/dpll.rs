//! SKL/KBL WRPLL dividers for an HDMI pixel clock (the search of Linux's
//! skl_ddi_calculate_wrpll): the AFE clock is 5 × the pixel clock; find the
//! divider P (even ones first, then odd) putting P × AFE closest to one of
//! the DCO central frequencies 8400, 9000, 9600 MHz, within +1 % / −6 %;
//! split P into P0 · P1 · P2; DCO = integer + fraction/0x8000 of the 24 MHz
//! reference.

use super::regs::DPLL_CFGCR1_FREQ_ENABLE;

const EVEN: [u64; 36] = [4, 6, 8, 10, 12, 14, 16, 18, 20, 24, 28, 30, 32, 36, 40, 42, 44, 48, 52, 54, 56, 60, 64, 66, 68, 70, 72, 76, 78, 80, 84, 88, 90, 92, 96, 98];
const ODD: [u64; 7] = [3, 5, 7, 9, 15, 21, 35];
const CENTRAL_HZ: [u64; 3] = [8_400_000_000, 9_000_000_000, 9_600_000_000];
/// In 0.01 % units: DCO may sit up to 1 % above or 6 % below its central frequency.
const MAX_PDEVIATION: u64 = 100;
const MAX_NDEVIATION: u64 = 600;
const REF_HZ: u64 = 24_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wrpll {
    pub cfgcr1: u32,
    pub cfgcr2: u32,
    /// What the PLL will produce, in kHz (for the log).
    pub pixel_khz: u64,
}

fn multipliers(p: u64) -> (u64, u64, u64) {
    if p % 2 == 0 {
        let half = p / 2;
        if half == 1 || half == 2 || half == 3 || half == 5 {
            (2, 1, half)
        } else if half % 2 == 0 {
            (2, half / 2, 2)
        } else if half % 3 == 0 {
            (3, half / 3, 2)
        } else {
            (7, half / 7, 2)
        }
    } else if p == 3 || p == 9 {
        (3, 1, p / 3)
    } else if p == 5 || p == 7 {
        (p, 1, 1)
    } else if p == 15 {
        (3, 1, 5)
    } else if p == 21 {
        (7, 1, 3)
    } else {
        (7, 1, 5)
    }
}

/// The WRPLL setting for `clock_khz`, or None if no divider fits.
pub fn calculate(clock_khz: u32) -> Option<Wrpll> {
    let afe = clock_khz as u64 * 1000 * 5;
    let mut best: Option<(u64, u64, u64)> = None; // (deviation, central, p)
    for list in [&EVEN[..], &ODD[..]] {
        for &central in &CENTRAL_HZ {
            for &p in list {
                let dco = p * afe;
                let diff = if dco > central { dco - central } else { central - dco };
                let dev = 10_000 * diff / central;
                let ok = if dco >= central { dev < MAX_PDEVIATION } else { dev < MAX_NDEVIATION };
                if ok && best.map(|b| dev < b.0).unwrap_or(true) {
                    best = Some((dev, central, p));
                }
            }
        }
        if best.is_some() {
            break;
        }
    }
    let (_, central, p) = best?;
    let (p0, p1, p2) = multipliers(p);
    let central_sel = match central {
        9_600_000_000 => 0,
        9_000_000_000 => 1,
        _ => 3,
    };
    let pdiv = match p0 {
        1 => 0,
        2 => 1,
        3 => 2,
        _ => 4,
    };
    let kdiv = match p2 {
        5 => 0,
        2 => 1,
        3 => 2,
        _ => 3,
    };
    let qdiv_mode = if p1 == 1 { 0 } else { 1 };
    let dco = p0 * p1 * p2 * afe;
    let integer = dco / REF_HZ;
    let fraction = ((dco / 24) - integer * 1_000_000) * 0x8000 / 1_000_000;
    let cfgcr1 = DPLL_CFGCR1_FREQ_ENABLE | ((fraction as u32 & 0x7fff) << 9) | (integer as u32 & 0x1ff);
    let cfgcr2 = ((p1 as u32 & 0xff) << 8) | (qdiv_mode << 7) | (kdiv << 5) | (pdiv << 2) | central_sel;
    Some(Wrpll { cfgcr1, cfgcr2, pixel_khz: decode(cfgcr1, cfgcr2).unwrap_or(0) })
}

/// The pixel clock (kHz) a programmed HDMI-mode WRPLL produces, from its CFGCR1/2.
pub fn decode(cfgcr1: u32, cfgcr2: u32) -> Option<u64> {
    if cfgcr1 & DPLL_CFGCR1_FREQ_ENABLE == 0 {
        return None;
    }
    let integer = (cfgcr1 & 0x1ff) as u64;
    let fraction = ((cfgcr1 >> 9) & 0x7fff) as u64;
    let p0 = match (cfgcr2 >> 2) & 7 {
        0 => 1,
        1 => 2,
        2 => 3,
        4 => 7,
        _ => return None,
    };
    let p1 = if (cfgcr2 >> 7) & 1 == 1 { ((cfgcr2 >> 8) & 0xff) as u64 } else { 1 };
    let p2 = match (cfgcr2 >> 5) & 3 {
        0 => 5,
        1 => 2,
        2 => 3,
        _ => 1,
    };
    if p1 == 0 {
        return None;
    }
    // DCO in Hz = (integer + fraction / 0x8000) × 24 MHz.
    let dco = integer * REF_HZ + fraction * REF_HZ / 0x8000;
    Some(dco / (p0 * p1 * p2) / 5 / 1000)
}
