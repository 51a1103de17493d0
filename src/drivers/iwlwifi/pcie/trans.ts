/**
 * The gen1 PCIe transport of the 7265D (Linux pcie/trans.c): start_hw
 * (prepare card, software reset, APM init), start_fw (NIC init, RX/TX init,
 * firmware load), fw_alive (ICT, scheduler), stop_device, interrupt masks,
 * and the IwlTrans surface the op mode uses.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO } from '../../../kernel/errno.js';
import { PHY_CFG, type FirmwareImage, type ImageKind } from '../fw/file.js';
import { CSR, DBG_LINK_PWR_MGMT_WAKE, GIO_CHICKEN_DIS_L0S_EXIT_TIMER, GIO_CHICKEN_L1A_NO_L0S_RX, GIO_L0S_DISABLED, GP1, GP_CNTRL, HW_IF_CONFIG, ICT, INT_MASK_FW_LOAD, INT_MASK_NORMAL, INT_MASK_RF_KILL, MAC_SHADOW_REG_CTRL_ALL, MBOX_SET_OS_ALIVE, RESET } from '../iwl-csr.js';
import { APMG, APMG_CLK_VAL_DMA_CLK_RQT, APMG_PCIDEV_STT_L1_ACT_DIS, APMG_RTC_INT_STT_RFKILL } from '../iwl-prph.js';
import type { DmaCoherent, LinuxKpi, PciDev } from '../../linux-kpi/kpi.js';
import type { Completion } from '../../linux-kpi/completion.js';
import type { Mutex, NapiStruct } from '../../linux-kpi/ext-types.js';
import type { SkBuff } from '../../linux-kpi/skbuff.js';
import type { CmdResult, HostCmd, IwlOpMode, IwlTrans, RxPacket } from '../trans-api.js';
import { hex, type IwlIo } from './io.js';
import { loadSections } from './fw-load.js';
import { rxFree, rxInit, rxStop, type RxQueue } from './rx.js';
import {
  CMD_QUEUE, abortSync, reclaim, sendCmd, sendCmdAsync, txFrame, txFree, txInit, txStart, txStop, txqDisableNow, txqEnableNow,
  type TxQueue,
} from './tx.js';

/** Linux's ERFKILL (not in the kernel model's errno table). */
export const ERFKILL = 132;
/** NIC_READY poll after setting it (HW_READY_TIMEOUT, us). */
const HW_READY_TIMEOUT_US = 50;
/** PREPARE rounds and the time each polls NIC_READY (us). */
const PREPARE_ROUNDS = 10;
const PREPARE_POLL_US = 150000;
/** CLOCK_READY after INIT_DONE (us). */
const CLOCK_READY_TIMEOUT_US = 25000;
/** MASTER_DISABLED after STOP_MASTER (us). */
const STOP_MASTER_TIMEOUT_US = 100;

/** HW_IF_CONFIG fields the NIC config writes (MAC step/dash, PHY type/step/dash, SI bits). */
const HW_IF_MAC_DASH_SHIFT = 0;
const HW_IF_MAC_STEP_SHIFT = 2;
const HW_IF_PHY_TYPE_SHIFT = 10;
const HW_IF_PHY_DASH_SHIFT = 12;
const HW_IF_PHY_STEP_SHIFT = 14;
const HW_IF_NIC_CONFIG_MASK = (0x3 << HW_IF_MAC_DASH_SHIFT) | (0x3 << HW_IF_MAC_STEP_SHIFT) | (0x3 << HW_IF_PHY_TYPE_SHIFT)
  | (0x3 << HW_IF_PHY_DASH_SHIFT) | (0x3 << HW_IF_PHY_STEP_SHIFT) | HW_IF_CONFIG.RADIO_SI | HW_IF_CONFIG.MAC_SI;

interface SyncCmd {
  index: number;
  done: Completion;
  finished: boolean;
  status: number;
  resp: RxPacket | undefined;
}

export class PcieTrans implements IwlTrans {
  opMode: IwlOpMode | null = null;
  readonly hwRev: number;

  // ---- interrupts ----
  /** What the driver unmasks (Linux inta_mask). */
  intaMask = 0;
  /** Interrupts are meant to be on: the ISR unmasks intaMask when done. */
  intOn = false;
  ict: DmaCoherent | null = null;
  useIct = false;
  readonly ictState = { index: 0 };
  irqVector = -1;
  irqRequested = false;
  napi: NapiStruct | null = null;
  irqs = 0;

  // ---- state ----
  isDown = true;
  /** Firmware considered dead (SW/HW error, command timeout): commands fail with -EIO until stop/start. */
  fwError = false;
  nicErrorReported = false;
  rfKill = false;
  readonly fwChunkDone: Completion;

