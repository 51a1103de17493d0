/**
 * The Intel Wireless 7265D PCIe transport (iwlwifi gen1): BAR0 decode
 * (CSR, HBUS, FH), power/clock handshakes, resets, indirect PRPH/SRAM
 * access, and the hub tying interrupts, the service channel, the TX queues
 * and the RX ring to the firmware CPU (fw-cpu-api.ts). Spec: the project's
 * fact sheet, part A (A1-A10).
 *
 * MMIO: registers are dwords. Byte writes at 0x004 (INT_COALESCING) and
 * 0x005 (INT_PERIODIC) are native. Any other narrower or misaligned access
 * is served on the containing dword (reads extract the addressed bytes;
 * writes merge into the current value, or for write-1 registers apply only
 * the written bytes) and recorded as 'iwl.mmio.width'. Registers without a
 * special meaning are plain storage; writes to read-only registers are
 * ignored with 'iwl.csr.read-only'. An access to an offset where the 7265D
 * has no CSR, HBUS or FH register (iwl-csr.h, iwl-fh.h; regs.ts
 * isBar0Register), including bytes 2-3 of the INT_COALESCING dword, is
 * recorded as 'iwl.reg.unknown' and otherwise served the same way (plain
 * storage). Nothing reads 0xFFFFFFFF or 0xA5A5A5Ax.
 *
 * Handshakes: NIC_READY reads back as written; PREPARE -> PREPARE_DONE after
 * 1 us; INIT_DONE -> MAC_CLOCK_READY after 2 us; STOP_MASTER ->
 * MASTER_DISABLED after 5 us; RX config 0 -> RX idle after 10 us;
 * TX_CONFIG(ch) = 0 -> TSSR idle bits after 10 us (with hostile timing,
 * seeded delays from timing.ts HostileTiming instead).
 *
 * NIC access and MAC sleep (Linux iwl_trans_pcie_grab_nic_access): with the
 * MAC clock running, MAC_ACCESS_REQ is granted at once; without INIT_DONE it
 * is granted after the clock start-up time (Timing.CLOCK_READY). Once the
 * firmware runs and has enabled power save (POWER_TABLE with
 * POWER_SAVE_ENA), the MAC goes to sleep after Timing.PM_IDLE without
 * MAC_ACCESS_REQ or device activity: GP_CNTRL.GOING_TO_SLEEP for
 * Timing.PM_GOING_TO_SLEEP, then asleep: MAC_CLOCK_READY 0 and
 * CSR_UCODE_DRV_GP1.MAC_SLEEP 1 (milestone 'pm.sleep'). MAC_ACCESS_REQ wakes
 * it after Timing.PM_WAKE (milestone 'pm.wake' a = 0; a request while it is
 * going to sleep waits for the sleep first); TX and RX activity wake it at
 * once (a = 1). PRPH and SRAM respond only while the MAC clock is ready;
 * otherwise reads return 0xA5A5A5A2 (the 0xA5A5A5Ax pattern real hardware
 * returns), writes are dropped, with a guestErr ('iwl.prph.no-access' /
 * 'iwl.sram.no-access').
 *
 * RESET: SW_RESET (self-clearing) clears GP_CNTRL (INIT_DONE, clock,
 * MAC_ACCESS_REQ), the RESET register, halts the firmware CPU (held until
 * RESET = 0), drops a chunk in flight, and returns the FH (TX/RX DMA, ring
 * bases), the SCD registers and the ICT logic to their reset state. INT,
 * INT_MASK, FH_INT, HW_IF_CONFIG, APMG and SRAM are kept (the driver
 * clears interrupts itself). FORCE_NMI self-clears (milestone 'nmi').
 * Writing RESET = 0 while the CPU is held releases it (fw.release(),
 * milestone 'cpu.release' a = load number, b = chunks) if at least one
 * service-channel chunk was processed since the last release or reset;
 * otherwise 'iwl.cpu.release-empty'.
 */
import { FNV_OFFSET, fnvArray, fnvNumber, fnvWord } from '../../../sim/hash.js';
import { NO_EVENT, type EventQueue } from '../../../sim/event-queue.js';
import type { DmaPort } from '../../../sim/dma.js';
import type { MmioHandler } from '../../../sim/memory.js';
import type { Rng } from '../../../sim/rng.js';
import type { Duration } from '../../../sim/time.js';
import type { Tracer } from '../../../sim/tracer.js';
import type { DeviceContext, DeviceModel } from '../../device.js';
import type { PciFunctionSpec, PciInterrupts } from '../../pci/api.js';
import type { FirmwareCpu, FirmwareHost } from '../fw-cpu-api.js';
import type { IwlwifiGuestErrorCode } from '../guest-errors.js';
import {
  CSR, FH, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, FH_SRVC_CHNL, FH_TCSR_TX_CONFIG, GP1, GP_CNTRL, HBUS, HW_IF_CONFIG,
  HW_REV_7265D, INT, IWL_BAR0_SIZE, IWL_PCI, PRPH_DWORD_ACCESS, RESET, fhTxIdleBits, isBar0Register,
} from '../regs.js';
import { hex, type TransportEnv } from './env.js';
import { ServiceChannel, type CorruptChunkFault } from './fh-service.js';
import { Interrupts } from './interrupts.js';
import { Prph } from './prph.js';
import { RxRing } from './rx-ring.js';
import { DeviceSram } from './sram.js';
import { Ev, HostileTiming, Timing } from './timing.js';
import { TX_QUEUES, TxQueues } from './tx-queues.js';
import { iwlStall } from '../stall.js';

