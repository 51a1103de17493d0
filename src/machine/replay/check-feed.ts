import { Rec } from '../../sim/tracer.js';
import type { EventCursor, EventView, PayloadView, SeqEvent } from '../../trace/reader.js';
import { SchemeQueue } from './scheme-queue.js';

/**
 * The recording's records for a checked replay (StreamCheck), read through
 * the cursor's column view: an object for the records the trace-as-hardware
 * engine keeps (device records, logs, processes), none for a scheme record,
 * which goes onto `schemes` in columns instead. A DMA payload is kept by
 * reference where its bytes stay as they are (PayloadView.stable), and
 * copied otherwise (a word delta's bytes: the next delta of its stream
 * overwrites them).
 */
export class CheckFeed {
  readonly schemes = new SchemeQueue();

  constructor(private readonly it: EventCursor) {}

  /** The next record: its object, null for a scheme record (pushed onto `schemes`), undefined at the end. */
  next(): SeqEvent | null | undefined {
    const it = this.it;
    if (!it.advance()) return undefined;
    const v = it.view;
    const k = v.block.kind[v.i]!;
    if (SchemeQueue.holds(k)) {
      this.schemes.push(v);
      return null;
    }
    return isDma(k) ? this.dmaEvent(v, k) : v.event();
  }

  /**
   * A DMA record as `next()` builds it, from the view `advance()` made
   * (which has already looked up its payload and noted its delta base:
   * building it with `view.event()` would do that twice).
   */
  private dmaEvent(v: EventView, k: number): SeqEvent {
    const b = v.block;
    const i = v.i;
    const f = b.f;
    const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
    const e: SeqEvent = { seq: v.seq, kind: 'dma', write, time: b.time[i]!, dev: f[0]![i]!, addr: f[1]![i]!, data: this.payload(v.payload), tag: v.tag };
    if (k === Rec.DmaImage) {
      e.image = v.image;
      e.imageOffset = f[4]![i]!;
    }
    if (v.missing !== undefined) e.missing = v.missing;
    return e;
  }

  /** The payload's bytes for a record that outlives the view. */
  private payload(p: PayloadView): Uint8Array {
    if (p.own) return p.data;
    return p.stable ? p.data.subarray(p.at, p.at + p.length) : p.data.slice(p.at, p.at + p.length);
  }
}

function isDma(k: number): boolean {
  return k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaImage || k === Rec.DmaDelta;
}
