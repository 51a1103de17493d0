/**
 * One PCI function: type-0 configuration space with exact read-only, RW and
 * W1C bits, BAR decode into PhysMem, the PM/MSI/MSI-X/PCIe capabilities, and
 * the interrupt path a device model uses (`PciInterrupts`). The bus-master
 * gate for the device's DMA port is this object too.
 *
 * Config accesses come from the host bridge (ECAM or CF8/CFC), which also
 * traces them. Nothing a guest writes here throws: misuse becomes a
 * `guestErr` trace event and the hardware behaviour (ignored write, no
 * decode, message not sent).
 */
import type { BusMasterGate } from '../../sim/dma.js';
import type { EventQueue } from '../../sim/event-queue.js';
import { intxGsi, type IrqFabric } from '../../sim/irq.js';
import type { MmioHandler, PhysMem } from '../../sim/memory.js';
import type { Tracer } from '../../sim/tracer.js';
import { FNV_OFFSET, fnvNumber } from '../../sim/hash.js';
import type { BarKind, CapabilityWindow, PciFunctionSpec, PciInterrupts } from './api.js';
import { BarDecoder } from './bars.js';
import { checkBdf, formatBdf, type Bdf } from './bdf.js';
import type { ConfigSpace } from './config-space.js';
import { buildConfigLayout, type BarInfo } from './layout.js';
import { MsixBarHandler, MsixTable, type MsixAccess } from './msix.js';
import { PmBarHandler, pmDelay, pmStateName, pmTransitionAllowed, type PmGate } from './pm.js';
import type { EventHandle } from '../../sim/event-queue.js';
import { formatTime, ms, type Duration } from '../../sim/time.js';
import type { PciGuestErrorCode } from './guest-errors.js';
import * as R from './regs.js';

export interface PciFunctionOptions {
  bdf: Bdf;
  /** Index in the trace device table (-1 for platform functions such as the host bridge). */
  dev: number;
  /** Instance name for messages, e.g. "nvme0". */
  name: string;
  spec: PciFunctionSpec;
  mem: PhysMem;
  irq: IrqFabric;
  queue: EventQueue;
  tracer: Tracer;
  /** Called after a Function Level Reset has put config space back to power-on values. */
  onFlr?: () => void;
}

export type PciInterruptMode = 'msix' | 'msi' | 'intx';

/** Current decode of one BAR, for tools and the kernel model. */
export interface PciBarState {
  index: number;
  kind: BarKind;
  size: number;
  prefetchable: boolean;
  /** What the BAR registers hold. */
  address: number;
  /** Base of the decoded window, or -1 when not decoding. */
  mappedBase: number;
}

const TWO32 = 2 ** 32;

export class PciFunction implements PciInterrupts, BusMasterGate, MsixAccess, PmGate {
  readonly bdf: Readonly<Bdf>;
  readonly dev: number;
  readonly name: string;
  readonly spec: PciFunctionSpec;
  /** Where the capabilities are, for naming registers (`pciConfigRegName`). */
  readonly caps: Readonly<R.PciCapLayout>;
  /** Config space size: 4096 with the PCI Express capability, else 256. */
  readonly configSize: number;
  /** IOAPIC input the INTx pin is swizzled onto, or -1 without a pin. */
  readonly intxGsi: number;

  private readonly space: ConfigSpace;
  private readonly bars: BarDecoder;
  private readonly barInfo: readonly BarInfo[];
  private readonly mem: PhysMem;
  private readonly irq: IrqFabric;
  private readonly queue: EventQueue;
  private readonly tracer: Tracer;
  private readonly onFlr: (() => void) | undefined;
  private readonly msix: MsixTable | null;

  // Config offsets of registers with side effects, -1 when absent.
  private readonly pmcsr: number;
  private readonly msiCtrl: number;
  private readonly msiAddrHi: number;
  private readonly msiData: number;
  private readonly msiMask: number;
  private readonly msiPending: number;
  private readonly msixCtrl: number;
  private readonly devCtl: number;

  /** Vendor capability windows the device serves itself: absolute [start, end), handler, view of the capability. */
  private readonly windowStart: number[] = [];
  private readonly windowEnd: number[] = [];
  private readonly windows: CapabilityWindow[] = [];
  private readonly windowCaps: Uint8Array[] = [];

  /** The device's INTx request (Status.Interrupt Status). */
  private intxRequest = false;
  /** Whether this function currently drives its INTx line. */
  private intxDriven = false;
  /** A message was refused for lack of bus mastering since Bus Master Enable last went to 1. */
  private noBusMasterReported = false;

  // Power management (PCI PM 1.2; PCIe 3.0 5.3.1). `pmWatch` is set while a
  // BAR access needs a look (not in D0, or inside a transition's recovery
  // time), so the BAR fast path is one field test.
  private pmWatch = false;
  /** End of the recovery time of the last PowerState change (PCI PM 1.2 table 5-6), and that change, for messages. */
  private pmReadyAt = 0;
  private pmFrom = 0;
  private pmTo = 0;
  /** PME_Support (5 bits) and whether PME_En/PME_Status are sticky (PME from D3cold). */
  private readonly pmeSupport: number;
  /** Event target for PME message re-sends (registered only when PME is claimed), and the pending re-send. */
  private readonly pmeTarget: number = -1;
  private pmeResend: EventHandle = -1;

