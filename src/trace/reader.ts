/**
 * Streaming trace reader. Reads a trace file (or an in-memory trace) chunk by
 * chunk with fs.readSync, so memory stays flat whatever the file size: one
 * compressed chunk, one decoded chunk, the interned strings and the DMA
 * payloads of the current blob epoch.
 *
 * Damage handling: a truncated file, a chunk whose CRC, lz4 block or records
 * do not check out, or a damaged index/footer is reported as a DamageReport
 * naming the byte offset, and reading goes on: with an intact index the next
 * chunk is found through it, otherwise the reader scans forward for the next
 * plausible chunk header and validates it (lengths, lz4 size prefix, CRC,
 * record count). Every intact chunk is recovered. Definitions (Str/Blob) are
 * global: a reference to a definition that was in a lost chunk is reported
 * once per missing id and the event is still returned, marked `missing`.
 */
import * as fs from 'node:fs';
import { Unpackr } from 'msgpackr';
import { uncompressSync } from 'lz4-napi';
import { Rec, type TraceEvent } from '../sim/tracer.js';
import { ImageStore } from './images.js';
import { DELTA_MAX, DELTA_MIN, DeltaBases, deltaKey, popcount } from './delta.js';
import { ColumnBlock, FIELD_NUMBER, FIELD_PAYLOAD, FIELD_STRING, FIELD_TEXT, decodeColumns, fieldCodes, type ChunkDef } from './columns.js';
import {
  CHUNK_HEADER_SIZE, FOOTER_MAGIC, FORMAT_VERSION, INDEX_MAGIC, KIND_OF_REC, LOG_LEVELS, MAGIC,
  MAX_CHUNK_RAW, MAX_HEADER_BYTES, PREAMBLE_SIZE, PROC_EVENTS, SUPPORTED_VERSIONS, TraceFormatError, bytesEqual,
  crc32, lz4Bound, readF64, readU32, writeF64, writeU32, footerSize, CHUNK_CRC_FROM, FOOTER_CRC_AT, FULL_CRC_VERSION,
  PREAMBLE_CRC_FROM, PREAMBLE_CRC_TO, firstVersionOf, COLUMN_FORMAT_VERSION,
  type DamageReport, type IndexEntry, type TraceFooter, type TraceHeader,
} from './format.js';

/**
 * A decoded event with its sequence number; `missing` says which definition
 * was lost, if any. A DMA event stored as a disk-image reference (format 6+)
 * also names the image and the offset its bytes came from, so a replay can
 * record the reference again.
 */
export type SeqEvent = TraceEvent & { seq: number; missing?: string; image?: string; imageOffset?: number };
export type EventKind = TraceEvent['kind'];

export interface EventFilter {
  /** Event kinds to return (TraceEvent['kind'] names). */
  kinds?: readonly EventKind[];
  /** Device indices to return; events without a device (scheme, log, proc) are dropped when set. */
  devs?: readonly number[];
  /** Inclusive sequence range. */
  fromSeq?: number;
  toSeq?: number;
  /** Inclusive time range in ps. */
  fromTime?: number;
  toTime?: number;
}

export type TraceSource = string | Uint8Array;

export interface TraceReader {
  /** File path, or "<buffer>" for an in-memory trace. */
  readonly path: string;
  readonly size: number;
  readonly header: TraceHeader;
  /** The footer, when it and the index are intact. */
  readonly footer: TraceFooter | undefined;
  /** The chunk index, when intact. */
  readonly index: readonly IndexEntry[] | undefined;
  /**
   * Damage found so far: index/footer damage is known on open; chunk damage
   * and missing references are added while `events()` runs (complete once an
   * iteration has run to the end). Each `events()` call starts the list over.
   */
  readonly damage: DamageReport[];
  events(filter?: EventFilter): Generator<SeqEvent, void, undefined>;
  /** The same events as `events()`, as a pull cursor (no generator step per event); damage as by `events()`. */
  cursor(filter?: EventFilter): EventCursor;
  /**
   * Every intact chunk as typed arrays (no object per event), the fast way
   * through a whole trace; damage is reported as by `events()`. The block is
   * reused for the next chunk: read it before asking for the next one.
   */
  chunks(): Generator<TraceChunk, void, undefined>;
}

/** One chunk's events in columns (columns.ts ColumnBlock), with its definitions applied. */
export interface TraceChunk {
  /** Sequence number of the block's first event. */
  firstSeq: number;
  block: ColumnBlock;
  /** A string field's value (an interned id or an inline string of the block). */
  str(v: number): string;
}

export interface TraceSummary {
  path: string;
  header: TraceHeader;
  bytes: number;
  records: number;
  chunks: number;
  /** Events per kind (TraceEvent kind names). */
  byKind: Record<string, number>;
  /** Events per device id, split by kind. */
  byDevice: Record<string, { total: number; byKind: Record<string, number> }>;
  /** Time of the first and last event (ps); 0 for an empty trace. */
  firstTime: number;
  lastTime: number;
  firstSeq: number;
  lastSeq: number;
  blobs: number;
  blobBytes: number;
  strings: number;
  /** Whether the index and footer were intact. */
  indexed: boolean;
  damage: DamageReport[];
}

// ---------------------------------------------------------------------------
// Byte sources

interface Source {
  readonly name: string;
  readonly size: number;
  /** Copies up to `len` bytes at `pos` into `dst` at `dstOff`; returns the count. */
  read(pos: number, dst: Uint8Array, dstOff: number, len: number): number;
  close(): void;
}

function fileSource(path: string): Source {
  // stat before opening: opening a FIFO for reading blocks until a writer comes.
  let pre: fs.Stats;
  try {
    pre = fs.statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TraceFormatError(`cannot open trace (${code ?? String(e)})`, path, 0);
  }
  if (pre.isDirectory()) throw new TraceFormatError('not a regular file (a directory)', path, 0);
  if (!pre.isFile()) throw new TraceFormatError('not a regular file (a FIFO, socket or device)', path, 0);
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TraceFormatError(`cannot open trace (${code ?? String(e)})`, path, 0);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new TraceFormatError('not a regular file', path, 0);
  }
  const size = st.size;
  return {
    name: path,
    size,
    read(pos, dst, dstOff, len) {
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, dst, dstOff + got, len - got, pos + got);
        if (n <= 0) break;
        got += n;
      }
      return got;
    },
    close() {
      fs.closeSync(fd);
    },
  };
}

function bufferSource(buf: Uint8Array): Source {
  return {
    name: '<buffer>',
    size: buf.length,
    read(pos, dst, dstOff, len) {
      const n = Math.max(0, Math.min(len, buf.length - pos));
      dst.set(buf.subarray(pos, pos + n), dstOff);
      return n;
    },
    close() {},
  };
}

function openSource(src: TraceSource): Source {
  return typeof src === 'string' ? fileSource(src) : bufferSource(src);
}

function readExact(src: Source, pos: number, len: number): Uint8Array | undefined {
  const b = new Uint8Array(len);
  return src.read(pos, b, 0, len) === len ? b : undefined;
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true, int64AsType: 'number' });

const hex = (n: number): string => `0x${n.toString(16)}`;
const at = (n: number): string => `byte ${n} (${hex(n)})`;

// ---------------------------------------------------------------------------
// Header, footer, index

interface Opened {
  header: TraceHeader;
  dataStart: number;
  footer: TraceFooter | undefined;
  index: IndexEntry[] | undefined;
  openDamage: DamageReport[];
}

