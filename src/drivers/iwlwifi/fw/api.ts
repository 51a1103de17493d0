/**
 * The driver's own view of the firmware command API (Linux fw/api/*.h:
 * commands.h, cmdhdr.h, alive.h, nvm-reg.h, phy.h, scan.h, rx.h, tx.h,
 * mac.h, binding.h, sta.h, coex.h). Kept apart from the device model.
 *
 * Every layout is the one Linux's mvm selects for 7265D firmware API 22-29
 * (no CDB, no STA_TYPE, no new TX API): the structure and its API version
 * are named next to each constant. All integers little endian; offsets are
 * from the start of the payload.
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
  TIME_EVENT: 0x29,
  TIME_EVENT_NOTIFICATION: 0x2a,
  LQ: 0x4e,
  PHY_CONFIGURATION: 0x6a,
  CALIB_RES_NOTIF_PHY_DB: 0x6b,
  PHY_DB: 0x6c,
  POWER_TABLE: 0x77,
  NVM_ACCESS: 0x88,
  SHARED_MEM_CFG: 0x8c,
  TX_ANT_CONFIG: 0x98,
  BT_CONFIG: 0x9b,
  MAC_PM_POWER_TABLE: 0xa9,
  SCAN_ITERATION_COMPLETE_UMAC: 0xb5,
  RX_PHY: 0xc0,
  RX_MPDU: 0xc1,
  SF_CFG: 0xd1,
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

// ---- errors (struct iwl_error_resp) ---------------------------------------------------
/** REPLY_ERROR notification: le32 error_type, u8 cmd_id, u8 reserved, le16 bad_cmd_seq_num, le32 error_service, le64 timestamp. */
export const ERROR_RESP = { SIZE: 20, ERROR_TYPE: 0, CMD_ID: 4, BAD_CMD_SEQ_NUM: 6, ERROR_SERVICE: 8, TIMESTAMP: 12 } as const;
/** FW_ERR_*. */
export const FW_ERR = { UNKNOWN_CMD: 0x0, INVALID_CMD_PARAM: 0x1, SERVICE: 0x2 } as const;

// ---- INIT flow -------------------------------------------------------------------
/** struct iwl_bt_coex_cmd (BT_COEX_CMD_API_S_VER_6): le32 mode, le32 enabled_modules. */
export const BT_COEX_CMD = { SIZE: 8, MODE: 0, ENABLED_MODULES: 4 } as const;
/** enum iwl_bt_coex_mode. */
export const BT_COEX = { DISABLE: 0x0, NW: 0x1, BT: 0x2, WIFI: 0x3 } as const;

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
/** struct iwl_phy_cfg_cmd_v1: le32 phy_cfg, struct iwl_calib_ctrl { le32 flow_trigger, le32 event_trigger }. */
export const PHY_CONFIGURATION = { SIZE: 12, PHY_CFG: 0, FLOW_TRIGGER: 4, EVENT_TRIGGER: 8 } as const;
/** struct iwl_calib_res_notif_phy_db / struct iwl_phy_db_cmd: le16 type, le16 length, data. */
export const PHY_DB = { HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 } as const;
/** enum iwl_phy_db_section_type. */
export const PHY_DB_TYPE = { CFG: 1, CALIB_NCH: 2, CALIB_CHG_PAPD: 4, CALIB_CHG_TXP: 5 } as const;