  constructor(opts: PciFunctionOptions) {
    const bad = checkBdf(opts.bdf);
    if (bad !== undefined) throw new Error(`PCI function ${opts.name}: ${bad}`);
    this.bdf = { bus: opts.bdf.bus, device: opts.bdf.device, fn: opts.bdf.fn };
    this.dev = opts.dev;
    this.name = opts.name;
    this.spec = opts.spec;
    this.mem = opts.mem;
    this.irq = opts.irq;
    this.queue = opts.queue;
    this.tracer = opts.tracer;
    this.onFlr = opts.onFlr;

    const layout = buildConfigLayout(`${opts.name} (${formatBdf(opts.bdf)})`, opts.spec);
    this.space = layout.space;
    this.caps = layout.caps;
    this.configSize = layout.space.size;
    this.barInfo = layout.bars;
    this.intxGsi = opts.spec.interruptPin === 0 ? -1 : intxGsi(opts.bdf.device, opts.spec.interruptPin);

    const c = layout.caps;
    this.pmcsr = c.pm >= 0 ? c.pm + R.PM_PMCSR : -1;
    this.msiCtrl = c.msi >= 0 ? c.msi + R.MSI_CONTROL : -1;
    this.msiAddrHi = c.msi >= 0 && c.msi64 ? c.msi + R.MSI_ADDRESS_HI : -1;
    this.msiData = layout.msiData;
    this.msiMask = layout.msiMask;
    this.msiPending = layout.msiPending;
    this.msixCtrl = c.msix >= 0 ? c.msix + R.MSIX_CONTROL : -1;
    this.devCtl = c.pcie >= 0 ? c.pcie + R.PCIE_DEVCTL : -1;
    const pmSpec = opts.spec.capabilities.pm;
    this.pmeSupport = typeof pmSpec === 'object' ? pmSpec.pmeSupport ?? 0 : 0;
    if (this.pmeSupport !== 0) this.pmeTarget = this.queue.register(`${opts.name}.pme`, () => this.pmeResendDue());

    const vendor = opts.spec.capabilities.vendor ?? [];
    vendor.forEach((v, i) => {
      const at = c.vendor?.[i];
      if (v.window === undefined || at === undefined) return;
      this.windowStart.push(at + v.window.offset);
      this.windowEnd.push(at + v.window.offset + v.window.length);
      this.windows.push(v.window);
      this.windowCaps.push(this.space.bytes.subarray(at, at + 2 + v.body.length));
    });

    const msixSpec = opts.spec.capabilities.msix;
    this.msix = msixSpec === undefined ? null : new MsixTable(msixSpec.tableSize);
    const decoded: MmioHandler[] = layout.bars.map((b) => {
      const idx = b.spec.index;
      if (msixSpec === undefined || this.msix === null || (msixSpec.tableBar !== idx && msixSpec.pbaBar !== idx)) return b.spec.handler;
      const t = this.msix;
      const tableStart = msixSpec.tableBar === idx ? msixSpec.tableOffset : 0;
      const tableEnd = msixSpec.tableBar === idx ? msixSpec.tableOffset + t.tableBytes : 0;
      const pbaStart = msixSpec.pbaBar === idx ? msixSpec.pbaOffset : 0;
      const pbaEnd = msixSpec.pbaBar === idx ? msixSpec.pbaOffset + t.pbaBytes : 0;
      return new MsixBarHandler(b.spec.handler, this, tableStart, tableEnd, pbaStart, pbaEnd);
    });
    // With a PM capability every BAR goes through the power-state gate (not decoding outside D0).
    const handlers = this.pmcsr < 0 ? decoded
      : decoded.map((h, i) => new PmBarHandler(h, this, layout.bars[i]!.spec.index, layout.bars[i]!.spec.kind === 'io'));
    this.bars = new BarDecoder(this.name, this.space, layout.bars, handlers, this.mem, this.dev,
      (code, message) => this.guestErr(code, message));
  }

  // ---- State getters -------------------------------------------------------

  get busMaster(): boolean {
    return (this.space.get8(R.CFG_COMMAND) & R.CMD_BUS_MASTER) !== 0;
  }

  get memoryEnabled(): boolean {
    return (this.space.get8(R.CFG_COMMAND) & R.CMD_MEMORY) !== 0;
  }

  get ioEnabled(): boolean {
    return (this.space.get8(R.CFG_COMMAND) & R.CMD_IO) !== 0;
  }

  get mode(): PciInterruptMode {
    if (this.msixCtrl >= 0 && (this.space.get16(this.msixCtrl) & R.MSIX_CTRL_ENABLE) !== 0) return 'msix';
    if (this.msiCtrl >= 0 && (this.space.get16(this.msiCtrl) & R.MSI_CTRL_ENABLE) !== 0) return 'msi';
    return 'intx';
  }

  /** Current power state from PMCSR (0 = D0, 3 = D3hot); 0 without the PM capability. */
  get powerState(): number {
    return this.pmcsr >= 0 ? this.space.get8(this.pmcsr) & R.PMCSR_POWER_STATE_MASK : 0;
  }

  /** True while this function drives its INTx line. */
  get intxAsserted(): boolean {
    return this.intxDriven;
  }

