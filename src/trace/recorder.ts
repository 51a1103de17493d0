/**
 * TraceRecorder: the `Tracer` that writes trace files (format: ./format.ts,
 * docs/TRACE-FORMAT.md).
 *
 * Hot path (every device access) allocates nothing. In the column layout
 * (format 7, the default) an event is a few stores into the chunk's staged
 * rows (./columns.ts ColumnEncoder); when the chunk passes `chunkBytes` it is
 * assembled into columns, lz4-compressed and appended to the file with one
 * synchronous write, so a crash loses at most the chunk being filled. Where
 * asked to (RecorderOptions.writerThread), the trace writer thread does that
 * part (./writer-thread.ts; the same bytes), and a crash can also lose the
 * chunks handed to it.
 *
 * The 'records' layout of formats 3 to 6 (kept for reader tests): records
 * made only of numbers are msgpack-encoded in place by `num`, which writes
 * exactly the bytes msgpackr writes for the same array (tested); records
 * carrying free text fill one reused array packed by one reused msgpackr
 * `Packr` ({useRecords: false}) in its reuse-buffer mode, then copied.
 *
 * Strings that repeat (DMA tags, scheme names and ops, milestone names,
 * guestErr codes, process names) are interned: a Str definition record
 * precedes the first use. DMA payloads are content-addressed: a Blob record
 * is written the first time a payload appears; later DMA records reference
 * it (payloads of at most DMA_INLINE_MAX bytes are stored inline instead; see
 * ./blobs.ts for the de-duplication table). 802.11 frames of Air records use
 * the same payload mechanism, so repeated beacons cost a reference each. Definitions are global to the file (not repeated per chunk) and are
 * always written in the same chunk as their first use.
 */
import { DELTA_MAX, DeltaBases, deltaKey, popcount } from './delta.js';
import * as fs from 'node:fs';
import { Packr, REUSE_BUFFER_MODE, RESET_BUFFER_MODE } from 'msgpackr';
import { BlobTable } from './blobs.js';
import { ColumnEncoder, fieldColumn } from './columns.js';
import { sealChunk } from './chunk-seal.js';
import { FileSink, MemorySink, type Sink } from './sinks.js';
import { ChunkPipe, awaitWriterThread, startWriterThread, writerThreadReady, type ChunkReply } from './writer-thread.js';
import { Rec, type LogLevel, type ProcEvent, type Tracer } from '../sim/tracer.js';
import {
  CHUNK_HEADER_SIZE, DEFAULT_BLOB_WINDOW_BYTES, DMA_INLINE_MAX, DEFAULT_CHUNK_BYTES, ETH_FORMAT_VERSION, FOOTER_MAGIC, FOOTER_SIZE, FORMAT_VERSION, FRAME_FORMAT_VERSION, COMPACT_FORMAT_VERSION, COLUMN_FORMAT_VERSION,
  INDEX_MAGIC, MAGIC, MAX_INTERNED_STRINGS, PREAMBLE_SIZE, crc32, FOOTER_CRC_AT, PREAMBLE_CRC_FROM, PREAMBLE_CRC_TO, isLittleEndianHost, writeF64, writeU32,
  type IndexEntry, type TraceHeader, type TraceHeaderInput,
} from './format.js';

export interface RecorderOptions {
  /** Raw bytes per chunk before it is compressed and written (default 64 KiB). */
  chunkBytes?: number;
  /** Bytes of distinct DMA payloads kept for de-duplication before a new blob epoch starts (default 64 MiB). */
  blobWindowBytes?: number;
  /**
   * Chunk layout: 'columns' (format 7, the default) or 'records', the msgpack
   * records of formats 3 to 6 (kept so readers of those versions stay tested).
   */
  layout?: 'columns' | 'records';
  /**
   * Whether the trace writer thread (./writer-thread.ts) assembles, compresses
   * and writes the chunks of a column-layout trace: 'never' (the default: on
   * the 2-core development machine the thread saved 2-4% of a recorded run's
   * wall time for about 10% more CPU), 'always' from the first chunk (waiting
   * for the thread to start), 'auto' once the thread runs (a recording starts
   * it when it has written AUTO_THREAD_AFTER chunks itself). The environment
   * variable SIMRUN_TRACE_THREAD=1 or auto makes the default 'always' or
   * 'auto'. The trace's bytes are the same whichever thread wrote them.
   */
  writerThread?: WriterThreadMode;
}

export type WriterThreadMode = 'auto' | 'always' | 'never';

/** Chunks a recording writes itself before it starts the writer thread ('auto'). */
export const AUTO_THREAD_AFTER = 8;

function defaultThreadMode(): WriterThreadMode {
  const v = process.env.SIMRUN_TRACE_THREAD;
  return v === '1' ? 'always' : v === 'auto' ? 'auto' : 'never';
}

export interface RecordResult {
  /** Event records written (the next sequence number). */
  records: number;
  /** Bytes in the trace. */
  bytes: number;
  /** Blob definitions written (distinct DMA payloads). */
  blobs: number;
  /** DMA payloads stored as references to disk-image bytes (DmaImage records, format 6). */
  imageRefs: number;
  /** Small DMA payloads stored as word deltas (DmaDelta records, format 6). */
  deltas: number;
  /** Chunks the trace writer thread assembled and wrote (./writer-thread.ts); the rest the recorder wrote itself. */
  threadChunks: number;
  /** File written, or null for an in-memory trace. */
  path: string | null;
  /** The whole trace, for an in-memory recorder. */
  buffer?: Buffer;
}

