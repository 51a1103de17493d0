/**
 * Writes a FirmwareImage as an iwlwifi TLV ucode file (tlv.ts for the
 * layout). The output is a pure function of the image: same image, same
 * bytes.
 *
 * TLV order (the order of real 7000-family files): FLAGS, API_CHANGES_SET
 * (one per non-empty 32-bit index, ascending), ENABLED_CAPABILITIES (same),
 * N_SCAN_CHANNELS, PAGING, NUM_OF_CPU, FW_VERSION, CMD_VERSIONS, runtime
 * sections, INIT sections, WoWLAN sections, DEF_CALIB (array order),
 * PHY_SKU. Absent (null / empty) fields write no TLV. `unknown` is not
 * written (the parser keeps only where unknown TLVs were).
 *
 * buildFirmware throws RangeError for an image it cannot represent (a value
 * that is not a u32, a version part over 255, a description longer than 64
 * bytes, a legacy section at a destination its TLV cannot express). It does
 * not refuse what the parser refuses (an API outside 22-29, no INIT image):
 * tests build such files on purpose.
 */
import {
  HEADER_SIZE, HDR, HUMAN_READABLE_SIZE, TLV, TLV_HEADER_SIZE, TLV_UCODE_MAGIC,
  encodeVer, sectionTlvType, type FirmwareImage, type ImageKind, type Section,
} from './tlv.js';

export { verifySectionPayload, verifyLoadedImage, makeSimfSections } from './payload.js';

/** One raw TLV for encodeTlvFile. */
export interface RawTlv {
  type: number;
  data: Uint8Array;
  /** Written instead of data.length in the length field (to build damaged files). */
  length?: number;
  /** Pad the data to 4 bytes with zeros (default true). */
  pad?: boolean;
}

/** The header of encodeTlvFile; `zero` and `magic` default to the valid values. */
export interface RawHeader {
  zero?: number;
  magic?: number;
  /** Latin-1 text or raw bytes, at most 64 bytes, NUL padded. */
  description: string | Uint8Array;
  ver: number;
  build: number;
}

function checkU32(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what}: ${v} is not a 32-bit unsigned integer`);
  return v;
}

function checkU8(what: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what}: ${v} is not 0-255`);
  return v;
}

function descriptionBytes(d: string | Uint8Array): Uint8Array {
  if (typeof d !== 'string') {
    if (d.length > HUMAN_READABLE_SIZE) throw new RangeError(`description: ${d.length} bytes, at most ${HUMAN_READABLE_SIZE}`);
    return d;
  }
  if (d.length > HUMAN_READABLE_SIZE) throw new RangeError(`description: ${d.length} characters, at most ${HUMAN_READABLE_SIZE}`);
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const c = d.charCodeAt(i);
    if (c === 0 || c > 0xff) throw new RangeError(`description: character ${i} (U+${c.toString(16).padStart(4, '0')}) is not Latin-1 text`);
    out[i] = c;
  }
  return out;
}

const align4 = (n: number): number => (n + 3) & ~3;

/** Little-endian u32 words as bytes. */
export function le32s(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint32(i * 4, checkU32(`word ${i}`, w), true));
  return out;
}

/** Lays out a TLV file from a header and raw TLVs, exactly as given. */
export function encodeTlvFile(header: RawHeader, tlvs: readonly RawTlv[]): Uint8Array {
  let size = HEADER_SIZE;
  for (const t of tlvs) size += TLV_HEADER_SIZE + (t.pad === false ? t.data.length : align4(t.data.length));
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(HDR.ZERO, checkU32('zero', header.zero ?? 0), true);
  v.setUint32(HDR.MAGIC, checkU32('magic', header.magic ?? TLV_UCODE_MAGIC), true);
  out.set(descriptionBytes(header.description), HDR.HUMAN_READABLE);
  v.setUint32(HDR.VER, checkU32('ver', header.ver), true);
  v.setUint32(HDR.BUILD, checkU32('build', header.build), true);
  let at = HEADER_SIZE;
  for (const t of tlvs) {
    v.setUint32(at, checkU32('tlv type', t.type), true);
    v.setUint32(at + 4, checkU32('tlv length', t.length ?? t.data.length), true);
    out.set(t.data, at + TLV_HEADER_SIZE);
    at += TLV_HEADER_SIZE + (t.pad === false ? t.data.length : align4(t.data.length));
  }
  return out;
}

