/**
 * AHCI 1.3.1 host bus adapter: the ABAR registers (generic host control and
 * per-port registers), link bring-up (COMRESET, spin-up, link loss), HBA
 * reset, interrupts (INTx and single-message MSI) and event dispatch. The
 * command list engine is commands.ts.
 *
 * Control flow (DESIGN.md, "Devices"): an MMIO write updates state and
 * schedules events; fetching commands, moving data and posting FISes happen
 * in events with modelled latency, against one target registered at
 * construction. Events carry (kind, port, slot generation * 32 + slot), so
 * a command whose slot has moved on (ST cleared, COMRESET, reset) drops its
 * stale events when they arrive.
 */
import { FNV_OFFSET, fnvNumber } from '../../sim/hash.js';
import type { DeviceContext, DeviceModel } from '../device.js';
import type { PciFunctionSpec, PciInterrupts } from '../pci/api.js';
import type { DmaPort } from '../../sim/dma.js';
import { NO_EVENT, type EventQueue } from '../../sim/event-queue.js';
import type { MmioHandler } from '../../sim/memory.js';
import type { Rng } from '../../sim/rng.js';
import { ms, us, type Duration } from '../../sim/time.js';
import type { Tracer } from '../../sim/tracer.js';
import type { Disk } from '../disk-image.js';
import { SIG_ATA, STS_READY, Sts } from './ata.js';
import { buildSignatureD2h, D2H_LEN, FIS_BUF_SIZE } from './fis.js';
import type { AhciGuestErrorCode } from './guest-errors.js';
import { buildIdentify, IDENTIFY_SIZE } from './identify.js';
import { AhciPort } from './port.js';
import {
  ABAR_INDEX, ABAR_SIZE, AHCI_VERSION, BOHC_BOS, BOHC_OOC, BOHC_OOS, BOHC_SOOE, CAP2_BOH, CAP_ISS_SHIFT, CAP_NCS_SHIFT,
  CAP_S64A, CAP_SAM, CAP_SCLO, CAP_SNCQ, CAP_SSS, CLB_MASK, CMD_CCS_MASK, CMD_CLO, CMD_CR, CMD_FR, CMD_FRE, CMD_POD, CMD_ST,
  CMD_SUD, FB_MASK, GHC_AE, GHC_HR, GHC_IE, HBA_BOHC, HBA_CAP, HBA_CAP2, HBA_CCC_CTL, HBA_CCC_PORTS, HBA_EM_CTL,
  HBA_EM_LOC, HBA_GHC, HBA_IS, HBA_PI, HBA_VS, IS_DEFINED, IS_DHRS, IS_PCS, IS_PRCS, IS_READ_ONLY, IS_UFS, PORT_BASE,
  PORT_STRIDE, PX_CI, PX_CLB, PX_CLBU, PX_CMD, PX_DEVSLP, PX_FB, PX_FBS, PX_FBU, PX_IE, PX_IS, PX_SACT, PX_SCTL, PX_SERR,
  PX_SIG, PX_SNTF, PX_SSTS, PX_TFD, RFIS_RFIS, SCTL_DEFINED, SCTL_DET_COMRESET, SCTL_DET_DISABLE,
  SERR_DIAG_F, SERR_DIAG_N, SERR_DIAG_X, SSTS_DET_OFFLINE, SSTS_DET_PHY, TFD_RESET, hex, registerName,
} from './regs.js';
import { AhciHostileTiming, AhciTiming } from './timing.js';
import { ahciStall } from './stall.js';
import { PrdWalker } from './transfer.js';
import {
  EV_ACCEPT, EV_DONE, EV_NCQ_DONE, EV_PUMP, onAccept, onDone, onNcqDone, pump,
} from './commands.js';

/** Resolved configuration (index.ts turns props into this). */
export interface AhciConfig {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  ports: number;
  model: string;
  serial: string;
  firmware: string;
  ncqDepth: number;
  /** SATA generation 1..3 (CAP.ISS, PxSSTS.SPD). */
  gen: number;
  staggeredSpinUp: boolean;
  readLatencyUs: number;
  writeLatencyUs: number;
  flushLatencyUs: number;
  latencyJitterPct: number;
  linkUpDelayUs: number;
  faultPort: number;
  faultMediaErrorLba: number;
  faultMediaErrorSectors: number;
  faultLinkDropUs: number;
  faultLinkDownUs: number;
  faultHangCommand: number;
}

// Event kinds (commands.ts has 1..4).
const EV_LINK_UP = 10;
const EV_SIGNATURE = 11;
const EV_CR_OFF = 12;
const EV_FR_OFF = 13;
const EV_HBA_RESET_DONE = 14;
const EV_LINK_DROP = 15;
const EV_LINK_RETURN = 16;
const EV_MSI = 17;

export interface AhciCounters {
  reads: number;
  writes: number;
  flushes: number;
  otherCommands: number;
  ncqCommands: number;
  interrupts: number;
  errors: number;
  guestErrors: number;
  bytesRead: number;
  bytesWritten: number;
  linkUps: number;
}