type PackedBuffer = Buffer & { start: number; end: number };
const PACK_MODE = REUSE_BUFFER_MODE | RESET_BUFFER_MODE;
const LOG_LEVEL_CODE: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const PROC_EVENT_CODE: Record<ProcEvent, number> = { spawn: 0, exit: 1, crash: 2, kill: 3 };

/** Puts the header into canonical key order so equal inputs give equal bytes. */
function canonicalHeader(h: TraceHeaderInput, version: number): TraceHeader {
  const out: TraceHeader = {
    formatVersion: version,
    tool: { name: h.tool.name, version: h.tool.version },
    scenario: { name: h.scenario.name, path: h.scenario.path, hash: h.scenario.hash },
    seed: h.seed,
    machine: h.machine === undefined ? null : h.machine,
    fixtures: h.fixtures.map((f) => ({ path: f.path, hash: f.hash })),
    devices: h.devices.map((d) => ({ index: d.index, id: d.id, type: d.type, bdf: d.bdf })),
  };
  if (h.createdBy !== undefined) out.createdBy = h.createdBy;
  return out;
}

/**
 * Preamble + msgpack header, as written at the start of every trace:
 * version 3 (FORMAT_VERSION), 4 (ETH_FORMAT_VERSION) once the trace holds
 * an Eth record, 5 (FRAME_FORMAT_VERSION) once it holds a Frame record. The
 * encodings have the same length (the version is a msgpack fixint in the header).
 */
export function encodeHeader(header: TraceHeaderInput, version = FORMAT_VERSION): Buffer {
  const body = new Packr({ useRecords: false }).pack(canonicalHeader(header, version));
  const out = Buffer.alloc(PREAMBLE_SIZE + body.length);
  out.set(MAGIC, 0);
  writeU32(out, 8, version);
  writeU32(out, 12, body.length);
  // The CRC covers the version and length before the header too (format 3).
  writeU32(out, 16, crc32(body, crc32(out.subarray(PREAMBLE_CRC_FROM, PREAMBLE_CRC_TO))));
  out.set(body, PREAMBLE_SIZE);
  return out;
}

// Record kinds as module constants (an imported object's property costs a lookup per use).
const K_MMIO_R = Rec.MmioRead, K_MMIO_W = Rec.MmioWrite, K_PIO_R = Rec.PioRead, K_PIO_W = Rec.PioWrite;
const K_CFG_R = Rec.CfgRead, K_CFG_W = Rec.CfgWrite, K_DMA_R = Rec.DmaRead, K_DMA_W = Rec.DmaWrite, K_DMA_IMG = Rec.DmaImage, K_DMA_DELTA = Rec.DmaDelta;
const K_INTX = Rec.Intx, K_MSI = Rec.Msi, K_SREQ = Rec.SchemeReq, K_SREP = Rec.SchemeReply;
const K_MILESTONE = Rec.Milestone, K_LOG = Rec.Log, K_GUESTERR = Rec.GuestErr, K_PROC = Rec.Proc;
const K_BLOB = Rec.Blob, K_STR = Rec.Str, K_AIR = Rec.Air, K_ETH = Rec.Eth, K_FRAME = Rec.Frame;
const INLINE_MAX = DMA_INLINE_MAX;
/** Strings looked up by identity before the intern map (DMA tags, the image name, scheme names and ops: a disk read uses six). */
const RECENT_STRS = 8;
// First field column of each record kind (columns.ts); field j is at +j.
const C_MMIO = fieldColumn(Rec.MmioRead, 0), C_PIO = fieldColumn(Rec.PioRead, 0), C_CFG = fieldColumn(Rec.CfgRead, 0);
const C_DMA = fieldColumn(Rec.DmaRead, 0), C_DMA_IMG = fieldColumn(Rec.DmaImage, 0), C_DMA_DELTA = fieldColumn(Rec.DmaDelta, 0);
const C_INTX = fieldColumn(Rec.Intx, 0), C_MSI = fieldColumn(Rec.Msi, 0), C_SREQ = fieldColumn(Rec.SchemeReq, 0);
const C_SREP = fieldColumn(Rec.SchemeReply, 0), C_MILESTONE = fieldColumn(Rec.Milestone, 0), C_LOG = fieldColumn(Rec.Log, 0);
const C_GUESTERR = fieldColumn(Rec.GuestErr, 0), C_PROC = fieldColumn(Rec.Proc, 0), C_AIR = fieldColumn(Rec.Air, 0);
const C_ETH = fieldColumn(Rec.Eth, 0), C_FRAME = fieldColumn(Rec.Frame, 0);
/** Worst case of one all-number record: fixarray + kind + 8 numbers of 9 bytes. */
const MAX_NUMERIC_RECORD = 80;

export class TraceRecorder implements Tracer {
  readonly enabled = true;

