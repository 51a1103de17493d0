/**
 * Test harness for the intel-display model: a real EventQueue, PhysMem and
 * DmaPort (bus-master gate under test control), a MemoryTracer, a fake
 * attachPci and a reserveRam that maps stolen memory like the machine does.
 * The model is built directly (monitors are plain objects here), and a small
 * "driver" keeps its own register numbers and does the modeset of the
 * Linux/ihdgd order.
 */
import { EventQueue } from '../../../src/sim/event-queue.js';
import { PhysMem, type MmioHandler } from '../../../src/sim/memory.js';
import { DmaPort } from '../../../src/sim/dma.js';
import { Rng } from '../../../src/sim/rng.js';
import { us, type Duration } from '../../../src/sim/time.js';
import { MemoryTracer, type TraceEvent } from '../../../src/sim/tracer.js';
import { ScanoutLog } from '../../../src/sim/scanout.js';
import type { DeviceContext } from '../../../src/devices/device.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import { IntelDisplay, type DisplayConfig, type DisplayMonitor } from '../../../src/devices/intel-display/display.js';
import { FakeIrq } from '../fake-irq.js';

// Register numbers as a driver keeps them (Linux i915 names).
export const MASTER = 0x44200;
export const PIPE_ISR = (p: number): number => 0x44400 + 0x10 * p;
export const PIPE_IMR = (p: number): number => 0x44404 + 0x10 * p;
export const PIPE_IIR = (p: number): number => 0x44408 + 0x10 * p;
export const PIPE_IER = (p: number): number => 0x4440c + 0x10 * p;
export const SDEISR = 0xc4000, SDEIMR = 0xc4004, SDEIIR = 0xc4008, SDEIER = 0xc400c, PCH_PORT_HOTPLUG = 0xc4030;
export const FUSE_STATUS = 0x42000, PWR_WELL_CTL1 = 0x45400, PWR_WELL_CTL2 = 0x45404, DBUF_CTL = 0x45008;
export const LCPLL1_CTL = 0x46010, LCPLL2_CTL = 0x46014, WRPLL_CTL1 = 0x46040, WRPLL_CTL2 = 0x46060;
export const DPLL_CTRL1 = 0x6c058, DPLL_CTRL2 = 0x6c05c, DPLL_STATUS = 0x6c060;
export const CFGCR1 = (id: number): number => 0x6c040 + 8 * (id - 1);
export const CFGCR2 = (id: number): number => 0x6c044 + 8 * (id - 1);
export const SFUSE_STRAP = 0xc2014;
export const T = (t: number, r: number): number => 0x60000 + 0x1000 * t + r;
export const HTOTAL = 0, HBLANK = 4, HSYNC = 8, VTOTAL = 0xc, VBLANK = 0x10, VSYNC = 0x14, PIPESRC = 0x1c, LINK_M1 = 0x40, LINK_N1 = 0x44;
export const DDI_FUNC = (t: number): number => T(t, 0x400);
export const TRANS_CLK_SEL = (t: number): number => 0x46140 + 4 * t;
export const PIPEDSL = (p: number): number => 0x70000 + 0x1000 * p;
export const TRANSCONF = (p: number): number => 0x70008 + 0x1000 * p;
export const PIPE_MISC = (p: number): number => 0x70030 + 0x1000 * p;
export const BOTTOM = (p: number): number => 0x70034 + 0x1000 * p;
export const FRMCOUNT = (p: number): number => 0x70040 + 0x1000 * p;
export const DDI_BUF_CTL = (port: number): number => 0x64000 + 0x100 * port;
export const PL = (p: number, n: number, r: number): number => 0x70180 + 0x1000 * p + 0x100 * (n - 1) + r;
export const CTL = 0, STRIDE = 8, POS = 0xc, SIZE = 0x10, SURF = 0x1c, OFFSET = 0x24, SURFLIVE = 0x2c, WM0 = 0xc0, BUF_CFG = 0xfc;
export const GGTT = 8 << 20;

export const PW1 = 14, PW2 = 15, MISC_IO = 0, DDI_B_WELL = 2;

/** 1920x1080@60 CEA timing: 148.5 MHz, 2200 x 1125. */
export const MODE_1080P = { clock: 148500, w: 1920, h: 1080, hs: 2008, he: 2052, ht: 2200, vs: 1084, ve: 1089, vt: 1125 };
/** A small mode for pixel tests: 64x48 in 80 x 60 at 4.8 MHz = 1 ms frames. */
export const MODE_SMALL = { clock: 4800, w: 64, h: 48, hs: 66, he: 70, ht: 80, vs: 50, ve: 52, vt: 60 };
export type Mode = typeof MODE_1080P;