// ---- scan (fw/api/scan.h) --------------------------------------------------------------
/** struct iwl_scan_config_v1 (SCAN_CONFIG_DB_CMD_API_S); channel_array[N_SCAN_CHANNELS] follows at 36. */
export const SCAN_CONFIG = {
  SIZE: 36, FLAGS: 0, TX_CHAINS: 4, RX_CHAINS: 8, LEGACY_RATES: 12, OUT_OF_CHANNEL_TIME: 16, SUSPEND_TIME: 20, DWELL: 24, MAC_ADDR: 28,
  BCAST_STA_ID: 34, CHANNEL_FLAGS: 35, CHANNEL_ARRAY: 36,
} as const;
/** enum scan_config_flags (the ones this driver sets). */
export const SCAN_CONFIG_FLAG = {
  ACTIVATE: 1 << 0, ALLOW_CHUB_REQS: 1 << 2, SET_TX_CHAINS: 1 << 8, SET_RX_CHAINS: 1 << 9, SET_AUX_STA_ID: 1 << 10,
  SET_ALL_TIMES: 1 << 11, SET_LEGACY_RATES: 1 << 13, SET_MAC_ADDR: 1 << 14, SET_CHANNEL_FLAGS: 1 << 15, SET_ALL_DWELL: 1 << 19,
} as const;
/** enum scan_config_rates: legacy rate bits from 8 (1 Mb/s) on. */
export const SCAN_CONFIG_RATES_ALL = 0xfff << 8;
/** struct iwl_scan_req_umac, v1 union (SCAN_REQUEST_CMD_UMAC_API_S_VER_1); the channel entries start at 36. */
export const SCAN_REQ_UMAC = {
  FLAGS: 0, UID: 4, OOC_PRIORITY: 8, GENERAL_FLAGS: 12, SCAN_START_MAC_ID: 15, EXTENDED_DWELL: 16, ACTIVE_DWELL: 17,
  PASSIVE_DWELL: 18, FRAGMENTED_DWELL: 19, MAX_OUT_TIME: 20, SUSPEND_TIME: 24, SCAN_PRIORITY: 28, CHANNEL_FLAGS: 32, N_CHANNELS: 33,
  DATA: 36,
} as const;
/**
 * struct iwl_scan_req_umac, v7 union (SCAN_REQUEST_CMD_UMAC_API_S_VER_7), sent with the ADAPTIVE_DWELL
 * API flag: the first 16 bytes as v1, then the dwells, the adaptive-dwell defaults, per-LMAC
 * max_out_time[2] and suspend_time[2], scan_priority, channel params; the channel entries start at 48.
 */
export const SCAN_REQ_UMAC_V7 = {
  ACTIVE_DWELL: 16, PASSIVE_DWELL: 17, FRAGMENTED_DWELL: 18, ADWELL_DEFAULT_N_APS: 19, ADWELL_DEFAULT_N_APS_SOCIAL: 20,
  ADWELL_MAX_BUDGET: 22, MAX_OUT_TIME: 24, SUSPEND_TIME: 32, SCAN_PRIORITY: 40, CHANNEL_FLAGS: 44, N_CHANNELS: 45, DATA: 48,
} as const;
/** Adaptive dwell defaults (mvm/scan.c): APs per channel, per social channel, and the extra dwell budget in TU. */
export const SCAN_ADWELL = { DEFAULT_N_APS: 2, DEFAULT_N_APS_SOCIAL: 10, MAX_BUDGET_FULL_SCAN: 300, MAX_BUDGET_DIRECTED_SCAN: 100 } as const;
/** IWL_SCAN_PRIORITY_EXT_6: the v7 scan_priority Linux sends. */
export const SCAN_PRIORITY_EXT_6 = 6;
/** struct iwl_scan_channel_cfg_umac (v1): le32 flags (SSID bitmap), u8 channel_num, u8 iter_count, le16 iter_interval. */
export const SCAN_CHANNEL_CFG = { SIZE: 8, FLAGS: 0, CHANNEL_NUM: 4, ITER_COUNT: 5, ITER_INTERVAL: 6 } as const;
/**
 * struct iwl_scan_req_umac_tail (v1): schedule[2] (4 bytes each), le16
 * delay, le16 reserved, struct iwl_scan_probe_req_v1 { mac_header,
 * band_data[2], common_data as { le16 offset, le16 len }, u8 buf[512] },
 * struct iwl_ssid_ie direct_scan[PROBE_OPTION_MAX = 20] (34 bytes each).
 */
