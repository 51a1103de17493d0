//! The Intel Gen9 (Skylake / Kaby Lake) modesetting driver inside the
//! daemon: HDMI on DDI B, C and D (the ones SFUSE_STRAP reports), pipes
//! A, B and C each with its transcoder and primary plane, one WRPLL per pipe
//! (DPLL1..3), GGTT management, EDID over GMBUS, Gen8-style interrupts.
//! Sequences follow Linux's i915 (intel_display.c, intel_ddi.c,
//! intel_dpll_mgr.c, skl_watermark.c, intel_gmbus.c, i915_irq.c) in the order
//! of the facts sheet; register definitions are in regs.rs.
//!
//! Simplifications, each logged or documented:
//! - Power: PW1 and MISC_IO at start (if the firmware left them off), PW2 and
//!   the port's DDI IO well at the first modeset; they stay on.
//! - Display buffer: a fixed third of the 892 usable blocks per pipe (Linux
//!   divides by active pipes); watermark level 0 only, from a fixed 2 µs
//!   memory latency (Linux reads the latencies from the pcode mailbox).
//! - CDCLK is left as the firmware set it; modes above 300 MHz (the HDMI 1.4
//!   limit of these parts) are refused.

pub mod dpll;
pub mod ggtt;
pub mod gmbus;
pub mod regs;
pub mod wait;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

use redox_driver::{debug, error, info, warn, Error, Mmio, PciFunctionHandle, Result, EINVAL, EIO, ENODEV, ETIMEDOUT};

use crate::drm::driver::{Adopted, ConnectorDesc, DriverInfo, IrqReport, KmsDriver, Modeset, Probe, Scanout};
use crate::drm::mode::ModeInfo;
use crate::drm::uapi::{CONNECTOR_HDMIA, MODE_FLAG_INTERLACE, MODE_FLAG_NHSYNC, MODE_FLAG_NVSYNC, MODE_FLAG_PHSYNC, MODE_FLAG_PVSYNC};
use regs::*;
use wait::wait_for;

const PIPES: usize = 3;
const PIPE_NAMES: [char; 3] = ['A', 'B', 'C'];
/// Highest HDMI TMDS clock of SKL/KBL (Linux: hdmi_port_clock_limit), kHz.
const MAX_HDMI_CLOCK_KHZ: u32 = 300_000;
/// Largest mode the planes take (SKL plane limits).
const MAX_MODE_SIDE: u16 = 4096;
/// Memory latency assumed for watermark level 0, µs.
const WM0_LATENCY_US: u64 = 2;

const POWER_WELL_TIMEOUT: Duration = Duration::from_millis(10);
const FUSE_TIMEOUT: Duration = Duration::from_millis(5);
const DBUF_TIMEOUT: Duration = Duration::from_millis(1);
const PLL_LOCK_TIMEOUT: Duration = Duration::from_millis(5);
const TRANSCONF_TIMEOUT: Duration = Duration::from_millis(100);
const DDI_BUF_TIMEOUT: Duration = Duration::from_micros(500);
const FRAME_TIMEOUT: Duration = Duration::from_millis(100);

/// What the driver knows of one pipe's hardware.
#[derive(Clone, Copy, Default)]
struct PipeHw {
    on: bool,
    port: u32,
    dpll: u32,
    /// Plane registers last written (a flip rewrites only what changed).
    stride: u32,
    offset: u32,
    ctl: u32,
    surf: u32,
    imr: u32,
}

pub struct Intel {
    m: Mmio,
    /// BAR2, the CPU's view of GGTT addresses (mapped as Redox's ihdgd does; the daemon maps buffers by their RAM instead).
    _aperture: Option<Mmio>,
    ggtt: ggtt::Ggtt,
    /// Connector index → DDI port.
    ports: Vec<u32>,
    pipes: [PipeHw; PIPES],
    adopted: Option<Adopted>,
    underruns: [u64; PIPES],
    pw2_on: bool,
    /// Page flips programmed so far (all pipes), for the `faultFlipUnmapped` parameter.
    flips: u32,
    /// Fault (driver parameter faultFlipUnmapped): the n-th page flip points PLANE_SURF at a GGTT
    /// address with no page behind it, as a driver that forgot to map the buffer would; 0 = off.
    fault_flip_unmapped: u32,
}

fn pipe_name(p: usize) -> char {
    PIPE_NAMES[p]
}

fn port_name(port: u32) -> char {
    (b'A' + port as u8) as char
}

fn timeout(reg: &str) -> Error {
    error!("timeout waiting for {}", reg);
    Error::new(ETIMEDOUT)
}