  // ---- RX ----
  rxq: RxQueue | null = null;
  rxByIrq = false;
  rxByPeriodic = false;
  rxPollPackets = 0;

  rxPackets = 0;
  /** Packets found by the periodic interrupt alone (a lost RX interrupt). */
  rxRecovered = 0;

  // ---- TX ----
  readonly txqs: TxQueue[] = [];
  kw: DmaCoherent | null = null;
  scdBcTbls: DmaCoherent | null = null;
  scdBase = 0;
  readonly syncMutex: Mutex;
  sync: SyncCmd | null = null;

  constructor(readonly k: LinuxKpi, readonly pdev: PciDev, readonly io: IwlIo, hwRev: number) {
    this.hwRev = hwRev;
    this.fwChunkDone = k.init_completion();
    this.syncMutex = k.mutex_init('iwlwifi-sync-cmd');
  }

  setOpMode(op: IwlOpMode): void { this.opMode = op; }

  // ---- interrupt masks (iwl_enable_interrupts & co) ----------------------------------------
  enableInterrupts(): void {
    this.intaMask = INT_MASK_NORMAL;
    this.intOn = true;
    this.io.write32(CSR.INT_MASK, this.intaMask);
  }

  enableRfKillInt(): void {
    this.intaMask = INT_MASK_RF_KILL;
    this.intOn = true;
    this.io.write32(CSR.INT_MASK, this.intaMask);
  }

  enableFwLoadInt(): void {
    this.intaMask = INT_MASK_FW_LOAD;
    this.intOn = true;
    this.io.write32(CSR.INT_MASK, this.intaMask);
  }

  /** Masks everything and acks whatever is pending (CSR_INT and FH_INT_STATUS). */
  disableInterrupts(): void {
    this.intOn = false;
    this.io.write32(CSR.INT_MASK, 0);
    this.io.write32(CSR.INT, 0xffffffff);
    this.io.write32(CSR.FH_INT_STATUS, 0xffffffff);
  }

  /** iwl_pcie_reset_ict: clear the table, point the device at it, ICT on. */
  private resetIct(): void {
    const ict = this.ict;
    if (ict === null) return;
    this.disableInterrupts();
    ict.cpu.fill(0);
    const val = (Math.floor(ict.dma / 4096) & ICT.ADDR_MASK) | ICT.ENABLE | ICT.RESET_WRITE_PTR | ICT.WRAP_CHECK;
    this.io.write32(CSR.DRAM_INT_TBL, val >>> 0);
    this.useIct = true;
    this.ictState.index = 0;
    this.io.write32(CSR.INT, this.intaMask);
    this.enableInterrupts();
  }

  /** RF-kill state from GP_CNTRL; tells the op mode when it changed. */
  reportRfKill(asserted: boolean): void {
    if (asserted === this.rfKill) return;
    this.rfKill = asserted;
    this.opMode?.rfKill(asserted);
  }

  rfKillAsserted(): boolean {
    return (this.io.read32(CSR.GP_CNTRL) & GP_CNTRL.HW_RF_KILL_SW) === 0;
  }

  // ---- hardware bring-up -----------------------------------------------------------------------
  /** iwl_pcie_set_hw_ready: NIC_READY must read back set within 50 us; then OS alive. */
  private setHwReady(): boolean {
    const { io } = this;
    io.setBit(CSR.HW_IF_CONFIG, HW_IF_CONFIG.NIC_READY);
    const r = io.pollBit(CSR.HW_IF_CONFIG, HW_IF_CONFIG.NIC_READY, HW_IF_CONFIG.NIC_READY, HW_READY_TIMEOUT_US);
    if (r >= 0) io.setBit(CSR.MBOX_SET, MBOX_SET_OS_ALIVE);
    io.dbg(`hardware${r < 0 ? ' not' : ''} ready`);
    return r >= 0;
  }

  /** iwl_pcie_prepare_card_hw: NIC_READY, else wake the link and retry PREPARE for up to 10 rounds. */
  private *prepareCardHw(): Co<number> {
    const { io, k } = this;
    if (this.setHwReady()) return 0;
    io.setBit(CSR.DBG_LINK_PWR_MGMT, DBG_LINK_PWR_MGMT_WAKE);
    yield* k.usleep_range(1000, 2000);
    for (let round = 0; round < PREPARE_ROUNDS; round++) {
      io.setBit(CSR.HW_IF_CONFIG, HW_IF_CONFIG.PREPARE);
      for (let t = 0; t < PREPARE_POLL_US; t += 200) {
        if (this.setHwReady()) return 0;
        yield* k.usleep_range(200, 1000);
      }
      yield* k.msleep(25);
    }
    io.err("Couldn't prepare the card");
    return -EIO;
  }

