/**
 * Intel Gen9 / Gen9.5 (Skylake / Kaby Lake) display engine: register offsets
 * in BAR0 (GTTMMADR), bit names and reset values, from Linux's i915 headers
 * (i915_reg.h, display/intel_display_regs.h, skl_universal_plane_regs.h,
 * intel_dpll_mgr.c). The same table names registers in traces and diffs
 * (`registerName`). The driver side keeps its own copy of these numbers.
 */

// ---- PCI -------------------------------------------------------------------
export const BAR0_SIZE = 16 << 20;
/** Registers live in the low 2 MiB of BAR0. */
export const MMIO_SIZE = 2 << 20;
/** The GGTT's PTEs start at BAR0 + 8 MiB. */
export const GGTT_OFFSET = 8 << 20;
export const BAR4_SIZE = 64;
/** Config: GMCH Graphics Control (7:6 GGTT size, 15:8 stolen size), Base of Data Stolen Memory, OpRegion address. */
export const CFG_GGC = 0x50;
export const CFG_BDSM = 0x5c;
export const CFG_ASLS = 0xfc;
/** GGC.GGMS field values 1..3 -> 2, 4, 8 MiB of PTEs. */
export const GGC_GGMS_SHIFT = 6;
export const GGC_GMS_SHIFT = 8;
export const GGC_LOCK = 1 << 0;
export const BDSM_LOCK = 1 << 0;

export const PTE_PRESENT = 1;
/** Bits 38:12 of a PTE: 27 bits of page number (7 in the high dword). */
export const PTE_ADDR_HI_MASK = 0x7f;
export const PAGE = 4096;

// ---- Interrupts (Gen8 style) ---------------------------------------------------
export const MASTER_IRQ = 0x44200;
export const MASTER_IRQ_ENABLE = 0x80000000;
export const MASTER_DE_PIPE = (p: number): number => 1 << (16 + p);
export const MASTER_DE_PORT = 1 << 20;
export const MASTER_DE_MISC = 1 << 22;
export const MASTER_DE_PCH = 1 << 23;
/** Per-pipe ISR/IMR/IIR/IER at 0x44400 + 0x10 * pipe. */
export const DE_PIPE_BASE = 0x44400;
export const DE_PORT_BASE = 0x44440;
export const DE_MISC_BASE = 0x44460;
export const SDE_BASE = 0xc4000;
export const ISR = 0, IMR = 4, IIR = 8, IER = 0xc;
export const PIPE_VBLANK = 1 << 0;
export const PIPE_VSYNC = 1 << 1;
export const PIPE_SCANLINE = 1 << 2;
/** Plane n (1..3) flip done: bit 2 + n. */
export const PIPE_FLIP_DONE = (n: number): number => 1 << (2 + n);
export const PIPE_FIFO_UNDERRUN = 0x80000000;
/** DE port: AUX channel A done, and (Gen9) AUX B/C/D done. */
export const DE_PORT_AUX_A = 1 << 0;
export const DE_PORT_AUX = (port: number): number => (port === 0 ? 1 : 1 << (24 + port));
/** South display (SPT/KBP PCH, CPT-style bits). */
export const SDE_GMBUS = 1 << 17;
/** Hotplug of DDI port B (1), C (2), D (3): bits 21, 22, 23. */
export const SDE_HOTPLUG = (port: number): number => 1 << (20 + port);
/** PCH_PORT_HOTPLUG (SHOTPLUG_CTL): per port B/C/D at shift 0/8/16: 4 enable, 1 long detect, 0 short detect (W1C). */
export const PCH_PORT_HOTPLUG = 0xc4030;
export const HOTPLUG_SHIFT = (port: number): number => (port - 1) * 8;
export const HOTPLUG_ENABLE = 1 << 4;
export const HOTPLUG_LONG = 1 << 1;
export const HOTPLUG_SHORT = 1 << 0;
/** The W1C status bits of PCH_PORT_HOTPLUG. */
export const HOTPLUG_STATUS_MASK = 0x00030303;

