/**
 * The driver's own reading of iwlwifi TLV ucode files (Linux fw/file.h for
 * the format, iwl-drv.c iwl_parse_tlv_firmware for the parse), kept apart
 * from the device model's writer and parser.
 *
 * Layout: le32 zero, le32 magic "IWL\n", 64 bytes of description, le32 ver
 * (major.minor.api.serial, one byte each from the top), le32 build, 8
 * ignored bytes; then TLVs (le32 type, le32 length, data, zero padding to 4
 * bytes). Section TLVs carry a le32 SRAM destination and the bytes; the old
 * INST/DATA forms carry only bytes (instruction memory 0x000000, data memory
 * 0x800000).
 *
 * The parse is stricter than Linux's where a lenient reading would hide a
 * damaged file; every refusal is a FirmwareFormatError naming the file, the
 * field and the byte offset.
 */
import { InputError } from '../../../sim/errors.js';

/** struct iwl_tlv_ucode_header. */
export const HEADER_SIZE = 88;
const HDR_ZERO = 0;
const HDR_MAGIC = 4;
const HDR_HUMAN_READABLE = 8;
const HUMAN_READABLE_SIZE = 64;
const HDR_VER = 72;
const HDR_BUILD = 76;
/** struct iwl_ucode_tlv header: type + length. */
export const TLV_HEADER_SIZE = 8;
/** IWL_TLV_UCODE_MAGIC. */
export const TLV_UCODE_MAGIC = 0x0a4c5749;

/** enum iwl_ucode_tlv_type, the types the driver reads. */
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

const TLV_NAMES = new Map<number, string>(Object.entries(TLV).map(([name, type]) => [type, name]));
/** "SEC_RT (19)", or "type 99" for a type the driver does not know. */
export function tlvName(type: number): string {
  const name = TLV_NAMES.get(type);
  return name === undefined ? `type ${type}` : `${name} (${type})`;
}

/** Which image a section belongs to (enum iwl_ucode_type without the usniffer variant). */
export type ImageKind = 'init' | 'runtime' | 'wowlan';

/** IWLAGN_RTC_INST_LOWER_BOUND / IWLAGN_RTC_DATA_LOWER_BOUND: destinations of the old section forms. */
export const LEGACY_INST_DEST = 0x000000;
export const LEGACY_DATA_DEST = 0x800000;

type SectionForm = 'sec' | 'secure' | 'legacy';
interface SectionTlv { kind: ImageKind; form: SectionForm; dest: number }
const SECTION_TLVS = new Map<number, SectionTlv>([
  [TLV.INST, { kind: 'runtime', form: 'legacy', dest: LEGACY_INST_DEST }],
  [TLV.DATA, { kind: 'runtime', form: 'legacy', dest: LEGACY_DATA_DEST }],
  [TLV.INIT, { kind: 'init', form: 'legacy', dest: LEGACY_INST_DEST }],
  [TLV.INIT_DATA, { kind: 'init', form: 'legacy', dest: LEGACY_DATA_DEST }],
  [TLV.WOWLAN_INST, { kind: 'wowlan', form: 'legacy', dest: LEGACY_INST_DEST }],
  [TLV.WOWLAN_DATA, { kind: 'wowlan', form: 'legacy', dest: LEGACY_DATA_DEST }],
  [TLV.SEC_RT, { kind: 'runtime', form: 'sec', dest: 0 }],
  [TLV.SEC_INIT, { kind: 'init', form: 'sec', dest: 0 }],
  [TLV.SEC_WOWLAN, { kind: 'wowlan', form: 'sec', dest: 0 }],
  [TLV.SECURE_SEC_RT, { kind: 'runtime', form: 'secure', dest: 0 }],
  [TLV.SECURE_SEC_INIT, { kind: 'init', form: 'secure', dest: 0 }],
  [TLV.SECURE_SEC_WOWLAN, { kind: 'wowlan', form: 'secure', dest: 0 }],
]);

/** More sections than this in one image is a damaged file (7265D images have about a dozen). */
export const MAX_SECTIONS_PER_IMAGE = 64;
/** Capability and API-flag words the driver knows: 128 bits (NUM_IWL_UCODE_TLV_CAPA / 32). */
export const MAX_CAPA_INDEX = 4;

