/**
 * The driver's own flow-handler (FH) definitions: the DMA engine's
 * registers in BAR0 and the DMA data structures (Linux iwl-fh.h, and the
 * TFD / RB layouts of pcie/internal.h). Kept apart from the device model.
 */

const FH_MEM_LOWER_BOUND = 0x1000;

/** FH register offsets in BAR0. */
export const FH = {
  /** FH_TFDIB_CTRL0_REG(ch) = + 8 * ch. */
  TFDIB_CTRL0: FH_MEM_LOWER_BOUND + 0x900,
  TFDIB_CTRL1: FH_MEM_LOWER_BOUND + 0x904,
  KW_MEM_ADDR: FH_MEM_LOWER_BOUND + 0x97c,
  /** FH_SRVC_CHNL_SRAM_ADDR_REG(9). */
  SRVC_CHNL_SRAM_ADDR: FH_MEM_LOWER_BOUND + 0x9c8,
  /** TFD circular buffer base (>> 8), queues 0-15. */
  MEM_CBBC_0_15: FH_MEM_LOWER_BOUND + 0x9d0,
  MEM_CBBC_16_19: FH_MEM_LOWER_BOUND + 0xbf0,
  MEM_CBBC_20_31: FH_MEM_LOWER_BOUND + 0xb20,
  RSCSR_CHNL0_STTS_WPTR: FH_MEM_LOWER_BOUND + 0xbc0,
  RSCSR_CHNL0_RBDCB_BASE: FH_MEM_LOWER_BOUND + 0xbc4,
  RSCSR_CHNL0_WPTR: FH_MEM_LOWER_BOUND + 0xbc8,
  RSCSR_CHNL0_RDPTR: FH_MEM_LOWER_BOUND + 0xbcc,
  MEM_RCSR_CHNL0_CONFIG: FH_MEM_LOWER_BOUND + 0xc00,
  MEM_RCSR_CHNL0_RBDCB_WPTR: FH_MEM_LOWER_BOUND + 0xc08,
  MEM_RSSR_RX_STATUS: FH_MEM_LOWER_BOUND + 0xc44,
  /** FH_TCSR_CHNL_TX_*_REG(ch) = + 0x20 * ch. */
  TCSR_CHNL_TX_CONFIG: FH_MEM_LOWER_BOUND + 0xd00,
  TCSR_CHNL_TX_CREDIT: FH_MEM_LOWER_BOUND + 0xd04,
  TCSR_CHNL_TX_BUF_STS: FH_MEM_LOWER_BOUND + 0xd08,
  TX_CHICKEN_BITS: FH_MEM_LOWER_BOUND + 0xe98,
  TSSR_TX_STATUS: FH_MEM_LOWER_BOUND + 0xeb0,
} as const;

/** The TX DMA channel that loads firmware (the service channel). */
export const FH_SRVC_CHNL = 9;
/** FH_RSSR_CHNL0_RX_STATUS_CHNL_IDLE. */
export const FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE = 0x01000000;

/** FH_MEM_RCSR_CHNL0_CONFIG_REG fields. */
const RX_CONFIG_ENABLE = 0x80000000;
const RX_CONFIG_IGNORE_RXF_EMPTY = 0x00000004;
const RX_CONFIG_IRQ_DEST_INT_HOST = 0x00001000;
const RX_CONFIG_RB_SIZE_4K = 0x00000000;
const RX_CONFIG_RB_TIMEOUT_POS = 4;
const RX_CONFIG_RBDCB_SIZE_POS = 20;
/** IWL_RX_RB_TIMEOUT: RB timeout in 32 us units. */
const RX_RB_TIMEOUT = 0x11;
/** log2 of the RBD ring size (256). */
const RX_RBDCB_LOG = 8;
/** What iwl_pcie_rx_hw_init writes for 256 RBDs of 4 KiB: 0x80801114. */
export const FH_RX_CONFIG_4K = (RX_CONFIG_ENABLE | RX_CONFIG_IGNORE_RXF_EMPTY | RX_CONFIG_IRQ_DEST_INT_HOST
  | RX_CONFIG_RB_SIZE_4K | (RX_RB_TIMEOUT << RX_CONFIG_RB_TIMEOUT_POS) | (RX_RBDCB_LOG << RX_CONFIG_RBDCB_SIZE_POS)) >>> 0;

