import type { EventCursor } from '../../trace/reader.js';
import { WordView } from '../../sim/word-view.js';
import { RecordPool, type ReplayRecord } from './record.js';
import { SchemeQueue } from './scheme-queue.js';

/**
 * The recording's records for the trace-as-hardware engine, read through
 * the cursor's column view into pooled records (ReplayRecord): no object is
 * built per event, except the event objects a replay keeping context for a
 * divergence report needs (`withEvents`). Scheme records (read only by a
 * checked replay, whose cursor has no filter) go onto `schemes` in columns.
 */
export class RecordFeed {
  readonly schemes = new SchemeQueue();
  readonly pool = new RecordPool();
  /** Words of the reader's arrays payloads are copied from (ReplayRecord.read). */
  private readonly words = new WordView();

  constructor(private readonly it: EventCursor, private readonly withEvents = false) {}

  /** The next record (no holder yet: `pool.retain` it, or `pool.discard`), null for a scheme record (pushed onto `schemes`), undefined at the end. */
  next(): ReplayRecord | null | undefined {
    const it = this.it;
    if (!it.advance()) return undefined;
    const v = it.view;
    if (SchemeQueue.holds(v.block.kind[v.i]!)) {
      this.schemes.push(v);
      return null;
    }
    const r = this.pool.take();
    r.read(v, this.withEvents, this.words);
    return r;
  }
}
