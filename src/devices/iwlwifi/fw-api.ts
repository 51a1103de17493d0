/**
 * The host <-> firmware command interface of the simulated 7265D firmware
 * ("mvm" API): command IDs, groups, header layouts and payload layouts. IDs,
 * headers and the ALIVE, NVM_ACCESS, RX_PHY, RX_MPDU and SCAN_COMPLETE_UMAC
 * layouts follow Linux fw/api/{alive,cmdhdr,commands,scan,rx,nvm-reg}.h (fact
 * sheet A7, A9), and so do every command and notification layout below:
 * the sizes and field orders of the 7265D's firmware API 22-29 (the versions
 * Linux's mvm selects for those images: MAC_CONTEXT_CMD_API_S_VER_1,
 * PHY_CONTEXT_CMD_API_VER_1, BINDING v1, ADD_STA_CMD_API_S_VER_7,
 * TX_CMD_API_S_VER_6 / TX_RSP_API_S_VER_3, SCAN_CONFIG_DB_CMD_API_S v1,
 * SCAN_REQUEST_CMD_UMAC_API_S_VER_1, BT_COEX_CMD_API_S_VER_6, ...).
 *
 * All integers are little endian. Offsets are byte offsets into the payload
 * (after the command header). This file is the device model's own copy; the
 * driver keeps its own definitions (src/drivers/iwlwifi/fw/api.ts).
 */

// ---- Groups and IDs -------------------------------------------------------------
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

/** Commands in the LONG group use the wide header (Linux IWL_ALWAYS_LONG_GROUP for scan). */
export function cmdGroup(cmd: number): number {
  return cmd === CMD.SCAN_CFG || cmd === CMD.SCAN_REQ_UMAC || cmd === CMD.SCAN_ABORT_UMAC
    || cmd === CMD.SCAN_COMPLETE_UMAC || cmd === CMD.SCAN_ITERATION_COMPLETE_UMAC ? GROUP.LONG : GROUP.LEGACY;
}

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(CMD).map(([k, v]) => [v, k]));
/** "NVM_ACCESS (0x88)" */
export function cmdName(cmd: number, group = 0): string {
  const n = NAMES[cmd] ?? 'UNKNOWN';
  return `${n} (${group === 0 ? '' : `${group}.`}0x${cmd.toString(16).padStart(2, '0')})`;
}

// ---- Headers ----------------------------------------------------------------------
/**
 * Host command header in the TFD. Narrow (group 0), 4 bytes: u8 cmd, u8
 * group (0), le16 sequence. Wide (group != 0), 8 bytes: u8 cmd, u8 group,
 * le16 sequence, le16 payload length, u8 reserved, u8 version.
 */
export const CMD_HDR_NARROW = 4;
export const CMD_HDR_WIDE = 8;
export function cmdHeaderSize(group: number): number {
  return group === 0 ? CMD_HDR_NARROW : CMD_HDR_WIDE;
}
/** Sequence: 7:0 TFD index, 12:8 queue, 15 unsolicited (notification). */
export const SEQ_UNSOLICITED = 0x8000;
export function seqOf(queue: number, index: number): number {
  return ((queue & 0x1f) << 8) | (index & 0xff);
}
export function seqQueue(seq: number): number { return (seq >>> 8) & 0x1f; }
export function seqIndex(seq: number): number { return seq & 0xff; }

/**
 * RX packet in a receive buffer: le32 len_n_flags (13:0 = 4-byte header +
 * payload length; 21:16 RX queue), then the narrow header (u8 cmd, u8 group,
 * le16 sequence), then the payload. Next packet at offset + ALIGN(len + 4, 64).
 */
export const RX_PKT_HDR = 8;

/**
 * Generic command response: le32 status (0 = success). reclaim indices in
 * the driver wrap at the ring size (256).
 */
export const STATUS_OK = 0;
/** Status of a command the firmware does not know / refuses. */
export const STATUS_UNSUPPORTED = 0x1;
export const STATUS_BAD_PARAM = 0x2;