export interface TransportFaults {
  /** Hardware RF-kill switch asserted at power-on. */
  rfKill: boolean;
  /** Flip one byte of SRAM data in service-channel chunk number `chunk` (0-based, counted within load number `load`: 0 = first image loaded after power-on (INIT), 1 = the next (runtime)); byte offset = byteSeed % chunk length. */
  corruptChunk: CorruptChunkFault | null;
  /** Drop (do not signal) the n-th interrupt raised for RX (FH_RX) after the first ALIVE; causes stay pending in CSR_INT. 0 = never. */
  loseRxIrq: number;
  /** The k-th RX packet after the first ALIVE fails its DMA: FH_INT bit 31 + INT.HW_ERR (0 or absent = never). */
  dmaErrorRx?: number;
}

export const NO_FAULTS: TransportFaults = { rfKill: false, corruptChunk: null, loseRxIrq: 0 };

/** Stand-in until attachFirmware: a CPU that never runs. */
const NO_FIRMWARE: FirmwareCpu = {
  release() {},
  halt() {},
  command() {},
  rfKill() {},
  running: false,
  stateHash: () => 0,
  stats: () => ({}),
};

/** GP_CNTRL bits the device owns (writes do not change them). */
/** What an indirect (PRPH / SRAM) read returns while the MAC clock is off: the 0xA5A5A5Ax pattern of real hardware. */
export const NO_CLOCK_READ = 0xa5a5a5a2;
const GP_RO = (GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP | GP_CNTRL.HW_RF_KILL_SW) >>> 0;
/** TSSR idle bits of the eight TX DMA channels. */
const TX_ALL_IDLE = 0xffff0000;
/** FH block (cleared by SW reset). */
const FH_START = 0x1000;
const FH_END = 0x2000;
/** Read-only registers (writes ignored with a guestErr). */
const RO_REGS = new Set<number>([CSR.HW_REV, FH.MEM_RSSR_RX_STATUS, FH.TSSR_TX_STATUS]);
/** Write-1 registers: a narrow write affects only the written bytes. */
const W1_REGS = new Set<number>([CSR.INT, CSR.FH_INT_STATUS, CSR.UCODE_DRV_GP1_SET, CSR.UCODE_DRV_GP1_CLR]);

const MILESTONE_RESET_FUNCTION = 2;

export class IwlTransport implements FirmwareHost, DeviceModel, MmioHandler, TransportEnv {
  readonly type = 'iwlwifi';
  /** Cached digest of regs and the PRPH store; -1 = stale. */
  private regsHash = -1;
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly target: number;
  readonly spec: PciFunctionSpec;
  readonly irq: PciInterrupts;
  readonly dma: DmaPort;
  fw: FirmwareCpu = NO_FIRMWARE;

  /** BAR0 as plain storage; registers with device semantics keep their state in the fields below. */
  readonly regs = new Uint32Array(IWL_BAR0_SIZE / 4);
  readonly ints: Interrupts;
  readonly sram = new DeviceSram();
  readonly txq: TxQueues;
  readonly prph: Prph;
  readonly rx: RxRing;
  readonly srvc: ServiceChannel;

  /** GP_CNTRL driver bits (INIT_DONE, MAC_ACCESS_REQ, XTAL_ON, ...). */
  private gp = 0;
  /** MAC clock running because INIT_DONE was granted. */
  private macClockOn = false;
  /** MAC_ACCESS_REQ granted without INIT_DONE (after the clock start-up time). */
  private accessClock = false;
  private accessEv = NO_EVENT;
  /** MAC power state (NIC access and sleep, above) and its pending transition. */
  pm: 'awake' | 'going' | 'asleep' | 'waking' = 'awake';
  private pmEv = NO_EVENT;
  /** Power save allowed by the running firmware (POWER_TABLE). */
  private powerSave = false;
  private resetReg = 0;
  /** Firmware CPU held in reset (power-on, SW reset) until RESET = 0. */
  cpuHeld = true;
  /** Hardware RF-kill switch asserted. */
  rfKill: boolean;
  private txIdle = TX_ALL_IDLE;

  private prepareEv = NO_EVENT;
  private clockEv = NO_EVENT;
  private masterEv = NO_EVENT;
  private readonly txIdleEv = new Float64Array(8).fill(NO_EVENT);

  readonly counters = { swResets: 0, releases: 0, guestErrors: 0 };
  /** Hostile timing stream (machine option `hostileTiming`), or null for the fixed delays of timing.ts. */
  private readonly hostile: Rng | null;

