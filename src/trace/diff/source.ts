/**
 * Where the diff engine takes each trace's events from, one at a time.
 *
 * - `ReaderEvents`: the reader's `events(filter)` (any format, filters,
 *   damage and missing definitions reported as the reader reports them).
 * - `ColumnEvents`: the fast way for an intact format-7 trace read whole:
 *   events built straight from the reader's column blocks (`chunks()`), with
 *   no generator step per event and inline payloads copied into a shared
 *   arena instead of one buffer each. It handles what an intact trace holds
 *   (inline and blob payloads, word deltas against the stream's base) and
 *   gives up (`unsupported` says why) on anything else: damage, a missing
 *   definition, a disk-image reference. The engine then diffs again through
 *   `ReaderEvents`, so the result is always what the reader's events give.
 *
 * The events are the objects the reader builds (same kinds, fields and
 * values; see reader.ts buildEvent).
 */
import { Rec } from '../../sim/tracer.js';
import type { ColumnBlock } from '../columns.js';
import { DELTA_MAX, DELTA_MIN, deltaKey, popcount } from '../delta.js';
import { LOG_LEVELS, PROC_EVENTS } from '../format.js';
import type { SeqEvent, TraceChunk, TraceReader } from '../reader.js';

export interface EventSource {
  /** The next event, or undefined at the end (or once `unsupported` is set). */
  next(): SeqEvent | undefined;
  /** Set when this source cannot give the trace's events exactly: read it through the reader's events() instead. */
  readonly unsupported: string | undefined;
  close(): void;
}

/** The reader's event generator. */
export class ReaderEvents implements EventSource {
  readonly unsupported = undefined;
  constructor(private readonly g: Generator<SeqEvent, void, undefined>) {}

  next(): SeqEvent | undefined {
    const r = this.g.next();
    return r.done ? undefined : r.value;
  }

  close(): void {
    this.g.return(undefined);
  }
}

/** Bytes per arena buffer that inline payloads are copied into. */
const ARENA = 64 * 1024;

/** Events of an intact format-7 trace from its column blocks (see the file comment). */
export class ColumnEvents implements EventSource {
  unsupported: string | undefined;
  private readonly chunks: Generator<TraceChunk, void, undefined>;
  private chunk: TraceChunk | undefined;
  private block: ColumnBlock | undefined;
  private i = 0;
  private n = 0;
  /** Blobs by id, with the reader's epoch rule (reader.ts Defs.define). */
  private readonly blobs = new Map<number, Uint8Array>();
  private blobEpoch = 0;
  /**
   * Word-delta bases of the current chunk by stream key (delta.ts): the
   * stream's last payload itself (payloads handed out are never written to,
   * so no copy is needed, unlike the reader's DeltaBases).
   */
  private readonly bases = new Map<number, Uint8Array>();
  /** Interned strings resolved so far, by id (cleared for ids a chunk defines again). */
  private readonly strs: (string | undefined)[] = [];
  private arena = new Uint8Array(ARENA);
  private arenaPos = 0;

  constructor(private readonly reader: TraceReader) {
    this.chunks = reader.chunks();
  }

  close(): void {
    this.chunks.return(undefined);
  }

  private fail(why: string): undefined {
    if (this.unsupported === undefined) this.unsupported = why;
    return undefined;
  }

  /** Moves to the next chunk with events; false at the end. */
  private advance(): boolean {
    for (;;) {
      const r = this.chunks.next();
      // Damage (a lost chunk, a bad index) is reported with the reader's wording by its events().
      if (this.reader.damage.length > 0) return this.fail('damage') !== undefined;
      if (r.done) return false;
      const c = r.value;
      const b = c.block;
      for (const d of b.defs) {
        if (!d.blob) {
          this.strs[d.id] = undefined;
          continue;
        }
        if (d.epochStart > this.blobEpoch) {
          for (const k of this.blobs.keys()) if (k < d.epochStart) this.blobs.delete(k);
          this.blobEpoch = d.epochStart;
        }
        this.blobs.set(d.id, d.data);
      }
      this.bases.clear();
      if (b.n === 0) continue;
      this.chunk = c;
      this.block = b;
      this.i = 0;
      this.n = b.n;
      return true;
    }
  }

