/**
 * Register map of the Intel 7265D (iwlwifi 7000 family, gen1 PCIe
 * transport): CSR and HBUS registers in BAR0, FH (flow handler) registers in
 * BAR0, and the periphery (PRPH) registers reached through HBUS_TARG_PRPH_*.
 * Offsets and bits per Linux iwl-csr.h, iwl-fh.h, iwl-prph.h and iwl-scd.h
 * (restated in the project's fact sheet, sections A2-A6). Both the device
 * model and the driver use these names; they are the hardware's interface.
 */

// ---- PCI identity (A0, A1) ------------------------------------------------
export const IWL_PCI = {
  vendorId: 0x8086,
  deviceId: 0x095a,
  subsystemVendorId: 0x8086,
  subsystemId: 0x5010,
  /** Network controller, other (0x0280): iwlwifi parts report 02:80:00. */
  classCode: 0x028000,
  revision: 0x59,
} as const;
/** BAR0: 64-bit non-prefetchable memory, 8 KiB. */
export const IWL_BAR0_SIZE = 0x2000;
/** CSR_HW_REV for the 7265D: type 0x210 in bits 15:4 (`& 0xFFF0 == 0x210`), step B (dash 0, step 1). */
export const HW_REV_7265D = 0x00000214;
export const HW_REV_TYPE_MASK = 0x0000fff0;
export const HW_REV_TYPE_7265D = 0x00000210;

// ---- CSR (A2) ---------------------------------------------------------------
export const CSR = {
  HW_IF_CONFIG: 0x000,
  INT_COALESCING: 0x004,
  INT_PERIODIC: 0x005,
  INT: 0x008,
  INT_MASK: 0x00c,
  FH_INT_STATUS: 0x010,
  GPIO_IN: 0x018,
  RESET: 0x020,
  GP_CNTRL: 0x024,
  HW_REV: 0x028,
  EEPROM_REG: 0x02c,
  EEPROM_GP: 0x030,
  OTP_GP: 0x034,
  GIO: 0x03c,
  GP_UCODE: 0x048,
  GP_DRIVER: 0x050,
  UCODE_DRV_GP1: 0x054,
  UCODE_DRV_GP1_SET: 0x058,
  UCODE_DRV_GP1_CLR: 0x05c,
  UCODE_DRV_GP2: 0x060,
  MBOX_SET: 0x088,
  LED: 0x094,
  DRAM_INT_TBL: 0x0a0,
  HW_RF_ID: 0x09c,
  MAC_SHADOW_REG_CTRL: 0x0a8,
  GIO_CHICKEN: 0x100,
  DBG_HPET_MEM: 0x240,
  DBG_LINK_PWR_MGMT: 0x250,
} as const;

/** HBUS block: indirect SRAM and PRPH access, TX write pointer (A2, A4). */
export const HBUS = {
  TARG_MEM_RADDR: 0x40c,
  TARG_MEM_WADDR: 0x410,
  TARG_MEM_WDAT: 0x418,
  TARG_MEM_RDAT: 0x41c,
  TARG_PRPH_WADDR: 0x444,
  TARG_PRPH_RADDR: 0x448,
  TARG_PRPH_WDAT: 0x44c,
  TARG_PRPH_RDAT: 0x450,
  TARG_WRPTR: 0x460,
} as const;
/** PRPH address field of PRPH_RADDR/WADDR (19:0); bits 25:24 = 3 select a dword access. */
export const PRPH_ADDR_MASK = 0x000fffff;
export const PRPH_DWORD_ACCESS = 3 << 24;

// ---- Key bits (A3) ------------------------------------------------------------
export const HW_IF_CONFIG = {
  MAC_SI: 1 << 8,
  RADIO_SI: 1 << 9,
  HAP_WAKE_L1A: 1 << 19,
  EEPROM_OWN_SEM: 1 << 21,
  NIC_READY: 1 << 22,
  PREPARE_DONE: 1 << 25,
  PREPARE: 1 << 27,
  ENABLE_PME: 1 << 28,
  PERSIST_MODE: 1 << 30,
} as const;