function parseHeader(src: Source): { header: TraceHeader; dataStart: number } {
  const name = src.name;
  if (src.size === 0) throw new TraceFormatError('empty file: not a simrun trace', name, 0);
  const pre = new Uint8Array(PREAMBLE_SIZE);
  const got = src.read(0, pre, 0, PREAMBLE_SIZE);
  if (got < MAGIC.length || !bytesEqual(pre, 0, MAGIC, 0, MAGIC.length)) {
    const first = Array.from(pre.subarray(0, Math.min(got, 8)), (b) => b.toString(16).padStart(2, '0')).join(' ');
    if (got < MAGIC.length && bytesEqual(pre, 0, MAGIC, 0, got)) {
      throw new TraceFormatError(`file truncated in the magic: only ${got} bytes`, name, got);
    }
    throw new TraceFormatError(`not a simrun trace: bad magic (first bytes ${first}, expected 89 53 49 4d 54 52 43 0a)`, name, 0);
  }
  if (got < PREAMBLE_SIZE) throw new TraceFormatError(`file truncated in the preamble: only ${got} bytes`, name, got);
  const version = readU32(pre, 8);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new TraceFormatError(
      `trace format version ${version} is not supported by this simrun (supports ${SUPPORTED_VERSIONS.join(', ')})`, name, 8);
  }
  const len = readU32(pre, 12);
  if (len === 0 || len > MAX_HEADER_BYTES) throw new TraceFormatError(`unreadable header: implausible header length ${len}`, name, 12);
  if (PREAMBLE_SIZE + len > src.size) {
    throw new TraceFormatError(
      `unreadable header: file truncated in the header (header of ${len} bytes at ${PREAMBLE_SIZE}, file ends at ${src.size})`,
      name, src.size);
  }
  const body = readExact(src, PREAMBLE_SIZE, len);
  if (!body) throw new TraceFormatError('unreadable header: short read', name, PREAMBLE_SIZE);
  const headerCrc = version >= FULL_CRC_VERSION ? crc32(body, crc32(pre.subarray(PREAMBLE_CRC_FROM, PREAMBLE_CRC_TO))) : crc32(body);
  if (headerCrc !== readU32(pre, 16)) throw new TraceFormatError('unreadable header: header CRC mismatch (corrupted)', name, PREAMBLE_SIZE);
  let header: unknown;
  try {
    header = unpackr.unpack(body);
  } catch (e) {
    throw new TraceFormatError(`unreadable header: ${(e as Error).message}`, name, PREAMBLE_SIZE);
  }
  if (!header || typeof header !== 'object' || (header as TraceHeader).formatVersion !== version ||
      !Array.isArray((header as TraceHeader).devices)) {
    throw new TraceFormatError('unreadable header: not a trace header map (or its version disagrees with the preamble)', name, PREAMBLE_SIZE);
  }
  return { header: header as TraceHeader, dataStart: PREAMBLE_SIZE + len };
}

/** Footer and index, or a reason they cannot be used. */
function parseFooter(src: Source, dataStart: number, version: number): { footer: TraceFooter; index: IndexEntry[] } | DamageReport | undefined {
  const size = src.size;
  const fsize = footerSize(version);
  if (size < dataStart + INDEX_MAGIC.length + fsize) return undefined;
  const f = readExact(src, size - fsize, fsize);
  if (!f || !bytesEqual(f, fsize - FOOTER_MAGIC.length, FOOTER_MAGIC, 0, FOOTER_MAGIC.length)) return undefined;
  const footerAt = size - fsize;
  if (version >= FULL_CRC_VERSION && crc32(f.subarray(0, FOOTER_CRC_AT)) !== readU32(f, FOOTER_CRC_AT)) {
    return {
      offset: footerAt, length: size - footerAt,
      reason: `footer at ${at(footerAt)} is corrupted (CRC mismatch); the index, record count and end time are not used and chunks are found by scanning`,
    };
  }
  const footer: TraceFooter = {
    indexOffset: readF64(f, 0),
    indexLength: readU32(f, 8),
    indexCrc: readU32(f, 12),
    totalRecords: readF64(f, 16),
    endTime: readF64(f, 24),
  };
  const bad = (offset: number, why: string): DamageReport =>
    ({ offset, length: size - offset, reason: `${why}; the index is not used and chunks are found by scanning` });
  const io = footer.indexOffset;
  if (!Number.isSafeInteger(io) || io < dataStart || io + INDEX_MAGIC.length + footer.indexLength !== footerAt) {
    return bad(footerAt, `footer at ${at(footerAt)} is damaged (index offset ${io}, length ${footer.indexLength})`);
  }
  const mark = readExact(src, io, INDEX_MAGIC.length);
  if (!mark || !bytesEqual(mark, 0, INDEX_MAGIC, 0, INDEX_MAGIC.length)) return bad(io, `index marker missing at ${at(io)}`);
  const body = readExact(src, io + INDEX_MAGIC.length, footer.indexLength);
  if (!body || crc32(body) !== footer.indexCrc) return bad(io, `index at ${at(io)} is corrupted (CRC mismatch)`);
  let list: unknown;
  try {
    list = unpackr.unpack(body);
  } catch (e) {
    return bad(io, `index at ${at(io)} does not decode (${(e as Error).message})`);
  }
  if (!Array.isArray(list)) return bad(io, `index at ${at(io)} is not a list`);
  const index: IndexEntry[] = [];
  let prevEnd = dataStart;
  let nextSeq = 0;
  for (const e of list as unknown[]) {
    const x = e as Partial<IndexEntry> | null;
    if (!x || !Number.isSafeInteger(x.offset) || !Number.isSafeInteger(x.firstSeq) || !Number.isSafeInteger(x.count) ||
        typeof x.firstTime !== 'number' || x.offset! < prevEnd || x.offset! + CHUNK_HEADER_SIZE > io || x.firstSeq! < nextSeq) {
      return bad(io, `index at ${at(io)} has an inconsistent entry`);
    }
    index.push({ offset: x.offset!, firstSeq: x.firstSeq!, firstTime: x.firstTime, count: x.count! });
    prevEnd = x.offset! + CHUNK_HEADER_SIZE;
    nextSeq = x.firstSeq! + x.count!;
  }
  if (footer.totalRecords !== nextSeq) {
    return bad(footerAt, `footer at ${at(footerAt)} is damaged (total records ${footer.totalRecords}, the index says ${nextSeq})`);
  }
  return { footer, index };
}

function openSrc(src: Source): Opened {
  const { header, dataStart } = parseHeader(src);
  const f = parseFooter(src, dataStart, header.formatVersion);
  const openDamage: DamageReport[] = [];
  let footer: TraceFooter | undefined;
  let index: IndexEntry[] | undefined;
  if (f === undefined) {
    openDamage.push({
      offset: src.size, length: 0,
      reason: `no footer at the end of the file (${src.size} bytes): the trace is truncated or was not closed; chunks are found by scanning`,
    });
  } else if ('reason' in f) {
    openDamage.push(f);
  } else {
    footer = f.footer;
    index = f.index;
  }
  return { header, dataStart, footer, index, openDamage };
}

// ---------------------------------------------------------------------------
// Chunks

interface Chunk {
  offset: number;
  /** Bytes from the chunk header to the end of its compressed block. */
  length: number;
  firstSeq: number;
  firstTime: number;
  count: number;
  /** The chunk's events in columns (a block the chunk reader reuses for its next chunk). */
  block: ColumnBlock;
}

interface ChunkHead {
  compLen: number;
  crc: number;
  rawLen: number;
  count: number;
  firstSeq: number;
  firstTime: number;
}

function headAt(b: Uint8Array, o: number): ChunkHead {
  return {
    compLen: readU32(b, o), crc: readU32(b, o + 4), rawLen: readU32(b, o + 8), count: readU32(b, o + 12),
    firstSeq: readF64(b, o + 16), firstTime: readF64(b, o + 24),
  };
}

/** Cheap checks on the fixed fields of a chunk header (no I/O). */
function headPlausible(h: ChunkHead, pos: number, size: number, minSeq: number): string | undefined {
  if (h.rawLen < 1 || h.rawLen > MAX_CHUNK_RAW) return `implausible raw length ${h.rawLen}`;
  if (h.compLen < 5 || h.compLen > lz4Bound(h.rawLen)) return `implausible compressed length ${h.compLen} for raw length ${h.rawLen}`;
  if (h.count > h.rawLen) return `implausible record count ${h.count}`;
  if (!Number.isSafeInteger(h.firstSeq) || h.firstSeq < minSeq) return `implausible first sequence number ${h.firstSeq}`;
  if (!Number.isFinite(h.firstTime)) return `implausible first time ${h.firstTime}`;
  const end = pos + CHUNK_HEADER_SIZE + h.compLen;
  if (end > size) return `truncated: the chunk needs ${h.compLen} compressed bytes up to byte ${end}, but the file ends at ${size}`;
  return undefined;
}

