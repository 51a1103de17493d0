/**
 * The host <-> firmware command interface of the simulated 7265D firmware
 * ("mvm" API): command IDs, groups, header layouts and payload layouts. IDs,
 * headers and the ALIVE, NVM_ACCESS, RX_PHY, RX_MPDU and SCAN_COMPLETE_UMAC
 * layouts follow Linux fw/api/{alive,cmdhdr,commands,scan,rx,nvm-reg}.h (fact
 * sheet A7, A9). Context, station and TX commands keep the real IDs and the
 * fields a station needs, in a compact layout documented here: simrun's
 * firmware defines its API, like every firmware version does.
 *
 * All integers are little endian. Offsets are byte offsets into the payload
 * (after the command header). Both the device model's firmware and the driver
 * use this file; it is the published firmware API.
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

/** REPLY_ERROR (0x02) notification: u8 error_type, u8 cmd_id, le16 reserved, le16 bad_cmd_seq, le16 reserved, le32 error_info. */
export const REPLY_ERROR_SIZE = 12;

// ---- INIT flow commands -------------------------------------------------------------------
/** BT_CONFIG (0x9B): le32 mode (3 = BT coex disabled), le32 enabled_modules, le32 reserved. Response: generic status. */
export const BT_CONFIG_SIZE = 12;
export const BT_COEX_DISABLE = 3;

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
 * PHY_CONFIGURATION (0x6A), 12 bytes: le32 phy_cfg, le32 calib event
 * trigger, le32 calib flow trigger (from the image's DEF_CALIB). Response:
 * generic status. In the INIT image the firmware then sends
 * CALIB_RES_NOTIF_PHY_DB notifications and INIT_COMPLETE (within 2 s).
 */
export const PHY_CONFIGURATION = { SIZE: 12, PHY_CFG: 0, EVENT_TRIGGER: 4, FLOW_TRIGGER: 8 } as const;
/** CALIB_RES_NOTIF_PHY_DB (0x6B) notification: le16 type, le16 length, data[length]. PHY_DB (0x6C) command: same layout, sent back in the runtime image. */
export const PHY_DB = { HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 } as const;
/** PHY DB section types (iwl_phy_db_section_type). */
export const PHY_DB_TYPE = { CFG: 1, CALIB_NCH: 2, CALIB_CHG_PAPD: 4, CALIB_CHG_TXP: 5 } as const;

// ---- Scan (UMAC) -----------------------------------------------------------------------------
/**
 * SCAN_CFG (1.0x0C): le32 flags, le32 tx_chains, le32 rx_chains, u8 mac[6],
 * u8 bcast_sta_id, u8 n_channels, then n_channels u8 channel numbers.
 * Response: generic status.
 */
export const SCAN_CFG = { HDR: 20, FLAGS: 0, TX_CHAINS: 4, RX_CHAINS: 8, MAC: 12, BCAST_STA_ID: 18, N_CHANNELS: 19, CHANNELS: 20 } as const;
/**
 * SCAN_REQ_UMAC (1.0x0D): le32 flags, le32 uid, le32 ooc_priority, le16
 * general_flags (bit 1 PASSIVE, bit 4 ITER_COMPLETE notification), le16
 * active_dwell (TU), le16 passive_dwell (TU), u8 n_channels, u8 n_ssids,
 * then n_channels u8 channel numbers, then n_ssids SSID entries of 34 bytes
 * (u8 id = 0, u8 len, u8 ssid[32]) for directed probe requests.
 * Response: generic status. Then RX_PHY + RX_MPDU per received frame, then
 * SCAN_COMPLETE_UMAC.
 */
export const SCAN_REQ = {
  HDR: 20, FLAGS: 0, UID: 4, OOC_PRIORITY: 8, GENERAL_FLAGS: 12, ACTIVE_DWELL: 14, PASSIVE_DWELL: 16, N_CHANNELS: 18, N_SSIDS: 19,
  CHANNELS: 20, SSID_ENTRY: 34,
} as const;
export const SCAN_GEN_FLAGS_PASSIVE = 1 << 1;
export const SCAN_GEN_FLAGS_ITER_COMPLETE = 1 << 4;
/** SCAN_ABORT_UMAC (1.0x0E): le32 uid. Response: generic status; SCAN_COMPLETE_UMAC follows with status ABORTED. */
export const SCAN_ABORT_SIZE = 4;
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
 * PHY_CONTEXT (0x08), 24 bytes: le32 id_and_color, le32 action, le32
 * apply_time, le32 tx_param_color, u8 band (0 = 2.4 GHz, 1 = 5 GHz), u8
 * channel, u8 width (0 = 20 MHz), u8 ctrl_pos, le32 txchain_info. Response:
 * generic status.
 */
export const PHY_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, APPLY_TIME: 8, TX_PARAM_COLOR: 12, BAND: 16, CHANNEL: 17, WIDTH: 18, CTRL_POS: 19, TXCHAIN: 20 } as const;
/**
 * MAC_CONTEXT (0x28), 44 bytes: le32 id_and_color, le32 action, le32
 * mac_type (5 = BSS station), le32 tsf_id, u8 node_addr[6], le16 reserved,
 * u8 bssid_addr[6], le16 reserved, le32 filter_flags, le32 is_assoc, le32
 * assoc_id. Response: generic status.
 */