// ---- Power, fuses, clocks ------------------------------------------------------
export const FUSE_STATUS = 0x42000;
export const FUSE_DOWNLOAD_DONE = 1 << 31;
export const FUSE_PG0 = 1 << 27;
export const FUSE_PG1 = 1 << 26;
export const FUSE_PG2 = 1 << 25;
export const PWR_WELL_CTL1 = 0x45400;
export const PWR_WELL_CTL2 = 0x45404;
export const PWR_WELL_CTL3 = 0x45408;
export const PWR_WELL_CTL4 = 0x4540c;
/** Power wells by index: request bit 2i+1, state bit 2i. */
export const WELL_MISC_IO = 0, WELL_DDI_AE = 1, WELL_DDI_B = 2, WELL_DDI_C = 3, WELL_DDI_D = 4, WELL_PW1 = 14, WELL_PW2 = 15;
export const WELL_REQ = (i: number): number => (1 << (2 * i + 1)) >>> 0;
export const WELL_STATE = (i: number): number => (1 << (2 * i)) >>> 0;
/** Wells that exist on SKL/KBL. */
export const WELLS = [WELL_MISC_IO, WELL_DDI_AE, WELL_DDI_B, WELL_DDI_C, WELL_DDI_D, WELL_PW1, WELL_PW2] as const;
export const WELL_REQ_MASK: number = WELLS.reduce<number>((m, i) => (m | WELL_REQ(i)) >>> 0, 0);
export const DBUF_CTL = 0x45008;
export const DBUF_REQ = 1 << 31;
export const DBUF_STATE = 1 << 30;
export const CDCLK_CTL = 0x46000;
export const LCPLL1_CTL = 0x46010;
export const LCPLL2_CTL = 0x46014;
export const WRPLL_CTL1 = 0x46040;
export const WRPLL_CTL2 = 0x46060;
export const PLL_ENABLE = 1 << 31;
/** LCPLL1_CTL bit 30 mirrors DPLL 0's lock. */
export const LCPLL1_LOCK = 1 << 30;
/** Enable register of DPLL id 0..3. */
export const PLL_CTL_REGS = [LCPLL1_CTL, LCPLL2_CTL, WRPLL_CTL1, WRPLL_CTL2] as const;
export const DPLL_CTRL1 = 0x6c058;
export const DPLL_CTRL1_OVERRIDE = (id: number): number => 1 << (id * 6);
export const DPLL_CTRL1_LINK_RATE_SHIFT = (id: number): number => id * 6 + 1;
export const DPLL_CTRL1_SSC = (id: number): number => 1 << (id * 6 + 4);
export const DPLL_CTRL1_HDMI_MODE = (id: number): number => 1 << (id * 6 + 5);
/** DP link rate field -> port clock in kHz (Linux skl_ddi_lcpll_get_freq: link clock x 2). */
export const LINK_RATE_KHZ = [540000, 270000, 162000, 324000, 216000, 432000] as const;
export const DPLL_CTRL2 = 0x6c05c;
export const DPLL_CTRL2_CLK_OFF = (port: number): number => 1 << (port + 15);
export const DPLL_CTRL2_CLK_SEL_SHIFT = (port: number): number => port * 3 + 1;
export const DPLL_CTRL2_SEL_OVERRIDE = (port: number): number => 1 << (port * 3);
export const DPLL_STATUS = 0x6c060;
export const DPLL_LOCK = (id: number): number => 1 << (id * 8);
/** DPLL_CFGCR1/2 of DPLL 1..3 at 0x6C040/0x6C044 + 8 * (id - 1). */
export const DPLL_CFGCR1 = (id: number): number => 0x6c040 + 8 * (id - 1);
export const DPLL_CFGCR2 = (id: number): number => 0x6c044 + 8 * (id - 1);
export const CFGCR1_FREQ_ENABLE = 1 << 31;
/** Reference clock of the SKL WRPLLs, kHz. */
export const WRPLL_REF_KHZ = 24000;
export const SFUSE_STRAP = 0xc2014;
/** SFUSE_STRAP port present bits: D bit 0, C bit 1, B bit 2. */
export const SFUSE_PORT = (port: number): number => 1 << (3 - port);