export class AhciHba implements DeviceModel, MmioHandler {
  readonly type = 'ahci';
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly irq: PciInterrupts;
  readonly dma: DmaPort;
  readonly spec: PciFunctionSpec;
  readonly ports: AhciPort[];
  readonly walker: PrdWalker;
  readonly target: number;
  readonly counters: AhciCounters = {
    reads: 0, writes: 0, flushes: 0, otherCommands: 0, ncqCommands: 0, interrupts: 0, errors: 0, guestErrors: 0,
    bytesRead: 0, bytesWritten: 0, linkUps: 0,
  };

  readonly cap: number;
  readonly pi: number;
  ghc = GHC_AE;
  is = 0;
  bohc = 0;

  readonly readLatency: Duration;
  readonly writeLatency: Duration;
  readonly flushLatency: Duration;
  readonly linkUpDelay: Duration;
  readonly psPerByte: number;
  private readonly jitter: number;
  private readonly rng: Rng;
  private readonly hostile: Rng | null;
  /** Bumped by each HBA reset: delayed MSI messages of an earlier epoch are dropped. */
  private epoch = 0;
  private hrEv = NO_EVENT;
  private intxLevel = false;

  /** Scratch: one command header, one command FIS, one FIS to post, IDENTIFY / log data. */
  readonly hdr = new Uint8Array(32);
  readonly hdrView = new DataView(this.hdr.buffer);
  readonly cfis = new Uint8Array(64);
  readonly fis = new Uint8Array(FIS_BUF_SIZE);
  readonly page = new Uint8Array(IDENTIFY_SIZE);

  constructor(ctx: DeviceContext, readonly cfg: AhciConfig, disks: readonly (Disk | null)[]) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.rng = ctx.rng.fork('media');
    this.hostile = ctx.hostileTiming === true ? ctx.rng.fork('hostile-timing') : null;
    this.readLatency = us(cfg.readLatencyUs);
    this.writeLatency = us(cfg.writeLatencyUs);
    this.flushLatency = us(cfg.flushLatencyUs);
    this.linkUpDelay = us(cfg.linkUpDelayUs);
    this.jitter = cfg.latencyJitterPct / 100;
    this.psPerByte = [0, 6667, 3333, 1667][cfg.gen] ?? 1667;
    this.ports = [];
    for (let p = 0; p < cfg.ports; p++) this.ports.push(new AhciPort(p, disks[p] ?? null));
    this.pi = cfg.ports === 32 ? 0xffffffff : ((1 << cfg.ports) - 1) >>> 0;
    // CAP (3.1.1): 64-bit addressing, NCQ, staggered spin-up (prop), command list override,
    // interface speed, AHCI only (SAM: GHC.AE reads 1), 32 command slots, NP.
    this.cap = (CAP_S64A | CAP_SNCQ | (cfg.staggeredSpinUp ? CAP_SSS : 0) | CAP_SCLO | (cfg.gen << CAP_ISS_SHIFT) | CAP_SAM
      | (31 << CAP_NCS_SHIFT) | (cfg.ports - 1)) >>> 0;

