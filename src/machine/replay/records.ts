import { Rec } from '../../sim/tracer.js';
import { DELTA_MAX } from '../../trace/delta.js';
import type { EventView, SeqEvent } from '../../trace/reader.js';

const EMPTY = new Uint8Array(0);
/** Column fields kept per record: those of every kind kept in columns (columns.ts's schema, in its order). */
const FIELDS = 6;
/** Numbers per record in `num`: sequence number, time, then the column fields. */
const STRIDE = 8;
const TIME = 1;
const F = 2;
/** Bytes a slot has of its own, for payloads that do not stay as they are in the reader (word deltas). */
const COPY_MAX = DELTA_MAX;

/**
 * Recorded events in columns, by slot: what the trace-as-hardware engine
 * holds of the recording (device queues, scheduled injections, the records
 * read ahead for StreamCheck) without an object per record. A record keeps
 * the kind (Rec) and the column fields of the reader's view (`field(slot, j)`
 * is the view's `block.f[j][i]`, in columns.ts's schema; the numbers of a
 * record are next to each other in `num`), the strings it names, and where
 * its payload is (`data[slot]` from `at[slot]` for
 * `len[slot]` bytes): a reference when the reader's bytes stay as they are
 * (PayloadView.stable), else a copy into the slot's own bytes. The rare
 * kinds (milestones, guest errors, logs, processes, frames) keep the
 * reader's object (`obj[slot]`). `event(slot)` builds the object the reader
 * would have, for reports.
 *
 * Strings: `s0` is a DMA record's tag or a scheme record's scheme name; `s1`
 * a disk-image reference's image or a scheme request's op ('' otherwise).
 * The strings, payload and object of a slot are set only for the kinds that
 * have them (read them only for those).
 *
 * An instance is used as a FIFO (`push`, `shift`, `slot(i)`: a ring that
 * grows as needed) or as a pool of slots (`take`, `release`), never both;
 * one class for both, so that every place reading records sees one shape.
 */
export class RecordColumns {
  kind: Uint8Array;
  /** Per slot: sequence number, time, the column fields (STRIDE numbers). */
  num: Float64Array;
  s0: string[];
  s1: string[];
  /** DMA records: the definitions lost to damage (SeqEvent.missing). */
  missing: (string | undefined)[];
  data: Uint8Array[];
  at: Int32Array;
  len: Int32Array;
  obj: (SeqEvent | undefined)[];
  /** The slots' own bytes (COPY_MAX per slot). */
  private own: Uint8Array;
  /** As a FIFO: the oldest record's slot, and how many there are. */
  private head = 0;
  private size = 0;
  /** As a pool: released slots, and how many slots were ever taken. */
  private readonly free: number[] = [];
  private used = 0;

  constructor(capacity = 64) {
    const cap = Math.max(1, capacity);
    this.kind = new Uint8Array(cap);
    this.num = new Float64Array(cap * STRIDE);
    this.s0 = new Array<string>(cap).fill('');
    this.s1 = new Array<string>(cap).fill('');
    this.missing = new Array<string | undefined>(cap).fill(undefined);
    this.data = new Array<Uint8Array>(cap).fill(EMPTY);
    this.at = new Int32Array(cap);
    this.len = new Int32Array(cap);
    this.obj = new Array<SeqEvent | undefined>(cap).fill(undefined);
    this.own = new Uint8Array(cap * COPY_MAX);
  }

  get capacity(): number {
    return this.kind.length;
  }

  seqOf(slot: number): number {
    return this.num[slot * STRIDE]!;
  }

  timeOf(slot: number): number {
    return this.num[slot * STRIDE + TIME]!;
  }

  /** Column field j of the record (the reader's `block.f[j][i]`). */
  field(slot: number, j: number): number {
    return this.num[slot * STRIDE + F + j]!;
  }

