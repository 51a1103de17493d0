/**
 * The intel-display model: the display side of an Intel Gen9.5 (Kaby Lake)
 * integrated GPU at 00:02.0. BAR0 registers (low 2 MiB) and GGTT (+8 MiB),
 * BAR2 aperture, BAR4 index/data I/O window; power wells, fuses, DBUF,
 * DPLLs with lock delays, transcoders A-C with timings and state bits, DDI
 * buffers, universal planes 1-3 per pipe with SURF-armed double buffering,
 * Gen8-style interrupts, hot-plug, and scanout of plane 1 at every vblank.
 *
 * Async flips (Gen9/10, as Linux's i915 treats them): while the latched
 * PLANE_CTL has the async bit (9), a PLANE_SURF write changes the scanned
 * surface within microseconds and raises flip done; the other plane
 * registers, PLANE_CTL and its async bit included, are armed by that write
 * and latch at the next vblank start (the bit is double-buffered: leaving
 * async mode takes a flip with the bit cleared and one vblank, Linux's
 * intel_crtc_async_flip_disable_wa). Setting the bit from sync mode is an
 * ordinary armed update, so the first async flip completes at a vblank.
 *
 * Time: a running pipe's raster is a function of simulated time from the
 * moment its state bit set (line 0 of frame 0): PIPEDSL is computed on read;
 * one event per frame marks the vblank start (frame counter, armed plane
 * registers latched, flip done, VBLANK, scanout capture).
 *
 * Registers the model gives no meaning to are plain read/write storage.
 */
import { FNV_OFFSET, fnvNumber } from '../../sim/hash.js';
import type { DmaPort } from '../../sim/dma.js';
import type { EventQueue } from '../../sim/event-queue.js';
import type { MmioHandler } from '../../sim/memory.js';
import type { ScanoutSink } from '../../sim/scanout.js';
import { at, us } from '../../sim/time.js';
import type { Tracer } from '../../sim/tracer.js';
import type { DeviceContext, DeviceModel } from '../device.js';
import type { PciFunctionSpec, PciInterrupts } from '../pci/api.js';
import { dpDotClockKHz, framePeriodPs, linkRateKHz, wrpllDividers, wrpllFreqKHz } from './clocks.js';
import type { DisplayGuestErrorCode } from './guest-errors.js';
import * as R from './regs.js';
import { displayStall } from './stall.js';

/** What the model needs of a monitor (monitors.ts MonitorSpec fits). */
export interface DisplayMonitor {
  name: string;
  port: 'B' | 'C' | 'D';
  connector: 'hdmi' | 'dp' | 'dvi';
  modes: ReadonlyArray<{
    pixelClockKHz: number; hActive: number; hSyncStart: number; hSyncEnd: number; hTotal: number;
    vActive: number; vSyncStart: number; vSyncEnd: number; vTotal: number; hSyncPositive: boolean; vSyncPositive: boolean; preferred: boolean;
  }>;
  plugAtUs: number | null;
  unplugAtUs: number | null;
}

/** A register block served by a sub-model (GMBUS, a DP AUX channel): dword offsets relative to its base. */
export interface RegBlock {
  read(off: number): number;
  write(off: number, value: number): void;
  reset(): void;
  stateHash?(): number;
}

export interface SubBlockHooks {
  irq(): void;
  guestErr(code: string, msg: string): void;
}

export interface DisplayConfig {
  deviceId: number;
  apertureBytes: number;
  stolenBytes: number;
  /** DPLL id (0..3) whose lock bit never sets; -1 = none. */
  pllNeverLocks: number;
  firmwareHandoff: boolean;
  monitors: readonly DisplayMonitor[];
  /** Builds the GMBUS controller (registers 0xC5100..0xC5127); absent = plain storage. */
  makeGmbus?: (hooks: SubBlockHooks) => RegBlock;
  /** Builds DP AUX channel of port 1..3 (B..D); absent = plain storage. */
  makeAux?: (port: number, hooks: SubBlockHooks) => RegBlock;
}

/** Modelled delays. */
export const DisplayTiming = {
  /** Power well request -> state (i915 waits up to 1 ms). */
  WELL: us(20),
  /** DBUF request -> state (i915 waits 10 us). */
  DBUF: us(10),
  /** PLL enable -> lock bit (i915 waits up to 5 ms). */
  PLL_LOCK: us(50),
  /** TRANSCONF enable -> state bit (drivers poll up to 100 ms); disable takes effect at the next vblank start. */
  PIPE_ON: us(10),
  /** DDI_BUF_CTL enable -> idle bit clear (within the 500 us drivers wait); disable -> idle set. */
  DDI_IDLE: us(8),
  /** Async flip SURF write -> flip done. */
  ASYNC_FLIP: us(2),
} as const;

const EV_WELL = 1;
const EV_DBUF = 2;
const EV_PLL_LOCK = 3;
const EV_PIPE_ON = 4;
const EV_DDI_IDLE = 5;
const EV_VBLANK = 6;
const EV_HOTPLUG = 7;
const EV_ASYNC = 8;

/** Interrupt groups: pipes 0..2, DE port, DE misc, south display. */
const G_PORT = 3;
const G_MISC = 4;
const G_SDE = 5;
const GROUPS = 6;
const GROUP_BASE = [R.DE_PIPE_BASE, R.DE_PIPE_BASE + 0x10, R.DE_PIPE_BASE + 0x20, R.DE_PORT_BASE, R.DE_MISC_BASE, R.SDE_BASE] as const;

/** Plane registers latched from the armed (written) values: offsets 0x00..0x4C of a plane block, by dword. */
const PLANE_LATCHED = 20;

export interface DisplayCounters {
  frames: number;
  flips: number;
  vblanks: number;
  interrupts: number;
  guestErrors: number;
  hotplugs: number;
}

export class PipeState {
  running = false;
  /** Time of line 0 of frame 0 (ps), valid while running. */
  t0 = 0;
  framePs = 0;
  linePs = 0;
  vblankLine = 0;
  htotal = 0;
  vtotal = 0;
  clockKHz = 0;
  width = 0;
  height = 0;
  /** Frames started since enable (index of the next vblank). */
  frameIndex = 0;
  frmcount = 0;
  flipcount = 0;
  gen = 0;
  /** Time TRANSCONF was last written with enable set (-1: never). */
  enabledAt = -1;
  /** Why the last enable did not start the pipe ('' = it did or was not asked). */
  blocked = '';
  /** PLL id the pipe runs from, -1 when not running. */
  pll = -1;
  /** Port the pipe drives, -1 when not running. */
  port = -1;
  /** Frame pixels, grown on mode changes only. */
  scratch = new Uint8Array(0);
  /** GGTT changed or a plane latched since the mapping of the scanned surface was last checked. */
  recheck = true;
  /** Surface mapping problem of plane 1 ('' none), reported once per latch. */
  badSurface = '';
}

export class IntelDisplay implements DeviceModel {
  readonly type = 'intel-display';
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly scanout: ScanoutSink | undefined;
  readonly irq: PciInterrupts;
  readonly dma: DmaPort;
  readonly spec: PciFunctionSpec;
  readonly target: number;
  readonly counters: DisplayCounters = { frames: 0, flips: 0, vblanks: 0, interrupts: 0, guestErrors: 0, hotplugs: 0 };

  /** Plain storage of every register without a model of its own, and the written value of modelled ones. */
  readonly store = new Map<number, number>();
  readonly ggttEntries: number;
  /** PTEs as (lo, hi) dword pairs. */
  readonly ggtt: Uint32Array;
  readonly stolenBase: number;
  readonly stolenBytes: number;
  private readonly stolen: Uint8Array | null;

  // Interrupts.
  readonly isr = new Uint32Array(GROUPS);
  readonly imr = new Uint32Array(GROUPS);
  readonly iir = new Uint32Array(GROUPS);
  readonly ier = new Uint32Array(GROUPS);
  /** One more occurrence of an event already set in IIR, delivered when the bit is cleared. */
  readonly queued = new Uint32Array(GROUPS);
  master = 0;
  private level = false;
  hotplugCtl = 0;

  // Power and clocks.
  /** Request bits of PWR_WELL_CTL1..4. */
  readonly wellReq = new Uint32Array(4);
  wellState = 0;
  dbuf = 0;
  readonly pllEnable = [false, false, false, false];
  readonly pllLocked = [false, false, false, false];
  readonly pllGen = [0, 0, 0, 0];
  readonly pllEnabledAt = [-1, -1, -1, -1];

  // DDI buffers (ports A..E).
  readonly ddiBuf = new Uint32Array(R.PORTS);
  readonly ddiGen = new Uint32Array(R.PORTS);

  readonly pipes: PipeState[] = [];
  /** Live (latched) plane registers: [pipe][plane-1][dword 0..19]. */
  readonly live: Uint32Array;
  /** A SURF write armed the plane's registers. */
  readonly armed: boolean[] = new Array<boolean>(R.PIPES * R.PLANES).fill(false);
  /** An async flip's SURF write armed the plane's registers other than SURF (latched at the next vblank start, no flip done). */
  readonly armedAsync: boolean[] = new Array<boolean>(R.PIPES * R.PLANES).fill(false);

