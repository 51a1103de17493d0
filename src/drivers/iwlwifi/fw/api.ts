/**
 * The driver's own view of the firmware command API (Linux fw/api/*.h:
 * commands.h, cmdhdr.h, alive.h, nvm-reg.h, phy.h, scan.h, rx.h, tx.h,
 * mac.h, binding.h, sta.h, coex.h). Kept apart from the device model.
 *
 * IDs, headers, ALIVE v3, NVM_ACCESS, RX_PHY, RX_MPDU and SCAN_COMPLETE_UMAC
 * are Linux's. Context, station, scan-request and TX commands use the
 * compact layouts of simrun's 7265D firmware (docs/FIRMWARE.md), which the
 * driver has to speak; where Linux's definitions differ, the difference is
 * named next to the constant (model dialect gaps, issue #13).
 * All integers little endian; offsets are from the start of the payload.
 */

// ---- groups and command IDs (fw/api/commands.h) -----------------------------
export const GROUP = {
  LEGACY: 0x0,
  LONG: 0x1,
  SYSTEM: 0x2,
  MAC_CONF: 0x3,
  PHY_OPS: 0x4,
  DATA_PATH: 0x5,
  SCAN: 0x6,
  REGULATORY_NVM: 0xc,
} as const;

export const CMD = {
  ALIVE: 0x01,
  REPLY_ERROR: 0x02,
  ECHO: 0x03,
  INIT_COMPLETE: 0x04,
  PHY_CONTEXT: 0x08,
  SCAN_CFG: 0x0c,
  SCAN_REQ_UMAC: 0x0d,
  SCAN_ABORT_UMAC: 0x0e,
  SCAN_COMPLETE_UMAC: 0x0f,
  ADD_STA: 0x18,
  REMOVE_STA: 0x19,
  TX: 0x1c,
  MAC_CONTEXT: 0x28,
  BINDING_CONTEXT: 0x2b,
  PHY_CONFIGURATION: 0x6a,
  CALIB_RES_NOTIF_PHY_DB: 0x6b,
  PHY_DB: 0x6c,
  NVM_ACCESS: 0x88,
  TX_ANT_CONFIG: 0x98,
  BT_CONFIG: 0x9b,
  SCAN_ITERATION_COMPLETE_UMAC: 0xb5,
  RX_PHY: 0xc0,
  RX_MPDU: 0xc1,
} as const;

const UMAC_SCAN_CMDS: ReadonlySet<number> = new Set([
  CMD.SCAN_CFG, CMD.SCAN_REQ_UMAC, CMD.SCAN_ABORT_UMAC, CMD.SCAN_COMPLETE_UMAC, CMD.SCAN_ITERATION_COMPLETE_UMAC,
]);
/** The group a command is sent in: the UMAC scan commands always go in LONG_GROUP (IWL_ALWAYS_LONG_GROUP). */
export function cmdGroup(cmd: number): number {
  return UMAC_SCAN_CMDS.has(cmd) ? GROUP.LONG : GROUP.LEGACY;
}

const CMD_NAMES = new Map<number, string>(Object.entries(CMD).map(([name, id]) => [id, name]));
/** "NVM_ACCESS (0x88)", "SCAN_REQ_UMAC (1.0x0d)". */
export function cmdName(cmd: number, group = 0): string {
  const id = `0x${cmd.toString(16).padStart(2, '0')}`;
  return `${CMD_NAMES.get(cmd) ?? 'UNKNOWN'} (${group === 0 ? '' : `${group}.`}${id})`;
}

// ---- headers (fw/api/cmdhdr.h) ------------------------------------------------
/** struct iwl_cmd_header: u8 cmd, u8 group_id, le16 sequence. */
export const CMD_HDR_NARROW = 4;
/** struct iwl_cmd_header_wide: + le16 length, u8 reserved, u8 version. */
export const CMD_HDR_WIDE = 8;
export function cmdHeaderSize(group: number): number {
  return group === GROUP.LEGACY ? CMD_HDR_NARROW : CMD_HDR_WIDE;
}
/** SEQ_RX_FRAME: set in notifications (not responses to a host command). */
export const SEQ_UNSOLICITED = 0x8000;
/** QUEUE_TO_SEQ | INDEX_TO_SEQ. */
export function seqOf(queue: number, index: number): number {
  return ((queue & 0x1f) << 8) | (index & 0xff);
}
/** SEQ_TO_QUEUE. */
export function seqQueue(seq: number): number { return (seq >>> 8) & 0x1f; }
/** SEQ_TO_INDEX. */
export function seqIndex(seq: number): number { return seq & 0xff; }
/** struct iwl_rx_packet: le32 len_n_flags, then the narrow header, then the payload. */
export const RX_PKT_HDR = 8;

