/**
 * Columnar chunk layout of trace format 7 (docs/TRACE-FORMAT.md "Chunks in
 * columns"): what a chunk's raw (decompressed) bytes hold, the encoder the
 * recorder fills and the decoder the reader runs.
 *
 * A chunk's records are split into columns: the record kinds (one byte per
 * event), the time deltas, one column per (record kind, field) and a byte
 * section for payloads and text, plus the chunk's Str/Blob definitions. Every
 * numeric field is a zigzag varint of its difference to the previous value of
 * the same column (a repeated device, size or register offset costs one zero
 * byte, which lz4 then squeezes); values that are not safe integers (fractions,
 * 64-bit addresses above 2^53) escape to a raw float64. Interned strings and
 * blob ids are delta-coded the same way, with the low bit telling an inline
 * string or payload (whose bytes are in the byte section) from an id.
 *
 * raw := varint ncols, ncols x (varint column id, varint byte length), the
 *        column bodies in that order (ids strictly increasing)
 *
 * The decoder turns a chunk into typed arrays (ColumnBlock), not one object
 * per event: kind, time and up to seven numeric fields per event, in the
 * field order of the format-6 records (docs/TRACE-FORMAT.md "Records").
 */
import { Rec } from '../sim/tracer.js';
import { popcount } from './delta.js';
import { grown } from '../sim/grown.js';

/** Column ids. Field columns are FIELD_BASE + group*8 + field index. */
export const COL_DEFS = 0;
export const COL_KINDS = 1;
export const COL_DT = 2;
export const COL_BYTES = 3;
const FIELD_BASE = 8;
/** Most fields of one record kind (Frame: dev, pipe, seq, width, height, format, pixels). */
export const MAX_FIELDS = 7;

/** Field codes: N number, S string (interned id or inline), P payload (blob id or inline bytes), T free text, W delta words (popcount(previous field) x 4 bytes). */
export const FIELD_NUMBER = 1, FIELD_STRING = 2, FIELD_PAYLOAD = 3, FIELD_TEXT = 4, FIELD_WORDS = 5;
const N = FIELD_NUMBER, S = FIELD_STRING, P = FIELD_PAYLOAD, T = FIELD_TEXT, W = FIELD_WORDS;

/** Field codes per record kind, in record order after the time delta. */
const SCHEMA: readonly (readonly number[] | undefined)[] = (() => {
  const s: (readonly number[] | undefined)[] = [];
  s[Rec.MmioRead] = s[Rec.MmioWrite] = [N, N, N, N, N, N]; // core dev bar offset size value
  s[Rec.PioRead] = s[Rec.PioWrite] = [N, N, N, N, N]; // core dev port size value
  s[Rec.CfgRead] = s[Rec.CfgWrite] = [N, N, N, N, N]; // core dev offset size value
  s[Rec.DmaRead] = s[Rec.DmaWrite] = [N, N, S, P]; // dev addr tag payload
  s[Rec.Intx] = [N, N, N]; // dev gsi level
  s[Rec.Msi] = [N, N, N, N, N]; // dev addr data core vector
  s[Rec.SchemeReq] = [N, S, S, N, N, N]; // pid scheme op reqId a b
  s[Rec.SchemeReply] = [N, S, N, N]; // pid scheme reqId result
  s[Rec.Milestone] = [N, S, N, N]; // dev name a b
  s[Rec.Log] = [N, N, T]; // pid level text
  s[Rec.GuestErr] = [N, S, T]; // dev code message
  s[Rec.Proc] = [N, N, S, T]; // pid event name detail
  s[Rec.Air] = [N, N, N, N, N, P]; // dev flags channel signal rate frame
  s[Rec.Eth] = [N, N, N, P]; // dev flags port frame
  s[Rec.Frame] = [N, N, N, N, N, N, P]; // dev pipe seq width height format pixels
  s[Rec.DmaImage] = [N, N, S, S, N, N]; // dev addr tag fixture imageOffset length
  s[Rec.DmaDelta] = [N, N, S, N, N, W]; // dev addr tag flags mask words
  return s;
})();

/** Read and write variants of an access share their columns. */
function groupOf(kind: number): number {
  switch (kind) {
    case Rec.MmioWrite: return Rec.MmioRead;
    case Rec.PioWrite: return Rec.PioRead;
    case Rec.CfgWrite: return Rec.CfgRead;
    case Rec.DmaWrite: return Rec.DmaRead;
    default: return kind;
  }
}