  /** Monitor connected per port (0..4), index into cfg.monitors or -1. */
  readonly connected = new Int32Array(R.PORTS).fill(-1);
  /** Per monitor: its cable is in (hot-plug events change it; a function reset does not). */
  readonly cableIn: boolean[];
  private ggttHash = 0;
  private ggttDirty = true;

  private readonly gmbus: RegBlock | null;
  private readonly aux: (RegBlock | null)[] = [];
  private ioIndex = 0;
  private readonly byte4 = new Uint8Array(4);

  constructor(ctx: DeviceContext, readonly cfg: DisplayConfig) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.scanout = ctx.scanout;
    this.ggttEntries = (8 << 20) / 8;
    this.ggtt = new Uint32Array(this.ggttEntries * 2);
    this.live = new Uint32Array(R.PIPES * R.PLANES * PLANE_LATCHED);
    for (let p = 0; p < R.PIPES; p++) this.pipes.push(new PipeState());

    if (cfg.stolenBytes > 0 && ctx.reserveRam !== undefined) {
      const r = ctx.reserveRam(cfg.stolenBytes, `${ctx.id} stolen memory`);
      this.stolenBase = r.base;
      this.stolen = r.bytes;
      this.stolenBytes = cfg.stolenBytes;
    } else {
      this.stolenBase = 0;
      this.stolen = null;
      this.stolenBytes = 0;
    }
    this.target = ctx.queue.register(ctx.id, (k, a0, a1) => this.onEvent(k, a0, a1));

    const bar0: MmioHandler = { read: (o, s) => this.read(o, s), write: (o, s, v) => this.write(o, s, v) };
    const bar2: MmioHandler = { read: (o, s) => this.apertureRead(o, s), write: (o, s, v) => this.apertureWrite(o, s, v) };
    const bar4: MmioHandler = { read: (o, s) => this.ioRead(o, s), write: (o, s, v) => this.ioWrite(o, s, v) };
    // GGC: GGTT 8 MiB (GGMS 3), stolen size in 32 MiB units (GMS), locked as firmware leaves it.
    const gms = Math.floor(this.stolenBytes / (32 << 20));
    this.spec = {
      vendorId: 0x8086,
      deviceId: cfg.deviceId,
      revision: 0x02,
      classCode: 0x030000,
      subsystemVendorId: 0x8086,
      subsystemId: 0x2212,
      interruptPin: 1,
      bars: [
        { index: 0, kind: 'mem64', size: R.BAR0_SIZE, handler: bar0 },
        { index: 2, kind: 'mem64', size: cfg.apertureBytes, prefetchable: true, handler: bar2 },
        { index: 4, kind: 'io', size: R.BAR4_SIZE, handler: bar4 },
      ],
      capabilities: { pm: true, msi: { vectors: 1, is64: false, perVectorMask: false } },
      configRegs: [
        { offset: R.CFG_GGC, size: 2, value: (3 << R.GGC_GGMS_SHIFT) | (gms << R.GGC_GMS_SHIFT) | R.GGC_LOCK },
        { offset: R.CFG_BDSM, size: 4, value: (this.stolenBase | R.BDSM_LOCK) >>> 0 },
        { offset: R.CFG_ASLS, size: 4, value: 0, writable: 0xffffffff },
      ],
    };
    const { irq, dma } = ctx.attachPci(this.spec);
    this.irq = irq;
    this.dma = dma;