/** enum iwl_ucode_tlv_capa, the bits the driver tests. */
export const CAPA = {
  LAR_SUPPORT: 1,
  UMAC_SCAN: 2,
  DQA_SUPPORT: 12,
  /** BINDING_CONTEXT_CMD carries lmac_id (iwl_mvm_binding_cmd). */
  BINDING_CDB_SUPPORT: 39,
  /** Concurrent dual band (iwl_mvm_is_cdb_supported): 5 GHz runs on LMAC 1. */
  CDB_SUPPORT: 40,
} as const;

/** enum iwl_ucode_tlv_api, the flags that select a command layout in this driver. */
export const API = {
  /** ADD_STA is the 48-byte iwl_mvm_add_sta_cmd with station_type (iwl_mvm_add_sta_cmd_size). */
  STA_TYPE: 30,
  /** SCAN_REQ_UMAC is the v7 layout, with adaptive dwell (iwl_mvm_is_adaptive_dwell_supported). */
  ADAPTIVE_DWELL: 32,
} as const;

/** enum iwl_ucode_type (DEF_CALIB's ucode_type). */
export const UCODE_TYPE = { REGULAR: 0, INIT: 1, WOWLAN: 2, REGULAR_USNIFFER: 3 } as const;
export const UCODE_TYPE_MAX = 4;

/** enum iwl_fw_phy_cfg: fields of the PHY_SKU word. */
export const PHY_CFG = {
  RADIO_TYPE_SHIFT: 0,
  RADIO_STEP_SHIFT: 2,
  RADIO_DASH_SHIFT: 4,
  TX_CHAIN_SHIFT: 16,
  RX_CHAIN_SHIFT: 20,
} as const;
/** Valid TX antennas from a PHY_SKU word (FW_PHY_CFG_TX_CHAIN). */
export const phyTxChains = (sku: number): number => (sku >>> PHY_CFG.TX_CHAIN_SHIFT) & 0xf;
/** Valid RX antennas from a PHY_SKU word (FW_PHY_CFG_RX_CHAIN). */
export const phyRxChains = (sku: number): number => (sku >>> PHY_CFG.RX_CHAIN_SHIFT) & 0xf;

/** IWL_DEFAULT_SCAN_CHANNELS: scan channels when the file has no N_SCAN_CHANNELS TLV. */
export const DEFAULT_N_SCAN_CHANNELS = 40;

/** Separator "destinations" of 8000-family images; the 7000-family loader stops at them. */
export const CPU1_CPU2_SEPARATOR_SECTION = 0xffffcccc;
export const PAGING_SEPARATOR_SECTION = 0xaaaabbbb;

/**
 * Firmware API range this driver requests for the 7265D. Linux's cfg/7000.c
 * accepts API 17 (IWL7265D_UCODE_API_MIN) and up; simrun's model supports
 * 22-29, and the driver asks for that range.
 */
export const IWL7265D_API_MIN = 22;
export const IWL7265D_API_MAX = 29;

// ---- the parsed image ---------------------------------------------------------------

export interface FirmwareVersion { major: number; minor: number; api: number; serial: number }

export interface Section {
  /** SRAM destination. */
  dest: number;
  data: Uint8Array;
  /** Absent for SEC_* TLVs. */
  form?: 'secure' | 'legacy';
}

/** struct iwl_tlv_calib_data. */
export interface DefaultCalib { ucodeType: number; flowTrigger: number; eventTrigger: number }
/** struct iwl_fw_cmd_version. */
export interface CmdVersion { cmd: number; group: number; version: number; notifVersion: number }
export interface FwVersionTlv { major: number; minor: number; localComp: number }
export interface UnknownTlv { type: number; offset: number; length: number }

/** What the driver keeps of a firmware file (struct iwl_fw). */
export interface FirmwareImage {
  description: string;
  version: FirmwareVersion;
  build: number;
  flags: number | null;
  sections: { init: Section[]; runtime: Section[]; wowlan: Section[] };
  capabilities: Set<number>;
  apiFlags: Set<number>;
  phySku: number | null;
  numCpus: number | null;
  nScanChannels: number | null;
  paging: number | null;
  defCalib: DefaultCalib[];
  fwVersion: FwVersionTlv | null;
  cmdVersions: CmdVersion[];
  unknown: UnknownTlv[];
}

/**
 * A firmware file the driver refuses: an InputError with `file`, `field`
 * (`header.magic`, `tlv[3].length`, `sections.init`) and the byte offset.
 */
export class FirmwareFormatError extends InputError {
  override readonly name = 'FirmwareFormatError';
  readonly fileName: string;
  readonly offset: number;
  readonly problem: string;
  constructor(fileName: string, offset: number, field: string, problem: string) {
    super(fileName, field, `${problem} (at byte offset ${offset})`);
    this.fileName = fileName;
    this.offset = offset;
    this.problem = problem;
  }
}