  /** Opens `path` for writing (truncating it) and writes the header at once. */
  static create(path: string, header: TraceHeaderInput, opts: RecorderOptions = {}): TraceRecorder {
    const fd = fs.openSync(path, 'w');
    try {
      return new TraceRecorder(new FileSink(fd), path, header, opts);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** A recorder writing into memory; `close()` returns the trace in `buffer`. */
  static toBuffer(header: TraceHeaderInput, opts: RecorderOptions = {}): TraceRecorder {
    return new TraceRecorder(new MemorySink(), null, header, opts);
  }

  private readonly packr = new Packr({ useRecords: false });
  private readonly flushAt: number;
  private buf: Buffer;
  private pos = 0;
  private offset: number; // file offset of the next chunk
  private closed = false;

  private seq = 0;
  private chunkCount = 0;
  private chunkFirstSeq = 0;
  private chunkFirstTime = 0;
  private prevTime = 0;
  private endTime = 0;
  private readonly index: IndexEntry[] = [];
  private readonly chunkHeader = Buffer.alloc(CHUNK_HEADER_SIZE);

  private readonly strIds = new Map<string, number>();
  /** The last few interned strings looked up, with their ids (a cache in front of `strIds`). */
  private readonly recentStr: (string | undefined)[] = new Array<string | undefined>(RECENT_STRS).fill(undefined);
  private readonly recentId = new Int32Array(RECENT_STRS);
  private recentNext = 0;
  private readonly blobs: BlobTable;
  private blobsWritten = 0;
  private imageRefs = 0;
  private deltaRecords = 0;
  /** Per-stream last small payload of the current chunk (delta.ts). */
  private readonly deltas = new DeltaBases();
  /** Fixture names of the header: only these can be referenced (a reader finds them by the header's hash). */
  private readonly fixtures: ReadonlySet<string>;
  /** The chunk being filled, in columns (format 7); undefined for the 'records' layout. */
  private readonly cols: ColumnEncoder | undefined;
  /** Where a column chunk's raw bytes are assembled before compression. */
  private readonly asm = { buf: Buffer.alloc(0) as Uint8Array };
  /** Blob epoch of the definitions in the current column chunk (a new epoch starts a new chunk). */
  private defEpoch = 0;
  /** Whether chunks go to the writer thread (RecorderOptions.writerThread); the line to it once they do. */
  private readonly threadMode: WriterThreadMode;
  private pipe: ChunkPipe | undefined;
  /** Index entries whose file offset is known (the writer thread's chunks are placed when it reports them). */
  private placed = 0;
  /** Chunks written here, before any went to the writer thread. */
  private ownChunks = 0;
  /** The first chunk the writer thread could not write. */
  private threadError: string | undefined;

  /** Reused record array for the records packed by msgpackr (those carrying free text). */
  private readonly rec: (number | string)[] = [];
  /** The header as given, and the format version written so far (3; 4 after the first Eth record; 5 after the first Frame record). */
  private readonly headerInput: TraceHeaderInput;
  private headLength: number;
  private version: number;

  private constructor(
    private readonly sink: Sink,
    private readonly path: string | null,
    header: TraceHeaderInput,
    opts: RecorderOptions,
  ) {
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!(chunkBytes >= 64 && chunkBytes <= 256 * 1024 * 1024)) throw new RangeError(`chunkBytes must be in 64..256 MiB, got ${chunkBytes}`);
    this.flushAt = chunkBytes;
    const blobWindow = opts.blobWindowBytes ?? DEFAULT_BLOB_WINDOW_BYTES;
    if (!(blobWindow >= 0 && blobWindow <= 1024 * 1024 * 1024)) throw new RangeError(`blobWindowBytes must be in 0..1 GiB, got ${blobWindow}`);
    this.blobs = new BlobTable(blobWindow);
    const columns = (opts.layout ?? 'columns') === 'columns';
    this.cols = columns ? new ColumnEncoder() : undefined;
    this.threadMode = columns ? opts.writerThread ?? defaultThreadMode() : 'never';
    this.version = columns ? COLUMN_FORMAT_VERSION : FORMAT_VERSION;
    this.buf = Buffer.alloc(columns ? 0 : chunkBytes + 4096);
    const head = encodeHeader(header, this.version);
    this.headerInput = canonicalHeader(header, this.version);
    this.fixtures = new Set(header.fixtures.map((f) => f.path));
    this.headLength = head.length;
    sink.write(head);
    this.offset = head.length;
    if (this.threadMode === 'always' && !awaitWriterThread()) throw new Error('the trace writer thread could not be started (writerThread: \'always\')');
    if (this.cols) this.considerThread(this.cols);
  }

  /** Event records so far (= the next sequence number). */
  get records(): number {
    return this.seq;
  }

  // ---- Tracer ------------------------------------------------------------
  // All-number records are encoded in place by `num` (byte-identical to what
  // msgpackr writes for the same array); records with free text go through
  // the reused msgpackr Packr.

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    this.room();
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(write ? K_MMIO_W : K_MMIO_R, dt);
      c.num(C_MMIO, core); c.num(C_MMIO + 1, dev); c.num(C_MMIO + 2, bar); c.num(C_MMIO + 3, offset); c.num(C_MMIO + 4, size); c.num(C_MMIO + 5, value);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x98; // fixarray(8)
    b[p++] = write ? K_MMIO_W : K_MMIO_R;
    p = num(b, p, dt); p = num(b, p, core); p = num(b, p, dev); p = num(b, p, bar);
    p = num(b, p, offset); p = num(b, p, size); p = num(b, p, value);
    this.pos = p;
  }

  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    this.room();
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(write ? K_PIO_W : K_PIO_R, dt);
      c.num(C_PIO, core); c.num(C_PIO + 1, dev); c.num(C_PIO + 2, port); c.num(C_PIO + 3, size); c.num(C_PIO + 4, value);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x97; // fixarray(7)
    b[p++] = write ? K_PIO_W : K_PIO_R;
    p = num(b, p, dt); p = num(b, p, core); p = num(b, p, dev); p = num(b, p, port); p = num(b, p, size); p = num(b, p, value);
    this.pos = p;
  }

  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    this.room();
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(write ? K_CFG_W : K_CFG_R, dt);
      c.num(C_CFG, core); c.num(C_CFG + 1, dev); c.num(C_CFG + 2, offset); c.num(C_CFG + 3, size); c.num(C_CFG + 4, value);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x97;
    b[p++] = write ? K_CFG_W : K_CFG_R;
    p = num(b, p, dt); p = num(b, p, core); p = num(b, p, dev); p = num(b, p, offset); p = num(b, p, size); p = num(b, p, value);
    this.pos = p;
  }

  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    this.room();
    const t = this.str(tag);
    // Small structured payloads: a word delta against the stream's last payload in this chunk (delta.ts).
    // Every payload of an eligible stream becomes its base, whichever record stores it (delta.ts).
    const key = typeof t === 'number' ? deltaKey(dev, t, write, length) : -1;
    const mask = key >= 0 ? this.deltas.swap(key, data, offset, length) : -1;
    if (mask >= 0 && popcount(mask) * 8 <= length) this.dmaDelta(time, dev, addr, t as number, write, mask, data, offset, length);
    else if (image !== undefined && write && length > INLINE_MAX && this.fixtures.has(image)) this.dmaImage(time, dev, addr, t, image, imageOffset ?? 0, length);
    else this.dmaPayload(write, time, dev, addr, data, offset, length, t);
  }

  /** [DmaRead|DmaWrite, dt, dev, addr, tag, payload]: the bytes inline (at most 16) or a blob id. */
  private dmaPayload(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, t: number | string): void {
    // Small payloads inline (bin8), larger ones by blob id (defined here on first sight).
    const blob = length <= INLINE_MAX ? -1 : this.blobRef(data, offset, length);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(write ? K_DMA_W : K_DMA_R, dt);
      c.num(C_DMA, dev); c.num(C_DMA + 1, addr); c.str(C_DMA + 2, t); c.payload(C_DMA + 3, blob, data, offset, length);
      return;
    }
    if (typeof t !== 'number') {
      const r = this.rec;
      r.length = 6;
      r[0] = write ? K_DMA_W : K_DMA_R; r[1] = dt; r[2] = dev; r[3] = addr; r[4] = t; r[5] = blob < 0 ? 0 : blob;
      this.put(r);
      if (blob < 0) this.replaceLastWithBin(data, offset, length);
      return;
    }
    if (this.pos + MAX_NUMERIC_RECORD + INLINE_MAX > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD + INLINE_MAX);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x96; // fixarray(6)
    b[p++] = write ? K_DMA_W : K_DMA_R;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, addr); p = num(b, p, t);
    this.pos = payload(b, p, blob, data, offset, length);
  }

  /** [DmaDelta, dt, dev, addr, tag, flags (bit 0 write), mask, changed words (bin8)] (format 6). */
  private dmaDelta(time: number, dev: number, addr: number, t: number, write: boolean, mask: number, data: Uint8Array, offset: number, length: number): void {
    if (this.version < COMPACT_FORMAT_VERSION) this.upgradeTo(COMPACT_FORMAT_VERSION);
    const dt = this.stamp(time);
    this.deltaRecords++;
    const c = this.cols;
    if (c) {
      c.begin(K_DMA_DELTA, dt);
      c.num(C_DMA_DELTA, dev); c.num(C_DMA_DELTA + 1, addr); c.str(C_DMA_DELTA + 2, t); c.num(C_DMA_DELTA + 3, write ? 1 : 0); c.num(C_DMA_DELTA + 4, mask);
      c.maskedWords(data, offset, mask, length >>> 2);
      return;
    }
    if (this.pos + MAX_NUMERIC_RECORD + DELTA_MAX > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD + DELTA_MAX);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x98; // fixarray(8)
    b[p++] = K_DMA_DELTA;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, addr); p = num(b, p, t);
    b[p++] = write ? 1 : 0;
    p = num(b, p, mask);
    b[p++] = 0xc4; // bin8
    const lenAt = p++;
    for (let w = 0; w < length >>> 2; w++) {
      if ((mask & (1 << w)) === 0) continue;
      const i = offset + 4 * w;
      b[p++] = data[i]!; b[p++] = data[i + 1]!; b[p++] = data[i + 2]!; b[p++] = data[i + 3]!;
    }
    b[lenAt] = p - lenAt - 1;
    this.pos = p;
  }

  /** [DmaImage, dt, dev, addr, tag, fixture, imageOffset, length]: the bytes stay in the image file (format 6). */
  private dmaImage(time: number, dev: number, addr: number, t: number | string, image: string, imageOffset: number, length: number): void {
    if (this.version < COMPACT_FORMAT_VERSION) this.upgradeTo(COMPACT_FORMAT_VERSION);
    this.imageRefs++;
    const f = this.str(image);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_DMA_IMG, dt);
      c.num(C_DMA_IMG, dev); c.num(C_DMA_IMG + 1, addr); c.str(C_DMA_IMG + 2, t); c.str(C_DMA_IMG + 3, f); c.num(C_DMA_IMG + 4, imageOffset); c.num(C_DMA_IMG + 5, length);
      return;
    }
    if (typeof t !== 'number' || typeof f !== 'number') {
      const r = this.rec;
      r.length = 8;
      r[0] = K_DMA_IMG; r[1] = dt; r[2] = dev; r[3] = addr; r[4] = t; r[5] = f; r[6] = imageOffset; r[7] = length;
      this.put(r);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x98; // fixarray(8)
    b[p++] = K_DMA_IMG;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, addr); p = num(b, p, t);
    p = num(b, p, f); p = num(b, p, imageOffset); p = num(b, p, length);
    this.pos = p;
  }

  intx(time: number, dev: number, gsi: number, level: number): void {
    this.room();
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_INTX, dt);
      c.num(C_INTX, dev); c.num(C_INTX + 1, gsi); c.num(C_INTX + 2, level);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x95;
    b[p++] = K_INTX;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, gsi); p = num(b, p, level);
    this.pos = p;
  }

  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    this.room();
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_MSI, dt);
      c.num(C_MSI, dev); c.num(C_MSI + 1, addr); c.num(C_MSI + 2, data); c.num(C_MSI + 3, core); c.num(C_MSI + 4, vector);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x97;
    b[p++] = K_MSI;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, addr); p = num(b, p, data); p = num(b, p, core); p = num(b, p, vector);
    this.pos = p;
  }

  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    this.room();
    const s = this.str(scheme);
    const o = this.str(op);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_SREQ, dt);
      c.num(C_SREQ, pid); c.str(C_SREQ + 1, s); c.str(C_SREQ + 2, o); c.num(C_SREQ + 3, reqId); c.num(C_SREQ + 4, a); c.num(C_SREQ + 5, b);
      return;
    }
    if (typeof s !== 'number' || typeof o !== 'number') {
      const r = this.rec;
      r.length = 8;
      r[0] = K_SREQ; r[1] = dt; r[2] = pid; r[3] = s; r[4] = o; r[5] = reqId; r[6] = a; r[7] = b;
      this.put(r);
      return;
    }
    const w = this.buf;
    let p = this.pos;
    w[p++] = 0x98;
    w[p++] = K_SREQ;
    p = num(w, p, dt); p = num(w, p, pid); p = num(w, p, s); p = num(w, p, o); p = num(w, p, reqId); p = num(w, p, a); p = num(w, p, b);
    this.pos = p;
  }

  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    this.room();
    const s = this.str(scheme);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_SREP, dt);
      c.num(C_SREP, pid); c.str(C_SREP + 1, s); c.num(C_SREP + 2, reqId); c.num(C_SREP + 3, result);
      return;
    }
    if (typeof s !== 'number') {
      const r = this.rec;
      r.length = 6;
      r[0] = K_SREP; r[1] = dt; r[2] = pid; r[3] = s; r[4] = reqId; r[5] = result;
      this.put(r);
      return;
    }
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x96;
    b[p++] = K_SREP;
    p = num(b, p, dt); p = num(b, p, pid); p = num(b, p, s); p = num(b, p, reqId); p = num(b, p, result);
    this.pos = p;
  }

  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    this.room();
    const n = this.str(name);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_MILESTONE, dt);
      c.num(C_MILESTONE, dev); c.str(C_MILESTONE + 1, n); c.num(C_MILESTONE + 2, a); c.num(C_MILESTONE + 3, b);
      return;
    }
    if (typeof n !== 'number') {
      const r = this.rec;
      r.length = 6;
      r[0] = K_MILESTONE; r[1] = dt; r[2] = dev; r[3] = n; r[4] = a; r[5] = b;
      this.put(r);
      return;
    }
    const w = this.buf;
    let p = this.pos;
    w[p++] = 0x96;
    w[p++] = K_MILESTONE;
    p = num(w, p, dt); p = num(w, p, dev); p = num(w, p, n); p = num(w, p, a); p = num(w, p, b);
    this.pos = p;
  }

  log(time: number, pid: number, level: LogLevel, text: string): void {
    this.room();
    const c = this.cols;
    if (c) {
      c.begin(K_LOG, this.stamp(time));
      c.num(C_LOG, pid); c.num(C_LOG + 1, LOG_LEVEL_CODE[level] ?? 2); c.text(C_LOG + 2, text);
      return;
    }
    const r = this.rec;
    r.length = 5;
    r[0] = K_LOG; r[1] = this.stamp(time); r[2] = pid; r[3] = LOG_LEVEL_CODE[level] ?? 2; r[4] = text;
    this.put(r);
  }

  guestErr(time: number, dev: number, code: string, message: string): void {
    this.room();
    const c = this.str(code);
    const e = this.cols;
    if (e) {
      e.begin(K_GUESTERR, this.stamp(time));
      e.num(C_GUESTERR, dev); e.str(C_GUESTERR + 1, c); e.text(C_GUESTERR + 2, message);
      return;
    }
    const r = this.rec;
    r.length = 5;
    r[0] = K_GUESTERR; r[1] = this.stamp(time); r[2] = dev; r[3] = c; r[4] = message;
    this.put(r);
  }

  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    this.room();
    const n = this.str(name);
    const c = this.cols;
    if (c) {
      c.begin(K_PROC, this.stamp(time));
      c.num(C_PROC, pid); c.num(C_PROC + 1, PROC_EVENT_CODE[event] ?? 0); c.str(C_PROC + 2, n); c.text(C_PROC + 3, detail);
      return;
    }
    const r = this.rec;
    r.length = 6;
    r[0] = K_PROC; r[1] = this.stamp(time); r[2] = pid; r[3] = PROC_EVENT_CODE[event] ?? 0; r[4] = n; r[5] = detail;
    this.put(r);
  }

  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    this.room();
    // [Air, dt, dev, flags (bit 0: tx), channel, signal, rate, payload]: the frame inline (bin8) when
    // short, else by blob id, exactly as DMA payloads, so a repeated beacon is one reference.
    const blob = length <= INLINE_MAX ? -1 : this.blobRef(data, offset, length);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_AIR, dt);
      c.num(C_AIR, dev); c.num(C_AIR + 1, tx ? 1 : 0); c.num(C_AIR + 2, channel); c.num(C_AIR + 3, signal); c.num(C_AIR + 4, rate);
      c.payload(C_AIR + 5, blob, data, offset, length);
      return;
    }
    if (this.pos + MAX_NUMERIC_RECORD + INLINE_MAX > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD + INLINE_MAX);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x98; // fixarray(8)
    b[p++] = K_AIR;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, tx ? 1 : 0); p = num(b, p, channel); p = num(b, p, signal); p = num(b, p, rate);
    this.pos = payload(b, p, blob, data, offset, length);
  }

  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    if (this.version < ETH_FORMAT_VERSION) this.upgradeTo(ETH_FORMAT_VERSION);
    this.room();
    // [Eth, dt, dev, flags (bit 0: tx), port, payload]: the frame inline when short, else by blob id (as Air).
    const blob = length <= INLINE_MAX ? -1 : this.blobRef(data, offset, length);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_ETH, dt);
      c.num(C_ETH, dev); c.num(C_ETH + 1, tx ? 1 : 0); c.num(C_ETH + 2, port); c.payload(C_ETH + 3, blob, data, offset, length);
      return;
    }
    if (this.pos + MAX_NUMERIC_RECORD + INLINE_MAX > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD + INLINE_MAX);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x96; // fixarray(6)
    b[p++] = K_ETH;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, tx ? 1 : 0); p = num(b, p, port);
    this.pos = payload(b, p, blob, data, offset, length);
  }

  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    if (this.version < FRAME_FORMAT_VERSION) this.upgradeTo(FRAME_FORMAT_VERSION);
    this.room();
    // [Frame, dt, dev, pipe, seq, width, height, format, pixels]: the pixels always by blob id (an
    // unchanged frame is one reference; a frame of at most 16 bytes, 2x2 pixels, is inline as for DMA).
    const blob = length <= INLINE_MAX ? -1 : this.blobRef(data, offset, length);
    const dt = this.stamp(time);
    const c = this.cols;
    if (c) {
      c.begin(K_FRAME, dt);
      c.num(C_FRAME, dev); c.num(C_FRAME + 1, pipe); c.num(C_FRAME + 2, seq); c.num(C_FRAME + 3, width); c.num(C_FRAME + 4, height); c.num(C_FRAME + 5, format);
      c.payload(C_FRAME + 6, blob, data, offset, length);
      return;
    }
    if (this.pos + MAX_NUMERIC_RECORD + INLINE_MAX > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD + INLINE_MAX);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x99; // fixarray(9)
    b[p++] = K_FRAME;
    p = num(b, p, dt); p = num(b, p, dev); p = num(b, p, pipe); p = num(b, p, seq);
    p = num(b, p, width); p = num(b, p, height); p = num(b, p, format);
    this.pos = payload(b, p, blob, data, offset, length);
  }

  /**
   * Before the first Eth (Frame) record: the preamble and header become
   * version 4 (5), of the same length, written over the earlier ones.
   * Nothing of the chunk that will hold the record has reached the file yet,
   * so a file never holds a record under a header whose version does not
   * allow it, even after a crash.
   */
  private upgradeTo(version: number): void {
    if (this.closed) throw new Error('trace recorder is closed');
    const head = encodeHeader(this.headerInput, version);
    if (head.length !== this.headLength) throw new Error(`internal: the version ${version} header is ${head.length} bytes, the version ${this.version} one ${this.headLength}`);
    this.sink.rewriteHead(head);
    this.version = version;
  }

  // ---- closing -----------------------------------------------------------

  /** Writes the last chunk, the index and the footer, and closes the file. */
  close(): RecordResult {
    if (this.closed) throw new Error('trace recorder already closed');
    this.flush();
    this.closed = true;
    if (this.pipe !== undefined) {
      this.pipe.finish(this.place);
      if (this.threadError !== undefined) {
        try { this.sink.close(); } catch { /* the error below says what went wrong first */ }
        throw new Error(`trace ${this.path ?? '(in memory)'}: the writer thread could not write a chunk: ${this.threadError}`);
      }
    }
    const indexOffset = this.offset;
    const body = new Packr({ useRecords: false }).pack(
      this.index.map((e) => ({ offset: e.offset, firstSeq: e.firstSeq, firstTime: e.firstTime, count: e.count })),
    );
    const tail = Buffer.alloc(INDEX_MAGIC.length + body.length + FOOTER_SIZE);
    tail.set(INDEX_MAGIC, 0);
    tail.set(body, INDEX_MAGIC.length);
    const f = INDEX_MAGIC.length + body.length;
    writeF64(tail, f, indexOffset);
    writeU32(tail, f + 8, body.length);
    writeU32(tail, f + 12, crc32(body));
    writeF64(tail, f + 16, this.seq);
    writeF64(tail, f + 24, this.endTime);
    writeU32(tail, f + FOOTER_CRC_AT, crc32(tail.subarray(f, f + FOOTER_CRC_AT)));
    tail.set(FOOTER_MAGIC, f + FOOTER_CRC_AT + 4);
    this.sink.write(tail);
    this.offset += tail.length;
    this.sink.close();
    const result: RecordResult = {
      records: this.seq, bytes: this.offset, blobs: this.blobsWritten, imageRefs: this.imageRefs, deltas: this.deltaRecords,
      threadChunks: this.index.length - this.ownChunks, path: this.path,
    };
    if (this.sink instanceof MemorySink) result.buffer = Buffer.concat(this.sink.parts);
    this.strIds.clear();
    this.recentStr.fill(undefined);
    return result;
  }

  // ---- internals ---------------------------------------------------------

  /**
   * Before a record group (definitions + event): flushes a full chunk and
   * makes room for one all-number record.
   */
  private room(): void {
    const c = this.cols;
    if (c) {
      if (c.size >= this.flushAt) this.flush();
      else if (this.closed) throw new Error('trace recorder is closed');
      return;
    }
    if (this.pos >= this.flushAt) this.flush();
    else if (this.closed) throw new Error('trace recorder is closed');
    if (this.pos + MAX_NUMERIC_RECORD > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD);
  }

  /** Claims the next sequence number; returns the time delta to store. */
  private stamp(time: number): number {
    if (this.chunkCount === 0) {
      this.chunkFirstSeq = this.seq;
      this.chunkFirstTime = time;
      this.prevTime = 0;
    }
    const dt = time - this.prevTime;
    this.prevTime = time;
    this.endTime = time;
    this.chunkCount++;
    this.seq++;
    return dt;
  }

  /** Packs `rec` with the reused Packr (no result allocation) and copies it into the chunk buffer. */
  private put(rec: readonly (number | string)[]): void {
    const b = this.packr.pack(rec, PACK_MODE) as PackedBuffer;
    const s = b.start;
    const e = b.end;
    const n = e - s;
    let p = this.pos;
    if (p + n > this.buf.length) this.grow(p + n);
    const dst = this.buf;
    if (n <= 48) {
      for (let i = s; i < e; i++) dst[p++] = b[i]!;
    } else {
      b.copy(dst, p, s, e);
      p += n;
    }
    this.pos = p;
  }

  /** Replaces the trailing fixint 0 of the record just packed with a bin8 of the payload. */
  private replaceLastWithBin(data: Uint8Array, offset: number, length: number): void {
    let p = this.pos - 1;
    if (p + 2 + length > this.buf.length) this.grow(p + 2 + length);
    const b = this.buf;
    b[p++] = 0xc4;
    b[p++] = length;
    for (let i = 0; i < length; i++) b[p++] = data[offset + i]!;
    this.pos = p;
  }

  private grow(need: number): void {
    let size = Math.max(4096, this.buf.length * 2);
    while (size < need) size *= 2;
    const nb = Buffer.alloc(size);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  private flush(): void {
    if (this.closed) throw new Error('trace recorder is closed');
    const c = this.cols;
    let rawLen: number;
    let raw: Uint8Array;
    if (c) {
      if (c.empty) return;
      if (this.pipe !== undefined) {
        this.handOver(c, this.pipe);
        return;
      }
      rawLen = c.finish(this.asm);
      raw = this.asm.buf;
    } else {
      if (this.pos === 0) return;
      rawLen = this.pos;
      raw = this.buf;
    }
    const h = this.chunkHeader;
    const comp = sealChunk(raw, rawLen, this.chunkCount, this.chunkFirstSeq, this.chunkFirstTime, h);
    this.sink.write(h, comp);
    this.index.push({ offset: this.offset, firstSeq: this.chunkFirstSeq, firstTime: this.chunkFirstTime, count: this.chunkCount });
    this.offset += CHUNK_HEADER_SIZE + comp.length;
    this.placed = this.ownChunks = this.index.length;
    this.pos = 0;
    this.chunkCount = 0;
    this.deltas.reset(); // a chunk never needs another chunk's bases
    // Keep the chunk buffers from staying huge after one oversized record.
    if (this.buf.length > 4 * (this.flushAt + 4096)) this.buf = Buffer.alloc(this.flushAt + 4096);
    if (this.asm.buf.length > 4 * (this.flushAt + 4096)) this.asm.buf = new Uint8Array(0);
    if (c) this.considerThread(c);
  }

  /**
   * When the recorder is made and after each chunk it writes itself: whether
   * the chunks from now on go to the writer thread (./writer-thread.ts).
   * 'auto' hands them over once the thread is running, and starts it when a
   * recording has written AUTO_THREAD_AFTER chunks itself (a short recording
   * in a process that has no thread yet never starts one); 'always' has
   * waited for the thread when the recorder was made.
   */
  private considerThread(c: ColumnEncoder): void {
    if (this.threadMode === 'never') return;
    if (this.threadMode === 'auto' && !writerThreadReady()) {
      if (this.index.length >= AUTO_THREAD_AFTER) startWriterThread();
      return;
    }
    this.pipe = new ChunkPipe(this.sink instanceof FileSink ? this.sink.fd : null);
    c.detach(this.pipe.firstStage()); // the chunks staged from now on are in shared memory
  }

  /** Hands the staged chunk to the writer thread; places the chunks it has finished. */
  private handOver(c: ColumnEncoder, pipe: ChunkPipe): void {
    this.index.push({ offset: -1, firstSeq: this.chunkFirstSeq, firstTime: this.chunkFirstTime, count: this.chunkCount });
    c.detach(pipe.submit(c.stage, this.chunkCount, this.chunkFirstSeq, this.chunkFirstTime));
    this.chunkCount = 0;
    this.deltas.reset(); // a chunk never needs another chunk's bases
    pipe.drain(this.place);
  }

  /** A chunk the writer thread finished (in order): its place in the file, and its bytes for a trace kept in memory. */
  private readonly place = (r: ChunkReply): void => {
    if (r.error !== undefined) {
      this.threadError ??= r.error;
      return;
    }
    const e = this.index[this.placed++]!;
    e.offset = this.offset;
    this.offset += CHUNK_HEADER_SIZE + r.compLen;
    if (r.bytes !== undefined) (this.sink as MemorySink).parts.push(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length));
  };

  /** Interned id of `s` (writing its Str definition on first use), or `s` itself once the table is full. */
  private str(s: string): number | string {
    // Hot strings (DMA tags, scheme names) are usually the same string objects: try a few recent ones first.
    const rs = this.recentStr;
    for (let i = 0; i < RECENT_STRS; i++) if (rs[i] === s) return this.recentId[i]!;
    const id = this.strIds.get(s);
    if (id !== undefined) {
      const k = this.recentNext;
      rs[k] = s;
      this.recentId[k] = id;
      this.recentNext = (k + 1) & (RECENT_STRS - 1);
      return id;
    }
    if (this.strIds.size >= MAX_INTERNED_STRINGS) return s;
    const nid = this.strIds.size;
    this.strIds.set(s, nid);
    if (this.cols) {
      this.cols.defStr(nid, s);
      return nid;
    }
    const r = this.rec;
    r.length = 3;
    r[0] = K_STR; r[1] = nid; r[2] = s;
    this.put(r);
    // Keep room()'s promise: space for one all-number record after a definition.
    if (this.pos + MAX_NUMERIC_RECORD > this.buf.length) this.grow(this.pos + MAX_NUMERIC_RECORD);
    return nid;
  }

  /** Blob id for the payload, writing a Blob definition the first time its content appears. */
  private blobRef(data: Uint8Array, offset: number, length: number): number {
    const t = this.blobs;
    const id = t.lookup(data, offset, length);
    if (t.isNew) {
      this.blobsWritten++;
      const c = this.cols;
      if (c) {
        // A column chunk applies its definitions before its first event, so a
        // new epoch (which drops the older blobs) starts a new chunk.
        if (t.epochStart !== this.defEpoch) {
          if (!c.empty) this.flush();
          this.defEpoch = t.epochStart;
        }
        c.defBlob(id, t.lastBuffer, t.lastOffset, length, t.epochStart);
        return id;
      }
      this.writeBlobDef(id, t.lastBuffer, t.lastOffset, length, t.epochStart);
    }
    return id;
  }

  /** [Blob, id, bin, epochStart], msgpack-encoded by hand so the bytes are copied once. */
  private writeBlobDef(id: number, src: Buffer, off: number, n: number, epochStart: number): void {
    const need = this.pos + n + 32;
    if (need > this.buf.length) this.grow(need);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x94; // fixarray(4)
    b[p++] = K_BLOB;
    p = num(b, p, id);
    if (n < 0x100) { b[p++] = 0xc4; b[p++] = n; }
    else if (n < 0x10000) { b[p++] = 0xc5; b[p++] = n >>> 8; b[p++] = n & 0xff; }
    else { b[p++] = 0xc6; b[p++] = n >>> 24; b[p++] = (n >>> 16) & 0xff; b[p++] = (n >>> 8) & 0xff; b[p++] = n & 0xff; }
    if (n >= 64) src.copy(b, p, off, off + n);
    else for (let k = 0; k < n; k++) b[p + k] = src[off + k]!;
    p += n;
    p = num(b, p, epochStart);
    this.pos = p;
    if (p + MAX_NUMERIC_RECORD > b.length) this.grow(p + MAX_NUMERIC_RECORD);
  }
}

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const HOST_LE = isLittleEndianHost;

