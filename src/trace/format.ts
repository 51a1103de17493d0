/**
 * simrun trace file format, version 3 (4 and 5 add record kinds): constants, types, checksums and the
 * small binary helpers shared by the recorder and the reader.
 * The layout is documented in docs/TRACE-FORMAT.md; keep the two in step.
 *
 * File layout (all integers little-endian):
 *
 *   preamble   magic[8] "\x89SIMTRC\n" | u32 format version | u32 header length | u32 header CRC
 *   header     msgpack map (TraceHeader)
 *   chunk*     u32 compressed length | u32 chunk CRC | u32 raw length |
 *              u32 record count | f64 first seq | f64 first time | lz4 block (compressed bytes)
 *   index      magic[8] "SIMTRIDX" | msgpack list of {offset, firstSeq, firstTime, count}
 *   footer     f64 index offset | u32 index length | u32 index CRC-32 | f64 total records |
 *              f64 end time | u32 footer CRC | magic[8] "SIMTREND"
 *
 * Checks (version 3): the header CRC covers the preamble's version and
 * header length and the header; the chunk CRC covers the chunk header from
 * the raw length on and the compressed bytes; the index CRC covers the
 * index; the footer CRC covers the footer's first 32 bytes. The magics are
 * compared. So every byte outside the magics is under a CRC.
 * Versions 1 and 2: the header CRC covers the header only, the chunk CRC the
 * compressed bytes only, and the footer has no CRC (40 bytes).
 */
import * as zlib from 'node:zlib';
import { Rec } from '../sim/tracer.js';

/**
 * Bumped on any incompatible change of the layout below (see docs/TRACE-FORMAT.md).
 * Version 2 added the Air record kind (19); otherwise it is version 1, so
 * version 1 traces (which never hold Air records) read unchanged.
 * Version 3 put every byte of the preamble, chunk headers and footer under a
 * CRC (wider header and chunk CRCs, a footer CRC); versions 1 and 2 still read.
 * Version 4 is version 3 plus the Eth record kind (20). A trace is written as
 * version 3 unless it holds an Eth record: the recorder rewrites the preamble
 * and header as version 4 (same length) before the first Eth record reaches
 * the file, so traces without Ethernet frames keep their version 3 bytes and
 * an older simrun refuses a trace with Ethernet frames up front, naming the
 * version, instead of dropping the chunks that hold them as damage.
 * Version 5 is version 4 plus the Frame record kind (21, a display pipe's
 * scanned-out frame), by the same rule: a trace is written as version 5
 * exactly when it holds a Frame record (whether or not it holds Eth records),
 * so traces without frames keep their version 3 or 4 bytes.
 * Version 6 is version 5 plus the DmaImage record kind (22): a DMA write of
 * unmodified disk-image bytes stored as (fixture, offset, length), the bytes
 * read back from the fixture file (checked against the header's SHA-256);
 * and the DmaDelta kind (23): a small DMA payload as the 32-bit words that
 * changed against its stream's last payload in the chunk (delta.ts).
 * Same rule: written exactly when a trace holds one of them.
 * Version 7 stores every chunk in columns (columns.ts): the same records and
 * fields as version 6, split into a kind column, a time-delta column, one
 * zigzag-delta varint column per (record kind, field), a byte section and the
 * chunk's definitions. The recorder writes version 7; versions 1 to 6 (msgpack
 * records) still read.
 */
export const FORMAT_VERSION = 3;
/** The version of a trace holding Eth records (version 3 + the Eth record kind). */
export const ETH_FORMAT_VERSION = 4;
/** The version of a trace holding Frame records (version 4 + the Frame record kind). */
export const FRAME_FORMAT_VERSION = 5;
/** The version of a trace holding DmaImage or DmaDelta records (version 5 + disk-image references and word deltas). */
export const COMPACT_FORMAT_VERSION = 6;
/** The version whose chunks are columns (columns.ts); every record kind. */
export const COLUMN_FORMAT_VERSION = 7;
/** Versions this build reads. */
export const SUPPORTED_VERSIONS: readonly number[] = [1, 2, 3, 4, 5, 6, 7];
/** First version whose header, chunk and footer CRCs cover every byte (see above). */
export const FULL_CRC_VERSION = 3;