const KINDS_END = Rec.DmaDelta + 1;
/** Flattened schema: CODE[kind*8+j] (0 past the last field) and the column of each field. */
const CODE = new Uint8Array(KINDS_END * 8);
const COL = new Uint16Array(KINDS_END * 8);
for (let k = 0; k < KINDS_END; k++) {
  const s = SCHEMA[k];
  if (!s) continue;
  for (let j = 0; j < s.length; j++) {
    CODE[k * 8 + j] = s[j]!;
    COL[k * 8 + j] = FIELD_BASE + groupOf(k) * 8 + j;
  }
}
/** The record group of each kind (its columns' kind: reads and writes of an access share them). */
const GROUP = new Uint8Array(256);
for (let k = 0; k < KINDS_END; k++) GROUP[k] = groupOf(k);
/** Staged float64s per event in the encoder's group rows: up to MAX_FIELDS fields. */
const ROW = 8;
/** Per kind, its fields that are or may be in the byte section (strings, payloads, text, delta words): BYTE_FIELD[kind*8 + n] for n < BYTE_FIELDS[kind]. */
const BYTE_FIELDS = new Uint8Array(KINDS_END);
const BYTE_FIELD = new Uint8Array(KINDS_END * 8);
for (let k = 0; k < KINDS_END; k++) {
  (SCHEMA[k] ?? []).forEach((c, j) => {
    // Delta words follow the mask they count (a number field).
    if (c === W && SCHEMA[k]![j - 1] !== N) throw new Error(`column schema: kind ${k}'s delta words do not follow a number`);
    if (c !== N) BYTE_FIELD[k * 8 + BYTE_FIELDS[k]!++] = j;
  });
}
/** Kinds with a field that always takes bytes of the byte section (text, delta words). */
const USES_BYTES = new Uint8Array(KINDS_END);
for (let k = 0; k < KINDS_END; k++) USES_BYTES[k] = SCHEMA[k]?.some((c) => c === T || c === W) === true ? 1 : 0;
/** One past the largest column id. */
export const NCOLS = FIELD_BASE + KINDS_END * 8;
/** The column holding field `j` of records of `kind`. */
export function fieldColumn(kind: number, j: number): number {
  return COL[kind * 8 + j]!;
}
/** Whether `kind` is an event kind with a column schema. */
/** The field codes (FIELD_*) of an event kind, in record order after the time delta; undefined for other kinds. */
export function fieldCodes(kind: number): readonly number[] | undefined {
  return kind >= 0 && kind < KINDS_END ? SCHEMA[kind] : undefined;
}

/** Column buffers above this size are dropped after their chunk is written. */
const SHRINK_ABOVE = 4 * 1024 * 1024;
/** Varint value that announces a raw float64 (8 bytes, little-endian) instead of a zigzag delta. */
const ESC = 2 ** 53;
/** Largest delta magnitude stored as a zigzag varint (its zigzag value stays below ESC). */
const MAX_DELTA = 2 ** 51;

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------
// Encoder

const utf8 = new TextEncoder();

/**
 * A chunk's events as the encoder staged them, before they are turned into
 * columns: kinds and time deltas in event order, each record group's fields
 * as rows of ROW float64s, and the byte and definition sections (complete as
 * they are). A stage in shared memory can be handed to the trace writer
 * thread (./writer-thread.ts), which assembles it as the recorder would.
 */
export interface ChunkStage {
  kinds: Uint8Array;
  dts: Float64Array;
  /** Per record group: ROW float64s per event of the group, in event order. */
  groupRows: Float64Array[];
  /** Per record group: its events in the chunk. */
  groupEvents: Int32Array;
  /** Byte section (payloads, texts and delta words, in event order) and its length. */
  bytes: Uint8Array;
  bytesEnd: number;
  /** Str and Blob definitions and their length. */
  defs: Uint8Array;
  defsEnd: number;
  /** Events in the chunk. */
  events: number;
}

/** An empty stage; `shared`: in SharedArrayBuffers (and growing into them: ../sim/grown.ts). */
export function newChunkStage(shared: boolean): ChunkStage {
  const u8 = (n: number) => (shared ? new Uint8Array(new SharedArrayBuffer(n)) : new Uint8Array(n));
  const f64s = (n: number) => (shared ? new Float64Array(new SharedArrayBuffer(8 * n)) : new Float64Array(n));
  const groupRows: Float64Array[] = [];
  for (let g = 0; g < KINDS_END; g++) groupRows.push(f64s(16 * ROW));
  return {
    kinds: u8(1024), dts: f64s(1024), groupRows,
    groupEvents: shared ? new Int32Array(new SharedArrayBuffer(4 * KINDS_END)) : new Int32Array(KINDS_END),
    bytes: u8(4096), bytesEnd: 0, defs: u8(4096), defsEnd: 0, events: 0,
  };
}

/** Empties `s` for the next chunk; a section that grew for one outsized record (a display frame's pixels) does not stay huge. */
function resetStage(s: ChunkStage): void {
  s.events = 0;
  s.bytesEnd = 0;
  s.defsEnd = 0;
  s.groupEvents.fill(0);
  if (s.bytes.length > SHRINK_ABOVE) s.bytes = shrunk(s.bytes);
  if (s.defs.length > SHRINK_ABOVE) s.defs = shrunk(s.defs);
}

function shrunk(a: Uint8Array): Uint8Array {
  return a.buffer instanceof SharedArrayBuffer ? new Uint8Array(new SharedArrayBuffer(4096)) : new Uint8Array(4096);
}

