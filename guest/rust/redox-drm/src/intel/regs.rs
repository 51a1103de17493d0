//! Gen9 (Skylake / Kaby Lake) display registers this driver uses, written
//! from Linux's i915 register headers (i915_reg.h, intel_display_regs.h,
//! intel_gmbus_regs.h, skl_universal_plane_regs.h, intel_dpll_mgr.c) and the
//! project's facts sheet. Offsets are in BAR0; the GGTT is at BAR0 + 8 MiB.
//! Some definitions are kept for the log and for completeness of a block.
#![allow(dead_code)]

// ---- PCI configuration
/// Graphics control: bits 7:6 GGTT size (1/2/3 = 2/4/8 MiB of entries), 15:8 stolen size.
pub const CFG_GGC: u16 = 0x50;
/// Base of stolen memory (bits 31:20).
pub const CFG_BDSM: u16 = 0x5C;
/// OpRegion address.
pub const CFG_ASLS: u16 = 0xFC;

// ---- GGTT
pub const GGTT_OFFSET: usize = 8 << 20;
pub const GGTT_PTE_PRESENT: u64 = 1;
/// GFX_FLSH_CNTL_GEN6: written 1 after PTE updates (i915's ggtt invalidate).
pub const GFX_FLSH_CNTL: usize = 0x101008;

// ---- fuses, power, clocks
pub const FUSE_STATUS: usize = 0x42000;
pub const FUSE_DOWNLOAD_STATUS: u32 = 1 << 31;
pub const fn fuse_pg_dist(pg: u32) -> u32 {
    1 << (27 - pg)
}
pub const PWR_WELL_CTL2: usize = 0x45404;
pub const fn pw_req(well: u32) -> u32 {
    1 << (2 * well + 1)
}
pub const fn pw_state(well: u32) -> u32 {
    1 << (2 * well)
}
pub const PW_MISC_IO: u32 = 0;
pub const PW_DDI_A_E: u32 = 1;
pub const PW_DDI_B: u32 = 2;
pub const PW_1: u32 = 14;
pub const PW_2: u32 = 15;
pub const DBUF_CTL: usize = 0x45008;
pub const DBUF_POWER_REQUEST: u32 = 1 << 31;
pub const DBUF_POWER_STATE: u32 = 1 << 30;
pub const CDCLK_CTL: usize = 0x46000;
pub const SFUSE_STRAP: usize = 0xC2014;
pub const SFUSE_STRAP_DDIB: u32 = 1 << 2;
pub const SFUSE_STRAP_DDIC: u32 = 1 << 1;
pub const SFUSE_STRAP_DDID: u32 = 1 << 0;

// ---- DPLLs (SKL: DPLL0 drives CDCLK/eDP; DPLL1-3 for the other ports)
pub const DPLL_CTRL1: usize = 0x6C058;
pub const fn dpll_ctrl1_override(id: u32) -> u32 {
    1 << (id * 6)
}
pub const fn dpll_ctrl1_link_rate_mask(id: u32) -> u32 {
    7 << (id * 6 + 1)
}
pub const fn dpll_ctrl1_ssc(id: u32) -> u32 {
    1 << (id * 6 + 4)
}
pub const fn dpll_ctrl1_hdmi_mode(id: u32) -> u32 {
    1 << (id * 6 + 5)
}
pub const DPLL_CTRL2: usize = 0x6C05C;
pub const fn dpll_ctrl2_ddi_clk_off(port: u32) -> u32 {
    1 << (port + 15)
}
pub const fn dpll_ctrl2_ddi_clk_sel_mask(port: u32) -> u32 {
    3 << (port * 3 + 1)
}
pub const fn dpll_ctrl2_ddi_clk_sel(id: u32, port: u32) -> u32 {
    id << (port * 3 + 1)
}
pub const fn dpll_ctrl2_ddi_sel_override(port: u32) -> u32 {
    1 << (port * 3)
}
pub const DPLL_STATUS: usize = 0x6C060;
pub const fn dpll_lock(id: u32) -> u32 {
    1 << (id * 8)
}
/// DPLL1-3 configuration (id 1..3).
pub const fn dpll_cfgcr1(id: u32) -> usize {
    0x6C040 + (id as usize - 1) * 8
}
pub const fn dpll_cfgcr2(id: u32) -> usize {
    0x6C044 + (id as usize - 1) * 8
}
pub const DPLL_CFGCR1_FREQ_ENABLE: u32 = 1 << 31;
/// The enable register of DPLL id 1..3: LCPLL2_CTL, WRPLL_CTL1, WRPLL_CTL2.
pub const fn dpll_enable_reg(id: u32) -> usize {
    match id {
        1 => 0x46014,
        2 => 0x46040,
        _ => 0x46060,
    }
}
pub const DPLL_ENABLE: u32 = 1 << 31;