    const hooks = (irqBit: () => void): SubBlockHooks => ({
      irq: irqBit,
      guestErr: (code, msg) => this.recordErr(code, msg),
    });
    this.gmbus = cfg.makeGmbus?.(hooks(() => this.raise(G_SDE, R.SDE_GMBUS))) ?? null;
    for (let port = 0; port < R.PORTS; port++) {
      const p = port;
      this.aux.push(port >= 1 && port <= 3 ? cfg.makeAux?.(port, hooks(() => this.raise(G_PORT, R.DE_PORT_AUX(p)))) ?? null : null);
    }
    this.cableIn = cfg.monitors.map((m) => m.plugAtUs === null);
    this.powerOn(cfg.firmwareHandoff);
    cfg.monitors.forEach((m, i) => {
      if (m.plugAtUs !== null) this.queue.schedule(us(m.plugAtUs), this.target, EV_HOTPLUG, i, 1);
      if (m.unplugAtUs !== null) this.queue.schedule(us(m.unplugAtUs), this.target, EV_HOTPLUG, i, 0);
    });
  }

  // ------------------------------------------------------------------ DeviceModel

  /** Function-level reset: every register back to its power-on value (firmware does not run again). */
  quiesce(): void {
    this.powerOn(false);
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  stateHash(): number {
    let h = FNV_OFFSET;
    const keys = [...this.store.keys()].sort((a, b) => a - b);
    for (const k of keys) { h = fnvNumber(h, k); h = fnvNumber(h, this.store.get(k)!); }
    for (const a of [this.isr, this.imr, this.iir, this.ier, this.queued, this.wellReq, this.ddiBuf, this.live]) {
      for (let i = 0; i < a.length; i++) h = fnvNumber(h, a[i]!);
    }
    for (const v of [this.master, this.hotplugCtl, this.wellState, this.dbuf]) h = fnvNumber(h, v);
    for (let i = 0; i < 4; i++) h = fnvNumber(h, (this.pllEnable[i] ? 1 : 0) | (this.pllLocked[i] ? 2 : 0));
    for (const p of this.pipes) { h = fnvNumber(h, p.running ? 1 : 0); h = fnvNumber(h, p.frmcount); h = fnvNumber(h, p.t0); }
    if (this.ggttDirty) {
      let g = FNV_OFFSET;
      for (let i = 0; i < this.ggtt.length; i += 2) {
        if (this.ggtt[i] !== 0 || this.ggtt[i + 1] !== 0) { g = fnvNumber(g, i); g = fnvNumber(g, this.ggtt[i]!); g = fnvNumber(g, this.ggtt[i + 1]!); }
      }
      this.ggttHash = g;
      this.ggttDirty = false;
    }
    h = fnvNumber(h, this.ggttHash);
    if (this.gmbus?.stateHash !== undefined) h = fnvNumber(h, this.gmbus.stateHash());
    return h >>> 0;
  }

  stall(now: number): string[] {
    return displayStall(this, now);
  }

  // ------------------------------------------------------------------ reset

  private powerOn(handoff: boolean): void {
    this.store.clear();
    this.ggtt.fill(0);
    this.isr.fill(0); this.iir.fill(0); this.ier.fill(0); this.queued.fill(0);
    this.imr.fill(0xffffffff);
    this.master = 0;
    this.hotplugCtl = 0;
    this.wellReq.fill(0);
    this.wellState = 0;
    this.dbuf = 0;
    for (let i = 0; i < 4; i++) { this.pllEnable[i] = false; this.pllLocked[i] = false; this.pllGen[i] = this.pllGen[i]! + 1; this.pllEnabledAt[i] = -1; }
    for (let port = 0; port < R.PORTS; port++) { this.ddiBuf[port] = R.DDI_BUF_IDLE; this.ddiGen[port] = this.ddiGen[port]! + 1; }
    for (const p of this.pipes) {
      p.running = false; p.gen++; p.frmcount = 0; p.flipcount = 0; p.frameIndex = 0; p.enabledAt = -1; p.blocked = '';
      p.pll = -1; p.port = -1; p.recheck = true; p.badSurface = '';
    }
    this.live.fill(0);
    this.armed.fill(false);
    this.armedAsync.fill(false);
    this.connected.fill(-1);
    this.ioIndex = 0;
    this.gmbus?.reset();
    for (const a of this.aux) a?.reset();
    this.store.set(R.CDCLK_CTL, 0);
    // Bottom colour black; PIPE_MISC 8 bpc.
    this.cfg.monitors.forEach((m, i) => { if (this.cableIn[i]) this.connected[portIndex(m.port)] = i; });
    this.ggttDirty = true;
    this.updateStrap();
    if (this.level) {
      this.level = false;
      if (this.irq.mode === 'intx') this.irq.setIntx(false);
    }
    if (handoff) this.handoff();
  }

  private updateStrap(): void {
    // SFUSE_STRAP: the ports the board wires (those any monitor of the fixture uses) are present.
    let strap = 0;
    for (const m of this.cfg.monitors) strap |= R.SFUSE_PORT(portIndex(m.port));
    this.store.set(R.SFUSE_STRAP, strap);
    let isr = 0;
    for (let port = 1; port <= 3; port++) if (this.connected[port]! >= 0) isr |= R.SDE_HOTPLUG(port);
    this.isr[G_SDE] = (this.isr[G_SDE]! & ~0x00e00000) | isr;
  }

  // ------------------------------------------------------------------ firmware handoff

  /**
   * What firmware leaves behind on Kaby Lake: the first connected monitor's
   * preferred mode on pipe A / transcoder A, its port's DDI clocked from
   * DPLL 1, a framebuffer in stolen memory mapped at GGTT address 0 showing
   * a boot pattern, plane 1 enabled and latched.
   */
  private handoff(): void {
    let mi = -1;
    for (let port = 1; port <= 3 && mi < 0; port++) if (this.connected[port]! >= 0) mi = this.connected[port]!;
    if (mi < 0) return;
    const m = this.cfg.monitors[mi]!;
    const mode = m.modes.find((x) => x.preferred) ?? m.modes[0];
    if (mode === undefined || this.stolen === null) return;
    const port = portIndex(m.port);
    const s = this.store;
    // Power: PW1, PW2, MISC IO and the port's DDI IO well (BIOS request register), DBUF.
    this.wellReq[0] = (R.WELL_REQ(R.WELL_PW1) | R.WELL_REQ(R.WELL_PW2) | R.WELL_REQ(R.WELL_MISC_IO) | R.WELL_REQ(R.WELL_DDI_AE)
      | R.WELL_REQ(ddiWell(port))) >>> 0;
    this.wellState = this.wellStateFromRequests();
    this.dbuf = R.DBUF_REQ | R.DBUF_STATE;
    s.set(R.CDCLK_CTL, 0x000001c2); // 337.5 MHz decimal field
    // DPLL 0 (CDCLK source) and DPLL 1 for the port.
    let ctrl1 = R.DPLL_CTRL1_OVERRIDE(0) | (1 << R.DPLL_CTRL1_LINK_RATE_SHIFT(0)) | R.DPLL_CTRL1_OVERRIDE(1);
    if (m.connector === 'dp') {
      ctrl1 |= 0 << R.DPLL_CTRL1_LINK_RATE_SHIFT(1); // 2.7 GHz link clock: port clock 540 MHz
      const portKHz = linkRateKHz(0);
      s.set(R.transReg(0, R.LINK_M1), mode.pixelClockKHz);
      s.set(R.transReg(0, R.LINK_N1), portKHz);
      s.set(R.transReg(0, R.DATA_M1), ((63 << 25) | (mode.pixelClockKHz * 24 / 8)) >>> 0);
      s.set(R.transReg(0, R.DATA_N1), portKHz * 4);
    } else {
      ctrl1 |= R.DPLL_CTRL1_HDMI_MODE(1);
      const d = wrpllDividers(mode.pixelClockKHz);
      if (d === null) return;
      s.set(R.DPLL_CFGCR1(1), d.cfgcr1);
      s.set(R.DPLL_CFGCR2(1), d.cfgcr2);
    }
    s.set(R.DPLL_CTRL1, ctrl1 >>> 0);
    s.set(R.DPLL_CTRL2, (R.DPLL_CTRL2_SEL_OVERRIDE(port) | (1 << R.DPLL_CTRL2_CLK_SEL_SHIFT(port))) >>> 0);
    for (const id of [0, 1]) { this.pllEnable[id] = true; this.pllLocked[id] = id !== this.cfg.pllNeverLocks; }
    // Transcoder A timings and DDI function.
    const t = 0;
    s.set(R.transReg(t, R.HTOTAL), (((mode.hTotal - 1) << 16) | (mode.hActive - 1)) >>> 0);
    s.set(R.transReg(t, R.HBLANK), (((mode.hTotal - 1) << 16) | (mode.hActive - 1)) >>> 0);
    s.set(R.transReg(t, R.HSYNC), (((mode.hSyncEnd - 1) << 16) | (mode.hSyncStart - 1)) >>> 0);
    s.set(R.transReg(t, R.VTOTAL), (((mode.vTotal - 1) << 16) | (mode.vActive - 1)) >>> 0);
    s.set(R.transReg(t, R.VBLANK), (((mode.vTotal - 1) << 16) | (mode.vActive - 1)) >>> 0);
    s.set(R.transReg(t, R.VSYNC), (((mode.vSyncEnd - 1) << 16) | (mode.vSyncStart - 1)) >>> 0);
    s.set(R.transReg(t, R.PIPESRC), (((mode.hActive - 1) << 16) | (mode.vActive - 1)) >>> 0);
    s.set(R.TRANS_CLK_SEL(t), ((port + 1) << R.TRANS_CLK_SEL_SHIFT) >>> 0);
    const ddiMode = m.connector === 'dp' ? R.DDI_MODE_DP_SST : m.connector === 'dvi' ? R.DDI_MODE_DVI : R.DDI_MODE_HDMI;
    s.set(R.transReg(t, R.TRANS_DDI_FUNC_CTL), (R.DDI_FUNC_ENABLE | (port << R.DDI_FUNC_PORT_SHIFT) | (ddiMode << R.DDI_FUNC_MODE_SHIFT)
      | (mode.hSyncPositive ? 1 << 16 : 0) | (mode.vSyncPositive ? 1 << 17 : 0) | (m.connector === 'dp' ? 3 << 1 : 0)) >>> 0);
    s.set(R.pipeReg(0, R.PIPE_MISC), 2 << 5);
    this.ddiBuf[port] = R.DDI_BUF_ENABLE | (m.connector === 'dp' ? 3 << 1 : 0);
    // Framebuffer at the start of stolen memory, mapped at GGTT address 0.
    const w = mode.hActive;
    const h = mode.vActive;
    const stride = Math.ceil((w * 4) / 64) * 64;
    const bytes = stride * h;
    if (bytes > this.stolenBytes) return;
    const pages = Math.ceil(bytes / R.PAGE);
    for (let i = 0; i < pages; i++) {
      const phys = this.stolenBase + i * R.PAGE;
      this.ggtt[2 * i] = (phys % 2 ** 32 | R.PTE_PRESENT) >>> 0;
      this.ggtt[2 * i + 1] = Math.floor(phys / 2 ** 32) & R.PTE_ADDR_HI_MASK;
    }
    fillBootPattern(this.stolen, stride, w, h);
    const pb = R.planeBase(0, 1);
    s.set(pb + R.PLANE_CTL, (R.PLANE_CTL_ENABLE | (R.PLANE_FORMAT_XRGB8888 << R.PLANE_CTL_FORMAT_SHIFT)) >>> 0);
    s.set(pb + R.PLANE_STRIDE, stride / 64);
    s.set(pb + R.PLANE_POS, 0);
    s.set(pb + R.PLANE_SIZE, (((h - 1) << 16) | (w - 1)) >>> 0);
    s.set(pb + R.PLANE_SURF, 0);
    s.set(pb + R.PLANE_OFFSET, 0);
    s.set(pb + R.PLANE_BUF_CFG, (159 << 16) | 0);
    // Pipe A running from time 0, plane 1 latched.
    s.set(R.pipeReg(0, R.TRANSCONF), R.TRANSCONF_ENABLE);
    this.startPipe(0);
    this.pipes[0]!.enabledAt = 0;
    this.latchPlane(0, 1);
    this.pipes[0]!.flipcount = 0;
    this.counters.flips = 0;
  }

  // ------------------------------------------------------------------ BAR0

  read(off: number, size: number): number {
    if (off >= R.GGTT_OFFSET) return this.ggttRead(off, size);
    if (size !== 4 || (off & 3) !== 0) {
      this.err('display.mmio.width', `${size}-byte read of ${this.regLabel(off)}: registers are read as dwords`);
      const v = this.readReg(off & ~3);
      return size === 4 ? v : (v >>> (8 * (off & 3))) & (size === 2 ? 0xffff : 0xff);
    }
    return this.readReg(off);
  }

  write(off: number, size: number, value: number): void {
    if (off >= R.GGTT_OFFSET) { this.ggttWrite(off, size, value); return; }
    if (size !== 4 || (off & 3) !== 0) {
      this.err('display.mmio.width', `${size}-byte write of ${this.regLabel(off)}: registers are written as dwords`);
      if (inSubBlock(off)) return;
      const dw = off & ~3;
      const shift = 8 * (off & 3);
      const mask = ((size === 2 ? 0xffff : 0xff) << shift) >>> 0;
      const old = this.store.get(dw) ?? 0;
      this.writeReg(dw, ((old & ~mask) | ((value << shift) & mask)) >>> 0);
      return;
    }
    this.writeReg(off, value >>> 0);
  }

  private regLabel(off: number): string {
    return `${R.registerName(off) ?? 'register'} (${R.hex(off)})`;
  }

  readReg(off: number): number {
    // Interrupt registers.
    if (off === R.MASTER_IRQ) return (this.master | this.masterStatus()) >>> 0;
    const g = irqGroup(off);
    if (g >= 0) {
      switch (off & 0xf) {
        case R.ISR: return this.liveIsr(g);
        case R.IMR: return this.imr[g]!;
        case R.IIR: return this.iir[g]!;
        default: return this.ier[g]!;
      }
    }
    if (off >= R.GMBUS_BASE && off < R.GMBUS_BASE + R.GMBUS_SIZE && this.gmbus !== null) return this.gmbus.read(off - R.GMBUS_BASE) >>> 0;
    if (off >= 0x64000 && off < 0x64000 + 0x100 * R.PORTS) {
      const port = (off - 0x64000) >> 8;
      const r = off & 0xff;
      if (r === 0) return this.ddiBuf[port]!;
      const aux = this.aux[port];
      if (r >= 0x10 && r < 0x10 + R.AUX_SIZE && aux !== null && aux !== undefined) return aux.read(r - 0x10) >>> 0;
    }
    switch (off) {
      case R.PCH_PORT_HOTPLUG: return this.hotplugCtl;
      case R.FUSE_STATUS: return this.fuseStatus();
      case R.PWR_WELL_CTL1: case R.PWR_WELL_CTL2: case R.PWR_WELL_CTL3: case R.PWR_WELL_CTL4:
        return (this.wellReq[(off - R.PWR_WELL_CTL1) >> 2]! | this.wellState) >>> 0;
      case R.DBUF_CTL: return this.dbuf >>> 0;
      case R.DPLL_STATUS: {
        let v = 0;
        for (let id = 0; id < 4; id++) if (this.pllLocked[id]) v |= R.DPLL_LOCK(id);
        return v >>> 0;
      }
      case R.LCPLL1_CTL:
        return ((this.pllEnable[0] ? R.PLL_ENABLE : 0) | (this.pllLocked[0] ? R.LCPLL1_LOCK : 0) | ((this.store.get(off) ?? 0) & 0x3fffffff)) >>> 0;
      case R.LCPLL2_CTL: case R.WRPLL_CTL1: case R.WRPLL_CTL2: {
        const id = R.PLL_CTL_REGS.indexOf(off as typeof R.PLL_CTL_REGS[number]);
        return ((this.pllEnable[id] ? R.PLL_ENABLE : 0) | ((this.store.get(off) ?? 0) & 0x7fffffff)) >>> 0;
      }
      default: break;
    }
    if (off >= R.PIPE_BASE && off < R.PIPE_BASE + 0x1000 * R.PIPES) {
      const pipe = (off - R.PIPE_BASE) >> 12;
      const r = off & 0xfff;
      const p = this.pipes[pipe]!;
      switch (r) {
        case R.PIPEDSL: return this.scanline(p);
        case R.PIPE_FRMCOUNT: return p.frmcount >>> 0;
        case R.PIPE_FLIPCOUNT: return p.flipcount >>> 0;
        case R.TRANSCONF: return (((this.store.get(off) ?? 0) & ~R.TRANSCONF_STATE) | (p.running ? R.TRANSCONF_STATE : 0)) >>> 0;
        default: break;
      }
      if (r >= 0x180 && r < 0x480) {
        const plane = ((r - 0x180) >> 8) + 1;
        if (((r - 0x180) & 0xff) === R.PLANE_SURFLIVE) return (this.live[liveIndex(pipe, plane, R.PLANE_SURF)]! & R.SURF_ADDR_MASK) >>> 0;
      }
    }
    return this.store.get(off) ?? 0;
  }

  writeReg(off: number, v: number): void {
    if (off === R.MASTER_IRQ) {
      this.master = v & R.MASTER_IRQ_ENABLE;
      this.updateIrq();
      return;
    }
    const g = irqGroup(off);
    if (g >= 0) {
      switch (off & 0xf) {
        case R.ISR:
          this.err('display.reg.read-only', `write of ${R.hex(v)} to ${this.regLabel(off)} (read-only)`);
          return;
        case R.IMR: this.imr[g] = v; break;
        case R.IIR: {
          const cleared = this.iir[g]! & v;
          this.iir[g] = this.iir[g]! & ~v;
          // An event that recurred while its bit was set is latched again by the clear.
          const again = this.queued[g]! & cleared;
          this.iir[g] = (this.iir[g]! | again) >>> 0;
          this.queued[g] = this.queued[g]! & ~again;
          break;
        }
        default: this.ier[g] = v; break;
      }
      this.updateIrq();
      return;
    }
    if (off >= R.GMBUS_BASE && off < R.GMBUS_BASE + R.GMBUS_SIZE && this.gmbus !== null) { this.gmbus.write(off - R.GMBUS_BASE, v); return; }
    if (off >= 0x64000 && off < 0x64000 + 0x100 * R.PORTS) {
      const port = (off - 0x64000) >> 8;
      const r = off & 0xff;
      if (r === 0) { this.writeDdiBuf(port, v); return; }
      const aux = this.aux[port];
      if (r >= 0x10 && r < 0x10 + R.AUX_SIZE && aux !== null && aux !== undefined) { aux.write(r - 0x10, v); return; }
    }
    switch (off) {
      case R.PCH_PORT_HOTPLUG:
        this.hotplugCtl = ((v & ~R.HOTPLUG_STATUS_MASK) | (this.hotplugCtl & R.HOTPLUG_STATUS_MASK & ~v)) >>> 0;
        return;
      case R.FUSE_STATUS: case R.DPLL_STATUS: case R.SFUSE_STRAP:
        this.err('display.reg.read-only', `write of ${R.hex(v)} to ${this.regLabel(off)} (read-only)`);
        return;
      case R.PWR_WELL_CTL1: case R.PWR_WELL_CTL2: case R.PWR_WELL_CTL3: case R.PWR_WELL_CTL4:
        this.writeWells((off - R.PWR_WELL_CTL1) >> 2, v);
        return;
      case R.DBUF_CTL:
        this.dbuf = ((v & R.DBUF_REQ) | (this.dbuf & R.DBUF_STATE)) >>> 0;
        this.queue.schedule(DisplayTiming.DBUF, this.target, EV_DBUF);
        return;
      case R.LCPLL1_CTL: case R.LCPLL2_CTL: case R.WRPLL_CTL1: case R.WRPLL_CTL2:
        this.store.set(off, v & ~R.LCPLL1_LOCK & 0x7fffffff);
        this.writePllEnable(R.PLL_CTL_REGS.indexOf(off as typeof R.PLL_CTL_REGS[number]), (v & R.PLL_ENABLE) !== 0);
        return;
      case R.DPLL_CTRL1: this.writeDpllConfig(off, v, (old, now, id) => ((old ^ now) & (0x3f << (id * 6))) !== 0); return;
      case R.DPLL_CTRL2: this.writeDpllCtrl2(v); return;
      default: break;
    }
    if (off >= 0x6c040 && off < 0x6c058) {
      const id = ((off - 0x6c040) >> 3) + 1;
      this.writeDpllConfig(off, v, (old, now, pll) => pll === id && old !== now);
      return;
    }
    if (off >= 0x46140 && off < 0x46140 + 4 * R.PIPES) {
      const t = (off - 0x46140) >> 2;
      if (this.pipes[t]!.running && (this.store.get(off) ?? 0) !== v) {
        this.err('display.order.clock-sel-in-use', `TRANS_CLK_SEL_${R.pipeName(t)} changed to ${R.hex(v)} while transcoder ${R.pipeName(t)} is running`);
      }
      this.store.set(off, v);
      return;
    }
    if (off >= R.TRANS_BASE && off < R.TRANS_BASE + R.TRANS_STRIDE * R.PIPES && (off & 0xfff) === R.TRANS_DDI_FUNC_CTL) {
      const t = (off - R.TRANS_BASE) >> 12;
      const old = this.store.get(off) ?? 0;
      if (this.pipes[t]!.running && (old & R.DDI_FUNC_ENABLE) !== 0 && ((v & R.DDI_FUNC_ENABLE) === 0 || ((old ^ v) & (7 << 28)) !== 0)) {
        this.err('display.order.ddi-func-while-running', `TRANS_DDI_FUNC_CTL_${R.pipeName(t)} written ${R.hex(v)} while TRANSCONF_${R.pipeName(t)} is running`);
      }
      this.store.set(off, v);
      return;
    }
    if (off >= R.PIPE_BASE && off < R.PIPE_BASE + 0x1000 * R.PIPES) {
      const pipe = (off - R.PIPE_BASE) >> 12;
      const r = off & 0xfff;
      switch (r) {
        case R.PIPEDSL: case R.PIPE_FRMCOUNT: case R.PIPE_FLIPCOUNT:
          this.err('display.reg.read-only', `write of ${R.hex(v)} to ${this.regLabel(off)} (read-only)`);
          return;
        case R.TRANSCONF: this.writeTransconf(pipe, v); return;
        default: break;
      }
      if (r >= 0x180 && r < 0x480) {
        const plane = ((r - 0x180) >> 8) + 1;
        const pr = (r - 0x180) & 0xff;
        if (pr === R.PLANE_SURFLIVE) {
          this.err('display.reg.read-only', `write of ${R.hex(v)} to ${this.regLabel(off)} (read-only)`);
          return;
        }
        this.store.set(off, v);
        if (pr === R.PLANE_SURF) this.armSurf(pipe, plane, v);
        return;
      }
    }
    this.store.set(off, v);
  }

  // ------------------------------------------------------------------ GGTT

  private ggttRead(off: number, size: number): number {
    const i = (off - R.GGTT_OFFSET) >>> 2;
    if (i >= this.ggtt.length) return 0;
    const v = this.ggtt[i]!;
    if (size === 4 && (off & 3) === 0) return v;
    return (v >>> (8 * (off & 3))) & (size === 2 ? 0xffff : size === 1 ? 0xff : 0xffffffff);
  }

  private ggttWrite(off: number, size: number, value: number): void {
    const i = (off - R.GGTT_OFFSET) >>> 2;
    if (i >= this.ggtt.length) return;
    if (size === 4 && (off & 3) === 0) {
      this.ggtt[i] = value >>> 0;
    } else {
      const shift = 8 * (off & 3);
      const mask = (((size === 2 ? 0xffff : 0xff) << shift) >>> 0);
      this.ggtt[i] = ((this.ggtt[i]! & ~mask) | ((value << shift) & mask)) >>> 0;
    }
    const e = i >>> 1;
    const lo = this.ggtt[2 * e]!;
    if ((lo & R.PTE_PRESENT) !== 0) {
      const phys = this.ptePhys(e);
      if (!this.dma.isRam(phys, R.PAGE)) {
        this.err('display.ggtt.outside-ram', `GGTT[${e}] (GGTT address ${R.hex(e * R.PAGE)}) = ${R.hex(phys)} | present: not a RAM page`);
      }
    }
    for (const p of this.pipes) p.recheck = true;
    this.ggttDirty = true;
  }

  private ptePhys(e: number): number {
    return ((this.ggtt[2 * e]! & 0xfffff000) >>> 0) + (this.ggtt[2 * e + 1]! & R.PTE_ADDR_HI_MASK) * 2 ** 32;
  }

  /** Physical address of GGTT address `g`, or -1 when its entry is not present. */
  translate(g: number): number {
    const e = Math.floor(g / R.PAGE);
    if (e >= this.ggttEntries) return -1;
    if ((this.ggtt[2 * e]! & R.PTE_PRESENT) === 0) return -1;
    return this.ptePhys(e) + (g & (R.PAGE - 1));
  }

  // ------------------------------------------------------------------ BAR2 aperture, BAR4 I/O

  private apertureRead(off: number, size: number): number {
    const phys = this.translate(off);
    const samePage = (off & (R.PAGE - 1)) + size <= R.PAGE;
    if (phys < 0 || !samePage) {
      if (phys < 0) {
        this.err('display.aperture.unmapped', `aperture read at ${R.hex(off)}: GGTT[${Math.floor(off / R.PAGE)}] is not present`);
        return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      }
      let v = 0;
      for (let k = 0; k < size; k++) v |= this.apertureRead(off + k, 1) << (8 * k);
      return v >>> 0;
    }
    if (!this.dma.scan(phys, this.byte4, 0, size)) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    const b = this.byte4;
    return size === 4 ? (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0 : size === 2 ? b[0]! | (b[1]! << 8) : b[0]!;
  }

  private apertureWrite(off: number, size: number, value: number): void {
    const phys = this.translate(off);
    const samePage = (off & (R.PAGE - 1)) + size <= R.PAGE;
    if (phys < 0) {
      this.err('display.aperture.unmapped', `aperture write of ${R.hex(value)} at ${R.hex(off)}: GGTT[${Math.floor(off / R.PAGE)}] is not present; dropped`);
      return;
    }
    if (!samePage) {
      for (let k = 0; k < size; k++) this.apertureWrite(off + k, 1, (value >>> (8 * k)) & 0xff);
      return;
    }
    const b = this.byte4;
    b[0] = value & 0xff; b[1] = (value >>> 8) & 0xff; b[2] = (value >>> 16) & 0xff; b[3] = (value >>> 24) & 0xff;
    this.dma.store(phys, b, 0, size);
  }

  private ioRead(off: number, size: number): number {
    if (off < 4) return (this.ioIndex >>> (8 * off)) & (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff);
    if (off === 4 && size === 4) {
      if (!this.ioIndexOk()) return 0;
      return this.read(this.ioIndex, 4);
    }
    return 0;
  }

  private ioWrite(off: number, size: number, value: number): void {
    if (off === 0 && size === 4) { this.ioIndex = value >>> 0; return; }
    if (off === 4 && size === 4) {
      if (this.ioIndexOk()) this.write(this.ioIndex, 4, value);
    }
  }

  private ioIndexOk(): boolean {
    if (this.ioIndex >= R.BAR0_SIZE || (this.ioIndex & 3) !== 0) {
      this.err('display.io.index', `MMIO_DATA accessed with MMIO_INDEX ${R.hex(this.ioIndex)}: not a dword inside BAR0`);
      return false;
    }
    return true;
  }

  // ------------------------------------------------------------------ power and clocks

  private wellStateFromRequests(): number {
    let req = 0;
    for (let i = 0; i < 4; i++) req |= this.wellReq[i]!;
    return (req & R.WELL_REQ_MASK) >>> 1;
  }

  private fuseStatus(): number {
    let v = R.FUSE_DOWNLOAD_DONE | R.FUSE_PG0;
    if ((this.wellState & R.WELL_STATE(R.WELL_PW1)) !== 0) v |= R.FUSE_PG1;
    if ((this.wellState & R.WELL_STATE(R.WELL_PW2)) !== 0) v |= R.FUSE_PG2;
    return v >>> 0;
  }

  private writeWells(reg: number, v: number): void {
    this.wellReq[reg] = v & R.WELL_REQ_MASK;
    const want = this.wellStateFromRequests();
    const lost = this.wellState & ~want;
    if (lost !== 0) {
      for (let p = 0; p < R.PIPES; p++) {
        const pipe = this.pipes[p]!;
        if (!pipe.running) continue;
        const need = this.wellsNeeded(p, pipe.port);
        if ((need & lost) !== 0) {
          this.err('display.order.power-in-use', `${R.registerName(R.PWR_WELL_CTL1 + 4 * reg)} = ${R.hex(v)} powers down ${wellNames(need & lost)} while pipe ${R.pipeName(p)} runs on it; the pipe stops`);
          this.stopPipe(p);
        }
      }
      // Powering down takes effect at once.
      this.wellState &= want;
    }
    this.queue.schedule(DisplayTiming.WELL, this.target, EV_WELL);
  }

  /** State bits of the wells pipe `p` on `port` needs. */
  wellsNeeded(p: number, port: number): number {
    let need = R.WELL_STATE(R.WELL_PW1);
    if (p > 0 || (port > 0 && port < 4)) need |= R.WELL_STATE(R.WELL_PW2);
    if (port >= 0) need |= R.WELL_STATE(ddiWell(port));
    return need >>> 0;
  }

  private writePllEnable(id: number, on: boolean): void {
    if (on === this.pllEnable[id]) return;
    this.pllEnable[id] = on;
    this.pllGen[id] = this.pllGen[id]! + 1;
    if (on) {
      this.pllEnabledAt[id] = this.queue.now;
      if (id !== this.cfg.pllNeverLocks) this.queue.schedule(DisplayTiming.PLL_LOCK, this.target, EV_PLL_LOCK, id, this.pllGen[id]);
      return;
    }
    this.pllLocked[id] = false;
    this.pllEnabledAt[id] = -1;
    for (let p = 0; p < R.PIPES; p++) {
      if (this.pipes[p]!.running && this.pipes[p]!.pll === id) {
        this.err('display.order.pll-in-use', `${R.registerName(R.PLL_CTL_REGS[id]!)} disabled while pipe ${R.pipeName(p)} is clocked from DPLL ${id}; the pipe stops`);
        this.stopPipe(p);
      }
    }
  }

  private writeDpllConfig(off: number, v: number, touches: (old: number, now: number, id: number) => boolean): void {
    const old = this.store.get(off) ?? 0;
    for (let p = 0; p < R.PIPES; p++) {
      const pipe = this.pipes[p]!;
      if (pipe.running && pipe.pll >= 0 && touches(old, v, pipe.pll)) {
        this.err('display.order.pll-in-use', `${this.regLabel(off)} reprograms DPLL ${pipe.pll} (${R.hex(old)} -> ${R.hex(v)}) while pipe ${R.pipeName(p)} is clocked from it`);
      }
    }
    this.store.set(off, v);
  }

  private writeDpllCtrl2(v: number): void {
    const old = this.store.get(R.DPLL_CTRL2) ?? 0;
    for (let p = 0; p < R.PIPES; p++) {
      const pipe = this.pipes[p]!;
      if (!pipe.running || pipe.port < 0) continue;
      const mask = (R.DPLL_CTRL2_CLK_OFF(pipe.port) | (3 << R.DPLL_CTRL2_CLK_SEL_SHIFT(pipe.port)) | R.DPLL_CTRL2_SEL_OVERRIDE(pipe.port)) >>> 0;
      if (((old ^ v) & mask) !== 0) {
        this.err('display.order.clock-sel-in-use', `DPLL_CTRL2 changes the clock of DDI ${R.portName(pipe.port)} (${R.hex(old)} -> ${R.hex(v)}) while pipe ${R.pipeName(p)} drives it`);
      }
    }
    this.store.set(R.DPLL_CTRL2, v);
  }

  /** The PLL port `port` is clocked from (DPLL_CTRL2), or -1 when its clock is off. */
  portPll(port: number): number {
    const ctrl2 = this.store.get(R.DPLL_CTRL2) ?? 0;
    if ((ctrl2 & R.DPLL_CTRL2_CLK_OFF(port)) !== 0) return -1;
    if ((ctrl2 & R.DPLL_CTRL2_SEL_OVERRIDE(port)) === 0) return 0;
    return (ctrl2 >>> R.DPLL_CTRL2_CLK_SEL_SHIFT(port)) & 3;
  }

  /** Pixel clock (kHz) transcoder `t` would run at from DPLL `pll`: 0 when it cannot be derived. */
  pixelClockKHz(t: number, pll: number): number {
    const ctrl1 = this.store.get(R.DPLL_CTRL1) ?? 0;
    if (pll > 0 && (ctrl1 & R.DPLL_CTRL1_HDMI_MODE(pll)) !== 0) {
      return wrpllFreqKHz(this.store.get(R.DPLL_CFGCR1(pll)) ?? 0, this.store.get(R.DPLL_CFGCR2(pll)) ?? 0);
    }
    const portKHz = linkRateKHz((ctrl1 >>> R.DPLL_CTRL1_LINK_RATE_SHIFT(pll)) & 7);
    return dpDotClockKHz(portKHz, (this.store.get(R.transReg(t, R.LINK_M1)) ?? 0) & 0xffffff, (this.store.get(R.transReg(t, R.LINK_N1)) ?? 0) & 0xffffff);
  }

  private writeDdiBuf(port: number, v: number): void {
    const old = this.ddiBuf[port]!;
    const on = (v & R.DDI_BUF_ENABLE) !== 0;
    const wasOn = (old & R.DDI_BUF_ENABLE) !== 0;
    if (wasOn && !on) {
      for (let p = 0; p < R.PIPES; p++) {
        if (this.pipes[p]!.running && this.pipes[p]!.port === port) {
          this.err('display.order.ddi-buf-while-running', `DDI_BUF_CTL_${R.portName(port)} disabled while transcoder ${R.pipeName(p)} drives DDI ${R.portName(port)}`);
        }
      }
    }
    this.ddiBuf[port] = ((v & ~R.DDI_BUF_IDLE) | (old & R.DDI_BUF_IDLE)) >>> 0;
    if (on !== wasOn) {
      this.ddiGen[port] = this.ddiGen[port]! + 1;
      this.queue.schedule(DisplayTiming.DDI_IDLE, this.target, EV_DDI_IDLE, port, this.ddiGen[port]!);
    }
  }

  // ------------------------------------------------------------------ transcoders and pipes

  private writeTransconf(p: number, v: number): void {
    const off = R.pipeReg(p, R.TRANSCONF);
    const old = this.store.get(off) ?? 0;
    this.store.set(off, v & ~R.TRANSCONF_STATE);
    const on = (v & R.TRANSCONF_ENABLE) !== 0;
    const wasOn = (old & R.TRANSCONF_ENABLE) !== 0;
    const pipe = this.pipes[p]!;
    if (on && !wasOn) {
      pipe.enabledAt = this.queue.now;
      pipe.blocked = this.checkPipeStart(p);
      if (pipe.blocked === '') {
        pipe.gen++;
        this.queue.schedule(DisplayTiming.PIPE_ON, this.target, EV_PIPE_ON, p, pipe.gen);
      }
    } else if (!on && wasOn) {
      pipe.enabledAt = -1;
      pipe.blocked = '';
      for (let n = 1; n <= R.PLANES; n++) {
        if ((this.live[liveIndex(p, n, R.PLANE_CTL)]! & R.PLANE_CTL_ENABLE) !== 0) {
          this.err('display.order.transconf-plane-on', `TRANSCONF_${R.pipeName(p)} disabled while plane ${n} of pipe ${R.pipeName(p)} is enabled (PLANE_CTL_${n}_${R.pipeName(p)}; disable it and write PLANE_SURF first)`);
          break;
        }
      }
      // A pipe not yet running never starts; a running one stops at its next vblank start.
      if (!pipe.running) pipe.gen++;
    }
  }

  /** Why pipe `p` cannot start now ('' = it can); records the guest error. */
  private checkPipeStart(p: number): string {
    const P = R.pipeName(p);
    const func = this.store.get(R.transReg(p, R.TRANS_DDI_FUNC_CTL)) ?? 0;
    const sel = ((this.store.get(R.TRANS_CLK_SEL(p)) ?? 0) >>> R.TRANS_CLK_SEL_SHIFT) & 7;
    const port = sel === 0 ? -1 : sel - 1;
    const need = this.wellsNeeded(p, port < R.PORTS ? port : -1);
    const missing = need & ~this.wellState;
    if (missing !== 0) {
      const why = `power well ${wellNames(missing)} is not powered`;
      this.err('display.power.pipe-no-well', `TRANSCONF_${P} enabled but ${why}; the pipe does not start`);
      return why;
    }
    if (port < 0 || port >= R.PORTS) {
      const why = `TRANS_CLK_SEL_${P} selects no port`;
      this.err('display.pll.pipe-unlocked', `TRANSCONF_${P} enabled but ${why}; the pipe does not start`);
      return why;
    }
    const pll = this.portPll(port);
    if (pll < 0 || !this.pllLocked[pll]) {
      const why = pll < 0 ? `the clock of DDI ${R.portName(port)} is off in DPLL_CTRL2` : `DPLL ${pll} (clocking DDI ${R.portName(port)}) is not locked`;
      this.err('display.pll.pipe-unlocked', `TRANSCONF_${P} enabled but ${why}; the pipe does not start`);
      return why;
    }
    const clock = this.pixelClockKHz(p, pll);
    const ht = this.store.get(R.transReg(p, R.HTOTAL)) ?? 0;
    const vt = this.store.get(R.transReg(p, R.VTOTAL)) ?? 0;
    const src = this.store.get(R.transReg(p, R.PIPESRC)) ?? 0;
    const hActive = (ht & 0xffff) + 1;
    const hTotal = (ht >>> 16) + 1;
    const vActive = (vt & 0xffff) + 1;
    const vTotal = (vt >>> 16) + 1;
    const w = (src >>> 16) + 1;
    const h = (src & 0xffff) + 1;
    let bad = '';
    if (clock <= 0) bad = `the pixel clock from DPLL ${pll} is 0 (DP mode needs LINK_M1/LINK_N1, HDMI mode valid CFGCR dividers)`;
    else if (hActive > hTotal || vActive > vTotal) bad = `active ${hActive}x${vActive} exceeds total ${hTotal}x${vTotal}`;
    else if (w > hActive || h > vActive) bad = `PIPESRC ${w}x${h} exceeds the active area ${hActive}x${vActive}`;
    if (bad !== '') {
      this.err('display.pipe.bad-timing', `TRANSCONF_${P} enabled but ${bad}; the pipe does not start`);
      return bad;
    }
    if ((func & R.DDI_FUNC_ENABLE) === 0) {
      this.err('display.pipe.no-ddi-function', `TRANSCONF_${P} enabled while TRANS_DDI_FUNC_CTL_${P} is disabled: the pipe drives no port`);
    }
    return '';
  }

  /** Starts pipe `p`'s raster now (state bit set). */
  private startPipe(p: number): void {
    const pipe = this.pipes[p]!;
    const sel = ((this.store.get(R.TRANS_CLK_SEL(p)) ?? 0) >>> R.TRANS_CLK_SEL_SHIFT) & 7;
    const port = sel - 1;
    const pll = this.portPll(port);
    const ht = this.store.get(R.transReg(p, R.HTOTAL)) ?? 0;
    const vt = this.store.get(R.transReg(p, R.VTOTAL)) ?? 0;
    const src = this.store.get(R.transReg(p, R.PIPESRC)) ?? 0;
    pipe.port = port;
    pipe.pll = pll;
    pipe.clockKHz = this.pixelClockKHz(p, pll);
    pipe.htotal = (ht >>> 16) + 1;
    pipe.vtotal = (vt >>> 16) + 1;
    pipe.vblankLine = (vt & 0xffff) + 1;
    pipe.framePs = framePeriodPs(pipe.clockKHz, pipe.htotal, pipe.vtotal);
    pipe.linePs = pipe.framePs / pipe.vtotal;
    pipe.width = (src >>> 16) + 1;
    pipe.height = (src & 0xffff) + 1;
    const need = pipe.width * pipe.height * 4;
    if (pipe.scratch.length < need) pipe.scratch = new Uint8Array(need);
    pipe.running = true;
    pipe.blocked = '';
    pipe.t0 = this.queue.now;
    pipe.frameIndex = 0;
    pipe.recheck = true;
    pipe.gen++;
    this.scheduleVblank(p);
  }

  private stopPipe(p: number): void {
    const pipe = this.pipes[p]!;
    pipe.running = false;
    pipe.gen++;
    pipe.pll = -1;
    pipe.port = -1;
  }

  private scheduleVblank(p: number): void {
    const pipe = this.pipes[p]!;
    const t = pipe.t0 + pipe.frameIndex * pipe.framePs + Math.round(pipe.vblankLine * pipe.linePs);
    this.queue.scheduleAt(at(t), this.target, EV_VBLANK, p, pipe.gen);
  }

  /** PIPEDSL: the line being scanned, from time (0 when the pipe is off). */
  scanline(pipe: PipeState): number {
    if (!pipe.running) return 0;
    const pos = (this.queue.now - pipe.t0) % pipe.framePs;
    return Math.min(pipe.vtotal - 1, Math.floor(pos / pipe.linePs));
  }

  private onVblank(p: number): void {
    const pipe = this.pipes[p]!;
    const conf = this.store.get(R.pipeReg(p, R.TRANSCONF)) ?? 0;
    if ((conf & R.TRANSCONF_ENABLE) === 0) {
      // Disabled: the pipe finishes its frame and stops here.
      this.stopPipe(p);
      return;
    }
    pipe.frameIndex++;
    pipe.frmcount = (pipe.frmcount + 1) >>> 0;
    this.counters.vblanks++;
    let events = R.PIPE_VBLANK;
    for (let n = 1; n <= R.PLANES; n++) {
      const k = (p * R.PLANES) + n - 1;
      if (this.armed[k]) {
        this.latchPlane(p, n, true);
        events |= R.PIPE_FLIP_DONE(n);
      } else if (this.armedAsync[k]) {
        // The async flip's surface is already live; the rest (PLANE_CTL's async bit too) takes effect now.
        this.latchPlane(p, n, false);
      }
    }
    if (pipe.recheck) this.checkSurface(p);
    if (pipe.badSurface !== '') events |= R.PIPE_FIFO_UNDERRUN;
    this.raise(p, events);
    if (this.tracer.enabled || this.scanout?.wanted === true) this.captureFrame(p);
    this.scheduleVblank(p);
  }

  // ------------------------------------------------------------------ planes

  private armSurf(p: number, n: number, v: number): void {
    if ((v & 0xfff) !== 0) {
      this.err('display.plane.surf-unaligned', `PLANE_SURF_${n}_${R.pipeName(p)} = ${R.hex(v)}: bits 11:0 set, the surface must be 4 KiB aligned (they are ignored)`);
    }
    const k = p * R.PLANES + n - 1;
    const pipe = this.pipes[p]!;
    const liveCtl = this.live[liveIndex(p, n, R.PLANE_CTL)]!;
    if (!pipe.running) {
      // No vblank to wait for: the registers take effect at once.
      this.latchPlane(p, n);
      return;
    }
    if ((liveCtl & R.PLANE_CTL_ENABLE) !== 0 && (liveCtl & R.PLANE_CTL_ASYNC_FLIP) !== 0) {
      // Async mode: the surface changes within microseconds; everything else waits for the vblank start.
      this.checkAsyncWrite(p, n);
      this.queue.schedule(DisplayTiming.ASYNC_FLIP, this.target, EV_ASYNC, p * 16 + n, pipe.gen);
      this.armedAsync[k] = true;
      return;
    }
    this.armed[k] = true;
  }

  /**
   * An async flip changes only the surface at once: plane registers written
   * with other values (PLANE_CTL apart from its async bit, stride, size,
   * position, offset...) latch only at the next vblank start, so the new
   * surface is scanned with the old settings until then (a disable's
   * PLANE_SURF = 0 is scanned by a plane still enabled). Linux refuses such
   * async flips (intel_async_flip_check_hw) and leaves async mode first.
   */
  private checkAsyncWrite(p: number, n: number): void {
    const base = R.planeBase(p, n);
    const li = liveIndex(p, n, 0);
    for (let i = 0; i < PLANE_LATCHED; i++) {
      const off = 4 * i;
      if (off === R.PLANE_SURF || off === R.PLANE_SURFLIVE) continue;
      let written = this.store.get(base + off) ?? 0;
      let live = this.live[li + i]!;
      if (off === R.PLANE_CTL) { written &= ~R.PLANE_CTL_ASYNC_FLIP; live &= ~R.PLANE_CTL_ASYNC_FLIP; }
      if (written === live) continue;
      const P = R.pipeName(p);
      const name = R.registerName(base + off) ?? R.hex(base + off);
      this.err('display.plane.async-changes', `PLANE_SURF_${n}_${P} written in async flip mode (PLANE_CTL_${n}_${P} bit 9 latched) with ${name} changed `
        + `(${R.hex(this.live[li + i]!)} -> ${R.hex(this.store.get(base + off) ?? 0)}): the surface changes now, ${name} only at the next vblank start`);
      return;
    }
  }

  /**
   * Copies plane (p, n)'s written registers into the live set and checks the
   * result; `surf` false keeps the live surface (an async flip already put
   * it there) and counts no flip.
   */
  private latchPlane(p: number, n: number, surf = true): void {
    const k = p * R.PLANES + n - 1;
    this.armed[k] = false;
    this.armedAsync[k] = false;
    const base = R.planeBase(p, n);
    const li = liveIndex(p, n, 0);
    const si = R.PLANE_SURF >> 2;
    for (let i = 0; i < PLANE_LATCHED; i++) if (surf || i !== si) this.live[li + i] = this.store.get(base + 4 * i) ?? 0;
    const pipe = this.pipes[p]!;
    if (surf) {
      pipe.flipcount = (pipe.flipcount + 1) >>> 0;
      this.counters.flips++;
    }
    const ctl = this.live[li]!;
    if ((ctl & R.PLANE_CTL_ENABLE) === 0) return;
    const P = R.pipeName(p);
    if (!pipe.running) {
      this.err('display.plane.pipe-off', `PLANE_CTL_${n}_${P} enabled (armed by PLANE_SURF_${n}_${P}) while TRANSCONF_${P} is not running: nothing is shown`);
    }
    const size = this.live[li + (R.PLANE_SIZE >> 2)]!;
    const w = (size & 0x1fff) + 1;
    const stride = (this.live[li + (R.PLANE_STRIDE >> 2)]! & 0x3ff) * 64;
    const tiling = (ctl >>> R.PLANE_CTL_TILED_SHIFT) & 7;
    if (tiling === 0 && stride < w * 4) {
      this.err('display.plane.stride', `PLANE_STRIDE_${n}_${P} = ${stride / 64} (${stride} bytes) is smaller than the plane width ${w} x 4 bytes`);
    }
    if (n === 1) { pipe.recheck = true; pipe.badSurface = ''; }
  }

  /** Walks the GGTT entries plane 1 of pipe `p` scans; records an unmapped surface once per latch. */
  private checkSurface(p: number): void {
    const pipe = this.pipes[p]!;
    pipe.recheck = false;
    const li = liveIndex(p, 1, 0);
    const ctl = this.live[li]!;
    if ((ctl & R.PLANE_CTL_ENABLE) === 0) { pipe.badSurface = ''; return; }
    const surf = (this.live[li + (R.PLANE_SURF >> 2)]! & R.SURF_ADDR_MASK) >>> 0;
    const size = this.live[li + (R.PLANE_SIZE >> 2)]!;
    const w = (size & 0x1fff) + 1;
    const h = ((size >>> 16) & 0x1fff) + 1;
    const stride = (this.live[li + (R.PLANE_STRIDE >> 2)]! & 0x3ff) * 64;
    const offset = this.live[li + (R.PLANE_OFFSET >> 2)]!;
    const ox = offset & 0x1fff;
    const oy = (offset >>> 16) & 0x1fff;
    let bad = '';
    for (let r = 0; r < h && bad === ''; r++) {
      const start = surf + (oy + r) * stride + ox * 4;
      const end = start + w * 4 - 1;
      for (let g = start - (start % R.PAGE); g <= end; g += R.PAGE) {
        const phys = this.translate(g);
        if (phys < 0) { bad = `GGTT address ${R.hex(g)} (GGTT[${Math.floor(g / R.PAGE)}]) is not present`; break; }
        if (!this.dma.isRam(phys - (phys % R.PAGE), R.PAGE)) { bad = `GGTT address ${R.hex(g)} maps ${R.hex(phys)}, not RAM`; break; }
      }
    }
    const was = pipe.badSurface;
    pipe.badSurface = bad;
    if (bad !== '' && was === '') {
      const P = R.pipeName(p);
      this.err('display.plane.surf-unmapped', `plane 1 of pipe ${P} scans PLANE_SURF_1_${P} = ${R.hex(surf)} but ${bad}: FIFO underrun, black pixels`);
    }
  }

  private onAsync(p: number, n: number): void {
    const base = R.planeBase(p, n);
    const li = liveIndex(p, n, 0);
    this.live[li + (R.PLANE_SURF >> 2)] = this.store.get(base + R.PLANE_SURF) ?? 0;
    const pipe = this.pipes[p]!;
    pipe.flipcount = (pipe.flipcount + 1) >>> 0;
    this.counters.flips++;
    if (n === 1) { pipe.recheck = true; pipe.badSurface = ''; }
    this.raise(p, R.PIPE_FLIP_DONE(n));
  }

  // ------------------------------------------------------------------ scanout

  /** Packs the frame pipe `p` shows into its scratch buffer and hands it to the tracer and the scanout sink. */
  private captureFrame(p: number): void {
    const pipe = this.pipes[p]!;
    const W = pipe.width;
    const H = pipe.height;
    const buf = pipe.scratch;
    const len = W * H * 4;
    // Background: PIPE_BOTTOM_COLOR (10 bits per channel: R 29:20, G 19:10, B 9:0) as XRGB8888.
    const bc = this.store.get(R.pipeReg(p, R.PIPE_BOTTOM_COLOR)) ?? 0;
    buf[0] = (bc >>> 2) & 0xff;
    buf[1] = (bc >>> 12) & 0xff;
    buf[2] = (bc >>> 22) & 0xff;
    buf[3] = 0;
    let filled = 4;
    while (filled < len) {
      const n = Math.min(filled, len - filled);
      buf.copyWithin(filled, 0, n);
      filled += n;
    }
    const li = liveIndex(p, 1, 0);
    const ctl = this.live[li]!;
    if ((ctl & R.PLANE_CTL_ENABLE) !== 0) this.drawPlane(pipe, li, ctl, buf, W, H);
    this.counters.frames++;
    const now = this.queue.now;
    this.tracer.frame(now, this.dev, p, pipe.frmcount, W, H, R.FOURCC_XR24, buf, 0, len);
    this.scanout?.frame(now, this.dev, p, pipe.frmcount, W, H, R.FOURCC_XR24, buf, 0, len);
  }

  private drawPlane(pipe: PipeState, li: number, ctl: number, buf: Uint8Array, W: number, H: number): void {
    const surf = (this.live[li + (R.PLANE_SURF >> 2)]! & R.SURF_ADDR_MASK) >>> 0;
    const pos = this.live[li + (R.PLANE_POS >> 2)]!;
    const size = this.live[li + (R.PLANE_SIZE >> 2)]!;
    const offset = this.live[li + (R.PLANE_OFFSET >> 2)]!;
    const stride = (this.live[li + (R.PLANE_STRIDE >> 2)]! & 0x3ff) * 64;
    const px = pos & 0x1fff;
    const py = (pos >>> 16) & 0x1fff;
    const pw = (size & 0x1fff) + 1;
    const ph = ((size >>> 16) & 0x1fff) + 1;
    const ox = offset & 0x1fff;
    const oy = (offset >>> 16) & 0x1fff;
    const x0 = px;
    const x1 = Math.min(W, px + pw);
    const y1 = Math.min(H, py + ph);
    if (x1 <= x0) return;
    const rowBytes = (x1 - x0) * 4;
    const report = pipe.badSurface === '';
    let refused = false;
    for (let y = py; y < y1; y++) {
      let g = surf + (oy + y - py) * stride + ox * 4;
      let d = (y * W + x0) * 4;
      let left = rowBytes;
      while (left > 0) {
        const chunk = Math.min(left, R.PAGE - (g % R.PAGE));
        const phys = this.translate(g);
        if (phys < 0 || !this.dma.scan(phys, buf, d, chunk, report && !refused)) {
          if (phys >= 0) refused = true;
          buf.fill(0, d, d + chunk);
        }
        g += chunk; d += chunk; left -= chunk;
      }
    }
    if ((ctl & R.PLANE_CTL_ORDER_RGBX) !== 0) {
      // RGBX order: R in the low byte; swap to XRGB8888's B G R X.
      for (let y = py; y < y1; y++) {
        for (let d = (y * W + x0) * 4, e = d + rowBytes; d < e; d += 4) { const t = buf[d]!; buf[d] = buf[d + 2]!; buf[d + 2] = t; }
      }
    }
  }

  // ------------------------------------------------------------------ interrupts

  private liveIsr(g: number): number {
    if (g < R.PIPES) {
      const pipe = this.pipes[g]!;
      const inVblank = pipe.running && this.scanline(pipe) >= pipe.vblankLine;
      return ((this.isr[g]! & ~R.PIPE_VBLANK) | (inVblank ? R.PIPE_VBLANK : 0)) >>> 0;
    }
    return this.isr[g]!;
  }

  /** Events `bits` of group `g` happened: IIR latches those IMR lets through; a set bit queues one more. */
  raise(g: number, bits: number): void {
    const pass = (bits & ~this.imr[g]!) >>> 0;
    if (pass === 0) return;
    this.queued[g] = (this.queued[g]! | (this.iir[g]! & pass)) >>> 0;
    this.iir[g] = (this.iir[g]! | pass) >>> 0;
    this.updateIrq();
  }

  private masterStatus(): number {
    let s = 0;
    for (let g = 0; g < GROUPS; g++) {
      if ((this.iir[g]! & this.ier[g]!) === 0) continue;
      s |= g < R.PIPES ? R.MASTER_DE_PIPE(g) : g === G_PORT ? R.MASTER_DE_PORT : g === G_MISC ? R.MASTER_DE_MISC : R.MASTER_DE_PCH;
    }
    return s >>> 0;
  }

  private updateIrq(): void {
    const level = (this.master & R.MASTER_IRQ_ENABLE) !== 0 && this.masterStatus() !== 0;
    if (level === this.level) return;
    this.level = level;
    if (this.irq.mode === 'intx') {
      this.irq.setIntx(level);
      if (level) this.counters.interrupts++;
    } else if (level) {
      this.counters.interrupts++;
      this.irq.sendMessage(0);
    }
  }

  // ------------------------------------------------------------------ hot-plug

  private onHotplug(i: number, plug: boolean): void {
    const m = this.cfg.monitors[i]!;
    const port = portIndex(m.port);
    if (this.cableIn[i] === plug) return;
    this.cableIn[i] = plug;
    if (plug) this.connected[port] = i;
    else if (this.connected[port] === i) this.connected[port] = -1;
    this.counters.hotplugs++;
    this.updateStrap();
    const shift = R.HOTPLUG_SHIFT(port);
    if ((this.hotplugCtl & (R.HOTPLUG_ENABLE << shift)) === 0) return;
    this.hotplugCtl = (this.hotplugCtl | (R.HOTPLUG_LONG << shift)) >>> 0;
    this.raise(G_SDE, R.SDE_HOTPLUG(port));
  }

  // ------------------------------------------------------------------ events

  private onEvent(kind: number, a0: number, a1: number): void {
    switch (kind) {
      case EV_WELL:
        this.wellState = this.wellStateFromRequests();
        break;
      case EV_DBUF:
        this.dbuf = (this.dbuf & R.DBUF_REQ) !== 0 ? (R.DBUF_REQ | R.DBUF_STATE) >>> 0 : 0;
        break;
      case EV_PLL_LOCK:
        if (a1 === this.pllGen[a0] && this.pllEnable[a0]) this.pllLocked[a0] = true;
        break;
      case EV_PIPE_ON:
        if (a1 === this.pipes[a0]!.gen && !this.pipes[a0]!.running) this.startPipe(a0);
        break;
      case EV_DDI_IDLE:
        if (a1 === this.ddiGen[a0]) {
          const on = (this.ddiBuf[a0]! & R.DDI_BUF_ENABLE) !== 0;
          this.ddiBuf[a0] = on ? this.ddiBuf[a0]! & ~R.DDI_BUF_IDLE : this.ddiBuf[a0]! | R.DDI_BUF_IDLE;
        }
        break;
      case EV_VBLANK:
        if (a1 === this.pipes[a0]!.gen && this.pipes[a0]!.running) this.onVblank(a0);
        break;
      case EV_HOTPLUG:
        this.onHotplug(a0, a1 === 1);
        break;
      case EV_ASYNC: {
        const p = a0 >> 4;
        if (a1 === this.pipes[p]!.gen && this.pipes[p]!.running) this.onAsync(p, a0 & 15);
        break;
      }
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ guest errors

  err(code: DisplayGuestErrorCode, msg: string): void {
    this.recordErr(code, msg);
  }

  private recordErr(code: string, msg: string): void {
    this.counters.guestErrors++;
    this.tracer.guestErr(this.queue.now, this.dev, code, `${this.name}: ${msg}`);
  }
}

/** DDI port letter -> index (B = 1). */
export function portIndex(port: 'B' | 'C' | 'D'): number {
  return port === 'B' ? 1 : port === 'C' ? 2 : 3;
}

/** The DDI IO power well of `port`. */
function ddiWell(port: number): number {
  return port === 0 || port === 4 ? R.WELL_DDI_AE : port + 1;
}

function wellNames(stateBits: number): string {
  const names: string[] = [];
  const label: Record<number, string> = { 0: 'MISC_IO', 1: 'DDI_A_E', 2: 'DDI_B', 3: 'DDI_C', 4: 'DDI_D', 14: 'PW1', 15: 'PW2' };
  for (const i of R.WELLS) if ((stateBits & R.WELL_STATE(i)) !== 0) names.push(label[i]!);
  return names.join('+');
}

function irqGroup(off: number): number {
  if (off >= R.DE_PIPE_BASE && off < R.DE_PIPE_BASE + 0x30) return (off - R.DE_PIPE_BASE) >> 4;
  if (off >= R.DE_PORT_BASE && off < R.DE_PORT_BASE + 0x10) return G_PORT;
  if (off >= R.DE_MISC_BASE && off < R.DE_MISC_BASE + 0x10) return G_MISC;
  if (off >= R.SDE_BASE && off < R.SDE_BASE + 0x10) return G_SDE;
  return -1;
}

function inSubBlock(off: number): boolean {
  if (off >= R.GMBUS_BASE && off < R.GMBUS_BASE + R.GMBUS_SIZE) return true;
  const r = off & 0xff;
  return off >= 0x64000 && off < 0x64000 + 0x100 * R.PORTS && r >= 0x10 && r < 0x10 + R.AUX_SIZE;
}

function liveIndex(p: number, n: number, reg: number): number {
  return (p * R.PLANES + n - 1) * PLANE_LATCHED + (reg >> 2);
}

/**
 * The boot pattern firmware leaves in its framebuffer: eight vertical colour
 * bars over a dark blue background, with a white border, so a handed-off
 * frame is recognisable in a PNG.
 */
export function fillBootPattern(fb: Uint8Array, stride: number, w: number, h: number): void {
  const bars = [0xffffff, 0xffff00, 0x00ffff, 0x00ff00, 0xff00ff, 0xff0000, 0x0000ff, 0x202020];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const border = x < 4 || y < 4 || x >= w - 4 || y >= h - 4;
      const inBars = y >= h / 4 && y < (3 * h) / 4;
      const c = border ? 0xffffff : inBars ? bars[Math.min(7, Math.floor((x * 8) / w))]! : 0x000040;
      const o = y * stride + x * 4;
      fb[o] = c & 0xff;
      fb[o + 1] = (c >>> 8) & 0xff;
      fb[o + 2] = (c >>> 16) & 0xff;
      fb[o + 3] = 0;
    }
  }
}