  /**
   * A copy of `len` bytes at `o` of `src`, in the arena, 8-byte aligned as a
   * buffer of its own would be (payload hashing takes a word-wise path on
   * aligned bytes, and the hash must not depend on where a copy lives).
   */
  private copy(src: Uint8Array, o: number, len: number): Uint8Array {
    if (len > ARENA >>> 2) return src.slice(o, o + len);
    if (this.arenaPos + len > ARENA) {
      this.arena = new Uint8Array(ARENA);
      this.arenaPos = 0;
    }
    const p = this.arenaPos;
    const a = this.arena;
    if (len > 32) a.set(src.subarray(o, o + len), p);
    else for (let k = 0; k < len; k++) a[p + k] = src[o + k]!;
    this.arenaPos = (p + len + 7) & ~7;
    return a.subarray(p, p + len);
  }

  /** A string field (interned id, or an inline string of the block). */
  private str(v: number): string | undefined {
    if (v < 0) return this.block!.strs[-(v + 1)] ?? '';
    const s = this.strs[v];
    if (s !== undefined) return s;
    const t = this.chunk!.str(v);
    if (this.reader.damage.length > 0) return this.fail('a missing string');
    if (v < 65536) this.strs[v] = t;
    return t;
  }

  /** A payload field of event i: a copy of its inline bytes, or its blob. */
  private payload(b: ColumnBlock, i: number, v: number): Uint8Array | undefined {
    if (v < 0) return this.copy(b.bytes, -(v + 1), b.aux[i]!);
    return this.blobs.get(v) ?? this.fail('a missing blob');
  }

  /** The payload of a DmaDelta event: its stream's base with the masked words replaced (reader.ts Defs.delta). */
  private delta(b: ColumnBlock, i: number): Uint8Array | undefined {
    const f = b.f;
    const dev = f[0]![i]!;
    const tag = f[2]![i]!;
    const write = (f[3]![i]! & 1) !== 0;
    const mask = f[4]![i]!;
    const len = b.aux[i]!;
    const key = deltaKey(dev, tag, write, DELTA_MIN);
    const base = key < 0 ? undefined : this.bases.get(key);
    const baseLen = base === undefined ? -1 : base.length;
    if (base === undefined || popcount(mask) * 4 !== len || (baseLen < DELTA_MAX && (mask >>> (baseLen >>> 2)) !== 0)) {
      return this.fail('a word delta without its base');
    }
    const out = this.copy(base, 0, baseLen);
    const words = b.bytes;
    let j = -(f[5]![i]! + 1);
    for (let w = 0; w < baseLen >>> 2; w++) {
      if ((mask & (1 << w)) === 0) continue;
      out[4 * w] = words[j]!; out[4 * w + 1] = words[j + 1]!; out[4 * w + 2] = words[j + 2]!; out[4 * w + 3] = words[j + 3]!;
      j += 4;
    }
    return out;
  }

  /** After a DMA event: its stream's base, by the recorder's rule (reader.ts Defs.noteDma). */
  private noteDma(dev: number, tag: number, write: boolean, data: Uint8Array): void {
    if (deltaKey(dev, tag, write, DELTA_MIN) < 0) return;
    const key = deltaKey(dev, tag, write, data.length);
    if (key >= 0) this.bases.set(key, data);
  }