// ---- ALIVE (0x01) v3, 68 bytes --------------------------------------------------------
export const ALIVE_V3 = {
  SIZE: 68,
  STATUS: 0, // le16: 0xCAFE = OK
  FLAGS: 2, // le16
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
export const ALIVE_STATUS_OK = 0xcafe;
/** Status simrun's firmware reports when its self-check of the loaded image fails. */
export const ALIVE_STATUS_ERR = 0xdead;

/** INIT_COMPLETE (0x04) notification: le32 status (0 = OK). */
export const INIT_COMPLETE_SIZE = 4;

/**
 * REPLY_ERROR (0x02) notification, 20 bytes (struct iwl_error_resp): le32
 * error_type (FW_ERR_*), u8 cmd_id at 4, u8 reserved, le16 bad_cmd_seq_num
 * at 6, le32 error_service at 8 (only for FW_ERR_SERVICE), le64 timestamp at
 * 12 (TSF, us). The firmware sends it as a notification (sequence bit 15)
 * instead of a response: the command itself is never answered.
 */
export const REPLY_ERROR = { SIZE: 20, ERROR_TYPE: 0, CMD_ID: 4, BAD_CMD_SEQ: 6, ERROR_SERVICE: 8, TIMESTAMP: 12 } as const;
/** FW_ERR_* error types. */
export const FW_ERR = { UNKNOWN_CMD: 0x0, INVALID_CMD_PARAM: 0x1, SERVICE: 0x2 } as const;

// ---- INIT flow commands -------------------------------------------------------------------
/** BT_CONFIG (0x9B), 8 bytes (struct iwl_bt_coex_cmd, BT_COEX_CMD_API_S_VER_6): le32 mode, le32 enabled_modules. Response: generic status. */
export const BT_CONFIG = { SIZE: 8, MODE: 0, ENABLED_MODULES: 4 } as const;
/** enum iwl_bt_coex_mode. */
export const BT_COEX_MODE = { DISABLE: 0, NW: 1, BT: 2, WIFI: 3 } as const;

/**
 * NVM_ACCESS (0x88) command, 8 bytes: u8 op_code (0 read, 1 write), u8
 * target (0 = NVM), le16 type (section), le16 offset (bytes), le16 length
 * (bytes). Response: le16 offset, le16 length (bytes returned; fewer than
 * asked = end of section), le16 type, le16 status (0 = OK, 1 = bad section),
 * then `length` data bytes. The driver reads sections in chunks of
 * NVM_CHUNK_SIZE until a short read.
 */
export const NVM_ACCESS = { SIZE: 8, OP: 0, TARGET: 1, TYPE: 2, OFFSET: 4, LENGTH: 6 } as const;
export const NVM_ACCESS_RESP = { HDR: 8, OFFSET: 0, LENGTH: 2, TYPE: 4, STATUS: 6, DATA: 8 } as const;
export const NVM_OP_READ = 0;
export const NVM_OP_WRITE = 1;
export const NVM_CHUNK_SIZE = 2048;
export const NVM_READ_OK = 0;
export const NVM_READ_BAD_SECTION = 1;
/** NVM section types of the 7000 family the driver reads (HW is NVM_HW_SECTION_NUM_FAMILY_7000 = 0). */
export const NVM_SECTION = { HW: 0, SW: 1, CALIBRATION: 4, PRODUCTION: 5 } as const;
/**
 * Section contents as the 7000 family stores them (Linux iwl-nvm-parse.c,
 * enum nvm_offsets; byte offsets here, Linux counts 16-bit words).
 *
 * HW section: the MAC address at word 0x15 (byte 0x2A), stored as three
 * little-endian 16-bit words, so each byte pair is swapped: address
 * 00:11:22:33:44:55 is stored as bytes 11 00 33 22 55 44 ("214365").
 *
 * SW section (it starts at NVM word 0x1C0): word 0 NVM version, word 1 radio
 * config, word 2 SKU, word 3 number of MAC addresses, and from word 0x20
 * (NVM word 0x1E0, byte 0x40 of the section) one le16 flag word per channel
 * in NVM_CHANNELS order.
 */
export const NVM_HW = { HW_ADDR: 0x2a, SIZE: 0x300 } as const;
export const NVM_SW = { VERSION: 0, RADIO_CFG: 2, SKU: 4, N_HW_ADDRS: 6, CHANNELS: 0x40 } as const;
/** enum nvm_sku_bits. */
export const NVM_SKU = { BAND_24: 1 << 0, BAND_52: 1 << 1, N: 1 << 2, AC: 1 << 3, MIMO_DISABLE: 1 << 5 } as const;
/** Radio config word of the 7000 family (NVM_RF_CFG_*_MSK): dash 1:0, step 3:2, type 5:4, pnum 7:6, TX antennas 11:8, RX antennas 15:12. */
export const NVM_RF_CFG = { DASH_SHIFT: 0, STEP_SHIFT: 2, TYPE_SHIFT: 4, PNUM_SHIFT: 6, TX_ANT_SHIFT: 8, RX_ANT_SHIFT: 12 } as const;
/** enum iwl_nvm_channel_flags (the ones the model sets). */
export const NVM_CHANNEL_VALID = 1 << 0;
export const NVM_CHANNEL_IBSS = 1 << 1;
export const NVM_CHANNEL_ACTIVE = 1 << 3;
export const NVM_CHANNEL_RADAR = 1 << 4;
export const NVM_CHANNEL_20MHZ = 1 << 8;
/** The 7000 family's NVM channel list (iwl_nvm_channels). */
export const NVM_CHANNELS: readonly number[] = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140, 144,
  149, 153, 157, 161, 165,
];