  /** iwl_trans_pcie_sw_reset: SW_RESET, 5 ms, optionally re-take ownership (prepare again). */
  private *swReset(retakeOwnership: boolean): Co<number> {
    this.io.setBit(CSR.RESET, RESET.SW_RESET);
    yield* this.k.usleep_range(5000, 6000);
    if (retakeOwnership) return yield* this.prepareCardHw();
    return 0;
  }

  /** iwl_pcie_apm_init: chicken bits, HPET, HAP wake, L0s off, INIT_DONE -> CLOCK_READY, APMG clocks. */
  private apmInit(): number {
    const { io, k } = this;
    io.setBit(CSR.GIO_CHICKEN, GIO_CHICKEN_DIS_L0S_EXIT_TIMER);
    io.setBit(CSR.GIO_CHICKEN, GIO_CHICKEN_L1A_NO_L0S_RX);
    io.setBit(CSR.DBG_HPET_MEM, 0xffff0000);
    io.setBit(CSR.HW_IF_CONFIG, HW_IF_CONFIG.HAP_WAKE_L1A);
    // ASPM L1 is on for the link in this model: L0s disabled.
    io.setBit(CSR.GIO, GIO_L0S_DISABLED);
    io.setBit(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
    const r = io.pollBit(CSR.GP_CNTRL, GP_CNTRL.MAC_CLOCK_READY, GP_CNTRL.MAC_CLOCK_READY, CLOCK_READY_TIMEOUT_US);
    if (r < 0) {
      io.err(`Failed to init the card: MAC clock not ready within 25 ms (CSR_GP_CNTRL 0x${hex(io.read32(CSR.GP_CNTRL))})`);
      return r;
    }
    io.prphWrite(APMG.CLK_EN, APMG_CLK_VAL_DMA_CLK_RQT);
    k.udelay(20);
    io.prphSetBits(APMG.PCIDEV_STT, APMG_PCIDEV_STT_L1_ACT_DIS);
    io.prphWrite(APMG.RTC_INT_STT, APMG_RTC_INT_STT_RFKILL);
    return 0;
  }

  /** iwl_pcie_apm_stop_master + apm_stop: bus master off, software reset, INIT_DONE clear. */
  private *apmStop(): Co<void> {
    const { io } = this;
    io.setBit(CSR.RESET, RESET.STOP_MASTER);
    if (io.pollBit(CSR.RESET, RESET.MASTER_DISABLED, RESET.MASTER_DISABLED, STOP_MASTER_TIMEOUT_US) < 0) {
      io.warn('Master Disable Timed Out, 100 usec');
    }
    yield* this.swReset(false);
    io.clearBit(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
  }

  *startHw(): Co<number> {
    const { io } = this;
    let r = yield* this.prepareCardHw();
    if (r < 0) {
      io.err(`Error while preparing HW: ${r}`);
      return r;
    }
    r = yield* this.swReset(true);
    if (r < 0) return r;
    r = this.apmInit();
    if (r < 0) return r;
    this.enableRfKillInt();
    this.isDown = false;
    this.reportRfKill(this.rfKillAsserted());
    return 0;
  }

  /** The NIC config (mvm nic_config): MAC step/dash from HW_REV, radio from the image's PHY_SKU. */
  private nicConfig(image: FirmwareImage): void {
    const rev = this.hwRev;
    const phy = image.phySku ?? 0;
    const radioType = (phy >>> PHY_CFG.RADIO_TYPE_SHIFT) & 3;
    const radioStep = (phy >>> PHY_CFG.RADIO_STEP_SHIFT) & 3;
    const radioDash = (phy >>> PHY_CFG.RADIO_DASH_SHIFT) & 3;
    const val = (((rev >>> 2) & 3) << HW_IF_MAC_STEP_SHIFT) | ((rev & 3) << HW_IF_MAC_DASH_SHIFT)
      | (radioType << HW_IF_PHY_TYPE_SHIFT) | (radioStep << HW_IF_PHY_STEP_SHIFT) | (radioDash << HW_IF_PHY_DASH_SHIFT)
      | HW_IF_CONFIG.RADIO_SI | HW_IF_CONFIG.MAC_SI;
    this.io.setBitsMask(CSR.HW_IF_CONFIG, HW_IF_NIC_CONFIG_MASK, val);
  }

  *startFw(image: FirmwareImage, kind: ImageKind): Co<number> {
    const { io } = this;
    this.fwError = false;
    this.nicErrorReported = false;
    if ((yield* this.prepareCardHw()) < 0) {
      io.warn('Exit HW not ready');
      return -EIO;
    }
    this.enableRfKillInt();
    io.write32(CSR.INT, 0xffffffff);
    this.disableInterrupts();
    const rfkill = this.rfKillAsserted();
    this.reportRfKill(rfkill);
    if (rfkill) {
      io.err('Radio is disabled by the hardware RF-kill switch: not starting the firmware');
      this.enableRfKillInt();
      return -ERFKILL;
    }
    if (this.isDown) {
      io.warn("Can't start_fw since the HW hasn't been started");
      return -EIO;
    }
    io.write32(CSR.UCODE_DRV_GP1_CLR, GP1.SW_BIT_RFKILL);
    io.write32(CSR.UCODE_DRV_GP1_CLR, GP1.CMD_BLOCKED);
    io.write32(CSR.INT, 0xffffffff);

    // NIC init: APM, NIC config, RX, TX, shadow registers.
    let r = this.apmInit();
    if (r < 0) return r;
    this.nicConfig(image);
    r = rxInit(this);
    if (r < 0) { io.err(`Unable to init RX: ${r}`); return r; }
    r = txInit(this);
    if (r < 0) { io.err(`Unable to init TX: ${r}`); return r; }
    io.setBit(CSR.MAC_SHADOW_REG_CTRL, MAC_SHADOW_REG_CTRL_ALL);

    this.enableFwLoadInt();
    io.write32(CSR.UCODE_DRV_GP1_CLR, GP1.SW_BIT_RFKILL);
    io.write32(CSR.UCODE_DRV_GP1_CLR, GP1.SW_BIT_RFKILL);
    io.info(`loading the ${kind} image (${image.sections[kind].length} sections)`);
    r = yield* loadSections(this, image.sections[kind]);
    if (r < 0) return r;
    this.enableInterrupts();
    io.write32(CSR.RESET, 0);
    return 0;
  }

  *fwAlive(scdBaseAddr: number): Co<void> {
    this.resetIct();
    txStart(this, scdBaseAddr);
  }

  *stopDevice(): Co<void> {
    const { io, k } = this;
    if (this.isDown) return;
    this.isDown = true;
    this.disableInterrupts();
    this.useIct = false;
    txStop(this);
    rxStop(this);
    io.prphWrite(APMG.CLK_DIS, APMG_CLK_VAL_DMA_CLK_RQT);
    k.udelay(5);
    io.cmdHoldNicAwake = false;
    io.clearBit(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    yield* this.apmStop();
    yield* this.swReset(true);
    this.disableInterrupts();
    // A command waiting for a response will not get one.
    abortSync(this, -EIO);
    this.fwError = false;
    this.nicErrorReported = false;
    this.enableRfKillInt();
    this.reportRfKill(this.rfKillAsserted());
  }

  sendCmd(cmd: HostCmd): Co<CmdResult> { return sendCmd(this, cmd); }
  sendCmdAsync(cmd: HostCmd): number { return sendCmdAsync(this, cmd); }
  *txqEnable(queue: number, fifo: number): Co<void> { txqEnableNow(this, queue, fifo); }
  *txqDisable(queue: number): Co<void> { txqDisableNow(this, queue); }
  tx(queue: number, txCmd: Uint8Array, skb: SkBuff, hdrLen: number): number { return txFrame(this, queue, txCmd, skb, hdrLen); }
  reclaim(queue: number, ssnIndex: number): number { return reclaim(this, queue, ssnIndex); }
  txqSpace(queue: number): number {
    const q = this.txqs[queue];
    return q === undefined || !q.active ? 0 : q.space;
  }

  /** Frees the IRQ, NAPI, rings and the ICT table. */
  *free(): Co<void> {
    const { k, pdev } = this;
    if (this.irqRequested) {
      k.free_irq(this.irqVector);
      this.irqRequested = false;
    }
    if (pdev.irqType !== 'none') yield* k.pci_free_irq_vectors(pdev);
    if (this.napi !== null) {
      k.netif_napi_del(this.napi);
      this.napi = null;
    }
    abortSync(this, -EIO);
    txFree(this);
    rxFree(this);
    if (this.ict !== null) {
      k.dma_free_coherent(pdev, this.ict);
      this.ict = null;
    }
    this.useIct = false;
  }

  /** The command queue (for tests and diagnostics). */
  get cmdQueue(): TxQueue | undefined { return this.txqs[CMD_QUEUE]; }
}