  /** The BARs the spec declares, with what they hold and where they decode. */
  barStates(): PciBarState[] {
    return this.barInfo.map((b) => ({
      index: b.spec.index,
      kind: b.spec.kind,
      size: b.spec.size,
      prefetchable: b.spec.prefetchable === true,
      address: this.bars.address(b.spec.index) ?? 0,
      mappedBase: this.bars.mappedBase(b.spec.index),
    }));
  }

  /** Base of the window BAR `index` decodes, or -1. */
  barBase(index: number): number {
    return this.bars.mappedBase(index);
  }

  /** True if the PBA (MSI-X) or the Pending register (MSI) has `vector` pending. */
  isPending(vector: number): boolean {
    if (this.mode === 'msi' || this.msix === null) {
      if (this.msiPending < 0 || vector < 0 || vector > 31) return false;
      return ((this.space.get32(this.msiPending) >>> vector) & 1) !== 0;
    }
    return Number.isInteger(vector) && vector >= 0 && vector < this.msix.entries && this.msix.pending(vector);
  }

  // ---- Config space ----------------------------------------------------------

  /** A config read of 1, 2 or 4 bytes. Offsets beyond the config space read 0. */
  configRead(offset: number, size: number): number {
    if (!validAccess(offset, size)) return 0;
    if (this.pmWatch) this.pmConfigAccess(false, offset, size);
    const w = this.windowAt(offset);
    if (w >= 0) return this.windows[w]!.read(this.windowCaps[w]!, offset - this.windowStart[w]!, size) >>> 0;
    if (offset + size > this.configSize) {
      if (offset >= this.configSize) return 0;
      // Straddles the end: the bytes beyond read 0.
      let v = 0;
      for (let i = 0; offset + i < this.configSize; i++) v |= this.space.get8(offset + i) << (8 * i);
      return v >>> 0;
    }
    return this.space.read(offset, size);
  }

  /**
   * FNV digest of the whole config space, read as dwords (`fnvNumber` over
   * `configRead(off, 4)` for every dword, from FNV_OFFSET). Config space
   * rarely changes, so the last digest is kept with a copy of the bytes it
   * covered and reused while they are unchanged.
   */
  configDigest(): number {
    const n = this.configSize >>> 2;
    const now = new Uint32Array(this.space.bytes.buffer, this.space.bytes.byteOffset, n);
    const seen = this.digestWords;
    if (seen !== null) {
      let same = true;
      for (let i = 0; i < n; i++) if (seen[i] !== now[i]) { same = false; break; }
      if (same) return this.digestValue;
    }
    let h = FNV_OFFSET;
    // Stored bytes, not configRead: a capability window's reads may have side effects.
    for (let off = 0; off < this.configSize; off += 4) h = fnvNumber(h, this.space.get32(off));
    this.digestWords = now.slice();
    this.digestValue = h;
    return h;
  }

  private digestWords: Uint32Array | null = null;
  private digestValue = 0;

  /** A config write of 1, 2 or 4 bytes. Read-only bits and offsets beyond the space are ignored. */
  configWrite(offset: number, size: number, value: number): void {
    if (!validAccess(offset, size)) return;
    value = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    if (this.pmWatch) this.pmConfigAccess(true, offset, size);
    const w = this.windowAt(offset);
    if (w >= 0) {
      this.windows[w]!.write(this.windowCaps[w]!, offset - this.windowStart[w]!, size, value);
      return;
    }
    if ((offset & 3) + size <= 4) {
      if (offset + size <= this.configSize) this.writeInDword(offset, size, value);
      return;
    }
    // Crosses a dword boundary (not possible through CF8/CFC; undefined in PCIe): apply byte by byte.
    for (let i = 0; i < size; i++) {
      if (offset + i < this.configSize) this.writeInDword(offset + i, 1, (value >>> (8 * i)) & 0xff);
    }
  }

  /**
   * Firmware's BAR programming: writes `address` into BAR `index` (both
   * halves of a 64-bit BAR). Decoding still follows the Command register.
   */
  assignBar(index: number, address: number): void {
    const info = this.barInfo.find((b) => b.spec.index === index);
    if (info === undefined) throw new RangeError(`${this.name}: BAR${index} is not implemented`);
    const size = info.spec.size;
    if (!Number.isInteger(address) || address < 0 || address % size !== 0) {
      throw new RangeError(`${this.name}: BAR${index} address 0x${address.toString(16)} is not aligned to its size 0x${size.toString(16)}`);
    }
    const limit = info.spec.kind === 'mem64' ? Number.MAX_SAFE_INTEGER : info.spec.kind === 'io' ? 0x10000 : TWO32;
    if (address + size > limit) {
      throw new RangeError(`${this.name}: BAR${index} address 0x${address.toString(16)} is out of range for a ${info.spec.kind} BAR`);
    }
    this.writeInDword(info.reg, 4, (address % TWO32) >>> 0);
    if (info.spec.kind === 'mem64') this.writeInDword(info.reg + 4, 4, Math.floor(address / TWO32) >>> 0);
  }

  /** Sets error bits of the Status register (for device models: e.g. Received Master Abort). */
  setStatusBits(mask: number): void {
    const bits = mask & R.STS_W1C_MASK;
    this.space.put16(R.CFG_STATUS, this.space.get16(R.CFG_STATUS) | bits);
  }

  /** Sets error bits 0-3 of the PCI Express Device Status register (no-op without the capability). */
  setDeviceStatusBits(mask: number): void {
    if (this.devCtl < 0) return;
    const off = this.devCtl + 2;
    this.space.put16(off, this.space.get16(off) | (mask & R.PCIE_DEVSTA_W1C_MASK));
  }