/** FH_TCSR_CHNL_TX_CONFIG_REG values. */
const TX_CONFIG_DMA_CHNL_ENABLE = 0x80000000;
const TX_CONFIG_DMA_CREDIT_ENABLE = 0x00000008;
const TX_CONFIG_CIRQ_HOST_ENDTFD = 0x00100000;
/** Normal TX DMA channels (iwl_pcie_tx_start): channel enable + credit enable. */
export const FH_TX_CONFIG_NORMAL = (TX_CONFIG_DMA_CHNL_ENABLE | TX_CONFIG_DMA_CREDIT_ENABLE) >>> 0;
/** Service channel kick (iwl_pcie_load_firmware_chunk_fh): enable + host interrupt at the end of the TFD. */
export const FH_TX_CONFIG_SRVC_KICK = (TX_CONFIG_DMA_CHNL_ENABLE | TX_CONFIG_CIRQ_HOST_ENDTFD) >>> 0;
/** FH_TCSR_CHNL_TX_BUF_STS_REG: 1 TB (POS_TB_NUM 20), index 1 (POS_TB_IDX 12), TFDB valid (3). */
export const FH_TX_BUF_STS_SRVC = ((1 << 20) | (1 << 12) | 0x3) >>> 0;
/** FH_TX_CHICKEN_BITS_SCD_AUTO_RETRY_EN. */
export const FH_TX_CHICKEN_AUTO_RETRY = 0x00000002;

/**
 * FH_TSSR_TX_STATUS_REG_MSK_CHNL_IDLE: the bit of FH_TSSR_TX_STATUS_REG the
 * driver waits for when it stops TX channel `ch`, "no pending requests"
 * (16 + ch), as Linux's iwl_pcie_tx_stop_fh. "Buffers empty" (24 + ch) is
 * not part of it.
 */
export function fhTxIdleBits(ch: number): number {
  return ((1 << ch) << 16) >>> 0;
}
/** Linux's FH_TSSR_TX_STATUS_REG_MSK_CHNL_IDLE. */
export function fhTxIdleBitsLinux(ch: number): number {
  return ((1 << ch) << 16) >>> 0;
}

/** FH_MEM_CBBC_QUEUE(q): TFD ring base register of queue q (0-31). */
export function fhTfdRingBaseReg(q: number): number {
  if (q < 16) return FH.MEM_CBBC_0_15 + 4 * q;
  if (q < 20) return FH.MEM_CBBC_16_19 + 4 * (q - 16);
  return FH.MEM_CBBC_20_31 + 4 * (q - 20);
}
/** FH_MEM_TB_MAX_LENGTH: largest service-channel transfer. */
export const FH_MEM_TB_MAX_LENGTH = 0x00020000;

// ---- DMA data structures ---------------------------------------------------
/** struct iwl_tfd: 3 reserved bytes, u8 num_tbs, 20 x {le32 lo, le16 hi_n_len}, le32 pad. */
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
/** struct iwl_rb_status (16 bytes allocated). */
export const RB_STTS_SIZE = 16;
/** FH_RSCSR_FRAME_SIZE_MSK. */
export const RX_PKT_LEN_MASK = 0x3fff;
/** FH_RSCSR_FRAME_INVALID: no more packets in this RB. */
export const RX_END_MARKER = 0x55550000;
/** FH_RSCSR_FRAME_ALIGN. */
export const RX_FRAME_ALIGN = 0x40;
