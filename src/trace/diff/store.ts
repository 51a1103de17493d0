/**
 * The events of one trace that the diff still holds (buffered in a stream's
 * aligner or kept as context), in columns: a slot per event, reused once the
 * diff releases it, so a diff allocates nothing per register access, DMA
 * transfer or scheme request. The few kinds with free text (milestones, log
 * lines, processes, frames) keep their event object instead.
 *
 * An event becomes an object (`item`) only when a row is shown.
 */
import { grown } from '../../sim/grown.js';
import { WordView } from '../../sim/word-view.js';
import { Rec } from '../../sim/tracer.js';
import type { EventView, SeqEvent } from '../reader.js';
import { KEEP_DMA_BYTES, type Item } from './normalise.js';

/** What the normaliser found for the event being stored (Normaliser's fields of the same names). */
export interface Normalised {
  key: number;
  shape: number;
  len: number;
  addr: number;
  addrNs: string;
  /** The event object, for kinds not held in columns. */
  ev: SeqEvent | undefined;
  /** DMA: the kept bytes when they are an array that can be shared (a blob, or a long one's cut prefix), else undefined (referenced in the view's bytes when they are stable, else copied). */
  kept: Uint8Array | undefined;
}

/** Kinds held in columns: register accesses, interrupts, scheme requests and replies, and DMA. */
export function inColumns(kind: number): boolean {
  return kind <= Rec.SchemeReply || kind === Rec.DmaImage || kind === Rec.DmaDelta;
}

/** Fields kept per event: the first six field columns (the numeric fields of the kinds held in columns are among them). */
const FIELDS = 6;

/** A slot's numbers, side by side in `nums` (a slot is one or two cache lines, not a line in each of twelve arrays). */
const SEQ = 0, TIME = 1, KEY = 2, SHAPE = 3, LEN = 4, ADDR = 5, F0 = 6;
const NUMS = F0 + FIELDS;
/** Bits of `refs`; NS and MISSING: the slot's entry in `addrNs` or `missing` is its own (else it reads as '' or undefined, whatever the entry holds). */
const HELD = 1, EV = 2, SHARED = 4, NS = 8, MISSING = 16;

export class EventStore {
  private cap = 0;
  private rec = new Uint8Array(0);
  private nums = new Float64Array(0);
  /** Kept DMA bytes: `shared[s]` whole (keptAt -1), bytes [keptAt, keptAt + keptLen) of it, or (shared undefined) keptLen bytes of `bytes` at s * KEEP_DMA_BYTES. */
  private keptAt = new Int32Array(0);
  private keptLen = new Int32Array(0);
  private bytes = new Uint8Array(0);
  /** `bytes` as 32-bit words. */
  private words = new Uint32Array(0);
  /** Words of the source of kept bytes (the reader's delta bases). */
  private readonly src = new WordView();
  private readonly evs: (SeqEvent | undefined)[] = [];
  /** DMA: the tag; scheme events: the scheme. */
  private readonly tags: string[] = [];
  /** Scheme requests: the operation. */
  private readonly ops: string[] = [];
  private readonly images: (string | undefined)[] = [];
  private readonly missing: (string | undefined)[] = [];
  private readonly addrNs: string[] = [];
  private readonly shared: (Uint8Array | undefined)[] = [];
  /**
   * Per slot: HELD while in use, and which of `evs[s]` (EV) and `shared[s]` (SHARED) it set,
   * so that release clears only those (a byte per slot stays in cache; the arrays' entries may not).
   */
  private refs = new Uint8Array(0);
  /** Where the search for a free slot starts: slots are taken in ring order, so a put writes where the last ones did. */
  private next = 0;
  private held = 0;

  constructor() {
    this.grow(1024);
  }