export const GP_CNTRL = {
  MAC_CLOCK_READY: 1 << 0,
  INIT_DONE: 1 << 2,
  MAC_ACCESS_REQ: 1 << 3,
  GOING_TO_SLEEP: 1 << 4,
  XTAL_ON: 1 << 10,
  /** 1 = radio allowed; 0 = hardware RF-kill switch asserted. Read-only. */
  HW_RF_KILL_SW: 1 << 27,
} as const;

export const RESET = {
  NEVO_RESET: 1 << 0,
  FORCE_NMI: 1 << 1,
  SW_RESET: 1 << 7,
  MASTER_DISABLED: 1 << 8,
  STOP_MASTER: 1 << 9,
  LINK_PWR_MGMT_DISABLED: 1 << 31,
} as const;

/** CSR_INT causes (write-1-to-clear) and CSR_INT_MASK enables. */
export const INT = {
  FH_RX: 1 << 31,
  HW_ERR: 1 << 29,
  RX_PERIODIC: 1 << 28,
  FH_TX: 1 << 27,
  SCD: 1 << 26,
  SW_ERR: 1 << 25,
  RF_KILL: 1 << 7,
  CT_KILL: 1 << 6,
  SW_RX: 1 << 3,
  WAKEUP: 1 << 1,
  ALIVE: 1 << 0,
} as const;
/** Interrupts the driver enables in normal operation (CSR_INI_SET_MASK). */
export const INT_MASK_NORMAL = 0xba00008b;
/** While loading firmware: FH_TX only. */
export const INT_MASK_FW_LOAD = 0x08000000;
/** Before firmware load: RF_KILL only. */
export const INT_MASK_RF_KILL = 0x00000080;

export const FH_INT = {
  ERR: 1 << 31,
  HI_PRIOR: 1 << 30,
  RX_CH1: 1 << 17,
  RX_CH0: 1 << 16,
  TX_CH1: 1 << 1,
  TX_CH0: 1 << 0,
} as const;
/**
 * What a driver acks for RX (CSR_FH_INT_RX_MASK: high priority | both RX
 * channels; bit 31, the FH error behind INT.HW_ERR, is not part of it) and
 * for TX.
 */
export const FH_INT_RX_MASK = 0x40030000;
export const FH_INT_TX_MASK = 0x00000003;

export const GP1 = {
  MAC_SLEEP: 1 << 0,
  SW_BIT_RFKILL: 1 << 1,
  CMD_BLOCKED: 1 << 2,
  CT_KILL_EXIT: 1 << 3,
  D3_CFG_COMPLETE: 1 << 5,
} as const;

/** CSR_GIO: bit 1 = L0s disabled. */
export const GIO_L0S_DISABLED = 1 << 1;
/** CSR_MBOX_SET bit 5: OS alive. */
export const MBOX_SET_OS_ALIVE = 1 << 5;
/** CSR_GIO_CHICKEN bits the APM init sets. */
export const GIO_CHICKEN_L1A_NO_L0S_RX = 1 << 23;
export const GIO_CHICKEN_DIS_L0S_EXIT_TIMER = 1 << 29;
/** CSR_DBG_LINK_PWR_MGMT bit 31: wake the NIC up before NIC_READY. */
export const DBG_LINK_PWR_MGMT_WAKE = 1 << 31;
/** Bits the driver ORs into MAC_SHADOW_REG_CTRL. */
export const MAC_SHADOW_REG_CTRL_ALL = 0x800fffff;

/** CSR_DRAM_INT_TBL (ICT): 27:0 table address >> 12; 31 enable; 28 reset write pointer; 27 wrap check. */
export const ICT = {
  ENABLE: 1 << 31,
  RESET_WRITE_PTR: 1 << 28,
  WRAP_CHECK: 1 << 27,
  ADDR_MASK: 0x07ffffff,
  ADDR_SHIFT: 12,
  /** 4 KiB table of 1024 le32 entries. */
  ENTRIES: 1024,
  SIZE: 4096,
} as const;
/** ICT entry for a CSR_INT value: low byte, and bits 31:24 moved to 15:8 (A7). */
export function ictEntry(intBits: number): number {
  return ((intBits & 0xff) | ((intBits >>> 16) & 0xff00)) >>> 0;
}
/** Inverse of ictEntry: the CSR_INT bits an (OR of) ICT entries stand for. */
export function ictToInt(entry: number): number {
  return ((entry & 0xff) | ((entry & 0xff00) << 16)) >>> 0;
}