/** Record kinds a trace of format `version` may hold (an Eth record in a version 3 chunk is damage). */
function validKinds(version: number): readonly boolean[] {
  const v: boolean[] = [];
  for (let k = Rec.MmioRead; k <= Rec.DmaDelta; k++) v[k] = version >= firstVersionOf(k);
  return v;
}

/** Largest compressed chunk whose read buffer is kept for reuse. */
const KEEP_BODY_MAX = 16 * 1024 * 1024;

class ChunkReader {
  private body = new Uint8Array(256 * 1024);
  /** The decoded columns of the last chunk loaded (reused). */
  private readonly block = new ColumnBlock();
  /** Inline bytes of a msgpack chunk being converted to columns (reused). */
  private legacyBytes = new Uint8Array(4096);
  private readonly hdr = new Uint8Array(CHUNK_HEADER_SIZE);
  /** The chunk header fields under the CRC (format 3), rebuilt from a parsed header. */
  private readonly crcHead = new Uint8Array(CHUNK_HEADER_SIZE - CHUNK_CRC_FROM);
  private readonly validKind: readonly boolean[];
  constructor(private readonly src: Source, private readonly version: number) {
    this.validKind = validKinds(version);
  }

  /** The chunk's CRC as the format version defines it. */
  private crcOf(h: ChunkHead, comp: Uint8Array): number {
    if (this.version < FULL_CRC_VERSION) return crc32(comp);
    const b = this.crcHead;
    writeU32(b, 0, h.rawLen);
    writeU32(b, 4, h.count);
    writeF64(b, 8, h.firstSeq);
    writeF64(b, 16, h.firstTime);
    return crc32(comp, crc32(b));
  }

  head(pos: number): ChunkHead | undefined {
    if (this.src.read(pos, this.hdr, 0, CHUNK_HEADER_SIZE) !== CHUNK_HEADER_SIZE) return undefined;
    return headAt(this.hdr, 0);
  }

  /** Reads and validates the chunk at `pos`; a string says why it is not intact. */
  load(pos: number, h: ChunkHead, expect?: { firstSeq: number; count: number; firstTime: number }): Chunk | string {
    const n = h.compLen;
    // Keep one reusable buffer for ordinary chunks; an outsized one gets its own.
    if (this.body.length < n && n <= KEEP_BODY_MAX) this.body = new Uint8Array(Math.min(KEEP_BODY_MAX, Math.max(n, this.body.length * 2)));
    const comp = n <= this.body.length ? this.body.subarray(0, n) : new Uint8Array(n);
    if (this.src.read(pos + CHUNK_HEADER_SIZE, comp, 0, n) !== n) return 'short read';
    if (this.crcOf(h, comp) !== h.crc) return 'CRC mismatch (corrupted bytes)';
    if (readU32(comp, 0) !== h.rawLen) return 'lz4 block size disagrees with the chunk header';
    let raw: Uint8Array;
    try {
      raw = uncompressSync(comp);
    } catch (e) {
      return `lz4 decompression failed (${(e as Error).message})`;
    }
    if (raw.length !== h.rawLen) return `decompressed to ${raw.length} bytes, header says ${h.rawLen}`;
    const want = expect ?? h;
    const block = this.block;
    if (this.version >= COLUMN_FORMAT_VERSION) {
      // A plain Uint8Array view: Buffer's slice() would not copy what the block hands out.
      // `raw` is a new array per chunk, never written again: windows into it may be kept (PayloadView.stable).
      const bad = decodeColumns(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), want.count, this.validKind, block, true);
      if (bad !== undefined) return bad;
    } else {
      const bad = this.fromRecords(raw, want.count);
      if (bad !== undefined) return bad;
    }
    if (block.n > 0 && block.time[0] !== want.firstTime) return `first record time ${block.time[0]} disagrees with the chunk header (${want.firstTime})`;
    return { offset: pos, length: CHUNK_HEADER_SIZE + n, firstSeq: want.firstSeq, firstTime: want.firstTime, count: block.n, block };
  }

  /** A msgpack-records chunk (formats 1 to 6) into the column block: the records have the fields of columns.ts's schema, in its order. */
  private fromRecords(raw: Uint8Array, count: number): string | undefined {
    let values: unknown[];
    try {
      values = unpackr.unpackMultiple(new Uint8Array(raw.buffer, raw.byteOffset, raw.length)) as unknown[];
    } catch (e) {
      return `records do not decode (${(e as Error).message})`;
    }
    let events = 0;
    for (const v of values) {
      if (!Array.isArray(v) || typeof v[0] !== 'number' || this.validKind[v[0]] !== true) return 'malformed record';
      if (v[0] !== Rec.Str && v[0] !== Rec.Blob) events++;
    }
    if (events !== count) return `holds ${events} records, expected ${count}`;
    const b = this.block;
    b.reset(count);
    let bytesAt = 0;
    let t = 0;
    let i = 0;
    for (const v of values as unknown[][]) {
      const k = v[0] as number;
      if (k === Rec.Str || k === Rec.Blob) {
        const blob = k === Rec.Blob;
        const data = blob && v[2] instanceof Uint8Array ? v[2] : new Uint8Array(0);
        b.defs.push({ at: i, blob, id: v[1] as number, text: blob ? '' : String(v[2]), data, epochStart: typeof v[3] === 'number' ? v[3] : 0 });
        continue;
      }
      const codes = fieldCodes(k);
      if (typeof v[1] !== 'number' || codes === undefined) return 'malformed record';
      t += v[1];
      b.kind[i] = k;
      b.time[i] = t;
      b.aux[i] = 0;
      for (let j = 0; j < codes.length; j++) {
        const x = v[j + 2];
        let out: number;
        switch (codes[j]) {
          case FIELD_NUMBER:
            if (typeof x !== 'number') return 'malformed record';
            out = x;
            break;
          case FIELD_STRING:
            if (typeof x === 'number') out = x;
            else if (typeof x === 'string') { out = -(1 + b.strs.length); b.strs.push(x); }
            else return 'malformed record';
            break;
          case FIELD_TEXT:
            out = b.strs.length;
            b.strs.push(String(x));
            break;
          default: // payload or delta words: a blob id (payloads only) or inline bytes
            if (typeof x === 'number' && codes[j] === FIELD_PAYLOAD) { out = x; break; }
            if (!(x instanceof Uint8Array)) return 'malformed record';
            if (bytesAt + x.length > this.legacyBytes.length) {
              const nb = new Uint8Array(Math.max(2 * this.legacyBytes.length, bytesAt + x.length));
              nb.set(this.legacyBytes.subarray(0, bytesAt));
              this.legacyBytes = nb;
            }
            this.legacyBytes.set(x, bytesAt);
            out = -(1 + bytesAt);
            b.aux[i] = x.length;
            bytesAt += x.length;
        }
        b.f[j]![i] = out;
      }
      i++;
    }
    b.bytes = this.legacyBytes.subarray(0, bytesAt);
    b.bytesStable = false;
    b.n = i;
    return undefined;
  }
}


/**
 * Scans forward from `from` for the next chunk that validates, or the index
 * marker. Reads a sliding window; full validation only for candidates whose
 * fixed fields and lz4 size prefix check out.
 */
