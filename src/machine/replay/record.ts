import { Rec } from '../../sim/tracer.js';
import { WordView } from '../../sim/word-view.js';
import type { EventKind, EventView, PayloadView, SeqEvent } from '../../trace/reader.js';

const EMPTY = new Uint8Array(0);
/** Payloads the reader may overwrite up to this size are copied into the record's own buffer (kept with it); larger ones get an array each. */
const OWN_MAX = 4096;

/**
 * A recorded event as the trace-as-hardware engine holds it: one shape for
 * every kind, read from the cursor's columns and reused (RecordFeed's pool),
 * so a replay builds no object per event. The fields of the kinds the
 * engine matches and injects in bulk (MMIO, port I/O, config, DMA, MSI,
 * INTx) are its own; the other kinds (milestones, guest errors, frames,
 * logs, processes) are in `ev`. A DMA payload is bytes [at, at + length)
 * of `data`: the reader's own array where its bytes stay as they are
 * (PayloadView.stable), else a copy.
 */
export class ReplayRecord {
  seq = 0;
  kind: EventKind = 'mmio';
  time = 0;
  /** The device (-1 for logs and processes). */
  dev = -1;
  write = false;
  core = 0;
  bar = 0;
  offset = 0;
  size = 0;
  /** MMIO, port I/O and config: the value; MSI: the message data. */
  value = 0;
  port = 0;
  /** DMA and MSI: the address. */
  addr = 0;
  data: Uint8Array = EMPTY;
  at = 0;
  length = 0;
  tag = '';
  image: string | undefined = undefined;
  imageOffset = 0;
  missing: string | undefined = undefined;
  vector = 0;
  gsi = 0;
  level = 0;
  /**
   * The record as the reader's event object: always for the other kinds;
   * for the engine's own kinds only when the replay keeps context for a
   * divergence report (an object the record's reuse does not touch).
   */
  ev: SeqEvent | undefined = undefined;
  /** Holders (device queue, injection slot, last access, in-order check): back to the pool at 0. */
  refs = 0;
  /** Copies of payloads the reader overwrites (a word delta's bytes), reused with the record. */
  private own: Uint8Array = EMPTY;
  private ownWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

  /** The payload as words when it is the record's own copy (`data` is then those words' bytes from 0), else undefined. */
  get words(): Uint32Array | undefined {
    return this.data === this.own && this.at === 0 ? this.ownWords : undefined;
  }

  /**
   * Fills the record from the event the cursor's view is at (`advance()`
   * has looked up a DMA payload already); `withEvent`: builds `ev` for
   * every kind. `words`: the feed's view of the arrays payloads are copied
   * from (the reader's delta bases).
   */
  read(v: EventView, withEvent: boolean, words: WordView): void {
    const b = v.block;
    const i = v.i;
    const f = b.f;
    const k = b.kind[i]!;
    this.seq = v.seq;
    this.time = b.time[i]!;
    this.ev = undefined;
    switch (k) {
      case Rec.MmioRead: case Rec.MmioWrite:
        this.kind = 'mmio'; this.write = k === Rec.MmioWrite; this.core = f[0]![i]!; this.dev = f[1]![i]!;
        this.bar = f[2]![i]!; this.offset = f[3]![i]!; this.size = f[4]![i]!; this.value = f[5]![i]!;
        break;
      case Rec.PioRead: case Rec.PioWrite:
        this.kind = 'pio'; this.write = k === Rec.PioWrite; this.core = f[0]![i]!; this.dev = f[1]![i]!;
        this.port = f[2]![i]!; this.size = f[3]![i]!; this.value = f[4]![i]!;
        break;
      case Rec.CfgRead: case Rec.CfgWrite:
        this.kind = 'cfg'; this.write = k === Rec.CfgWrite; this.core = f[0]![i]!; this.dev = f[1]![i]!;
        this.offset = f[2]![i]!; this.size = f[3]![i]!; this.value = f[4]![i]!;
        break;
      case Rec.DmaRead: case Rec.DmaWrite: case Rec.DmaImage: case Rec.DmaDelta:
        this.kind = 'dma'; this.write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
        this.dev = f[0]![i]!; this.addr = f[1]![i]!; this.tag = v.tag; this.missing = v.missing;
        this.image = k === Rec.DmaImage ? v.image : undefined;
        this.imageOffset = k === Rec.DmaImage ? f[4]![i]! : 0;
        this.payload(v.payload, words);
        break;
      case Rec.Intx:
        this.kind = 'intx'; this.dev = f[0]![i]!; this.gsi = f[1]![i]!; this.level = f[2]![i]!;
        break;
      case Rec.Msi:
        this.kind = 'msi'; this.dev = f[0]![i]!; this.addr = f[1]![i]!; this.value = f[2]![i]!; this.core = f[3]![i]!; this.vector = f[4]![i]!;
        break;
      default: {
        const e = v.event();
        this.ev = e;
        this.kind = e.kind;
        this.dev = 'dev' in e ? e.dev : -1;
        return;
      }
    }
    if (withEvent) this.ev = v.event();
  }

  /** The payload's bytes, kept valid while the record is held. */
  private payload(p: PayloadView, sourceWords: WordView): void {
    if (p.own || p.stable) {
      this.data = p.data;
      this.at = p.at;
      this.length = p.length;
      return;
    }
    const n = p.length;
    if (n > OWN_MAX) {
      this.data = p.data.slice(p.at, p.at + n);
    } else {
      if (this.own.length < n) {
        this.own = new Uint8Array(Math.max(64, n));
        this.ownWords = new Uint32Array(this.own.buffer, 0, this.own.length >>> 2);
      }
      const own = this.own;
      const src = p.data;
      // Word-aligned (a delta-decoded queue entry or completion in the reader's delta bases): a word at a time.
      const sw = sourceWords.of(src);
      const at = sourceWords.offset + p.at;
      if (sw !== undefined && ((at | n) & 3) === 0) {
        const ow = this.ownWords;
        for (let x = 0, y = at >>> 2, w = n >>> 2; x < w; x++, y++) ow[x] = sw[y]!;
      } else {
        for (let x = 0, y = p.at; x < n; x++, y++) own[x] = src[y]!;
      }
      this.data = own;
    }
    this.at = 0;
    this.length = n;
  }
}

/** The records of a replay: taken, held by counted references, and reused when the last holder lets go. */
export class RecordPool {
  private readonly free: ReplayRecord[] = [];

  take(): ReplayRecord {
    return this.free.pop() ?? new ReplayRecord();
  }

  retain(r: ReplayRecord): void {
    r.refs++;
  }

  /** One holder lets go; the record is reused once none is left. */
  drop(r: ReplayRecord): void {
    if (--r.refs === 0) {
      r.ev = undefined;
      this.free.push(r);
    }
  }

  /** A record read and not kept by anyone. */
  discard(r: ReplayRecord): void {
    if (r.refs === 0) {
      r.ev = undefined;
      this.free.push(r);
    }
  }
}
