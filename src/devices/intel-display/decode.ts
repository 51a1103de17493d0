/**
 * How the trace tools read the intel-display device: register names (BAR0
 * registers and GGTT entries; BAR2 aperture offsets; BAR4 MMIO_INDEX /
 * MMIO_DATA), field breakdowns of the registers a modeset and a flip touch,
 * address registers for diff (PLANE_SURF holds a GGTT address, a GGTT entry
 * a physical page), volatile registers (interrupt cause and status, the
 * scanline and frame counters), and timing phases: modeset (first TRANSCONF
 * enable to the first frame of that pipe) and flip latency (PLANE_SURF write
 * to the next frame of its pipe). Decoding allocates; it is never on the
 * simulation's hot path.
 */
import type { DeviceDecoder, DevicePhase, DeviceTimingPhases } from '../../trace/decoder.js';
import type { SeqEvent } from '../../trace/reader.js';
import * as R from './regs.js';

const bits = (v: number, lo: number, n: number): number => Math.floor(v / 2 ** lo) % 2 ** n;

function regName(bar: number, offset: number, _size: number): string | undefined {
  if (bar === 0) return R.registerName(offset);
  if (bar === 4) return offset < 4 ? 'MMIO_INDEX' : offset < 8 ? 'MMIO_DATA' : undefined;
  if (bar === 2) return 'APERTURE';
  return undefined;
}

const PIPE_IRQ_BITS: readonly [number, string][] = [[0, 'VBLANK'], [1, 'VSYNC'], [2, 'SCANLINE'], [3, 'FLIP_DONE_1'], [4, 'FLIP_DONE_2'],
  [5, 'FLIP_DONE_3'], [31, 'FIFO_UNDERRUN']];
const SDE_BITS: readonly [number, string][] = [[17, 'GMBUS'], [21, 'HOTPLUG_B'], [22, 'HOTPLUG_C'], [23, 'HOTPLUG_D']];
const MASTER_BITS: readonly [number, string][] = [[16, 'PIPE_A'], [17, 'PIPE_B'], [18, 'PIPE_C'], [20, 'DE_PORT'], [22, 'DE_MISC'],
  [23, 'PCH'], [31, 'ENABLE']];

function flags(v: number, names: readonly [number, string][]): string {
  const on = names.filter(([b]) => bits(v, b, 1) === 1).map(([, n]) => n);
  return on.length === 0 ? '-' : on.join('|');
}

const pair = (v: number): string => `${bits(v, 0, 16) + 1}/${bits(v, 16, 16) + 1}`;