  /** Sets the multi-function bit of Header Type (the host bridge does this when a device has several functions). */
  setMultiFunction(): void {
    this.space.putInitial8(R.CFG_HEADER_TYPE, this.space.get8(R.CFG_HEADER_TYPE) | R.HEADER_TYPE_MULTI_FUNCTION);
  }

  /**
   * Back to power-on values: Command 0 (so BARs stop decoding), BARs 0,
   * MSI/MSI-X disabled, MSI-X table entries masked, nothing pending, INTx
   * released.
   */
  reset(): void {
    this.intxRequest = false;
    if (this.intxDriven) {
      this.intxDriven = false;
      this.irq.changeLine(this.dev, this.intxGsi, -1);
    }
    this.space.restore();
    this.msix?.reset();
    this.noBusMasterReported = false;
    this.bars.unmapAll();
    this.pmWatch = false;
    this.pmReadyAt = 0;
    this.cancelPmeResend();
  }

  // ---- Interrupts (PciInterrupts) ----------------------------------------------

  sendMessage(vector: number): void {
    if (this.pmcsr >= 0 && (this.space.get8(this.pmcsr) & R.PMCSR_POWER_STATE_MASK) !== R.PM_D0) {
      this.holdMessageOutsideD0(vector);
      return;
    }
    if (this.msixCtrl >= 0) {
      const ctrl = this.space.get16(this.msixCtrl);
      if ((ctrl & R.MSIX_CTRL_ENABLE) !== 0) {
        this.sendMsix(vector, (ctrl & R.MSIX_CTRL_FUNCTION_MASK) !== 0);
        return;
      }
    }
    if (this.msiCtrl >= 0) {
      const ctrl = this.space.get16(this.msiCtrl);
      if ((ctrl & R.MSI_CTRL_ENABLE) !== 0) this.sendMsi(vector, ctrl);
    }
    // INTx mode: messages are not used.
  }

  setIntx(level: boolean): void {
    if (level === this.intxRequest) return;
    this.intxRequest = level;
    const sts = this.space.get8(R.CFG_STATUS);
    this.space.put8(R.CFG_STATUS, level ? sts | R.STS_INTERRUPT : sts & ~R.STS_INTERRUPT);
    if (level && this.powerState !== R.PM_D0 && this.intxGsi >= 0 && this.mode === 'intx'
      && (this.space.get16(R.CFG_COMMAND) & R.CMD_INTX_DISABLE) === 0) {
      this.guestErr('pci.pm-interrupt', `${this.name}: INTx assertion while the function is in ${pmStateName(this.powerState)}: `
        + 'a function outside D0 signals no interrupts (only PME); the line stays deasserted until D0');
    }
    this.updateIntx();
  }

  /**
   * Clears a pending bit without sending (PCIe base 3.0 6.1.4.5: when the
   * interrupt's cause is serviced while masked, the function clears Pending
   * so no stale message goes out on unmask).
   */
  clearPending(vector: number): void {
    if (this.msix !== null && Number.isInteger(vector) && vector >= 0 && vector < this.msix.entries) this.msix.clearPending(vector);
    if (this.msiPending >= 0 && vector >= 0 && vector < 32) {
      this.space.put32(this.msiPending, this.space.get32(this.msiPending) & ~(1 << vector));
    }
  }

  // ---- MSI-X table access (from the BAR wrapper) ----------------------------------

  msixTableRead(offset: number, size: number): number {
    return this.msix!.read(offset, size);
  }

  msixTableWrite(offset: number, size: number, value: number): void {
    const t = this.msix!;
    const unmasked = t.write(offset, size, value);
    if (unmasked >= 0 && t.pending(unmasked)) {
      const ctrl = this.space.get16(this.msixCtrl);
      if ((ctrl & R.MSIX_CTRL_ENABLE) !== 0 && (ctrl & R.MSIX_CTRL_FUNCTION_MASK) === 0) this.sendPendingMsix(unmasked);
    }
  }

  msixPbaRead(offset: number, size: number): number {
    return this.msix!.readPba(offset, size);
  }

  // ---- Internals ---------------------------------------------------------------

  /** Index of the capability window an access at `offset` starts in, or -1. */
  private windowAt(offset: number): number {
    for (let i = 0; i < this.windows.length; i++) {
      if (offset >= this.windowStart[i]! && offset < this.windowEnd[i]!) return i;
    }
    return -1;
  }

  /** A guest write confined to one dword, then the side effects of the register it hit. */
  private writeInDword(offset: number, size: number, value: number): void {
    const dw = offset & ~3;
    const old = this.space.get32(dw);
    this.space.guestWrite(offset, size, value);
    const shift = (offset & 3) * 8;
    const lanes = ((size === 4 ? 0xffffffff : (1 << (size * 8)) - 1) << shift) >>> 0;
    const written = (value << shift) >>> 0;
    this.afterWrite(dw, old, written, lanes);
  }