/** TX_ANT_CONFIG (0x98): le32 valid TX antennas (bit 0 A, 1 B, 2 C). Response: generic status. */
export const TX_ANT_CONFIG_SIZE = 4;
/**
 * PHY_CONFIGURATION (0x6A), 12 bytes (struct iwl_phy_cfg_cmd_v1): le32
 * phy_cfg, then struct iwl_calib_ctrl { le32 flow_trigger, le32
 * event_trigger } (from the image's DEF_CALIB). Response: generic status. In
 * the INIT image the firmware then sends CALIB_RES_NOTIF_PHY_DB
 * notifications and INIT_COMPLETE (within 2 s).
 */
export const PHY_CONFIGURATION = { SIZE: 12, PHY_CFG: 0, FLOW_TRIGGER: 4, EVENT_TRIGGER: 8 } as const;
/** CALIB_RES_NOTIF_PHY_DB (0x6B) notification: le16 type, le16 length, data[length]. PHY_DB (0x6C) command: same layout, sent back in the runtime image. */
export const PHY_DB = { HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 } as const;
/** PHY DB section types (iwl_phy_db_section_type). */
export const PHY_DB_TYPE = { CFG: 1, CALIB_NCH: 2, CALIB_CHG_PAPD: 4, CALIB_CHG_TXP: 5 } as const;

// ---- Scan (UMAC) -----------------------------------------------------------------------------
/**
 * SCAN_CFG (1.0x0C), struct iwl_scan_config_v1 (SCAN_CONFIG_DB_CMD_API_S):
 * le32 flags, le32 tx_chains, le32 rx_chains, le32 legacy_rates, le32
 * out_of_channel_time, le32 suspend_time, struct iwl_scan_dwell { u8 active,
 * passive, fragmented, extended } at 24, u8 mac_addr[6] at 28, u8
 * bcast_sta_id at 34, u8 channel_flags at 35, u8 channel_array[] at 36 (the
 * driver sizes it by N_SCAN_CHANNELS; unused entries are 0). Response:
 * generic status.
 */
export const SCAN_CFG = {
  HDR: 36, FLAGS: 0, TX_CHAINS: 4, RX_CHAINS: 8, LEGACY_RATES: 12, OUT_OF_CHANNEL_TIME: 16, SUSPEND_TIME: 20, DWELL_ACTIVE: 24,
  DWELL_PASSIVE: 25, DWELL_FRAGMENTED: 26, DWELL_EXTENDED: 27, MAC: 28, BCAST_STA_ID: 34, CHANNEL_FLAGS: 35, CHANNELS: 36,
} as const;
/**
 * SCAN_REQ_UMAC (1.0x0D), struct iwl_scan_req_umac with the v1 union
 * (SCAN_REQUEST_CMD_UMAC_API_S_VER_1): le32 flags, le32 uid, le32
 * ooc_priority, le16 general_flags, u8 reserved, u8 scan_start_mac_id, u8
 * extended/active/passive/fragmented dwell (TU) at 16-19, le32 max_out_time,
 * le32 suspend_time, le32 scan_priority, struct iwl_scan_umac_chan_param {
 * u8 flags, u8 count, le16 reserved } at 32, then at 36 `count` channel
 * entries of 8 bytes (struct iwl_scan_channel_cfg_umac: le32 flags = bitmap
 * of the direct_scan SSIDs to probe for, u8 channel_num, u8 iter_count, le16
 * iter_interval), then the tail (struct iwl_scan_req_umac_tail): 2 schedule
 * entries of 4 bytes, le16 delay, le16 reserved, the probe request template
 * (struct iwl_scan_probe_req_v1: segments mac_header, band_data[2] (0 = 2.4
 * GHz, 1 = 5 GHz), common_data as { le16 offset, le16 len } into u8
 * buf[512]) and direct_scan[20] SSID entries of 34 bytes (u8 id = 0, u8 len,
 * u8 ssid[32]). Response: generic status. Then RX_PHY + RX_MPDU per received
 * frame, then SCAN_COMPLETE_UMAC.
 *
 * The firmware builds each probe request from the template: the mac_header
 * segment (802.11 header and an empty SSID element, whose SSID it fills in),
 * the band's segment, then common_data; it sets the sequence number.
 */