// ---- ALIVE (fw/api/alive.h, ALIVE_RES_API_S_VER_3) ------------------------------
export const ALIVE_V3 = {
  SIZE: 68,
  STATUS: 0,
  FLAGS: 2,
  LMAC_MAJOR: 4,
  LMAC_MINOR: 8,
  VER_SUBTYPE: 12,
  VER_TYPE: 13,
  MAC: 14,
  OPT: 15,
  TIMESTAMP: 16,
  ERROR_EVENT_TABLE_PTR: 20,
  LOG_EVENT_TABLE_PTR: 24,
  CPU_REGISTER_PTR: 28,
  DBGM_CONFIG_PTR: 32,
  ALIVE_COUNTER_PTR: 36,
  SCD_BASE_PTR: 40,
  ST_FWRD_ADDR: 44,
  ST_FWRD_SIZE: 48,
  UMAC_MAJOR: 52,
  UMAC_MINOR: 56,
  UMAC_ERROR_INFO_ADDR: 60,
  UMAC_DBG_PRINT_BUFF_ADDR: 64,
} as const;
/** IWL_ALIVE_STATUS_OK. */
export const ALIVE_STATUS_OK = 0xcafe;
/** IWL_ALIVE_STATUS_ERR. */
export const ALIVE_STATUS_ERR = 0xdead;

// ---- INIT flow -------------------------------------------------------------------
/**
 * BT_CONFIG payload as simrun's firmware takes it: le32 mode, le32
 * enabled_modules, le32 reserved, mode 3 meaning "coex off". Linux's
 * struct iwl_bt_coex_cmd is 8 bytes and BT_COEX_DISABLE is 0 (3 is
 * BT_COEX_WIFI). Model dialect gap, kept.
 */
export const BT_CONFIG_SIZE = 12;
export const BT_COEX_DISABLE = 3;
export const BT_COEX_DISABLE_LINUX = 0;

/** struct iwl_nvm_access_cmd (fw/api/nvm-reg.h). */
export const NVM_ACCESS = { SIZE: 8, OP: 0, TARGET: 1, TYPE: 2, OFFSET: 4, LENGTH: 6 } as const;
/** struct iwl_nvm_access_resp. */
export const NVM_ACCESS_RESP = { HDR: 8, OFFSET: 0, LENGTH: 2, TYPE: 4, STATUS: 6, DATA: 8 } as const;
export const NVM_OP_READ = 0;
export const NVM_OP_WRITE = 1;
/** NVM_CHUNK_SIZE (mvm/nvm.c): bytes per NVM_ACCESS read. */
export const NVM_CHUNK_SIZE = 2048;
/** READ_NVM_CHUNK_SUCCEED / READ_NVM_CHUNK_NOT_VALID_ADDRESS. */
export const NVM_READ_OK = 0;
export const NVM_READ_BAD_SECTION = 1;
/** NVM sections the 7000 family reads (nvm_to_read). */
export const NVM_SECTION = { HW: 0, SW: 1, CALIBRATION: 4, PRODUCTION: 5 } as const;
/**
 * HW section (iwl-nvm-parse.c enum nvm_offsets, 7000 family): the MAC
 * address at word HW_ADDR = 0x15, three le16 words, so each byte pair is
 * swapped on the way in ("214365"; iwl_set_hw_address swaps it back).
 */
export const NVM_HW = { HW_ADDR: 0x2a, SIZE: 0x300 } as const;
/**
 * SW section byte offsets: NVM_VERSION word 0, RADIO_CFG word 1, SKU word 2,
 * N_HW_ADDRS word 3, NVM_CHANNELS word 0x1E0 - 0x1C0 = 0x20 (byte 0x40).
 */
export const NVM_SW = { VERSION: 0, RADIO_CFG: 2, SKU: 4, N_HW_ADDRS: 6, CHANNELS: 0x40 } as const;
/** enum nvm_sku_bits. */
export const NVM_SKU = { BAND_24: 1 << 0, BAND_52: 1 << 1, N: 1 << 2, AC: 1 << 3, MIMO_DISABLE: 1 << 5 } as const;
/** NVM_RF_CFG_*_MSK of the 7000 family: fields of the radio config word. */
export const NVM_RF_CFG = { DASH_SHIFT: 0, STEP_SHIFT: 2, TYPE_SHIFT: 4, PNUM_SHIFT: 6, TX_ANT_SHIFT: 8, RX_ANT_SHIFT: 12 } as const;
export const nvmRfCfgTxAnt = (cfg: number): number => (cfg >>> NVM_RF_CFG.TX_ANT_SHIFT) & 0xf;
export const nvmRfCfgRxAnt = (cfg: number): number => (cfg >>> NVM_RF_CFG.RX_ANT_SHIFT) & 0xf;
/** enum iwl_nvm_channel_flags. */
export const NVM_CHANNEL_VALID = 1 << 0;
export const NVM_CHANNEL_IBSS = 1 << 1;
export const NVM_CHANNEL_ACTIVE = 1 << 3;
export const NVM_CHANNEL_RADAR = 1 << 4;
/** iwl_nvm_channels: the order of the per-channel flag words. */
export const NVM_CHANNELS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  36, 40, 44, 48, 52, 56, 60, 64,
  100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
  149, 153, 157, 161, 165,
];