impl Intel {
    /// Maps the device and brings the display core up (no interrupts yet).
    pub fn new(pcid: &mut PciFunctionHandle) -> Result<Intel> {
        let func = pcid.config().clone();
        pcid.enable_device()?;
        let m = pcid.map_bar(0)?;
        if m.size() < GGTT_OFFSET + 4096 {
            error!("BAR0 is {:#x} bytes: too small for registers and the GGTT", m.size());
            return Err(Error::new(ENODEV));
        }
        let aperture = match pcid.map_bar(2) {
            Ok(a) => Some(a),
            Err(_) => {
                warn!("BAR2 (aperture) cannot be mapped");
                None
            }
        };
        let ggc = pcid.read_config(CFG_GGC) & 0xffff;
        let bdsm = pcid.read_config(CFG_BDSM);
        let asls = pcid.read_config(CFG_ASLS);
        let ggtt = ggtt::Ggtt::new(ggc, m.size() - GGTT_OFFSET);
        info!("i915 {}: {:04x}:{:04x}, BAR0 {} MiB, aperture {} MiB, GGC {:#06x} (GGTT {} MiB of address space, stolen {} MiB at {:#x}), OpRegion {:#x}",
            func.name(), func.vendor, func.device, m.size() >> 20, aperture.as_ref().map(|a| a.size() >> 20).unwrap_or(0),
            ggc, ggtt.size >> 20, stolen_mib(ggc), bdsm & 0xfff0_0000, asls);
        if ggtt.size == 0 {
            error!("GGC {:#x}: no GGTT", ggc);
            return Err(Error::new(ENODEV));
        }
        let strap = m.read32(SFUSE_STRAP);
        let mut ports = Vec::new();
        for (port, bit) in [(PORT_B, SFUSE_STRAP_DDIB), (PORT_C, SFUSE_STRAP_DDIC), (PORT_D, SFUSE_STRAP_DDID)] {
            if strap & bit != 0 {
                ports.push(port);
            }
        }
        info!("SFUSE_STRAP {:#x}: DDI {}", strap, if ports.is_empty() { String::from("none") } else { ports.iter().map(|&p| format!("{}", port_name(p))).collect::<Vec<_>>().join(", ") });
        let mut d = Intel { m, _aperture: aperture, ggtt, ports, pipes: [PipeHw::default(); PIPES], adopted: None, underruns: [0; PIPES], pw2_on: false,
            flips: 0, fault_flip_unmapped: redox_driver::param_int("faultFlipUnmapped", 0).max(0) as u32 };
        d.display_core_init()?;
        d.adopt_firmware();
        Ok(d)
    }

    /// PG0 fuses, PW1 and MISC_IO, DBUF (Linux's skl_display_core_init, CDCLK left as it is).
    fn display_core_init(&mut self) -> Result<()> {
        let m = &self.m;
        if !wait_for(FUSE_TIMEOUT, || m.read32(FUSE_STATUS) & fuse_pg_dist(0) != 0) {
            return Err(timeout("FUSE_STATUS (PG0 distribution)"));
        }
        let ctl = m.read32(PWR_WELL_CTL2);
        let want = pw_req(PW_1) | pw_req(PW_MISC_IO);
        if ctl & want != want {
            m.write32(PWR_WELL_CTL2, ctl | want);
        }
        if !wait_for(POWER_WELL_TIMEOUT, || m.read32(PWR_WELL_CTL2) & pw_state(PW_1) != 0) {
            return Err(timeout("PWR_WELL_CTL2 (power well 1 state)"));
        }
        if !wait_for(FUSE_TIMEOUT, || m.read32(FUSE_STATUS) & fuse_pg_dist(1) != 0) {
            return Err(timeout("FUSE_STATUS (PG1 distribution)"));
        }
        if !wait_for(POWER_WELL_TIMEOUT, || m.read32(PWR_WELL_CTL2) & pw_state(PW_MISC_IO) != 0) {
            return Err(timeout("PWR_WELL_CTL2 (MISC IO power well state)"));
        }
        let ctl = m.read32(PWR_WELL_CTL2);
        self.pw2_on = ctl & pw_state(PW_2) != 0 && ctl & pw_req(PW_2) != 0;
        let dbuf = m.read32(DBUF_CTL);
        if dbuf & DBUF_POWER_REQUEST == 0 {
            m.write32(DBUF_CTL, dbuf | DBUF_POWER_REQUEST);
        }
        if !wait_for(DBUF_TIMEOUT, || m.read32(DBUF_CTL) & DBUF_POWER_STATE != 0) {
            return Err(timeout("DBUF_CTL (power state)"));
        }
        debug!("display core up: PWR_WELL_CTL2 {:#x}, CDCLK_CTL {:#x}", m.read32(PWR_WELL_CTL2), m.read32(CDCLK_CTL));
        Ok(())
    }