export const SCAN_REQ = {
  FLAGS: 0, UID: 4, OOC_PRIORITY: 8, GENERAL_FLAGS: 12, SCAN_START_MAC_ID: 15, EXTENDED_DWELL: 16, ACTIVE_DWELL: 17,
  PASSIVE_DWELL: 18, FRAGMENTED_DWELL: 19, MAX_OUT_TIME: 20, SUSPEND_TIME: 24, SCAN_PRIORITY: 28, CHANNEL_FLAGS: 32, N_CHANNELS: 33,
  CHANNELS: 36, CHANNEL_ENTRY: 8, CH_FLAGS: 0, CH_NUM: 4, CH_ITER_COUNT: 5, CH_ITER_INTERVAL: 6,
} as const;
/**
 * SCAN_REQ_UMAC v7 (SCAN_REQUEST_CMD_UMAC_API_S_VER_7), spoken by firmware
 * with the ADAPTIVE_DWELL API flag. The first 16 bytes are as v1; then u8
 * active_dwell, passive_dwell, fragmented_dwell, adwell_default_n_aps,
 * adwell_default_n_aps_social, reserved, le16 adwell_max_budget (TU), le32
 * max_out_time[2], le32 suspend_time[2] (LB, HB LMAC), le32 scan_priority,
 * the channel params { u8 flags, u8 count, le16 reserved } at 44 and the
 * channel entries at 48. The tail is the v1 tail.
 */
export const SCAN_REQ_V7 = {
  ACTIVE_DWELL: 16, PASSIVE_DWELL: 17, FRAGMENTED_DWELL: 18, ADWELL_DEFAULT_N_APS: 19, ADWELL_DEFAULT_N_APS_SOCIAL: 20,
  ADWELL_MAX_BUDGET: 22, MAX_OUT_TIME: 24, SUSPEND_TIME: 32, SCAN_PRIORITY: 40, CHANNEL_FLAGS: 44, N_CHANNELS: 45, CHANNELS: 48,
} as const;
/** struct iwl_scan_req_umac_tail (v1) offsets, from the end of the channel entries; 1220 bytes. */
export const SCAN_REQ_TAIL = {
  SIZE: 1220, SCHEDULE: 0, DELAY: 8, PREQ: 12, PREQ_MAC_HEADER: 12, PREQ_BAND_DATA: 16, PREQ_COMMON_DATA: 24, PREQ_BUF: 28,
  PREQ_BUF_SIZE: 512, DIRECT_SCAN: 540, SSID_ENTRY: 34, PROBE_OPTION_MAX: 20,
} as const;
/** enum iwl_umac_scan_general_flags (v1). */
export const SCAN_GEN_FLAGS = {
  PERIODIC: 1 << 0, OVER_BT: 1 << 1, PASS_ALL: 1 << 2, PASSIVE: 1 << 3, PRE_CONNECT: 1 << 4, ITER_COMPLETE: 1 << 5,
  MULTIPLE_SSID: 1 << 6, FRAGMENTED: 1 << 7, RRM_ENABLED: 1 << 8, MATCH: 1 << 9, EXTENDED_DWELL: 1 << 10,
  /** v7 and later: end a channel's active dwell early once adwell_default_n_aps APs answered, within adwell_max_budget. */
  ADAPTIVE_DWELL: 1 << 13,
} as const;
/** SCAN_ABORT_UMAC (1.0x0E), struct iwl_umac_scan_abort: le32 uid, le32 flags. Response: generic status; SCAN_COMPLETE_UMAC follows with status ABORTED. */
export const SCAN_ABORT = { SIZE: 8, UID: 0, FLAGS: 4 } as const;
/** SCAN_COMPLETE_UMAC (1.0x0F) notification, 16 bytes: le32 uid, u8 last_schedule, u8 last_iter, u8 status, u8 ebs_status, le32 time_from_last_iter, le32 reserved. */
export const SCAN_COMPLETE = { SIZE: 16, UID: 0, LAST_SCHEDULE: 4, LAST_ITER: 5, STATUS: 6, EBS_STATUS: 7, TIME: 8 } as const;
export const SCAN_STATUS_DONE = 1;
export const SCAN_STATUS_ABORTED = 2;
/** SCAN_ITERATION_COMPLETE_UMAC (1.0xB5): le32 uid, u8 scanned_channels, u8 status, u8 bt_status, u8 last_channel, le64 start_tsf. */
export const SCAN_ITER_COMPLETE_SIZE = 16;

// ---- RX (A9) ------------------------------------------------------------------------------------
/**
 * RX_PHY (0xC0) notification, 68 bytes (iwl_rx_phy_info): u8
 * non_cfg_phy_cnt, u8 cfg_phy_cnt, u8 stat_id, u8 reserved, le32
 * system_timestamp (us), le64 timestamp (TSF), le32 beacon_time_stamp, le16
 * phy_flags (bit 0 = 2.4 GHz band), le16 channel, le32 non_cfg_phy[8]
 * (word 1: energy A 7:0, B 15:8, C 23:16 as -dBm), le32 rate_n_flags, le32
 * byte_count, u8 mac_active_msk, u8 mac_context_info, le16 frame_time.
 */