  private afterWrite(dw: number, old: number, written: number, lanes: number): void {
    if (dw === R.CFG_COMMAND) {
      if ((lanes & 0xffff) !== 0) this.commandWritten(old & 0xffff);
      return;
    }
    if (dw >= R.CFG_BAR0 && dw < R.CFG_CARDBUS_CIS) {
      this.bars.update();
      return;
    }
    if (dw < R.CFG_HEADER_END) return;
    if (dw === this.pmcsr) {
      this.pmcsrWritten(old & 0xffff, lanes);
    } else if (dw === this.msiCtrl - 2) {
      if ((lanes & 0xffff0000) !== 0) this.msiControlWritten(old >>> 16);
    } else if (dw === this.msiMask) {
      this.sendPendingMsi();
    } else if (dw === this.msixCtrl - 2) {
      if ((lanes & 0xffff0000) !== 0) this.msixControlWritten(old >>> 16);
    } else if (dw === this.devCtl) {
      // PCIe 3.0 7.8.4: Initiate Function Level Reset reads 0; writing 1 starts the FLR.
      if ((lanes & R.PCIE_DEVCTL_INITIATE_FLR) !== 0 && (written & R.PCIE_DEVCTL_INITIATE_FLR) !== 0) this.functionLevelReset();
    }
  }

  private commandWritten(oldCmd: number): void {
    const cmd = this.space.get16(R.CFG_COMMAND);
    if (((oldCmd ^ cmd) & (R.CMD_MEMORY | R.CMD_IO)) !== 0) this.bars.update();
    if ((cmd & R.CMD_BUS_MASTER) !== 0 && (oldCmd & R.CMD_BUS_MASTER) === 0) {
      this.noBusMasterReported = false;
      // Messages held back while bus mastering was off can go now.
      this.sendAllPendingMsix();
      this.sendPendingMsi();
    }
    this.updateIntx();
  }

  private msiControlWritten(oldCtrl: number): void {
    const off = this.msiCtrl;
    let ctrl = this.space.get16(off);
    // Multiple Message Enable above Multiple Message Capable is clamped to MMC (PCI 3.0 6.8.1.3).
    const mmc = (ctrl >>> R.MSI_CTRL_MMC_SHIFT) & 7;
    const mme = (ctrl >>> R.MSI_CTRL_MME_SHIFT) & 7;
    if (mme > mmc) {
      ctrl = (ctrl & ~R.MSI_CTRL_MME_MASK) | (mmc << R.MSI_CTRL_MME_SHIFT);
      this.space.put16(off, ctrl);
    }
    if (((oldCtrl ^ ctrl) & R.MSI_CTRL_ENABLE) !== 0) {
      this.updateIntx();
      if ((ctrl & R.MSI_CTRL_ENABLE) !== 0) this.sendPendingMsi();
    }
  }

  private msixControlWritten(oldCtrl: number): void {
    const ctrl = this.space.get16(this.msixCtrl);
    if (((oldCtrl ^ ctrl) & R.MSIX_CTRL_ENABLE) !== 0) this.updateIntx();
    const wasBlocked = (oldCtrl & R.MSIX_CTRL_ENABLE) === 0 || (oldCtrl & R.MSIX_CTRL_FUNCTION_MASK) !== 0;
    const open = (ctrl & R.MSIX_CTRL_ENABLE) !== 0 && (ctrl & R.MSIX_CTRL_FUNCTION_MASK) === 0;
    // PCIe 3.0 6.1.4.5: pending vectors are sent once neither the function nor the entry masks them.
    if (wasBlocked && open) this.sendAllPendingMsix();
    else if ((oldCtrl & R.MSIX_CTRL_ENABLE) === 0 && (ctrl & R.MSIX_CTRL_ENABLE) !== 0) this.sendPendingMsi();
  }

  /**
   * INTx is driven while the device requests it, INTx Disable is clear, and
   * neither MSI nor MSI-X is enabled (PCI 3.0 6.8.1.3, 6.8.2.3). The line
   * changes only on transitions of that level.
   */
  private updateIntx(): void {
    if (this.intxGsi < 0) return;
    const want = this.intxRequest
      && (this.space.get16(R.CFG_COMMAND) & R.CMD_INTX_DISABLE) === 0
      && this.mode === 'intx'
      && this.powerState === R.PM_D0;
    if (want === this.intxDriven) return;
    this.intxDriven = want;
    this.irq.changeLine(this.dev, this.intxGsi, want ? 1 : -1);
  }

  private sendMsix(vector: number, functionMasked: boolean): void {
    const t = this.msix!;
    if (!Number.isInteger(vector) || vector < 0 || vector >= t.entries) {
      this.guestErr('msix.bad-vector',
        `${this.name}: MSI-X vector ${vector} is outside the ${t.entries}-entry table; not sent`);
      return;
    }
    if (functionMasked || t.masked(vector)) {
      t.setPending(vector);
      return;
    }
    if (!this.busMaster) {
      // A message is a memory write; hold it in the PBA until bus mastering is enabled.
      t.setPending(vector);
      this.reportNoBusMaster(vector);
      return;
    }
    this.deliverMsix(vector);
  }

  /** Sends a pending, now unmasked MSI-X vector (the caller checked enable and masks). */
  private sendPendingMsix(vector: number): void {
    if (this.powerState !== R.PM_D0) return;
    if (!this.busMaster) {
      this.reportNoBusMaster(vector);
      return;
    }
    this.msix!.clearPending(vector);
    this.deliverMsix(vector);
  }

