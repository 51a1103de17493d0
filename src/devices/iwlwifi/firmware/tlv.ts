/**
 * The iwlwifi TLV ucode file format (Linux fw/file.h, iwl-drv.c), as used by
 * the 7000 family (`iwlwifi-7265D-<api>.ucode`), and the typed model of a
 * parsed image.
 *
 * File layout (all integers little endian):
 *
 *   0   le32  zero         0 (a non-zero first word is the older v1/v2 layout)
 *   4   le32  magic        0x0A4C5749 ("IWL\n")
 *   8   u8[64] human-readable description, NUL padded
 *   72  le32  ver          major 31:24, minor 23:16, API 15:8, serial 7:0
 *   76  le32  build
 *   80  u8[8] ignored
 *   88  TLVs: le32 type, le32 length, `length` bytes of data, zero padding to
 *       a 4-byte boundary (the padding is not counted in `length`).
 *
 * Section TLVs (SEC_*, SECURE_SEC_*) carry le32 SRAM destination + the bytes
 * to put there. The older INST/DATA/INIT/INIT_DATA/WOWLAN_* forms carry only
 * bytes; their destination is implied (instruction memory at 0x000000, data
 * memory at 0x800000: IWLAGN_RTC_{INST,DATA}_LOWER_BOUND).
 *
 * Capability and API-flag TLVs carry { le32 index, le32 bit mask }: bit b of
 * the mask is flag number `32 * index + b`. The driver knows 128 of each
 * (index 0-3).
 */

/** Bytes in the TLV file header. */
export const HEADER_SIZE = 88;
/** Bytes in a TLV header (type + length). */
export const TLV_HEADER_SIZE = 8;
/** `magic` of a TLV ucode file: "IWL\n" read as a le32. */
export const TLV_UCODE_MAGIC = 0x0a4c5749;
/** Size of the human-readable description in the header. */
export const HUMAN_READABLE_SIZE = 64;

/** Header field offsets. */
export const HDR = {
  ZERO: 0,
  MAGIC: 4,
  HUMAN_READABLE: 8,
  VER: 72,
  BUILD: 76,
  IGNORE: 80,
} as const;

/** TLV types (enum iwl_ucode_tlv_type) that this model knows. */
export const TLV = {
  INST: 1,
  DATA: 2,
  INIT: 3,
  INIT_DATA: 4,
  BOOT: 5,
  WOWLAN_INST: 16,
  WOWLAN_DATA: 17,
  FLAGS: 18,
  SEC_RT: 19,
  SEC_INIT: 20,
  SEC_WOWLAN: 21,
  DEF_CALIB: 22,
  PHY_SKU: 23,
  SECURE_SEC_RT: 24,
  SECURE_SEC_INIT: 25,
  SECURE_SEC_WOWLAN: 26,
  NUM_OF_CPU: 27,
  API_CHANGES_SET: 29,
  ENABLED_CAPABILITIES: 30,
  N_SCAN_CHANNELS: 31,
  PAGING: 32,
  FW_VERSION: 36,
  CMD_VERSIONS: 48,
} as const;
export type TlvType = (typeof TLV)[keyof typeof TLV];

const TLV_NAME_TABLE: Record<number, string> = Object.fromEntries(
  Object.entries(TLV).map(([name, type]) => [type, name]),
);

/** "SEC_RT (19)" for a known type, "type 99" otherwise. */
export function tlvName(type: number): string {
  const n = TLV_NAME_TABLE[type];
  return n === undefined ? `type ${type}` : `${n} (${type})`;
}

/** Which image a section belongs to. */
export type ImageKind = 'init' | 'runtime' | 'wowlan';
export const IMAGE_KINDS: readonly ImageKind[] = ['init', 'runtime', 'wowlan'];

/**
 * How a section TLV is written: `sec` (SEC_RT/INIT/WOWLAN, 19-21, the form
 * 7265D firmware uses), `secure` (SECURE_SEC_*, 24-26, same layout) or
 * `legacy` (INST/DATA/INIT/INIT_DATA/WOWLAN_INST/WOWLAN_DATA, no destination
 * word: the destination is LEGACY_INST_DEST or LEGACY_DATA_DEST).
 */
export type SectionForm = 'sec' | 'secure' | 'legacy';