    /// Firmware handoff (Redox ihdgd on Kaby Lake): transcoder A running with plane 1 on is taken as it is.
    fn adopt_firmware(&mut self) {
        let m = &self.m;
        let tc = m.read32(pipe(0, TRANSCONF));
        let ctl = m.read32(plane(0, PLANE_CTL));
        if tc & TRANSCONF_ENABLE == 0 || ctl & PLANE_CTL_ENABLE == 0 {
            return;
        }
        let ddi = m.read32(trans(0, TRANS_DDI_FUNC_CTL));
        let port = (ddi & TRANS_DDI_PORT_MASK) >> 28;
        let connector = match self.ports.iter().position(|&p| p == port) {
            Some(c) if ddi & TRANS_DDI_FUNC_ENABLE != 0 => c,
            _ => {
                warn!("firmware pipe A runs on DDI {} (TRANS_DDI_FUNC_CTL {:#x}), not a port of ours: not adopted", port_name(port), ddi);
                return;
            }
        };
        if ctl & (PLANE_CTL_FORMAT_MASK | PLANE_CTL_TILED_MASK) != PLANE_CTL_FORMAT_XRGB_8888 {
            warn!("firmware plane 1A is not linear XRGB8888 (PLANE_CTL {:#x}): not adopted", ctl);
            return;
        }
        let lo = |r: u32| (r & 0xffff) as u16 + 1;
        let hi = |r: u32| (r >> 16) as u16 + 1;
        let (ht, hs, vt, vs) = (m.read32(trans(0, HTOTAL)), m.read32(trans(0, HSYNC)), m.read32(trans(0, VTOTAL)), m.read32(trans(0, VSYNC)));
        let mut t = ModeInfo {
            hdisplay: lo(ht), htotal: hi(ht), hsync_start: lo(hs), hsync_end: hi(hs),
            vdisplay: lo(vt), vtotal: hi(vt), vsync_start: lo(vs), vsync_end: hi(vs), ..ModeInfo::default()
        };
        t.flags = if ddi & TRANS_DDI_PHSYNC != 0 { MODE_FLAG_PHSYNC } else { MODE_FLAG_NHSYNC }
            | if ddi & TRANS_DDI_PVSYNC != 0 { MODE_FLAG_PVSYNC } else { MODE_FLAG_NVSYNC };
        // The clock from the PLL feeding the port.
        let ctrl2 = m.read32(DPLL_CTRL2);
        let id = (ctrl2 & dpll_ctrl2_ddi_clk_sel_mask(port)) >> (port * 3 + 1);
        let ctrl1 = m.read32(DPLL_CTRL1);
        if id >= 1 && ctrl1 & dpll_ctrl1_hdmi_mode(id) != 0 {
            t.clock = dpll::decode(m.read32(dpll_cfgcr1(id)), m.read32(dpll_cfgcr2(id))).unwrap_or(0) as u32;
        }
        let size = m.read32(plane(0, PLANE_SIZE));
        let (w, h) = ((size & 0x1fff) + 1, ((size >> 16) & 0x1fff) + 1);
        let stride = m.read32(plane(0, PLANE_STRIDE)) & 0xfff;
        let surf = m.read32(plane(0, PLANE_SURF)) & !0xfff;
        let off = m.read32(plane(0, PLANE_OFFSET));
        let pitch = stride * 64;
        let bytes = pitch * h;
        self.ggtt.reserve(surf, bytes);
        self.pipes[0] = PipeHw { on: true, port, dpll: id, stride, offset: off, ctl, surf, imr: 0 };
        info!("firmware pipe A: {}x{} on DDI {} (DPLL{}, {} kHz), plane 1A {}x{} stride {} at GGTT {:#x}: adopted",
            t.hdisplay, t.vdisplay, port_name(port), id, t.clock, w, h, pitch, surf);
        self.adopted = Some(Adopted {
            crtc: 0, connector, timings: t,
            fb: Scanout { gpu: surf, pitch, width: w, height: h, x: off & 0x1fff, y: (off >> 16) & 0x1fff },
            fb_bytes: bytes,
        });
    }

    // ---- interrupts

    /// Gen8-style reset and postinstall: everything masked and cleared (IIR twice: it can hold one more), then
    /// per pipe flip done and underrun unmasked (vblank on demand), hot-plug of our ports, master enable.
    pub fn irq_install(&mut self) {
        let m = &self.m;
        m.write32(MASTER_IRQ, 0);
        m.read32(MASTER_IRQ);
        for p in 0..PIPES {
            Self::irq_reset_block(m, de_pipe_imr(p), de_pipe_ier(p), de_pipe_iir(p));
        }
        Self::irq_reset_block(m, 0x44444, 0x4444C, DE_PORT_IIR);
        Self::irq_reset_block(m, 0x44464, 0x4446C, DE_MISC_IIR);
        Self::irq_reset_block(m, SDEIMR, SDEIER, SDEIIR);
        for p in 0..PIPES {
            self.pipe_irq_postinstall(p);
        }
        let mut hp_mask = 0;
        let mut hp_en = 0;
        for &port in &self.ports {
            hp_mask |= sde_hotplug(port);
            hp_en |= port_hotplug_enable(port);
        }
        let m = &self.m;
        let hp = m.read32(PCH_PORT_HOTPLUG);
        m.write32(PCH_PORT_HOTPLUG, hp | hp_en);
        m.write32(SDEIER, hp_mask);
        m.write32(SDEIMR, !hp_mask);
        m.write32(MASTER_IRQ, MASTER_IRQ_ENABLE);
        m.read32(MASTER_IRQ);
    }