  /** Sends every pending vector whose entry is unmasked, lowest first, if MSI-X is enabled and unmasked. */
  private sendAllPendingMsix(): void {
    const t = this.msix;
    if (t === null || !t.anyPending() || this.powerState !== R.PM_D0) return;
    const ctrl = this.space.get16(this.msixCtrl);
    if ((ctrl & R.MSIX_CTRL_ENABLE) === 0 || (ctrl & R.MSIX_CTRL_FUNCTION_MASK) !== 0) return;
    for (let w = 0; w < t.pba.length; w++) {
      if (t.pba[w] === 0) continue;
      for (let b = 0; b < 32; b++) {
        const v = w * 32 + b;
        if (v >= t.entries) return;
        if (!t.pending(v) || t.masked(v)) continue;
        if (!this.busMaster) {
          this.reportNoBusMaster(v);
          return;
        }
        t.clearPending(v);
        this.deliverMsix(v);
      }
    }
  }

  private deliverMsix(vector: number): void {
    const t = this.msix!;
    const hi = t.addrHi(vector);
    if (hi !== 0) {
      this.guestErr('msi.bad-message',
        `${this.name}: MSI-X vector ${vector} address 0x${hi.toString(16)}_${t.addrLo(vector).toString(16).padStart(8, '0')} `
        + 'is above 4 GiB, outside the interrupt window; not delivered');
      return;
    }
    this.irq.msi(this.dev, t.addrLo(vector), t.data(vector));
  }

  private sendMsi(vector: number, ctrl: number): void {
    const count = 1 << ((ctrl >>> R.MSI_CTRL_MME_SHIFT) & 7);
    if (!Number.isInteger(vector) || vector < 0 || vector >= count) {
      this.guestErr('msi.bad-vector',
        `${this.name}: MSI vector ${vector} is not below the ${count} vector(s) enabled; not sent`);
      return;
    }
    if (this.msiMask >= 0 && ((this.space.get32(this.msiMask) >>> vector) & 1) !== 0) {
      // PCI 3.0 6.8.1.8-9: a masked vector sets its Pending bit and is sent on unmask.
      this.space.put32(this.msiPending, this.space.get32(this.msiPending) | (1 << vector));
      return;
    }
    if (!this.busMaster) {
      // No way to send the memory write: the message is lost.
      this.reportNoBusMaster(vector);
      return;
    }
    this.deliverMsi(vector, count);
  }

  /** Sends MSI vectors that are pending and no longer masked, lowest first. */
  private sendPendingMsi(): void {
    if (this.msiPending < 0 || this.powerState !== R.PM_D0) return;
    let pending = this.space.get32(this.msiPending);
    if (pending === 0) return;
    const ctrl = this.space.get16(this.msiCtrl);
    if ((ctrl & R.MSI_CTRL_ENABLE) === 0 || this.mode !== 'msi') return;
    const count = 1 << ((ctrl >>> R.MSI_CTRL_MME_SHIFT) & 7);
    const ready = pending & ~this.space.get32(this.msiMask);
    for (let v = 0; v < count; v++) {
      if (((ready >>> v) & 1) === 0) continue;
      if (!this.busMaster) {
        this.reportNoBusMaster(v);
        return;
      }
      pending &= ~(1 << v);
      this.space.put32(this.msiPending, pending);
      this.deliverMsi(v, count);
    }
  }

  /** PCI 3.0 6.8.1.6: with N vectors enabled, the low log2(N) bits of Message Data carry the vector. */
  private deliverMsi(vector: number, count: number): void {
    const data = (this.space.get16(this.msiData) & ~(count - 1)) | vector;
    const addrLo = this.space.get32(this.msiCtrl + 2);
    const hi = this.msiAddrHi >= 0 ? this.space.get32(this.msiAddrHi) : 0;
    if (hi !== 0) {
      this.guestErr('msi.bad-message',
        `${this.name}: MSI address 0x${hi.toString(16)}_${addrLo.toString(16).padStart(8, '0')} is above 4 GiB, `
        + 'outside the interrupt window; not delivered');
      return;
    }
    this.irq.msi(this.dev, addrLo, data);
  }

  /** Records a guest error of this function (codes: ./guest-errors.ts). */
  private guestErr(code: PciGuestErrorCode, message: string): void {
    this.tracer.guestErr(this.queue.now, this.dev, code, message);
  }

  private reportNoBusMaster(vector: number): void {
    if (this.noBusMasterReported) return;
    this.noBusMasterReported = true;
    this.guestErr('pci.msi-no-bus-master',
      `${this.name}: interrupt message for vector ${vector} not sent: bus mastering is disabled in the PCI command register`);
  }

  /**
   * PCIe 3.0 6.6.2: FLR returns the function to its power-on state except
   * for sticky and link fields, which stay: Max_Payload_Size, ASPM Control,
   * Common Clock Configuration, Extended Synch, Target Link Speed and
   * Hardware Autonomous Speed Disable, and PME_En/PME_Status where they are
   * sticky (PME from D3cold supported, PCI PM 1.2 3.2.4).
   */
  private functionLevelReset(): void {
    this.resetKeepingContext((this.pmeSupport & R.PME_SUPPORT_D3COLD) !== 0);
    this.tracer.milestone(this.queue.now, this.dev, 'pci.flr', 0, 0);
    this.onFlr?.();
  }

