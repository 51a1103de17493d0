/**
 * Strict parser of iwlwifi TLV ucode files (layout in tlv.ts), with the
 * checks of the Linux driver (iwl-drv.c iwl_parse_tlv_firmware) made
 * stricter where a lenient reading would hide a damaged file.
 *
 * Every problem is a FirmwareFormatError naming the file, the field and the
 * byte offset; parseFirmware throws nothing else, whatever the bytes.
 *
 * Refused: a file shorter than the 88-byte header; a non-zero first word; a
 * bad magic; an API number outside [apiMin, apiMax]; 1-7 trailing bytes
 * (a truncated TLV header); a TLV whose length runs past the end of the
 * file; a last TLV whose padding to 4 bytes is missing; a section TLV
 * shorter than its 4-byte destination; more than MAX_SECTIONS_PER_IMAGE
 * sections in one image; a capability / API-flag TLV that is not 8 bytes or
 * whose index is 4 or more; fixed-size TLVs (FLAGS, PHY_SKU, NUM_OF_CPU,
 * N_SCAN_CHANNELS, PAGING, FW_VERSION, DEF_CALIB, CMD_VERSIONS) of the wrong
 * length; NUM_OF_CPU other than 1 or 2; DEF_CALIB for an unknown ucode type
 * or twice for one type; a single-valued TLV that appears twice; no INIT or
 * no runtime section.
 * Accepted and recorded in `unknown`: TLVs of any other type (and BOOT,
 * which the driver also ignores). Padding bytes are not checked (the driver
 * does not read them).
 */
import { InputError } from '../../../sim/errors.js';
import {
  HDR, HEADER_SIZE, HUMAN_READABLE_SIZE, IWL7265D_API_MAX, IWL7265D_API_MIN, MAX_CAPA_INDEX,
  MAX_SECTIONS_PER_IMAGE, SECTION_TLVS, TLV, TLV_HEADER_SIZE, TLV_UCODE_MAGIC, UCODE_TYPE_MAX,
  decodeVer, emptyImage, tlvName, type FirmwareImage, type Section,
} from './tlv.js';

/**
 * A firmware file the driver must reject. An InputError (the CLI reports it
 * with exit code 2): `file` = `fileName`, `field` names the header field or
 * TLV (`header.magic`, `tlv[3].length`, `sections.init`), `offset` is the
 * byte offset of the offending bytes (the file length for "missing"
 * problems), `problem` is the message without file, field and offset.
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
  /** Name used in error messages, e.g. "iwlwifi-7265D-29.ucode". */
  fileName: string;
  /** Lowest API the device accepts (7265D: 22). */
  apiMin?: number;
  /** Highest API the device accepts (7265D: 29). */
  apiMax?: number;
  /** Device name in the API-range message (default "7265D"). */
  device?: string;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

function rd32(b: Uint8Array, off: number): number {
  return (b[off]! | b[off + 1]! << 8 | b[off + 2]! << 16 | b[off + 3]! << 24) >>> 0;
}