/** First 8 bytes of every trace: a high byte (catches 7-bit transfers), a name, a newline (catches newline mangling). */
export const MAGIC = Uint8Array.from([0x89, 0x53, 0x49, 0x4d, 0x54, 0x52, 0x43, 0x0a]); // \x89 S I M T R C \n
/** Precedes the index, so a reader without a footer knows the chunk section ended cleanly. */
export const INDEX_MAGIC = Uint8Array.from([0x53, 0x49, 0x4d, 0x54, 0x52, 0x49, 0x44, 0x58]); // SIMTRIDX
/** Last 8 bytes of a complete trace. */
export const FOOTER_MAGIC = Uint8Array.from([0x53, 0x49, 0x4d, 0x54, 0x52, 0x45, 0x4e, 0x44]); // SIMTREND

/** magic + u32 version + u32 header length + u32 header CRC. */
export const PREAMBLE_SIZE = 20;
/** u32 compLen + u32 crc + u32 rawLen + u32 count + f64 firstSeq + f64 firstTime. */
export const CHUNK_HEADER_SIZE = 32;
/** f64 indexOffset + u32 indexLength + u32 indexCrc + f64 totalRecords + f64 endTime + u32 footerCrc + magic. */
export const FOOTER_SIZE = 44;
/** Versions 1 and 2: the footer without its CRC. */
export const FOOTER_SIZE_V2 = 40;
/** Footer bytes the footer CRC covers (version 3), and where the CRC is. */
export const FOOTER_CRC_AT = 32;
/** Footer size of a trace of format `version`. */
export function footerSize(version: number): number {
  return version >= FULL_CRC_VERSION ? FOOTER_SIZE : FOOTER_SIZE_V2;
}
/** Preamble bytes (version, header length) the version 3 header CRC covers before the header. */
export const PREAMBLE_CRC_FROM = 8;
export const PREAMBLE_CRC_TO = 16;
/** Chunk header bytes (raw length, count, first seq, first time) the version 3 chunk CRC covers before the block. */
export const CHUNK_CRC_FROM = 8;

/** Default raw (uncompressed) bytes per chunk before it is flushed. */
export const DEFAULT_CHUNK_BYTES = 64 * 1024;
/** Default bytes of distinct DMA payloads kept for de-duplication before the blob table is reset (a new epoch). */
export const DEFAULT_BLOB_WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * DMA payloads of at most this many bytes are stored inline in the DMA record
 * (as msgpack bin) instead of as a Blob: a definition plus a reference would
 * cost more than the bytes, and such payloads (completion entries, status
 * words) rarely repeat exactly. The same rule applies to the frames of Air
 * records (ACK and CTS frames are 10 bytes).
 */
export const DMA_INLINE_MAX = 16;
/** At most this many strings are interned; later new strings are stored inline. */
export const MAX_INTERNED_STRINGS = 65_536;
/** Largest raw chunk a reader accepts (a plausibility bound used while resynchronising). */
export const MAX_CHUNK_RAW = 0x40000000;
/** Largest header a reader accepts. */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export interface TraceHeader {
  formatVersion: number;
  tool: { name: string; version: string };
  scenario: { name: string; path: string; hash: string };
  seed: number;
  /** The scenario's machine section as plain JSON. */
  machine: unknown;
  fixtures: { path: string; hash: string }[];
  /** Device table; `dev` in records is `index` here. */
  devices: { index: number; id: string; type: string; bdf: string }[];
  createdBy?: string;
}

/** What the recorder is given: the header without the version, which it fills in. */
export type TraceHeaderInput = Omit<TraceHeader, 'formatVersion'> & { formatVersion?: number };

export interface IndexEntry {
  /** Byte offset of the chunk header in the file. */
  offset: number;
  /** Sequence number of the chunk's first event record. */
  firstSeq: number;
  /** Time (ps) of the chunk's first event record. */
  firstTime: number;
  /** Event records in the chunk (Str/Blob definitions not counted). */
  count: number;
}

export interface TraceFooter {
  indexOffset: number;
  indexLength: number;
  indexCrc: number;
  totalRecords: number;
  endTime: number;
}

/** A damaged or missing region of a trace, or a reference into one. */
export interface DamageReport {
  /** Byte offset in the file where the damage starts. */
  offset: number;
  /** Bytes skipped from `offset` (0 when nothing was skipped, e.g. a missing reference). */
  length: number;
  reason: string;
}