    fn irq_reset_block(m: &Mmio, imr: usize, ier: usize, iir: usize) {
        m.write32(imr, 0xffff_ffff);
        m.write32(ier, 0);
        m.write32(iir, 0xffff_ffff);
        m.write32(iir, 0xffff_ffff);
    }

    fn pipe_irq_postinstall(&mut self, p: usize) {
        let m = &self.m;
        // Vblank stays unmasked if it was (a power well coming up must not lose a waiter's interrupt).
        let vblank_on = self.pipes[p].imr != 0 && self.pipes[p].imr & PIPE_VBLANK == 0;
        let imr = !(PIPE_PLANE1_FLIP_DONE | PIPE_FIFO_UNDERRUN | if vblank_on { PIPE_VBLANK } else { 0 });
        m.write32(de_pipe_ier(p), PIPE_VBLANK | PIPE_PLANE1_FLIP_DONE | PIPE_FIFO_UNDERRUN);
        m.write32(de_pipe_imr(p), imr);
        self.pipes[p].imr = imr;
    }

    // ---- modeset steps

    fn enable_power(&mut self, port: u32) -> Result<()> {
        let m = &self.m;
        let ddi_well = PW_DDI_B + (port - PORT_B);
        let want = pw_req(PW_2) | pw_req(ddi_well);
        let ctl = m.read32(PWR_WELL_CTL2);
        if ctl & want != want {
            m.write32(PWR_WELL_CTL2, ctl | want);
        }
        if !wait_for(POWER_WELL_TIMEOUT, || m.read32(PWR_WELL_CTL2) & pw_state(PW_2) != 0) {
            return Err(timeout("PWR_WELL_CTL2 (power well 2 state)"));
        }
        if !wait_for(FUSE_TIMEOUT, || m.read32(FUSE_STATUS) & fuse_pg_dist(2) != 0) {
            return Err(timeout("FUSE_STATUS (PG2 distribution)"));
        }
        if !wait_for(POWER_WELL_TIMEOUT, || m.read32(PWR_WELL_CTL2) & pw_state(ddi_well) != 0) {
            error!("DDI {} IO power well did not come up", port_name(port));
            return Err(timeout("PWR_WELL_CTL2 (DDI IO power well state)"));
        }
        if !self.pw2_on {
            // Pipes B and C lose their interrupt registers with PW2 (Linux: gen8_irq_power_well_post_enable).
            self.pw2_on = true;
            for p in 1..PIPES {
                self.pipe_irq_postinstall(p);
            }
        }
        Ok(())
    }

    fn enable_pll(&mut self, id: u32, clock: u32) -> Result<()> {
        let w = dpll::calculate(clock).ok_or(Error::new(EINVAL))?;
        let m = &self.m;
        let mut c1 = m.read32(DPLL_CTRL1);
        c1 &= !(dpll_ctrl1_hdmi_mode(id) | dpll_ctrl1_ssc(id) | dpll_ctrl1_link_rate_mask(id) | dpll_ctrl1_override(id));
        c1 |= dpll_ctrl1_override(id) | dpll_ctrl1_hdmi_mode(id);
        m.write32(DPLL_CTRL1, c1);
        m.read32(DPLL_CTRL1);
        m.write32(dpll_cfgcr1(id), w.cfgcr1);
        m.write32(dpll_cfgcr2(id), w.cfgcr2);
        m.read32(dpll_cfgcr2(id));
        let en = dpll_enable_reg(id);
        m.write32(en, m.read32(en) | DPLL_ENABLE);
        if !wait_for(PLL_LOCK_TIMEOUT, || m.read32(DPLL_STATUS) & dpll_lock(id) != 0) {
            error!("DPLL{} did not lock for {} kHz (CFGCR1 {:#x}, CFGCR2 {:#x})", id, clock, w.cfgcr1, w.cfgcr2);
            return Err(timeout("DPLL_STATUS (DPLL lock)"));
        }
        debug!("DPLL{}: {} kHz (CFGCR1 {:#x}, CFGCR2 {:#x}, gives {} kHz), locked", id, clock, w.cfgcr1, w.cfgcr2, w.pixel_khz);
        Ok(())
    }

    /// Display buffer blocks of pipe p's plane 1: [start, end).
    fn ddb(p: usize) -> (u32, u32) {
        let per = DDB_BLOCKS / PIPES as u32;
        (p as u32 * per, (p as u32 + 1) * per)
    }