/** Destination of legacy instruction sections (IWLAGN_RTC_INST_LOWER_BOUND). */
export const LEGACY_INST_DEST = 0x000000;
/** Destination of legacy data sections (IWLAGN_RTC_DATA_LOWER_BOUND). */
export const LEGACY_DATA_DEST = 0x800000;

/** What each section TLV type means. */
export interface SectionTlvInfo {
  kind: ImageKind;
  form: SectionForm;
  /** Implied destination (legacy forms only). */
  dest?: number;
}
export const SECTION_TLVS: Readonly<Record<number, SectionTlvInfo>> = {
  [TLV.INST]: { kind: 'runtime', form: 'legacy', dest: LEGACY_INST_DEST },
  [TLV.DATA]: { kind: 'runtime', form: 'legacy', dest: LEGACY_DATA_DEST },
  [TLV.INIT]: { kind: 'init', form: 'legacy', dest: LEGACY_INST_DEST },
  [TLV.INIT_DATA]: { kind: 'init', form: 'legacy', dest: LEGACY_DATA_DEST },
  [TLV.WOWLAN_INST]: { kind: 'wowlan', form: 'legacy', dest: LEGACY_INST_DEST },
  [TLV.WOWLAN_DATA]: { kind: 'wowlan', form: 'legacy', dest: LEGACY_DATA_DEST },
  [TLV.SEC_RT]: { kind: 'runtime', form: 'sec' },
  [TLV.SEC_INIT]: { kind: 'init', form: 'sec' },
  [TLV.SEC_WOWLAN]: { kind: 'wowlan', form: 'sec' },
  [TLV.SECURE_SEC_RT]: { kind: 'runtime', form: 'secure' },
  [TLV.SECURE_SEC_INIT]: { kind: 'init', form: 'secure' },
  [TLV.SECURE_SEC_WOWLAN]: { kind: 'wowlan', form: 'secure' },
};

/** The TLV type that carries a section of `kind` in `form` (legacy: by destination). */
export function sectionTlvType(kind: ImageKind, form: SectionForm, dest: number): number | undefined {
  for (const [type, info] of Object.entries(SECTION_TLVS)) {
    if (info.kind !== kind || info.form !== form) continue;
    if (form === 'legacy' && info.dest !== dest) continue;
    return Number(type);
  }
  return undefined;
}

/**
 * Sections per image the parser accepts. Real 7265D images have about a
 * dozen; more than this is a damaged file, not firmware.
 */
export const MAX_SECTIONS_PER_IMAGE = 64;

/** Capability / API-flag words the driver knows: DIV_ROUND_UP(128, 32). */
export const MAX_CAPA_INDEX = 4;
export const MAX_CAPA_BITS = 32 * MAX_CAPA_INDEX;

/**
 * Capability bits (enum iwl_ucode_tlv_capa, fw/file.h; ENABLED_CAPABILITIES).
 * The fact sheet (A9) states UMAC_SCAN = 2; the others are the numbers from
 * fw/file.h.
 */
export const CAPA = {
  D0I3_SUPPORT: 0,
  LAR_SUPPORT: 1,
  UMAC_SCAN: 2,
  BEAMFORMER: 3,
  TOF_SUPPORT: 5,
  TDLS_SUPPORT: 6,
  TXPOWER_INSERTION_SUPPORT: 8,
  DS_PARAM_SET_IE_SUPPORT: 9,
  WFA_TPC_REP_IE_SUPPORT: 10,
  QUIET_PERIOD_SUPPORT: 11,
  DQA_SUPPORT: 12,
  TDLS_CHANNEL_SWITCH: 13,
  HOTSPOT_SUPPORT: 18,
  DC2DC_CONFIG_SUPPORT: 19,
  CSUM_SUPPORT: 21,
  RADIO_BEACON_STATS: 22,
  P2P_SCM_UAPSD: 26,
  BT_COEX_PLCR: 28,
  LAR_MULTI_MCC: 29,
  BT_COEX_RRC: 30,
  GSCAN_SUPPORT: 31,
  /** BINDING_CONTEXT carries lmac_id (struct iwl_binding_cmd, BINDING_CMD_API_S_VER_2). */
  BINDING_CDB_SUPPORT: 39,
  /** Concurrent dual band: two LMACs (the binding's lmac_id is 1 on 5 GHz). */
  CDB_SUPPORT: 40,
  EXTENDED_DTS_MEASURE: 64,
  SHORT_PM_TIMEOUTS: 65,
  BT_MPLUT_SUPPORT: 67,
  CSA_AND_TBTT_OFFLOAD: 70,
  BEACON_ANT_SELECTION: 71,
  BEACON_STORING: 72,
  LAR_SUPPORT_V2: 73,
  CT_KILL_BY_FW: 74,
  TEMP_THS_REPORT_SUPPORT: 75,
  CTDP_SUPPORT: 76,
  USNIFFER_UNIFIED: 77,
} as const;