  /** `reset()` keeping the link fields (PCIe) and, with `keepPme`, PME_En and PME_Status. */
  private resetKeepingContext(keepPme: boolean): void {
    const pcie = this.caps.pcie;
    const pme = keepPme && this.pmcsr >= 0 ? this.space.get16(this.pmcsr) & (R.PMCSR_PME_EN | R.PMCSR_PME_STATUS) : 0;
    if (pcie < 0) {
      this.reset();
    } else {
      const keepDevCtl = this.space.get16(pcie + R.PCIE_DEVCTL) & R.PCIE_DEVCTL_MPS_MASK;
      const linkMask = R.PCIE_LINKCTL_ASPM_MASK | R.PCIE_LINKCTL_COMMON_CLOCK | R.PCIE_LINKCTL_EXTENDED_SYNCH;
      const keepLinkCtl = this.space.get16(pcie + R.PCIE_LINKCTL) & linkMask;
      const keepLinkCtl2 = this.space.get16(pcie + R.PCIE_LINKCTL2);
      this.reset();
      const devCtl = this.space.get16(pcie + R.PCIE_DEVCTL);
      this.space.put16(pcie + R.PCIE_DEVCTL, (devCtl & ~R.PCIE_DEVCTL_MPS_MASK) | keepDevCtl);
      this.space.put16(pcie + R.PCIE_LINKCTL, (this.space.get16(pcie + R.PCIE_LINKCTL) & ~linkMask) | keepLinkCtl);
      this.space.put16(pcie + R.PCIE_LINKCTL2, keepLinkCtl2);
    }
    if (pme !== 0) {
      this.space.put16(this.pmcsr, this.space.get16(this.pmcsr) | pme);
      if ((pme & R.PMCSR_PME_EN) !== 0 && (pme & R.PMCSR_PME_STATUS) !== 0) this.sendPme();
    }
  }

  // ---- Power management (PCI PM 1.2; PCIe 3.0 5.3.1, 5.3.3) ------------------------

  /** For the BAR gate (./pm.ts): true while BAR accesses need a look. */
  get pmWatched(): boolean {
    return this.pmWatch;
  }

  /**
   * A BAR access while watched. Outside D0 the function decodes no memory or
   * I/O space: refused, `pci.pm-bar-access`, and on PCI Express the request
   * is an Unsupported Request (Device Status UR Detected). In D0 within the
   * recovery time of a PowerState change: refused (the function is not
   * ready), `pci.pm-recovery`. Otherwise the watch ends and the access goes on.
   */
  pmRefuseBarAccess(bar: number, io: boolean, write: boolean, offset: number, size: number, value: number): boolean {
    const st = this.powerState;
    const what = `${io ? 'I/O' : 'MMIO'} ${write ? `write of 0x${value.toString(16)} to` : 'read of'} BAR${bar}+0x${offset.toString(16)} (${size} bytes)`;
    const outcome = write ? 'the write is dropped' : 'the read returns all-ones';
    if (st === R.PM_D0) {
      const now = this.queue.now;
      if (now >= this.pmReadyAt) {
        this.pmWatch = false;
        return false;
      }
      this.guestErr('pci.pm-recovery', `${this.name}: ${what} ${this.recoveryText(now)}; the function is not ready, ${outcome}`);
      return true;
    }
    this.guestErr('pci.pm-bar-access', `${this.name}: ${what} while the function is in ${pmStateName(st)}: `
      + `${io ? 'I/O' : 'memory'} decode is off outside D0 (only configuration requests are handled), ${outcome}`);
    if (this.devCtl >= 0) this.setDeviceStatusBits(R.PCIE_DEVSTA_UR);
    return true;
  }

  /** A config access while watched: a guest error inside the recovery time (the access still completes). */
  private pmConfigAccess(write: boolean, offset: number, size: number): void {
    const now = this.queue.now;
    if (now >= this.pmReadyAt) {
      if (this.powerState === R.PM_D0) this.pmWatch = false;
      return;
    }
    this.guestErr('pci.pm-recovery', `${this.name}: config ${write ? 'write' : 'read'} of 0x${offset.toString(16)} (${size} bytes) `
      + `${this.recoveryText(now)}; the access completes, but software must wait (PCI PM 1.2 table 5-6)`);
  }

  private recoveryText(now: number): string {
    const since = now - (this.pmReadyAt - pmDelay(this.pmFrom, this.pmTo));
    return `${formatTime(since as Duration)} after PowerState ${pmStateName(this.pmFrom)} -> ${pmStateName(this.pmTo)}, `
      + `inside the ${formatTime(pmDelay(this.pmFrom, this.pmTo))} recovery time`;
  }