    /// Watermark level 0 (skl_compute_plane_wm's two methods, linear, 4 bytes per pixel).
    fn wm0(mode: &ModeInfo, ddb_blocks: u32) -> u32 {
        let clock = mode.clock as u64;
        let method1 = (clock * 4 * WM0_LATENCY_US + 512 * 1000 - 1) / (512 * 1000);
        let blocks_per_line = (mode.hdisplay as u64 * 4 + 511) / 512;
        let line_us_x1000 = mode.htotal as u64 * 1_000_000 / clock.max(1);
        let lines = (WM0_LATENCY_US * 1_000_000 + line_us_x1000 - 1) / line_us_x1000.max(1);
        let method2 = blocks_per_line * lines;
        let blocks = (method1.min(method2.max(blocks_per_line)) + 1).min(ddb_blocks as u64 - 1).min(PLANE_WM_BLOCKS_MASK as u64) as u32;
        let lines = ((lines + 1).min(PLANE_WM_LINES_MASK as u64)) as u32;
        PLANE_WM_EN | (lines << PLANE_WM_LINES_SHIFT) | blocks
    }

    fn program_plane(&mut self, p: usize, fb: &Scanout, async_: bool, full: bool) {
        let m = &self.m;
        let hw = &mut self.pipes[p];
        let stride = fb.pitch / 64;
        let offset = (fb.y << 16) | fb.x;
        let ctl = PLANE_CTL_ENABLE | PLANE_CTL_FORMAT_XRGB_8888 | if async_ { PLANE_CTL_ASYNC_FLIP } else { 0 };
        if full {
            m.write32(plane(p, PLANE_SIZE), ((fb.height.min(4096) - 1) << 16) | (fb.width.min(4096) - 1));
        }
        if full || stride != hw.stride {
            m.write32(plane(p, PLANE_STRIDE), stride);
        }
        if full {
            m.write32(plane(p, PLANE_POS), 0);
        }
        if full || offset != hw.offset {
            m.write32(plane(p, PLANE_OFFSET), offset);
        }
        if full || ctl != hw.ctl {
            m.write32(plane(p, PLANE_CTL), ctl);
        }
        m.write32(plane(p, PLANE_SURF), fb.gpu & !0xfff);
        hw.stride = stride;
        hw.offset = offset;
        hw.ctl = ctl;
        hw.surf = fb.gpu & !0xfff;
    }

    fn do_enable(&mut self, p: usize, ms: &Modeset) -> Result<()> {
        let port = self.ports[ms.connector];
        let id = p as u32 + 1;
        let mode = ms.mode;
        // 1. power wells
        self.enable_power(port)?;
        // 2. PLL: HDMI mode, dividers for the clock, enable, lock
        self.enable_pll(id, mode.clock)?;
        let m = &self.m;
        // 3. the port's clock from the PLL
        let mut c2 = m.read32(DPLL_CTRL2);
        c2 &= !(dpll_ctrl2_ddi_clk_off(port) | dpll_ctrl2_ddi_clk_sel_mask(port));
        c2 |= dpll_ctrl2_ddi_clk_sel(id, port) | dpll_ctrl2_ddi_sel_override(port);
        m.write32(DPLL_CTRL2, c2);
        m.read32(DPLL_CTRL2);
        // 4. the transcoder's clock from the port
        m.write32(trans_clk_sel(p), trans_clk_sel_port(port));
        // 5. display buffer and watermarks, plane still off
        let (start, end) = Self::ddb(p);
        m.write32(plane_buf_cfg(p), ((end - 1) << 16) | start);
        m.write32(plane_wm(p, 0), Self::wm0(&mode, end - start));
        for level in 1..8 {
            m.write32(plane_wm(p, level), 0);
        }
        m.write32(PLANE_WM_TRANS + 0x1000 * p, 0);
        // 6. timings (values minus one) and the pipe source size
        let pair = |a: u16, b: u16| ((b as u32 - 1) << 16) | (a as u32 - 1);
        m.write32(trans(p, VSYNCSHIFT), 0);
        m.write32(trans(p, HTOTAL), pair(mode.hdisplay, mode.htotal));
        m.write32(trans(p, HBLANK), pair(mode.hdisplay, mode.htotal));
        m.write32(trans(p, HSYNC), pair(mode.hsync_start, mode.hsync_end));
        m.write32(trans(p, VTOTAL), pair(mode.vdisplay, mode.vtotal));
        m.write32(trans(p, VBLANK), pair(mode.vdisplay, mode.vtotal));
        m.write32(trans(p, VSYNC), pair(mode.vsync_start, mode.vsync_end));
        m.write32(trans(p, PIPESRC), ((mode.hdisplay as u32 - 1) << 16) | (mode.vdisplay as u32 - 1));
        // 7. pipe misc: 8 bpc
        m.write32(pipe(p, PIPE_MISC), PIPE_MISC_BPC_8);
        // 8. DDI function: HDMI, 8 bpc, sync polarity
        let mut f = TRANS_DDI_FUNC_ENABLE | trans_ddi_select_port(port) | TRANS_DDI_MODE_HDMI | TRANS_DDI_BPC_8;
        if mode.flags & MODE_FLAG_PHSYNC != 0 {
            f |= TRANS_DDI_PHSYNC;
        }
        if mode.flags & MODE_FLAG_PVSYNC != 0 {
            f |= TRANS_DDI_PVSYNC;
        }
        m.write32(trans(p, TRANS_DDI_FUNC_CTL), f);
        self.pipes[p].port = port;
        self.pipes[p].dpll = id;
        self.pipes[p].on = true;
        // 9. the pipe
        let tc = m.read32(pipe(p, TRANSCONF));
        m.write32(pipe(p, TRANSCONF), tc | TRANSCONF_ENABLE);
        if !wait_for(TRANSCONF_TIMEOUT, || m.read32(pipe(p, TRANSCONF)) & TRANSCONF_STATE != 0) {
            error!("pipe {}: TRANSCONF state did not come up in 100 ms", pipe_name(p));
            return Err(timeout("TRANSCONF (pipe state)"));
        }
        // 10. the DDI buffer
        m.write32(ddi_buf_ctl(port), DDI_BUF_CTL_ENABLE);
        if !wait_for(DDI_BUF_TIMEOUT, || m.read32(ddi_buf_ctl(port)) & DDI_BUF_IS_IDLE == 0) {
            error!("DDI {}: DDI_BUF_CTL still idle 500 us after enable", port_name(port));
            return Err(timeout("DDI_BUF_CTL (idle)"));
        }
        // 11. the plane, SURF last
        self.program_plane(p, &ms.fb, false, true);
        Ok(())
    }

