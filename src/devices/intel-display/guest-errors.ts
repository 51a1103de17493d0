/**
 * The guest errors the intel-display model core records: code -> meaning and
 * where the rule is written (Intel's Skylake/Kaby Lake display PRM volume 12
 * "Display Engine" sequences as Linux i915 follows them). GMBUS and DP AUX
 * have catalogues of their own (gmbus.ts, aux.ts); DMA refusals are the DMA
 * port's `dma.*` codes.
 */
import type { GuestErrorCatalogue } from '../device.js';

export const DISPLAY_GUEST_ERRORS = {
  'display.mmio.width': {
    meaning: 'A register access that is not an aligned dword (display registers are 32-bit): a read returns the addressed bytes, a write merges into the dword',
    spec: 'SKL PRM vol 2c (registers are dword accessed); i915 intel_uncore.c',
  },
  'display.reg.read-only': {
    meaning: 'A write to a read-only register (PIPEDSL, PIPE_FRMCOUNT, PLANE_SURFLIVE, DPLL_STATUS, FUSE_STATUS, SFUSE_STRAP, an ISR); ignored',
    spec: 'SKL PRM vol 2c',
  },
  'display.io.index': {
    meaning: 'BAR4 MMIO_DATA accessed while MMIO_INDEX points outside the register range or is not dword aligned; reads 0, writes dropped',
    spec: 'SKL PRM vol 2c "MMIO_INDEX/MMIO_DATA"',
  },
  'display.ggtt.outside-ram': {
    meaning: 'A present GGTT entry names a page that is not RAM: scanout and aperture accesses through it read all-ones and drop writes',
    spec: 'i915 gt/intel_ggtt.c (gen8_ggtt_pte_encode: PTEs point at system memory pages)',
  },
  'display.aperture.unmapped': {
    meaning: 'A CPU access through the BAR2 aperture hit a GGTT page whose entry is not present: a read returns all-ones, a write is dropped (i915 points every unused entry at a scratch page for this reason)',
    spec: 'i915 gt/intel_ggtt.c (scratch page for unused GGTT entries)',
  },
  'display.power.pipe-no-well': {
    meaning: 'TRANSCONF enabled while a power well the pipe needs (PW1; PW2 for pipes B/C and DDIs B-E; the DDI IO well of its port) is not powered: the pipe does not start (state bit stays 0)',
    spec: 'SKL PRM vol 12 "Sequences to Initialize Display", "Display Power Wells"; i915 skl_power_wells',
  },
  'display.pll.pipe-unlocked': {
    meaning: 'TRANSCONF enabled while its port has no locked PLL (TRANS_CLK_SEL none, DDI clock off in DPLL_CTRL2, PLL disabled or not locked): the pipe does not start',
    spec: 'SKL PRM vol 12 "Mode Set" (enable and lock the DPLL, select it for the port before enabling the transcoder)',
  },
  'display.pipe.no-ddi-function': {
    meaning: 'TRANSCONF enabled while TRANS_DDI_FUNC_CTL of the transcoder is disabled: the pipe runs but drives no port',
    spec: 'SKL PRM vol 12 "Mode Set" step: configure TRANS_DDI_FUNC_CTL before enabling TRANSCONF',
  },
  'display.pipe.bad-timing': {
    meaning: 'TRANSCONF enabled with transcoder timings that cannot run (active larger than total, zero pixel clock, PIPESRC larger than the active area): the pipe does not start',
    spec: 'SKL PRM vol 2c HTOTAL/VTOTAL/PIPESRC',
  },
  'display.plane.pipe-off': {
    meaning: 'A plane was enabled (PLANE_CTL enable armed by a PLANE_SURF write) on a pipe whose transcoder is not running: nothing is shown',
    spec: 'SKL PRM vol 12 "Mode Set" (planes are enabled after the pipe); i915 skl_plane_update_arm',
  },
  'display.plane.surf-unaligned': {
    meaning: 'PLANE_SURF written with bits 11:0 set: the surface base is a 4 KiB aligned GGTT address; the low bits are ignored',
    spec: 'SKL PRM vol 2c PLANE_SURF (31:12 Surface Base Address)',
  },
  'display.plane.surf-unmapped': {
    meaning: 'An enabled plane scans out GGTT pages whose entries are not present (or name no RAM): the pipe reports a FIFO underrun (IIR bit 31) and the pixels read as black',
    spec: 'SKL PRM vol 2c PLANE_SURF (a GGTT address); i915 intel_fifo_underrun.c',
  },
  'display.plane.stride': {
    meaning: 'An enabled linear plane whose PLANE_STRIDE (64-byte units) is smaller than its width times 4 bytes: rows overlap',
    spec: 'SKL PRM vol 2c PLANE_STRIDE; i915 skl_plane_max_stride / intel_fb stride checks',
  },
  'display.plane.async-changes': {
    meaning: 'PLANE_SURF written while the plane is in async flip mode (latched PLANE_CTL bit 9) with other plane registers changed (PLANE_CTL apart from bit 9, stride, size, position, offset): the surface changes at once, the other registers only at the next vblank start, so the new surface is scanned with the old settings until then (a plane disabled this way scans PLANE_SURF = 0 while still enabled)',
    spec: 'SKL PRM vol 2c PLANE_CTL "Async Address Update Enable" (double-buffered, latched at the start of vblank on Gen9/10); i915 intel_async_flip_check_hw (only the surface may change in an async flip) and intel_crtc_async_flip_disable_wa',
  },
  'display.order.transconf-plane-on': {
    meaning: 'TRANSCONF disabled while a plane of the pipe is still enabled: planes must be disabled (and the disable armed) first',
    spec: 'SKL PRM vol 12 "Mode Set" disable sequence: disable planes, then the transcoder',
  },
  'display.order.ddi-func-while-running': {
    meaning: 'TRANS_DDI_FUNC_CTL disabled (or its port changed) while TRANSCONF is still running: the function is disabled only after the pipe state bit clears',
    spec: 'SKL PRM vol 12 "Mode Set" disable sequence: disable TRANSCONF, wait for the pipe off, then TRANS_DDI_FUNC_CTL',
  },
  'display.order.ddi-buf-while-running': {
    meaning: 'DDI_BUF_CTL disabled while a running transcoder drives the port',
    spec: 'SKL PRM vol 12 "Mode Set" disable sequence: transcoder off before the DDI buffer',
  },
  'display.order.pll-in-use': {
    meaning: 'A PLL disabled (or its DPLL_CTRL1 / CFGCR reprogrammed) while a running pipe is clocked from it: the pipe loses its clock and stops',
    spec: 'SKL PRM vol 12 "Mode Set" disable sequence: PLL off last; i915 intel_dpll_mgr.c',
  },
  'display.order.clock-sel-in-use': {
    meaning: 'TRANS_CLK_SEL or the port clock selection in DPLL_CTRL2 changed while the transcoder is running',
    spec: 'SKL PRM vol 12 "Mode Set" (clock selection only while the transcoder is off)',
  },
  'display.order.power-in-use': {
    meaning: 'A power well request cleared while a running pipe needs the well: the pipe stops',
    spec: 'SKL PRM vol 12 "Display Power Wells" (disable pipes before their power wells)',
  },
} as const satisfies GuestErrorCatalogue;

export type DisplayGuestErrorCode = keyof typeof DISPLAY_GUEST_ERRORS;