  next(): SeqEvent | undefined {
    if (this.unsupported !== undefined) return undefined;
    if (this.i >= this.n && !this.advance()) return undefined;
    const b = this.block!;
    const i = this.i++;
    const seq = this.chunk!.firstSeq + i;
    const k = b.kind[i]!;
    const time = b.time[i]!;
    const f = b.f;
    const f0 = f[0]![i]!, f1 = f[1]![i]!, f2 = f[2]![i]!;
    switch (k) {
      case Rec.MmioRead:
      case Rec.MmioWrite:
        return { seq, kind: 'mmio', write: k === Rec.MmioWrite, time, core: f0, dev: f1, bar: f2, offset: f[3]![i]!, size: f[4]![i]!, value: f[5]![i]! };
      case Rec.PioRead:
      case Rec.PioWrite:
        return { seq, kind: 'pio', write: k === Rec.PioWrite, time, core: f0, dev: f1, port: f2, size: f[3]![i]!, value: f[4]![i]! };
      case Rec.CfgRead:
      case Rec.CfgWrite:
        return { seq, kind: 'cfg', write: k === Rec.CfgWrite, time, core: f0, dev: f1, offset: f2, size: f[3]![i]!, value: f[4]![i]! };
      case Rec.DmaRead:
      case Rec.DmaWrite:
      case Rec.DmaDelta: {
        const tag = this.str(f2);
        const data = k === Rec.DmaDelta ? this.delta(b, i) : this.payload(b, i, f[3]![i]!);
        if (tag === undefined || data === undefined) return undefined;
        const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k === Rec.DmaWrite;
        this.noteDma(f0, f2, write, data);
        return { seq, kind: 'dma', write, time, dev: f0, addr: f1, data, tag };
      }
      case Rec.Intx:
        return { seq, kind: 'intx', time, dev: f0, gsi: f1, level: f2 };
      case Rec.Msi:
        return { seq, kind: 'msi', time, dev: f0, addr: f1, data: f2, core: f[3]![i]!, vector: f[4]![i]! };
      case Rec.SchemeReq: {
        const scheme = this.str(f1);
        const op = this.str(f2);
        if (scheme === undefined || op === undefined) return undefined;
        return { seq, kind: 'schemeReq', time, pid: f0, scheme, op, reqId: f[3]![i]!, a: f[4]![i]!, b: f[5]![i]! };
      }
      case Rec.SchemeReply: {
        const scheme = this.str(f1);
        if (scheme === undefined) return undefined;
        return { seq, kind: 'schemeReply', time, pid: f0, scheme, reqId: f2, result: f[3]![i]! };
      }
      case Rec.Milestone: {
        const name = this.str(f1);
        if (name === undefined) return undefined;
        return { seq, kind: 'milestone', time, dev: f0, name, a: f2, b: f[3]![i]! };
      }
      case Rec.Log:
        return { seq, kind: 'log', time, pid: f0, level: LOG_LEVELS[f1] ?? 'info', text: b.strs[f2] ?? '' };
      case Rec.GuestErr: {
        const code = this.str(f1);
        if (code === undefined) return undefined;
        return { seq, kind: 'guestErr', time, dev: f0, code, message: b.strs[f2] ?? '' };
      }
      case Rec.Air: {
        const data = this.payload(b, i, f[5]![i]!);
        if (data === undefined) return undefined;
        return { seq, kind: 'air', time, dev: f0, tx: (f1 & 1) === 1, channel: f2, signal: f[3]![i]!, rate: f[4]![i]!, data };
      }
      case Rec.Eth: {
        const data = this.payload(b, i, f[3]![i]!);
        if (data === undefined) return undefined;
        return { seq, kind: 'eth', time, dev: f0, tx: (f1 & 1) === 1, port: f2, data };
      }
      case Rec.Frame: {
        const data = this.payload(b, i, f[6]![i]!);
        if (data === undefined) return undefined;
        return { seq, kind: 'frame', time, dev: f0, pipe: f1, counter: f2, width: f[3]![i]!, height: f[4]![i]!, format: f[5]![i]!, data };
      }
      case Rec.Proc: {
        const name = this.str(f2);
        if (name === undefined) return undefined;
        return { seq, kind: 'proc', time, pid: f0, event: PROC_EVENTS[f1] ?? 'spawn', name, detail: b.strs[f[3]![i]!] ?? '' };
      }
      default: // Rec.DmaImage: the image store is the reader's
        return this.fail(`record kind ${k}`);
    }
  }
}