// ---- PRPH (A5) ---------------------------------------------------------------
export const APMG = {
  BASE: 0x3000,
  CLK_CTRL: 0x3000,
  CLK_EN: 0x3004,
  CLK_DIS: 0x3008,
  PS_CTRL: 0x300c,
  PCIDEV_STT: 0x3010,
  RTC_INT_STT: 0x301c,
  RTC_INT_MSK: 0x3020,
  DIGITAL_SVR: 0x3058,
  ANALOG_SVR: 0x306c,
} as const;
export const APMG_CLK_VAL_DMA_CLK_RQT = 0x200;
export const APMG_PCIDEV_STT_L1_ACT_DIS = 1 << 11;
export const APMG_RTC_INT_STT_RFKILL = 1 << 28;
/** LMPM_CHICK bit 0: extended SRAM address space (0x40000-0x57FFF) for the next chunk. */
export const LMPM_CHICK = 0xa01ff8;
export const LMPM_CHICK_EXTENDED_ADDR_SPACE = 1 << 0;
export const EXTENDED_ADDR_LOW = 0x40000;
export const EXTENDED_ADDR_HIGH = 0x57fff;

/** Scheduler (SCD) registers in PRPH space. */
export const SCD = {
  BASE: 0xa02c00,
  SRAM_BASE_ADDR: 0xa02c00,
  DRAM_BASE_ADDR: 0xa02c08,
  TXFACT: 0xa02c10,
  /** + 4 * queue */
  QUEUE_WRPTR: 0xa02c18,
  /** + 4 * queue */
  QUEUE_RDPTR: 0xa02c68,
  QUEUECHAIN_SEL: 0xa02ce8,
  /** + 4 * queue */
  QUEUE_STATUS_BITS: 0xa02d0c,
  GP_CTRL: 0xa02da8,
  CHAINEXT_EN: 0xa02e44,
  AGGR_SEL: 0xa02e48,
  EN_CTRL: 0xa02e54,
} as const;
export const SCD_QUEUE_STTS = {
  FIFO_SHIFT: 0,
  FIFO_MASK: 0x7,
  ACTIVE: 1 << 3,
  WSL: 1 << 4,
  ACT_EN: 1 << 19,
  /** Bits 16-22, 24 cleared when a queue is deactivated (SCD_QUEUE_STTS_REG_MSK). */
  REG_MSK: 0x017f0000,
} as const;
export const SCD_GP_CTRL_ENABLE_31_QUEUES = 1 << 0;
export const SCD_GP_CTRL_AUTO_ACTIVE_MODE = 1 << 18;
/** SCD SRAM layout, offsets from SCD_SRAM_BASE_ADDR's value. */
export const SCD_SRAM = {
  CONTEXT: 0x600,
  CONTEXT_BYTES_PER_QUEUE: 8,
  TX_STATUS: 0x6a0,
  TX_STATUS_BYTES_PER_QUEUE: 16,
  TRANSLATE: 0x7e0,
  TRANSLATE_BYTES_PER_QUEUE: 2,
} as const;
/** Context dword 1: window size 6:0, frame limit 22:16. */
export const SCD_CONTEXT_WIN_SIZE_MASK = 0x7f;
export const SCD_CONTEXT_FRAME_LIMIT_SHIFT = 16;
/** Value of SCD_SRAM_BASE_ADDR on the model (an address in device SRAM). */
export const SCD_SRAM_BASE_VALUE = 0x00a04000;
export const SCD_QUEUES = 31;