/** struct iwl_tx_ant_cfg_cmd: le32 valid antennas. */
export const TX_ANT_CONFIG_SIZE = 4;
/**
 * PHY_CONFIGURATION as simrun's firmware takes it: le32 phy_cfg, le32
 * event_trigger, le32 flow_trigger. Linux's struct iwl_phy_cfg_cmd_v1 has
 * struct iwl_calib_ctrl { flow_trigger, event_trigger } (flow first).
 * Model dialect gap, kept.
 */
export const PHY_CONFIGURATION = { SIZE: 12, PHY_CFG: 0, EVENT_TRIGGER: 4, FLOW_TRIGGER: 8 } as const;
/** struct iwl_calib_res_notif_phy_db / struct iwl_phy_db_cmd: le16 type, le16 length, data. */
export const PHY_DB = { HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 } as const;
/** enum iwl_phy_db_section_type. */
export const PHY_DB_TYPE = { CFG: 1, CALIB_NCH: 2, CALIB_CHG_PAPD: 4, CALIB_CHG_TXP: 5 } as const;

// ---- scan --------------------------------------------------------------------------
/** SCAN_CFG (simrun's compact layout): flags, tx/rx chains, MAC, broadcast station, channel list. */
export const SCAN_CFG = { HDR: 20, FLAGS: 0, TX_CHAINS: 4, RX_CHAINS: 8, MAC: 12, BCAST_STA_ID: 18, N_CHANNELS: 19, CHANNELS: 20 } as const;
/** SCAN_REQ_UMAC (simrun's compact layout): header, channel numbers, then 34-byte SSID entries. */
export const SCAN_REQ = {
  HDR: 20, FLAGS: 0, UID: 4, OOC_PRIORITY: 8, GENERAL_FLAGS: 12, ACTIVE_DWELL: 14, PASSIVE_DWELL: 16, N_CHANNELS: 18, N_SSIDS: 19,
  CHANNELS: 20, SSID_ENTRY: 34,
} as const;
/**
 * General scan flags as simrun's firmware reads them: PASSIVE bit 1,
 * ITER_COMPLETE bit 4. Linux's enum iwl_umac_scan_general_flags has
 * PASSIVE = BIT(3) and ITER_COMPLETE = BIT(5) (bit 1 is OVER_BT, bit 4
 * PRE_CONNECT). Model dialect gap, kept.
 */
export const SCAN_GEN_FLAGS_PASSIVE = 1 << 1;
export const SCAN_GEN_FLAGS_ITER_COMPLETE = 1 << 4;
export const SCAN_GEN_FLAGS_LINUX = { PASSIVE: 1 << 3, ITER_COMPLETE: 1 << 5 } as const;
/** SCAN_ABORT_UMAC: le32 uid. */
export const SCAN_ABORT_SIZE = 4;
/** struct iwl_umac_scan_complete. */
export const SCAN_COMPLETE = { SIZE: 16, UID: 0, LAST_SCHEDULE: 4, LAST_ITER: 5, STATUS: 6, EBS_STATUS: 7, TIME: 8 } as const;
/** IWL_SCAN_OFFLOAD_COMPLETED / IWL_SCAN_OFFLOAD_ABORTED. */
export const SCAN_STATUS_DONE = 1;
export const SCAN_STATUS_ABORTED = 2;

