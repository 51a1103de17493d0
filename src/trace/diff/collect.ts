/**
 * Receives the aligned rows of one stream: counts them and keeps the first
 * divergences with context, formatted as `simrun inspect` prints events.
 * Memory per stream is bounded by the number of divergences kept, the rows
 * kept per divergence and the context length.
 */
import type { RowOp, RowSink } from './align.js';
import { describeOne } from './detail.js';
import type { Item, StreamDesc } from './normalise.js';
import type { DiffRow, Divergence, DivergenceMark, RowSide, StreamSummary } from './types.js';

export interface CollectLimits {
  /** Same rows shown before and after a divergence (divergent rows fewer than 2x this apart are one divergence). */
  context: number;
  /** Divergences kept per stream (the report keeps the first of all streams). */
  maxDivergences: number;
  /** Divergent rows shown per divergence. */
  maxRows: number;
  /** Overview marks kept per stream. */
  maxMarks: number;
}

/** Formatting and context services the collector needs from the engine. */
export interface CollectEnv {
  formatA(it: Item): string;
  formatB(it: Item): string;
  detail(a: Item, b: Item, la: string, lb: string): string;
  /** Log lines of each trace just before these sequence numbers. */
  logsBefore(aSeq: number, bSeq: number): { a: string[]; b: string[] };
}

interface Building {
  d: Divergence;
  afterLeft: number;
}

export class StreamCollector implements RowSink {
  same = 0;
  changed = 0;
  inserted = 0;
  removed = 0;
  divergences = 0;
  /** Divergences kept, with their position in a (where an insertion goes after the last event of a before it). */
  readonly kept: { d: Divergence; pos: number }[] = [];
  readonly marks: DivergenceMark[] = [];
  // Ring of the last `context` same rows.
  private readonly ringA: (Item | undefined)[];
  private readonly ringB: (Item | undefined)[];
  private ringPos = 0;
  private ringLen = 0;
  /** The kept divergence still taking rows. */
  private open: Building | undefined;
  /** The last item of each side in a row so far (its sequence number and time are read only at a divergence). */
  private lastA: Item | undefined;
  private lastB: Item | undefined;
  /** Same rows since the last divergent row: fewer than 2 x `context` continue the same divergence. */
  private sinceDiff = Infinity;

  constructor(
    readonly desc: StreamDesc,
    private readonly limits: CollectLimits,
    private readonly env: CollectEnv,
    /** Pushed events per side, read when summarising. */
    private readonly totals: () => { a: number; b: number },
  ) {
    this.ringA = new Array<Item | undefined>(limits.context);
    this.ringB = new Array<Item | undefined>(limits.context);
  }

  private side(it: Item, a: boolean): RowSide {
    return { seq: it.ev.seq, time: it.ev.time, text: a ? this.env.formatA(it) : this.env.formatB(it) };
  }

  private makeRow(op: RowOp, a: Item | undefined, b: Item | undefined): DiffRow {
    const row: DiffRow = { op };
    if (a) row.a = this.side(a, true);
    if (b) row.b = this.side(b, false);
    if (op === 'changed' && a && b) row.detail = this.env.detail(a, b, row.a!.text, row.b!.text);
    return row;
  }

