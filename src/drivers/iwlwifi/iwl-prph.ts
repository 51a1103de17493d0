/**
 * The driver's own periphery (PRPH) definitions: registers reached through
 * HBUS_TARG_PRPH_* (Linux iwl-prph.h, with the scheduler of iwl-scd.h).
 * Kept apart from the device model.
 */

/** APMG (power management) registers. */
const APMG_BASE = 0x3000;
export const APMG = {
  BASE: APMG_BASE,
  CLK_CTRL: APMG_BASE + 0x00,
  CLK_EN: APMG_BASE + 0x04,
  CLK_DIS: APMG_BASE + 0x08,
  PS_CTRL: APMG_BASE + 0x0c,
  PCIDEV_STT: APMG_BASE + 0x10,
  RTC_INT_STT: APMG_BASE + 0x1c,
  RTC_INT_MSK: APMG_BASE + 0x20,
  DIGITAL_SVR: APMG_BASE + 0x58,
  ANALOG_SVR: APMG_BASE + 0x6c,
} as const;
export const APMG_CLK_VAL_DMA_CLK_RQT = 0x00000200;
export const APMG_PCIDEV_STT_L1_ACT_DIS = 0x00000800;
export const APMG_RTC_INT_STT_RFKILL = 0x10000000;

/** LMPM_CHICK: bit 0 selects the extended SRAM address space for the next service-channel chunk. */
export const LMPM_CHICK = 0xa01ff8;
export const LMPM_CHICK_EXTENDED_ADDR_SPACE = 0x01;
/** IWL_FW_MEM_EXTENDED_START / _END. */
export const EXTENDED_ADDR_LOW = 0x40000;
export const EXTENDED_ADDR_HIGH = 0x57fff;

/** Scheduler (SCD) registers; the per-queue ones are for queues 0-19. */
const SCD_BASE = 0xa02c00;
export const SCD = {
  BASE: SCD_BASE,
  SRAM_BASE_ADDR: SCD_BASE + 0x000,
  DRAM_BASE_ADDR: SCD_BASE + 0x008,
  TXFACT: SCD_BASE + 0x010,
  /** SCD_QUEUE_WRPTR(q) = + 4 * q. */
  QUEUE_WRPTR: SCD_BASE + 0x018,
  /** SCD_QUEUE_RDPTR(q) = + 4 * q. */
  QUEUE_RDPTR: SCD_BASE + 0x068,
  QUEUECHAIN_SEL: SCD_BASE + 0x0e8,
  /** SCD_QUEUE_STATUS_BITS(q) = + 4 * q. */
  QUEUE_STATUS_BITS: SCD_BASE + 0x10c,
  GP_CTRL: SCD_BASE + 0x1a8,
  CHAINEXT_EN: SCD_BASE + 0x244,
  AGGR_SEL: SCD_BASE + 0x248,
  EN_CTRL: SCD_BASE + 0x254,
} as const;
/** SCD_QUEUE_STTS_REG fields. */
export const SCD_QUEUE_STTS = {
  FIFO_SHIFT: 0,
  FIFO_MASK: 0x7,
  ACTIVE: 1 << 3,
  WSL: 1 << 4,
  ACT_EN: 1 << 19,
  REG_MSK: 0x017f0000,
} as const;
export const SCD_GP_CTRL_ENABLE_31_QUEUES = 1 << 0;
export const SCD_GP_CTRL_AUTO_ACTIVE_MODE = 1 << 18;
/** Scheduler SRAM, offsets from the address in SCD_SRAM_BASE_ADDR (ALIVE's scd_base_ptr). */
export const SCD_SRAM = {
  CONTEXT: 0x600,
  CONTEXT_BYTES_PER_QUEUE: 8,
  TX_STATUS: 0x6a0,
  TX_STATUS_BYTES_PER_QUEUE: 16,
  TRANSLATE: 0x7e0,
  TRANSLATE_BYTES_PER_QUEUE: 2,
} as const;
/** Context dword 1 (SCD_QUEUE_CTX_REG2): window size 6:0, frame limit 22:16. */
export const SCD_CONTEXT_WIN_SIZE_MASK = 0x7f;
export const SCD_CONTEXT_FRAME_LIMIT_SHIFT = 16;
/** Hardware queues of the 7000 family (base_params num_of_queues). */
export const SCD_QUEUES = 31;