/** A trace that cannot be read at all (bad magic, unsupported version, unreadable header). */
export class TraceFormatError extends Error {
  override readonly name = 'TraceFormatError';
  constructor(message: string, readonly path: string, readonly offset: number) {
    super(`${path}: ${message} (at byte offset ${offset})`);
  }
}

/** Event kinds by record kind (index = Rec value). Str/Blob have none. */
export const KIND_OF_REC: readonly (string | undefined)[] = (() => {
  const k: (string | undefined)[] = [];
  k[Rec.MmioRead] = 'mmio'; k[Rec.MmioWrite] = 'mmio';
  k[Rec.PioRead] = 'pio'; k[Rec.PioWrite] = 'pio';
  k[Rec.CfgRead] = 'cfg'; k[Rec.CfgWrite] = 'cfg';
  k[Rec.DmaRead] = 'dma'; k[Rec.DmaWrite] = 'dma';
  k[Rec.Intx] = 'intx'; k[Rec.Msi] = 'msi';
  k[Rec.SchemeReq] = 'schemeReq'; k[Rec.SchemeReply] = 'schemeReply';
  k[Rec.Milestone] = 'milestone'; k[Rec.Log] = 'log';
  k[Rec.GuestErr] = 'guestErr'; k[Rec.Proc] = 'proc';
  k[Rec.Air] = 'air';
  k[Rec.Eth] = 'eth';
  k[Rec.Frame] = 'frame';
  k[Rec.DmaImage] = 'dma';
  k[Rec.DmaDelta] = 'dma';
  return k;
})();

/** The first format version that may hold records of kind `rec` (Air: 2, Eth: 4, Frame: 5, DmaImage and DmaDelta: 6, others 1). */
export function firstVersionOf(rec: number): number {
  if (rec === Rec.DmaImage || rec === Rec.DmaDelta) return COMPACT_FORMAT_VERSION;
  if (rec === Rec.Frame) return FRAME_FORMAT_VERSION;
  if (rec === Rec.Eth) return ETH_FORMAT_VERSION;
  if (rec === Rec.Air) return 2;
  return 1;
}

/** Log levels and process events are stored as small integers. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export const PROC_EVENTS = ['spawn', 'exit', 'crash', 'kill'] as const;

// ---------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, the zlib/PNG polynomial).

let crcTable: Int32Array | undefined;
function crc32Table(): Int32Array {
  if (crcTable) return crcTable;
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  crcTable = t;
  return t;
}

/** Table-driven CRC-32, used when node:zlib has no crc32 (Node < 20.15). `prev` continues an earlier CRC. */
export function crc32Fallback(data: Uint8Array, start = 0, end = data.length, prev = 0): number {
  const t = crc32Table();
  let c = prev ^ -1;
  for (let i = start; i < end; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

type NativeCrc = (data: Uint8Array, value?: number) => number;
const nativeCrc: NativeCrc | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (zlib as unknown as { crc32: NativeCrc }).crc32 : undefined;

/**
 * CRC-32 of `data` (zlib.crc32 when available, else the table-driven
 * fallback); `prev` continues the CRC of bytes before it:
 * crc32(b, crc32(a)) === crc32(a ++ b).
 */
export function crc32(data: Uint8Array, prev = 0): number {
  return nativeCrc ? nativeCrc(data, prev) >>> 0 : crc32Fallback(data, 0, data.length, prev);
}

// ---------------------------------------------------------------------------
// Little-endian helpers over plain Uint8Arrays (no DataView allocation).

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; b[o + 2] = (v >>> 16) & 0xff; b[o + 3] = (v >>> 24) & 0xff;
}
export function readU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
export function writeF64(b: Uint8Array, o: number, v: number): void {
  f64[0] = v;
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) b[o + i] = f64b[i]!;
  else for (let i = 0; i < 8; i++) b[o + i] = f64b[7 - i]!;
}
export function readF64(b: Uint8Array, o: number): number {
  if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) f64b[i] = b[o + i]!;
  else for (let i = 0; i < 8; i++) f64b[7 - i] = b[o + i]!;
  return f64[0]!;
}
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

export const isLittleEndianHost = LITTLE_ENDIAN;

/** Upper bound of an lz4 block for `raw` input bytes, plus lz4-napi's 4-byte size prefix. */
export function lz4Bound(raw: number): number {
  return raw + Math.floor(raw / 255) + 16 + 4;
}