export const SCAN_REQ_UMAC_TAIL = {
  SIZE: 1220, SCHEDULE: 0, DELAY: 8, MAC_HEADER: 12, BAND_DATA: 16, COMMON_DATA: 24, BUF: 28, BUF_SIZE: 512, DIRECT_SCAN: 540,
  SSID_IE_SIZE: 34, PROBE_OPTION_MAX: 20,
} as const;
/** enum iwl_umac_scan_general_flags. */
export const UMAC_SCAN_GEN_FLAGS = {
  PERIODIC: 1 << 0, OVER_BT: 1 << 1, PASS_ALL: 1 << 2, PASSIVE: 1 << 3, PRE_CONNECT: 1 << 4, ITER_COMPLETE: 1 << 5,
  MULTIPLE_SSID: 1 << 6, FRAGMENTED: 1 << 7, RRM_ENABLED: 1 << 8, MATCH: 1 << 9, EXTENDED_DWELL: 1 << 10,
  ADAPTIVE_DWELL: 1 << 13,
} as const;
/** enum iwl_scan_priority. */
export const SCAN_PRIORITY = { LOW: 0, MEDIUM: 1, HIGH: 2 } as const;
/** struct iwl_umac_scan_abort: le32 uid, le32 flags. */
export const SCAN_ABORT_UMAC = { SIZE: 8, UID: 0, FLAGS: 4 } as const;
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
/** struct iwl_phy_context_cmd (PHY_CONTEXT_CMD_API_VER_1) with the 4-byte iwl_fw_channel_info_v1. */
export const PHY_CONTEXT = {
  SIZE: 36, ID_AND_COLOR: 0, ACTION: 4, APPLY_TIME: 8, TX_PARAM_COLOR: 12, CI_BAND: 16, CI_CHANNEL: 17, CI_WIDTH: 18, CI_CTRL_POS: 19,
  TXCHAIN_INFO: 20, RXCHAIN_INFO: 24, ACQUISITION_DATA: 28, DSP_CFG_FLAGS: 32,
} as const;
/** PHY_BAND_5 / PHY_BAND_24. */
export const PHY_BAND = { B5: 0, B24: 1 } as const;
/** PHY_VHT_CHANNEL_MODE20, PHY_VHT_CTRL_POS_1_BELOW. */
export const PHY_CHANNEL_MODE20 = 0;
export const PHY_CTRL_POS_1_BELOW = 0;
/** rxchain_info fields. */
export const PHY_RX_CHAIN = { VALID_POS: 1, FORCE_SEL_POS: 4, FORCE_MIMO_SEL_POS: 7, CNT_POS: 10, MIMO_CNT_POS: 12 } as const;
/** struct iwl_mac_ctx_cmd (MAC_CONTEXT_CMD_API_S_VER_1) with struct iwl_mac_data_sta at 100; the union is 48 bytes. */
export const MAC_CONTEXT = {
  SIZE: 148, ID_AND_COLOR: 0, ACTION: 4, MAC_TYPE: 8, TSF_ID: 12, NODE_ADDR: 16, BSSID_ADDR: 24, CCK_RATES: 32, OFDM_RATES: 36,
  PROTECTION_FLAGS: 40, CCK_SHORT_PREAMBLE: 44, SHORT_SLOT: 48, FILTER_FLAGS: 52, QOS_FLAGS: 56, AC: 60, AC_SIZE: 8,
  STA_IS_ASSOC: 100, STA_DTIM_TIME: 104, STA_DTIM_TSF: 108, STA_BI: 116, STA_BI_RECIPROCAL: 120, STA_DTIM_INTERVAL: 124,
  STA_DTIM_RECIPROCAL: 128, STA_LISTEN_INTERVAL: 132, STA_ASSOC_ID: 136, STA_ASSOC_BEACON_ARRIVE_TIME: 140,
} as const;
/** struct iwl_ac_qos offsets within one ac[] entry. */
export const AC_QOS = { CW_MIN: 0, CW_MAX: 2, AIFSN: 4, FIFOS_MASK: 5, EDCA_TXOP: 6 } as const;
/** FW_MAC_TYPE_BSS_STA. */
export const MAC_TYPE_BSS_STA = 5;
/** enum iwl_mac_filter_flags (the ones this driver sets). */
export const MAC_FILTER = { ACCEPT_GRP: 1 << 2, IN_BEACON: 1 << 6 } as const;
/** struct iwl_binding_cmd_v1 (IWL_BINDING_CMD_SIZE_V1): id_and_color, action, macs[3], phy. */
export const BINDING_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, MACS: 8, PHY: 20 } as const;
/** struct iwl_binding_cmd (BINDING_CMD_API_S_VER_2): v1 plus le32 lmac_id, sent with capability BINDING_CDB_SUPPORT. */
export const BINDING_CONTEXT_V2 = { SIZE: 28, LMAC_ID: 24 } as const;
/** IWL_LMAC_24G_INDEX / IWL_LMAC_5G_INDEX. */
export const LMAC_INDEX = { B24: 0, B5: 1 } as const;
/** struct iwl_mvm_add_sta_cmd_v7 (ADD_STA_CMD_API_S_VER_7): the size used without the STA_TYPE API flag. */
export const ADD_STA = {
  SIZE: 44, ADD_MODIFY: 0, AWAKE_ACS: 1, TID_DISABLE_TX: 2, MAC_ID_N_COLOR: 4, ADDR: 8, STA_ID: 16, MODIFY_MASK: 17, STATION_FLAGS: 20,
  STATION_FLAGS_MSK: 24, ADD_IMMEDIATE_BA_TID: 28, REMOVE_IMMEDIATE_BA_TID: 29, ADD_IMMEDIATE_BA_SSN: 30, SLEEP_TX_COUNT: 32,
  SLEEP_STATE_FLAGS: 34, ASSOC_ID: 36, BEAMFORM_FLAGS: 38, TFD_QUEUE_MSK: 40,
} as const;
/**
 * struct iwl_mvm_add_sta_cmd (ADD_STA_CMD_API_S_VER_10): the size sent with the STA_TYPE API flag.
 * Same as v7 up to 34, where sleep_state_flags is a u8 and station_type follows; then le16
 * rx_ba_window, u8 sp_length, u8 uapsd_acs.
 */
