/**
 * The driver's own CSR and HBUS definitions (Linux iwl-csr.h, 7000 family,
 * gen1 PCIe transport). Kept apart from the device model on purpose: a
 * driver that reads the model's constants agrees with the model when both
 * are wrong. test/drivers/iwlwifi/defs-crosscheck.test.ts compares the two.
 */

/** CSR register offsets in BAR0. */
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
  HW_RF_ID: 0x09c,
  DRAM_INT_TBL: 0x0a0,
  MAC_SHADOW_REG_CTRL: 0x0a8,
  GIO_CHICKEN: 0x100,
  DBG_HPET_MEM: 0x240,
  DBG_LINK_PWR_MGMT: 0x250,
} as const;

/** HBUS block at 0x400: indirect target memory / periphery access and the TX write pointer. */
const HBUS_BASE = 0x400;
export const HBUS = {
  TARG_MEM_RADDR: HBUS_BASE + 0x0c,
  TARG_MEM_WADDR: HBUS_BASE + 0x10,
  TARG_MEM_WDAT: HBUS_BASE + 0x18,
  TARG_MEM_RDAT: HBUS_BASE + 0x1c,
  TARG_PRPH_WADDR: HBUS_BASE + 0x44,
  TARG_PRPH_RADDR: HBUS_BASE + 0x48,
  TARG_PRPH_WDAT: HBUS_BASE + 0x4c,
  TARG_PRPH_RDAT: HBUS_BASE + 0x50,
  TARG_WRPTR: HBUS_BASE + 0x60,
} as const;
/** Periphery address bits for families before AX210 (iwl_trans_pcie_prph_msk). */
export const PRPH_ADDR_MASK = 0x000fffff;
/** Bits 25:24 of PRPH_[RW]ADDR: access width - 1 (3 = dword). */
export const PRPH_DWORD_ACCESS = 3 << 24;

/** CSR_HW_REV: type in bits 15:4. */
export const HW_REV_TYPE_MASK = 0x0000fff0;
export const HW_REV_TYPE_7265D = 0x00000210;

/** CSR_HW_IF_CONFIG_REG bits. */
export const HW_IF_CONFIG = {
  MAC_SI: 0x00000100,
  RADIO_SI: 0x00000200,
  HAP_WAKE_L1A: 0x00080000,
  EEPROM_OWN_SEM: 0x00200000,
  NIC_READY: 0x00400000,
  PREPARE_DONE: 0x02000000,
  PREPARE: 0x08000000,
  ENABLE_PME: 0x10000000,
  PERSIST_MODE: 0x40000000,
} as const;

/** CSR_GP_CNTRL bits (the first three come from the trans cfg's csr params in Linux). */
export const GP_CNTRL = {
  MAC_CLOCK_READY: 0x00000001,
  INIT_DONE: 0x00000004,
  MAC_ACCESS_REQ: 0x00000008,
  GOING_TO_SLEEP: 0x00000010,
  XTAL_ON: 0x00000400,
  HW_RF_KILL_SW: 0x08000000,
} as const;

/** CSR_RESET bits. */
export const RESET = {
  NEVO_RESET: 0x00000001,
  FORCE_NMI: 0x00000002,
  SW_RESET: 0x00000080,
  MASTER_DISABLED: 0x00000100,
  STOP_MASTER: 0x00000200,
  LINK_PWR_MGMT_DISABLED: 1 << 31,
} as const;

/** CSR_INT / CSR_INT_MASK bits. */
export const INT = {
  FH_RX: 1 << 31,
  HW_ERR: 0x20000000,
  RX_PERIODIC: 0x10000000,
  FH_TX: 0x08000000,
  SCD: 0x04000000,
  SW_ERR: 0x02000000,
  RF_KILL: 0x00000080,
  CT_KILL: 0x00000040,
  SW_RX: 0x00000008,
  WAKEUP: 0x00000002,
  ALIVE: 0x00000001,
} as const;
/** CSR_INI_SET_MASK: the interrupts enabled in normal operation. */
export const INT_MASK_NORMAL = (INT.FH_RX | INT.HW_ERR | INT.FH_TX | INT.SW_ERR | INT.RF_KILL | INT.SW_RX
  | INT.WAKEUP | INT.ALIVE | INT.RX_PERIODIC) >>> 0;