/** `a` with room for `need` elements (doubling), its contents kept. */
function withRoom<T extends Uint8Array | Float64Array>(a: T, need: number): T {
  if (need <= a.length) return a;
  let n = a.length * 2;
  while (n < need) n *= 2;
  return grown(a, n);
}

/**
 * The chunk being filled. An event's numbers are staged as they come (its
 * kind byte, then its time delta and fields as float64s in a row of eight)
 * and turned into columns when the chunk is finished (ChunkAssembler), one
 * column at a time over the events of its record group: the column's
 * previous value and write position stay in locals, and recording an event
 * costs a few stores. Bytes (payloads, texts, delta words) and definitions
 * go to their sections at once, in event order. Nothing is allocated per
 * record once the buffers have grown to the chunk's size.
 */
export class ColumnEncoder {
  private st: ChunkStage;
  private readonly assembler = new ChunkAssembler();
  /** The current event's group rows, and where its fields start there. */
  private cur: Float64Array = new Float64Array(0);
  private at = 0;
  /** Byte-section and definition bytes (the bulk of a chunk), for the flush rule. */
  private bulk = 0;

  constructor() {
    this.st = newChunkStage(false);
  }

  /** The chunk being staged. */
  get stage(): ChunkStage {
    return this.st;
  }

  /** Approximate raw size of the chunk so far (the recorder flushes past its chunk size). */
  get size(): number {
    return this.st.events * 10 + this.bulk;
  }

  /** Starts an event of `kind` at time delta `dt`. */
  begin(kind: number, dt: number): void {
    const s = this.st;
    const n = s.events;
    if (n === s.kinds.length) {
      s.kinds = grown(s.kinds, 2 * n);
      s.dts = grown(s.dts, 2 * n);
    }
    s.kinds[n] = kind;
    s.dts[n] = dt;
    const g = GROUP[kind]!;
    const k = s.groupEvents[g]!;
    let rows = s.groupRows[g]!;
    if ((k + 1) * ROW > rows.length) s.groupRows[g] = rows = grown(rows, 2 * rows.length);
    s.groupEvents[g] = k + 1;
    this.cur = rows;
    this.at = k * ROW;
    s.events = n + 1;
  }

  /** A numeric field (column `c` of the current event's kind): a zigzag varint of its difference to the column's previous value, or an escaped float64. */
  num(c: number, v: number): void {
    this.cur[this.at + ((c - FIELD_BASE) & 7)] = v;
  }

  /** An interned string id (delta-coded, low bit 0) or an inline string (length, low bit 1; bytes in the byte section). */
  str(c: number, v: number | string): void {
    if (typeof v === 'number') { this.num(c, v); return; }
    const bytes = utf8.encode(v);
    this.num(c, -(bytes.length * 2 + 1) - 1);
    this.bytes(bytes, 0, bytes.length);
  }

  /** A blob id (delta-coded, low bit 0) or an inline payload (length, low bit 1; bytes in the byte section). */
  payload(c: number, blob: number, data: Uint8Array, offset: number, length: number): void {
    if (blob >= 0) { this.num(c, blob); return; }
    this.num(c, -(length * 2 + 1) - 1);
    this.bytes(data, offset, length);
  }

  /** Free text: its UTF-8 length, the bytes in the byte section. */
  text(c: number, s: string): void {
    const bytes = utf8.encode(s);
    this.num(c, bytes.length);
    this.bytes(bytes, 0, bytes.length);
  }

  /** Bytes into the byte section (payloads, texts and delta words, in event order). */
  bytes(data: Uint8Array, offset: number, length: number): void {
    const s = this.st;
    const p = s.bytesEnd;
    const b = s.bytes = withRoom(s.bytes, p + length);
    if (length > 32) b.set(data.subarray(offset, offset + length), p);
    else for (let i = 0; i < length; i++) b[p + i] = data[offset + i]!;
    s.bytesEnd = p + length;
    this.bulk += length;
  }

  /** The 32-bit words of data[offset, offset + 4 * words) whose bit is set in `mask` (a delta's changed words), into the byte section. */
  maskedWords(data: Uint8Array, offset: number, mask: number, words: number): void {
    const s = this.st;
    let p = s.bytesEnd;
    const b = s.bytes = withRoom(s.bytes, p + 4 * words);
    for (let w = 0; w < words; w++) {
      if ((mask & (1 << w)) === 0) continue;
      const i = offset + 4 * w;
      b[p] = data[i]!; b[p + 1] = data[i + 1]!; b[p + 2] = data[i + 2]!; b[p + 3] = data[i + 3]!;
      p += 4;
    }
    this.bulk += p - s.bytesEnd;
    s.bytesEnd = p;
  }

  /** Str definition. */
  defStr(id: number, text: string): void {
    const bytes = utf8.encode(text);
    this.defHead(0, id, bytes.length);
    this.defBytes(bytes, 0, bytes.length);
  }