export const ADD_STA_V10 = { SIZE: 48, SLEEP_STATE_FLAGS: 34, STATION_TYPE: 35, RX_BA_WINDOW: 44, SP_LENGTH: 46, UAPSD_ACS: 47 } as const;
/** enum iwl_sta_type. */
export const IWL_STA_TYPE = { LINK: 0, GENERAL_PURPOSE: 1, MULTICAST: 2, TDLS_LINK: 3, AUX_ACTIVITY: 4 } as const;
/** enum iwl_sta_mode. */
export const STA_MODE = { ADD: 0, MODIFY: 1 } as const;
/** ADD_STA_SUCCESS (enum iwl_add_sta_rsp_status). */
export const ADD_STA_SUCCESS = 1;
/** struct iwl_mvm_rm_sta_cmd: u8 sta_id, u8 reserved[3]. */
export const REMOVE_STA_SIZE = 4;

// ---- TX (fw/api/tx.h) ------------------------------------------------------------------------
/** struct iwl_tx_cmd (TX_CMD_API_S_VER_6): 56 bytes, then the 802.11 header. */
export const TX_CMD = {
  SIZE: 56, LEN: 0, OFFLOAD_ASSIST: 2, TX_FLAGS: 4, SCRATCH: 8, RATE_N_FLAGS: 12, STA_ID: 16, SEC_CTL: 17, INITIAL_RATE_INDEX: 18,
  KEY: 20, LIFE_TIME: 40, DRAM_LSB_PTR: 44, DRAM_MSB_PTR: 48, RTS_RETRY_LIMIT: 49, DATA_RETRY_LIMIT: 50, TID_TSPEC: 51,
  PM_FRAME_TIMEOUT: 52,
} as const;
/** enum iwl_tx_flags (the ones this driver sets). */
export const TX_CMD_FLG_ACK = 1 << 3;
export const TX_CMD_FLG_BT_DIS = 1 << 12;
/** TX_CMD_LIFE_TIME_INFINITE. */
export const TX_CMD_LIFE_TIME_INFINITE = 0xffffffff;
/** IWL_MGMT_DFAULT_RETRY_LIMIT, IWL_DEFAULT_TX_RETRY, IWL_RTS_DFAULT_RETRY_LIMIT. */
export const TX_RETRY = { MGMT: 3, DATA: 15, RTS: 60 } as const;
/** struct iwl_mvm_tx_resp_v3 (TX_RSP_API_S_VER_3): status[frame_count] at 36, then the le32 SCD SSN. */
export const TX_RESP = {
  HDR: 36, FRAME_COUNT: 0, BT_KILL_COUNT: 1, FAILURE_RTS: 2, FAILURE_FRAME: 3, INITIAL_RATE: 4, WIRELESS_MEDIA_TIME: 8, TFD_INFO: 24,
  SEQ_CTL: 28, BYTE_CNT: 30, TLC_INFO: 32, RA_TID: 33, FRAME_CTRL: 34, STATUS: 36, AGG_STATUS_SIZE: 4,
} as const;
/** TX_STATUS_MSK and the values the driver tells apart (enum iwl_tx_status). */
export const TX_STATUS_MSK = 0xff;
export const TX_STATUS = { SUCCESS: 0x01, FAIL_LONG_LIMIT: 0x83, FAIL_DEST_PS: 0x88, FAIL_STA_INVALID: 0x8b } as const;
/** rate_n_flags antenna bits (RATE_MCS_ANT_POS = 14). */
export const RATE_MCS_ANT_POS = 14;