function regFields(bar: number, offset: number, value: number, _write: boolean): string | undefined {
  if (bar !== 0) return undefined;
  const v = value >>> 0;
  const name = R.registerName(offset);
  if (name === undefined) return undefined;
  if (name === 'GGTT_PTE') {
    const i = (offset - R.GGTT_OFFSET) >>> 3;
    return `entry ${i} (GGTT ${R.hex(i * R.PAGE)}) page=${R.hex((v & 0xfffff000) >>> 0)} ${(v & 1) !== 0 ? 'P' : 'not-present'}`;
  }
  const base = name.replace(/_[1-3]_[A-C](_\d)?$/, '').replace(/_[A-E]$/, '');
  switch (base) {
    case 'GEN8_MASTER_IRQ': return flags(v, MASTER_BITS);
    case 'GEN8_DE_PIPE_ISR': case 'GEN8_DE_PIPE_IMR': case 'GEN8_DE_PIPE_IIR': case 'GEN8_DE_PIPE_IER': return flags(v, PIPE_IRQ_BITS);
    case 'SDEISR': case 'SDEIMR': case 'SDEIIR': case 'SDEIER': return flags(v, SDE_BITS);
    case 'HTOTAL': case 'HBLANK': case 'HSYNC': case 'VTOTAL': case 'VBLANK': case 'VSYNC': return `active/start=${pair(v).replace('/', ' total/end=')}`;
    case 'PIPESRC': return `${bits(v, 16, 16) + 1}x${bits(v, 0, 16) + 1}`;
    case 'TRANSCONF': return `EN=${bits(v, 31, 1)} STATE=${bits(v, 30, 1)} INTERLACE=${bits(v, 21, 2)}`;
    case 'TRANS_DDI_FUNC_CTL':
      return `EN=${bits(v, 31, 1)} DDI=${R.portName(bits(v, 28, 3))} MODE=${['HDMI', 'DVI', 'DP_SST', 'DP_MST'][bits(v, 24, 3)] ?? bits(v, 24, 3)} `
        + `BPC=${bits(v, 20, 3)} HSYNC+=${bits(v, 16, 1)} VSYNC+=${bits(v, 17, 1)} WIDTH=${bits(v, 1, 3) + 1}`;
    case 'TRANS_CLK_SEL': return bits(v, 29, 3) === 0 ? 'none' : `DDI ${R.portName(bits(v, 29, 3) - 1)}`;
    case 'PLANE_CTL':
      return `EN=${bits(v, 31, 1)} FORMAT=${bits(v, 24, 4)}${bits(v, 20, 1) === 1 ? ' RGBX' : ''} TILING=${bits(v, 10, 3)} ASYNC=${bits(v, 9, 1)} ROT=${bits(v, 0, 2)}`;
    case 'PLANE_STRIDE': return `${bits(v, 0, 10)} x 64 = ${bits(v, 0, 10) * 64} bytes`;
    case 'PLANE_POS': case 'PLANE_OFFSET': return `x=${bits(v, 0, 13)} y=${bits(v, 16, 13)}`;
    case 'PLANE_SIZE': return `${bits(v, 0, 13) + 1}x${bits(v, 16, 13) + 1}`;
    case 'PLANE_SURF': case 'PLANE_SURFLIVE': return `GGTT ${R.hex((v & R.SURF_ADDR_MASK) >>> 0)}`;
    case 'PLANE_BUF_CFG': return `start=${bits(v, 0, 11)} end=${bits(v, 16, 11)}`;
    case 'DDI_BUF_CTL': return `EN=${bits(v, 31, 1)} IDLE=${bits(v, 7, 1)} WIDTH=${bits(v, 1, 3) + 1}`;
    case 'PWR_WELL_CTL1': case 'PWR_WELL_CTL2': {
      const wells: [number, string][] = [[0, 'MISC_IO'], [1, 'DDI_A_E'], [2, 'DDI_B'], [3, 'DDI_C'], [4, 'DDI_D'], [14, 'PW1'], [15, 'PW2']];
      return wells.map(([i, n]) => `${n}=${bits(v, 2 * i + 1, 1)}/${bits(v, 2 * i, 1)}`).join(' ');
    }
    case 'FUSE_STATUS': return `DONE=${bits(v, 31, 1)} PG0=${bits(v, 27, 1)} PG1=${bits(v, 26, 1)} PG2=${bits(v, 25, 1)}`;
    case 'DBUF_CTL': return `REQ=${bits(v, 31, 1)} STATE=${bits(v, 30, 1)}`;
    case 'DPLL_STATUS': return [0, 1, 2, 3].map((id) => `LOCK${id}=${bits(v, id * 8, 1)}`).join(' ');
    case 'DPLL_CTRL1':
      return [0, 1, 2, 3].map((id) => `DPLL${id}:${bits(v, id * 6 + 5, 1) === 1 ? 'HDMI' : `rate${bits(v, id * 6 + 1, 3)}`}${bits(v, id * 6, 1) === 1 ? '' : '(no-ovr)'}`).join(' ');
    case 'DPLL_CTRL2':
      return [0, 1, 2, 3, 4].map((p) => `${R.portName(p)}:${bits(v, p + 15, 1) === 1 ? 'off' : bits(v, p * 3, 1) === 1 ? `DPLL${bits(v, p * 3 + 1, 2)}` : '-'}`).join(' ');
    case 'LCPLL1_CTL': return `EN=${bits(v, 31, 1)} LOCK=${bits(v, 30, 1)}`;
    case 'LCPLL2_CTL': case 'WRPLL_CTL1': case 'WRPLL_CTL2': return `EN=${bits(v, 31, 1)}`;
    case 'PCH_PORT_HOTPLUG':
      return [1, 2, 3].map((p) => `${R.portName(p)}:EN=${bits(v, (p - 1) * 8 + 4, 1)} LONG=${bits(v, (p - 1) * 8 + 1, 1)} SHORT=${bits(v, (p - 1) * 8, 1)}`).join(' ');
    default: break;
  }
  if (/^DPLL[1-3]_CFGCR1$/.test(name)) return `EN=${bits(v, 31, 1)} DCO=${bits(v, 0, 9)}+${bits(v, 9, 15)}/32768`;
  if (/^DPLL[1-3]_CFGCR2$/.test(name)) return `QDIV=${bits(v, 7, 1) === 1 ? bits(v, 8, 8) : 1} KDIV=${bits(v, 5, 2)} PDIV=${bits(v, 2, 3)} CENTRAL=${bits(v, 0, 2)}`;
  return undefined;
}