// ---- FH (A6) -------------------------------------------------------------------
export const FH = {
  /** + 8 * channel */
  TFDIB_CTRL0: 0x1900,
  TFDIB_CTRL1: 0x1904,
  KW_MEM_ADDR: 0x197c,
  /** Service channel (9) SRAM destination. */
  SRVC_CHNL_SRAM_ADDR: 0x19c8,
  /** TFD ring base (>> 8): queues 0-15 at 0x19D0 + 4q. */
  MEM_CBBC_0_15: 0x19d0,
  /** Queues 16-19 at 0x1BF0 + 4(q-16). */
  MEM_CBBC_16_19: 0x1bf0,
  /** Queues 20-31 at 0x1B20 + 4(q-20). */
  MEM_CBBC_20_31: 0x1b20,
  /** RX status write-back address >> 4. */
  RSCSR_CHNL0_STTS_WPTR: 0x1bc0,
  /** RBD ring base >> 8. */
  RSCSR_CHNL0_RBDCB_BASE: 0x1bc4,
  /** The driver's RX write pointer: index of the first RBD it has not handed over yet (written in multiples of 8). */
  RSCSR_CHNL0_WPTR: 0x1bc8,
  RSCSR_CHNL0_RDPTR: 0x1bcc,
  MEM_RCSR_CHNL0_CONFIG: 0x1c00,
  /** RBD write pointer inside the RX channel block; the driver only zeroes it at RX init. */
  MEM_RCSR_CHNL0_RBDCB_WPTR: 0x1c08,
  MEM_RSSR_RX_STATUS: 0x1c44,
  /** + 0x20 * channel */
  TCSR_CHNL_TX_CONFIG: 0x1d00,
  TCSR_CHNL_TX_CREDIT: 0x1d04,
  TCSR_CHNL_TX_BUF_STS: 0x1d08,
  TX_CHICKEN_BITS: 0x1e98,
  TSSR_TX_STATUS: 0x1eb0,
} as const;
/** Service channel used for firmware loading. */
export const FH_SRVC_CHNL = 9;
/** Channels in the TX DMA (TCSR) block, incl. the service channel. */
export const FH_TCSR_CHANNELS = 10;
export const FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE = 1 << 24;
export const FH_RCSR_RX_CONFIG = {
  ENABLE: 0x80000000,
  ENABLE_MASK: 0xc0000000,
  RB_SIZE_SHIFT: 16,
  RB_SIZE_MASK: 0x00030000,
  RBDCB_SIZE_SHIFT: 20,
  RBDCB_SIZE_MASK: 0x00f00000,
  IRQ_DEST_INT_HOST: 1 << 12,
  TIMEOUT_SHIFT: 4,
  IGNORE_RXF_EMPTY: 1 << 2,
} as const;
/** What the driver writes to MEM_RCSR_CHNL0_CONFIG for 256 RBDs of 4 KiB. */
export const FH_RX_CONFIG_4K = 0x80801114;
export const FH_TCSR_TX_CONFIG = {
  DMA_ENABLE: 0x80000000,
  DMA_PAUSE_EOF: 0x40000000,
  HOST_END_TFD: 1 << 20,
  CREDIT_ENABLE: 1 << 3,
} as const;
/** Normal TX DMA channels: enable + credit enable. */
export const FH_TX_CONFIG_NORMAL = 0x80000008;
/** Service channel kick: enable + interrupt host at end of TFD. */
export const FH_TX_CONFIG_SRVC_KICK = 0x80100000;
/** Service channel buffer status the driver writes before kicking (valid TB, 1 TB). */
export const FH_TX_BUF_STS_SRVC = 0x00101003;
export const FH_TX_CHICKEN_AUTO_RETRY = 1 << 1;
/** TSSR_TX_STATUS: 16+ch no pending requests; 24+ch buffers empty. */
export function fhTxIdleBits(ch: number): number {
  return ((1 << (16 + ch)) | (1 << (24 + ch))) >>> 0;
}
/** TFD ring base register for queue q (0-31). */
export function fhTfdRingBaseReg(q: number): number {
  if (q < 16) return FH.MEM_CBBC_0_15 + 4 * q;
  if (q < 20) return FH.MEM_CBBC_16_19 + 4 * (q - 16);
  return FH.MEM_CBBC_20_31 + 4 * (q - 20);
}
/** TX queues with a TFD ring base register (FH_MEM_CBBC_QUEUE, queues 0-31). */
export const FH_CBBC_QUEUES = 32;