    /// Waits until the pipe's frame counter moves (one vblank), at most 100 ms.
    fn wait_frame(&self, p: usize) -> bool {
        let m = &self.m;
        let f0 = m.read32(pipe(p, PIPE_FRMCOUNT));
        wait_for(FRAME_TIMEOUT, || m.read32(pipe(p, PIPE_FRMCOUNT)) != f0)
    }

    /// After an async flip the latched PLANE_CTL still says async, so the next SURF write would take effect at
    /// once: on Gen9/10 the bit is double-buffered and latched at the start of vblank, so a flip of the same
    /// surface with the bit cleared, then a vblank, turns it off (Linux's intel_crtc_async_flip_disable_wa).
    /// That flip is itself async and raises flip done within microseconds; Linux has the flip-done interrupt
    /// disabled then (it is enabled only around async commits), and so is it here: left in IIR, it would be
    /// taken for the completion of the sync flip programmed next, whose event would then come a frame early.
    fn leave_async(&mut self, p: usize) {
        let hw = self.pipes[p];
        if hw.ctl & PLANE_CTL_ASYNC_FLIP == 0 {
            return;
        }
        let m = &self.m;
        m.write32(de_pipe_imr(p), hw.imr | PIPE_PLANE1_FLIP_DONE);
        m.write32(plane(p, PLANE_CTL), hw.ctl & !PLANE_CTL_ASYNC_FLIP);
        m.write32(plane(p, PLANE_SURF), hw.surf);
        self.pipes[p].ctl = hw.ctl & !PLANE_CTL_ASYNC_FLIP;
        if !self.wait_frame(p) {
            warn!("pipe {}: no vblank within 100 ms while leaving async flips (PIPE_FRMCOUNT)", pipe_name(p));
        }
        m.write32(de_pipe_imr(p), self.pipes[p].imr);
    }