/** WRPLL dividers for 148.5 MHz: DCO 8910 MHz = 24 MHz x (371 + 8192/32768); pdiv 2, qdiv 3, kdiv 2 (x5 AFE). */
export const CFGCR1_148500 = (0x80000000 | (8192 << 9) | 371) >>> 0;
export const CFGCR2_148500 = ((3 << 8) | (1 << 7) | (1 << 5) | (1 << 2) | 1) >>> 0;

export function monitor(port: 'B' | 'C' | 'D', opts: Partial<DisplayMonitor> = {}): DisplayMonitor {
  return {
    name: `mon-${port}`, port, connector: 'hdmi', plugAtUs: null, unplugAtUs: null,
    modes: [{ pixelClockKHz: 148500, hActive: 1920, hSyncStart: 2008, hSyncEnd: 2052, hTotal: 2200, vActive: 1080, vSyncStart: 1084,
      vSyncEnd: 1089, vTotal: 1125, hSyncPositive: true, vSyncPositive: true, preferred: true }],
    ...opts,
  };
}

export interface HarnessOptions {
  cfg?: Partial<DisplayConfig>;
  mode?: 'msi' | 'intx';
  scanoutWanted?: boolean;
  tracer?: boolean;
}

const RAM = 64 << 20;

export class Harness {
  readonly queue = new EventQueue();
  readonly mem = new PhysMem(RAM);
  readonly tracer = new MemoryTracer();
  readonly gate = { busMaster: true };
  readonly irq = new FakeIrq(this.gate, () => this.queue.now);
  readonly scanout = new ScanoutLog();
  readonly dma: DmaPort;
  readonly dev: IntelDisplay;
  spec!: PciFunctionSpec;
  readonly bar0: MmioHandler;
  readonly bar2: MmioHandler;
  readonly bar4: MmioHandler;
  private nextAlloc = 0x10_0000;

  constructor(opts: HarnessOptions = {}) {
    this.irq.mode = opts.mode ?? 'msi';
    this.scanout.wanted = opts.scanoutWanted ?? false;
    this.dma = new DmaPort(0, 'gfx0', this.mem, this.queue, this.tracer, this.gate);
    const ctx: DeviceContext = {
      id: 'gfx0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(1).fork('gfx0'),
      baseDir: '.',
      scanout: this.scanout,
      reserveRam: (size, owner) => this.mem.reserveDeviceRam(size, owner),
      attachPci: (spec) => {
        this.spec = spec;
        return { irq: this.irq, dma: this.dma };
      },
    };
    this.dev = new IntelDisplay(ctx, {
      deviceId: 0x5916, apertureBytes: 256 << 20, stolenBytes: 32 << 20, pllNeverLocks: -1, firmwareHandoff: false,
      monitors: [monitor('B')], ...opts.cfg,
    });
    this.bar0 = this.spec.bars.find((b) => b.index === 0)!.handler;
    this.bar2 = this.spec.bars.find((b) => b.index === 2)!.handler;
    this.bar4 = this.spec.bars.find((b) => b.index === 4)!.handler;
  }

  r(off: number): number { return this.bar0.read(off, 4); }
  w(off: number, v: number): void { this.bar0.write(off, 4, v >>> 0); }
  get now(): number { return this.queue.now; }
  run(d: Duration): void { this.queue.runUntil(this.queue.now + d); }
  runUs(n: number): void { this.run(us(n)); }
  runMs(n: number): void { this.run(us(n * 1000)); }

  alloc(bytes: number): number {
    const base = Math.ceil(this.nextAlloc / 4096) * 4096;
    this.nextAlloc = base + bytes;
    this.mem.markDma(base, bytes, true);
    return base;
  }

  /** Maps `bytes` of physical memory at `phys` to GGTT address `gaddr` (PTE = phys | 1, written as two halves). */
  map(gaddr: number, phys: number, bytes: number): void {
    for (let i = 0; i < Math.ceil(bytes / 4096); i++) {
      const e = gaddr / 4096 + i;
      this.w(GGTT + 8 * e, (phys + i * 4096) | 1);
      this.w(GGTT + 8 * e + 4, 0);
    }
  }