export const RX_PHY = {
  SIZE: 68, NON_CFG_PHY_CNT: 0, SYSTEM_TIMESTAMP: 4, TIMESTAMP: 8, BEACON_TIME_STAMP: 16, PHY_FLAGS: 20, CHANNEL: 22,
  NON_CFG_PHY: 24, ENERGY_WORD: 28, RATE_N_FLAGS: 56, BYTE_COUNT: 60, FRAME_TIME: 66,
} as const;
export const RX_PHY_FLAGS_BAND_24 = 1 << 0;
/**
 * RX_MPDU (0xC1): le16 byte_count, le16 assist, then the 802.11 frame
 * (byte_count bytes, no FCS), then le32 rx_pkt_status. The driver drops the
 * frame unless CRC_OK and OVERRUN_OK are both set. The RX_PHY that precedes
 * it describes it.
 */
export const RX_MPDU = { HDR: 4, BYTE_COUNT: 0, ASSIST: 2, FRAME: 4 } as const;
export const RX_MPDU_STATUS_CRC_OK = 1 << 0;
export const RX_MPDU_STATUS_OVERRUN_OK = 1 << 1;
/** rate_n_flags: legacy rates carry the PLCP rate in 7:0; bit 9 CCK. 1 Mbps CCK = 10 | CCK; 6 Mbps OFDM = 13. */
export const RATE_MCS_CCK = 1 << 9;
export const RATE_PLCP_1M = 10;
export const RATE_PLCP_6M = 13;

// ---- Contexts and stations --------------------------------------------------------------------------
export const FW_CTXT_ACTION = { ADD: 1, MODIFY: 2, REMOVE: 3 } as const;
/** id_and_color: id 7:0, color 15:8. */
export function idAndColor(id: number, color: number): number { return ((color & 0xff) << 8) | (id & 0xff); }
/**
 * PHY_CONTEXT (0x08), 36 bytes (PHY_CONTEXT_CMD_API_VER_1): le32
 * id_and_color, le32 action, le32 apply_time, le32 tx_param_color, channel
 * info { u8 band (PHY_BAND_5 = 0, PHY_BAND_24 = 1), u8 channel, u8 width
 * (0 = 20 MHz), u8 ctrl_pos } at 16, le32 txchain_info at 20, le32
 * rxchain_info at 24, le32 acquisition_data, le32 dsp_cfg_flags. Response:
 * generic status.
 */
export const PHY_CONTEXT = {
  SIZE: 36, ID_AND_COLOR: 0, ACTION: 4, APPLY_TIME: 8, TX_PARAM_COLOR: 12, BAND: 16, CHANNEL: 17, WIDTH: 18, CTRL_POS: 19, TXCHAIN: 20,
  RXCHAIN: 24, ACQUISITION_DATA: 28, DSP_CFG_FLAGS: 32,
} as const;
export const PHY_BAND_5 = 0;
export const PHY_BAND_24 = 1;
/**
 * MAC_CONTEXT (0x28), 148 bytes (MAC_CONTEXT_CMD_API_S_VER_1): le32
 * id_and_color, le32 action, le32 mac_type (5 = BSS station), le32 tsf_id,
 * u8 node_addr[6], le16 reserved, u8 bssid_addr[6], le16 reserved, le32
 * cck_rates at 32, ofdm_rates, protection_flags, cck_short_preamble,
 * short_slot, filter_flags at 52, qos_flags at 56, 5 x iwl_ac_qos { le16
 * cw_min, le16 cw_max, u8 aifsn, u8 fifos_mask, le16 edca_txop } at 60, then
 * the type's data at 100 (48-byte union); for a station
 * (iwl_mac_data_sta): le32 is_assoc, le32 dtim_time, le64 dtim_tsf, le32 bi,
 * le32 bi_reciprocal, le32 dtim_interval, le32 dtim_reciprocal, le32
 * listen_interval, le32 assoc_id at 136, le32 assoc_beacon_arrive_time.
 * Response: generic status.
 */