    fn do_disable(&mut self, p: usize) -> Result<()> {
        self.leave_async(p);
        let hw = self.pipes[p];
        let m = &self.m;
        let mut result = Ok(());
        // 1. plane off, armed by the SURF write, latched at the next vblank
        m.write32(plane(p, PLANE_CTL), 0);
        m.write32(plane(p, PLANE_SURF), 0);
        if !self.wait_frame(p) {
            warn!("pipe {}: no vblank within 100 ms after the plane was turned off (PIPE_FRMCOUNT)", pipe_name(p));
        }
        // 2. the pipe, waiting for its state bit to clear
        let tc = m.read32(pipe(p, TRANSCONF));
        m.write32(pipe(p, TRANSCONF), tc & !TRANSCONF_ENABLE);
        if !wait_for(TRANSCONF_TIMEOUT, || m.read32(pipe(p, TRANSCONF)) & TRANSCONF_STATE == 0) {
            error!("pipe {}: TRANSCONF state still set 100 ms after disable", pipe_name(p));
            result = Err(timeout("TRANSCONF (pipe state)"));
        }
        // 3. DDI function off
        m.write32(trans(p, TRANS_DDI_FUNC_CTL), 0);
        // 4. DDI buffer off, waiting for idle
        let port = hw.port;
        if port != 0 {
            let b = m.read32(ddi_buf_ctl(port));
            m.write32(ddi_buf_ctl(port), b & !DDI_BUF_CTL_ENABLE);
            if !wait_for(DDI_BUF_TIMEOUT, || m.read32(ddi_buf_ctl(port)) & DDI_BUF_IS_IDLE != 0) {
                warn!("DDI {}: DDI_BUF_CTL not idle 500 us after disable", port_name(port));
            }
            // The transcoder and port clocks off.
            m.write32(trans_clk_sel(p), 0);
            let c2 = m.read32(DPLL_CTRL2);
            m.write32(DPLL_CTRL2, c2 | dpll_ctrl2_ddi_clk_off(port));
        }
        // 5. PLL off (DPLL0 belongs to CDCLK and is never turned off)
        if hw.dpll >= 1 && hw.dpll <= 3 {
            let en = dpll_enable_reg(hw.dpll);
            m.write32(en, m.read32(en) & !DPLL_ENABLE);
        }
        // The pipe's display buffer and watermarks are released.
        m.write32(plane_wm(p, 0), 0);
        m.write32(plane_buf_cfg(p), 0);
        let imr = self.pipes[p].imr;
        self.pipes[p] = PipeHw { imr, ..PipeHw::default() };
        result
    }
}

fn stolen_mib(ggc: u32) -> u32 {
    let gms = (ggc >> 8) & 0xff;
    if gms < 0xf0 { gms * 32 } else { (gms - 0xf0 + 1) * 4 }
}

impl KmsDriver for Intel {
    fn info(&self) -> DriverInfo {
        DriverInfo { name: "i915", desc: "Intel Graphics", date: "20201103", major: 1, minor: 6, patch: 0 }
    }

    fn crtc_count(&self) -> usize {
        PIPES
    }

    fn connectors(&self) -> Vec<ConnectorDesc> {
        self.ports.iter().enumerate().map(|(i, &port)| ConnectorDesc {
            type_: CONNECTOR_HDMIA,
            type_id: i as u32 + 1,
            possible_crtcs: (1 << PIPES) - 1,
            name: format!("HDMI-A-{} (DDI {})", i + 1, port_name(port)),
        }).collect()
    }

    fn limits(&self) -> (u32, u32, u32, u32) {
        (0, 8192, 0, 8192)
    }

    fn probe(&mut self, c: usize) -> Probe {
        let port = self.ports[c];
        let live = self.m.read32(SDEISR) & sde_hotplug(port) != 0;
        if !live {
            return Probe { connected: false, edid: None };
        }
        let edid = match gmbus::read_edid(&self.m, port) {
            Ok(b) => Some(b),
            Err(e) => {
                warn!("DDI {}: monitor present (SDEISR) but its EDID cannot be read: {}", port_name(port), e);
                None
            }
        };
        Probe { connected: true, edid }
    }

    fn gpu_map(&mut self, phys: u64, size: usize) -> Result<u32> {
        let g = self.ggtt.map(&self.m, phys, size)?;
        debug!("GGTT: {:#x} bytes of RAM at {:#x} mapped at {:#x}", size, phys, g);
        Ok(g)
    }

    fn gpu_unmap(&mut self, gpu: u32, size: usize) {
        self.ggtt.unmap(&self.m, gpu, size);
    }

    fn check_mode(&self, _crtc: usize, mode: &ModeInfo) -> Result<()> {
        if mode.flags & MODE_FLAG_INTERLACE != 0 || mode.hdisplay > MAX_MODE_SIDE || mode.vdisplay > MAX_MODE_SIDE
            || mode.clock > MAX_HDMI_CLOCK_KHZ || mode.clock < 25_000 {
            return Err(Error::new(EINVAL));
        }
        if dpll::calculate(mode.clock).is_none() {
            debug!("no WRPLL setting for {} kHz", mode.clock);
            return Err(Error::new(EINVAL));
        }
        Ok(())
    }

    fn enable(&mut self, p: usize, ms: &Modeset) -> Result<()> {
        if self.pipes[p].on {
            // An adopted pipe with the same timings is only re-pointed (the core asks for a flip then); here it is re-set.
            self.do_disable(p)?;
        }
        let port = self.ports[ms.connector];
        if let Some(q) = (0..PIPES).find(|&q| q != p && self.pipes[q].on && self.pipes[q].port == port) {
            error!("DDI {} already drives pipe {}", port_name(port), pipe_name(q));
            return Err(Error::new(EINVAL));
        }
        info!("pipe {}: modeset {}x{} {} kHz on DDI {} (DPLL{})", pipe_name(p), ms.mode.hdisplay, ms.mode.vdisplay, ms.mode.clock, port_name(port), p + 1);
        self.do_enable(p, ms)
    }