/** A payload field: its blob id, or (blob < 0) the bytes inline as bin8. Returns the new write position. */
function payload(b: Uint8Array, p: number, blob: number, data: Uint8Array, offset: number, length: number): number {
  if (blob >= 0) return num(b, p, blob);
  b[p++] = 0xc4; // bin8
  b[p++] = length;
  for (let i = 0; i < length; i++) b[p++] = data[offset + i]!;
  return p;
}

/**
 * msgpack encoding of a number exactly as msgpackr writes it with
 * `useRecords: false` (checked by test/trace/encoding.test.ts): unsigned
 * 32-bit integers as positive fixint (< 0x80) / uint8 / uint16 / uint32,
 * negative 32-bit integers as negative fixint / int8 / int16 / int32,
 * anything else (larger integers, fractions, NaN) as big-endian float64.
 * At most 9 bytes.
 */
export function num(b: Uint8Array, p: number, v: number): number {
  if (v >>> 0 === v) {
    if (v < 0x80) b[p++] = v;
    else if (v < 0x100) { b[p++] = 0xcc; b[p++] = v; }
    else if (v < 0x10000) { b[p++] = 0xcd; b[p++] = v >>> 8; b[p++] = v & 0xff; }
    else { b[p++] = 0xce; b[p++] = v >>> 24; b[p++] = (v >>> 16) & 0xff; b[p++] = (v >>> 8) & 0xff; b[p++] = v & 0xff; }
  } else if (v >> 0 === v) {
    if (v >= -0x20) b[p++] = v & 0xff;
    else if (v >= -0x80) { b[p++] = 0xd0; b[p++] = v & 0xff; }
    else if (v >= -0x8000) { b[p++] = 0xd1; b[p++] = (v >> 8) & 0xff; b[p++] = v & 0xff; }
    else { b[p++] = 0xd2; b[p++] = (v >>> 24) & 0xff; b[p++] = (v >>> 16) & 0xff; b[p++] = (v >>> 8) & 0xff; b[p++] = v & 0xff; }
  } else {
    b[p++] = 0xcb;
    f64[0] = v;
    if (HOST_LE) {
      b[p++] = f64b[7]!; b[p++] = f64b[6]!; b[p++] = f64b[5]!; b[p++] = f64b[4]!;
      b[p++] = f64b[3]!; b[p++] = f64b[2]!; b[p++] = f64b[1]!; b[p++] = f64b[0]!;
    } else {
      for (let i = 0; i < 8; i++) b[p++] = f64b[i]!;
    }
  }
  return p;
}