/** While loading firmware only FH_TX is enabled (iwl_enable_fw_load_int). */
export const INT_MASK_FW_LOAD = INT.FH_TX;
/** Before firmware load only RF_KILL is enabled (iwl_enable_rfkill_int). */
export const INT_MASK_RF_KILL = INT.RF_KILL;

/** CSR_FH_INT_STATUS bits. */
export const FH_INT = {
  ERR: 1 << 31,
  HI_PRIOR: 0x40000000,
  RX_CH1: 0x00020000,
  RX_CH0: 0x00010000,
  TX_CH1: 0x00000002,
  TX_CH0: 0x00000001,
} as const;
/**
 * CSR_FH_INT_RX_MASK: what the driver acks in CSR_FH_INT_STATUS for RX,
 * HI_PRIOR | RX_CH1 | RX_CH0 (0x40030000). Bit 31 (ERR, the FH DMA error
 * behind INT.HW_ERR) is left set, so the error stays visible.
 */
export const FH_INT_RX_MASK = (FH_INT.HI_PRIOR | FH_INT.RX_CH1 | FH_INT.RX_CH0) >>> 0;
export const FH_INT_TX_MASK = (FH_INT.TX_CH1 | FH_INT.TX_CH0) >>> 0;

/** CSR_UCODE_DRV_GP1 bits. */
export const GP1 = {
  MAC_SLEEP: 0x00000001,
  SW_BIT_RFKILL: 0x00000002,
  CMD_BLOCKED: 0x00000004,
  CT_KILL_EXIT: 0x00000008,
  D3_CFG_COMPLETE: 0x00000020,
} as const;

/** CSR_GIO_REG bit 1: L0s disabled (named L0S_ENABLED in older iwl-csr.h). */
export const GIO_L0S_DISABLED = 0x00000002;
/** CSR_MBOX_SET_REG_OS_ALIVE. */
export const MBOX_SET_OS_ALIVE = 0x00000020;
/** CSR_GIO_CHICKEN_BITS bits. */
export const GIO_CHICKEN_L1A_NO_L0S_RX = 0x00800000;
export const GIO_CHICKEN_DIS_L0S_EXIT_TIMER = 0x20000000;
/** Written to CSR_DBG_LINK_PWR_MGMT_REG (CSR_RESET_LINK_PWR_MGMT_DISABLED) before the NIC is prepared. */
export const DBG_LINK_PWR_MGMT_WAKE = RESET.LINK_PWR_MGMT_DISABLED;
/** What iwl_pcie_nic_init sets in CSR_MAC_SHADOW_REG_CTRL when shadow registers are enabled. */
export const MAC_SHADOW_REG_CTRL_ALL = 0x800fffff;

/** CSR_DRAM_INT_TBL_REG (ICT) bits; the table is 4 KiB of le32 entries, its address >> 12 in the low bits. */
export const ICT = {
  ENABLE: 1 << 31,
  RESET_WRITE_PTR: 0x10000000,
  WRAP_CHECK: 0x08000000,
  ADDR_MASK: 0x07ffffff,
  ADDR_SHIFT: 12,
  ENTRIES: 1024,
  SIZE: 4096,
} as const;
/** CSR_INT bits an (OR of) ICT entries stand for: bits 15:8 move to 31:24 (iwl_pcie_int_cause_ict). */
export function ictToInt(entry: number): number {
  return ((entry & 0xff) | ((entry & 0xff00) << 16)) >>> 0;
}