export const MAC_CONTEXT = {
  SIZE: 148, ID_AND_COLOR: 0, ACTION: 4, MAC_TYPE: 8, TSF_ID: 12, NODE_ADDR: 16, BSSID: 24, CCK_RATES: 32, OFDM_RATES: 36,
  PROTECTION_FLAGS: 40, CCK_SHORT_PREAMBLE: 44, SHORT_SLOT: 48, FILTER_FLAGS: 52, QOS_FLAGS: 56, AC: 60, AC_ENTRY: 8, DATA: 100,
  IS_ASSOC: 100, DTIM_TIME: 104, DTIM_TSF: 108, BI: 116, BI_RECIPROCAL: 120, DTIM_INTERVAL: 124, DTIM_RECIPROCAL: 128,
  LISTEN_INTERVAL: 132, ASSOC_ID: 136, ASSOC_BEACON_ARRIVE_TIME: 140,
} as const;
export const MAC_TYPE_BSS_STA = 5;
/**
 * BINDING_CONTEXT (0x2B), 24 bytes (BINDING_CMD_API_S_VER_1): le32
 * id_and_color, le32 action, le32 macs[3] (id_and_color, 0xFFFFFFFF =
 * unused), le32 phy (id_and_color). Response: generic status. The firmware
 * transmits on a MAC only while it is bound to a PHY context.
 */
export const BINDING_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, MACS: 8, PHY: 20 } as const;
/**
 * BINDING_CONTEXT v2 (BINDING_CMD_API_S_VER_2, firmware with capability
 * BINDING_CDB_SUPPORT): v1 plus le32 lmac_id at 24, 28 bytes. lmac_id is 0
 * (IWL_LMAC_24G_INDEX) unless the firmware also has CDB_SUPPORT and the
 * PHY context is on 5 GHz, where it is 1 (IWL_LMAC_5G_INDEX).
 */
export const BINDING_CONTEXT_V2 = { SIZE: 28, LMAC_ID: 24 } as const;
export const LMAC_24G_INDEX = 0;
export const LMAC_5G_INDEX = 1;
export const FW_CTXT_INVALID = 0xffffffff;
/**
 * ADD_STA (0x18), 44 bytes (struct iwl_mvm_add_sta_cmd_v7): u8 add_modify
 * (0 add, 1 modify), u8 awake_acs, le16 tid_disable_tx, le32
 * mac_id_n_color at 4, u8 addr[6] at 8, le16 reserved, u8 sta_id at 16, u8
 * modify_mask, le16 reserved, le32 station_flags at 20, le32
 * station_flags_msk, u8 add_immediate_ba_tid, u8 remove_immediate_ba_tid,
 * le16 add_immediate_ba_ssn, le16 sleep_tx_count, le16 sleep_state_flags,
 * le16 assoc_id at 36, le16 beamform_flags, le32 tfd_queue_msk at 40.
 * Response: le32 status (ADD_STA_*).
 * REMOVE_STA (0x19): u8 sta_id, u8[3] reserved. Response: generic status.
 */
export const ADD_STA = {
  SIZE: 44, ADD_MODIFY: 0, AWAKE_ACS: 1, TID_DISABLE_TX: 2, MAC_ID_N_COLOR: 4, ADDR: 8, STA_ID: 16, MODIFY_MASK: 17, STATION_FLAGS: 20,
  STATION_FLAGS_MSK: 24, ADD_IMMEDIATE_BA_TID: 28, REMOVE_IMMEDIATE_BA_TID: 29, ADD_IMMEDIATE_BA_SSN: 30, SLEEP_TX_COUNT: 32,
  SLEEP_STATE_FLAGS: 34, ASSOC_ID: 36, BEAMFORM_FLAGS: 38, TFD_QUEUE_MSK: 40,
} as const;
/**
 * ADD_STA v10 (struct iwl_mvm_add_sta_cmd, ADD_STA_CMD_API_S_VER_10), spoken
 * by firmware with the STA_TYPE API flag: 48 bytes. sleep_state_flags shrinks
 * to u8 at 34 and u8 station_type (enum iwl_sta_type) takes byte 35; le16
 * rx_ba_window at 44, u8 sp_length at 46, u8 uapsd_acs at 47 are appended.
 */
export const ADD_STA_V10 = { SIZE: 48, SLEEP_STATE_FLAGS: 34, STATION_TYPE: 35, RX_BA_WINDOW: 44, SP_LENGTH: 46, UAPSD_ACS: 47 } as const;
/** enum iwl_sta_type. */
export const STA_TYPE = { LINK: 0, GENERAL_PURPOSE: 1, MULTICAST: 2, TDLS_LINK: 3, AUX_ACTIVITY: 4 } as const;
export const ADD_STA_SUCCESS = 1;
export const REMOVE_STA_SIZE = 4;