// ---- RX (fw/api/rx.h) ------------------------------------------------------------------
/** struct iwl_rx_phy_info. ENERGY_WORD is non_cfg_phy[IWL_RX_INFO_ENERGY_ANT_ABC_IDX = 1]. */
export const RX_PHY = {
  SIZE: 68, NON_CFG_PHY_CNT: 0, SYSTEM_TIMESTAMP: 4, TIMESTAMP: 8, BEACON_TIME_STAMP: 16, PHY_FLAGS: 20, CHANNEL: 22,
  NON_CFG_PHY: 24, ENERGY_WORD: 28, RATE_N_FLAGS: 56, BYTE_COUNT: 60, FRAME_TIME: 66,
} as const;
/** RX_RES_PHY_FLAGS_BAND_24. */
export const RX_PHY_FLAGS_BAND_24 = 1 << 0;
/** struct iwl_rx_mpdu_res_start: le16 byte_count, le16 assist, then the frame, then le32 status. */
export const RX_MPDU = { HDR: 4, BYTE_COUNT: 0, ASSIST: 2, FRAME: 4 } as const;
export const RX_MPDU_STATUS_CRC_OK = 1 << 0;
export const RX_MPDU_STATUS_OVERRUN_OK = 1 << 1;
/** RATE_MCS_CCK_MSK, IWL_RATE_1M_PLCP, IWL_RATE_6M_PLCP. */
export const RATE_MCS_CCK = 1 << 9;
export const RATE_PLCP_1M = 10;
export const RATE_PLCP_6M = 13;

// ---- contexts and stations ---------------------------------------------------------------
/** enum iwl_ctxt_action. */
export const FW_CTXT_ACTION = { ADD: 1, MODIFY: 2, REMOVE: 3 } as const;
/** FW_CMD_ID_AND_COLOR: id 7:0, color 15:8. */
export function idAndColor(id: number, color: number): number { return ((color & 0xff) << 8) | (id & 0xff); }
export const FW_CTXT_INVALID = 0xffffffff;
/** PHY_CONTEXT (simrun's compact layout). */
export const PHY_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, APPLY_TIME: 8, TX_PARAM_COLOR: 12, BAND: 16, CHANNEL: 17, WIDTH: 18, CTRL_POS: 19, TXCHAIN: 20 } as const;
/** MAC_CONTEXT (simrun's compact layout). */
export const MAC_CONTEXT = {
  SIZE: 44, ID_AND_COLOR: 0, ACTION: 4, MAC_TYPE: 8, TSF_ID: 12, NODE_ADDR: 16, BSSID: 24, FILTER_FLAGS: 32, IS_ASSOC: 36, ASSOC_ID: 40,
} as const;
/** FW_MAC_TYPE_BSS_STA. */
export const MAC_TYPE_BSS_STA = 5;
/** BINDING_CONTEXT: id_and_color, action, macs[3], phy. */
export const BINDING_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, MACS: 8, PHY: 20 } as const;
/** ADD_STA (simrun's compact layout). */
export const ADD_STA = { SIZE: 20, ADD_MODIFY: 0, STA_ID: 1, MAC_ID_N_COLOR: 4, ADDR: 8, STATION_FLAGS: 16 } as const;
export const ADD_STA_SUCCESS = 1;
export const REMOVE_STA_SIZE = 4;

// ---- TX (fw/api/tx.h) ------------------------------------------------------------------------
/** TX_CMD fixed part (simrun's compact layout). */
export const TX_CMD = { SIZE: 20, LEN: 0, OFFLOAD_ASSIST: 2, TX_FLAGS: 4, RATE_N_FLAGS: 8, STA_ID: 12, SEC_CTL: 13, TID: 14, LIFE_TIME: 16 } as const;
/** TX_CMD_FLG_ACK. */
export const TX_CMD_FLG_ACK = 1 << 3;
/** TX response (simrun's compact layout). */
export const TX_RESP = { SIZE: 16, FRAME_COUNT: 0, FAILURE_RTS: 2, FAILURE_FRAME: 3, INITIAL_RATE: 4, MEDIA_TIME: 8, SEQ_CTL: 10, STATUS: 12 } as const;
/**
 * enum iwl_tx_status values the driver tells apart. 0x8B is
 * TX_STATUS_FAIL_STA_INVALID in Linux; simrun's firmware uses it for "MAC
 * not bound to a PHY context" (named FAIL_NO_BINDING here, as the model).
 */
export const TX_STATUS = { SUCCESS: 0x01, FAIL_LONG_LIMIT: 0x83, FAIL_DEST_PS: 0x88, FAIL_NO_BINDING: 0x8b } as const;

/** Station IDs: the AP of a BSS station; the auxiliary station used for scanning. */
export const STA_ID_AP = 0;
export const STA_ID_AUX = 15;
/** DQA queues: IWL_MVM_DQA_CMD_QUEUE, IWL_MVM_DQA_MIN_MGMT_QUEUE, IWL_MVM_DQA_MIN_DATA_QUEUE. */
export const TXQ = { CMD: 0, MGMT: 5, DATA: 10 } as const;
/** enum iwl_mvm_tx_fifo. */
export const TX_FIFO = { BK: 0, BE: 1, VI: 2, VO: 3, CMD: 7 } as const;
