/**
 * NVMe 1.4 controller: registers, doorbells, queue processing, completion
 * posting, interrupts, asynchronous events, reset and shutdown. Admin and
 * I/O command semantics live in admin.ts and io.ts; PRPs in prp.ts.
 *
 * Control flow (DESIGN.md, "Devices"): an MMIO write only updates state and
 * schedules events; fetching SQEs, moving data and posting CQEs happen in
 * events with modelled latency. Events carry (kind, a0) numbers against one
 * target registered at construction; per-queue and per-slot handles are kept
 * so reset and fatal errors can cancel outstanding work.
 */
import { FNV_OFFSET, fnvArray, fnvNumber } from '../../sim/hash.js';
import type { DeviceContext, DeviceModel } from '../device.js';
import type { PciFunctionSpec, PciInterrupts } from '../pci/api.js';
import type { DmaPort } from '../../sim/dma.js';
import { NO_EVENT, type EventQueue } from '../../sim/event-queue.js';
import type { MmioHandler } from '../../sim/memory.js';
import type { Rng } from '../../sim/rng.js';
import { ns, us, type Duration } from '../../sim/time.js';
import type { Tracer } from '../../sim/tracer.js';
import { dispatchAdmin, execAdmin } from './admin.js';
import type { Disk } from '../disk-image.js';
import {
  buildIdentifyController, buildIdentifyNamespace, buildNsDescriptors, AERL, IDENTIFY_SIZE, NSID_BROADCAST, SMART_LOG_SIZE,
  classifyNsid, type IdentifyConfig,
} from './identify.js';
import { Media, mediaDone, startIo } from './io.js';
import { defaultFeatures, type Features } from './features.js';
import { DataMover } from './prp.js';
import { Queues, Slots, SLOT_AER, SLOT_WAIT_POST, SQ_ACTIVE, SQ_DELETING, SQ_NONE } from './queues.js';
import {
  AQA_DEFINED, AQ_BASE_MASK, BAR0_SIZE, CAP_CQR, CAP_HI_CSS_NVM, CAP_HI_MPSMAX_SHIFT, CAP_HI_MPSMIN_SHIFT,
  CAP_HI_NSSRS, CAP_TO_SHIFT, CC_AMS_SHIFT, CC_CSS_SHIFT, CC_DEFINED, CC_EN, CC_IOCQES_SHIFT, CC_IOSQES_SHIFT,
  CC_LOCKED_WHILE_ENABLED, CC_MPS_SHIFT, CC_SHN_MASK, CC_SHN_SHIFT, CQE_SIZE, CQES, CSTS_CFS, CSTS_NSSRO,
  CSTS_RDY, CSTS_SHST_COMPLETE, CSTS_SHST_MASK, CSTS_SHST_OCCURRING, DOORBELL_BASE, DOORBELL_END, MPSMAX, MPSMIN,
  MSI_VECTORS, MSIX_PBA_OFFSET, MSIX_TABLE_OFFSET, NSSR_MAGIC, NVME_VERSION, REG_ACQ, REG_ACQ_HI, REG_AQA, REG_ASQ, REG_ASQ_HI,
  REG_CAP, REG_CAP_HI, REG_CC, REG_CSTS, REG_INTMC, REG_INTMS, REG_NSSR, REG_VS, SQE_SIZE, SQES, doorbellName, hex,
  registerName,
} from './regs.js';
import { AeErrorInfo, AeType, Lid, cmdGuestErrorCode, opcodeName, statusName, withDnr } from './status.js';
import type { NvmeGuestErrorCode } from './guest-errors.js';
import { nvmeStall } from './stall.js';
import { SqSanitizer } from './sanitize.js';

/** Resolved device configuration (index.ts turns props into this). */
export interface NvmeConfig {
  vendorId: number;
  deviceId: number;
  subsystemVendorId: number;
  subsystemId: number;
  lbaSize: number;
  maxQueueEntries: number;
  ioQueuePairs: number;
  msixVectors: number;
  readLatencyUs: number;
  writeLatencyUs: number;
  flushLatencyUs: number;
  latencyJitterPct: number;
  readyDelayMs: number;
  timeout500ms: number;
  serial: string;
  model: string;
  firmware: string;
  mdts: number;
  mediaChannels: number;
  /** Fault: the n-th Read or Write (counted from power-on) stalls: it is queued but never starts (0 = off). Abort takes it back. */
  faultStallIo?: number;
  /** Number of Namespaces (Identify Controller NN): valid NSIDs are 1..namespaces. Default 1. */
  namespaces?: number;
  /** The one active NSID, backed by the disk image (1..namespaces); every other valid NSID is inactive. Default 1. */
  activeNsid?: number;
}

/** Fixed controller timings (device-internal; the media latencies are props). */
export const Timing = {
  /** Doorbell write to SQE fetch: a PCIe read round trip. */
  FETCH_DELAY: ns(500),
  /** Gap between arbitration bursts fetched from one SQ. */
  FETCH_INTERVAL: ns(100),
  /** Admin command execution. */
  ADMIN_LATENCY: us(5),
  /** CQ head doorbell to posting completions that waited for room. */
  CQ_DRAIN_DELAY: ns(100),
  /** CC.EN 1 -> 0 to CSTS.RDY = 0. */
  RESET_DELAY: us(10),
  /** CC.EN 0 -> 1 with an invalid configuration to CSTS.CFS = 1. */
  ENABLE_FAIL_DELAY: us(10),
  /** CC.SHN set to CSTS.SHST = 10b (complete). */
  SHUTDOWN_DELAY: us(500),
} as const;

/**
 * Hostile timing (machine option `hostileTiming`): ranges the seeded delays
 * are drawn from. NVMe sets no bound on when a controller fetches an entry
 * made available, executes a command or signals an interrupt (4.1, 7.2), so
 * any delay is within the spec; these are wide enough to reorder work across
 * queues and interrupts, small enough to stay far from driver timeouts.
 * Media latencies are scaled by MEDIA_MIN..MEDIA_MAX; the ready delay is
 * drawn from half to twice readyDelayMs, capped by CAP.TO.
 */
export const HostileTiming = {
  FETCH_DELAY: [ns(100), us(20)],
  FETCH_INTERVAL: [ns(50), us(5)],
  ADMIN_LATENCY: [us(1), us(100)],
  CQ_DRAIN_DELAY: [ns(50), us(10)],
  /** Completion posted to MSI/MSI-X message delivered (the CQE write is ordered before it). */
  MSI_DELAY: [ns(0), us(10)],
  MEDIA_MIN: 0.25,
  MEDIA_MAX: 4,
} as const;

/** Command contexts: admin queue and shared by the I/O queues. */
export const ADMIN_SLOTS = 32;
export const IO_SLOTS = 256;
/** Asynchronous events retained while no AER is outstanding (further ones are dropped). */
const AE_QUEUE_MAX = 8;

// Event kinds.
const EV_READY = 1;
const EV_ENABLE_FAIL = 2;
const EV_RESET_DONE = 3;
const EV_SHN_DONE = 4;
const EV_FETCH = 5;
const EV_ADMIN = 6;
const EV_MEDIA = 7;
const EV_CQ_DRAIN = 8;
const EV_COALESCE = 9;
/** Hostile timing: a delayed MSI/MSI-X message (a0 vector, a1 reset epoch). */
const EV_MSI = 10;