function scanForward(src: Source, cr: ChunkReader, from: number, minSeq: number):
  { chunk: Chunk } | { indexAt: number } | undefined {
  const size = src.size;
  const WIN = 1 << 20;
  const win = new Uint8Array(WIN);
  const need = CHUNK_HEADER_SIZE + 4; // header + lz4 size prefix
  let base = from;
  while (base + INDEX_MAGIC.length <= size) {
    const got = src.read(base, win, 0, WIN);
    const last = got - Math.min(need, INDEX_MAGIC.length);
    for (let i = 0; i <= last; i++) {
      const pos = base + i;
      if (win[i] === INDEX_MAGIC[0] && i + INDEX_MAGIC.length <= got && bytesEqual(win, i, INDEX_MAGIC, 0, INDEX_MAGIC.length)) {
        return { indexAt: pos };
      }
      if (i + need > got) continue;
      const rawLen = readU32(win, i + 8);
      if (rawLen < 1 || rawLen > MAX_CHUNK_RAW || readU32(win, i + CHUNK_HEADER_SIZE) !== rawLen) continue;
      const h = headAt(win, i);
      if (headPlausible(h, pos, size, minSeq) !== undefined) continue;
      const c = cr.load(pos, h);
      if (typeof c !== 'string') return { chunk: c };
    }
    if (base + got >= size) break;
    base += got - need; // overlap so no candidate straddling the window edge is missed
  }
  return undefined;
}

/** Yields every intact chunk in order, appending to `damage` as it goes. */
function* chunks(src: Source, o: Opened, damage: DamageReport[]): Generator<Chunk, void, undefined> {
  const cr = new ChunkReader(src, o.header.formatVersion);
  const size = src.size;
  if (o.index && o.footer) {
    const idx = o.index;
    let expected = o.dataStart;
    for (let i = 0; i < idx.length; i++) {
      const e = idx[i]!;
      const end = i + 1 < idx.length ? idx[i + 1]!.offset : o.footer.indexOffset;
      if (e.offset !== expected) {
        damage.push({ offset: expected, length: e.offset - expected, reason: `${e.offset - expected} bytes not covered by the index` });
      }
      expected = end;
      const lost = `records ${e.firstSeq}..${e.firstSeq + e.count - 1} lost`;
      const h = cr.head(e.offset);
      let res: Chunk | string;
      if (!h) res = 'chunk header unreadable';
      else if (CHUNK_HEADER_SIZE + h.compLen !== end - e.offset) res = `chunk header length ${h.compLen} disagrees with the index (${end - e.offset - CHUNK_HEADER_SIZE})`;
      else res = cr.load(e.offset, h, e);
      if (typeof res === 'string') {
        damage.push({ offset: e.offset, length: end - e.offset, reason: `chunk at ${at(e.offset)}: ${res}; ${lost}` });
        continue;
      }
      if (h && (h.firstSeq !== e.firstSeq || h.count !== e.count || h.firstTime !== e.firstTime)) {
        damage.push({ offset: e.offset, length: 0, reason: `chunk at ${at(e.offset)}: header fields disagree with the index; index values used` });
      }
      yield res;
    }
    if (expected !== o.footer.indexOffset) {
      damage.push({ offset: expected, length: o.footer.indexOffset - expected, reason: 'bytes before the index not covered by it' });
    }
    return;
  }

  // No usable index: walk chunk by chunk, scanning past damage.
  let pos = o.dataStart;
  let nextSeq = 0;
  const ended = (p: number): void => {
    damage.push({
      offset: p, length: size - p,
      reason: p === size
        ? `file ends after the last complete chunk at ${at(p)}: index and footer missing`
        : `index at ${at(p)} without a valid footer: the file is truncated or damaged in the index; all chunks before it were read`,
    });
  };
  const probe = new Uint8Array(CHUNK_HEADER_SIZE);
  while (pos < size) {
    const got = src.read(pos, probe, 0, CHUNK_HEADER_SIZE);
    // The index marker (or, in a file cut inside it, a prefix of it) ends the chunk section.
    if (bytesEqual(probe, 0, INDEX_MAGIC, 0, Math.min(got, INDEX_MAGIC.length))) {
      ended(pos);
      return;
    }
    let why: string;
    if (got < CHUNK_HEADER_SIZE) {
      why = `truncated: ${size - pos} bytes left, too few for a chunk header`;
    } else {
      const h = headAt(probe, 0);
      // The walk is contiguous, so a chunk here must start at record nextSeq;
      // the header's own firstSeq is not CRC-protected and is checked below.
      const p = headPlausible(h, pos, size, 0);
      if (p !== undefined) why = p;
      else {
        const c = cr.load(pos, h);
        if (typeof c !== 'string') {
          if (c.firstSeq !== nextSeq) {
            damage.push({ offset: pos, length: 0, reason: `chunk at ${at(pos)}: header says first record ${c.firstSeq}, expected ${nextSeq}; ${nextSeq} used` });
            c.firstSeq = nextSeq;
          }
          nextSeq = c.firstSeq + c.count;
          pos += c.length;
          yield c;
          continue;
        }
        why = c;
      }
    }
    // Damaged here: find the next intact chunk.
    const found = scanForward(src, cr, pos + 1, nextSeq);
    if (found === undefined) {
      damage.push({ offset: pos, length: size - pos, reason: `chunk at ${at(pos)}: ${why}; no intact chunk after it (records from ${nextSeq} on lost)` });
      return;
    }
    if ('indexAt' in found) {
      damage.push({ offset: pos, length: found.indexAt - pos, reason: `chunk at ${at(pos)}: ${why}; skipped to the index at ${at(found.indexAt)}` });
      ended(found.indexAt);
      return;
    }
    const c = found.chunk;
    damage.push({
      offset: pos, length: c.offset - pos,
      reason: `chunk at ${at(pos)}: ${why}; resynchronised at ${at(c.offset)}` +
        (c.firstSeq > nextSeq ? ` (records ${nextSeq}..${c.firstSeq - 1} lost)` : ''),
    });
    nextSeq = c.firstSeq + c.count;
    pos = c.offset + c.length;
    yield c;
  }
  ended(size);
}

// ---------------------------------------------------------------------------
// Definitions and events

const EMPTY = new Uint8Array(0);

/**
 * Where an event's payload is: bytes [at, at + length) of `data`. With `own`,
 * `data` is the payload's own array (a blob, which recurs; at = 0);
 * otherwise a window into a disk image's whole bytes, the chunk's bytes or
 * the delta bases (see `stable`).
 */
export interface PayloadView {
  data: Uint8Array;
  at: number;
  length: number;
  own: boolean;
  /**
   * The bytes stay as they are after the cursor moves on (`own`, a window into a disk image, or one
   * into a chunk's decompressed bytes, which are never reused), so a caller may keep a reference
   * instead of a copy.
   */
  stable: boolean;
  /** The blob's id when `data` is a blob (ids name one blob each within a trace), else -1. */
  blob: number;
}

/** Entries of Defs' tables of recent blob and string lookups. */
const RECENT_DEFS = 256;

/** Str/Blob tables of one pass, with missing-reference reporting. */
class Defs {
  readonly strs = new Map<number, string>();
  readonly blobs = new Map<number, Uint8Array>();
  /** Blobs and strings looked up lately, by id, direct-mapped (-1: empty): most DMA events find their tag and blob here rather than in the Maps. */
  private readonly blobIds = new Float64Array(RECENT_DEFS).fill(-1);
  private readonly blobData: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(RECENT_DEFS).fill(undefined);
  private readonly strIds = new Float64Array(RECENT_DEFS).fill(-1);
  private readonly strText: string[] = new Array<string>(RECENT_DEFS).fill('');
  blobEpoch = 0;
  blobCount = 0;
  blobBytes = 0;
  /** Missing definitions met while building the current event (reset per event). */
  miss: string | undefined = undefined;
  private readonly reported = new Set<string>();
  constructor(private readonly damage: DamageReport[], private readonly images?: ImageStore) {}

  /** Per-stream last small payload of the current chunk, as the recorder keeps them (delta.ts). */
  private readonly bases = new DeltaBases();
  /** Next definition of the current chunk to apply. */
  private nextDef = 0;

  /** A new chunk: no stream has a base. */
  chunkStart(): void {
    this.bases.reset();
    this.nextDef = 0;
  }

  /** Applies the chunk's definitions that come before event `i`. */
  definitionsBefore(b: ColumnBlock, i: number): void {
    const defs = b.defs;
    while (this.nextDef < defs.length && defs[this.nextDef]!.at <= i) this.define(defs[this.nextDef++]!);
  }