  /**
   * PMCSR written: PowerState changes (unsupported states and transitions
   * discarded, 3.2.4 and 5.4), D3hot -> D0 with No_Soft_Reset 0 resets the
   * function, PME_En and PME_Status (W1C) drive the PME message.
   */
  private pmcsrWritten(oldCsr: number, lanes: number): void {
    const off = this.pmcsr;
    let csr = this.space.get16(off);
    const from = oldCsr & R.PMCSR_POWER_STATE_MASK;
    let to = csr & R.PMCSR_POWER_STATE_MASK;
    if ((lanes & 0xff) !== 0 && to !== from) {
      const pmc = this.space.get16(this.caps.pm + R.PM_PMC);
      const supported = to === R.PM_D1 ? (pmc & R.PMC_D1_SUPPORT) !== 0 : to === R.PM_D2 ? (pmc & R.PMC_D2_SUPPORT) !== 0 : true;
      if (!supported || !pmTransitionAllowed(from, to)) {
        // PCI PM 1.2 3.2.4: the write completes, the PowerState data is discarded.
        csr = (csr & ~R.PMCSR_POWER_STATE_MASK) | from;
        this.space.put16(off, csr);
        this.guestErr('pci.pm-bad-state', `${this.name}: PowerState write ${pmStateName(from)} -> ${pmStateName(to)} discarded: `
          + (supported ? 'the transition is not allowed (D3hot goes only to D0, D2 not to D1)' : `the PM capability does not claim ${pmStateName(to)} (PMC)`));
        to = from;
      }
    }
    // PME_En and PME_Status (PCI PM 1.2 3.2.4; PCIe 3.0 5.3.3.3.1).
    if (this.pmeSupport !== 0) {
      const en = (csr & R.PMCSR_PME_EN) !== 0;
      const status = (csr & R.PMCSR_PME_STATUS) !== 0;
      if (!en || !status) this.cancelPmeResend();
      else if ((oldCsr & R.PMCSR_PME_EN) === 0) this.sendPme();
    }
    if (to === from) return;
    const now = this.queue.now;
    this.tracer.milestone(now, this.dev, 'pci.pm', from, to);
    if (to === R.PM_D0 && from === R.PM_D3HOT && (csr & R.PMCSR_NO_SOFT_RESET) === 0) {
      // No_Soft_Reset 0: the function performs an internal reset; the configuration context is lost, PME context kept.
      this.resetKeepingContext(this.pmeSupport !== 0);
      this.tracer.milestone(now, this.dev, 'pci.pm-reset', 0, 0);
      this.onFlr?.();
    }
    this.pmFrom = from;
    this.pmTo = to;
    this.pmReadyAt = now + pmDelay(from, to);
    this.pmWatch = true;
    this.updateIntx();
    if (to === R.PM_D0) {
      // Context kept (No_Soft_Reset, or D1/D2): messages held outside D0 go now.
      this.sendAllPendingMsix();
      this.sendPendingMsi();
    }
  }

  /** A message the device tried to send outside D0: a guest error; MSI-X and maskable MSI hold it pending. */
  private holdMessageOutsideD0(vector: number): void {
    const mode = this.mode;
    if (mode === 'intx') return;
    let fate = 'lost';
    if (mode === 'msix') {
      const t = this.msix!;
      if (Number.isInteger(vector) && vector >= 0 && vector < t.entries) {
        t.setPending(vector);
        fate = 'held pending in the PBA';
      }
    } else if (this.msiPending >= 0 && Number.isInteger(vector) && vector >= 0 && vector < 32) {
      const count = 1 << ((this.space.get16(this.msiCtrl) >>> R.MSI_CTRL_MME_SHIFT) & 7);
      if (vector < count) {
        this.space.put32(this.msiPending, this.space.get32(this.msiPending) | (1 << vector));
        fate = 'held in the Pending bits';
      }
    }
    this.guestErr('pci.pm-interrupt', `${this.name}: ${mode === 'msix' ? 'MSI-X' : 'MSI'} message for vector ${vector} while the function is in `
      + `${pmStateName(this.powerState)}: a function outside D0 sends no interrupt messages (only PME); ${fate}`);
  }

  /**
   * Signals a power management event (PciInterrupts.signalPme): where
   * PME_Support claims the current power state, sets PME_Status and, with
   * PME_En, sends the PME message.
   */
  signalPme(): boolean {
    if (this.pmcsr < 0 || ((this.pmeSupport >>> this.powerState) & 1) === 0) return false;
    const csr = this.space.get16(this.pmcsr);
    if ((csr & R.PMCSR_PME_STATUS) !== 0) return true;
    this.space.put16(this.pmcsr, csr | R.PMCSR_PME_STATUS);
    if ((csr & R.PMCSR_PME_EN) !== 0) this.sendPme();
    return true;
  }

  /**
   * The PME message (PCIe PM_PME; PME# on conventional PCI) as a `pci.pme`
   * milestone (a0 = power state): this machine has no root port to turn it
   * into an interrupt. On PCI Express it is sent again every 100 ms while
   * PME_Status stays set (PCIe 3.0 5.3.3.3.1).
   */
  private sendPme(): void {
    this.tracer.milestone(this.queue.now, this.dev, 'pci.pme', this.powerState, 0);
    this.cancelPmeResend();
    if (this.devCtl >= 0 && this.pmeTarget >= 0) this.pmeResend = this.queue.schedule(PME_RESEND, this.pmeTarget);
  }

  private pmeResendDue(): void {
    this.pmeResend = -1;
    const csr = this.space.get16(this.pmcsr);
    if ((csr & R.PMCSR_PME_EN) !== 0 && (csr & R.PMCSR_PME_STATUS) !== 0) this.sendPme();
  }

  private cancelPmeResend(): void {
    if (this.pmeResend >= 0) {
      this.queue.cancel(this.pmeResend);
      this.pmeResend = -1;
    }
  }
}

/** PCIe 3.0 5.3.3.3.1: a PME message not acknowledged (PME_Status cleared) is sent again after 100 ms. */
const PME_RESEND = ms(100);

function validAccess(offset: number, size: number): boolean {
  return (size === 1 || size === 2 || size === 4) && Number.isInteger(offset) && offset >= 0 && offset < 0x1000;
}