// ---- TX (0x1C) --------------------------------------------------------------------------------------------
/**
 * TX command: the TFD's TBs concatenated are [command header][struct
 * iwl_tx_cmd, 56 bytes][802.11 header and body]. iwl_tx_cmd
 * (TX_CMD_API_S_VER_6): le16 len (frame length), le16 offload_assist, le32
 * tx_flags, scratch { u8 try_cnt, u8 btkill_cnt, le16 reserved }, le32
 * rate_n_flags at 12, u8 sta_id at 16, u8 sec_ctl, u8 initial_rate_index,
 * u8 reserved, u8 key[16] at 20, le32 reserved, le32 life_time at 40, le32
 * dram_lsb_ptr, u8 dram_msb_ptr, u8 rts_retry_limit at 49, u8
 * data_retry_limit at 50, u8 tid_tspec, le16 pm_frame_timeout, le16
 * reserved; the frame at 56.
 *
 * Response (REPLY_TX, same cmd and sequence, bit 15 clear), struct
 * iwl_mvm_tx_resp_v3 with one agg_tx_status and the SCD SSN after it, 44
 * bytes: u8 frame_count (1), u8 bt_kill_count, u8 failure_rts, u8
 * failure_frame (retries), le32 initial_rate, le16 wireless_media_time (us),
 * u8 pa_status, u8 pa_integ_res_a/b/c[3], le16 measurement_req_id, u8
 * reduced_tpc, u8 reserved, le32 tfd_info at 24, le16 seq_ctl at 28, le16
 * byte_cnt at 30, u8 tlc_info, u8 ra_tid at 33 (TID 3:0, station 7:4), le16
 * frame_ctrl at 34, agg_tx_status { le16 status (7:0: 0x01 success, 0x83
 * long retry limit = no ACK, 0x88 dest paused, 0x8B station invalid), le16
 * sequence } at 36, le32 scd_ssn at 40 (11:0: the TFD index after this
 * frame; the driver reclaims up to it).
 */
export const TX_CMD = {
  SIZE: 56, LEN: 0, OFFLOAD_ASSIST: 2, TX_FLAGS: 4, TRY_CNT: 8, BTKILL_CNT: 9, RATE_N_FLAGS: 12, STA_ID: 16, SEC_CTL: 17,
  INITIAL_RATE_INDEX: 18, KEY: 20, LIFE_TIME: 40, DRAM_LSB_PTR: 44, DRAM_MSB_PTR: 48, RTS_RETRY_LIMIT: 49, DATA_RETRY_LIMIT: 50,
  TID_TSPEC: 51, PM_FRAME_TIMEOUT: 52, HDR: 56,
} as const;
export const TX_CMD_FLG_ACK = 1 << 3;
export const TX_CMD_FLG_SEQ_CTL = 1 << 13;
export const TX_CMD_LIFE_TIME_INFINITE = 0xffffffff;
export const TX_RESP = {
  SIZE: 44, FRAME_COUNT: 0, BT_KILL_COUNT: 1, FAILURE_RTS: 2, FAILURE_FRAME: 3, INITIAL_RATE: 4, MEDIA_TIME: 8, PA_STATUS: 10,
  MEASUREMENT_REQ_ID: 20, REDUCED_TPC: 22, TFD_INFO: 24, SEQ_CTL: 28, BYTE_CNT: 30, TLC_INFO: 32, RA_TID: 33, FRAME_CTRL: 34,
  STATUS: 36, SEQUENCE: 38, SCD_SSN: 40,
} as const;
export const TX_STATUS = { SUCCESS: 0x01, FAIL_LONG_LIMIT: 0x83, FAIL_DEST_PS: 0x88, FAIL_STA_INVALID: 0x8b } as const;
/** rate_n_flags antenna bits (RATE_MCS_ANT_POS 14). */
export const RATE_MCS_ANT_A = 1 << 14;
export const RATE_MCS_ANT_B = 1 << 15;

// ---- Runtime configuration commands ---------------------------------------------------------------------------
/**
 * SHARED_MEM_CFG (0x8C): no payload. Response: struct iwl_shared_mem_cfg_v1
 * (SHARED_MEM_ALLOC_API_S_VER_1), 68 bytes: le32 shared_mem_addr, le32
 * shared_mem_size, le32 sample_buff_addr, le32 sample_buff_size, le32
 * txfifo_addr, le32 txfifo_size[8], le32 rxfifo_size[2], le32 page_buff_addr,
 * le32 page_buff_size. Pre-8000 devices report 0 for the shared memory and
 * sample buffer addresses (MARBH is not accessible).
 */