  /** Blob definition. */
  defBlob(id: number, data: Uint8Array, offset: number, length: number, epochStart: number): void {
    this.defHead(1, id, length);
    this.defVar(epochStart);
    this.defBytes(data, offset, length);
  }

  /** Whether nothing was written since the last `finish`. */
  get empty(): boolean {
    return this.st.events === 0 && this.st.defsEnd === 0;
  }

  /**
   * The chunk's raw bytes into `out` (grown as needed; returned with its
   * length), and a reset for the next chunk.
   */
  finish(out: { buf: Uint8Array }): number {
    const n = this.assembler.assemble(this.st, out);
    resetStage(this.st);
    this.bulk = 0;
    return n;
  }

  /** Goes on with stage `next`, emptied (the chunk staged so far is assembled elsewhere). */
  detach(next: ChunkStage): void {
    resetStage(next);
    this.st = next;
    this.bulk = 0;
  }

  private defHead(type: number, id: number, length: number): void {
    this.defVar(type);
    this.defVar(id);
    this.defVar(length);
  }

  private defVar(u: number): void {
    const s = this.st;
    s.defs = withRoom(s.defs, s.defsEnd + 10);
    s.defsEnd = uvar(s.defs, s.defsEnd, u);
  }

  private defBytes(data: Uint8Array, offset: number, length: number): void {
    const s = this.st;
    const p = s.defsEnd;
    const b = s.defs = withRoom(s.defs, p + length);
    b.set(data.subarray(offset, offset + length), p);
    s.defsEnd = p + length;
    this.bulk += length;
  }
}

/**
 * Turns a staged chunk into its raw bytes (the layout above): the kinds,
 * time-delta and field columns encoded here, the definitions and byte
 * section as staged. Its column buffers are reused from chunk to chunk.
 */
export class ChunkAssembler {
  private readonly bufs: Uint8Array[] = [];
  private readonly pos = new Int32Array(NCOLS);

  constructor() {
    for (let c = 0; c < NCOLS; c++) this.bufs.push(new Uint8Array(c < FIELD_BASE ? 1024 : 64));
  }

  /** The raw bytes of stage `s` into `out.buf` (grown as needed); returns their length. The stage is left as it is. */
  assemble(s: ChunkStage, out: { buf: Uint8Array }): number {
    this.pos.fill(0);
    this.encodeColumns(s);
    const len = (c: number) => (c === COL_DEFS ? s.defsEnd : c === COL_BYTES ? s.bytesEnd : this.pos[c]!);
    const body = (c: number) => (c === COL_DEFS ? s.defs : c === COL_BYTES ? s.bytes : this.bufs[c]!);
    let ncols = 0;
    let size = 0;
    for (let c = 0; c < NCOLS; c++) if (len(c) > 0) { ncols++; size += len(c); }
    const need = 5 + ncols * 10 + size;
    if (out.buf.length < need) out.buf = new Uint8Array(Math.max(need, out.buf.length * 2));
    const b = out.buf;
    let p = uvar(b, 0, ncols);
    for (let c = 0; c < NCOLS; c++) {
      const n = len(c);
      if (n > 0) { p = uvar(b, p, c); p = uvar(b, p, n); }
    }
    for (let c = 0; c < NCOLS; c++) {
      const n = len(c);
      if (n === 0) continue;
      b.set(body(c).subarray(0, n), p);
      p += n;
    }
    // A column that grew for one outsized chunk does not stay huge.
    for (let c = 0; c < NCOLS; c++) if (this.bufs[c]!.length > SHRINK_ABOVE) this.bufs[c] = new Uint8Array(4096);
    return p;
  }

  /** The staged events into the kinds, time-delta and field columns. */
  private encodeColumns(s: ChunkStage): void {
    const n = s.events;
    if (n === 0) return;
    // Kinds as they are; time deltas each against 0.
    const kb = this.room(COL_KINDS, n);
    kb.set(s.kinds.subarray(0, n), 0);
    this.pos[COL_KINDS] = n;
    const dts = s.dts;
    const db = this.room(COL_DT, n * 16);
    let p = 0;
    for (let e = 0; e < n; e++) p = deltaVar(db, p, dts[e]!, 0);
    this.pos[COL_DT] = p;
    for (let g = 0; g < KINDS_END; g++) {
      const count = s.groupEvents[g]!;
      if (count > 0) this.encodeGroup(g, s.groupRows[g]!, count);
    }
  }