  /** The payload of a DmaDelta event: its stream's base with the masked words replaced. */
  delta(b: ColumnBlock, i: number, chunk: Chunk, seq: number): Uint8Array {
    const baseLen = this.deltaLength(b, i, chunk, seq);
    if (baseLen < 0) return new Uint8Array(0);
    const out = this.bases.store.slice(this.bases.at, this.bases.at + baseLen);
    this.deltaWords(b, i, out, 0, baseLen);
    return out;
  }

  /** A DmaDelta event's base length (setting `bases.at`), or -1 with damage when its base is not known. */
  private deltaLength(b: ColumnBlock, i: number, chunk: Chunk, seq: number): number {
    const f = b.f;
    const dev = f[0]![i]!;
    const mask = f[4]![i]!;
    const key = deltaKey(dev, f[2]![i]!, (f[3]![i]! & 1) !== 0, DELTA_MIN);
    const baseLen = key < 0 ? -1 : this.bases.baseLength(key);
    if (baseLen < 0 || popcount(mask) * 4 !== b.aux[i]! || (baseLen < DELTA_MAX && (mask >>> (baseLen >>> 2)) !== 0)) {
      const what = `the payload its word delta applies to (device ${dev})`;
      this.miss = this.miss === undefined ? what : `${this.miss}, ${what}`;
      if (!this.reported.has(`delta ${chunk.offset}`)) {
        this.reported.add(`delta ${chunk.offset}`);
        this.damage.push({ offset: chunk.offset, length: 0, reason: `record ${seq} in the chunk at ${at(chunk.offset)} is a word delta whose base payload is not known (damaged record or earlier damage in the chunk)` });
      }
      return -1;
    }
    return baseLen;
  }

  /** Applies a DmaDelta event's words to the base in place (it becomes the event's payload, and the stream's next base); returns its offset in `bases.store`. */
  private deltaApply(b: ColumnBlock, i: number, baseLen: number): number {
    const at0 = this.bases.at;
    this.deltaWords(b, i, this.bases.store, at0, baseLen);
    return at0;
  }

  /** Writes the masked words of DmaDelta event i over out[o, o + baseLen). */
  private deltaWords(b: ColumnBlock, i: number, out: Uint8Array, o: number, baseLen: number): void {
    const f = b.f;
    const mask = f[4]![i]!;
    const words = b.bytes;
    let j = -(f[5]![i]! + 1);
    for (let w = 0; w < baseLen >>> 2; w++) {
      if ((mask & (1 << w)) === 0) continue;
      const p = o + 4 * w;
      out[p] = words[j]!; out[p + 1] = words[j + 1]!; out[p + 2] = words[j + 2]!; out[p + 3] = words[j + 3]!;
      j += 4;
    }
  }

  /** After a DMA event's payload is known (or lost): its stream's base, by the recorder's rule. */
  noteDma(dev: number, tag: number, write: boolean, data: Uint8Array, lost: boolean): void {
    this.noteDmaBytes(dev, tag, write, data, 0, data.length, lost, false);
  }

  /** `stable`: the bytes stay as they are through the chunk (the reader's own: a blob, the chunk's bytes, an image), so the base may reference them. */
  private noteDmaBytes(dev: number, tag: number, write: boolean, data: Uint8Array, offset: number, length: number, lost: boolean, stable: boolean): void {
    const any = deltaKey(dev, tag, write, DELTA_MIN);
    if (any < 0) return;
    if (lost) { this.bases.forget(any); return; }
    const key = deltaKey(dev, tag, write, length);
    // A word delta was applied in place: its bytes are the base already.
    if (key < 0 || data === this.bases.store) return;
    if (stable) this.bases.refer(key, data, offset, length);
    else this.bases.set(key, data, offset, length);
  }

  /** A DMA event that a filter keeps from becoming an event: its stream's base is kept all the same. */
  skipDma(b: ColumnBlock, i: number, chunk: Chunk, seq: number): void {
    const k = b.kind[i]!;
    const f = b.f;
    const dev = f[0]![i]!;
    const tag = f[2]![i]!;
    const saved = this.miss;
    this.miss = undefined;
    let data: Uint8Array;
    let write = true;
    if (k === Rec.DmaRead || k === Rec.DmaWrite) {
      write = k === Rec.DmaWrite;
      if (deltaKey(dev, tag, write, DELTA_MIN) < 0) { this.miss = saved; return; }
      data = this.payload(b, i, f[3]![i]!);
      if (data.length === 0 && f[3]![i]! >= 0 && !this.blobs.has(f[3]![i]!)) this.miss = 'blob';
    } else if (k === Rec.DmaImage) {
      if (deltaKey(dev, tag, true, f[5]![i]!) < 0) { this.miss = saved; return; }
      data = this.image(b, i, chunk, seq, this.str(b, f[3]![i]!, chunk, seq));
    } else {
      write = (f[3]![i]! & 1) !== 0;
      data = this.delta(b, i, chunk, seq);
    }
    this.noteDma(dev, tag, write, data, this.miss !== undefined);
    this.miss = saved;
  }

  /** A payload field without damage reporting: the blob's bytes, a copy of the inline bytes, or empty. */
  private payload(b: ColumnBlock, i: number, v: number): Uint8Array {
    if (v < 0) return b.bytes.slice(-(v + 1), -(v + 1) + b.aux[i]!);
    return this.blobOf(v) ?? new Uint8Array(0);
  }

  private plainOf: Uint8Array = EMPTY;
  private plainView: Uint8Array = EMPTY;
  /** The image `wholeImage` found last, by name (undefined: none yet). */
  private lastImageName: string | undefined = undefined;
  private lastImage: Uint8Array = EMPTY;

  /**
   * The image's bytes as a plain Uint8Array (the store holds a Buffer, whose
   * subarray() a caller copying from it would pay for through its species),
   * made once per image in a row.
   */
  private plain(bytes: Uint8Array): Uint8Array {
    if (bytes !== this.plainOf) {
      this.plainOf = bytes;
      this.plainView = Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    }
    return this.plainView;
  }

  /** The bytes a DmaImage event references (its image named `name`), or empty with damage when unavailable. */
  image(b: ColumnBlock, i: number, chunk: Chunk, seq: number, name: string): Uint8Array {
    const d = this.wholeImage(b, i, chunk, seq, name);
    const offset = b.f[4]![i]!;
    return d.length === 0 ? d : d.subarray(offset, offset + b.f[5]![i]!);
  }

  /**
   * The whole disk image a DmaImage event references (its bytes are at f[4]
   * for f[5]), or empty with damage when they are unavailable.
   */
  private wholeImage(b: ColumnBlock, i: number, chunk: Chunk, seq: number, name: string): Uint8Array {
    const f = b.f;
    const offset = f[4]![i]!;
    const length = f[5]![i]!;
    // A disk's reads all name one image: the last one found is tried first (before a map lookup).
    if (name === this.lastImageName && offset + length <= this.lastImage.length) return this.lastImage;
    const r = this.images === undefined ? { ok: false as const, reason: `disk image ${name}: an in-memory trace has no folder to find it in` } : this.images.image(name);
    if (r.ok && offset + length <= r.bytes.length) {
      this.lastImageName = name;
      this.lastImage = this.plain(r.bytes);
      return this.lastImage;
    }
    const why = r.ok ? `disk image ${name} has ${r.bytes.length} bytes, the record reads ${offset}+${length}` : r.reason;
    if (!this.reported.has(why)) {
      this.reported.add(why);
      this.damage.push({ offset: chunk.offset, length: 0, reason: `record ${seq} in the chunk at ${at(chunk.offset)} references bytes of a disk image that are unavailable: ${why}` });
    }
    this.miss = this.miss === undefined ? `disk image ${name}` : `${this.miss}, disk image ${name}`;
    return EMPTY;
  }