  /** Grows to `n` slots (a power of two). */
  private grow(n: number): void {
    const old = this.cap;
    this.rec = grown(this.rec, n);
    this.refs = grown(this.refs, n);
    this.nums = grown(this.nums, n * NUMS);
    this.keptLen = grown(this.keptLen, n);
    this.keptAt = grown(this.keptAt, n);
    this.bytes = grown(this.bytes, n * KEEP_DMA_BYTES);
    this.words = new Uint32Array(this.bytes.buffer, 0, this.bytes.length >>> 2);
    // Builtins, not a loop of pushes here: a loop over thousands of slots would be compiled for a few calls.
    for (const a of [this.evs, this.images, this.missing, this.shared]) {
      a.length = n;
      a.fill(undefined, old, n);
    }
    for (const a of [this.tags, this.ops, this.addrNs]) {
      a.length = n;
      a.fill('', old, n);
    }
    this.cap = n;
  }

  /** Stores the event `v` with what the normaliser found; returns its slot. */
  put(v: EventView, n: Normalised): number {
    // At most half the slots held, so the search below stays short.
    if (this.held * 2 >= this.cap) this.grow(this.cap * 2);
    const refs = this.refs;
    const mask = this.cap - 1;
    let s = this.next;
    while (refs[s] !== 0) s = (s + 1) & mask;
    this.next = (s + 1) & mask;
    this.held++;
    refs[s] = HELD;
    const b = v.block;
    const i = v.i;
    const k = b.kind[i]!;
    const x = this.nums;
    const o = s * NUMS;
    this.rec[s] = k;
    x[o + SEQ] = v.seq;
    x[o + TIME] = b.time[i]!;
    x[o + KEY] = n.key;
    x[o + SHAPE] = n.shape;
    x[o + LEN] = n.len;
    x[o + ADDR] = n.addr;
    // The rarely set strings are written only when set: a write to a slot's entry may miss the cache.
    if (n.addrNs !== '') {
      this.addrNs[s] = n.addrNs;
      refs[s] = HELD | NS;
    }
    if (n.ev !== undefined) {
      this.evs[s] = n.ev;
      refs[s] = refs[s]! | EV;
      return s;
    }
    // All six (a block has MAX_FIELDS columns, each as long as its kinds): the ones past the kind's
    // own fields are never read, and six plain copies cost less than a loop over the kind's count.
    const bf = b.f;
    x[o + F0] = bf[0]![i]!;
    x[o + F0 + 1] = bf[1]![i]!;
    x[o + F0 + 2] = bf[2]![i]!;
    x[o + F0 + 3] = bf[3]![i]!;
    x[o + F0 + 4] = bf[4]![i]!;
    x[o + F0 + 5] = bf[5]![i]!;
    // Definitions lost from a damaged trace (DMA and scheme events: EventView.missing).
    if (v.missing !== undefined) {
      this.missing[s] = v.missing;
      refs[s] = refs[s]! | MISSING;
    }
    if (k === Rec.SchemeReq || k === Rec.SchemeReply) {
      this.tags[s] = v.scheme;
      if (k === Rec.SchemeReq) this.ops[s] = v.op;
    } else if (k >= Rec.DmaRead && (k <= Rec.DmaWrite || k >= Rec.DmaImage)) {
      this.tags[s] = v.tag;
      if (k === Rec.DmaImage) this.images[s] = v.image;
      const p = v.payload;
      if (n.kept !== undefined) {
        this.shared[s] = n.kept;
        refs[s] = refs[s]! | SHARED;
        this.keptAt[s] = -1;
      } else if (p.stable) {
        // A window into a chunk's bytes, which stay as they are: a reference, copied only if shown.
        this.shared[s] = p.data;
        refs[s] = refs[s]! | SHARED;
        this.keptAt[s] = p.at;
        this.keptLen[s] = Math.min(p.length, KEEP_DMA_BYTES);
      } else {
        // A plain loop: payloads kept here are short, and set() of a subarray would allocate one per event.
        // Whole words from a long-lived buffer (the reader's delta bases: queue entries, completions).
        // (shared[s] is undefined: a released slot's is.)
        const len = Math.min(p.length, KEEP_DMA_BYTES);
        const d = p.data;
        const to = s * KEEP_DMA_BYTES;
        const sw = this.src.of(d);
        const at = this.src.offset + p.at;
        if (sw !== undefined && ((at | len) & 3) === 0) {
          const dw = this.words;
          for (let j = 0, x = at >>> 2, y = to >>> 2, n = len >>> 2; j < n; j++) dw[y + j] = sw[x + j]!;
        } else {
          const by = this.bytes;
          for (let j = 0, from = p.at; j < len; j++) by[to + j] = d[from + j]!;
        }
        this.keptLen[s] = len;
      }
    }
    return s;
  }