  constructor(ctx: DeviceContext, readonly faults: TransportFaults) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.rfKill = faults.rfKill;
    this.hostile = ctx.hostileTiming === true ? ctx.rng.fork('hostile-timing').fork('transport') : null;
    this.target = ctx.queue.register(ctx.id, this.onEvent);
    this.spec = {
      vendorId: IWL_PCI.vendorId,
      deviceId: IWL_PCI.deviceId,
      revision: IWL_PCI.revision,
      classCode: IWL_PCI.classCode,
      subsystemVendorId: IWL_PCI.subsystemVendorId,
      subsystemId: IWL_PCI.subsystemId,
      interruptPin: 1,
      bars: [{ index: 0, kind: 'mem64', size: IWL_BAR0_SIZE, prefetchable: false, handler: this }],
      capabilities: { pm: true, msi: { vectors: 1, is64: true, perVectorMask: false }, pcie: true },
    };
    const { irq, dma } = ctx.attachPci(this.spec);
    this.irq = irq;
    this.dma = dma;
    this.ints = new Interrupts(this, irq, Math.max(0, Math.trunc(faults.loseRxIrq) || 0), this.hostile !== null);
    this.txq = new TxQueues(this);
    this.prph = new Prph(this, this.txq);
    this.rx = new RxRing(this, this.ints, Math.max(0, Math.trunc(faults.dmaErrorRx ?? 0) || 0));
    this.srvc = new ServiceChannel(this, this.sram, this.prph, this.ints, faults.corruptChunk);
  }

  attachFirmware(fw: FirmwareCpu): void {
    this.fw = fw;
  }

  /** Toggles the hardware RF-kill switch: GP_CNTRL bit 27, APMG RTC_INT_STT bit 28, INT.RF_KILL, fw.rfKill(). */
  setRfKill(asserted: boolean): void {
    this.regsHash = -1;
    if (asserted === this.rfKill) return;
    this.rfKill = asserted;
    this.milestone('rfkill', asserted ? 1 : 0, 0);
    this.prph.noteRfKill();
    this.ints.raise(INT.RF_KILL, 0);
    this.fw.rfKill(asserted);
  }

  // ---------------------------------------------------------------- TransportEnv / FirmwareHost

  reg(offset: number): number {
    return this.regs[offset >>> 2] ?? 0;
  }

  consumeSrvcTb(): void {
    const i = (FH.TCSR_CHNL_TX_BUF_STS + 0x20 * FH_SRVC_CHNL) >>> 2;
    this.regs[i] = (this.regs[i]! & ~3) >>> 0;
  }

  err(code: IwlwifiGuestErrorCode, message: string): void {
    this.counters.guestErrors++;
    this.tracer.guestErr(this.queue.now, this.dev, code, message);
  }

  guestErr(code: IwlwifiGuestErrorCode, message: string): void {
    this.err(code, message);
  }

  delay(base: Duration, range: readonly [Duration, Duration]): Duration {
    if (this.hostile === null) return base;
    return this.hostile.int(range[0], range[1]) as Duration;
  }

  vary(base: number, range: readonly [number, number]): number {
    if (this.hostile === null) return base;
    return this.hostile.int(range[0], range[1]);
  }

  milestone(name: string, a: number, b: number): void {
    this.tracer.milestone(this.queue.now, this.dev, name, a, b);
  }

  readSram(addr: number, len: number): Uint8Array | null {
    return this.sram.read(addr, len);
  }

  prphRead(addr: number): number {
    return this.prph.read(addr);
  }

  postRx(cmd: number, group: number, seq: number, payload: Uint8Array, len: number): boolean {
    this.regsHash = -1;
    this.pmActivity();
    return this.rx.post(cmd, group, seq, payload, len);
  }

  raiseInt(bits: number): void {
    this.regsHash = -1;
    this.ints.raise(bits, 0);
  }

  // ---------------------------------------------------------------- DeviceModel

  /** Function-level reset: every register, SRAM and pointer to its power-on value; the CPU halted and held. */
  quiesce(): void {
    this.regsHash = -1;
    this.milestone('reset', MILESTONE_RESET_FUNCTION, 0);
    this.queue.cancel(this.prepareEv);
    this.prepareEv = NO_EVENT;
    this.deviceReset();
    this.regs.fill(0);
    this.ints.reset();
    this.prph.reset();
    this.sram.clear();
  }

  /** What the adapter is waiting for (DeviceModel.stall; ../stall.ts). */
  stall(now: number): string[] {
    return iwlStall(this, now);
  }

  stats(): Record<string, number> {
    return {
      interrupts: this.ints.signals,
      ictWrites: this.ints.ictWrites,
      lostRxIrqs: this.ints.lostRxIrqs,
      tfds: this.txq.tfds,
      badTfds: this.txq.badTfds,
      rxPackets: this.rx.packets,
      rxDropped: this.rx.dropped,
      rxPacked: this.rx.packed,
      dmaErrors: this.rx.dmaErrors,
      chunks: this.srvc.chunks,
      failedChunks: this.srvc.failedChunks,
      chunkBytes: this.srvc.bytes,
      cpuReleases: this.counters.releases,
      swResets: this.counters.swResets,
      guestErrors: this.counters.guestErrors,
    };
  }

  /** CSR/FH registers, interrupt and ICT state, queue and RX pointers, CPU state. */
  stateHash(): number {
    // The register file and PRPH store are large and mostly unchanged between
    // digests: their hash is cached until an access, event or firmware call.
    // Most of the 2048 register words are zero: hash the others with their index.
    if (this.regsHash < 0) {
      let r = FNV_OFFSET;
      const regs = this.regs;
      for (let i = 0; i < regs.length; i++) if (regs[i] !== 0) r = fnvNumber(fnvNumber(r, i), regs[i]!);
      this.regsHash = fnvArray(r, this.prph.entries()) >>> 0;
    }
    let h = this.regsHash;
    const i = this.ints;
    for (const v of [i.int, i.mask, i.fhInt, i.ictReg, i.ictIndex, i.coalescing, i.periodic, i.intxLevel ? 1 : 0,
      this.gp, this.macClockOn ? 1 : 0, this.accessClock ? 1 : 0, ['awake', 'going', 'asleep', 'waking'].indexOf(this.pm), this.powerSave ? 1 : 0,
      this.resetReg, this.cpuHeld ? 1 : 0, this.rfKill ? 1 : 0, this.txIdle,
      this.rx.config, this.rx.rbdBase, this.rx.sttsBase, this.rx.wptr, this.rx.read, this.rx.idle ? 1 : 0,
      this.srvc.busy ? 1 : 0, this.srvc.loadIndex, this.srvc.chunkInLoad]) h = fnvNumber(h, v);
    h = fnvArray(h, this.txq.ringReg);
    h = fnvArray(h, this.txq.wr);
    h = fnvArray(h, this.txq.rd);
    h = fnvArray(h, this.txq.status);
    return fnvWord(h, this.fw.stateHash()) >>> 0;
  }

  // ---------------------------------------------------------------- MMIO

  read(offset: number, size: number): number {
    this.regsHash = -1;
    if (!(offset >= 0 && offset < IWL_BAR0_SIZE)) return 0;
    const o = offset & ~3;
    if (size === 4 && o === offset) {
      if (!isBar0Register(o)) this.unknownRegister(false, offset, size, 0);
      return this.readReg(o, false);
    }
    if (o !== CSR.INT_COALESCING) {
      this.err('iwl.mmio.width', `${this.name}: ${size}-byte read at ${hex(offset)}: registers are dwords (served from the dword at ${hex(o)})`);
      if (!isBar0Register(o)) this.unknownRegister(false, offset, size, 0);
    } else if ((offset & 3) >= 2) {
      this.unknownRegister(false, offset, size, 0);
    }
    const v = this.readReg(o, false) >>> ((offset & 3) * 8);
    return size >= 4 ? v >>> 0 : (v & ((1 << (size * 8)) - 1)) >>> 0;
  }

  write(offset: number, size: number, value: number): void {
    this.regsHash = -1;
    if (!(offset >= 0 && offset < IWL_BAR0_SIZE)) return;
    const o = offset & ~3;
    const shift = (offset & 3) * 8;
    if (size === 4 && shift === 0) {
      if (!isBar0Register(o)) this.unknownRegister(true, offset, size, value);
      this.writeReg(o, value >>> 0);
      return;
    }
    const width = size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    const m = (width << shift) >>> 0;
    const part = ((value << shift) & m) >>> 0;
    if (o === CSR.INT_COALESCING) {
      // Native byte registers: 0x004 coalescing, 0x005 periodic; bytes 2-3 unused (a write only there does nothing).
      if ((m & 0xffff) === 0) this.unknownRegister(true, offset, size, value);
      if ((m & 0xff) !== 0) this.ints.writeCoalescing(part & 0xff);
      if ((m & 0xff00) !== 0) this.ints.writePeriodic((part >>> 8) & 0xff);
      return;
    }
    this.err('iwl.mmio.width', `${this.name}: ${size}-byte write of ${hex(value)} at ${hex(offset)}: registers are dwords (merged into ${hex(o)})`);
    if (!isBar0Register(o)) this.unknownRegister(true, offset, size, value);
    if (W1_REGS.has(o)) this.writeReg(o, part);
    else this.writeReg(o, ((this.readReg(o, true) & ~m) | part) >>> 0);
  }

  /**
   * An access to a BAR0 offset with no CSR/HBUS/FH register (regs.ts
   * isBar0Register). The access itself is served as before: the dword is
   * plain storage (reads return what was last written there, 0 after reset).
   */
  private unknownRegister(write: boolean, offset: number, size: number, value: number): void {
    this.err('iwl.reg.unknown', write
      ? `${this.name}: ${size}-byte write of ${hex(value)} at ${hex(offset)}: no register there (kept as plain storage)`
      : `${this.name}: ${size}-byte read at ${hex(offset)}: no register there (plain storage)`);
  }

  /** Register read; `peek` suppresses side effects (data-port auto-increment, access errors). */
  private readReg(o: number, peek: boolean): number {
    switch (o) {
      case CSR.INT_COALESCING: return this.ints.readCoalescingDword();
      case CSR.INT: return this.ints.int;
      case CSR.INT_MASK: return this.ints.mask;
      case CSR.FH_INT_STATUS: return this.ints.fhInt;
      case CSR.RESET: return this.resetReg;
      case CSR.GP_CNTRL: return this.gpCntrl();
      case CSR.HW_REV: return HW_REV_7265D;
      case CSR.UCODE_DRV_GP1:
      case CSR.UCODE_DRV_GP1_SET:
      case CSR.UCODE_DRV_GP1_CLR:
        return (this.regs[CSR.UCODE_DRV_GP1 >>> 2]! | (this.pm === 'asleep' || this.pm === 'waking' ? GP1.MAC_SLEEP : 0)) >>> 0;
      case CSR.DRAM_INT_TBL: return this.ints.ictReg;
      case HBUS.TARG_MEM_RDAT: {
        if (peek) return 0;
        const a = this.regs[HBUS.TARG_MEM_RADDR >>> 2]!;
        this.regs[HBUS.TARG_MEM_RADDR >>> 2] = (a + 4) >>> 0;
        return this.sramRead(a);
      }
      case HBUS.TARG_PRPH_RDAT:
        if (peek) return 0;
        return this.prphAccess(this.regs[HBUS.TARG_PRPH_RADDR >>> 2]!, false, 0);
      case FH.RSCSR_CHNL0_RDPTR: return this.rx.read;
      case FH.MEM_RSSR_RX_STATUS: return this.rx.idle ? FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE : 0;
      case FH.TSSR_TX_STATUS: return this.txIdle;
      default: return this.regs[o >>> 2]!;
    }
  }

  private writeReg(o: number, v: number): void {
    switch (o) {
      case CSR.HW_IF_CONFIG: this.writeHwIfConfig(v); return;
      case CSR.INT_COALESCING:
        this.ints.writeCoalescing(v & 0xff);
        this.ints.writePeriodic((v >>> 8) & 0xff);
        return;
      case CSR.INT: this.ints.writeInt(v); return;
      case CSR.INT_MASK: this.ints.writeMask(v); return;
      case CSR.FH_INT_STATUS: this.ints.writeFhInt(v); return;
      case CSR.RESET: this.writeReset(v); return;
      case CSR.GP_CNTRL: this.writeGpCntrl(v); return;
      case CSR.UCODE_DRV_GP1_SET: this.regs[CSR.UCODE_DRV_GP1 >>> 2] = (this.regs[CSR.UCODE_DRV_GP1 >>> 2]! | v) >>> 0; return;
      case CSR.UCODE_DRV_GP1_CLR: this.regs[CSR.UCODE_DRV_GP1 >>> 2] = (this.regs[CSR.UCODE_DRV_GP1 >>> 2]! & ~v) >>> 0; return;
      case CSR.DRAM_INT_TBL: this.ints.writeIct(v); return;
      case HBUS.TARG_MEM_WDAT: {
        const a = this.regs[HBUS.TARG_MEM_WADDR >>> 2]!;
        this.regs[HBUS.TARG_MEM_WADDR >>> 2] = (a + 4) >>> 0;
        this.regs[o >>> 2] = v;
        this.sramWrite(a, v);
        return;
      }
      case HBUS.TARG_PRPH_WDAT:
        this.regs[o >>> 2] = v;
        this.prphAccess(this.regs[HBUS.TARG_PRPH_WADDR >>> 2]!, true, v);
        return;
      case HBUS.TARG_WRPTR: {
        this.regs[o >>> 2] = v;
        const q = v >>> 8;
        if (q >= TX_QUEUES) {
          this.err('iwl.txq.wrptr', `${this.name}: HBUS_TARG_WRPTR ${hex(v)} names queue ${q} (0..${TX_QUEUES - 1}) or an index beyond 255; ignored`);
          return;
        }
        this.pmActivity();
        this.txq.setWritePtr(q, v & 0xff);
        return;
      }
      case FH.MEM_RCSR_CHNL0_CONFIG: this.regs[o >>> 2] = v; this.rx.writeConfig(v); return;
      case FH.RSCSR_CHNL0_STTS_WPTR: this.regs[o >>> 2] = v; this.rx.sttsBase = v; return;
      case FH.RSCSR_CHNL0_RBDCB_BASE: this.regs[o >>> 2] = v; this.rx.rbdBase = v; return;
      case FH.RSCSR_CHNL0_WPTR: this.regs[o >>> 2] = v; this.rx.wptr = v & 0xfff; return;
      case FH.RSCSR_CHNL0_RDPTR: this.rx.setRead(v); return;
      default: break;
    }
    if (RO_REGS.has(o)) {
      this.err('iwl.csr.read-only', `${this.name}: write of ${hex(v)} to read-only register ${hex(o)} ignored`);
      return;
    }
    this.regs[o >>> 2] = v;
    if (o >= FH.TCSR_CHNL_TX_CONFIG && o < FH.TCSR_CHNL_TX_CONFIG + 0x20 * 10 && (o & 0x1f) === 0) {
      this.writeTxConfig((o - FH.TCSR_CHNL_TX_CONFIG) >>> 5, v);
      return;
    }
    const q = TxQueues.ringQueue(o);
    if (q >= 0) this.txq.setRingBase(q, v);
  }

  // ---------------------------------------------------------------- CSR semantics

  private gpCntrl(): number {
    return (this.gp | (this.clockReady() ? GP_CNTRL.MAC_CLOCK_READY : 0) | (this.pm === 'going' ? GP_CNTRL.GOING_TO_SLEEP : 0)
      | (this.rfKill ? 0 : GP_CNTRL.HW_RF_KILL_SW)) >>> 0;
  }

  /** MAC clock available: awake (or going to sleep) and INIT_DONE granted, or MAC_ACCESS_REQ granted. */
  clockReady(): boolean {
    if (this.pm === 'asleep' || this.pm === 'waking') return false;
    return this.macClockOn || this.accessClock;
  }

  // ---------------------------------------------------------------- MAC sleep

  /** The running firmware allows (or forbids) power save (POWER_TABLE). */
  setPowerSave(on: boolean): void {
    this.regsHash = -1;
    this.powerSave = on;
    if (on) this.armIdle();
    else if (this.pm === 'going' || this.pm === 'asleep') this.wake(1, true);
  }

  /** Device activity (a TFD to fetch, an RX packet): a sleeping MAC wakes at once; the idle time restarts. */
  pmActivity(): void {
    if (this.pm === 'going' || this.pm === 'asleep') this.wake(1, true);
    else if (this.pm === 'awake') this.armIdle();
  }

  private armIdle(): void {
    if (this.pm !== 'awake') return;
    this.queue.cancel(this.pmEv);
    this.pmEv = NO_EVENT;
    if (!this.powerSave || !this.fw.running || !this.macClockOn || (this.gp & GP_CNTRL.MAC_ACCESS_REQ) !== 0) return;
    this.pmEv = this.queue.schedule(this.delay(Timing.PM_IDLE, HostileTiming.PM_IDLE), this.target, Ev.PM_SLEEP);
  }

  /** Starts waking (host request: after PM_WAKE) or wakes at once (device activity). */
  private wake(cause: number, now: boolean): void {
    this.queue.cancel(this.pmEv);
    this.pmEv = NO_EVENT;
    if (now) {
      this.pm = 'awake';
      this.milestone('pm.wake', cause, 0);
      this.armIdle();
      return;
    }
    this.pm = 'waking';
    this.pmEv = this.queue.schedule(this.delay(Timing.PM_WAKE, HostileTiming.PM_WAKE), this.target, Ev.PM_WAKE);
  }

  private onPm(kind: number): void {
    this.pmEv = NO_EVENT;
    if (kind === Ev.PM_SLEEP) {
      if (this.pm !== 'awake' || !this.powerSave || !this.fw.running || (this.gp & GP_CNTRL.MAC_ACCESS_REQ) !== 0) return;
      this.pm = 'going';
      this.pmEv = this.queue.schedule(this.delay(Timing.PM_GOING_TO_SLEEP, HostileTiming.PM_GOING_TO_SLEEP), this.target, Ev.PM_ASLEEP);
    } else if (kind === Ev.PM_ASLEEP) {
      this.pm = 'asleep';
      this.milestone('pm.sleep', 0, 0);
      // A request that came while it was going to sleep is served now.
      if ((this.gp & GP_CNTRL.MAC_ACCESS_REQ) !== 0) this.wake(0, false);
    } else {
      this.pm = 'awake';
      this.milestone('pm.wake', 0, 0);
      this.armIdle();
    }
  }

  private pmReset(): void {
    this.queue.cancel(this.pmEv);
    this.pmEv = NO_EVENT;
    this.pm = 'awake';
    this.powerSave = false;
  }

  private writeHwIfConfig(v: number): void {
    const i = CSR.HW_IF_CONFIG >>> 2;
    const old = this.regs[i]!;
    let nv = ((v & ~HW_IF_CONFIG.PREPARE_DONE) | (old & HW_IF_CONFIG.PREPARE_DONE)) >>> 0;
    if ((v & HW_IF_CONFIG.PREPARE) !== 0) {
      if ((old & HW_IF_CONFIG.PREPARE) === 0 && this.prepareEv === NO_EVENT && (old & HW_IF_CONFIG.PREPARE_DONE) === 0) {
        this.prepareEv = this.queue.schedule(this.delay(Timing.PREPARE_DONE, HostileTiming.PREPARE_DONE), this.target, Ev.PREPARE_DONE);
      }
    } else {
      this.queue.cancel(this.prepareEv);
      this.prepareEv = NO_EVENT;
      nv = (nv & ~HW_IF_CONFIG.PREPARE_DONE) >>> 0;
    }
    this.regs[i] = nv;
  }

  private writeGpCntrl(v: number): void {
    const old = this.gp;
    this.gp = (v & ~GP_RO) >>> 0;
    const req = (this.gp & GP_CNTRL.MAC_ACCESS_REQ) !== 0;
    if (req && (old & GP_CNTRL.MAC_ACCESS_REQ) === 0) {
      if (this.pm === 'asleep') this.wake(0, false);
      else if (this.pm === 'awake') { this.queue.cancel(this.pmEv); this.pmEv = NO_EVENT; }
      if (!this.accessClock && this.accessEv === NO_EVENT) {
        if (this.macClockOn) this.accessClock = true;
        else this.accessEv = this.queue.schedule(this.delay(Timing.CLOCK_READY, HostileTiming.CLOCK_READY), this.target, Ev.ACCESS_READY);
      }
    } else if (!req && (old & GP_CNTRL.MAC_ACCESS_REQ) !== 0) {
      this.queue.cancel(this.accessEv);
      this.accessEv = NO_EVENT;
      this.accessClock = false;
      this.armIdle();
    }
    const init = (this.gp & GP_CNTRL.INIT_DONE) !== 0;
    if (init && (old & GP_CNTRL.INIT_DONE) === 0) {
      if (this.clockEv === NO_EVENT && !this.macClockOn) {
        this.clockEv = this.queue.schedule(this.delay(Timing.CLOCK_READY, HostileTiming.CLOCK_READY), this.target, Ev.CLOCK_READY);
      }
    } else if (!init) {
      this.queue.cancel(this.clockEv);
      this.clockEv = NO_EVENT;
      this.macClockOn = false;
    }
  }

  private writeReset(v: number): void {
    if ((v & RESET.SW_RESET) !== 0) {
      this.swReset();
      return;
    }
    const old = this.resetReg;
    // MASTER_DISABLED is status; SW_RESET and FORCE_NMI are actions.
    this.resetReg = ((v & ~(RESET.MASTER_DISABLED | RESET.SW_RESET | RESET.FORCE_NMI)) | (old & RESET.MASTER_DISABLED)) >>> 0;
    if ((v & RESET.FORCE_NMI) !== 0) this.milestone('nmi', this.fw.running ? 1 : 0, 0);
    if ((v & RESET.STOP_MASTER) !== 0) {
      if ((old & RESET.STOP_MASTER) === 0 && (old & RESET.MASTER_DISABLED) === 0 && this.masterEv === NO_EVENT) {
        this.masterEv = this.queue.schedule(this.delay(Timing.MASTER_DISABLED, HostileTiming.MASTER_DISABLED), this.target, Ev.MASTER_DISABLED);
      }
    } else {
      this.queue.cancel(this.masterEv);
      this.masterEv = NO_EVENT;
      this.resetReg = (this.resetReg & ~RESET.MASTER_DISABLED) >>> 0;
    }
    if (v === 0) this.releaseCpu();
  }

  private releaseCpu(): void {
    if (!this.cpuHeld) return;
    const chunks = this.srvc.chunkInLoad;
    if (chunks === 0) {
      this.err('iwl.cpu.release-empty', `${this.name}: RESET = 0 with no firmware loaded since the last reset; the CPU stays held`);
      return;
    }
    this.cpuHeld = false;
    this.counters.releases++;
    this.milestone('cpu.release', this.srvc.loadIndex, chunks);
    this.srvc.noteRelease();
    if (this.rfKill) this.fw.rfKill(true);
    this.fw.release();
  }

  /** CSR_RESET.SW_RESET. */
  private swReset(): void {
    this.counters.swResets++;
    this.milestone('sw-reset', this.fw.running ? 1 : 0, 0);
    this.deviceReset();
    // FH block back to zero (TFD ring bases, RX/TX DMA configuration, service channel registers).
    this.regs.fill(0, FH_START >>> 2, FH_END >>> 2);
  }

  /** Shared by SW reset and function reset: MAC, CPU, DMA engines, scheduler, ICT. */
  private deviceReset(): void {
    this.pmReset();
    this.queue.cancel(this.accessEv);
    this.accessEv = NO_EVENT;
    this.accessClock = false;
    this.queue.cancel(this.clockEv);
    this.queue.cancel(this.masterEv);
    this.clockEv = NO_EVENT;
    this.masterEv = NO_EVENT;
    for (let ch = 0; ch < 8; ch++) {
      this.queue.cancel(this.txIdleEv[ch]!);
      this.txIdleEv[ch] = NO_EVENT;
    }
    this.gp = 0;
    this.macClockOn = false;
    this.resetReg = 0;
    this.txIdle = TX_ALL_IDLE;
    this.cpuHeld = true;
    this.fw.halt();
    this.srvc.reset();
    this.txq.reset();
    this.prph.resetScd();
    this.rx.reset();
    this.ints.resetIct();
    this.ints.cancelTimers();
  }

  private writeTxConfig(ch: number, v: number): void {
    const on = (v & FH_TCSR_TX_CONFIG.DMA_ENABLE) !== 0;
    if (ch === FH_SRVC_CHNL) {
      if (on) this.srvc.kick(v);
      else this.srvc.stop();
      return;
    }
    if (ch < 8) {
      this.queue.cancel(this.txIdleEv[ch]!);
      this.txIdleEv[ch] = NO_EVENT;
      if (on) this.txIdle = (this.txIdle & ~fhTxIdleBits(ch)) >>> 0;
      else if (((this.txIdle & fhTxIdleBits(ch)) >>> 0) !== fhTxIdleBits(ch)) {
        this.txIdleEv[ch] = this.queue.schedule(this.delay(Timing.TX_IDLE, HostileTiming.TX_IDLE), this.target, Ev.TX_IDLE, ch);
      }
    }
    this.txq.kickAll();
  }

  // ---------------------------------------------------------------- indirect access

  private prphAccess(raddr: number, write: boolean, v: number): number {
    if ((raddr & PRPH_DWORD_ACCESS) !== PRPH_DWORD_ACCESS) {
      this.err('iwl.prph.addr', `${this.name}: PRPH ${write ? 'write' : 'read'} address ${hex(raddr)} lacks the dword-access bits (3 << 24)`);
    }
    if (!this.clockReady()) {
      this.err('iwl.prph.no-access', `${this.name}: PRPH ${write ? 'write' : 'read'} at ${hex(raddr & 0xfffff)} while the MAC clock is off (set MAC_ACCESS_REQ and wait for MAC_CLOCK_READY with GOING_TO_SLEEP clear)${write ? '; dropped' : `; reads ${hex(NO_CLOCK_READ)}`}`);
      return write ? 0 : NO_CLOCK_READ;
    }
    if (write) {
      this.prph.write(raddr, v);
      return 0;
    }
    return this.prph.read(raddr);
  }

  private sramRead(a: number): number {
    if (!this.clockReady()) {
      this.err('iwl.sram.no-access', `${this.name}: SRAM read at ${hex(a)} while the MAC clock is off; reads ${hex(NO_CLOCK_READ)}`);
      return NO_CLOCK_READ;
    }
    if (!this.sram.backed(a & ~3, 4)) {
      this.err('iwl.sram.unbacked', `${this.name}: SRAM read at ${hex(a)}: no SRAM there`);
      return 0;
    }
    return this.sram.read32(a);
  }

  private sramWrite(a: number, v: number): void {
    if (!this.clockReady()) {
      this.err('iwl.sram.no-access', `${this.name}: SRAM write of ${hex(v)} at ${hex(a)} while the MAC clock is off; dropped`);
      return;
    }
    if (!this.sram.backed(a & ~3, 4)) {
      this.err('iwl.sram.unbacked', `${this.name}: SRAM write of ${hex(v)} at ${hex(a)}: no SRAM there; dropped`);
      return;
    }
    this.sram.write32(a, v);
  }

  // ---------------------------------------------------------------- events

  private readonly onEvent = (kind: number, a0: number, a1: number): void => {
    this.regsHash = -1;
    switch (kind) {
      case Ev.PREPARE_DONE: {
        this.prepareEv = NO_EVENT;
        const i = CSR.HW_IF_CONFIG >>> 2;
        this.regs[i] = (this.regs[i]! | HW_IF_CONFIG.PREPARE_DONE) >>> 0;
        return;
      }
      case Ev.CLOCK_READY:
        this.clockEv = NO_EVENT;
        this.macClockOn = true;
        return;
      case Ev.MASTER_DISABLED:
        this.masterEv = NO_EVENT;
        this.resetReg = (this.resetReg | RESET.MASTER_DISABLED) >>> 0;
        return;
      case Ev.RX_IDLE: this.rx.onIdle(); return;
      case Ev.RX_CLOSE: this.rx.onClose(); return;
      case Ev.ACCESS_READY: this.accessEv = NO_EVENT; this.accessClock = true; return;
      case Ev.PM_SLEEP: case Ev.PM_ASLEEP: case Ev.PM_WAKE: this.onPm(kind); return;
      case Ev.TX_IDLE:
        if (a0 >= 0 && a0 < 8) {
          this.txIdleEv[a0] = NO_EVENT;
          this.txIdle = (this.txIdle | fhTxIdleBits(a0)) >>> 0;
        }
        return;
      case Ev.SRVC_DONE: this.srvc.onDone(); return;
      case Ev.TFD: this.txq.onTfd(a0); return;
      case Ev.COALESCE: this.ints.onCoalesce(); return;
      case Ev.PERIODIC: this.ints.onPeriodic(); return;
      case Ev.MSI: this.ints.onMsi(a1); return;
      default: return;
    }
  };
}