export interface ParseOptions {
  fileName: string;
  apiMin?: number;
  apiMax?: number;
  device?: string;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
const le32 = (b: Uint8Array, off: number): number =>
  (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
const IMAGE_NAME: Record<ImageKind, string> = { init: 'INIT', runtime: 'runtime', wowlan: 'WoWLAN' };

/** Parses a TLV ucode file (iwl_parse_tlv_firmware); throws FirmwareFormatError, and nothing else, for a bad file. */
export function parseFirmware(bytes: Uint8Array, opts: ParseOptions): FirmwareImage {
  const file = opts.fileName;
  const apiMin = opts.apiMin ?? IWL7265D_API_MIN;
  const apiMax = opts.apiMax ?? IWL7265D_API_MAX;
  const device = opts.device ?? '7265D';
  const end = bytes.length;
  const refuse = (offset: number, field: string, problem: string): never => {
    throw new FirmwareFormatError(file, offset, field, problem);
  };

  if (end < HEADER_SIZE) refuse(end, 'header', `file is ${end} bytes, shorter than the ${HEADER_SIZE}-byte TLV ucode header`);
  const zero = le32(bytes, HDR_ZERO);
  if (zero !== 0) {
    refuse(HDR_ZERO, 'header.zero', `first word is ${hex8(zero)}, expected 0 (a TLV ucode file starts with a zero word; this is an old v1/v2 ucode file or not firmware)`);
  }
  const magic = le32(bytes, HDR_MAGIC);
  if (magic !== TLV_UCODE_MAGIC) refuse(HDR_MAGIC, 'header.magic', `magic is ${hex8(magic)}, expected ${hex8(TLV_UCODE_MAGIC)} ("IWL\\n")`);
  const descBytes = bytes.subarray(HDR_HUMAN_READABLE, HDR_HUMAN_READABLE + HUMAN_READABLE_SIZE);
  const nul = descBytes.indexOf(0);
  const description = String.fromCharCode(...(nul < 0 ? descBytes : descBytes.subarray(0, nul)));
  const ver = le32(bytes, HDR_VER);
  const version: FirmwareVersion = { major: ver >>> 24, minor: (ver >>> 16) & 0xff, api: (ver >>> 8) & 0xff, serial: ver & 0xff };
  if (version.api < apiMin || version.api > apiMax) {
    refuse(HDR_VER, 'header.ver', `API ${version.api} is outside the range ${apiMin}-${apiMax} supported by the ${device}`);
  }
  const img: FirmwareImage = {
    description, version, build: le32(bytes, HDR_BUILD), flags: null,
    sections: { init: [], runtime: [], wowlan: [] },
    capabilities: new Set(), apiFlags: new Set(),
    phySku: null, numCpus: null, nScanChannels: null, paging: null,
    defCalib: [], fwVersion: null, cmdVersions: [], unknown: [],
  };

  const seen = new Map<number, number>();
  const calibSeen = new Map<number, number>();
  let at = HEADER_SIZE;
  for (let idx = 0; at < end; idx++) {
    const field = `tlv[${idx}]`;
    if (end - at < TLV_HEADER_SIZE) refuse(at, field, `${end - at} trailing byte(s) are too short for a TLV header (${TLV_HEADER_SIZE} bytes)`);
    const type = le32(bytes, at);
    const len = le32(bytes, at + 4);
    const name = tlvName(type);
    const dataAt = at + TLV_HEADER_SIZE;
    const left = end - dataAt;
    if (len > left) refuse(at + 4, `${field}.length`, `${name} TLV length ${len} runs past the end of the file (${left} bytes left)`);
    const padded = (len + 3) & ~3;
    if (padded > left) {
      refuse(dataAt + len, `${field}.padding`, `${name} TLV of length ${len} is not padded to a 4-byte boundary: the file ends ${left - len} byte(s) into its ${padded - len} padding bytes`);
    }
    const data = bytes.subarray(dataAt, dataAt + len);
    const lengthMustBe = (ok: boolean, expected: string): void => {
      if (!ok) refuse(at + 4, `${field}.length`, `${name} TLV length ${len}, expected ${expected}`);
    };
    const single = (): void => {
      const first = seen.get(type);
      if (first !== undefined) refuse(at, field, `a second ${name} TLV (the first is at byte offset ${first})`);
      seen.set(type, at);
    };
    const word = (): number => {
      lengthMustBe(len === 4, '4');
      single();
      return le32(data, 0);
    };

    const sec = SECTION_TLVS.get(type);
    if (sec !== undefined) {
      let section: Section;
      if (sec.form === 'legacy') {
        section = { dest: sec.dest, data: data.slice(), form: 'legacy' };
      } else {
        if (len < 4) refuse(at + 4, `${field}.length`, `${name} TLV length ${len} is shorter than its 4-byte SRAM destination`);
        section = { dest: le32(data, 0), data: data.slice(4) };
        if (sec.form === 'secure') section.form = 'secure';
      }
      const list = img.sections[sec.kind];
      if (list.length >= MAX_SECTIONS_PER_IMAGE) refuse(at, field, `more than ${MAX_SECTIONS_PER_IMAGE} sections in the ${IMAGE_NAME[sec.kind]} image`);
      list.push(section);
      at = dataAt + padded;
      continue;
    }

    switch (type) {
      case TLV.FLAGS:
        lengthMustBe(len >= 4 && len % 4 === 0, 'a non-zero multiple of 4');
        single();
        img.flags = le32(data, 0);
        break;
      case TLV.API_CHANGES_SET:
      case TLV.ENABLED_CAPABILITIES: {
        lengthMustBe(len === 8, '8 (le32 index, le32 bit mask)');
        const index = le32(data, 0);
        if (index >= MAX_CAPA_INDEX) {
          refuse(dataAt, `${field}.index`, `${name} index ${index} is beyond the ${32 * MAX_CAPA_INDEX} bits the driver knows (index 0-${MAX_CAPA_INDEX - 1})`);
        }
        const mask = le32(data, 4);
        const bits = type === TLV.API_CHANGES_SET ? img.apiFlags : img.capabilities;
        for (let b = 0; b < 32; b++) if ((mask >>> b) & 1) bits.add(32 * index + b);
        break;
      }
      case TLV.PHY_SKU: img.phySku = word(); break;
      case TLV.N_SCAN_CHANNELS: img.nScanChannels = word(); break;
      case TLV.PAGING: img.paging = word(); break;
      case TLV.NUM_OF_CPU: {
        const cpus = word();
        if (cpus < 1 || cpus > 2) refuse(dataAt, `${field}.value`, `NUM_OF_CPU is ${cpus}; the driver supports 1 or 2 CPUs`);
        img.numCpus = cpus;
        break;
      }
      case TLV.FW_VERSION:
        lengthMustBe(len === 12, '12 (le32 major, minor, local_comp)');
        single();
        img.fwVersion = { major: le32(data, 0), minor: le32(data, 4), localComp: le32(data, 8) };
        break;
      case TLV.DEF_CALIB: {
        lengthMustBe(len === 12, '12 (le32 ucode_type, flow_trigger, event_trigger)');
        const ucodeType = le32(data, 0);
        if (ucodeType >= UCODE_TYPE_MAX) {
          refuse(dataAt, `${field}.ucodeType`, `DEF_CALIB for ucode type ${ucodeType}; known types are 0-${UCODE_TYPE_MAX - 1} (regular, INIT, WoWLAN, regular+usniffer)`);
        }
        const first = calibSeen.get(ucodeType);
        if (first !== undefined) refuse(at, field, `a second DEF_CALIB TLV for ucode type ${ucodeType} (the first is at byte offset ${first})`);
        calibSeen.set(ucodeType, at);
        img.defCalib.push({ ucodeType, flowTrigger: le32(data, 4), eventTrigger: le32(data, 8) });
        break;
      }
      case TLV.CMD_VERSIONS:
        lengthMustBe(len % 4 === 0, 'a multiple of 4 (4-byte entries)');
        single();
        for (let i = 0; i + 4 <= len; i += 4) {
          img.cmdVersions.push({ cmd: data[i]!, group: data[i + 1]!, version: data[i + 2]!, notifVersion: data[i + 3]! });
        }
        break;
      default:
        img.unknown.push({ type, offset: at, length: len });
    }
    at = dataAt + padded;
  }

  if (img.sections.init.length === 0) {
    refuse(end, 'sections.init', 'no INIT image: the file has no SEC_INIT (20), SECURE_SEC_INIT (25) or INIT/INIT_DATA (3/4) TLV');
  }
  if (img.sections.runtime.length === 0) {
    refuse(end, 'sections.runtime', 'no runtime image: the file has no SEC_RT (19), SECURE_SEC_RT (24) or INST/DATA (1/2) TLV');
  }
  return img;
}