export const MAC_CONTEXT = {
  SIZE: 44, ID_AND_COLOR: 0, ACTION: 4, MAC_TYPE: 8, TSF_ID: 12, NODE_ADDR: 16, BSSID: 24, FILTER_FLAGS: 32, IS_ASSOC: 36, ASSOC_ID: 40,
} as const;
export const MAC_TYPE_BSS_STA = 5;
/**
 * BINDING_CONTEXT (0x2B), 24 bytes: le32 id_and_color, le32 action, le32
 * macs[3] (id_and_color, 0xFFFFFFFF = unused), le32 phy (id_and_color).
 * Response: generic status. The firmware transmits on a MAC only while it is
 * bound to a PHY context.
 */
export const BINDING_CONTEXT = { SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, MACS: 8, PHY: 20 } as const;
export const FW_CTXT_INVALID = 0xffffffff;
/**
 * ADD_STA (0x18), 20 bytes: u8 add_modify (0 add, 1 modify), u8 sta_id, le16
 * reserved, le32 mac_id_n_color, u8 addr[6], le16 reserved, le32
 * station_flags. Response: le32 status (1 = ADD_STA_SUCCESS).
 * REMOVE_STA (0x19): u8 sta_id, u8[3] reserved. Response: generic status.
 */
export const ADD_STA = { SIZE: 20, ADD_MODIFY: 0, STA_ID: 1, MAC_ID_N_COLOR: 4, ADDR: 8, STATION_FLAGS: 16 } as const;
export const ADD_STA_SUCCESS = 1;
export const REMOVE_STA_SIZE = 4;

// ---- TX (0x1C) --------------------------------------------------------------------------------------------
/**
 * TX command: the TFD's TBs concatenated are [command header][TX_CMD fixed
 * part][802.11 header and body]. TX_CMD fixed part, 20 bytes: le16 len
 * (802.11 frame length, header + body), le16 offload_assist, le32 tx_flags,
 * le32 rate_n_flags, u8 sta_id, u8 sec_ctl, u8 tid, u8 reserved, le32
 * life_time. TB0 = first 20 bytes; TB1 = the rest of the command and the
 * 802.11 header; further TBs = the frame body.
 *
 * Response (REPLY_TX, same cmd and sequence, bit 15 clear), 16 bytes: u8
 * frame_count (1), u8 reserved, u8 failure_rts, u8 failure_frame (retries),
 * le32 initial_rate, le16 wireless_media_time (us), le16 seq_ctl (of the
 * frame sent), le32 status (7:0: 0x01 success, 0x83 long retry limit =
 * no ACK, 0x88 dest paused / not associated). The driver reclaims TFDs up
 * to the response's index.
 */
export const TX_CMD = { SIZE: 20, LEN: 0, OFFLOAD_ASSIST: 2, TX_FLAGS: 4, RATE_N_FLAGS: 8, STA_ID: 12, SEC_CTL: 13, TID: 14, LIFE_TIME: 16 } as const;
export const TX_CMD_FLG_ACK = 1 << 3;
export const TX_RESP = { SIZE: 16, FRAME_COUNT: 0, FAILURE_RTS: 2, FAILURE_FRAME: 3, INITIAL_RATE: 4, MEDIA_TIME: 8, SEQ_CTL: 10, STATUS: 12 } as const;
export const TX_STATUS = { SUCCESS: 0x01, FAIL_LONG_LIMIT: 0x83, FAIL_DEST_PS: 0x88, FAIL_NO_BINDING: 0x8b } as const;

/** Station table: the AP station in a BSS station's MAC context. */
export const STA_ID_AP = 0;
/** Broadcast / aux station used by scan. */
export const STA_ID_AUX = 15;
/** DQA queues: 0 = commands (FIFO 7), 5 = management (FIFO 3, VO), 10 = data (FIFO 1, BE). */
export const TXQ = { CMD: 0, MGMT: 5, DATA: 10 } as const;
export const TX_FIFO = { BK: 0, BE: 1, VI: 2, VO: 3, CMD: 7 } as const;