  /** Gives slot `s` back (its event is no longer needed). */
  release(s: number): void {
    const r = this.refs[s]!;
    if ((r & EV) !== 0) this.evs[s] = undefined;
    if ((r & SHARED) !== 0) this.shared[s] = undefined;
    this.refs[s] = 0;
    this.held--;
  }

  seq(s: number): number {
    return this.nums[s * NUMS + SEQ]!;
  }

  time(s: number): number {
    return this.nums[s * NUMS + TIME]!;
  }

  /** Slot `s` as the normaliser's item (an object of its own: for the rows shown). */
  item(s: number): Item {
    const o = s * NUMS;
    const x = this.nums;
    return { key: x[o + KEY]!, shape: x[o + SHAPE]!, ev: this.evs[s] ?? this.event(s), len: x[o + LEN]!, addr: x[o + ADDR]!, addrNs: (this.refs[s]! & NS) !== 0 ? this.addrNs[s]! : '' };
  }

  /** The event of a slot held in columns, as the reader builds it (DMA data: the kept prefix). */
  private event(s: number): SeqEvent {
    const k = this.rec[s]!;
    const x = this.nums;
    const o = s * NUMS;
    const seq = x[o + SEQ]!;
    const time = x[o + TIME]!;
    const f0 = x[o + F0]!, f1 = x[o + F0 + 1]!, f2 = x[o + F0 + 2]!, f3 = x[o + F0 + 3]!, f4 = x[o + F0 + 4]!;
    let ev: SeqEvent;
    switch (k) {
      case Rec.MmioRead:
      case Rec.MmioWrite:
        return { seq, kind: 'mmio', write: k === Rec.MmioWrite, time, core: f0, dev: f1, bar: f2, offset: f3, size: f4, value: x[o + F0 + 5]! };
      case Rec.PioRead:
      case Rec.PioWrite:
        return { seq, kind: 'pio', write: k === Rec.PioWrite, time, core: f0, dev: f1, port: f2, size: f3, value: f4 };
      case Rec.CfgRead:
      case Rec.CfgWrite:
        return { seq, kind: 'cfg', write: k === Rec.CfgWrite, time, core: f0, dev: f1, offset: f2, size: f3, value: f4 };
      case Rec.Intx:
        return { seq, kind: 'intx', time, dev: f0, gsi: f1, level: f2 };
      case Rec.Msi:
        return { seq, kind: 'msi', time, dev: f0, addr: f1, data: f2, core: f3, vector: f4 };
      // In the reader's field order (buildEvent), so the event prints the same.
      case Rec.SchemeReq:
        ev = { seq, kind: 'schemeReq', time, pid: f0, scheme: this.tags[s]!, op: this.ops[s]!, reqId: f3, a: f4, b: x[o + F0 + 5]! };
        break;
      case Rec.SchemeReply:
        ev = { seq, kind: 'schemeReply', time, pid: f0, scheme: this.tags[s]!, reqId: f2, result: f3 };
        break;
      default: {
        const src = this.shared[s];
        const at = this.keptAt[s]!;
        const o = s * KEEP_DMA_BYTES;
        const data = src === undefined ? this.bytes.slice(o, o + this.keptLen[s]!) : at < 0 ? src : src.slice(at, at + this.keptLen[s]!);
        const write = k === Rec.DmaDelta ? (f3 & 1) !== 0 : k !== Rec.DmaRead;
        ev = k === Rec.DmaImage
          ? { seq, kind: 'dma', write, time, dev: f0, addr: f1, data, tag: this.tags[s]!, image: this.images[s]!, imageOffset: f4 }
          : { seq, kind: 'dma', write, time, dev: f0, addr: f1, data, tag: this.tags[s]! };
      }
    }
    if ((this.refs[s]! & MISSING) !== 0) ev.missing = this.missing[s]!;
    return ev;
  }
}