// ---- transcoders and pipes (A, B, C; pipe p = transcoder p)
pub const fn trans(t: usize, off: usize) -> usize {
    0x60000 + 0x1000 * t + off
}
pub const HTOTAL: usize = 0x00;
pub const HBLANK: usize = 0x04;
pub const HSYNC: usize = 0x08;
pub const VTOTAL: usize = 0x0C;
pub const VBLANK: usize = 0x10;
pub const VSYNC: usize = 0x14;
pub const PIPESRC: usize = 0x1C;
pub const VSYNCSHIFT: usize = 0x28;
pub const TRANS_DDI_FUNC_CTL: usize = 0x400;
pub const TRANS_DDI_FUNC_ENABLE: u32 = 1 << 31;
pub const fn trans_ddi_select_port(port: u32) -> u32 {
    port << 28
}
pub const TRANS_DDI_PORT_MASK: u32 = 7 << 28;
pub const TRANS_DDI_MODE_HDMI: u32 = 0 << 24;
pub const TRANS_DDI_BPC_8: u32 = 0 << 20;
pub const TRANS_DDI_PVSYNC: u32 = 1 << 17;
pub const TRANS_DDI_PHSYNC: u32 = 1 << 16;
pub const fn trans_clk_sel(t: usize) -> usize {
    0x46140 + 4 * t
}
pub const fn trans_clk_sel_port(port: u32) -> u32 {
    (port + 1) << 29
}
pub const fn pipe(p: usize, off: usize) -> usize {
    0x70000 + 0x1000 * p + off
}
pub const PIPEDSL: usize = 0x00;
pub const TRANSCONF: usize = 0x08;
pub const TRANSCONF_ENABLE: u32 = 1 << 31;
pub const TRANSCONF_STATE: u32 = 1 << 30;
pub const PIPE_MISC: usize = 0x30;
pub const PIPE_MISC_BPC_8: u32 = 0 << 5;
pub const PIPE_FRMCOUNT: usize = 0x40;

// ---- universal plane 1 (primary) of pipe p: 0x70180 + 0x1000 p
pub const fn plane(p: usize, off: usize) -> usize {
    0x70180 + 0x1000 * p + off
}
pub const PLANE_CTL: usize = 0x00;
pub const PLANE_STRIDE: usize = 0x08;
pub const PLANE_POS: usize = 0x0C;
pub const PLANE_SIZE: usize = 0x10;
pub const PLANE_SURF: usize = 0x1C;
pub const PLANE_OFFSET: usize = 0x24;
pub const PLANE_SURFLIVE: usize = 0x2C;
/// Watermark level i: PLANE_WM_1(p) + 4 i = 0x70240 + 0x1000 p + 4 i.
pub const fn plane_wm(p: usize, level: usize) -> usize {
    0x70240 + 0x1000 * p + 4 * level
}
pub const PLANE_WM_TRANS: usize = 0x70268;
pub const fn plane_buf_cfg(p: usize) -> usize {
    0x7027C + 0x1000 * p
}
pub const PLANE_CTL_ENABLE: u32 = 1 << 31;
pub const PLANE_CTL_FORMAT_MASK: u32 = 0xf << 24;
pub const PLANE_CTL_FORMAT_XRGB_8888: u32 = 4 << 24;
pub const PLANE_CTL_TILED_MASK: u32 = 7 << 10;
pub const PLANE_CTL_ASYNC_FLIP: u32 = 1 << 9;
pub const PLANE_WM_EN: u32 = 1 << 31;
pub const PLANE_WM_LINES_SHIFT: u32 = 14;
pub const PLANE_WM_LINES_MASK: u32 = 0x1f;
pub const PLANE_WM_BLOCKS_MASK: u32 = 0x3ff;
/// SKL/KBL display buffer: 896 blocks of 512 bytes, 4 kept for the bypass path (skl_ddb_size).
pub const DDB_BLOCKS: u32 = 896 - 4;
pub const SURF_ALIGN: u32 = 256 * 1024;