  /** Field columns of group `g` from its `count` staged events. */
  private encodeGroup(g: number, rows: Float64Array, count: number): void {
    const end = count * ROW;
    for (let j = 0; j < MAX_FIELDS; j++) {
      const code = CODE[g * 8 + j]!;
      if (code === 0) break;
      if (code === FIELD_WORDS) continue; // the words are in the byte section
      const c = COL[g * 8 + j]!;
      const b = this.room(c, count * 16);
      let p = this.pos[c]!;
      let prev = 0;
      if (code === FIELD_NUMBER) {
        for (let r = j; r < end; r += ROW) {
          const v = rows[r]!;
          p = deltaVar(b, p, v, prev);
          prev = v;
        }
      } else if (code === FIELD_TEXT) {
        for (let r = j; r < end; r += ROW) p = uvar(b, p, rows[r]!);
      } else {
        // Ids delta-coded with the low bit clear; an inline value (staged as -u-1) is u as it is.
        for (let r = j; r < end; r += ROW) {
          const v = rows[r]!;
          if (v < 0) { p = uvar(b, p, -v - 1); continue; }
          const d = v - prev;
          prev = v;
          p = uvar(b, p, 2 * (d >= 0 ? 2 * d : -2 * d - 1));
        }
      }
      this.pos[c] = p;
    }
  }

  /** Column `c`'s buffer with room for `more` bytes after its end. */
  private room(c: number, more: number): Uint8Array {
    const need = this.pos[c]! + more;
    const b = this.bufs[c]!;
    if (need <= b.length) return b;
    let n = b.length * 2;
    while (n < need) n *= 2;
    const nb = new Uint8Array(n);
    nb.set(b.subarray(0, this.pos[c]!));
    this.bufs[c] = nb;
    return nb;
  }
}

/**
 * v against prev at b[p]: the zigzag varint of the difference (one byte for
 * most fields), or ESC and the raw float64 when either is not a safe integer
 * or the difference is too large. Returns the position after it.
 */
function deltaVar(b: Uint8Array, p: number, v: number, prev: number): number {
  if ((v | 0) === v && (prev | 0) === prev) {
    const d = v - prev;
    const z = d >= 0 ? 2 * d : -2 * d - 1;
    if (z < 0x80) { b[p] = z; return p + 1; }
    return uvar(b, p, z);
  }
  if (Number.isSafeInteger(v) && Number.isSafeInteger(prev) && Math.abs(v - prev) <= MAX_DELTA) {
    const d = v - prev;
    return uvar(b, p, d >= 0 ? 2 * d : -2 * d - 1);
  }
  p = uvar(b, p, ESC);
  f64[0] = v;
  if (LE) for (let i = 0; i < 8; i++) b[p++] = f64b[i]!;
  else for (let i = 7; i >= 0; i--) b[p++] = f64b[i]!;
  return p;
}