// ---- time events (fw/api/time-event.h) -----------------------------------------------------------
/** struct iwl_time_event_cmd (TIME_EVENT_CMD_API_S_VER_2), 36 bytes. */
export const TIME_EVENT_CMD = {
  SIZE: 36, ID_AND_COLOR: 0, ACTION: 4, ID: 8, APPLY_TIME: 12, MAX_DELAY: 16, DEPENDS_ON: 20, INTERVAL: 24, DURATION: 28, REPEAT: 32,
  MAX_FRAGS: 33, POLICY: 34,
} as const;
/** struct iwl_time_event_resp: status, id, unique_id, id_and_color. */
export const TIME_EVENT_RESP = { SIZE: 16, STATUS: 0, ID: 4, UNIQUE_ID: 8, ID_AND_COLOR: 12 } as const;
/** struct iwl_time_event_notif: timestamp, session_id, unique_id, id_and_color, action, status. */
export const TIME_EVENT_NOTIF = { SIZE: 24, TIMESTAMP: 0, SESSION_ID: 4, UNIQUE_ID: 8, ID_AND_COLOR: 12, ACTION: 16, STATUS: 20 } as const;
/** TE_BSS_STA_AGGRESSIVE_ASSOC: session protection for authentication and association. */
export const TE_BSS_STA_AGGRESSIVE_ASSOC = 0;
/** enum iwl_time_event_policy (v2) bits and TE_V2_FRAG_NONE. */
export const TE_V2 = { NOTIF_HOST_EVENT_START: 1 << 0, NOTIF_HOST_EVENT_END: 1 << 1, START_IMMEDIATELY: 1 << 11, FRAG_NONE: 0 } as const;

// ---- runtime configuration ---------------------------------------------------------------------
/** SHARED_MEM_CFG has no payload; its response is iwl_shared_mem_cfg_v1 (68 bytes) or longer on later firmware. */
export const SHARED_MEM_CFG_V1_SIZE = 68;
/** struct iwl_device_power_cmd: le16 flags, le16 reserved. */
export const DEVICE_POWER_CMD = { SIZE: 4, FLAGS: 0 } as const;
/** DEVICE_POWER_FLAGS_POWER_SAVE_ENA_MSK, DEVICE_POWER_FLAGS_CAM_MSK. */
export const DEVICE_POWER_FLAGS = { POWER_SAVE_ENA: 1 << 0, CAM: 1 << 13 } as const;
/** struct iwl_mac_power_cmd (40 bytes): id_and_color, le16 flags, le16 keep_alive_seconds, ... */
export const MAC_POWER_CMD = { SIZE: 40, ID_AND_COLOR: 0, FLAGS: 4, KEEP_ALIVE_SECONDS: 6 } as const;
/** struct iwl_lq_cmd (88 bytes). */
export const LQ_CMD = {
  SIZE: 88, STA_ID: 0, REDUCED_TPC: 1, CONTROL: 2, FLAGS: 4, MIMO_DELIM: 5, SINGLE_STREAM_ANT_MSK: 6, DUAL_STREAM_ANT_MSK: 7,
  INITIAL_RATE_INDEX: 8, AGG_TIME_LIMIT: 12, AGG_DISABLE_START_TH: 14, AGG_FRAME_CNT_LIMIT: 15, RS_TABLE: 20, RS_TABLE_SIZE: 16,
  SS_PARAMS: 84,
} as const;

/** Station IDs: the AP of a BSS station; the auxiliary station used for scanning. */
export const STA_ID_AP = 0;
export const STA_ID_AUX = 15;
/** DQA queues: IWL_MVM_DQA_CMD_QUEUE, IWL_MVM_DQA_MIN_MGMT_QUEUE, IWL_MVM_DQA_MIN_DATA_QUEUE. */
export const TXQ = { CMD: 0, MGMT: 5, DATA: 10 } as const;
/** enum iwl_mvm_tx_fifo. */
export const TX_FIFO = { BK: 0, BE: 1, VI: 2, VO: 3, CMD: 7 } as const;