    this.target = ctx.queue.register(ctx.id, this.onEvent);
    this.spec = {
      vendorId: cfg.vendorId,
      deviceId: cfg.deviceId,
      revision: 0x02,
      classCode: 0x010601, // mass storage, SATA, AHCI 1.0 programming interface
      subsystemVendorId: cfg.subsystemVendorId,
      subsystemId: cfg.subsystemId,
      interruptPin: 1,
      bars: [{ index: ABAR_INDEX, kind: 'mem32', size: ABAR_SIZE, prefetchable: false, handler: this }],
      capabilities: { pm: true, msi: { vectors: 1, is64: true, perVectorMask: false } },
    };
    const { irq, dma } = ctx.attachPci(this.spec);
    this.irq = irq;
    this.dma = dma;
    this.walker = new PrdWalker(dma);
    this.powerOn();
    if (cfg.faultLinkDropUs > 0 && cfg.faultPort < cfg.ports) {
      this.queue.schedule(us(cfg.faultLinkDropUs), this.target, EV_LINK_DROP, cfg.faultPort);
    }
  }

  /** `base`, or with hostile timing a seeded delay in [range[0], range[1]]. */
  delay(base: Duration, range: readonly [Duration, Duration]): Duration {
    if (this.hostile === null) return base;
    return this.hostile.int(range[0], range[1]) as Duration;
  }

  /** A media latency with the seeded jitter (latencyJitterPct) or hostile scaling, plus the link transfer time. */
  mediaDelay(base: Duration, bytes: number): Duration {
    let d: number = base;
    if (this.hostile !== null) {
      d = Math.round(d * (AhciHostileTiming.MEDIA_MIN + this.hostile.next() * (AhciHostileTiming.MEDIA_MAX - AhciHostileTiming.MEDIA_MIN)));
    } else if (this.jitter > 0) {
      d = Math.round(d * (1 + this.jitter * (2 * this.rng.next() - 1)));
    }
    return (Math.max(0, d) + bytes * this.psPerByte) as Duration;
  }

  // ---------------------------------------------------------------- DeviceModel

  /** Function-level reset: power-on state, command list and FIS addresses included, links retrained. */
  quiesce(): void {
    for (const p of this.ports) {
      p.clb = 0; p.clbu = 0; p.fb = 0; p.fbu = 0;
      p.commandsIssued = 0;
    }
    this.bohc = 0;
    this.powerOn();
  }

  stateHash(): number {
    let h = FNV_OFFSET;
    for (const v of [this.ghc, this.is, this.bohc, this.intxLevel ? 1 : 0]) h = fnvNumber(h, v);
    for (const p of this.ports) {
      for (const v of [p.clb, p.clbu, p.fb, p.fbu, p.is, p.ie, p.cmd, p.tfd, p.sig, p.ssts, p.sctl, p.serr, p.sact, p.ci,
        p.sntf, p.halted ? 1 : 0, p.ncqOutstanding, p.activeSlot]) h = fnvNumber(h, v);
    }
    const c = this.counters;
    for (const v of [c.reads, c.writes, c.flushes, c.otherCommands, c.interrupts, c.errors, c.bytesRead, c.bytesWritten]) h = fnvNumber(h, v);
    return h >>> 0;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  stall(now: number): string[] {
    return ahciStall(this, now);
  }

  // ---------------------------------------------------------------- MMIO

  /**
   * Register reads (AHCI 1.3.1 3: dword accesses). A narrower or misaligned
   * read returns the addressed bytes and is recorded; reads have no side
   * effects. Reserved space and unimplemented ports read 0.
   */
  read(offset: number, size: number): number {
    const aligned = offset & ~3;
    const lo = this.readReg(aligned);
    if (size === 4 && aligned === offset) return lo;
    this.err('ahci.mmio.width', `${size}-byte read at ${hex(offset)} (${registerName(offset) ?? 'reserved'}): registers are read as aligned dwords`);
    const shift = (offset & 3) * 8;
    let v = shift === 0 ? lo : (lo >>> shift) | (this.readReg(aligned + 4) << (32 - shift));
    if (size < 4) v &= (1 << (size * 8)) - 1;
    return v >>> 0;
  }

  write(offset: number, size: number, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.err('ahci.mmio.width', `${size}-byte write of ${hex(value)} at ${hex(offset)} (${registerName(offset) ?? 'reserved'}) ignored: registers take aligned dword writes`);
      return;
    }
    value >>>= 0;
    if (offset < PORT_BASE) {
      this.writeHostReg(offset, value);
      return;
    }
    const port = (offset - PORT_BASE) >> 7;
    const p = this.ports[port];
    if (p === undefined) {
      if (value !== 0) this.err('ahci.reg.reserved', `write of ${hex(value)} to ${hex(offset)} ignored: port ${port} is not implemented (PI=${hex(this.pi)})`);
      return;
    }
    this.writePortReg(p, (offset - PORT_BASE) & (PORT_STRIDE - 1), value);
  }

  private readReg(offset: number): number {
    if (offset < PORT_BASE) {
      switch (offset) {
        case HBA_CAP: return this.cap;
        case HBA_GHC: return this.ghc >>> 0;
        case HBA_IS: return this.is >>> 0;
        case HBA_PI: return this.pi;
        case HBA_VS: return AHCI_VERSION;
        case HBA_CAP2: return CAP2_BOH;
        case HBA_BOHC: return this.bohc;
        default: return 0;
      }
    }
    const p = this.ports[(offset - PORT_BASE) >> 7];
    if (p === undefined) return 0;
    switch ((offset - PORT_BASE) & (PORT_STRIDE - 1)) {
      case PX_CLB: return p.clb;
      case PX_CLBU: return p.clbu;
      case PX_FB: return p.fb;
      case PX_FBU: return p.fbu;
      case PX_IS: return p.is >>> 0;
      case PX_IE: return p.ie >>> 0;
      case PX_CMD: return p.cmd >>> 0;
      case PX_TFD: return p.tfd;
      case PX_SIG: return p.sig >>> 0;
      case PX_SSTS: return p.ssts;
      case PX_SCTL: return p.sctl;
      case PX_SERR: return p.serr >>> 0;
      case PX_SACT: return p.sact >>> 0;
      case PX_CI: return p.ci >>> 0;
      case PX_SNTF: return p.sntf;
      default: return 0;
    }
  }

  private writeHostReg(offset: number, v: number): void {
    switch (offset) {
      case HBA_GHC: {
        if ((v & GHC_AE) === 0) this.err('ahci.reg.read-only', `GHC write ${hex(v)} clears AE: with CAP.SAM=1 AE is read-only 1 (3.1.2)`);
        if ((v & ~(GHC_AE | GHC_HR | GHC_IE | 4)) !== 0) this.err('ahci.reg.reserved', `GHC write ${hex(v)} sets reserved bits`);
        if ((v & GHC_HR) !== 0) {
          this.hbaReset();
          return;
        }
        const wasIe = (this.ghc & GHC_IE) !== 0;
        this.ghc = ((this.ghc & GHC_HR) | GHC_AE | (v & GHC_IE)) >>> 0;
        if (!wasIe && (v & GHC_IE) !== 0 && this.is !== 0) this.sendMsi();
        this.updateIntx();
        return;
      }
      case HBA_IS: {
        // RW1C per port bit (3.1.3); a port whose PxIS still holds an enabled bit keeps its bit set.
        this.is = (this.is & ~v) >>> 0;
        for (const p of this.ports) if ((p.is & p.ie) !== 0) this.is = (this.is | (1 << p.index)) >>> 0;
        this.is &= this.pi;
        this.updateIntx();
        return;
      }
      case HBA_BOHC: {
        // BIOS/OS handoff (10.6): no BIOS owns this HBA; OOS requests are granted at once, OOC is RW1C.
        const ooc = (v & BOHC_OOC) !== 0 ? 0 : (this.bohc & BOHC_OOC);
        const oos = v & BOHC_OOS;
        this.bohc = (oos | (v & BOHC_SOOE) | ooc) & ~BOHC_BOS;
        return;
      }
      case HBA_CAP:
      case HBA_PI:
      case HBA_VS:
      case HBA_CAP2:
        this.err('ahci.reg.read-only', `write of ${hex(v)} to read-only ${registerName(offset)} ignored`);
        return;
      case HBA_CCC_CTL:
      case HBA_CCC_PORTS:
      case HBA_EM_LOC:
      case HBA_EM_CTL:
        if (v !== 0) this.err('ahci.reg.reserved', `write of ${hex(v)} to ${registerName(offset)} ignored: not supported (CAP.CCCS=0, CAP.EMS=0)`);
        return;
      default:
        this.err('ahci.reg.reserved', `write of ${hex(v)} to reserved offset ${hex(offset)} ignored`);
    }
  }

  private writePortReg(p: AhciPort, rel: number, v: number): void {
    const name = PORT_NAMES[rel >> 2];
    switch (rel) {
      case PX_CLB:
      case PX_CLBU:
        if ((p.cmd & (CMD_ST | CMD_CR)) !== 0) {
          this.err('ahci.clb.while-running', `P${p.index}${name} write ${hex(v)} ignored: PxCMD.ST or CR is 1 (3.3.1)`);
          return;
        }
        if (rel === PX_CLBU) {
          p.clbu = v;
          return;
        }
        if ((v & ~CLB_MASK) !== 0) this.err('ahci.clb.unaligned', `P${p.index}CLB write ${hex(v)}: bits 9:0 are reserved, the command list is 1 KiB aligned (3.3.1)`);
        p.clb = (v & CLB_MASK) >>> 0;
        return;
      case PX_FB:
      case PX_FBU:
        if ((p.cmd & (CMD_FRE | CMD_FR)) !== 0) {
          this.err('ahci.fb.while-running', `P${p.index}${name} write ${hex(v)} ignored: PxCMD.FRE or FR is 1 (3.3.3)`);
          return;
        }
        if (rel === PX_FBU) {
          p.fbu = v;
          return;
        }
        if ((v & ~FB_MASK) !== 0) this.err('ahci.fb.unaligned', `P${p.index}FB write ${hex(v)}: bits 7:0 are reserved, the FIS area is 256-byte aligned (3.3.3)`);
        p.fb = (v & FB_MASK) >>> 0;
        return;
      case PX_IS:
        // RW1C except UFS, PCS, PRCS, which follow PxSERR (3.3.5).
        p.is = (p.is & ~(v & IS_DEFINED & ~IS_READ_ONLY)) >>> 0;
        this.updateIntx();
        return;
      case PX_IE: {
        if ((v & ~IS_DEFINED) !== 0) this.err('ahci.reg.reserved', `P${p.index}IE write ${hex(v)} sets reserved bits; they read 0`);
        const newly = v & ~p.ie & p.is;
        p.ie = (v & IS_DEFINED) >>> 0;
        if (newly !== 0) this.portInterrupt(p);
        return;
      }
      case PX_CMD:
        this.writeCmd(p, v);
        return;
      case PX_SCTL:
        this.writeSctl(p, v);
        return;
      case PX_SERR: {
        // RW1C (3.3.12); clearing DIAG.N / DIAG.X / DIAG.F clears PxIS.PRCS / PCS / UFS.
        p.serr = (p.serr & ~v) >>> 0;
        if ((p.serr & SERR_DIAG_N) === 0) p.is &= ~IS_PRCS;
        if ((p.serr & SERR_DIAG_X) === 0) p.is &= ~IS_PCS;
        if ((p.serr & SERR_DIAG_F) === 0) p.is &= ~IS_UFS;
        p.is >>>= 0;
        this.updateIntx();
        return;
      }
      case PX_SACT:
        if ((p.cmd & CMD_ST) === 0) {
          if (v !== 0) this.err('ahci.sact.not-started', `P${p.index}SACT write ${hex(v)} ignored: PxCMD.ST is 0 (3.3.13)`);
          return;
        }
        p.sact = (p.sact | v) >>> 0;
        return;
      case PX_CI: {
        if ((p.cmd & CMD_ST) === 0) {
          if (v !== 0) this.err('ahci.ci.not-started', `P${p.index}CI write ${hex(v)} ignored: PxCMD.ST is 0, commands cannot be issued to a stopped port (3.3.14)`);
          return;
        }
        const issued = v & ~p.ci;
        if (issued === 0) return;
        p.ci = (p.ci | issued) >>> 0;
        p.ciPending = (p.ciPending | issued) >>> 0;
        const now = this.queue.now;
        for (let s = 0; s < 32; s++) if ((issued & (1 << s)) !== 0) p.issuedAt[s] = now;
        this.schedulePump(p);
        return;
      }
      case PX_SNTF:
        p.sntf &= ~(v & 0xffff);
        return;
      case PX_TFD:
      case PX_SIG:
      case PX_SSTS:
        this.err('ahci.reg.read-only', `write of ${hex(v)} to read-only P${p.index}${name} ignored`);
        return;
      case PX_FBS:
      case PX_DEVSLP:
        if (v !== 0) this.err('ahci.reg.reserved', `P${p.index}${name} write ${hex(v)} ignored: not supported (CAP.FBSS=0, CAP2.SDS=0)`);
        return;
      default:
        this.err('ahci.reg.reserved', `write of ${hex(v)} to reserved port ${p.index} offset ${hex(rel)} ignored`);
    }
  }

  /**
   * PxCMD (3.3.7). ST 0 -> 1 starts the command list engine (CR = 1 at once;
   * issuing resumes at slot 0); ST 1 -> 0 clears PxCI, PxSACT and CCS and
   * CR follows after the stop delay (10.3.2). FRE/FR likewise. CLO clears
   * PxTFD BSY and DRQ (CAP.SCLO). SUD spins the device up with CAP.SSS; POD
   * is read-only 1; ICC requests complete at once (reads 0).
   */
  private writeCmd(p: AhciPort, v: number): void {
    const old = p.cmd;
    const now = this.queue.now;
    if ((this.cap & CAP_SSS) !== 0) {
      const sud = v & CMD_SUD;
      p.cmd = (p.cmd & ~CMD_SUD) | sud;
      if (sud !== 0 && (old & CMD_SUD) === 0) {
        p.spunUp = true;
        if ((p.sctl & 0xf) === 0) this.startLink(p, this.linkUpDelay);
      }
    }
    if ((v & CMD_CLO) !== 0) p.tfd &= ~(Sts.BSY | Sts.DRQ);
    // FRE.
    if ((v & CMD_FRE) !== 0 && (old & CMD_FRE) === 0) {
      this.queue.cancel(p.frEv);
      p.frEv = NO_EVENT;
      p.cmd |= CMD_FRE | CMD_FR;
    } else if ((v & CMD_FRE) === 0 && (old & CMD_FRE) !== 0) {
      if ((old & CMD_ST) !== 0 || (v & CMD_ST) !== 0) {
        this.err('ahci.cmd.fre-cleared-while-st', `P${p.index}CMD write ${hex(v)} clears FRE while ST is 1: ignored (3.3.7)`);
      } else {
        p.cmd &= ~CMD_FRE;
        p.frEv = this.queue.schedule(this.delay(AhciTiming.STOP_DELAY, AhciHostileTiming.STOP_DELAY), this.target, EV_FR_OFF, p.index);
      }
    }
    // ST.
    if ((v & CMD_ST) !== 0 && (old & CMD_ST) === 0) {
      if ((p.cmd & CMD_CR) !== 0) {
        this.err('ahci.cmd.st-while-cr', `P${p.index}CMD.ST set while CR is still 1 after clearing ST: software must wait for CR=0 (10.3.1); the stop completes first`);
        this.queue.cancel(p.crEv);
        p.crEv = NO_EVENT;
      }
      if ((p.cmd & CMD_FRE) === 0) {
        this.err('ahci.cmd.st-without-fre', `P${p.index}CMD.ST set while FRE is 0 (10.3.1): received FISes will not be posted`);
      }
      p.cmd = (p.cmd | CMD_ST | CMD_CR) & ~CMD_CCS_MASK;
      p.nextSlot = 0;
      p.halted = false;
      this.tracer.milestone(now, this.dev, 'port.start', p.index, 0);
    } else if ((v & CMD_ST) === 0 && (old & CMD_ST) !== 0) {
      this.stopEngine(p);
      p.crEv = this.queue.schedule(this.delay(AhciTiming.STOP_DELAY, AhciHostileTiming.STOP_DELAY), this.target, EV_CR_OFF, p.index);
    }
    p.cmd >>>= 0;
  }

  /**
   * ST 1 -> 0 (3.3.7, 10.3.2): PxCI, PxSACT and CCS clear; commands in the
   * HBA are dropped. A non-queued command the device was executing leaves
   * the device busy (PxTFD.STS.BSY stays 1: software needs CLO or COMRESET,
   * 6.2.2.2).
   */
  private stopEngine(p: AhciPort): void {
    const busy = p.activeSlot >= 0;
    p.dropCommands();
    p.ci = 0;
    p.sact = 0;
    p.halted = false;
    p.cmd = (p.cmd & ~(CMD_ST | CMD_CCS_MASK)) >>> 0;
    if (busy) p.tfd |= Sts.BSY;
    this.queue.cancel(p.pumpEv);
    p.pumpEv = NO_EVENT;
    this.tracer.milestone(this.queue.now, this.dev, 'port.stop', p.index, 0);
  }

  /**
   * PxSCTL (3.3.11). DET 0 -> 1: COMRESET is asserted (link down, PxTFD and
   * PxSIG to their reset values, commands lost). DET 1 -> 0: COMRESET
   * released; a device answers and the link comes up after linkUpDelayUs.
   * DET 4: interface disabled (PxSSTS.DET = 4).
   */
  private writeSctl(p: AhciPort, v: number): void {
    if ((v & ~SCTL_DEFINED) !== 0) this.err('ahci.reg.reserved', `P${p.index}SCTL write ${hex(v)} sets reserved bits; they read 0`);
    const oldDet = p.sctl & 0xf;
    const det = v & 0xf;
    p.sctl = v & SCTL_DEFINED;
    if (det === oldDet) return;
    if ((p.cmd & CMD_ST) !== 0) {
      this.err('ahci.sctl.while-started', `P${p.index}SCTL.DET ${oldDet} -> ${det} while PxCMD.ST is 1 (3.3.11): running commands are lost`);
    }
    const now = this.queue.now;
    if (det === SCTL_DET_COMRESET) {
      p.comresetAt = now;
      this.linkReset(p);
      this.tracer.milestone(now, this.dev, 'comreset', p.index, 0);
      return;
    }
    if (det === SCTL_DET_DISABLE) {
      this.linkReset(p);
      p.ssts = SSTS_DET_OFFLINE;
      return;
    }
    if (det === 0) {
      if (oldDet === SCTL_DET_COMRESET && p.comresetAt >= 0 && now - p.comresetAt < ms(1)) {
        this.err('ahci.sctl.comreset-short', `P${p.index}SCTL.DET back to 0 ${((now - p.comresetAt) / 1e6).toFixed(1)} us after COMRESET: it must be held at least 1 ms (10.4.2)`);
      }
      p.comresetAt = -1;
      if (oldDet === SCTL_DET_DISABLE) p.ssts = 0;
      if (this.spunUp(p)) this.startLink(p, this.linkUpDelay);
    }
  }

  /** The port's device is spun up (without CAP.SSS it spins up at reset). */
  private spunUp(p: AhciPort): boolean {
    return (this.cap & CAP_SSS) === 0 || p.spunUp;
  }

  /** Link down at once: PHY not ready, commands lost, PxTFD/PxSIG to reset values (QEMU and real HBAs alike). */
  private linkReset(p: AhciPort): void {
    p.linkEpoch++;
    this.queue.cancel(p.linkEv);
    p.linkEv = NO_EVENT;
    p.ssts = 0;
    p.tfd = TFD_RESET;
    p.sig = 0xffffffff;
    p.dropCommands();
    p.ci = 0;
    p.sact = 0;
  }

  /** A device is attached and may answer: the link comes up after `after`. */
  private startLink(p: AhciPort, after: Duration): void {
    if (!p.hasDevice || p.faultLinkDown) return;
    this.queue.cancel(p.linkEv);
    p.linkEv = this.queue.schedule(after, this.target, EV_LINK_UP, p.index, p.linkEpoch);
  }

  /**
   * PHY ready (10.1.2): PxSSTS.DET = 3 at the configured speed, interface
   * active; PxSERR.DIAG.N (PhyRdy change) and DIAG.X (COMINIT, device
   * exchanged) set, so PxIS.PRCS and PxIS.PCS. The device is busy running
   * its reset diagnostics until its signature FIS.
   */
  private linkUp(p: AhciPort): void {
    p.ssts = SSTS_DET_PHY | (this.cfg.gen << 4) | (1 << 8);
    p.tfd = Sts.BSY;
    p.serr = (p.serr | SERR_DIAG_N | SERR_DIAG_X) >>> 0;
    this.counters.linkUps++;
    this.tracer.milestone(this.queue.now, this.dev, 'link.up', p.index, this.cfg.gen);
    this.raise(p, IS_PRCS | IS_PCS);
    p.linkEv = this.queue.schedule(this.delay(AhciTiming.SIGNATURE_DELAY, AhciHostileTiming.SIGNATURE_DELAY), this.target, EV_SIGNATURE, p.index, p.linkEpoch);
  }

  /** The device's first D2H Register FIS after reset: PxSIG, PxTFD, posted to the RFIS area when FRE is 1 (3.3.9, 4.2.1). */
  private signature(p: AhciPort): void {
    p.sig = SIG_ATA;
    p.tfd = (0x01 << 8) | STS_READY;
    buildSignatureD2h(this.fis, STS_READY, SIG_ATA);
    if (this.postFis(p, RFIS_RFIS, D2H_LEN)) this.raise(p, IS_DHRS);
    this.schedulePump(p);
  }

  /** Fault faultLinkDropUs: the link goes down; commands on the device are lost (they stay in PxCI/PxSACT). */
  private linkDrop(p: AhciPort): void {
    p.faultLinkDown = true;
    p.linkEpoch++;
    this.queue.cancel(p.linkEv);
    p.linkEv = NO_EVENT;
    p.ssts = 0;
    // Commands the device held never complete; the HBA keeps their PxCI/PxSACT bits set.
    p.dropCommands();
    p.serr = (p.serr | SERR_DIAG_N) >>> 0;
    this.tracer.milestone(this.queue.now, this.dev, 'link.down', p.index, 0);
    this.raise(p, IS_PRCS);
    if (this.cfg.faultLinkDownUs > 0) {
      this.queue.schedule(us(this.cfg.faultLinkDownUs), this.target, EV_LINK_RETURN, p.index);
    }
  }

  /**
   * GHC.HR (10.4.3): every port's registers except PxCLB/PxFB to reset
   * values, GHC.IE and IS cleared, all commands dropped; HR reads 1 until the
   * reset is done, then ports with devices retrain (without CAP.SSS).
   */
  private hbaReset(): void {
    this.epoch++;
    this.ghc = GHC_AE | GHC_HR;
    this.is = 0;
    for (const p of this.ports) {
      p.linkEpoch++;
      this.queue.cancel(p.linkEv);
      this.queue.cancel(p.crEv);
      this.queue.cancel(p.frEv);
      this.queue.cancel(p.pumpEv);
      p.linkEv = NO_EVENT; p.crEv = NO_EVENT; p.frEv = NO_EVENT; p.pumpEv = NO_EVENT;
      p.dropCommands();
      p.is = 0; p.ie = 0; p.ssts = 0; p.sctl = 0; p.serr = 0; p.sact = 0; p.ci = 0; p.sntf = 0;
      p.tfd = TFD_RESET;
      p.sig = 0xffffffff;
      p.cmd = CMD_POD | ((this.cap & CAP_SSS) === 0 ? CMD_SUD : 0);
      p.spunUp = false;
      p.halted = false;
      p.comresetAt = -1;
      p.writeCache = true;
      p.readLookAhead = true;
      p.ncqErrValid = false;
    }
    this.updateIntx();
    this.tracer.milestone(this.queue.now, this.dev, 'reset', 0, 0);
    this.queue.cancel(this.hrEv);
    this.hrEv = this.queue.schedule(this.delay(AhciTiming.HBA_RESET_DELAY, AhciHostileTiming.HBA_RESET_DELAY), this.target, EV_HBA_RESET_DONE);
  }

  /** Power-on: registers to reset values; ports with devices bring their links up. */
  private powerOn(): void {
    this.hbaReset();
    this.queue.cancel(this.hrEv);
    this.ghc = GHC_AE;
    for (const p of this.ports) if (this.spunUp(p)) this.startLink(p, this.linkUpDelay);
  }

  // ---------------------------------------------------------------- events

  private readonly onEvent = (kind: number, a0: number, a1: number): void => {
    const p = this.ports[a0];
    switch (kind) {
      case EV_PUMP:
        if (p !== undefined) {
          p.pumpEv = NO_EVENT;
          pump(this, p);
        }
        return;
      case EV_ACCEPT:
        if (p !== undefined) onAccept(this, p, a1);
        return;
      case EV_DONE:
        if (p !== undefined) onDone(this, p, a1);
        return;
      case EV_NCQ_DONE:
        if (p !== undefined) onNcqDone(this, p, a1);
        return;
      case EV_LINK_UP:
        if (p !== undefined && a1 === p.linkEpoch && !p.faultLinkDown) this.linkUp(p);
        return;
      case EV_SIGNATURE:
        if (p !== undefined && a1 === p.linkEpoch) {
          p.linkEv = NO_EVENT;
          this.signature(p);
        }
        return;
      case EV_CR_OFF:
        if (p !== undefined) {
          p.crEv = NO_EVENT;
          p.cmd = (p.cmd & ~CMD_CR) >>> 0;
        }
        return;
      case EV_FR_OFF:
        if (p !== undefined) {
          p.frEv = NO_EVENT;
          p.cmd = (p.cmd & ~CMD_FR) >>> 0;
        }
        return;
      case EV_HBA_RESET_DONE:
        this.hrEv = NO_EVENT;
        this.ghc &= ~GHC_HR;
        this.ghc >>>= 0;
        for (const q of this.ports) if (this.spunUp(q)) this.startLink(q, this.linkUpDelay);
        return;
      case EV_LINK_DROP:
        if (p !== undefined) this.linkDrop(p);
        return;
      case EV_LINK_RETURN:
        if (p !== undefined) {
          p.faultLinkDown = false;
          if ((p.sctl & 0xf) === 0 && this.spunUp(p)) this.startLink(p, AhciTiming.LINK_RETURN_DELAY);
        }
        return;
      case EV_MSI:
        if (a0 === this.epoch) this.deliverMsi();
        return;
      default:
        return;
    }
  };

  schedulePump(p: AhciPort): void {
    if (p.ciPending === 0 || this.queue.isPending(p.pumpEv)) return;
    p.pumpEv = this.queue.schedule(this.delay(AhciTiming.ISSUE_DELAY, AhciHostileTiming.ISSUE_DELAY), this.target, EV_PUMP, p.index);
  }

  // ---------------------------------------------------------------- FIS posting

  /**
   * Posts the FIS in `this.fis` (len bytes) at `off` of the port's received
   * FIS area, when FRE is 1 (3.3.7). Returns true if the FIS counts as
   * received (posted, or FRE off: the HBA still takes it into PxTFD);
   * false if the DMA was refused (PxIS.HBFS raised, port halted).
   */
  postFis(p: AhciPort, off: number, len: number): boolean {
    if ((p.cmd & CMD_FRE) === 0) return true;
    if (!this.dma.write(p.fbAddr + off, this.fis, 0, len, 'ahci.fis')) {
      this.hostBusFatal(p, `posting a received FIS at ${hex(p.fbAddr + off)}`);
      return false;
    }
    return true;
  }

  /** PxIS.HBFS (6.1.2): a refused DMA; the port stops until ST is cleared. */
  hostBusFatal(p: AhciPort, what: string): void {
    this.err('ahci.hbfs', `port ${p.index}: DMA refused ${what}: PxIS.HBFS, the port stops until PxCMD.ST is cleared (6.2.2)`);
    p.halted = true;
    this.counters.errors++;
    this.raise(p, 1 << 29);
  }

  // ---------------------------------------------------------------- interrupts

  /** Sets PxIS bits; an enabled one makes the port's IS bit pending and interrupts (3.3.5, 3.1.3). */
  raise(p: AhciPort, bits: number): void {
    const fresh = bits & ~p.is;
    p.is = (p.is | bits) >>> 0;
    if ((fresh & p.ie) !== 0) this.portInterrupt(p);
  }

  private portInterrupt(p: AhciPort): void {
    this.is = (this.is | (1 << p.index)) >>> 0;
    if ((this.ghc & GHC_IE) === 0) return;
    if (this.irq.mode === 'intx') this.updateIntx();
    else this.sendMsi();
  }

  /** One message per new interrupt (MSI, 1 vector: MRSM never set). */
  private sendMsi(): void {
    if (this.irq.mode === 'intx' || (this.ghc & GHC_IE) === 0) return;
    if (this.hostile !== null) {
      this.queue.schedule(this.hostile.int(AhciHostileTiming.MSI_DELAY[0], AhciHostileTiming.MSI_DELAY[1]) as Duration, this.target, EV_MSI, this.epoch);
      return;
    }
    this.deliverMsi();
  }

  private deliverMsi(): void {
    this.counters.interrupts++;
    this.irq.sendMessage(0);
  }

  /** INTx level: GHC.IE and any IS bit (3.1.2, 3.1.3); deasserted in MSI mode. */
  updateIntx(): void {
    const level = this.irq.mode === 'intx' && (this.ghc & GHC_IE) !== 0 && this.is !== 0;
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    if (level) this.counters.interrupts++;
    this.irq.setIntx(level);
  }

  // ---------------------------------------------------------------- helpers

  err(code: AhciGuestErrorCode, message: string): void {
    this.counters.guestErrors++;
    this.tracer.guestErr(this.queue.now, this.dev, code, `${this.name}: ${message}`);
  }

  /** IDENTIFY DEVICE data of the port's disk into `this.page`. */
  identify(p: AhciPort): Uint8Array {
    const disk = p.disk!;
    buildIdentify(this.page, {
      serial: p.index === 0 ? this.cfg.serial : `${this.cfg.serial}-${p.index}`,
      firmware: this.cfg.firmware,
      model: this.cfg.model,
      sectors: disk.blocks,
      ncqDepth: this.cfg.ncqDepth,
      gen: this.cfg.gen,
      writeCache: p.writeCache,
      readLookAhead: p.readLookAhead,
    });
    return this.page;
  }
}

const PORT_NAMES: readonly string[] = (() => {
  const n: string[] = [];
  for (let i = 0; i < PORT_STRIDE / 4; i++) n.push(registerName(PORT_BASE + i * 4)?.replace(/^P0/, '') ?? `+${hex(i * 4)}`);
  return n;
})();