  guestErrs(prefix = ''): Array<Extract<TraceEvent, { kind: 'guestErr' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'guestErr' }> => e.kind === 'guestErr' && e.code.startsWith(prefix));
  }
  codes(): string[] { return this.guestErrs().map((e) => e.code); }
  frames(pipe = 0): Array<Extract<TraceEvent, { kind: 'frame' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'frame' }> => e.kind === 'frame' && e.pipe === pipe);
  }

  /** Powers PW1, PW2, MISC IO and the DDI IO well of `port`, and DBUF; waits for the states. */
  powerUp(port = 1): void {
    this.w(PWR_WELL_CTL2, this.r(PWR_WELL_CTL2) | (1 << (2 * PW1 + 1)) | (1 << (2 * PW2 + 1)) | (1 << (2 * MISC_IO + 1)) | (1 << (2 * (port + 1) + 1)));
    this.w(DBUF_CTL, 0x80000000);
    this.runUs(100);
  }

  /** DPLL `id` in HDMI mode at 148.5 MHz, enabled; does not wait for the lock. */
  pllHdmi148(id = 1): void {
    const old = this.r(DPLL_CTRL1) & ~(0x3f << (id * 6));
    this.w(DPLL_CTRL1, old | ((1 | (1 << 5)) << (id * 6)));
    this.w(CFGCR1(id), CFGCR1_148500);
    this.w(CFGCR2(id), CFGCR2_148500);
    this.w([LCPLL1_CTL, LCPLL2_CTL, WRPLL_CTL1, WRPLL_CTL2][id]!, 0x80000000);
  }

  /** DPLL `id` in DP mode at link rate field `rate` (0: 2.7 GHz link clock, port clock 540 MHz), enabled. */
  pllDp(id: number, rate = 0): void {
    const old = this.r(DPLL_CTRL1) & ~(0x3f << (id * 6));
    this.w(DPLL_CTRL1, old | ((1 | (rate << 1)) << (id * 6)));
    this.w([LCPLL1_CTL, LCPLL2_CTL, WRPLL_CTL1, WRPLL_CTL2][id]!, 0x80000000);
  }

  /** Port `port` clocked from DPLL `id`. */
  clockPort(port: number, id: number): void {
    const v = this.r(DPLL_CTRL2) & ~((1 << (port + 15)) | (7 << (port * 3)));
    this.w(DPLL_CTRL2, v | (id << (port * 3 + 1)) | (1 << (port * 3)));
  }

  timings(t: number, m: Mode): void {
    this.w(T(t, HTOTAL), ((m.ht - 1) << 16) | (m.w - 1));
    this.w(T(t, HBLANK), ((m.ht - 1) << 16) | (m.w - 1));
    this.w(T(t, HSYNC), ((m.he - 1) << 16) | (m.hs - 1));
    this.w(T(t, VTOTAL), ((m.vt - 1) << 16) | (m.h - 1));
    this.w(T(t, VBLANK), ((m.vt - 1) << 16) | (m.h - 1));
    this.w(T(t, VSYNC), ((m.ve - 1) << 16) | (m.vs - 1));
    this.w(T(t, PIPESRC), ((m.w - 1) << 16) | (m.h - 1));
  }

  /**
   * The enable half of a modeset on pipe `t` driving DDI `port` (facts B5
   * order) up to TRANSCONF and the DDI buffer, with waits; planes are left
   * to the test. HDMI at 148.5 MHz from DPLL 1 for 1080p, else DP mode on
   * DPLL `pll` with link M/N for the mode's clock.
   */
  modeset(t: number, port: number, m: Mode = MODE_1080P, pll = t + 1): void {
    this.powerUp(port);
    if (m.clock === 148500) this.pllHdmi148(pll);
    else {
      this.pllDp(pll, 0);
      this.w(T(t, LINK_M1), m.clock);
      this.w(T(t, LINK_N1), 540000);
    }
    this.runUs(100);
    this.clockPort(port, pll);
    this.w(TRANS_CLK_SEL(t), (port + 1) << 29);
    this.w(PL(t, 1, BUF_CFG), (159 << 16) | 0);
    this.w(PL(t, 1, WM0), 0x80000000 | 2);
    this.timings(t, m);
    this.w(PIPE_MISC(t), 2 << 5);
    this.w(DDI_FUNC(t), (1 << 31) | (port << 28) | (0 << 24));
    this.w(TRANSCONF(t), 1 << 31);
    for (let i = 0; i < 100 && (this.r(TRANSCONF(t)) & (1 << 30)) === 0; i++) this.runUs(10);
    this.w(DDI_BUF_CTL(port), 1 << 31);
    this.runUs(500);
  }

  /** Plane 1 of pipe `p` showing `w` x `h` at GGTT `surf` with `stride` bytes; SURF last. */
  plane(p: number, surf: number, w: number, h: number, stride: number, opts: { pos?: number; offset?: number; ctl?: number } = {}): void {
    this.w(PL(p, 1, SIZE), ((h - 1) << 16) | (w - 1));
    this.w(PL(p, 1, STRIDE), stride / 64);
    this.w(PL(p, 1, POS), opts.pos ?? 0);
    this.w(PL(p, 1, OFFSET), opts.offset ?? 0);
    this.w(PL(p, 1, CTL), opts.ctl ?? ((1 << 31) | (4 << 24)));
    this.w(PL(p, 1, SURF), surf);
  }

  /** Runs to just after pipe `p`'s next vblank start. */
  nextVblank(p = 0): void {
    const f = this.r(FRMCOUNT(p));
    for (let i = 0; i < 100000 && this.r(FRMCOUNT(p)) === f; i++) this.runUs(50);
  }
}
