import { Rec } from '../../sim/tracer.js';
import type { EventCursor, EventView, SeqEvent } from '../../trace/reader.js';
import { SchemeQueue } from './scheme-queue.js';

/**
 * The recording's next record for a checked replay (StreamCheck): an object
 * for the records the trace-as-hardware engine keeps (device records, logs,
 * processes), null for a scheme record, which goes onto `schemes` in columns
 * instead; undefined at the end. The cursor's column view is read first, so
 * a scheme record never becomes an object.
 */
export function readChecked(it: EventCursor, schemes: SchemeQueue): SeqEvent | null | undefined {
  if (!it.advance()) return undefined;
  const v = it.view;
  const k = v.block.kind[v.i]!;
  if (SchemeQueue.holds(k)) {
    schemes.push(v);
    return null;
  }
  return isDma(k) ? dmaEvent(v, k) : v.event();
}

function isDma(k: number): boolean {
  return k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaImage || k === Rec.DmaDelta;
}

/**
 * A DMA record as `next()` builds it, from the view `advance()` made (which
 * has already looked up its payload and noted its delta base: building it
 * with `view.event()` would do that twice). A payload in the chunk's bytes or
 * the delta bases is copied (the record outlives the view); a blob's or disk
 * image's bytes are the record's own.
 */
function dmaEvent(v: EventView, k: number): SeqEvent {
  const b = v.block;
  const i = v.i;
  const f = b.f;
  const p = v.payload;
  const data = p.own ? p.data : p.data.slice(p.at, p.at + p.length);
  const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
  const e: SeqEvent = { seq: v.seq, kind: 'dma', write, time: b.time[i]!, dev: f[0]![i]!, addr: f[1]![i]!, data, tag: v.tag };
  if (k === Rec.DmaImage) {
    e.image = v.image;
    e.imageOffset = f[4]![i]!;
  }
  if (v.missing !== undefined) e.missing = v.missing;
  return e;
}