/** Parses a TLV ucode file; throws FirmwareFormatError (only) for a bad file. */
export function parseFirmware(bytes: Uint8Array, opts: ParseOptions): FirmwareImage {
  const file = opts.fileName;
  const apiMin = opts.apiMin ?? IWL7265D_API_MIN;
  const apiMax = opts.apiMax ?? IWL7265D_API_MAX;
  const device = opts.device ?? '7265D';
  const fail = (offset: number, field: string, problem: string): never => {
    throw new FirmwareFormatError(file, offset, field, problem);
  };
  const n = bytes.length;

  // ---- header
  if (n < HEADER_SIZE) fail(n, 'header', `file is ${n} bytes, shorter than the ${HEADER_SIZE}-byte TLV ucode header`);
  const zero = rd32(bytes, HDR.ZERO);
  if (zero !== 0) {
    fail(HDR.ZERO, 'header.zero', `first word is ${hex(zero)}, expected 0 (a TLV ucode file starts with a zero word; this is an old v1/v2 ucode file or not firmware)`);
  }
  const magic = rd32(bytes, HDR.MAGIC);
  if (magic !== TLV_UCODE_MAGIC) fail(HDR.MAGIC, 'header.magic', `magic is ${hex(magic)}, expected ${hex(TLV_UCODE_MAGIC)} ("IWL\\n")`);
  let description = '';
  for (let i = 0; i < HUMAN_READABLE_SIZE; i++) {
    const c = bytes[HDR.HUMAN_READABLE + i]!;
    if (c === 0) break;
    description += String.fromCharCode(c);
  }
  const ver = rd32(bytes, HDR.VER);
  const version = decodeVer(ver);
  if (version.api < apiMin || version.api > apiMax) {
    fail(HDR.VER, 'header.ver', `API ${version.api} is outside the range ${apiMin}-${apiMax} supported by the ${device}`);
  }
  const img = emptyImage(description, version, rd32(bytes, HDR.BUILD));

  // ---- TLVs
  const firstAt = new Map<number, number>(); // single-valued TLV type -> offset of its first occurrence
  const calibAt = new Map<number, number>(); // DEF_CALIB ucode type -> offset
  let at = HEADER_SIZE;
  for (let idx = 0; at < n; idx++) {
    const rem = n - at;
    const f = `tlv[${idx}]`;
    if (rem < TLV_HEADER_SIZE) fail(at, f, `${rem} trailing byte(s) are too short for a TLV header (${TLV_HEADER_SIZE} bytes)`);
    const type = rd32(bytes, at);
    const len = rd32(bytes, at + 4);
    const name = tlvName(type);
    const dataAt = at + TLV_HEADER_SIZE;
    const left = n - dataAt;
    if (len > left) fail(at + 4, `${f}.length`, `${name} TLV length ${len} runs past the end of the file (${left} bytes left)`);
    const padded = len + ((4 - (len % 4)) % 4);
    if (padded > left) {
      fail(dataAt + len, `${f}.padding`, `${name} TLV of length ${len} is not padded to a 4-byte boundary: the file ends ${left - len} byte(s) into its ${padded - len} padding bytes`);
    }
    const data = bytes.subarray(dataAt, dataAt + len);
    const wantLength = (ok: boolean, expected: string): void => {
      if (!ok) fail(at + 4, `${f}.length`, `${name} TLV length ${len}, expected ${expected}`);
    };
    const once = (): void => {
      const first = firstAt.get(type);
      if (first !== undefined) fail(at, f, `a second ${name} TLV (the first is at byte offset ${first})`);
      firstAt.set(type, at);
    };

    const sec = SECTION_TLVS[type];
    if (sec !== undefined) {
      let section: Section;
      if (sec.form === 'legacy') {
        section = { dest: sec.dest ?? 0, data: new Uint8Array(data), form: 'legacy' };
      } else {
        if (len < 4) fail(at + 4, `${f}.length`, `${name} TLV length ${len} is shorter than its 4-byte SRAM destination`);
        section = { dest: rd32(data, 0), data: new Uint8Array(data.subarray(4)) };
        if (sec.form === 'secure') section.form = 'secure';
      }
      const list = img.sections[sec.kind];
      if (list.length >= MAX_SECTIONS_PER_IMAGE) {
        fail(at, f, `more than ${MAX_SECTIONS_PER_IMAGE} sections in the ${sec.kind === 'init' ? 'INIT' : sec.kind === 'wowlan' ? 'WoWLAN' : 'runtime'} image`);
      }
      list.push(section);
    } else {
      switch (type) {
        case TLV.FLAGS:
          wantLength(len >= 4 && len % 4 === 0, 'a non-zero multiple of 4');
          once();
          img.flags = rd32(data, 0);
          break;
        case TLV.API_CHANGES_SET:
        case TLV.ENABLED_CAPABILITIES: {
          wantLength(len === 8, '8 (le32 index, le32 bit mask)');
          const index = rd32(data, 0);
          if (index >= MAX_CAPA_INDEX) {
            fail(dataAt, `${f}.index`, `${name} index ${index} is beyond the ${32 * MAX_CAPA_INDEX} bits the driver knows (index 0-${MAX_CAPA_INDEX - 1})`);
          }
          const mask = rd32(data, 4);
          const set = type === TLV.API_CHANGES_SET ? img.apiFlags : img.capabilities;
          for (let b = 0; b < 32; b++) if (((mask >>> b) & 1) !== 0) set.add(32 * index + b);
          break;
        }
        case TLV.PHY_SKU:
          wantLength(len === 4, '4');
          once();
          img.phySku = rd32(data, 0);
          break;
        case TLV.N_SCAN_CHANNELS:
          wantLength(len === 4, '4');
          once();
          img.nScanChannels = rd32(data, 0);
          break;
        case TLV.PAGING:
          wantLength(len === 4, '4');
          once();
          img.paging = rd32(data, 0);
          break;
        case TLV.NUM_OF_CPU: {
          wantLength(len === 4, '4');
          once();
          const cpus = rd32(data, 0);
          if (cpus < 1 || cpus > 2) fail(dataAt, `${f}.value`, `NUM_OF_CPU is ${cpus}; the driver supports 1 or 2 CPUs`);
          img.numCpus = cpus;
          break;
        }
        case TLV.FW_VERSION:
          wantLength(len === 12, '12 (le32 major, minor, local_comp)');
          once();
          img.fwVersion = { major: rd32(data, 0), minor: rd32(data, 4), localComp: rd32(data, 8) };
          break;
        case TLV.DEF_CALIB: {
          wantLength(len === 12, '12 (le32 ucode_type, flow_trigger, event_trigger)');
          const ucodeType = rd32(data, 0);
          if (ucodeType >= UCODE_TYPE_MAX) {
            fail(dataAt, `${f}.ucodeType`, `DEF_CALIB for ucode type ${ucodeType}; known types are 0-${UCODE_TYPE_MAX - 1} (regular, INIT, WoWLAN, regular+usniffer)`);
          }
          const first = calibAt.get(ucodeType);
          if (first !== undefined) fail(at, f, `a second DEF_CALIB TLV for ucode type ${ucodeType} (the first is at byte offset ${first})`);
          calibAt.set(ucodeType, at);
          img.defCalib.push({ ucodeType, flowTrigger: rd32(data, 4), eventTrigger: rd32(data, 8) });
          break;
        }
        case TLV.CMD_VERSIONS:
          wantLength(len % 4 === 0, 'a multiple of 4 (4-byte entries)');
          once();
          for (let i = 0; i < len; i += 4) {
            img.cmdVersions.push({ cmd: data[i]!, group: data[i + 1]!, version: data[i + 2]!, notifVersion: data[i + 3]! });
          }
          break;
        default:
          img.unknown.push({ type, offset: at, length: len });
      }
    }
    at = dataAt + padded;
  }

  if (img.sections.init.length === 0) {
    fail(n, 'sections.init', 'no INIT image: the file has no SEC_INIT (20), SECURE_SEC_INIT (25) or INIT/INIT_DATA (3/4) TLV');
  }
  if (img.sections.runtime.length === 0) {
    fail(n, 'sections.runtime', 'no runtime image: the file has no SEC_RT (19), SECURE_SEC_RT (24) or INST/DATA (1/2) TLV');
  }
  return img;
}