/**
 * simrun-specific capability bits, at the top of the 128-bit space (no 7265D
 * firmware sets bits 120-127). They let a firmware image tell the simulated
 * firmware CPU to misbehave, so `simrun bisect --variants` can find the first
 * bad firmware version. None of the fixture images sets them. See
 * docs/FIRMWARE.md.
 */
export const SIMRUN_CAPA = {
  /** ALIVE carries a status other than 0xCAFE. */
  FAULT_ALIVE_STATUS: 127,
  /** No ALIVE is posted after the CPU is released. */
  FAULT_NO_ALIVE: 126,
  /** The INIT image never sends INIT_COMPLETE. */
  FAULT_NO_INIT_COMPLETE: 125,
} as const;

/** API flags (enum iwl_ucode_tlv_api, fw/file.h; API_CHANGES_SET). */
export const API = {
  FRAGMENTED_SCAN: 8,
  WIFI_MCC_UPDATE: 9,
  LQ_SS_PARAMS: 18,
  /** Changes what `ver` means (major only); simrun images never set it. */
  NEW_VERSION: 20,
  SCAN_TSF_REPORT: 28,
  TKIP_MIC_KEYS: 29,
  /** ADD_STA is struct iwl_mvm_add_sta_cmd (ADD_STA_CMD_API_S_VER_10, 48 bytes) with station_type. */
  STA_TYPE: 30,
  NAN2_VER2: 31,
  /** SCAN_REQ_UMAC is SCAN_REQUEST_CMD_UMAC_API_S_VER_7 (adaptive dwell, channels at 48). */
  ADAPTIVE_DWELL: 32,
  NEW_BEACON_TEMPLATE: 34,
  NEW_RX_STATS: 35,
} as const;

/** First word of the FLAGS TLV (enum iwl_ucode_tlv_flag, fw/file.h). */
export const UCODE_FLAG = {
  PAN: 1 << 0,
  NEWSCAN: 1 << 1,
  MFP: 1 << 2,
  SHORT_BL: 1 << 7,
  D3_6_IPV6_ADDRS: 1 << 10,
  NO_BASIC_SSID: 1 << 12,
  NEW_NSOFFL_SMALL: 1 << 15,
  NEW_NSOFFL_LARGE: 1 << 16,
  UAPSD_SUPPORT: 1 << 24,
  EBS_SUPPORT: 1 << 25,
  P2P_PS_UAPSD: 1 << 26,
  BCAST_FILTERING: 1 << 29,
} as const;

/** `ucode_type` of a DEF_CALIB TLV (enum iwl_ucode_type). */
export const UCODE_TYPE = { REGULAR: 0, INIT: 1, WOWLAN: 2, REGULAR_USNIFFER: 3 } as const;
export const UCODE_TYPE_MAX = 4;

/** PHY_SKU word (enum iwl_fw_phy_cfg). */
export const PHY_CFG = {
  RADIO_TYPE_SHIFT: 0,
  RADIO_STEP_SHIFT: 2,
  RADIO_DASH_SHIFT: 4,
  TX_CHAIN_SHIFT: 16,
  RX_CHAIN_SHIFT: 20,
} as const;
/** Valid TX antennas (bit mask) from a PHY_SKU word. */
export const phyTxChains = (sku: number): number => (sku >>> PHY_CFG.TX_CHAIN_SHIFT) & 0xf;
/** Valid RX antennas (bit mask) from a PHY_SKU word. */
export const phyRxChains = (sku: number): number => (sku >>> PHY_CFG.RX_CHAIN_SHIFT) & 0xf;

/** Defaults the driver uses when a TLV is absent (iwl-drv.c). */
export const DEFAULT_N_SCAN_CHANNELS = 40;
export const DEFAULT_NUM_CPUS = 1;