  /** Sets `slot` to the event the cursor's view is at. */
  set(slot: number, v: EventView): void {
    const b = v.block;
    const i = v.i;
    const k = b.kind[i]!;
    const f = b.f;
    const n = this.num;
    const o = slot * STRIDE;
    this.kind[slot] = k;
    n[o] = v.seq;
    n[o + TIME] = b.time[i]!;
    for (let j = 0; j < FIELDS; j++) n[o + F + j] = f[j]![i]!;
    switch (k) {
      case Rec.MmioRead: case Rec.MmioWrite: case Rec.PioRead: case Rec.PioWrite: case Rec.CfgRead: case Rec.CfgWrite:
      case Rec.Intx: case Rec.Msi:
        break;
      case Rec.DmaRead: case Rec.DmaWrite: case Rec.DmaImage: case Rec.DmaDelta: {
        this.s0[slot] = v.tag;
        this.s1[slot] = v.image ?? '';
        this.missing[slot] = v.missing;
        const p = v.payload;
        if (p.stable) this.refer(slot, p.data, p.at, p.length);
        else this.keep(slot, p.data, p.at, p.length);
        break;
      }
      case Rec.SchemeReq:
        this.s0[slot] = v.str(f[1]![i]!);
        this.s1[slot] = v.str(f[2]![i]!);
        break;
      case Rec.SchemeReply:
        this.s0[slot] = v.str(f[1]![i]!);
        break;
      default:
        this.obj[slot] = v.event();
    }
  }

  /** Sets `slot` to record `from` of `src` (which may be this). */
  copy(slot: number, src: RecordColumns, from: number): void {
    if (src === this && slot === from) return;
    const k = src.kind[from]!;
    this.kind[slot] = k;
    const n = this.num;
    const m = src.num;
    const o = slot * STRIDE;
    const p = from * STRIDE;
    for (let j = 0; j < STRIDE; j++) n[o + j] = m[p + j]!;
    if (k >= Rec.MmioRead && k <= Rec.Msi && k !== Rec.DmaRead && k !== Rec.DmaWrite) return; // numbers only
    this.s0[slot] = src.s0[from]!;
    this.s1[slot] = src.s1[from]!;
    this.missing[slot] = src.missing[from];
    this.obj[slot] = src.obj[from];
    const d = src.data[from]!;
    if (d === src.own) this.keep(slot, d, src.at[from]!, src.len[from]!);
    else this.refer(slot, d, src.at[from]!, src.len[from]!);
  }

  private refer(slot: number, data: Uint8Array, at: number, len: number): void {
    this.data[slot] = data;
    this.at[slot] = at;
    this.len[slot] = len;
  }

  /** A copy of bytes that will not stay as they are: into the slot's own bytes (a longer payload, only in older formats, gets an array). */
  private keep(slot: number, data: Uint8Array, at: number, len: number): void {
    if (len > COPY_MAX) {
      this.refer(slot, data.slice(at, at + len), 0, len);
      return;
    }
    const o = slot * COPY_MAX;
    const own = this.own;
    for (let x = 0; x < len; x++) own[o + x] = data[at + x]!;
    this.refer(slot, own, o, len);
  }

  /** The record's device (-1 for scheme, log and process records). */
  dev(slot: number): number {
    const k = this.kind[slot]!;
    if (k >= Rec.MmioRead && k <= Rec.CfgWrite) return this.field(slot, 1);
    if (k === Rec.SchemeReq || k === Rec.SchemeReply || k === Rec.Log || k === Rec.Proc) return -1;
    return this.field(slot, 0);
  }

  /** The reader's object of a rare kind (milestones, guest errors, logs, processes, frames); undefined for the kinds in columns. */
  object(slot: number): SeqEvent | undefined {
    const k = this.kind[slot]!;
    return k === Rec.Milestone || k === Rec.GuestErr || k === Rec.Log || k === Rec.Proc || k === Rec.Air || k === Rec.Eth || k === Rec.Frame
      ? this.obj[slot] : undefined;
  }

  /** A driver-side access (MMIO, port I/O, config). */
  driverSide(slot: number): boolean {
    const k = this.kind[slot]!;
    return k >= Rec.MmioRead && k <= Rec.CfgWrite;
  }

  /** Whether an access or a DMA record is a write. */
  write(slot: number): boolean {
    const k = this.kind[slot]!;
    if (k === Rec.DmaDelta) return (this.field(slot, 3) & 1) !== 0;
    return k === Rec.MmioWrite || k === Rec.PioWrite || k === Rec.CfgWrite || k === Rec.DmaWrite || k === Rec.DmaImage;
  }