  define(d: ChunkDef): void {
    const r = d.id & (RECENT_DEFS - 1);
    if (!d.blob) {
      this.strs.set(d.id, d.text);
      if (this.strIds[r] === d.id) this.strText[r] = d.text;
      return;
    }
    if (d.epochStart > this.blobEpoch) {
      for (const k of this.blobs.keys()) if (k < d.epochStart) this.blobs.delete(k);
      this.blobEpoch = d.epochStart;
      this.blobIds.fill(-1);
      this.blobData.fill(undefined);
    }
    this.blobs.set(d.id, d.data);
    if (this.blobIds[r] === d.id) this.blobData[r] = d.data;
    this.blobCount++;
    this.blobBytes += d.data.length;
  }

  /** Blob `id` (a non-negative id), or undefined if it is not defined. */
  private blobOf(id: number): Uint8Array | undefined {
    const r = id & (RECENT_DEFS - 1);
    if (this.blobIds[r] === id) return this.blobData[r];
    const d = this.blobs.get(id);
    if (d !== undefined) {
      this.blobIds[r] = id;
      this.blobData[r] = d;
    }
    return d;
  }

  /** A string field: interned id, or an inline string of the block. */
  str(b: ColumnBlock, v: number, chunk: Chunk, seq: number): string {
    if (v < 0) return b.strs[-(v + 1)] ?? '';
    const r = v & (RECENT_DEFS - 1);
    if (this.strIds[r] === v) return this.strText[r]!;
    const s = this.strs.get(v);
    if (s !== undefined) {
      this.strIds[r] = v;
      this.strText[r] = s;
      return s;
    }
    this.missing(`string ${v}`, chunk, seq);
    return `<missing string ${v}>`;
  }

  /** A payload field of event i: a copy of its inline bytes, or its blob. */
  blob(b: ColumnBlock, i: number, v: number, chunk: Chunk, seq: number): Uint8Array {
    if (v < 0) return b.bytes.slice(-(v + 1), -(v + 1) + b.aux[i]!);
    const d = this.blobOf(v);
    if (d !== undefined) return d;
    this.missing(`blob ${v}`, chunk, seq);
    return new Uint8Array(0);
  }

  /**
   * The payload of event i (a DMA, air, eth or frame record) without a copy:
   * bytes [at, at + length) of `into.data` (a blob, the block's byte section,
   * a disk image or the delta bases' store). A DMA payload also becomes its
   * stream's delta base, as `buildEvent` does. `image`: a DmaImage event's
   * image name (looked up by the caller).
   */
  payloadView(b: ColumnBlock, i: number, chunk: Chunk, seq: number, into: PayloadView, image = ''): void {
    const k = b.kind[i]!;
    const f = b.f;
    let v: number;
    switch (k) {
      case Rec.DmaImage: {
        // The whole image with the record's offset: no view to make per event.
        const d = this.wholeImage(b, i, chunk, seq, image);
        into.data = d;
        into.at = d.length === 0 ? 0 : f[4]![i]!;
        into.length = d.length === 0 ? 0 : f[5]![i]!;
        into.own = false;
        into.stable = true;
        into.blob = -1;
        break;
      }
      case Rec.DmaDelta: {
        const len = this.deltaLength(b, i, chunk, seq);
        into.data = len < 0 ? EMPTY : this.bases.store;
        into.at = len < 0 ? 0 : this.deltaApply(b, i, len);
        into.length = Math.max(0, len);
        into.own = false;
        into.stable = false;
        into.blob = -1;
        break;
      }
      default:
        v = f[k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.Eth ? 3 : k === Rec.Air ? 5 : 6]![i]!;
        if (v < 0) {
          into.data = b.bytes;
          into.at = -(v + 1);
          into.length = b.aux[i]!;
          into.own = false;
          into.stable = b.bytesStable;
          into.blob = -1;
        } else {
          const d = this.blobOf(v);
          if (d === undefined) this.missing(`blob ${v}`, chunk, seq);
          into.data = d ?? EMPTY;
          into.at = 0;
          into.length = into.data.length;
          into.own = d !== undefined;
          into.stable = into.own;
          into.blob = d !== undefined ? v : -1;
        }
    }
    if (isDma(k)) {
      const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
      // The view's bytes are the reader's own (not a copy handed to a caller): the base references them.
      this.noteDmaBytes(f[0]![i]!, f[2]![i]!, write, into.data, into.at, into.length, this.miss !== undefined, true);
    }
  }

  private missing(what: string, chunk: Chunk, seq: number): void {
    this.miss = this.miss === undefined ? what : `${this.miss}, ${what}`;
    if (this.reported.has(what)) return;
    this.reported.add(what);
    this.damage.push({
      offset: chunk.offset, length: 0,
      reason: `record ${seq} in the chunk at ${at(chunk.offset)} references ${what}, whose definition was in a lost chunk`,
    });
  }
}

/** Column block field holding the device per record kind (-1: the record has a pid instead). */
const DEV_FIELD: readonly number[] = (() => {
  const d: number[] = [];
  for (let k = 0; k <= Rec.DmaDelta; k++) d[k] = -1;
  d[Rec.MmioRead] = d[Rec.MmioWrite] = d[Rec.PioRead] = d[Rec.PioWrite] = d[Rec.CfgRead] = d[Rec.CfgWrite] = 1;
  d[Rec.DmaRead] = d[Rec.DmaWrite] = d[Rec.Intx] = d[Rec.Msi] = d[Rec.Milestone] = d[Rec.GuestErr] = d[Rec.Air] = d[Rec.Eth] = d[Rec.Frame] = d[Rec.DmaImage] = d[Rec.DmaDelta] = 0;
  return d;
})();

function isDma(k: number): boolean {
  return k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaImage || k === Rec.DmaDelta;
}