/** Milestone "reset" argument a: what caused the reset. */
export const ResetCause = { CC_EN: 0, NSSR: 1, FUNCTION: 2 } as const;
/** Milestone "fatal" argument a: what failed. */
export const FatalCause = { ENABLE: 0, SQ_FETCH: 1, CQ_POST: 2 } as const;

export interface NvmeCounters {
  reads: number;
  writes: number;
  flushes: number;
  adminCommands: number;
  interrupts: number;
  errors: number;
  guestErrors: number;
  bytesRead: number;
  bytesWritten: number;
}

export class NvmeController implements DeviceModel, MmioHandler {
  readonly type = 'nvme';
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly irq: PciInterrupts;
  readonly dma: DmaPort;
  readonly spec: PciFunctionSpec;
  readonly q: Queues;
  readonly slots: Slots;
  readonly mover: DataMover;
  readonly media: Media;
  /** Commands held by the stall fault: queued, never started (Abort and SQ deletion find them). */
  readonly stalled: Media;
  /** Reads and Writes accepted so far (for the stall fault). */
  ioAccepted = 0;
  readonly counters: NvmeCounters = {
    reads: 0, writes: 0, flushes: 0, adminCommands: 0, interrupts: 0, errors: 0, guestErrors: 0,
    bytesRead: 0, bytesWritten: 0,
  };

  // Identify data, built once, and a scratch page for per-request structures.
  readonly idController: Uint8Array;
  readonly idNamespace: Uint8Array;
  readonly idNsDescriptors: Uint8Array;
  /** Number of Namespaces (NN): NSIDs 1..nn are valid. */
  readonly nn: number;
  /** The active NSID (the disk image); the other valid NSIDs are inactive. */
  readonly activeNsid: number;
  readonly scratch = new Uint8Array(Math.max(IDENTIFY_SIZE, SMART_LOG_SIZE));

  /** Largest transfer (MDTS, in units of the minimum page size). */
  readonly mdtsBytes: number;
  readonly readLatency: Duration;
  readonly writeLatency: Duration;
  readonly flushLatency: Duration;
  private readonly readyDelay: Duration;
  private readonly jitter: number;
  private readonly rng: Rng;
  private readonly target: number;
  /** Submission-entry sanitizer (machine option `sanitize`), or null. */
  readonly sqSan: SqSanitizer | null;
  /** Hostile timing stream (machine option `hostileTiming`), or null for the documented fixed delays. */
  private readonly hostile: Rng | null;
  /** Incremented by each controller reset: delayed messages of an earlier epoch are dropped. */
  private epoch = 0;

  // Registers.
  private readonly capLo: number;
  private readonly capHi: number;
  cc = 0;
  csts = 0;
  intms = 0;
  aqa = 0;
  asqLo = 0;
  asqHi = 0;
  acqLo = 0;
  acqHi = 0;

  /** Commands are processed: the ready event ran and no fatal error or reset since. */
  running = false;
  /** log2 of the memory page size chosen by CC.MPS at enable. */
  pageShift = 12;
  features: Features = defaultFeatures();

  private ctrlEv = NO_EVENT;
  private shnEv = NO_EVENT;
  private anyStarved = false;

  /** Time the last completion was posted: part of the state digest, so a timing change shows in it. */
  private lastPostPs = 0;

  // Interrupt state.
  private intxLevel = false;
  /** MSI vectors (bit per vector < 32) with an interrupt held back by INTMS. */
  private msiPending = 0;
  readonly aggCount: Int32Array;
  readonly coalesceEv: Float64Array;
  /** Interrupt Vector Configuration CD (coalescing disable) per vector. */
  readonly vectorCd: Uint8Array;

  // Asynchronous events (5.2).
  readonly aerSlots = new Int32Array(AERL + 1);
  aerCount = 0;
  private readonly aeQueue = new Int32Array(AE_QUEUE_MAX);
  private aeCount = 0;
  /** Event types reported and not yet cleared by reading their log page. */
  private aeMask = 0;

  private readonly cqe = new Uint8Array(CQE_SIZE);
  private readonly cqeView = new DataView(this.cqe.buffer);

  constructor(ctx: DeviceContext, readonly cfg: NvmeConfig, readonly disk: Disk) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.rng = ctx.rng.fork('media');
    this.mdtsBytes = 4096 * 2 ** cfg.mdts;
    this.readLatency = us(cfg.readLatencyUs);
    this.writeLatency = us(cfg.writeLatencyUs);
    this.flushLatency = us(cfg.flushLatencyUs);
    this.readyDelay = us(cfg.readyDelayMs * 1000);
    this.jitter = cfg.latencyJitterPct / 100;

    // CAP (3.1.1): MQES, CQR = 1 (contiguous queues required), AMS = 0
    // (round robin only), TO; DSTRD = 0, NSSRS = 1, CSS = NVM, MPSMIN/MAX.
    this.capLo = ((cfg.maxQueueEntries - 1) | CAP_CQR | (cfg.timeout500ms << CAP_TO_SHIFT)) >>> 0;
    this.capHi = (CAP_HI_NSSRS | CAP_HI_CSS_NVM | (MPSMIN << CAP_HI_MPSMIN_SHIFT) | (MPSMAX << CAP_HI_MPSMAX_SHIFT)) >>> 0;

    this.q = new Queues(cfg.ioQueuePairs);
    this.slots = new Slots(ADMIN_SLOTS, IO_SLOTS, 2 ** cfg.mdts + 1);
    this.media = new Media(cfg.mediaChannels, this.slots);
    this.stalled = new Media(0, this.slots);
    const nvec = Math.max(cfg.msixVectors, MSI_VECTORS);
    this.aggCount = new Int32Array(nvec);
    this.coalesceEv = new Float64Array(nvec).fill(NO_EVENT);
    this.vectorCd = new Uint8Array(nvec);

    this.nn = cfg.namespaces ?? 1;
    this.activeNsid = cfg.activeNsid ?? 1;
    if (!Number.isInteger(this.nn) || this.nn < 1 || this.nn >= NSID_BROADCAST - 1) {
      throw new RangeError(`${ctx.id}: namespaces ${this.nn} must be an integer 1..${NSID_BROADCAST - 2}`);
    }
    if (!Number.isInteger(this.activeNsid) || this.activeNsid < 1 || this.activeNsid > this.nn) {
      throw new RangeError(`${ctx.id}: activeNsid ${this.activeNsid} must be an integer 1..namespaces (${this.nn})`);
    }
    const idCfg: IdentifyConfig = {
      vendorId: cfg.vendorId, subsystemVendorId: cfg.subsystemVendorId, serial: cfg.serial, model: cfg.model,
      firmware: cfg.firmware, mdts: cfg.mdts, blocks: disk.blocks, lbaSize: cfg.lbaSize,
      namespaces: this.nn, activeNsid: this.activeNsid,
    };
    this.idController = buildIdentifyController(idCfg);
    this.idNamespace = buildIdentifyNamespace(idCfg);
    this.idNsDescriptors = buildNsDescriptors(idCfg);

