/**
 * Display clock arithmetic (pure functions): the frequency a Skylake DPLL
 * produces from its registers, as Linux computes it when it reads the
 * hardware state back (intel_dpll_mgr.c skl_ddi_wrpll_get_freq and
 * skl_ddi_lcpll_get_freq, intel_display.c intel_dotclock_calculate), and the
 * reverse (WRPLL dividers for a pixel clock) for the firmware-handoff setup.
 *
 * What is modelled: a transcoder's pixel clock is the clock of the PLL its
 * port is clocked from (TRANS_CLK_SEL -> port -> DPLL_CTRL2 -> DPLL id).
 * HDMI mode (DPLL_CTRL1 HDMI bit, DPLL 1..3): DCO = ref x (integer +
 * fraction / 2^15) from CFGCR1, divided by pdiv x qdiv x kdiv x 5 from
 * CFGCR2 (the AFE clock is 5x the pixel clock). DP mode: the link rate field
 * gives the port clock; the pixel clock is port clock x LINK_M1 / LINK_N1 of
 * the transcoder.
 */
import { LINK_RATE_KHZ, WRPLL_REF_KHZ } from './regs.js';

const PDIV = [1, 2, 3, 0, 7, 0, 0, 0] as const;
const KDIV = [5, 2, 3, 1] as const;

/** Pixel clock in kHz of a WRPLL in HDMI mode, or 0 if the dividers are invalid. */
export function wrpllFreqKHz(cfgcr1: number, cfgcr2: number): number {
  const integer = cfgcr1 & 0x1ff;
  const fraction = (cfgcr1 >>> 9) & 0x7fff;
  const dco = integer * WRPLL_REF_KHZ + Math.floor((fraction * WRPLL_REF_KHZ) / 0x8000);
  const p0 = PDIV[(cfgcr2 >>> 2) & 7]!;
  const qmode = (cfgcr2 >>> 7) & 1;
  const p1 = qmode !== 0 ? (cfgcr2 >>> 8) & 0xff : 1;
  const p2 = KDIV[(cfgcr2 >>> 5) & 3]!;
  const div = p0 * p1 * p2 * 5;
  return div === 0 ? 0 : Math.floor(dco / div);
}

/** Port clock in kHz for a DPLL_CTRL1 link-rate field value, or 0 for a reserved value. */
export function linkRateKHz(field: number): number {
  return LINK_RATE_KHZ[field] ?? 0;
}

/** DP pixel clock from the port clock and the transcoder's link M/N (0 when N is 0). */
export function dpDotClockKHz(portKHz: number, linkM: number, linkN: number): number {
  if (linkN === 0) return 0;
  return Math.ceil((linkM * portKHz) / linkN);
}

/** Frame period in ps for a pixel clock in kHz and a total raster size. */
export function framePeriodPs(clockKHz: number, htotal: number, vtotal: number): number {
  return Math.round((htotal * vtotal) * (1e9 / clockKHz));
}

/**
 * CFGCR1/CFGCR2 values for a WRPLL in HDMI mode producing `clockKHz`: the
 * AFE clock (5x) times a divider must land within -6%/+1% of a DCO central
 * frequency (8400, 9000 or 9600 MHz); the divider is split into pdiv, qdiv
 * and kdiv. Returns null when no divider fits.
 */
export function wrpllDividers(clockKHz: number): { cfgcr1: number; cfgcr2: number } | null {
  const afe = clockKHz * 5;
  const centrals = [8400000, 9000000, 9600000];
  const centralCode = [3, 1, 0];
  let best: { p0: number; p1: number; p2: number; c: number; dev: number } | null = null;
  for (let p = 1; p <= 256 * 35; p++) {
    const dco = afe * p;
    if (dco > 9600000 * 1.01) break;
    for (let c = 0; c < centrals.length; c++) {
      const central = centrals[c]!;
      const dev = (dco - central) / central;
      if (dev > 0.01 || dev < -0.06) continue;
      const split = splitDivider(p);
      if (split === null) continue;
      const d = Math.abs(dev);
      if (best === null || d < best.dev) best = { ...split, c, dev: d };
    }
  }
  if (best === null) return null;
  const dcoKHz = afe * best.p0 * best.p1 * best.p2;
  const integer = Math.floor(dcoKHz / WRPLL_REF_KHZ);
  const fraction = Math.round(((dcoKHz - integer * WRPLL_REF_KHZ) * 0x8000) / WRPLL_REF_KHZ) & 0x7fff;
  const pdiv = PDIV.indexOf(best.p0 as 1 | 2 | 3 | 7);
  const kdiv = KDIV.indexOf(best.p2 as 5 | 2 | 3 | 1);
  return {
    cfgcr1: ((1 << 31) | (fraction << 9) | integer) >>> 0,
    cfgcr2: ((best.p1 << 8) | ((best.p1 !== 1 ? 1 : 0) << 7) | (kdiv << 5) | (pdiv << 2) | centralCode[best.c]!) >>> 0,
  };
}

function splitDivider(p: number): { p0: number; p1: number; p2: number } | null {
  for (const p0 of [2, 3, 7, 1]) {
    for (const p2 of [2, 3, 5, 1]) {
      if (p % (p0 * p2) !== 0) continue;
      const p1 = p / (p0 * p2);
      if (p1 >= 1 && p1 <= 255) return { p0, p1, p2 };
    }
  }
  return null;
}