const ADDRESS_REGISTERS: readonly string[] = ['GGTT_PTE', ...[0, 1, 2].flatMap((p) => [1, 2, 3].flatMap((n) => [
  `PLANE_SURF_${n}_${R.pipeName(p)}`, `PLANE_SURFLIVE_${n}_${R.pipeName(p)}`,
]))];

function isVolatile(name: string): boolean {
  return name === 'GEN8_MASTER_IRQ' || /^(GEN8_DE_(PIPE|PORT|MISC)_I[IS]R|SDEI[IS]R)/.test(name) || /^(PIPEDSL|PIPE_FRMCOUNT|PIPE_FLIPCOUNT)_/.test(name);
}

const PHASE_KINDS: readonly SeqEvent['kind'][] = ['mmio', 'frame'];

/** Modeset (first TRANSCONF enable of a pipe to its first frame) and flip latency (PLANE_SURF write to the next frame of its pipe). */
class DisplayPhases implements DeviceTimingPhases {
  private readonly enableAt = [-1, -1, -1];
  private readonly modeset = [-1, -1, -1];
  private readonly surfAt = [-1, -1, -1];
  private flips: number[] = [];
  private frames = 0;
  /** What `add` reads (the diff passes it nothing else). */
  readonly kinds: readonly SeqEvent['kind'][] = PHASE_KINDS;

  add(ev: SeqEvent): void {
    if (ev.kind === 'mmio' && ev.write && ev.bar === 0) {
      const name = R.registerName(ev.offset) ?? '';
      const m = /^(TRANSCONF|PLANE_SURF_1)_([A-C])$/.exec(name);
      if (m === null) return;
      const p = m[2]!.charCodeAt(0) - 65;
      if (m[1] === 'TRANSCONF') {
        if ((ev.value & R.TRANSCONF_ENABLE) !== 0 && this.enableAt[p] === -1) this.enableAt[p] = ev.time;
      } else if (this.surfAt[p] === -1) {
        this.surfAt[p] = ev.time;
      }
      return;
    }
    if (ev.kind === 'frame') {
      const p = ev.pipe;
      if (p < 0 || p > 2) return;
      this.frames++;
      if (this.modeset[p] === -1 && this.enableAt[p]! >= 0) this.modeset[p] = ev.time - this.enableAt[p]!;
      if (this.surfAt[p]! >= 0) {
        if (this.flips.length < 100000) this.flips.push(ev.time - this.surfAt[p]!);
        this.surfAt[p] = -1;
      }
    }
  }

  phases(): DevicePhase[] {
    const out: DevicePhase[] = [];
    for (let p = 0; p < 3; p++) {
      if (this.modeset[p]! >= 0) out.push({ phase: `modeset pipe ${R.pipeName(p)} (TRANSCONF enable→first frame)`, value: this.modeset[p]!, unit: 'ps' });
    }
    if (this.flips.length > 0) {
      const s = [...this.flips].sort((a, b) => a - b);
      out.push({ phase: 'flip latency p50 (PLANE_SURF→frame)', value: s[Math.floor((s.length - 1) / 2)]!, unit: 'ps' });
      out.push({ phase: 'flip latency max', value: s[s.length - 1]!, unit: 'ps' });
      out.push({ phase: 'flips', value: s.length, unit: 'count' });
    }
    if (this.frames > 0) out.push({ phase: 'frames', value: this.frames, unit: 'count' });
    return out;
  }
}

export const displayDecoder: DeviceDecoder = {
  type: 'intel-display',
  regName,
  regFields,
  addressRegisters: ADDRESS_REGISTERS,
  isVolatileRegister: isVolatile,
  timingPhases: () => new DisplayPhases(),
};