/** Separator "destinations" of 8000-family images (not used by the 7265D). */
export const CPU1_CPU2_SEPARATOR_SECTION = 0xffffcccc;
export const PAGING_SEPARATOR_SECTION = 0xaaaabbbb;

/** Firmware API range the 7265D driver accepts (cfg/7000.c). */
export const IWL7265D_API_MIN = 22;
export const IWL7265D_API_MAX = 29;

/** CMD_VERSIONS "unknown version" marker (IWL_FW_CMD_VER_UNKNOWN). */
export const CMD_VER_UNKNOWN = 99;

// ---------------------------------------------------------------- model

export interface FirmwareVersion {
  major: number;
  minor: number;
  api: number;
  serial: number;
}

/** Packs a version into the header's `ver` word. */
export function encodeVer(v: FirmwareVersion): number {
  return ((v.major & 0xff) << 24 | (v.minor & 0xff) << 16 | (v.api & 0xff) << 8 | (v.serial & 0xff)) >>> 0;
}

/** Unpacks the header's `ver` word. */
export function decodeVer(word: number): FirmwareVersion {
  return { major: (word >>> 24) & 0xff, minor: (word >>> 16) & 0xff, api: (word >>> 8) & 0xff, serial: word & 0xff };
}

export interface Section {
  /** SRAM destination address. */
  dest: number;
  /** Bytes to load at `dest`. */
  data: Uint8Array;
  /** TLV form; absent means `sec` (SEC_RT / SEC_INIT / SEC_WOWLAN). */
  form?: 'secure' | 'legacy';
}

/** One DEF_CALIB TLV (struct iwl_tlv_calib_data). */
export interface DefaultCalib {
  /** UCODE_TYPE.*: which image these triggers are for. */
  ucodeType: number;
  flowTrigger: number;
  eventTrigger: number;
}

/** One CMD_VERSIONS entry (struct iwl_fw_cmd_version, 4 bytes). */
export interface CmdVersion {
  cmd: number;
  group: number;
  version: number;
  notifVersion: number;
}

/** FW_VERSION TLV: three le32 words. */
export interface FwVersionTlv {
  major: number;
  minor: number;
  localComp: number;
}

/** A TLV the parser does not interpret (offset = the TLV header's byte offset). */
export interface UnknownTlv {
  type: number;
  offset: number;
  length: number;
}

export interface FirmwareImage {
  /** The header's human-readable string, up to the first NUL. */
  description: string;
  version: FirmwareVersion;
  build: number;
  /** First word of the FLAGS TLV (UCODE_FLAG bits); null when absent. */
  flags: number | null;
  sections: { init: Section[]; runtime: Section[]; wowlan: Section[] };
  /** ENABLED_CAPABILITIES bit numbers (CAPA.*, SIMRUN_CAPA.*). */
  capabilities: Set<number>;
  /** API_CHANGES_SET bit numbers (API.*). */
  apiFlags: Set<number>;
  /** PHY_SKU word; null when absent. */
  phySku: number | null;
  /** NUM_OF_CPU (1 or 2); null when absent (the driver assumes 1). */
  numCpus: number | null;
  /** N_SCAN_CHANNELS; null when absent (the driver assumes 40). */
  nScanChannels: number | null;
  /** PAGING memory size in bytes; null when absent. */
  paging: number | null;
  /** DEF_CALIB TLVs in file order, at most one per ucode type. */
  defCalib: DefaultCalib[];
  /** FW_VERSION TLV; null when absent. */
  fwVersion: FwVersionTlv | null;
  /** CMD_VERSIONS entries in file order. */
  cmdVersions: CmdVersion[];
  /** TLVs not interpreted (unknown types and BOOT), in file order. Not written by buildFirmware. */
  unknown: UnknownTlv[];
}

/** An image with no sections, capabilities or optional TLVs. */
export function emptyImage(description: string, version: FirmwareVersion, build = 0): FirmwareImage {
  return {
    description, version, build, flags: null,
    sections: { init: [], runtime: [], wowlan: [] },
    capabilities: new Set(), apiFlags: new Set(),
    phySku: null, numCpus: null, nScanChannels: null, paging: null,
    defCalib: [], fwVersion: null, cmdVersions: [], unknown: [],
  };
}