    this.target = ctx.queue.register(`${ctx.id}`, this.onEvent);
    this.spec = {
      vendorId: cfg.vendorId,
      deviceId: cfg.deviceId,
      revision: 0x02,
      classCode: 0x010802, // mass storage, NVM, NVMe I/O controller
      subsystemVendorId: cfg.subsystemVendorId,
      subsystemId: cfg.subsystemId,
      interruptPin: 1,
      bars: [{ index: 0, kind: 'mem64', size: BAR0_SIZE, prefetchable: false, handler: this }],
      capabilities: {
        pm: true,
        msi: { vectors: MSI_VECTORS, is64: true, perVectorMask: true },
        msix: {
          tableSize: cfg.msixVectors, tableBar: 0, tableOffset: MSIX_TABLE_OFFSET, pbaBar: 0, pbaOffset: MSIX_PBA_OFFSET,
        },
        pcie: true,
      },
    };
    const { irq, dma } = ctx.attachPci(this.spec);
    this.irq = irq;
    this.dma = dma;
    this.mover = new DataMover(dma, this.slots);
    this.sqSan = ctx.sanitize === true ? new SqSanitizer(this.q.count, dma) : null;
    this.hostile = ctx.hostileTiming === true ? ctx.rng.fork('hostile-timing') : null;
  }

  /** What `nsid` names on this controller: NS_ACTIVE, NS_INACTIVE, NS_INVALID or NS_BROADCAST (./identify.ts). */
  nsidKind(nsid: number): number {
    return classifyNsid(nsid, this.nn, this.activeNsid);
  }

  /** For messages: "namespace 1 is the only one", or NN and the active NSID. */
  nsSummary(): string {
    return this.nn === 1 ? 'namespace 1 is the only one' : `NN is ${this.nn}, NSID ${this.activeNsid} is the only active namespace`;
  }

  /** `base`, or with hostile timing a seeded delay in [range[0], range[1]]. */
  delay(base: Duration, range: readonly [Duration, Duration]): Duration {
    if (this.hostile === null) return base;
    return this.hostile.int(range[0], range[1]) as Duration;
  }

  // ---------------------------------------------------------------- DeviceModel

  /** Function-level reset: every register to its power-on value, all work dropped, RDY = 0 at once. */
  quiesce(): void {
    this.controllerReset(ResetCause.FUNCTION);
    this.resetRegisters();
    this.csts &= CSTS_NSSRO; // NSSRO is cleared only by the host (3.1.6)
  }

  /** Registers, queue pointers and phases, interrupt state and counters (see DeviceModel.stateHash). */
  stateHash(): number {
    const q = this.q;
    let h = FNV_OFFSET;
    for (const v of [this.cc, this.csts, this.intms, this.aqa, this.asqLo, this.asqHi, this.acqLo, this.acqHi, this.running ? 1 : 0, this.intxLevel ? 1 : 0, this.msiPending, this.lastPostPs]) h = fnvNumber(h, v);
    for (const a of [q.sqState, q.sqBase, q.sqSize, q.sqHead, q.sqTail, q.sqCq, q.sqOutstanding, q.cqExists, q.cqBase, q.cqSize, q.cqHead, q.cqTail, q.cqPhase, q.cqIen, q.cqIv]) h = fnvArray(h, a);
    const c = this.counters;
    for (const v of [c.reads, c.writes, c.flushes, c.adminCommands, c.interrupts, c.errors, c.bytesRead, c.bytesWritten]) h = fnvNumber(h, v);
    return h >>> 0;
  }

  stats(): Record<string, number> {
    return { ...this.counters };
  }

  /** What the controller is waiting for (DeviceModel.stall; stall.ts). */
  stall(now: number): string[] {
    return nvmeStall(this, now);
  }

  // ---------------------------------------------------------------- MMIO

  /**
   * Register reads. NVMe 1.4 3.1: registers are accessed as aligned dwords
   * (a qword is split into two by the bus). A narrower or misaligned read
   * returns the addressed bytes (reads have no side effects here) and is
   * recorded as a guestErr. Reserved offsets and doorbells read 0. The MSI-X
   * table and PBA are served by the PCI function; if an access reaches the
   * device anyway it reads 0.
   */
  read(offset: number, size: number): number {
    if (offset >= DOORBELL_BASE) return 0;
    const aligned = offset & ~3;
    const lo = this.readReg(aligned);
    if (size === 4 && aligned === offset) return lo;
    this.err('nvme.mmio.width', `${size}-byte read at ${hex(offset)} (${registerName(offset) ?? 'reserved'}): registers are read as aligned dwords (3.1)`);
    const shift = (offset & 3) * 8;
    let v = shift === 0 ? lo : (lo >>> shift) | (this.readReg(aligned + 4) << (32 - shift));
    if (size < 4) v &= (1 << (size * 8)) - 1;
    return v >>> 0;
  }

  /**
   * Register and doorbell writes. A write that is not an aligned dword is
   * dropped (the controller accepts only full-dword register writes, 3.1)
   * and recorded as a guestErr. The PCI function serves the MSI-X table and
   * PBA itself; a write that reaches the device above the doorbells hit
   * unused space and is dropped with a guestErr.
   */
  write(offset: number, size: number, value: number): void {
    if (offset >= DOORBELL_END) {
      this.err('nvme.reg.reserved', `${size}-byte write of ${hex(value >>> 0)} to unused BAR0 offset ${hex(offset)} ignored`);
      return;
    }
    if (size !== 4 || (offset & 3) !== 0) {
      const what = offset >= DOORBELL_BASE ? doorbellName(offset) : registerName(offset) ?? 'reserved';
      this.err(offset >= DOORBELL_BASE ? 'nvme.doorbell.width' : 'nvme.mmio.width',
        `${size}-byte write of ${hex(value >>> 0)} at ${hex(offset)} (${what}) ignored: registers take aligned dword writes (3.1)`);
      return;
    }
    value >>>= 0;
    if (offset >= DOORBELL_BASE) this.doorbell(offset, value);
    else this.writeReg(offset, value);
  }

  private readReg(offset: number): number {
    switch (offset) {
      case REG_CAP: return this.capLo;
      case REG_CAP_HI: return this.capHi;
      case REG_VS: return NVME_VERSION;
      case REG_INTMS:
      case REG_INTMC: return this.intms;
      case REG_CC: return this.cc;
      case REG_CSTS: return this.csts;
      case REG_AQA: return this.aqa;
      case REG_ASQ: return this.asqLo;
      case REG_ASQ_HI: return this.asqHi;
      case REG_ACQ: return this.acqLo;
      case REG_ACQ_HI: return this.acqHi;
      default: return 0; // NSSR reads 0 (3.1.7); reserved space reads 0
    }
  }

  private writeReg(offset: number, value: number): void {
    switch (offset) {
      case REG_CAP:
      case REG_CAP_HI:
      case REG_VS:
        this.err('nvme.reg.read-only', `write of ${hex(value)} to read-only ${registerName(offset)} ignored`);
        return;
      case REG_INTMS:
      case REG_INTMC:
        this.writeIntMask(offset === REG_INTMS, value);
        return;
      case REG_CC:
        this.writeCc(value);
        return;
      case REG_CSTS:
        // Only NSSRO is writable (RW1C); the rest is read-only (3.1.6).
        if ((value & CSTS_NSSRO) !== 0) this.csts &= ~CSTS_NSSRO;
        if ((value & ~CSTS_NSSRO) !== 0) {
          this.err('nvme.csts.read-only', `CSTS write ${hex(value)}: only NSSRO (bit 4) is writable (write 1 to clear)`);
        }
        return;
      case REG_NSSR:
        if (value === NSSR_MAGIC) this.subsystemReset();
        else this.err('nvme.nssr.value', `NSSR write ${hex(value)} is not 0x4e564d65 ("NVMe"): no effect (3.1.7)`);
        return;
      case REG_AQA:
        if ((value & ~AQA_DEFINED) !== 0) this.err('nvme.aqa.reserved', `AQA write ${hex(value)} sets reserved bits (31:28, 15:12)`);
        this.aqa = (value & AQA_DEFINED) >>> 0;
        return;
      case REG_ASQ:
      case REG_ACQ:
        if ((value & ~AQ_BASE_MASK) !== 0) {
          this.err('nvme.aq.reserved', `${registerName(offset)} write ${hex(value)}: bits 11:0 are reserved and read 0 (3.1.9)`);
        }
        if (offset === REG_ASQ) this.asqLo = (value & AQ_BASE_MASK) >>> 0;
        else this.acqLo = (value & AQ_BASE_MASK) >>> 0;
        return;
      case REG_ASQ_HI:
        this.asqHi = value;
        return;
      case REG_ACQ_HI:
        this.acqHi = value;
        return;
      default:
        this.err('nvme.reg.reserved', `write of ${hex(value)} to ${registerName(offset) ?? 'reserved offset'} ${hex(offset)} ignored`);
    }
  }

  get asq(): number {
    return this.asqHi * 0x1_0000_0000 + this.asqLo;
  }

  get acq(): number {
    return this.acqHi * 0x1_0000_0000 + this.acqLo;
  }

  get pageSize(): number {
    return 1 << this.pageShift;
  }

  /**
   * INTMS/INTMC (3.1.3, 3.1.4): write 1 to set / clear mask bits. Bit 0 masks
   * the pin in INTx mode; bit v masks MSI vector v. With MSI-X enabled the
   * registers must not be used ("undefined"): the write is ignored.
   */
  private writeIntMask(set: boolean, value: number): void {
    const reg = set ? 'INTMS' : 'INTMC';
    if (this.irq.mode === 'msix') {
      this.err('nvme.intms.msix', `${reg} write ${hex(value)} ignored: with MSI-X the mask registers are undefined (3.1.3), use the MSI-X table`);
      return;
    }
    if (set) {
      this.intms = (this.intms | value) >>> 0;
      this.updateIntx();
      return;
    }
    const cleared = this.intms & value;
    this.intms = (this.intms & ~value) >>> 0;
    this.updateIntx();
    const release = this.msiPending & cleared;
    if (release !== 0 && this.irq.mode === 'msi') {
      this.msiPending &= ~release;
      for (let v = 0; v < MSI_VECTORS; v++) {
        if ((release & (1 << v)) !== 0 && this.vectorHasEntries(v)) this.sendMessage(v);
      }
    }
  }

  /**
   * CC (3.1.5): fields other than EN and SHN may not change while CC.EN = 1;
   * a write that keeps EN = 1 and changes them leaves them as they were. The
   * write that clears EN may rewrite them (drivers commonly disable with
   * CC = 0); they only take effect at the next enable.
   */
  private writeCc(value: number): void {
    const old = this.cc;
    if ((value & ~CC_DEFINED) !== 0) this.err('nvme.cc.reserved', `CC write ${hex(value)} sets reserved bits; they read 0`);
    let v = value & CC_DEFINED;
    if ((old & CC_EN) !== 0 && (v & CC_EN) !== 0 && ((v ^ old) & CC_LOCKED_WHILE_ENABLED) !== 0) {
      this.err('nvme.cc.locked', `CC write ${hex(value)} while CC.EN=1 changes fields other than EN/SHN (CC was ${hex(old)}); those fields keep their value`);
      v = (old & CC_LOCKED_WHILE_ENABLED) | (v & (CC_EN | CC_SHN_MASK));
    }
    this.cc = v >>> 0;
    if ((old & CC_EN) === 0 && (v & CC_EN) !== 0) this.enable();
    else if ((old & CC_EN) !== 0 && (v & CC_EN) === 0) this.disable();
    const oldShn = (old & CC_SHN_MASK) >>> CC_SHN_SHIFT;
    const shn = (v & CC_SHN_MASK) >>> CC_SHN_SHIFT;
    if (shn !== 0 && oldShn === 0) this.beginShutdown();
    else if (shn === 0 && oldShn !== 0) {
      this.queue.cancel(this.shnEv);
      this.shnEv = NO_EVENT;
      this.csts &= ~CSTS_SHST_MASK;
    }
  }

  /** Why CC.EN 0 -> 1 cannot bring the controller up, or undefined if it can. */
  private enableProblem(): string | undefined {
    const cc = this.cc;
    const css = (cc >>> CC_CSS_SHIFT) & 7;
    const mps = (cc >>> CC_MPS_SHIFT) & 0xf;
    const ams = (cc >>> CC_AMS_SHIFT) & 7;
    const iosqes = (cc >>> CC_IOSQES_SHIFT) & 0xf;
    const iocqes = (cc >>> CC_IOCQES_SHIFT) & 0xf;
    if (css !== 0) return `CC.CSS=${css}: only the NVM command set (0) is supported (CAP.CSS)`;
    if (mps < MPSMIN || mps > MPSMAX) return `CC.MPS=${mps} is outside CAP.MPSMIN..MPSMAX (${MPSMIN}..${MPSMAX})`;
    if (ams !== 0) return `CC.AMS=${ams}: only round robin arbitration (0) is supported (CAP.AMS=0)`;
    if (iosqes !== SQES) return `CC.IOSQES=${iosqes}: Identify SQES requires ${SQES} (64-byte entries)`;
    if (iocqes !== CQES) return `CC.IOCQES=${iocqes}: Identify CQES requires ${CQES} (16-byte entries)`;
    const asqs = this.aqa & 0xfff;
    const acqs = (this.aqa >>> 16) & 0xfff;
    if (asqs === 0) return 'AQA.ASQS=0: the admin submission queue needs at least 2 entries (3.1.8)';
    if (acqs === 0) return 'AQA.ACQS=0: the admin completion queue needs at least 2 entries (3.1.8)';
    const page = 4096 * 2 ** mps;
    if (this.asq === 0) return 'ASQ=0: the admin submission queue base address was not programmed';
    if (this.acq === 0) return 'ACQ=0: the admin completion queue base address was not programmed';
    if (this.asq % page !== 0) return `ASQ=${hex(this.asq)} is not aligned to the ${page}-byte memory page (3.1.9)`;
    if (this.acq % page !== 0) return `ACQ=${hex(this.acq)} is not aligned to the ${page}-byte memory page (3.1.10)`;
    return undefined;
  }

  /**
   * CC.EN 0 -> 1 (7.6.1). The configuration is checked when EN is written.
   * Valid: the admin queues are set up and CSTS.RDY rises after readyDelay.
   * Invalid: CSTS.RDY stays 0 and CSTS.CFS is set shortly after — the
   * controller "could not be brought up" fatal condition of 3.1.6/9.5; QEMU's
   * nvme_start_ctrl failure does the same (NVME_CSTS_FAILED).
   */
  private enable(): void {
    if (this.queue.isPending(this.ctrlEv)) {
      // Reset still completing (RDY not yet 0): the host should have waited (7.6.1, 3.1.5).
      this.err('nvme.cc.enable-during-reset', `CC.EN set to 1 while CSTS.RDY=1 after disabling; the reset is completed first`);
      this.queue.cancel(this.ctrlEv);
      this.csts &= ~CSTS_RDY;
    }
    this.csts &= ~CSTS_RDY;
    const problem = this.enableProblem();
    if (problem !== undefined) {
      this.err('nvme.cc.enable-invalid', `CC.EN=1 with an invalid configuration: ${problem}; the controller will not become ready (CSTS.CFS=1)`);
      this.ctrlEv = this.queue.schedule(Timing.ENABLE_FAIL_DELAY, this.target, EV_ENABLE_FAIL);
      return;
    }
    this.pageShift = 12 + ((this.cc >>> CC_MPS_SHIFT) & 0xf);
    const q = this.q;
    q.createCq(0, this.acq, ((this.aqa >>> 16) & 0xfff) + 1, true, 0);
    q.createSq(0, this.asq, (this.aqa & 0xfff) + 1, 0, 0);
    if (this.sqSan !== null) this.sqSan.created(0, (this.aqa & 0xfff) + 1);
    const ready = this.hostile === null ? this.readyDelay
      : this.hostile.int(Math.floor(this.readyDelay / 2), Math.min(2 * this.readyDelay, us(this.cfg.timeout500ms * 500_000))) as Duration;
    this.ctrlEv = this.queue.schedule(ready, this.target, EV_READY);
  }

  /** CC.EN 1 -> 0: controller reset (7.3.2); CSTS.RDY drops after a short delay. */
  private disable(): void {
    this.controllerReset(ResetCause.CC_EN);
    if ((this.csts & CSTS_RDY) !== 0) this.ctrlEv = this.queue.schedule(Timing.RESET_DELAY, this.target, EV_RESET_DONE);
  }

  /** NVM Subsystem Reset (3.1.7, 7.3.1): like power-on, and CSTS.NSSRO = 1. */
  private subsystemReset(): void {
    this.controllerReset(ResetCause.NSSR);
    this.resetRegisters();
    this.csts = CSTS_NSSRO;
  }

  private resetRegisters(): void {
    this.cc = 0;
    this.aqa = 0;
    this.asqLo = 0;
    this.asqHi = 0;
    this.acqLo = 0;
    this.acqHi = 0;
    this.intms = 0;
    this.pageShift = 12;
  }

  /**
   * Controller Level Reset actions (7.3.2): stop processing, delete every
   * I/O queue, drop outstanding commands (no completions are posted), reset
   * the admin queue pointers, INTMS and the features. AQA/ASQ/ACQ and CC
   * keep what the host wrote. CSTS.RDY is the caller's business.
   */
  private controllerReset(cause: number): void {
    this.tracer.milestone(this.queue.now, this.dev, 'reset', cause, 0);
    this.cancelWork();
    this.queue.cancel(this.ctrlEv);
    this.ctrlEv = NO_EVENT;
    this.queue.cancel(this.shnEv);
    this.shnEv = NO_EVENT;
    this.running = false;
    this.epoch++;
    this.slots.reset();
    this.q.clear();
    this.media.clear();
    this.stalled.clear();
    this.anyStarved = false;
    this.aerCount = 0;
    this.aeCount = 0;
    this.aeMask = 0;
    this.aggCount.fill(0);
    this.vectorCd.fill(0);
    this.msiPending = 0;
    this.features = defaultFeatures();
    this.intms = 0;
    this.csts &= ~(CSTS_CFS | CSTS_SHST_MASK);
    this.updateIntx();
  }

  /** Cancels every scheduled piece of command work (fetches, executions, drains, coalescing timers). */
  private cancelWork(): void {
    const q = this.queue;
    for (let i = 0; i < this.q.count; i++) {
      q.cancel(this.q.sqFetchEv[i]!);
      this.q.sqFetchEv[i] = NO_EVENT;
      q.cancel(this.q.cqDrainEv[i]!);
      this.q.cqDrainEv[i] = NO_EVENT;
    }
    for (let s = 0; s < this.slots.count; s++) {
      q.cancel(this.slots.ev[s]!);
      this.slots.ev[s] = NO_EVENT;
    }
    for (let v = 0; v < this.coalesceEv.length; v++) {
      q.cancel(this.coalesceEv[v]!);
      this.coalesceEv[v] = NO_EVENT;
    }
  }

  /** CC.SHN 00 -> 01/10 (7.6.2): SHST = 01 now, 10 when the shutdown completes. */
  private beginShutdown(): void {
    this.csts = (this.csts & ~CSTS_SHST_MASK) | CSTS_SHST_OCCURRING;
    this.queue.cancel(this.shnEv);
    this.shnEv = this.queue.schedule(Timing.SHUTDOWN_DELAY, this.target, EV_SHN_DONE);
  }

  /**
   * Controller Fatal Status (3.1.6, 9.5): a failure that cannot be reported
   * through a completion queue — a refused SQE fetch or CQE post. Processing
   * stops until the host resets the controller.
   */
  fatal(cause: number, qid: number): void {
    if ((this.csts & CSTS_CFS) !== 0 && !this.running) return;
    this.csts |= CSTS_CFS;
    this.running = false;
    this.cancelWork();
    this.tracer.milestone(this.queue.now, this.dev, 'fatal', cause, qid);
    const what = cause === FatalCause.SQ_FETCH ? `fetching from SQ${qid}` : `posting to CQ${qid}`;
    this.err('nvme.fatal', `DMA ${what} refused (${this.dma.lastResult}); controller fatal status CSTS.CFS=1, reset required (9.5)`);
  }

  // ---------------------------------------------------------------- events

  private readonly onEvent = (kind: number, a0: number, a1: number): void => {
    switch (kind) {
      case EV_READY:
        this.ctrlEv = NO_EVENT;
        this.csts |= CSTS_RDY;
        this.running = true;
        this.tracer.milestone(this.queue.now, this.dev, 'ready', this.q.sqSize[0]!, this.q.cqSize[0]!);
        if (this.q.sqHead[0] !== this.q.sqTail[0]) this.scheduleFetch(0);
        break;
      case EV_ENABLE_FAIL:
        this.ctrlEv = NO_EVENT;
        this.csts |= CSTS_CFS;
        this.tracer.milestone(this.queue.now, this.dev, 'fatal', FatalCause.ENABLE, 0);
        break;
      case EV_RESET_DONE:
        this.ctrlEv = NO_EVENT;
        this.csts &= ~CSTS_RDY;
        break;
      case EV_SHN_DONE:
        this.shnEv = NO_EVENT;
        this.csts = (this.csts & ~CSTS_SHST_MASK) | CSTS_SHST_COMPLETE;
        this.tracer.milestone(this.queue.now, this.dev, 'shutdown', (this.cc & CC_SHN_MASK) >>> CC_SHN_SHIFT, 0);
        break;
      case EV_FETCH:
        this.q.sqFetchEv[a0] = NO_EVENT;
        this.fetch(a0);
        break;
      case EV_ADMIN:
        this.slots.ev[a0] = NO_EVENT;
        if (this.running) execAdmin(this, a0);
        break;
      case EV_MEDIA:
        this.slots.ev[a0] = NO_EVENT;
        if (this.running) mediaDone(this, a0);
        break;
      case EV_CQ_DRAIN:
        this.q.cqDrainEv[a0] = NO_EVENT;
        this.drainCq(a0);
        break;
      case EV_COALESCE:
        this.coalesceEv[a0] = NO_EVENT;
        if (this.aggCount[a0]! > 0) this.fireVector(a0);
        break;
      case EV_MSI:
        if (a1 === this.epoch) this.deliverMessage(a0);
        break;
      default:
        break;
    }
  };

  /** Schedules the execution of admin command `slot` (handle kept for cancellation). */
  scheduleAdmin(slot: number): void {
    this.slots.ev[slot] = this.queue.schedule(this.delay(Timing.ADMIN_LATENCY, HostileTiming.ADMIN_LATENCY), this.target, EV_ADMIN, slot);
  }

  /** Schedules the end of `slot`'s media operation after `delay`. */
  scheduleMedia(slot: number, delay: Duration): void {
    this.slots.ev[slot] = this.queue.schedule(delay, this.target, EV_MEDIA, slot);
  }

  /** Media latency with seeded jitter of +-latencyJitterPct. */
  latency(base: Duration): Duration {
    const d = this.jitter === 0 ? base : Math.max(0, Math.round(base * (1 + this.jitter * (2 * this.rng.next() - 1)))) as Duration;
    if (this.hostile === null) return d;
    const f = HostileTiming.MEDIA_MIN + (HostileTiming.MEDIA_MAX - HostileTiming.MEDIA_MIN) * this.hostile.next();
    return Math.round(d * f) as Duration;
  }

  // ---------------------------------------------------------------- doorbells

  /**
   * Doorbell write (3.1.10/3.1.11). Validates and schedules; never does I/O.
   * Invalid writes are ignored, traced, and reported as an Asynchronous
   * Event of type Error (5.2.1): Invalid Doorbell Register for a queue that
   * does not exist, Invalid Doorbell Write Value for a value beyond the
   * queue, an SQ tail that would overrun entries not yet fetched, or a CQ
   * head beyond the entries posted. The last is recorded as what the host
   * did (cqHeadPastTail): consumed entries not posted yet, or walked back
   * over entries it had consumed.
   */
  private doorbell(offset: number, value: number): void {
    const idx = (offset - DOORBELL_BASE) >>> 2;
    const qid = idx >>> 1;
    const isCq = (idx & 1) === 1;
    if (!this.running) {
      const why = (this.csts & CSTS_CFS) !== 0 ? 'the controller is in fatal status (CSTS.CFS=1)' : 'CSTS.RDY=0';
      this.err('nvme.doorbell.not-ready', `${doorbellName(offset)}=${value} ignored: ${why}`);
      return;
    }
    const q = this.q;
    if (!isCq) {
      if (qid >= q.count || q.sqState[qid] === SQ_NONE) {
        this.invalidDoorbell(offset, value, true, `submission queue ${qid} does not exist`);
        return;
      }
      const size = q.sqSize[qid]!;
      if (value >= size) {
        this.invalidDoorbell(offset, value, false, `tail ${value} is beyond the ${size}-entry queue`);
        return;
      }
      const head = q.sqHead[qid]!;
      const oldTail = q.sqTail[qid]!;
      if (value === oldTail) return;
      if ((value - head + size) % size < (oldTail - head + size) % size) {
        this.invalidDoorbell(offset, value, false,
          `tail ${value} would overrun entries not yet fetched (head ${head}, previous tail ${oldTail})`);
        return;
      }
      if (this.sqSan !== null) this.sqSan.doorbell(qid, q.sqBase[qid]!, size, oldTail, value, this.queue.now);
      q.sqTail[qid] = value;
      q.doorbellPs[idx] = this.queue.now;
      if (q.sqState[qid] === SQ_ACTIVE) this.scheduleFetch(qid);
      return;
    }
    if (qid >= q.count || q.cqExists[qid] === 0) {
      this.invalidDoorbell(offset, value, true, `completion queue ${qid} does not exist`);
      return;
    }
    const size = q.cqSize[qid]!;
    if (value >= size) {
      this.invalidDoorbell(offset, value, false, `head ${value} is beyond the ${size}-entry queue`);
      return;
    }
    const head = q.cqHead[qid]!;
    const tail = q.cqTail[qid]!;
    if ((value - head + size) % size > (tail - head + size) % size) {
      this.cqHeadPastTail(offset, qid, value);
      return;
    }
    q.cqHead[qid] = value;
    q.doorbellPs[idx] = this.queue.now;
    if (q.cqWaitHead[qid] !== -1 && !this.queue.isPending(q.cqDrainEv[qid]!)) {
      q.cqDrainEv[qid] = this.queue.schedule(this.delay(Timing.CQ_DRAIN_DELAY, HostileTiming.CQ_DRAIN_DELAY), this.target, EV_CQ_DRAIN, qid);
    }
    this.updateIntx();
  }

  private invalidDoorbell(offset: number, value: number, badRegister: boolean, why: string,
    code: NvmeGuestErrorCode = badRegister ? 'nvme.doorbell.invalid-queue' : 'nvme.doorbell.invalid-value'): void {
    this.err(code, `${doorbellName(offset)}=${value} ignored: ${why}`);
    this.raiseEvent(AeType.ERROR,
      badRegister ? AeErrorInfo.INVALID_DOORBELL_REGISTER : AeErrorInfo.INVALID_DOORBELL_VALUE, Lid.ERROR_INFO);
  }

  /**
   * A CQ head doorbell (within the queue) that would release more entries
   * than are posted: an Invalid Doorbell Write Value like any other (ignored,
   * Asynchronous Event), recorded once, under the code that says what the
   * host did. Modulo the queue size the new head lies in the free part of
   * the ring, `beyond` entries past the tail and `behind` entries before the
   * old head; the nearer end is the reading taken:
   * - past the tail ('nvme.cqe.consumed-unposted'): the host consumed
   *   completions the controller has not posted yet;
   * - before the old head ('nvme.cqe.consumed-twice'): the head moved
   *   backwards, which read forward wraps around past the tail: the host
   *   walked again over completions it had consumed (a stale head, or a phase
   *   tag not inverted when its head wrapped).
   */
  private cqHeadPastTail(offset: number, qid: number, value: number): void {
    const q = this.q;
    const size = q.cqSize[qid]!;
    const head = q.cqHead[qid]!;
    const tail = q.cqTail[qid]!;
    const posted = (tail - head + size) % size;
    const claimed = (value - head + size) % size;
    const beyond = claimed - posted;
    const behind = size - claimed;
    const entries = (n: number): string => `${n} entr${n === 1 ? 'y' : 'ies'}`;
    const state = `head ${head}, tail ${tail}: ${posted} posted`;
    if (behind < beyond) {
      this.invalidDoorbell(offset, value, false,
        `head ${value} is ${entries(behind)} behind the head ${head} written before (${state}); `
        + `read forward it wraps past the tail and releases ${entries(beyond)} not posted: `
        + 'the host walked again over completions it had already consumed (a stale head, or a phase tag not inverted when its head wrapped)',
        'nvme.cqe.consumed-twice');
      return;
    }
    const slot = q.cqLapped[qid] === 1
      ? `slot ${tail} still holds a completion of the previous pass, consumed then`
      : `slot ${tail} has never been written since the CQ was created`;
    this.invalidDoorbell(offset, value, false,
      `head ${value} consumes ${entries(beyond)} the controller has not posted (${state}; ${slot}): `
      + 'the host consumed completions that do not exist yet (a phase tag read wrong, or a head counted ahead of the entries read)',
      'nvme.cqe.consumed-unposted');
  }

  scheduleFetch(qid: number): void {
    if (!this.queue.isPending(this.q.sqFetchEv[qid]!)) {
      this.q.sqFetchEv[qid] = this.queue.schedule(this.delay(Timing.FETCH_DELAY, HostileTiming.FETCH_DELAY), this.target, EV_FETCH, qid);
    }
  }

  // ---------------------------------------------------------------- fetch

  /** Arbitration Burst (5.21.1.1): 2^AB commands per SQ per round; 7 = no limit. */
  private burst(): number {
    const ab = this.features.arbitration & 7;
    return ab === 7 ? Infinity : 1 << ab;
  }

  private fetch(qid: number): void {
    const q = this.q;
    const s = this.slots;
    if (!this.running || q.sqState[qid] !== SQ_ACTIVE) return;
    const admin = qid === 0;
    const size = q.sqSize[qid]!;
    const burst = this.burst();
    let n = 0;
    while (q.sqHead[qid] !== q.sqTail[qid]) {
      if (n === burst) {
        q.sqFetchEv[qid] = this.queue.schedule(this.delay(Timing.FETCH_INTERVAL, HostileTiming.FETCH_INTERVAL), this.target, EV_FETCH, qid);
        return;
      }
      const slot = s.alloc(admin, qid);
      if (slot < 0) {
        q.sqStarved[qid] = 1;
        this.anyStarved = true;
        return;
      }
      const head = q.sqHead[qid]!;
      if (!this.dma.read(q.sqBase[qid]! + head * SQE_SIZE, s.sqe, slot * SQE_SIZE, SQE_SIZE, admin ? 'nvme.asqe' : 'nvme.sqe')) {
        s.free(slot);
        this.fatal(FatalCause.SQ_FETCH, qid);
        return;
      }
      if (this.sqSan !== null) {
        const found = this.sqSan.fetched(qid, head, s.sqe, slot * SQE_SIZE);
        if (found !== undefined) this.err(found.code, found.message);
      }
      q.sqHead[qid] = (head + 1) % size;
      q.sqOutstanding[qid]!++;
      s.cid[slot] = s.sqeView.getUint16(slot * SQE_SIZE + 2, true);
      n++;
      if (admin) dispatchAdmin(this, slot);
      else startIo(this, slot);
      if (!this.running || q.sqState[qid] !== SQ_ACTIVE) return;
    }
  }

  private unstarve(): void {
    this.anyStarved = false;
    const q = this.q;
    for (let i = 0; i < q.count; i++) {
      if (q.sqStarved[i] !== 0) {
        q.sqStarved[i] = 0;
        if (q.sqState[i] === SQ_ACTIVE) this.scheduleFetch(i);
      }
    }
  }

  // ---------------------------------------------------------------- completion

  /**
   * Ends a command with `status` (DNR added per policy) and posts its
   * completion. A host-mistake status is also traced as guestErr
   * "nvme.cmd.<status>" with `detail`.
   */
  complete(slot: number, status: number, dw0 = 0, detail?: string): void {
    const s = this.slots;
    s.status[slot] = withDnr(status);
    s.dw0[slot] = dw0;
    if (status !== 0) {
      this.counters.errors++;
      const code = cmdGuestErrorCode(status);
      if (code !== undefined) {
        const sqid = s.sqid[slot]!;
        const op = opcodeName(sqid === 0, s.opcode(slot));
        this.err(code,
          `${op} cid=${s.cid[slot]} on SQ${sqid} failed with ${statusName(status)}${detail !== undefined ? `: ${detail}` : ''}`);
      }
    }
    this.post(slot);
  }

  /** Posts the slot's completion, or queues it behind earlier ones while its CQ is full. */
  private post(slot: number): void {
    if (!this.running) return;
    const q = this.q;
    const cqid = q.sqCq[this.slots.sqid[slot]!]!;
    if (q.cqWaitHead[cqid] !== -1 || q.cqFull(cqid)) {
      this.slots.state[slot] = SLOT_WAIT_POST;
      this.slots.next[slot] = -1;
      const tail = q.cqWaitTail[cqid]!;
      if (tail === -1) q.cqWaitHead[cqid] = slot;
      else this.slots.next[tail] = slot;
      q.cqWaitTail[cqid] = slot;
      return;
    }
    this.writeCqe(slot, cqid);
  }

  /** Posts completions that waited for room, in order, while there is room. */
  private drainCq(cqid: number): void {
    const q = this.q;
    while (this.running && q.cqExists[cqid] !== 0 && q.cqWaitHead[cqid] !== -1 && !q.cqFull(cqid)) {
      const slot = q.cqWaitHead[cqid]!;
      const next = this.slots.next[slot]!;
      q.cqWaitHead[cqid] = next;
      if (next === -1) q.cqWaitTail[cqid] = -1;
      this.writeCqe(slot, cqid);
    }
  }

  /** Writes the CQE (4.6: DW0, SQHD|SQID, CID|P|status) and signals the CQ's interrupt. */
  private writeCqe(slot: number, cqid: number): void {
    const q = this.q;
    const s = this.slots;
    const sqid = s.sqid[slot]!;
    const v = this.cqeView;
    v.setUint32(0, s.dw0[slot]! >>> 0, true);
    v.setUint32(4, 0, true);
    v.setUint32(8, (q.sqHead[sqid]! | (sqid << 16)) >>> 0, true);
    v.setUint32(12, (s.cid[slot]! | (q.cqPhase[cqid]! << 16) | (s.status[slot]! << 17)) >>> 0, true);
    const tail = q.cqTail[cqid]!;
    this.lastPostPs = this.queue.now;
    if (!this.dma.write(q.cqBase[cqid]! + tail * CQE_SIZE, this.cqe, 0, CQE_SIZE, cqid === 0 ? 'nvme.acqe' : 'nvme.cqe')) {
      this.fatal(FatalCause.CQ_POST, cqid);
      return;
    }
    const next = tail + 1;
    if (next === q.cqSize[cqid]) {
      q.cqTail[cqid] = 0;
      q.cqPhase[cqid] = q.cqPhase[cqid]! ^ 1;
      q.cqLapped[cqid] = 1;
    } else {
      q.cqTail[cqid] = next;
    }
    this.release(slot);
    this.signal(cqid);
  }

  /** Frees a completed slot; finishes a pending SQ deletion and restarts starved fetching. */
  private release(slot: number): void {
    const q = this.q;
    const sqid = this.slots.sqid[slot]!;
    this.slots.free(slot);
    q.sqOutstanding[sqid]!--;
    if (q.sqState[sqid] === SQ_DELETING && q.sqOutstanding[sqid] === 0) {
      const del = q.sqDeleteSlot[sqid]!;
      this.finishSqDelete(sqid);
      if (del >= 0) this.complete(del, 0);
    }
    if (this.anyStarved) this.unstarve();
  }

  /** Removes a deleted SQ (its commands have all completed). */
  finishSqDelete(qid: number): void {
    this.q.deleteSq(qid);
    this.tracer.milestone(this.queue.now, this.dev, 'sq.delete', qid, 0);
  }

  // ---------------------------------------------------------------- interrupts

  /** Interrupt Vector (IV) of Create I/O CQ valid for the interrupt mode in use (5.3). */
  vectorValid(iv: number): boolean {
    switch (this.irq.mode) {
      case 'msix': return iv < this.cfg.msixVectors;
      case 'msi': return iv < MSI_VECTORS;
      default: return iv === 0;
    }
  }

  /**
   * A completion was posted to `cqid`. INTx: recompute the level. MSI/MSI-X:
   * send the CQ's vector, unless Interrupt Coalescing (5.21.1.8) holds it
   * back: with TIME != 0 and THR != 0, an I/O CQ's vector fires once THR+1
   * entries aggregated or TIME * 100 us after the first one. The admin CQ and
   * vectors with CD = 1 are never coalesced (5.21.1.9).
   */
  private signal(cqid: number): void {
    const q = this.q;
    if (q.cqIen[cqid] === 0) return;
    if (this.irq.mode === 'intx') {
      this.updateIntx();
      return;
    }
    const iv = q.cqIv[cqid]!;
    if (iv >= this.aggCount.length) return;
    const coal = this.features.interruptCoalescing;
    const thr = coal & 0xff;
    const time = (coal >>> 8) & 0xff;
    if (cqid !== 0 && thr !== 0 && time !== 0 && this.vectorCd[iv] === 0) {
      const count = ++this.aggCount[iv]!;
      if (count > thr) this.fireVector(iv);
      else if (!this.queue.isPending(this.coalesceEv[iv]!)) {
        this.coalesceEv[iv] = this.queue.schedule(us(time * 100), this.target, EV_COALESCE, iv);
      }
      return;
    }
    this.fireVector(iv);
  }

  private fireVector(iv: number): void {
    this.aggCount[iv] = 0;
    this.queue.cancel(this.coalesceEv[iv]!);
    this.coalesceEv[iv] = NO_EVENT;
    const mode = this.irq.mode;
    if (mode === 'intx') return;
    if (mode === 'msi' && iv < MSI_VECTORS && (this.intms & (1 << iv)) !== 0) {
      this.msiPending |= 1 << iv;
      return;
    }
    if (mode === 'msix' && iv >= this.cfg.msixVectors) return;
    this.sendMessage(iv);
  }

  private sendMessage(iv: number): void {
    if (this.hostile !== null) {
      this.queue.schedule(this.hostile.int(HostileTiming.MSI_DELAY[0], HostileTiming.MSI_DELAY[1]) as Duration, this.target, EV_MSI, iv, this.epoch);
      return;
    }
    this.deliverMessage(iv);
  }

  private deliverMessage(iv: number): void {
    this.counters.interrupts++;
    this.irq.sendMessage(iv);
  }

  /** True if a CQ with interrupts enabled on vector `iv` holds entries the host has not consumed. */
  private vectorHasEntries(iv: number): boolean {
    const q = this.q;
    for (let i = 0; i < q.count; i++) {
      if (q.cqExists[i] !== 0 && q.cqIen[i] !== 0 && q.cqIv[i] === iv && q.cqHead[i] !== q.cqTail[i]) return true;
    }
    return false;
  }

  /**
   * INTx level (7.5.1): asserted while any CQ with interrupts enabled holds
   * unconsumed entries and INTMS bit 0 is clear; deasserted outside INTx mode.
   */
  updateIntx(): void {
    let level = false;
    if (this.irq.mode === 'intx' && (this.intms & 1) === 0) {
      const q = this.q;
      for (let i = 0; i < q.count; i++) {
        if (q.cqExists[i] !== 0 && q.cqIen[i] !== 0 && q.cqHead[i] !== q.cqTail[i]) {
          level = true;
          break;
        }
      }
    }
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    if (level) this.counters.interrupts++;
    this.irq.setIntx(level);
  }

  // ---------------------------------------------------------------- asynchronous events

  /** An Asynchronous Event Request command arrived (5.2): park it, or fail past AERL+1. */
  addAer(slot: number): boolean {
    if (this.aerCount > AERL) return false;
    this.aerSlots[this.aerCount++] = slot;
    this.slots.state[slot] = SLOT_AER;
    this.processAer();
    return true;
  }

  /** Removes an outstanding AER with `cid` (for Abort); returns its slot or -1. */
  takeAer(cid: number): number {
    for (let i = 0; i < this.aerCount; i++) {
      const slot = this.aerSlots[i]!;
      if (this.slots.cid[slot] === cid) {
        this.aerSlots.copyWithin(i, i + 1, this.aerCount);
        this.aerCount--;
        return slot;
      }
    }
    return -1;
  }

  /**
   * Queues an asynchronous event; reported through an outstanding AER. A
   * type already reported stays masked until the host reads its log page
   * (5.2); events of a masked type are dropped.
   */
  raiseEvent(type: number, info: number, lid: number): void {
    if ((this.aeMask & (1 << type)) !== 0) return;
    for (let i = 0; i < this.aeCount; i++) if ((this.aeQueue[i]! & 7) === type) return; // one per type queued
    if (this.aeCount === AE_QUEUE_MAX) return;
    this.aeQueue[this.aeCount++] = type | (info << 8) | (lid << 16);
    this.processAer();
  }

  /** Reading log page `lid` without Retain Asynchronous Event unmasks its event type. */
  clearEventMask(type: number): void {
    this.aeMask &= ~(1 << type);
    this.processAer();
  }

  private processAer(): void {
    while (this.running && this.aerCount > 0 && this.aeCount > 0) {
      const ev = this.aeQueue[0]!;
      this.aeQueue.copyWithin(0, 1, this.aeCount);
      this.aeCount--;
      this.aeMask |= 1 << (ev & 7);
      const slot = this.aerSlots[0]!;
      this.aerSlots.copyWithin(0, 1, this.aerCount);
      this.aerCount--;
      this.complete(slot, 0, ev);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Records a guest error (codes: ./guest-errors.ts). */
  err(code: NvmeGuestErrorCode, message: string): void {
    this.counters.guestErrors++;
    this.tracer.guestErr(this.queue.now, this.dev, code, `${this.name}: ${message}`);
  }

  /** Number of I/O queues granted (Set Features Number of Queues). */
  get grantedQueues(): number {
    return this.cfg.ioQueuePairs;
  }

  /** Event handles of the queue's pending work are in q.*Ev; this cancels the fetch of a deleted SQ. */
  cancelFetch(qid: number): void {
    this.queue.cancel(this.q.sqFetchEv[qid]!);
    this.q.sqFetchEv[qid] = NO_EVENT;
  }

  /** Cancels a slot's pending event (execution or media). */
  cancelSlotEvent(slot: number): void {
    this.queue.cancel(this.slots.ev[slot]!);
    this.slots.ev[slot] = NO_EVENT;
  }
}