    fn disable(&mut self, p: usize) -> Result<()> {
        if !self.pipes[p].on {
            return Ok(());
        }
        info!("pipe {}: disable", pipe_name(p));
        self.do_disable(p)
    }

    fn flip(&mut self, p: usize, fb: &Scanout, async_: bool) -> Result<()> {
        if !self.pipes[p].on {
            return Err(Error::new(EINVAL));
        }
        if self.m.read32(pipe(p, TRANSCONF)) & TRANSCONF_STATE == 0 {
            error!("pipe {}: flip on a pipe whose TRANSCONF state is off", pipe_name(p));
            return Err(Error::new(EIO));
        }
        if async_ {
            // Only the surface address changes in an async flip; the rest would wait for a vblank (Linux's
            // intel_async_flip_check_hw refuses a changed stride or offset).
            let hw = &self.pipes[p];
            if fb.pitch / 64 != hw.stride || ((fb.y << 16) | fb.x) != hw.offset {
                debug!("pipe {}: async flip would change the stride or offset: refused", pipe_name(p));
                return Err(Error::new(EINVAL));
            }
        } else {
            self.leave_async(p);
        }
        self.flips += 1;
        if self.flips == self.fault_flip_unmapped {
            // The planted bug: the buffer's GGTT range ends just below this address.
            let bad = Scanout { gpu: self.ggtt.unmapped_address(), ..*fb };
            warn!("fault: flip {} on pipe {} scans out GGTT {:#x}, which has no page", self.flips, pipe_name(p), bad.gpu);
            self.program_plane(p, &bad, async_, false);
            return Ok(());
        }
        self.program_plane(p, fb, async_, false);
        Ok(())
    }

    fn flip_latched(&self, p: usize, fb: &Scanout) -> bool {
        self.m.read32(plane(p, PLANE_SURFLIVE)) & !0xfff == fb.gpu & !0xfff
    }

    fn wait_flip(&mut self, p: usize, fb: &Scanout) -> bool {
        let m = &self.m;
        let want = fb.gpu & !0xfff;
        wait_for(FRAME_TIMEOUT, || m.read32(plane(p, PLANE_SURFLIVE)) & !0xfff == want)
    }

    fn frame_counter(&self, p: usize) -> u32 {
        self.m.read32(pipe(p, PIPE_FRMCOUNT))
    }

    fn set_vblank_irq(&mut self, p: usize, on: bool) {
        let imr = if on { self.pipes[p].imr & !PIPE_VBLANK } else { self.pipes[p].imr | PIPE_VBLANK };
        if imr != self.pipes[p].imr {
            self.pipes[p].imr = imr;
            self.m.write32(de_pipe_imr(p), imr);
        }
    }

    fn irq(&mut self) -> Option<IrqReport> {
        let m = &self.m;
        let master = m.read32(MASTER_IRQ);
        if master & !MASTER_IRQ_ENABLE == 0 {
            return None;
        }
        m.write32(MASTER_IRQ, 0);
        let mut r = IrqReport::default();
        for p in 0..PIPES {
            if master & master_de_pipe(p) == 0 {
                continue;
            }
            let iir = m.read32(de_pipe_iir(p));
            if iir == 0 {
                continue;
            }
            m.write32(de_pipe_iir(p), iir);
            if iir & PIPE_VBLANK != 0 {
                r.vblank |= 1 << p;
            }
            if iir & PIPE_PLANE1_FLIP_DONE != 0 {
                r.flip_done |= 1 << p;
            }
            if iir & PIPE_FIFO_UNDERRUN != 0 {
                self.underruns[p] += 1;
                if self.underruns[p] == 1 {
                    warn!("pipe {}: FIFO underrun", pipe_name(p));
                }
            }
        }
        if master & MASTER_DE_PORT != 0 {
            let iir = m.read32(DE_PORT_IIR);
            m.write32(DE_PORT_IIR, iir);
        }
        if master & MASTER_DE_MISC != 0 {
            let iir = m.read32(DE_MISC_IIR);
            m.write32(DE_MISC_IIR, iir);
        }
        if master & MASTER_DE_PCH != 0 {
            let iir = m.read32(SDEIIR);
            if iir != 0 {
                m.write32(SDEIIR, iir);
                let mut trig = 0;
                for (c, &port) in self.ports.iter().enumerate() {
                    if iir & sde_hotplug(port) != 0 {
                        trig |= 1 << c;
                    }
                }
                if trig != 0 {
                    // The detect status bits are write-1-to-clear: writing the register back clears them.
                    let hp = m.read32(PCH_PORT_HOTPLUG);
                    m.write32(PCH_PORT_HOTPLUG, hp);
                    r.hotplug |= trig;
                }
            }
        }
        m.write32(MASTER_IRQ, MASTER_IRQ_ENABLE);
        Some(r)
    }

    fn take_adopted(&mut self) -> Option<Adopted> {
        self.adopted.take()
    }
}