// ---- Transcoders and pipes ------------------------------------------------------
export const PIPES = 3;
export const PLANES = 3;
/** DDI ports A..E (0..4). */
export const PORTS = 5;
export const TRANS_BASE = 0x60000;
export const TRANS_STRIDE = 0x1000;
export const HTOTAL = 0x00, HBLANK = 0x04, HSYNC = 0x08, VTOTAL = 0x0c, VBLANK = 0x10, VSYNC = 0x14, PIPESRC = 0x1c,
  VSYNCSHIFT = 0x28, MULT = 0x2c;
export const DATA_M1 = 0x30, DATA_N1 = 0x34, LINK_M1 = 0x40, LINK_N1 = 0x44;
export const TRANS_DDI_FUNC_CTL = 0x400;
export const DDI_FUNC_ENABLE = 1 << 31;
export const DDI_FUNC_PORT_SHIFT = 28;
export const DDI_FUNC_MODE_SHIFT = 24;
export const DDI_MODE_HDMI = 0, DDI_MODE_DVI = 1, DDI_MODE_DP_SST = 2, DDI_MODE_DP_MST = 3;
export const TRANS_CLK_SEL = (t: number): number => 0x46140 + 4 * t;
export const TRANS_CLK_SEL_SHIFT = 29;
export const PIPE_BASE = 0x70000;
export const PIPEDSL = 0x00, TRANSCONF = 0x08, PIPE_MISC = 0x30, PIPE_BOTTOM_COLOR = 0x34, PIPE_FRMCOUNT = 0x40, PIPE_FLIPCOUNT = 0x44;
export const TRANSCONF_ENABLE = 1 << 31;
export const TRANSCONF_STATE = 1 << 30;
export const DDI_BUF_CTL = (port: number): number => 0x64000 + 0x100 * port;
export const DDI_BUF_ENABLE = 1 << 31;
export const DDI_BUF_IDLE = 1 << 7;
/** DP AUX block of a port: DDI_AUX_CTL 0x64010 + 0x100 * port, data 0x64014..0x64024. */
export const AUX_BASE = (port: number): number => 0x64010 + 0x100 * port;
export const AUX_SIZE = 0x18;
/** GMBUS0..5 at 0xC5100..0xC5124. */
export const GMBUS_BASE = 0xc5100;
export const GMBUS_SIZE = 0x28;

// ---- Universal planes -------------------------------------------------------------
export const PLANE_BASE = 0x70180;
export const PLANE_CTL = 0x00, PLANE_STRIDE = 0x08, PLANE_POS = 0x0c, PLANE_SIZE = 0x10, PLANE_KEYVAL = 0x14,
  PLANE_KEYMSK = 0x18, PLANE_SURF = 0x1c, PLANE_KEYMAX = 0x20, PLANE_OFFSET = 0x24, PLANE_SURFLIVE = 0x2c,
  PLANE_AUX_DIST = 0x40, PLANE_AUX_OFFSET = 0x44, PLANE_COLOR_CTL = 0x4c;
/** Watermarks PLANE_WM 0..7 at +0xC0 from the plane block (0x70240), PLANE_WM_TRANS +0xE8, PLANE_BUF_CFG +0xFC. */
export const PLANE_WM = 0xc0, PLANE_WM_TRANS = 0xe8, PLANE_NV12_BUF_CFG = 0xf8, PLANE_BUF_CFG = 0xfc;
export const PLANE_CTL_ENABLE = 1 << 31;
export const PLANE_CTL_FORMAT_SHIFT = 24;
export const PLANE_FORMAT_XRGB8888 = 4, PLANE_FORMAT_XRGB2101010 = 2, PLANE_FORMAT_RGB565 = 14;
export const PLANE_CTL_ORDER_RGBX = 1 << 20;
export const PLANE_CTL_TILED_SHIFT = 10;
export const PLANE_CTL_ASYNC_FLIP = 1 << 9;
export const SURF_ADDR_MASK = 0xfffff000;