/** Unsigned varint (7 bits per byte, low first) of a non-negative integer up to 2^53. */
function uvar(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80000000) {
    while (v >= 0x80) { b[p++] = (v & 0x7f) | 0x80; v >>>= 7; }
  } else {
    while (v >= 0x80) { b[p++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
  }
  b[p++] = v;
  return p;
}

// ---------------------------------------------------------------------------
// Decoded chunk

/** A Str or Blob definition of a chunk; `at` is the index of the event before which it applies. */
export interface ChunkDef {
  at: number;
  blob: boolean;
  id: number;
  text: string;
  data: Uint8Array;
  epochStart: number;
}

/**
 * One chunk's events as typed arrays. Field j of event i is f[j][i], in the
 * record order of docs/TRACE-FORMAT.md: numbers as they are; a string field
 * is its interned id, or -(1 + k) for inline string strs[k]; a payload field
 * is its blob id, or -(1 + o) for `aux[i]` bytes at offset o of `bytes`
 * (delta words likewise); a free-text field is k for strs[k].
 */
export class ColumnBlock {
  n = 0;
  kind = new Uint8Array(1024);
  time = new Float64Array(1024);
  readonly f: Float64Array[] = [];
  aux = new Int32Array(1024);
  bytes: Uint8Array = new Uint8Array(0);
  /** Whether `bytes` is the chunk's own array, never written again (so windows into it may be kept). */
  bytesStable = false;
  readonly strs: string[] = [];
  readonly defs: ChunkDef[] = [];
  constructor() {
    for (let j = 0; j < MAX_FIELDS; j++) this.f.push(new Float64Array(1024));
  }

  /** Empties the block with room for `n` events. */
  reset(n: number): void {
    this.n = 0;
    this.strs.length = 0;
    this.defs.length = 0;
    if (this.kind.length >= n) return;
    let cap = this.kind.length;
    while (cap < n) cap *= 2;
    this.kind = new Uint8Array(cap);
    this.time = new Float64Array(cap);
    for (let j = 0; j < MAX_FIELDS; j++) this.f[j] = new Float64Array(cap);
    this.aux = new Int32Array(cap);
  }
}

/** A chunk whose columns do not decode; the message says where. */
class BadChunk extends Error {}

const utf8d = new TextDecoder('utf-8', { fatal: false });

/**
 * Decodes a format-7 chunk's raw bytes into `out`. Returns undefined, or why
 * the bytes are not a valid chunk of `count` events whose kinds `valid` allows.
 * `stable`: `raw` is never written again (ColumnBlock.bytesStable).
 */
export function decodeColumns(raw: Uint8Array, count: number, valid: readonly boolean[], out: ColumnBlock, stable = false): string | undefined {
  try {
    decode(raw, count, valid, out, stable);
    return undefined;
  } catch (e) {
    if (e instanceof BadChunk) return e.message;
    throw e;
  }
}

function decode(raw: Uint8Array, count: number, valid: readonly boolean[], out: ColumnBlock, stable: boolean): void {
  const start = new Int32Array(NCOLS);
  const end = new Int32Array(NCOLS);
  const cur = { p: 0 };
  const ncols = rvar(raw, cur, raw.length);
  if (ncols > NCOLS) throw new BadChunk(`${ncols} columns, at most ${NCOLS}`);
  let prevId = -1;
  const ids: number[] = [];
  const lens: number[] = [];
  for (let i = 0; i < ncols; i++) {
    const id = rvar(raw, cur, raw.length);
    const len = rvar(raw, cur, raw.length);
    if (id <= prevId || id >= NCOLS) throw new BadChunk(`column table: column ${id} out of order or unknown`);
    prevId = id;
    ids.push(id);
    lens.push(len);
  }
  let p = cur.p;
  for (let i = 0; i < ncols; i++) {
    const id = ids[i]!;
    start[id] = p;
    p += lens[i]!;
    end[id] = p;
  }
  if (p !== raw.length) throw new BadChunk(`columns cover ${p} bytes, the chunk has ${raw.length}`);
  if (end[COL_KINDS]! - start[COL_KINDS]! !== count) throw new BadChunk(`holds ${end[COL_KINDS]! - start[COL_KINDS]!} records, expected ${count}`);

  out.reset(count);
  // Definitions: all apply before the chunk's first event. The blobs are copied out of the
  // chunk (they outlive it) into one array for the chunk, each at a multiple of 8 bytes.
  let slab = EMPTY;
  let at = 0;
  for (let pass = 0; pass < 2; pass++) {
    const dc = { p: start[COL_DEFS]! };
    const dend = end[COL_DEFS]!;
    while (dc.p < dend) {
      const type = rvar(raw, dc, dend);
      const id = rvar(raw, dc, dend);
      const len = rvar(raw, dc, dend);
      if (type > 1) throw new BadChunk(`definition of unknown type ${type}`);
      const epochStart = type === 1 ? rvar(raw, dc, dend) : 0;
      if (dc.p + len > dend) throw new BadChunk('a definition runs past its column');
      const from = dc.p;
      dc.p += len;
      if (pass === 0) {
        if (type === 1) at += (len + 7) & ~7;
        continue;
      }
      if (type === 1) {
        slab.set(raw.subarray(from, from + len), at);
        out.defs.push({ at: 0, blob: true, id, text: '', data: slab.subarray(at, at + len), epochStart });
        at += (len + 7) & ~7;
      } else {
        out.defs.push({ at: 0, blob: false, id, text: utf8d.decode(raw.subarray(from, from + len)), data: EMPTY, epochStart: 0 });
      }
    }
    // Not zero-filled first: every byte is written in the second pass (padding aside).
    if (pass === 0 && at > 0) slab = new Uint8Array(Buffer.allocUnsafeSlow(at).buffer, 0, at);
    at = 0;
  }

  const pos = start; // cursors, advanced in place
  const bstart = start[COL_BYTES]!;
  const bend = end[COL_BYTES]!;
  out.bytes = raw.subarray(bstart, bend);
  out.bytesStable = stable;
  const kinds = out.kind;
  const time = out.time;
  const f = out.f;
  const aux = out.aux;
  const ko = start[COL_KINDS]!;
  // Kinds, and the events of each record group in order (`order` from gstart[g]): the number
  // columns are then decoded one at a time, a tight loop each, not a call per field and event.
  const gstart = groupStart;
  gstart.fill(0);
  const ok = kindTable(valid);
  for (let i = 0; i < count; i++) {
    const k = raw[ko + i]!;
    if (ok[k] === 0) throw new BadChunk(`record ${i}: kind ${k} is not valid here`);
    kinds[i] = k;
    aux[i] = 0;
    gstart[GROUP[k]! + 1]!++;
  }
  for (let g = 0; g < KINDS_END; g++) gstart[g + 1]! += gstart[g]!;
  if (order.length < count) order = new Int32Array(Math.max(count, order.length * 2));
  const ord = order;
  const fill = groupFill;
  fill.set(gstart.subarray(0, KINDS_END));
  for (let i = 0; i < count; i++) ord[fill[GROUP[kinds[i]!]!]!++] = i;
  timeColumn(raw, pos, end[COL_DT]!, count, time);
  // Every column belongs to one record group, and a group's events are in record order in `order`:
  // number, string and payload columns are decoded a column at a time. A string or payload given
  // inline is left as -(1 + its length) and text as its length, for the pass below.
  // inBytes[g]: group g has a field in the byte section (text, delta words, or an inline string or payload).
  const inBytes = groupBytes;
  let bytesPass = false;
  for (let g = 0; g < KINDS_END; g++) {
    const from = gstart[g]!;
    const to = gstart[g + 1]!;
    inBytes[g] = USES_BYTES[g]!;
    if (from === to) continue;
    for (let j = 0, q = g * 8; j < MAX_FIELDS && CODE[q]! !== 0; j++, q++) {
      const code = CODE[q]!;
      const c = COL[q]!;
      if (code === N) numberColumn(raw, pos, c, end[c]!, ord, from, to, f[j]!);
      else if (code === S || code === P) { if (refColumn(raw, pos, c, end[c]!, ord, from, to, f[j]!)) inBytes[g] = 1; }
      else if (code === T) for (let x = from; x < to; x++) f[j]![ord[x]!] = readU(raw, pos, c, end[c]!);
    }
    if (inBytes[g] !== 0) bytesPass = true;
  }
  // The byte section is in record order: inline strings and bytes, text and delta words take their
  // places in it (and inline strings and text their places in `strs`) record by record.
  let bp = bstart;
  for (let i = 0; bytesPass && i < count; i++) {
    const k = kinds[i]!;
    if (inBytes[GROUP[k]!] === 0) continue;
    for (let n = 0, q = k * 8, nb = BYTE_FIELDS[k]!; n < nb; n++) {
      const j = BYTE_FIELD[q + n]!;
      const col = f[j]!;
      let v = col[i]!;
      switch (CODE[q + j]) {
        case S:
        case P: {
          if (v >= 0) continue; // an id
          const len = -v - 1;
          if (bp + len > bend) throw new BadChunk(`record ${i}: inline bytes run past the byte section`);
          if (CODE[q + j] === S) { v = -(1 + out.strs.length); out.strs.push(utf8d.decode(raw.subarray(bp, bp + len))); }
          else { v = -(1 + (bp - bstart)); aux[i] = len; }
          bp += len;
          break;
        }
        case T: {
          const len = v;
          if (bp + len > bend) throw new BadChunk(`record ${i}: text runs past the byte section`);
          v = out.strs.length;
          out.strs.push(utf8d.decode(raw.subarray(bp, bp + len)));
          bp += len;
          break;
        }
        default: { // W: the words whose mask bit (the previous field, a number) is set
          const len = popcount(f[j - 1]![i]!) * 4;
          if (bp + len > bend) throw new BadChunk(`record ${i}: delta words run past the byte section`);
          v = -(1 + (bp - bstart));
          aux[i] = len;
          bp += len;
          break;
        }
      }
      col[i] = v;
    }
  }
  out.n = count;
  if (bp !== bend) throw new BadChunk(`${bend - bp} bytes of the byte section are not used by any record`);
  for (let c = COL_DT; c < NCOLS; c++) {
    if (c === COL_BYTES) continue;
    if (pos[c] !== end[c]) throw new BadChunk(`column ${c} holds ${end[c]! - pos[c]!} bytes no record uses`);
  }
}

const EMPTY = new Uint8Array(0);

/** Decoder scratch: events by record group, and each group's first place in `order` (and its next free one). */
let order = new Int32Array(1024);
const groupStart = new Int32Array(KINDS_END + 1);
const groupFill = new Int32Array(KINDS_END);
const groupBytes = new Uint8Array(KINDS_END);

/** The kinds `valid` allows that have a column schema, as a table by kind byte (the last one made is kept). */
let okFor: readonly boolean[] | undefined;
const okTable = new Uint8Array(256);
function kindTable(valid: readonly boolean[]): Uint8Array {
  if (okFor !== valid) {
    for (let k = 0; k < 256; k++) okTable[k] = k < KINDS_END && valid[k] === true && SCHEMA[k] !== undefined ? 1 : 0;
    okFor = valid;
  }
  return okTable;
}

/** The time column: deltas (zigzag against 0) summed into out[0, count). */
function timeColumn(b: Uint8Array, pos: Int32Array, e: number, count: number, out: Float64Array): void {
  let t = 0;
  let p = pos[COL_DT]!;
  for (let i = 0; i < count; i++) {
    // One- and two-byte deltas (most events follow the last within 8 ns) without a call.
    const x = b[p]!;
    if (x < 0x80 && p < e) {
      p++;
      t += (x >>> 1) ^ -(x & 1);
    } else if (p + 1 < e && b[p + 1]! < 0x80) {
      const u = (x & 0x7f) | (b[p + 1]! << 7);
      p += 2;
      t += (u >>> 1) ^ -(u & 1);
    } else {
      pos[COL_DT] = p;
      t += numberAt(b, pos, COL_DT, e, 0);
      p = pos[COL_DT]!;
    }
    out[i] = t;
  }
  pos[COL_DT] = p;
}

/** Number column c (ending at e) of the events order[from, to), in that order, into out[event]. */
function numberColumn(b: Uint8Array, pos: Int32Array, c: number, e: number, order: Int32Array, from: number, to: number, out: Float64Array): void {
  let p = pos[c]!;
  let prev = 0;
  for (let x = from; x < to; x++) {
    const y = b[p]!;
    if (y < 0x80 && p < e) {
      // A one-byte delta, the common case (a repeated device, size or register).
      p++;
      prev += (y >>> 1) ^ -(y & 1);
    } else {
      pos[c] = p;
      prev = numberAt(b, pos, c, e, prev);
      p = pos[c]!;
    }
    out[order[x]!] = prev;
  }
  pos[c] = p;
}

/**
 * String or payload column c (ending at e) of the events order[from, to), in that order, into
 * out[event]: an id (its delta against the previous id of the column, zigzag, times two) or, for an
 * odd value, -(1 + the length) of an inline string or payload. Returns whether one was inline.
 */
function refColumn(b: Uint8Array, pos: Int32Array, c: number, e: number, order: Int32Array, from: number, to: number, out: Float64Array): boolean {
  let prev = 0;
  let inline = false;
  for (let x = from; x < to; x++) {
    const p = pos[c]!;
    const y = b[p]!;
    let u: number;
    if (y < 0x80 && p < e) {
      pos[c] = p + 1;
      u = y;
    } else {
      u = readU(b, pos, c, e);
    }
    if (u % 2 === 0) {
      const h = u / 2;
      const v = prev + (h % 2 === 0 ? h / 2 : -(h + 1) / 2);
      if (v < 0 || !Number.isSafeInteger(v)) throw new BadChunk(`record ${order[x]!}: id ${v} out of range`);
      prev = v;
      out[order[x]!] = v;
    } else {
      out[order[x]!] = -(1 + (u - 1) / 2);
      inline = true;
    }
  }
  return inline;
}

/** The next number of column c: its previous value `prev` plus the zigzag delta (a one-byte delta, the common case, without further calls). */
function numberAt(b: Uint8Array, pos: Int32Array, c: number, e: number, prev: number): number {
  const p = pos[c]!;
  const x = b[p]!;
  if (x < 0x80 && p < e) {
    pos[c] = p + 1;
    return prev + ((x >>> 1) ^ -(x & 1));
  }
  // Two and three bytes (time deltas, addresses) without further calls.
  if (p + 2 < e) {
    const y = b[p + 1]!;
    if (y < 0x80) {
      const u = (x & 0x7f) | (y << 7);
      pos[c] = p + 2;
      return prev + ((u >>> 1) ^ -(u & 1));
    }
    const z = b[p + 2]!;
    if (z < 0x80) {
      const u = (x & 0x7f) | ((y & 0x7f) << 7) | (z << 14);
      pos[c] = p + 3;
      return prev + ((u >>> 1) ^ -(u & 1));
    }
  }
  return zz(readU(b, pos, c, e), b, pos, c, e, prev);
}

/** Reads an unsigned varint of column c. */
function readU(b: Uint8Array, pos: Int32Array, c: number, e: number): number {
  let p = pos[c]!;
  if (p >= e) throw new BadChunk(`column ${c} ends early`);
  let x = b[p++]!;
  if (x < 0x80) { pos[c] = p; return x; }
  let v = x & 0x7f;
  let shift = 7;
  // Bits 0..27 with shifts; from bit 28 on (addresses) with a multiplier, exact up to 2^56.
  let m = 2 ** 28;
  for (;;) {
    if (p >= e) throw new BadChunk(`column ${c} ends inside a number`);
    x = b[p++]!;
    if (shift < 28) v |= (x & 0x7f) << shift;
    else {
      v += (x & 0x7f) * m;
      m *= 128;
    }
    if (x < 0x80) break;
    shift += 7;
    if (shift > 56) throw new BadChunk(`column ${c}: a number longer than 8 bytes`);
  }
  pos[c] = p;
  return v;
}

/** The value of zigzag delta `u` against `prev`, or (u = ESC) the float64 that follows. */
function zz(u: number, b: Uint8Array, pos: Int32Array, c: number, e: number, prev: number): number {
  if (u < 0x80000000) return prev + ((u >>> 1) ^ -(u & 1));
  if (u !== ESC) return prev + (u % 2 === 0 ? u / 2 : -(u + 1) / 2);
  let p = pos[c]!;
  if (p + 8 > e) throw new BadChunk(`column ${c} ends inside a float`);
  if (LE) for (let i = 0; i < 8; i++) f64b[i] = b[p++]!;
  else for (let i = 7; i >= 0; i--) f64b[i] = b[p++]!;
  pos[c] = p;
  return f64[0]!;
}

const cursor = new Int32Array(1);
/** An unsigned varint at cur.p (the column table, definitions), advancing cur.p. */
function rvar(b: Uint8Array, cur: { p: number }, e: number): number {
  cursor[0] = cur.p;
  const v = readU(b, cursor, 0, e);
  cur.p = cursor[0]!;
  return v;
}