/**
 * One byte per BAR0 dword: 1 where a CSR, HBUS or FH register of the 7265D
 * lives (the tables above: iwl-csr.h, iwl-fh.h), 0 elsewhere. INT_PERIODIC
 * (0x005) shares the INT_COALESCING dword. Per-channel FH registers exist for
 * the FH_TCSR_CHANNELS TX DMA channels (FH_TFDIB_CTRL0/1_REG(ch) = 0x1900 +
 * 8 ch; FH_TCSR_CHNL_TX_{CONFIG,CREDIT,BUF_STS}_REG(ch) = 0x1D00 + 0x20 ch)
 * and the TFD ring bases for queues 0-31 (FH_MEM_CBBC_QUEUE).
 */
const BAR0_REGISTER_DWORDS: Uint8Array = (() => {
  const t = new Uint8Array(IWL_BAR0_SIZE >>> 2);
  const mark = (o: number): void => { t[o >>> 2] = 1; };
  for (const o of Object.values(CSR)) mark(o);
  for (const o of Object.values(HBUS)) mark(o);
  for (const o of [FH.KW_MEM_ADDR, FH.SRVC_CHNL_SRAM_ADDR, FH.RSCSR_CHNL0_STTS_WPTR, FH.RSCSR_CHNL0_RBDCB_BASE,
    FH.RSCSR_CHNL0_WPTR, FH.RSCSR_CHNL0_RDPTR, FH.MEM_RCSR_CHNL0_CONFIG, FH.MEM_RCSR_CHNL0_RBDCB_WPTR,
    FH.MEM_RSSR_RX_STATUS, FH.TX_CHICKEN_BITS, FH.TSSR_TX_STATUS]) mark(o);
  for (let ch = 0; ch < FH_TCSR_CHANNELS; ch++) {
    mark(FH.TFDIB_CTRL0 + 8 * ch);
    mark(FH.TFDIB_CTRL1 + 8 * ch);
    mark(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch);
    mark(FH.TCSR_CHNL_TX_CREDIT + 0x20 * ch);
    mark(FH.TCSR_CHNL_TX_BUF_STS + 0x20 * ch);
  }
  for (let q = 0; q < FH_CBBC_QUEUES; q++) mark(fhTfdRingBaseReg(q));
  return t;
})();

/** True when the BAR0 dword at `offset` (any byte of it) holds a CSR, HBUS or FH register. */
export function isBar0Register(offset: number): boolean {
  return BAR0_REGISTER_DWORDS[offset >>> 2] === 1;
}

/** Largest service-channel chunk the driver sends (FH_MEM_TB_MAX_LENGTH). */
export const FH_MEM_TB_MAX_LENGTH = 0x20000;

// ---- Data structures (A7) --------------------------------------------------------
export const TFD = {
  SIZE: 128,
  NUM_TBS_OFFSET: 3,
  TBS_OFFSET: 4,
  TB_SIZE: 6,
  MAX_TBS: 20,
} as const;
export const TFD_QUEUE_SIZE = 256;
export const RX_QUEUE_SIZE = 256;
export const RB_SIZE_4K = 4096;
/** RB status: closed_rb_num at +0 (11:0), closed frame +2, finished RB +4, finished frame +6, spare +8. 16 bytes allocated. */
export const RB_STTS_SIZE = 16;
export const RX_PKT_LEN_MASK = 0x3fff;
/** End marker after the last packet in an RB. */
export const RX_END_MARKER = 0x55550000;
/** Packets in an RB start at 64-byte aligned offsets. */
export const RX_FRAME_ALIGN = 64;
/** Command queue (DQA layout) and its FIFO. */
export const CMD_QUEUE = 0;
export const CMD_FIFO = 7;
/** Slots for host command buffers (index & 31). */
export const TFD_CMD_SLOTS = 32;
/** TB0 of a host command holds its first 20 bytes. */
export const TB0_CMD_BYTES = 20;