function buildEvent(b: ColumnBlock, i: number, seq: number, chunk: Chunk, defs: Defs): SeqEvent {
  const k = b.kind[i]!;
  const time = b.time[i]!;
  const f = b.f;
  const f0 = f[0]![i]!, f1 = f[1]![i]!, f2 = f[2]![i]!;
  defs.miss = undefined;
  let ev: SeqEvent;
  switch (k) {
    case Rec.MmioRead:
    case Rec.MmioWrite:
      ev = { seq, kind: 'mmio', write: k === Rec.MmioWrite, time, core: f0, dev: f1, bar: f2, offset: f[3]![i]!, size: f[4]![i]!, value: f[5]![i]! };
      break;
    case Rec.PioRead:
    case Rec.PioWrite:
      ev = { seq, kind: 'pio', write: k === Rec.PioWrite, time, core: f0, dev: f1, port: f2, size: f[3]![i]!, value: f[4]![i]! };
      break;
    case Rec.CfgRead:
    case Rec.CfgWrite:
      ev = { seq, kind: 'cfg', write: k === Rec.CfgWrite, time, core: f0, dev: f1, offset: f2, size: f[3]![i]!, value: f[4]![i]! };
      break;
    case Rec.DmaRead:
    case Rec.DmaWrite: {
      const tag = defs.str(b, f2, chunk, seq);
      const data = defs.blob(b, i, f[3]![i]!, chunk, seq);
      ev = { seq, kind: 'dma', write: k === Rec.DmaWrite, time, dev: f0, addr: f1, data, tag };
      break;
    }
    case Rec.DmaImage: {
      const tag = defs.str(b, f2, chunk, seq);
      const image = defs.str(b, f[3]![i]!, chunk, seq);
      const data = defs.image(b, i, chunk, seq, image);
      ev = { seq, kind: 'dma', write: true, time, dev: f0, addr: f1, data, tag, image, imageOffset: f[4]![i]! };
      break;
    }
    case Rec.DmaDelta: {
      const tag = defs.str(b, f2, chunk, seq);
      const data = defs.delta(b, i, chunk, seq);
      ev = { seq, kind: 'dma', write: (f[3]![i]! & 1) !== 0, time, dev: f0, addr: f1, data, tag };
      break;
    }
    case Rec.Intx:
      ev = { seq, kind: 'intx', time, dev: f0, gsi: f1, level: f2 };
      break;
    case Rec.Msi:
      ev = { seq, kind: 'msi', time, dev: f0, addr: f1, data: f2, core: f[3]![i]!, vector: f[4]![i]! };
      break;
    case Rec.SchemeReq: {
      const scheme = defs.str(b, f1, chunk, seq);
      const op = defs.str(b, f2, chunk, seq);
      ev = { seq, kind: 'schemeReq', time, pid: f0, scheme, op, reqId: f[3]![i]!, a: f[4]![i]!, b: f[5]![i]! };
      break;
    }
    case Rec.SchemeReply:
      ev = { seq, kind: 'schemeReply', time, pid: f0, scheme: defs.str(b, f1, chunk, seq), reqId: f2, result: f[3]![i]! };
      break;
    case Rec.Milestone:
      ev = { seq, kind: 'milestone', time, dev: f0, name: defs.str(b, f1, chunk, seq), a: f2, b: f[3]![i]! };
      break;
    case Rec.Log:
      ev = { seq, kind: 'log', time, pid: f0, level: LOG_LEVELS[f1] ?? 'info', text: b.strs[f2] ?? '' };
      break;
    case Rec.GuestErr:
      ev = { seq, kind: 'guestErr', time, dev: f0, code: defs.str(b, f1, chunk, seq), message: b.strs[f2] ?? '' };
      break;
    case Rec.Air:
      ev = {
        seq, kind: 'air', time, dev: f0, tx: (f1 & 1) === 1, channel: f2, signal: f[3]![i]!, rate: f[4]![i]!,
        data: defs.blob(b, i, f[5]![i]!, chunk, seq),
      };
      break;
    case Rec.Eth:
      ev = { seq, kind: 'eth', time, dev: f0, tx: (f1 & 1) === 1, port: f2, data: defs.blob(b, i, f[3]![i]!, chunk, seq) };
      break;
    case Rec.Frame:
      ev = {
        seq, kind: 'frame', time, dev: f0, pipe: f1, counter: f2, width: f[3]![i]!, height: f[4]![i]!, format: f[5]![i]!,
        data: defs.blob(b, i, f[6]![i]!, chunk, seq),
      };
      break;
    default: // Rec.Proc (kinds were validated when the chunk was loaded)
      ev = { seq, kind: 'proc', time, pid: f0, event: PROC_EVENTS[f1] ?? 'spawn', name: defs.str(b, f2, chunk, seq), detail: b.strs[f[3]![i]!] ?? '' };
      break;
  }
  if (defs.miss !== undefined) ev.missing = defs.miss;
  if (isDma(k)) {
    const d = ev as SeqEvent & { kind: 'dma' };
    defs.noteDma(d.dev, f2, d.write, d.data, defs.miss !== undefined);
  }
  return ev;
}

/**
 * One event in columns (EventCursor.advance): field j is block.f[j][i] in the
 * record order of columns.ts's schema, string fields through `str`, free text
 * in block.strs. Everything is shared and valid until the cursor moves on.
 */
export interface EventView {
  block: ColumnBlock;
  /** The event's index in the block. */
  i: number;
  seq: number;
  /** A string field's value (an interned id or an inline string of the block). */
  str(v: number): string;
  /** DMA events: the tag, where the payload's bytes are (not a copy) and, for a disk-image reference, the image. */
  tag: string;
  readonly payload: PayloadView;
  image: string | undefined;
  /**
   * DMA and scheme events: which definitions were lost (as SeqEvent.missing);
   * undefined for other kinds (only those with string or payload fields can
   * miss one: build them with `event()`).
   */
  missing: string | undefined;
  /** Scheme requests and replies: the scheme, and (a request) the operation, as `event()` gives them. */
  scheme: string;
  op: string;
  /** The event as `next()` would have returned it (an object of its own; for the few events a caller keeps). */
  event(): SeqEvent;
}

/** The DMA event a view is at, as `next()` builds it; the payload kept by reference where its bytes stay as they are, copied otherwise. */
function dmaEventOf(v: EventView): SeqEvent {
  const b = v.block;
  const i = v.i;
  const f = b.f;
  const k = b.kind[i]!;
  const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
  const p = v.payload;
  const data = p.own ? p.data : p.stable ? p.data.subarray(p.at, p.at + p.length) : p.data.slice(p.at, p.at + p.length);
  const e: SeqEvent = { seq: v.seq, kind: 'dma', write, time: b.time[i]!, dev: f[0]![i]!, addr: f[1]![i]!, data, tag: v.tag };
  if (k === Rec.DmaImage) {
    e.image = v.image;
    e.imageOffset = f[4]![i]!;
  }
  if (v.missing !== undefined) e.missing = v.missing;
  return e;
}

function kindMask(kinds: readonly string[] | undefined): boolean[] {
  const m: boolean[] = [];
  for (let k = Rec.MmioRead; k <= Rec.DmaDelta; k++) {
    const name = KIND_OF_REC[k];
    m[k] = kinds === undefined || (name !== undefined && kinds.includes(name));
  }
  return m;
}

/**
 * A pull cursor over a trace's events: what `events()` iterates, without a
 * generator step per event. The file is open from construction until the
 * events run out or `close()`.
 */
export interface EventCursor {
  /** The next event that passes the filter, or undefined at the end. */
  next(): SeqEvent | undefined;
  /**
   * Moves to the next event that passes the filter without building an
   * object for it (read it through `view`); false at the end. Mixing
   * `advance()` and `next()` on one cursor is allowed: each consumes one event.
   */
  advance(): boolean;
  /** The event `advance()` moved to, in columns; valid until the next `advance()` or `next()`. */
  readonly view: EventView;
  /** Closes the file (also done when the events run out); later `next()` calls return undefined. */
  close(): void;
}

class Cursor implements EventCursor {
  private readonly src: Source;
  private readonly it: Generator<Chunk, void, undefined>;
  private readonly defs: Defs;
  private readonly mask: boolean[];
  private readonly devs: Set<number> | undefined;
  private readonly fromSeq: number;
  private readonly toSeq: number;
  private readonly fromTime: number;
  private readonly toTime: number;
  /** No filter: every event passes. */
  private readonly everything: boolean;
  private c: Chunk | undefined;
  /** One past the current event's index in the chunk. */
  private i = 0;
  private seq = 0;
  private closed = false;
  readonly view: EventView;

  constructor(source: TraceSource, o: Opened, damage: DamageReport[], filter: EventFilter, images: ImageStore) {
    this.src = openSource(source);
    this.it = chunks(this.src, o, damage);
    this.defs = new Defs(damage, images);
    this.mask = kindMask(filter.kinds);
    this.devs = filter.devs ? new Set(filter.devs) : undefined;
    this.fromSeq = filter.fromSeq ?? 0;
    this.toSeq = filter.toSeq ?? Infinity;
    this.fromTime = filter.fromTime ?? -Infinity;
    this.toTime = filter.toTime ?? Infinity;
    this.everything = filter.kinds === undefined && filter.devs === undefined && filter.fromSeq === undefined && filter.toSeq === undefined &&
      filter.fromTime === undefined && filter.toTime === undefined;
    const defs = this.defs;
    const view: EventView = {
      block: new ColumnBlock(), i: 0, seq: 0, tag: '', payload: { data: EMPTY, at: 0, length: 0, own: false, stable: false, blob: -1 }, image: undefined, missing: undefined,
      scheme: '', op: '',
      str: (v) => defs.str(view.block, v, this.c!, view.seq),
      // A DMA event's payload was looked up (and its delta base noted) by advance(): built from the view, not again.
      event: () => (isDma(view.block.kind[view.i]!) ? dmaEventOf(view) : buildEvent(view.block, view.i, view.seq, this.c!, defs)),
    };
    this.view = view;
  }

  next(): SeqEvent | undefined {
    return this.seek() ? buildEvent(this.c!.block, this.i - 1, this.seq, this.c!, this.defs) : undefined;
  }