/** The { index, mask } TLVs for a set of bit numbers, ascending by index. */
function bitsetTlvs(type: number, what: string, bits: ReadonlySet<number>): RawTlv[] {
  const words = new Map<number, number>();
  for (const bit of bits) {
    if (!Number.isInteger(bit) || bit < 0 || bit >= 32 * 0x1_0000_0000) throw new RangeError(`${what}: bit ${bit} cannot be written`);
    const index = Math.floor(bit / 32);
    words.set(index, ((words.get(index) ?? 0) | (1 << (bit % 32))) >>> 0);
  }
  return [...words.keys()].sort((a, b) => a - b).map((index) => ({ type, data: le32s(index, words.get(index)!) }));
}

function sectionTlv(kind: ImageKind, s: Section, i: number): RawTlv {
  const form = s.form ?? 'sec';
  checkU32(`sections.${kind}[${i}].dest`, s.dest);
  const type = sectionTlvType(kind, form, s.dest);
  if (type === undefined) {
    throw new RangeError(`sections.${kind}[${i}]: a ${form} section cannot be at 0x${s.dest.toString(16)} (legacy sections go to 0x0 or 0x800000)`);
  }
  if (form === 'legacy') return { type, data: s.data };
  const data = new Uint8Array(4 + s.data.length);
  new DataView(data.buffer).setUint32(0, s.dest, true);
  data.set(s.data, 4);
  return { type, data };
}

/** The TLVs buildFirmware writes for an image, in file order. */
export function imageTlvs(img: FirmwareImage): RawTlv[] {
  const tlvs: RawTlv[] = [];
  const u32Tlv = (type: number, what: string, v: number | null): void => {
    if (v !== null) tlvs.push({ type, data: le32s(checkU32(what, v)) });
  };
  u32Tlv(TLV.FLAGS, 'flags', img.flags);
  tlvs.push(...bitsetTlvs(TLV.API_CHANGES_SET, 'apiFlags', img.apiFlags));
  tlvs.push(...bitsetTlvs(TLV.ENABLED_CAPABILITIES, 'capabilities', img.capabilities));
  u32Tlv(TLV.N_SCAN_CHANNELS, 'nScanChannels', img.nScanChannels);
  u32Tlv(TLV.PAGING, 'paging', img.paging);
  u32Tlv(TLV.NUM_OF_CPU, 'numCpus', img.numCpus);
  if (img.fwVersion !== null) {
    const f = img.fwVersion;
    tlvs.push({ type: TLV.FW_VERSION, data: le32s(f.major, f.minor, f.localComp) });
  }
  if (img.cmdVersions.length > 0) {
    const data = new Uint8Array(img.cmdVersions.length * 4);
    img.cmdVersions.forEach((c, i) => {
      data[i * 4] = checkU8(`cmdVersions[${i}].cmd`, c.cmd);
      data[i * 4 + 1] = checkU8(`cmdVersions[${i}].group`, c.group);
      data[i * 4 + 2] = checkU8(`cmdVersions[${i}].version`, c.version);
      data[i * 4 + 3] = checkU8(`cmdVersions[${i}].notifVersion`, c.notifVersion);
    });
    tlvs.push({ type: TLV.CMD_VERSIONS, data });
  }
  for (const kind of ['runtime', 'init', 'wowlan'] as const satisfies readonly ImageKind[]) {
    img.sections[kind].forEach((s, i) => tlvs.push(sectionTlv(kind, s, i)));
  }
  for (const c of img.defCalib) tlvs.push({ type: TLV.DEF_CALIB, data: le32s(c.ucodeType, c.flowTrigger, c.eventTrigger) });
  u32Tlv(TLV.PHY_SKU, 'phySku', img.phySku);
  return tlvs;
}

/** The TLV ucode file for an image (deterministic bytes). */
export function buildFirmware(img: FirmwareImage): Uint8Array {
  const { major, minor, api, serial } = img.version;
  checkU8('version.major', major); checkU8('version.minor', minor); checkU8('version.api', api); checkU8('version.serial', serial);
  return encodeTlvFile({ description: img.description, ver: encodeVer(img.version), build: img.build }, imageTlvs(img));
}