  /** The record as the reader's cursor builds it (an object of its own, for reports and context). */
  event(slot: number): SeqEvent {
    const k = this.kind[slot]!;
    const n = this.num;
    const o = slot * STRIDE + F;
    const seq = this.seqOf(slot);
    const time = this.timeOf(slot);
    const f0 = n[o]!, f1 = n[o + 1]!, f2 = n[o + 2]!, f3 = n[o + 3]!, f4 = n[o + 4]!, f5 = n[o + 5]!;
    switch (k) {
      case Rec.MmioRead: case Rec.MmioWrite:
        return { seq, kind: 'mmio', write: k === Rec.MmioWrite, time, core: f0, dev: f1, bar: f2, offset: f3, size: f4, value: f5 };
      case Rec.PioRead: case Rec.PioWrite:
        return { seq, kind: 'pio', write: k === Rec.PioWrite, time, core: f0, dev: f1, port: f2, size: f3, value: f4 };
      case Rec.CfgRead: case Rec.CfgWrite:
        return { seq, kind: 'cfg', write: k === Rec.CfgWrite, time, core: f0, dev: f1, offset: f2, size: f3, value: f4 };
      case Rec.DmaRead: case Rec.DmaWrite: case Rec.DmaImage: case Rec.DmaDelta: {
        const d = this.data[slot]!;
        const at = this.at[slot]!;
        const len = this.len[slot]!;
        const data = at === 0 && len === d.length ? d : d === this.own ? d.slice(at, at + len) : d.subarray(at, at + len);
        const e: SeqEvent = { seq, kind: 'dma', write: this.write(slot), time, dev: f0, addr: f1, data, tag: this.s0[slot]! };
        if (k === Rec.DmaImage) {
          e.image = this.s1[slot]!;
          e.imageOffset = f4;
        }
        const missing = this.missing[slot];
        if (missing !== undefined) e.missing = missing;
        return e;
      }
      case Rec.Intx:
        return { seq, kind: 'intx', time, dev: f0, gsi: f1, level: f2 };
      case Rec.Msi:
        return { seq, kind: 'msi', time, dev: f0, addr: f1, data: f2, core: f3, vector: f4 };
      case Rec.SchemeReq:
        return { seq, kind: 'schemeReq', time, pid: f0, scheme: this.s0[slot]!, op: this.s1[slot]!, reqId: f3, a: f4, b: f5 };
      case Rec.SchemeReply:
        return { seq, kind: 'schemeReply', time, pid: f0, scheme: this.s0[slot]!, reqId: f2, result: f3 };
      default:
        return this.object(slot)!;
    }
  }

  /** Grows to `capacity` slots, record k of the new columns being slot `from(k)` of the old, for k < count. */
  private growTo(capacity: number, count: number, from: (k: number) => number): void {
    const n = new RecordColumns(capacity);
    for (let k = 0; k < count; k++) n.copy(k, this, from(k));
    this.kind = n.kind; this.num = n.num;
    this.s0 = n.s0; this.s1 = n.s1; this.missing = n.missing;
    this.data = n.data; this.at = n.at; this.len = n.len; this.obj = n.obj; this.own = n.own;
  }
  // ---- as a FIFO (device queues, the records read ahead for the check) ----

  get length(): number {
    return this.size;
  }

  /** The slot of the i-th oldest record (i < length); valid until the next push. */
  slot(i: number): number {
    return (this.head + i) & (this.capacity - 1);
  }

  /** Appends the event the cursor's view is at. */
  push(v: EventView): void {
    this.set(this.room(), v);
    this.size++;
  }

  /** Appends record `from` of `src`. */
  pushFrom(src: RecordColumns, from: number): void {
    this.copy(this.room(), src, from);
    this.size++;
  }

  /** Drops the oldest record (its slot stays as it is until the next push). */
  shift(): void {
    if (this.size === 0) return;
    this.head = (this.head + 1) & (this.capacity - 1);
    this.size--;
  }

  /** Takes out the i-th oldest record; those after it move up. */
  removeAt(i: number): void {
    for (let j = i; j + 1 < this.size; j++) this.copy(this.slot(j), this, this.slot(j + 1));
    this.size--;
  }

  /** The slot the next record goes to (doubling the ring when it is full). */
  private room(): number {
    const cap = this.capacity;
    if (this.size === cap) {
      const head = this.head;
      this.growTo(cap * 2, this.size, (k) => (head + k) & (cap - 1));
      this.head = 0;
    }
    return this.slot(this.size);
  }

  // ---- as a pool of slots taken and released in any order (scheduled injections) ----

  /** A free slot (set it with `copy`). */
  take(): number {
    const s = this.free.pop();
    if (s !== undefined) return s;
    if (this.used === this.capacity) this.growTo(this.capacity * 2, this.used, (k) => k);
    return this.used++;
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}