  advance(): boolean {
    if (!this.seek()) return false;
    const c = this.c!;
    const b = c.block;
    const i = this.i - 1;
    const v = this.view;
    v.block = b;
    v.i = i;
    v.seq = this.seq;
    const k = b.kind[i]!;
    if (isDma(k)) {
      // In buildEvent's order, so `missing` reads the same.
      const defs = this.defs;
      defs.miss = undefined;
      v.tag = defs.str(b, b.f[2]![i]!, c, this.seq);
      v.image = k === Rec.DmaImage ? defs.str(b, b.f[3]![i]!, c, this.seq) : undefined;
      defs.payloadView(b, i, c, this.seq, v.payload, v.image);
      v.missing = defs.miss;
    } else if (k === Rec.SchemeReq || k === Rec.SchemeReply) {
      // In buildEvent's order, so `missing` reads the same.
      const defs = this.defs;
      defs.miss = undefined;
      v.scheme = defs.str(b, b.f[1]![i]!, c, this.seq);
      v.op = k === Rec.SchemeReq ? defs.str(b, b.f[2]![i]!, c, this.seq) : '';
      v.missing = defs.miss;
    } else {
      v.missing = undefined;
    }
    return true;
  }

  /** Moves to the next event that passes the filter (at this.i - 1, sequence number this.seq); false at the end. */
  private seek(): boolean {
    const defs = this.defs;
    for (;;) {
      const c = this.c;
      if (c === undefined || this.i >= c.block.n) {
        if (this.closed) return false;
        if (c !== undefined) defs.definitionsBefore(c.block, c.block.n);
        const r = this.it.next();
        // Time is monotonic (Tracer contract) and seq increases: nothing after a chunk past the range can match.
        if (r.done || (r.value.count > 0 && (r.value.firstSeq > this.toSeq || r.value.firstTime > this.toTime))) {
          this.close();
          return false;
        }
        this.c = r.value;
        this.i = 0;
        defs.chunkStart();
        continue;
      }
      const b = c.block;
      const i = this.i++;
      defs.definitionsBefore(b, i);
      const s = c.firstSeq + i;
      if (this.everything) {
        this.seq = s;
        return true;
      }
      const k = b.kind[i]!;
      const time = b.time[i]!;
      if (!this.mask[k] || s < this.fromSeq || s > this.toSeq || time < this.fromTime || time > this.toTime) {
        if (isDma(k)) defs.skipDma(b, i, c, s);
        continue;
      }
      if (this.devs) {
        const f = DEV_FIELD[k]!;
        if (f < 0 || !this.devs.has(b.f[f]![i]!)) {
          if (isDma(k)) defs.skipDma(b, i, c, s);
          continue;
        }
      }
      this.seq = s;
      return true;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c = undefined;
    this.it.return();
    this.src.close();
  }
}

function* eventsOf(source: TraceSource, o: Opened, damage: DamageReport[], filter: EventFilter, images: ImageStore): Generator<SeqEvent, void, undefined> {
  const cur = new Cursor(source, o, damage, filter, images);
  try {
    for (let e = cur.next(); e !== undefined; e = cur.next()) yield e;
  } finally {
    cur.close();
  }
}

function* chunksOf(source: TraceSource, o: Opened, damage: DamageReport[]): Generator<TraceChunk, void, undefined> {
  const src = openSource(source);
  try {
    const defs = new Defs(damage);
    let cur: Chunk | undefined;
    const view: TraceChunk = {
      firstSeq: 0,
      block: new ColumnBlock(),
      str: (v) => defs.str(view.block, v, cur!, view.firstSeq),
    };
    for (const c of chunks(src, o, damage)) {
      cur = c;
      defs.chunkStart();
      defs.definitionsBefore(c.block, c.block.n);
      view.firstSeq = c.firstSeq;
      view.block = c.block;
      yield view;
    }
  } finally {
    src.close();
  }
}

// ---------------------------------------------------------------------------
// Public API

export interface OpenOptions {
  /** Folders to look for the disk images a format-6 trace references, before the trace's own folders (images.ts). */
  imageRoots?: readonly string[];
}

/** Opens a trace (file path or in-memory bytes): reads the header, footer and index; events stream on demand. */
export function openTrace(source: TraceSource, opts: OpenOptions = {}): TraceReader {
  const src = openSource(source);
  let o: Opened;
  try {
    o = openSrc(src);
  } finally {
    src.close();
  }
  // One store per reader: each referenced image is found and hashed once.
  const images = new ImageStore(o.header, typeof source === 'string' ? source : undefined, opts.imageRoots);
  const reader: TraceReader = {
    path: src.name,
    size: src.size,
    header: o.header,
    footer: o.footer,
    index: o.index,
    damage: [...o.openDamage],
    events(filter: EventFilter = {}) {
      reader.damage.length = 0;
      reader.damage.push(...o.openDamage);
      return eventsOf(source, o, reader.damage, filter, images);
    },
    cursor(filter: EventFilter = {}) {
      reader.damage.length = 0;
      reader.damage.push(...o.openDamage);
      return new Cursor(source, o, reader.damage, filter, images);
    },
    chunks() {
      reader.damage.length = 0;
      reader.damage.push(...o.openDamage);
      return chunksOf(source, o, reader.damage);
    },
  };
  return reader;
}

/** Just the header (throws TraceFormatError if the trace cannot be read). */
export function readHeader(source: TraceSource): TraceHeader {
  const src = openSource(source);
  try {
    return parseHeader(src).header;
  } finally {
    src.close();
  }
}

/** Counts per kind and device, time span, blobs and damage; streams the whole trace once. */
export function traceSummary(source: TraceSource): TraceSummary {
  const src = openSource(source);
  let o: Opened;
  try {
    o = openSrc(src);
    const damage = [...o.openDamage];
    const defs = new Defs(damage);
    const byKindRec: number[] = [];
    const byDevRec = new Map<number, number[]>();
    let records = 0;
    let nchunks = 0;
    let firstTime = 0;
    let lastTime = 0;
    let firstSeq = 0;
    let lastSeq = -1;
    for (const c of chunks(src, o, damage)) {
      nchunks++;
      defs.chunkStart();
      const b = c.block;
      for (let i = 0; i < b.n; i++) {
        defs.definitionsBefore(b, i);
        const k = b.kind[i]!;
        const time = b.time[i]!;
        if (records === 0) { firstTime = time; firstSeq = c.firstSeq + i; }
        lastTime = time;
        lastSeq = c.firstSeq + i;
        records++;
        byKindRec[k] = (byKindRec[k] ?? 0) + 1;
        const f = DEV_FIELD[k]!;
        if (f >= 0) {
          const d = b.f[f]![i]!;
          let arr = byDevRec.get(d);
          if (!arr) byDevRec.set(d, (arr = []));
          arr[k] = (arr[k] ?? 0) + 1;
        }
      }
      defs.definitionsBefore(b, b.n);
    }
    const byKind: Record<string, number> = {};
    byKindRec.forEach((n, k) => {
      const name = KIND_OF_REC[k]!;
      byKind[name] = (byKind[name] ?? 0) + n;
    });
    const byDevice: TraceSummary['byDevice'] = {};
    for (const [d, arr] of [...byDevRec.entries()].sort((a, b) => a[0] - b[0])) {
      const id = o.header.devices.find((x) => x.index === d)?.id ?? `dev${d}`;
      const entry = { total: 0, byKind: {} as Record<string, number> };
      arr.forEach((n, k) => {
        const name = KIND_OF_REC[k]!;
        entry.byKind[name] = (entry.byKind[name] ?? 0) + n;
        entry.total += n;
      });
      byDevice[id] = entry;
    }
    return {
      path: src.name, header: o.header, bytes: src.size, records, chunks: nchunks, byKind, byDevice,
      firstTime, lastTime, firstSeq, lastSeq, blobs: defs.blobCount, blobBytes: defs.blobBytes, strings: defs.strs.size,
      indexed: o.index !== undefined, damage,
    };
  } finally {
    src.close();
  }
}

export { TraceFormatError, FORMAT_VERSION };
export type { DamageReport, TraceHeader, TraceFooter, IndexEntry };