// ---- DDI
pub const fn ddi_buf_ctl(port: u32) -> usize {
    0x64000 + 0x100 * port as usize
}
pub const DDI_BUF_CTL_ENABLE: u32 = 1 << 31;
pub const DDI_BUF_IS_IDLE: u32 = 1 << 7;
pub const PORT_B: u32 = 1;
pub const PORT_C: u32 = 2;
pub const PORT_D: u32 = 3;

// ---- interrupts (Gen8 style)
pub const MASTER_IRQ: usize = 0x44200;
pub const MASTER_IRQ_ENABLE: u32 = 1 << 31;
pub const fn master_de_pipe(p: usize) -> u32 {
    1 << (16 + p)
}
pub const MASTER_DE_PORT: u32 = 1 << 20;
pub const MASTER_DE_MISC: u32 = 1 << 22;
pub const MASTER_DE_PCH: u32 = 1 << 23;
pub const fn de_pipe_isr(p: usize) -> usize {
    0x44400 + 0x10 * p
}
pub const fn de_pipe_imr(p: usize) -> usize {
    0x44404 + 0x10 * p
}
pub const fn de_pipe_iir(p: usize) -> usize {
    0x44408 + 0x10 * p
}
pub const fn de_pipe_ier(p: usize) -> usize {
    0x4440C + 0x10 * p
}
pub const PIPE_VBLANK: u32 = 1 << 0;
pub const PIPE_PLANE1_FLIP_DONE: u32 = 1 << 3;
pub const PIPE_FIFO_UNDERRUN: u32 = 1 << 31;
pub const DE_PORT_IIR: usize = 0x44448;
pub const DE_MISC_IIR: usize = 0x44468;
pub const SDEISR: usize = 0xC4000;
pub const SDEIMR: usize = 0xC4004;
pub const SDEIIR: usize = 0xC4008;
pub const SDEIER: usize = 0xC400C;
/// SPT/KBP live hot-plug state of DDI B, C, D in SDEISR (SDE_PORTx_HOTPLUG_CPT).
pub const fn sde_hotplug(port: u32) -> u32 {
    match port {
        PORT_B => 1 << 21,
        PORT_C => 1 << 22,
        _ => 1 << 23,
    }
}
pub const PCH_PORT_HOTPLUG: usize = 0xC4030;
/// PORTx_HOTPLUG_ENABLE of DDI B, C, D.
pub const fn port_hotplug_enable(port: u32) -> u32 {
    1 << (4 + 8 * (port - 1))
}
/// The short/long detect status bits of DDI B, C, D (write 1 to clear).
pub const fn port_hotplug_status_mask(port: u32) -> u32 {
    3 << (8 * (port - 1))
}

// ---- GMBUS (south display, base 0xC5100)
pub const GMBUS0: usize = 0xC5100;
pub const GMBUS1: usize = 0xC5104;
pub const GMBUS2: usize = 0xC5108;
pub const GMBUS3: usize = 0xC510C;
pub const GMBUS4: usize = 0xC5110;
pub const GMBUS_RATE_100KHZ: u32 = 0 << 8;
/// KBL (SPT/KBP PCH) GMBUS pin pairs of DDI B, C, D.
pub const fn gmbus_pin(port: u32) -> u32 {
    match port {
        PORT_B => 5,
        PORT_C => 4,
        _ => 6,
    }
}
pub const GMBUS_SW_CLR_INT: u32 = 1 << 31;
pub const GMBUS_SW_RDY: u32 = 1 << 30;
pub const GMBUS_CYCLE_STOP: u32 = 1 << 27;
pub const GMBUS_CYCLE_INDEX: u32 = 1 << 26;
pub const GMBUS_CYCLE_WAIT: u32 = 1 << 25;
pub const GMBUS_BYTE_COUNT_SHIFT: u32 = 16;
pub const GMBUS_SLAVE_INDEX_SHIFT: u32 = 8;
pub const GMBUS_SLAVE_READ: u32 = 1;
pub const GMBUS_INUSE: u32 = 1 << 15;
pub const GMBUS_HW_WAIT_PHASE: u32 = 1 << 14;
pub const GMBUS_HW_RDY: u32 = 1 << 11;
pub const GMBUS_SATOER: u32 = 1 << 10;
pub const GMBUS_ACTIVE: u32 = 1 << 9;
/// The DDC address of the EDID EEPROM.
pub const DDC_ADDR: u32 = 0x50;
