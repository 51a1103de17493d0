/**
 * simrun's convention for what a section's bytes contain ("SIMF"), so the
 * simulated firmware CPU can check, after the host pushed the image through
 * the service channel, that SRAM holds exactly what the file said. Real
 * firmware is code; simrun's images are self-describing data. Described for
 * users in docs/FIRMWARE.md.
 *
 * Every section starts with a 32-byte header (little endian):
 *
 *   0   u8[4] magic "SIMF"
 *   4   u8    format version (1)
 *   5   u8    image kind: 1 INIT, 2 runtime, 3 WoWLAN
 *   6   u8    index of this section in its image (0 ..)
 *   7   u8    number of sections in the image
 *   8   le32  SRAM destination of this section
 *   12  le32  payload length (bytes after this header)
 *   16  le32  CRC-32 of the payload
 *   20  le32  ucode `ver` word of the file (major/minor/API/serial)
 *   24  le32  build number of the file
 *   28  le32  CRC-32 of header bytes 0-27
 *
 * Section 0 is the boot section: its destination is BOOT_DEST (0x000000,
 * where the CPU starts) and its payload starts with the image directory, one
 * 8-byte entry per section of the image in index order: le32 destination,
 * le32 total section size (header + payload). The rest of every payload is
 * filler: le32 word k (at payload offset 4k, truncated at the end) is
 * `fillerWord(seed, k)` with seed = ver XOR (kind << 8 | index + 1) * 0x9E3779B1.
 *
 * Capabilities: in the boot section, the four filler words right after the
 * directory are XORed with the image's capability words (word k = bits of
 * capabilities 32k..32k+31, as in the file's ENABLED_CAPABILITIES), so the
 * firmware CPU knows from SRAM what the code it runs can do (UMAC scan, ...)
 * and which simrun quirks (word 3, SIMRUN_CAPA) it has. The four words after
 * those are XORed the same way with the image's API-flag words (as in the
 * file's API_CHANGES_SET), so the firmware knows which command layouts it
 * speaks (ADD_STA v10 with STA_TYPE, SCAN_REQ_UMAC v7 with ADAPTIVE_DWELL).
 * With no capabilities or API flags the words are plain filler.
 *
 * Nothing in this file throws on bad bytes: checks return a problem.
 */
import { crc32 } from './crc32.js';
import { decodeVer, type FirmwareVersion, type ImageKind, type Section } from './tlv.js';

export const SIMF_MAGIC = 0x464d4953; // "SIMF" as le32
export const SIMF_VERSION = 1;
export const SIMF_HEADER_SIZE = 32;
export const SIMF_DIR_ENTRY_SIZE = 8;
/** Where the boot section (index 0) of every simrun image goes. */
export const BOOT_DEST = 0x000000;
/** Largest section the checks will read (keeps a damaged header from asking for gigabytes). */
export const SIMF_MAX_SECTION_SIZE = 0x400000;

export const KIND_CODE: Readonly<Record<ImageKind, number>> = { init: 1, runtime: 2, wowlan: 3 };
const KIND_OF_CODE: readonly (ImageKind | undefined)[] = [undefined, 'init', 'runtime', 'wowlan'];

/** Field offsets in the SIMF header. */
export const SIMF = {
  MAGIC: 0, VERSION: 4, KIND: 5, INDEX: 6, COUNT: 7, DEST: 8,
  PAYLOAD_LEN: 12, PAYLOAD_CRC: 16, VER: 20, BUILD: 24, HEADER_CRC: 28,
} as const;

export interface SimfHeader {
  kind: ImageKind;
  index: number;
  count: number;
  dest: number;
  payloadLength: number;
  payloadCrc: number;
  ver: number;
  build: number;
}

/** What is wrong with a section's bytes; offset is relative to the section start. */
export interface SectionProblem {
  offset: number;
  field: string;
  message: string;
}