  row(op: RowOp, a: Item | undefined, b: Item | undefined): void {
    if (op === 'same') {
      this.same++;
      this.lastA = a;
      this.lastB = b;
      this.sinceDiff++;
      const c = this.limits.context;
      if (c === 0) return;
      this.ringA[this.ringPos] = a;
      this.ringB[this.ringPos] = b;
      this.ringPos = (this.ringPos + 1) % c;
      if (this.ringLen < c) this.ringLen++;
      const o = this.open;
      if (o) {
        o.d.rows.push(this.makeRow('same', a, b));
        if (--o.afterLeft <= 0) this.closeOpen();
      }
      return;
    }
    if (op === 'changed') this.changed++;
    else if (op === 'inserted') this.inserted++;
    else this.removed++;
    const prevA = this.lastA?.ev.seq ?? -1;
    const prevB = this.lastB?.ev.seq ?? -1;
    const prevATime = this.lastA?.ev.time ?? null;
    const prevBTime = this.lastB?.ev.time ?? null;
    if (a) this.lastA = a;
    if (b) this.lastB = b;
    if (!this.desc.structural) return;
    const fresh = this.sinceDiff >= Math.max(1, 2 * this.limits.context);
    this.sinceDiff = 0;
    if (fresh) {
      this.divergences++;
      this.closeOpen();
      if (this.marks.length < this.limits.maxMarks) {
        this.marks.push({ stream: this.desc.id, aTime: a?.ev.time ?? prevATime, bTime: b?.ev.time ?? prevBTime, op });
      }
      if (this.kept.length < this.limits.maxDivergences) this.start(op, a, b, prevA, prevB);
      return;
    }
    const o = this.open;
    if (!o) return;
    const d = o.d;
    if (op === 'changed') d.changed++;
    else if (op === 'inserted') d.inserted++;
    else d.removed++;
    if (d.aSeq === null && a) {
      d.aSeq = a.ev.seq;
      d.aTime = a.ev.time;
    }
    if (d.bSeq === null && b) {
      d.bSeq = b.ev.seq;
      d.bTime = b.ev.time;
    }
    if (d.changed + d.inserted + d.removed - d.omittedRows > this.limits.maxRows) d.omittedRows++;
    else d.rows.push(this.makeRow(op, a, b));
    o.afterLeft = 2 * this.limits.context;
  }

  /** Ends the open divergence, keeping at most `context` same rows after its last divergent row. */
  private closeOpen(): void {
    const o = this.open;
    if (!o) return;
    this.open = undefined;
    const c = this.limits.context;
    const trailing = 2 * c - o.afterLeft;
    if (trailing > c) o.d.rows.splice(o.d.rows.length - (trailing - c));
  }

  /** Opens a kept divergence at a divergent row; `prevA`/`prevB` are the last sequence numbers before it. */
  private start(op: RowOp, a: Item | undefined, b: Item | undefined, prevA: number, prevB: number): void {
    const c = this.limits.context;
    const rows: DiffRow[] = [];
    for (let k = 0; k < this.ringLen; k++) {
      const i = (this.ringPos - this.ringLen + k + c) % c;
      rows.push(this.makeRow('same', this.ringA[i], this.ringB[i]));
    }
    const first = this.makeRow(op, a, b);
    rows.push(first);
    const d: Divergence = {
      index: 0, stream: this.desc.id, source: this.desc.source, kind: this.desc.kind,
      aSeq: a?.ev.seq ?? null, bSeq: b?.ev.seq ?? null, aTime: a?.ev.time ?? null, bTime: b?.ev.time ?? null,
      changed: op === 'changed' ? 1 : 0, inserted: op === 'inserted' ? 1 : 0, removed: op === 'removed' ? 1 : 0,
      what: op === 'changed' ? first.detail! : describeOne(op === 'inserted' ? 'inserted' : 'removed', (first.a ?? first.b)!.text),
      rows, omittedRows: 0,
      logs: this.env.logsBefore(a ? a.ev.seq : prevA + 1, b ? b.ev.seq : prevB + 1),
    };
    this.kept.push({ d, pos: a ? a.ev.seq : prevA + 0.5 });
    this.open = c > 0 ? { d, afterLeft: 2 * c } : undefined;
  }

  /** Closes any divergence in progress (its after-context is whatever came). */
  finish(): void {
    this.closeOpen();
  }

  summary(): StreamSummary {
    const t = this.totals();
    return {
      stream: this.desc.id, source: this.desc.source, kind: this.desc.kind, structural: this.desc.structural,
      a: t.a, b: t.b, same: this.same, changed: this.changed, inserted: this.inserted, removed: this.removed,
      divergences: this.divergences,
    };
  }
}