export const SHARED_MEM_CFG = {
  SIZE: 68, SHARED_MEM_ADDR: 0, SHARED_MEM_SIZE: 4, SAMPLE_BUFF_ADDR: 8, SAMPLE_BUFF_SIZE: 12, TXFIFO_ADDR: 16, TXFIFO_SIZE: 20,
  RXFIFO_SIZE: 52, PAGE_BUFF_ADDR: 60, PAGE_BUFF_SIZE: 64,
} as const;
/** POWER_TABLE (0x77), struct iwl_device_power_cmd: le16 flags (bit 0 POWER_SAVE_ENA, bit 13 CAM), le16 reserved. Response: generic status. */
export const POWER_TABLE = { SIZE: 4, FLAGS: 0 } as const;
export const DEVICE_POWER_FLAGS = { POWER_SAVE_ENA: 1 << 0, CAM: 1 << 13 } as const;
/**
 * MAC_PM_POWER_TABLE (0xA9), struct iwl_mac_power_cmd, 40 bytes: le32
 * id_and_color, le16 flags (bit 0 POWER_SAVE_ENA), le16 keep_alive_seconds,
 * le32 rx/tx_data_timeout, le32 rx/tx_data_timeout_uapsd, then byte fields
 * up to limited_ps_threshold and a reserved byte. Response: generic status.
 */
export const MAC_PM_POWER_TABLE = { SIZE: 40, ID_AND_COLOR: 0, FLAGS: 4, KEEP_ALIVE_SECONDS: 6 } as const;
/**
 * TIME_EVENT (0x29), struct iwl_time_event_cmd (TIME_EVENT_CMD_API_S_VER_2),
 * 36 bytes: le32 id_and_color (MAC), le32 action, le32 id (type), le32
 * apply_time, le32 max_delay, le32 depends_on, le32 interval, le32 duration
 * (TU), u8 repeat, u8 max_frags, le16 policy. Response (struct
 * iwl_time_event_resp, 16 bytes): le32 status, le32 id, le32 unique_id, le32
 * id_and_color. TIME_EVENT_NOTIFICATION (0x2A, struct iwl_time_event_notif,
 * 24 bytes): le32 timestamp, le32 session_id, le32 unique_id, le32
 * id_and_color, le32 action (bit 0 start, bit 1 end), le32 status (1 = ok).
 */
export const TIME_EVENT = {
  SIZE: 36, ID_AND_COLOR: 0, ACTION: 4, ID: 8, APPLY_TIME: 12, MAX_DELAY: 16, DEPENDS_ON: 20, INTERVAL: 24, DURATION: 28, REPEAT: 32,
  MAX_FRAGS: 33, POLICY: 34,
} as const;
export const TIME_EVENT_RESP = { SIZE: 16, STATUS: 0, ID: 4, UNIQUE_ID: 8, ID_AND_COLOR: 12 } as const;
export const TIME_EVENT_NOTIF = { SIZE: 24, TIMESTAMP: 0, SESSION_ID: 4, UNIQUE_ID: 8, ID_AND_COLOR: 12, ACTION: 16, STATUS: 20 } as const;
export const TE_NOTIF_HOST_EVENT_START = 1 << 0;
export const TE_NOTIF_HOST_EVENT_END = 1 << 1;
/**
 * LQ (0x4E), struct iwl_lq_cmd, 88 bytes: u8 sta_id, u8 reduced_tpc, le16
 * control, u8 flags, u8 mimo_delim, u8 single_stream_ant_msk, u8
 * dual_stream_ant_msk, u8 initial_rate_index[4], le16 agg_time_limit, u8
 * agg_disable_start_th, u8 agg_frame_cnt_limit, le32 reserved2, le32
 * rs_table[16] at 20, le32 ss_params at 84. Response: generic status.
 */
export const LQ = { SIZE: 88, STA_ID: 0, FLAGS: 4, SINGLE_STREAM_ANT_MSK: 6, RS_TABLE: 20, RS_TABLE_ENTRIES: 16, SS_PARAMS: 84 } as const;
/**
 * SF_CFG (0xD1), struct iwl_sf_cfg_cmd, 92 bytes: le32 state (0 long
 * delay, 1 full on, 2 uninit, 3 init off), le32 watermark[2], le32
 * long_delay_timeouts[5][2], le32 full_on_timeouts[5][2]. Response: generic
 * status.
 */
export const SF_CFG = { SIZE: 92, STATE: 0, WATERMARK: 4, LONG_DELAY_TIMEOUTS: 12, FULL_ON_TIMEOUTS: 52 } as const;

/** Station table: the AP station in a BSS station's MAC context. */
export const STA_ID_AP = 0;
/** Broadcast / aux station used by scan. */
export const STA_ID_AUX = 15;
/** DQA queues: 0 = commands (FIFO 7), 5 = management (FIFO 3, VO), 10 = data (FIFO 1, BE). */
export const TXQ = { CMD: 0, MGMT: 5, DATA: 10 } as const;
export const TX_FIFO = { BK: 0, BE: 1, VI: 2, VO: 3, CMD: 7 } as const;