/** What a caller expects the section to be; each given field is checked. */
export interface SectionExpectation {
  kind?: ImageKind;
  index?: number;
  count?: number;
  dest?: number;
  ver?: number;
  build?: number;
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

function rd32(b: Uint8Array, off: number): number {
  return (b[off]! | b[off + 1]! << 8 | b[off + 2]! << 16 | b[off + 3]! << 24) >>> 0;
}
function wr32(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff; b[off + 1] = (v >>> 8) & 0xff; b[off + 2] = (v >>> 16) & 0xff; b[off + 3] = (v >>> 24) & 0xff;
}

/** Filler seed of a section. */
export function fillerSeed(ver: number, kind: ImageKind, index: number): number {
  return (ver ^ Math.imul((KIND_CODE[kind] << 8) | (index + 1), 0x9e3779b1)) >>> 0;
}

/** Filler word k of a section with this seed (a murmur3-style mix of seed + k). */
export function fillerWord(seed: number, k: number): number {
  let x = (seed + Math.imul(k, 0x85ebca6b)) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Payload word index of capability word 0 in a boot section whose image has `count` sections. */
export function capaWordIndex(count: number): number {
  return (count * SIMF_DIR_ENTRY_SIZE) / 4;
}
/** Capability words in the boot section (128 capability bits). */
export const CAPA_WORDS = 4;
/** API-flag words in the boot section (128 API bits), right after the capability words. */
export const API_WORDS = 4;

/** The four capability words of a set of capability numbers (0-127). */
export function capaWords(capabilities: Iterable<number>): number[] {
  const w = [0, 0, 0, 0];
  for (const c of capabilities) if (c >= 0 && c < 32 * CAPA_WORDS) w[c >>> 5] = (w[c >>> 5]! | (1 << (c & 31))) >>> 0;
  return w;
}

/** One section's place in the image layout: destination and total size in bytes. */
export interface SectionLayout {
  dest: number;
  size: number;
}

/**
 * The sections of one image following the SIMF convention. `layout[0]` must
 * be at BOOT_DEST and large enough for the header and the directory; every
 * size must be at least SIMF_HEADER_SIZE. Throws RangeError otherwise (a
 * programming error in the image description, not bad input).
 */
export function makeSimfSections(
  kind: ImageKind, ver: number, build: number, layout: readonly SectionLayout[], capabilities: Iterable<number> = [],
  apiFlags: Iterable<number> = [],
): Section[] {
  const capa = [...capaWords(capabilities), ...capaWords(apiFlags)];
  const count = layout.length;
  if (count === 0 || count > 255) throw new RangeError(`an image needs 1-255 sections, got ${count}`);
  const first = layout[0]!;
  if (first.dest !== BOOT_DEST) throw new RangeError(`section 0 must be at ${hex(BOOT_DEST)}, got ${hex(first.dest)}`);
  if (first.size < SIMF_HEADER_SIZE + count * SIMF_DIR_ENTRY_SIZE + 4 * (CAPA_WORDS + API_WORDS)) {
    throw new RangeError(`section 0 of ${first.size} bytes cannot hold the header, a ${count}-entry directory and the capability and API words`);
  }
  return layout.map((l, index) => {
    if (!Number.isInteger(l.size) || l.size < SIMF_HEADER_SIZE || l.size > SIMF_MAX_SECTION_SIZE) {
      throw new RangeError(`section ${index}: size ${l.size} outside ${SIMF_HEADER_SIZE}..${SIMF_MAX_SECTION_SIZE}`);
    }
    if (!Number.isInteger(l.dest) || l.dest < 0 || l.dest > 0xffffffff) throw new RangeError(`section ${index}: bad destination ${l.dest}`);
    const data = new Uint8Array(l.size);
    const payloadLen = l.size - SIMF_HEADER_SIZE;
    const seed = fillerSeed(ver, kind, index);
    const word = new Uint8Array(4);
    for (let k = 0; 4 * k < payloadLen; k++) {
      wr32(word, 0, fillerWord(seed, k));
      const at = SIMF_HEADER_SIZE + 4 * k;
      data.set(word.subarray(0, Math.min(4, payloadLen - 4 * k)), at);
    }
    if (index === 0) {
      layout.forEach((e, i) => {
        wr32(data, SIMF_HEADER_SIZE + i * SIMF_DIR_ENTRY_SIZE, e.dest >>> 0);
        wr32(data, SIMF_HEADER_SIZE + i * SIMF_DIR_ENTRY_SIZE + 4, e.size >>> 0);
      });
      const k0 = capaWordIndex(count);
      capa.forEach((w, i) => wr32(data, SIMF_HEADER_SIZE + 4 * (k0 + i), (fillerWord(seed, k0 + i) ^ w) >>> 0));
    }
    wr32(data, SIMF.MAGIC, SIMF_MAGIC);
    data[SIMF.VERSION] = SIMF_VERSION;
    data[SIMF.KIND] = KIND_CODE[kind];
    data[SIMF.INDEX] = index;
    data[SIMF.COUNT] = count;
    wr32(data, SIMF.DEST, l.dest >>> 0);
    wr32(data, SIMF.PAYLOAD_LEN, payloadLen);
    wr32(data, SIMF.PAYLOAD_CRC, crc32(data.subarray(SIMF_HEADER_SIZE)));
    wr32(data, SIMF.VER, ver >>> 0);
    wr32(data, SIMF.BUILD, build >>> 0);
    wr32(data, SIMF.HEADER_CRC, crc32(data.subarray(0, SIMF.HEADER_CRC)));
    return { dest: l.dest >>> 0, data };
  });
}

/**
 * Reads and checks a SIMF header (magic, format version, header CRC, kind,
 * index < count). Returns the header or the problem.
 */
export function readSimfHeader(bytes: Uint8Array): SimfHeader | SectionProblem {
  if (bytes.length < SIMF_HEADER_SIZE) {
    return { offset: bytes.length, field: 'header', message: `${bytes.length} bytes is shorter than the ${SIMF_HEADER_SIZE}-byte SIMF header` };
  }
  const magic = rd32(bytes, SIMF.MAGIC);
  if (magic !== SIMF_MAGIC) return { offset: SIMF.MAGIC, field: 'magic', message: `magic is ${hex(magic)}, expected ${hex(SIMF_MAGIC)} ("SIMF")` };
  const headerCrc = rd32(bytes, SIMF.HEADER_CRC);
  const actualHeaderCrc = crc32(bytes.subarray(0, SIMF.HEADER_CRC));
  if (headerCrc !== actualHeaderCrc) {
    return { offset: SIMF.HEADER_CRC, field: 'headerCrc', message: `header CRC-32 is ${hex(actualHeaderCrc)}, the header says ${hex(headerCrc)}` };
  }
  if (bytes[SIMF.VERSION] !== SIMF_VERSION) {
    return { offset: SIMF.VERSION, field: 'version', message: `format version ${bytes[SIMF.VERSION]}, expected ${SIMF_VERSION}` };
  }
  const kind = KIND_OF_CODE[bytes[SIMF.KIND]!];
  if (kind === undefined) return { offset: SIMF.KIND, field: 'kind', message: `image kind ${bytes[SIMF.KIND]} is not 1 (INIT), 2 (runtime) or 3 (WoWLAN)` };
  const index = bytes[SIMF.INDEX]!;
  const count = bytes[SIMF.COUNT]!;
  if (index >= count) return { offset: SIMF.INDEX, field: 'index', message: `section index ${index} is not below the section count ${count}` };
  return {
    kind, index, count,
    dest: rd32(bytes, SIMF.DEST),
    payloadLength: rd32(bytes, SIMF.PAYLOAD_LEN),
    payloadCrc: rd32(bytes, SIMF.PAYLOAD_CRC),
    ver: rd32(bytes, SIMF.VER),
    build: rd32(bytes, SIMF.BUILD),
  };
}

const isProblem = (h: SimfHeader | SectionProblem): h is SectionProblem => 'message' in h;

/**
 * Checks one section's bytes (exactly the section: header + payload) against
 * the SIMF convention and, optionally, what the caller expects. Returns null
 * when the section is intact, else what is wrong. Never throws.
 */
export function verifySectionPayload(bytes: Uint8Array, expect: SectionExpectation = {}): SectionProblem | null {
  const h = readSimfHeader(bytes);
  if (isProblem(h)) return h;
  const total = SIMF_HEADER_SIZE + h.payloadLength;
  if (bytes.length < total) {
    return { offset: bytes.length, field: 'payloadLength', message: `section is ${bytes.length} bytes, the header says ${total}` };
  }
  if (bytes.length > total) {
    return { offset: total, field: 'payloadLength', message: `${bytes.length - total} bytes follow the ${total}-byte section` };
  }
  const crc = crc32(bytes.subarray(SIMF_HEADER_SIZE, total));
  if (crc !== h.payloadCrc) {
    return { offset: SIMF.PAYLOAD_CRC, field: 'payloadCrc', message: `payload CRC-32 is ${hex(crc)}, the header says ${hex(h.payloadCrc)}` };
  }
  if (h.index === 0 && h.payloadLength < h.count * SIMF_DIR_ENTRY_SIZE) {
    return { offset: SIMF.PAYLOAD_LEN, field: 'payloadLength', message: `boot section payload of ${h.payloadLength} bytes cannot hold a ${h.count}-entry directory` };
  }
  const mismatch = (field: keyof SectionExpectation, offset: number, got: number | string, want: number | string | undefined): SectionProblem | null =>
    want === undefined || got === want ? null
      : { offset, field, message: `${field} is ${typeof got === 'number' ? hex(got) : got}, expected ${typeof want === 'number' ? hex(want) : want}` };
  return mismatch('kind', SIMF.KIND, h.kind, expect.kind)
    ?? mismatch('index', SIMF.INDEX, h.index, expect.index)
    ?? mismatch('count', SIMF.COUNT, h.count, expect.count)
    ?? mismatch('dest', SIMF.DEST, h.dest, expect.dest)
    ?? mismatch('ver', SIMF.VER, h.ver, expect.ver)
    ?? mismatch('build', SIMF.BUILD, h.build, expect.build);
}

/** Reads `len` bytes of device SRAM at `addr`; null when the range is not backed by SRAM. */
export type SramReader = (addr: number, len: number) => Uint8Array | null;

export type LoadedImageCheck =
  | {
    ok: true;
    kind: ImageKind;
    version: FirmwareVersion;
    ver: number;
    build: number;
    sections: SectionLayout[];
    /** Capability words from the boot section (word k = capabilities 32k..32k+31). */
    capa: number[];
    /** API-flag words from the boot section (word k = API flags 32k..32k+31). */
    api: number[];
    /** Capability word 3: the simrun quirk bits (bit b = capability 96 + b). */
    quirks: number;
  }
  | {
    ok: false;
    /** SRAM address of the offending byte (or of the section start). */
    addr: number;
    /** Index of the section at fault (0 = the boot section). */
    section: number;
    message: string;
  };

/**
 * What the simulated firmware CPU does when released: reads the boot
 * section at BOOT_DEST, its directory, then checks every section of the
 * image in SRAM. Returns the image kind and version to run, or the first
 * problem (the device model then reports a failed ALIVE). Never throws as
 * long as `read` does not.
 */
export function verifyLoadedImage(read: SramReader): LoadedImageCheck {
  const fail = (addr: number, section: number, message: string): LoadedImageCheck => ({ ok: false, addr: addr >>> 0, section, message });
  const hdr0 = read(BOOT_DEST, SIMF_HEADER_SIZE);
  if (hdr0 === null) return fail(BOOT_DEST, 0, 'no SRAM at the boot address');
  const h0 = readSimfHeader(hdr0);
  if (isProblem(h0)) return fail(BOOT_DEST + h0.offset, 0, `boot section: ${h0.message}`);
  if (h0.index !== 0) return fail(BOOT_DEST + SIMF.INDEX, 0, `boot section has index ${h0.index}, expected 0`);
  const size0 = SIMF_HEADER_SIZE + h0.payloadLength;
  if (size0 > SIMF_MAX_SECTION_SIZE) return fail(BOOT_DEST + SIMF.PAYLOAD_LEN, 0, `boot section: payload length ${h0.payloadLength} is too large`);
  const boot = read(BOOT_DEST, size0);
  if (boot === null || boot.length !== size0) return fail(BOOT_DEST, 0, `boot section (${size0} bytes) is not in SRAM`);
  const expect = { kind: h0.kind, count: h0.count, ver: h0.ver, build: h0.build };
  const p0 = verifySectionPayload(boot, { ...expect, index: 0, dest: BOOT_DEST });
  if (p0 !== null) return fail(BOOT_DEST + p0.offset, 0, `section 0 at ${hex(BOOT_DEST)}: ${p0.message}`);
  const sections: SectionLayout[] = [];
  for (let i = 0; i < h0.count; i++) {
    const at = SIMF_HEADER_SIZE + i * SIMF_DIR_ENTRY_SIZE;
    sections.push({ dest: rd32(boot, at), size: rd32(boot, at + 4) });
  }
  const dir0 = sections[0]!;
  if (dir0.dest !== BOOT_DEST || dir0.size !== size0) {
    return fail(BOOT_DEST + SIMF_HEADER_SIZE, 0, `directory entry 0 (${hex(dir0.dest)}, ${dir0.size} bytes) does not describe the boot section (${hex(BOOT_DEST)}, ${size0} bytes)`);
  }
  for (let i = 1; i < sections.length; i++) {
    const { dest, size } = sections[i]!;
    if (size < SIMF_HEADER_SIZE || size > SIMF_MAX_SECTION_SIZE) {
      return fail(BOOT_DEST + SIMF_HEADER_SIZE + i * SIMF_DIR_ENTRY_SIZE + 4, i, `directory entry ${i}: size ${size} is outside ${SIMF_HEADER_SIZE}..${SIMF_MAX_SECTION_SIZE}`);
    }
    const bytes = read(dest, size);
    if (bytes === null || bytes.length !== size) return fail(dest, i, `section ${i} (${hex(dest)}, ${size} bytes) is not in SRAM`);
    const p = verifySectionPayload(bytes, { ...expect, index: i, dest });
    if (p !== null) return fail(dest + p.offset, i, `section ${i} at ${hex(dest)}: ${p.message}`);
  }
  const k0 = capaWordIndex(h0.count);
  const seed0 = fillerSeed(h0.ver, h0.kind, 0);
  const words = Array.from({ length: CAPA_WORDS + API_WORDS }, (_, i) => {
    const at = SIMF_HEADER_SIZE + 4 * (k0 + i);
    return at + 4 <= size0 ? (rd32(boot, at) ^ fillerWord(seed0, k0 + i)) >>> 0 : 0;
  });
  const capa = words.slice(0, CAPA_WORDS);
  const api = words.slice(CAPA_WORDS);
  return { ok: true, kind: h0.kind, version: decodeVer(h0.ver), ver: h0.ver, build: h0.build, sections, capa, api, quirks: capa[3]! };
}