export const planeBase = (pipe: number, plane: number): number => PLANE_BASE + 0x1000 * pipe + 0x100 * (plane - 1);
export const pipeReg = (pipe: number, reg: number): number => PIPE_BASE + 0x1000 * pipe + reg;
export const transReg = (t: number, reg: number): number => TRANS_BASE + TRANS_STRIDE * t + reg;

/** DRM fourcc of the frames handed to the tracer: 'XR24' (XRGB8888, little-endian B G R X bytes). */
export const FOURCC_XR24 = 0x34325258;

export const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;
export const pipeName = (p: number): string => String.fromCharCode(65 + p);
export const portName = (p: number): string => String.fromCharCode(65 + p);

// ---- Names ---------------------------------------------------------------------------
const NAMES = new Map<number, string>();
function name(off: number, n: string): void { NAMES.set(off, n); }

name(MASTER_IRQ, 'GEN8_MASTER_IRQ');
for (let p = 0; p < PIPES; p++) {
  const P = pipeName(p);
  for (const [o, n] of [[ISR, 'ISR'], [IMR, 'IMR'], [IIR, 'IIR'], [IER, 'IER']] as const) name(DE_PIPE_BASE + 0x10 * p + o, `GEN8_DE_PIPE_${n}_${P}`);
  for (const [o, n] of [[HTOTAL, 'HTOTAL'], [HBLANK, 'HBLANK'], [HSYNC, 'HSYNC'], [VTOTAL, 'VTOTAL'], [VBLANK, 'VBLANK'],
    [VSYNC, 'VSYNC'], [PIPESRC, 'PIPESRC'], [VSYNCSHIFT, 'VSYNCSHIFT'], [MULT, 'MULT'], [DATA_M1, 'DATA_M1'], [DATA_N1, 'DATA_N1'],
    [LINK_M1, 'LINK_M1'], [LINK_N1, 'LINK_N1'], [TRANS_DDI_FUNC_CTL, 'TRANS_DDI_FUNC_CTL']] as const) name(transReg(p, o), `${n}_${P}`);
  name(TRANS_CLK_SEL(p), `TRANS_CLK_SEL_${P}`);
  for (const [o, n] of [[PIPEDSL, 'PIPEDSL'], [TRANSCONF, 'TRANSCONF'], [PIPE_MISC, 'PIPE_MISC'], [PIPE_BOTTOM_COLOR, 'PIPE_BOTTOM_COLOR'],
    [PIPE_FRMCOUNT, 'PIPE_FRMCOUNT'], [PIPE_FLIPCOUNT, 'PIPE_FLIPCOUNT']] as const) name(pipeReg(p, o), `${n}_${P}`);
  for (let n = 1; n <= PLANES; n++) {
    const b = planeBase(p, n);
    const s = `${n}_${P}`;
    for (const [o, r] of [[PLANE_CTL, 'PLANE_CTL'], [PLANE_STRIDE, 'PLANE_STRIDE'], [PLANE_POS, 'PLANE_POS'], [PLANE_SIZE, 'PLANE_SIZE'],
      [PLANE_KEYVAL, 'PLANE_KEYVAL'], [PLANE_KEYMSK, 'PLANE_KEYMSK'], [PLANE_SURF, 'PLANE_SURF'], [PLANE_KEYMAX, 'PLANE_KEYMAX'],
      [PLANE_OFFSET, 'PLANE_OFFSET'], [PLANE_SURFLIVE, 'PLANE_SURFLIVE'], [PLANE_AUX_DIST, 'PLANE_AUX_DIST'],
      [PLANE_AUX_OFFSET, 'PLANE_AUX_OFFSET'], [PLANE_COLOR_CTL, 'PLANE_COLOR_CTL'], [PLANE_WM_TRANS, 'PLANE_WM_TRANS'],
      [PLANE_NV12_BUF_CFG, 'PLANE_NV12_BUF_CFG'], [PLANE_BUF_CFG, 'PLANE_BUF_CFG']] as const) name(b + o, `${r}_${s}`);
    for (let l = 0; l < 8; l++) name(b + PLANE_WM + 4 * l, `PLANE_WM_${s}_${l}`);
  }
}
for (let port = 0; port < PORTS; port++) {
  const P = portName(port);
  name(DDI_BUF_CTL(port), `DDI_BUF_CTL_${P}`);
  name(AUX_BASE(port), `DDI_AUX_CTL_${P}`);
  for (let i = 0; i < 5; i++) name(AUX_BASE(port) + 4 + 4 * i, `DDI_AUX_DATA_${P}_${i}`);
}
for (const [o, n] of [[ISR, 'ISR'], [IMR, 'IMR'], [IIR, 'IIR'], [IER, 'IER']] as const) {
  name(DE_PORT_BASE + o, `GEN8_DE_PORT_${n}`);
  name(DE_MISC_BASE + o, `GEN8_DE_MISC_${n}`);
  name(SDE_BASE + o, `SDE${n}`);
}
name(PCH_PORT_HOTPLUG, 'PCH_PORT_HOTPLUG');
name(FUSE_STATUS, 'FUSE_STATUS');
name(PWR_WELL_CTL1, 'PWR_WELL_CTL1');
name(PWR_WELL_CTL2, 'PWR_WELL_CTL2');
name(PWR_WELL_CTL3, 'PWR_WELL_CTL3');
name(PWR_WELL_CTL4, 'PWR_WELL_CTL4');
name(DBUF_CTL, 'DBUF_CTL');
name(CDCLK_CTL, 'CDCLK_CTL');
name(LCPLL1_CTL, 'LCPLL1_CTL');
name(LCPLL2_CTL, 'LCPLL2_CTL');
name(WRPLL_CTL1, 'WRPLL_CTL1');
name(WRPLL_CTL2, 'WRPLL_CTL2');
name(DPLL_CTRL1, 'DPLL_CTRL1');
name(DPLL_CTRL2, 'DPLL_CTRL2');
name(DPLL_STATUS, 'DPLL_STATUS');
for (let id = 1; id <= 3; id++) {
  name(DPLL_CFGCR1(id), `DPLL${id}_CFGCR1`);
  name(DPLL_CFGCR2(id), `DPLL${id}_CFGCR2`);
}
name(SFUSE_STRAP, 'SFUSE_STRAP');
for (const [i, n] of ['GMBUS0', 'GMBUS1', 'GMBUS2', 'GMBUS3', 'GMBUS4'].entries()) name(GMBUS_BASE + 4 * i, n);
name(GMBUS_BASE + 0x20, 'GMBUS5');
name(0x101008, 'GFX_FLSH_CNTL');

/**
 * Spec name of the BAR0 register at `offset`, or undefined. Every GGTT entry
 * is "GGTT_PTE" (low dword) / "GGTT_PTE.hi": one name, so diff can treat
 * them all as address registers; the field breakdown names the entry.
 */
export function registerName(offset: number): string | undefined {
  if (offset >= GGTT_OFFSET && offset < BAR0_SIZE) return (offset & 4) === 0 ? 'GGTT_PTE' : 'GGTT_PTE.hi';
  return NAMES.get(offset & ~3);
}

/** Every named register offset (for tests and the decoder). */
export function namedRegisters(): ReadonlyMap<number, string> {
  return NAMES;
}
