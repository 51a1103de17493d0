/**
 * Receives the aligned rows of one stream: counts them and keeps the first
 * divergences with context, formatted as `simrun inspect` prints events.
 * Memory per stream is bounded by the number of divergences kept, the rows
 * kept per divergence and the context length.
 */
import type { RowOp, RowSink } from './align.js';
import { describeOne } from './detail.js';
import type { Item, StreamDesc } from './normalise.js';
import type { DiffRow, Divergence, DivergenceMark, StreamSummary } from './types.js';

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

/** The events of one trace, by the numbers the rows carry (store.ts). */
export interface EventSource {
  seq(h: number): number;
  time(h: number): number;
  /** The event as an item (an object of its own). */
  item(h: number): Item;
  /** The collector no longer needs event `h`. */
  release(h: number): void;
}

/** Formatting and context services the collector needs from the engine. */
export interface CollectEnv {
  a: EventSource;
  b: EventSource;
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

/**
 * Rows carry events as numbers of the traces' stores (EventSource): each
 * event is released once the collector is done with it (at once, or when it
 * leaves the context ring).
 */
export class StreamCollector implements RowSink<number> {
  same = 0;
  changed = 0;
  inserted = 0;
  removed = 0;
  divergences = 0;
  /** Divergences kept, with their position in a (where an insertion goes after the last event of a before it). */
  readonly kept: { d: Divergence; pos: number }[] = [];
  readonly marks: DivergenceMark[] = [];
  // Ring of the last `context` same rows.
  private readonly ringA: Int32Array;
  private readonly ringB: Int32Array;
  private ringPos = 0;
  private ringLen = 0;
  /** The kept divergence still taking rows. */
  private open: Building | undefined;
  /**
   * Sequence number and time of the last event of each side in a row so far (-1 and NaN before
   * the first). Times stay numbers (a field that may hold null would box every time stored).
   */
  private lastASeq = -1;
  private lastATime = NaN;
  private lastBSeq = -1;
  private lastBTime = NaN;
  /**
   * The events of the last same row (-1: none since the fields above were set), held in the
   * context ring: their sequence numbers and times are read only when a divergent row needs
   * them (a same row then touches nothing of the event it releases or holds).
   */
  private heldA = -1;
  private heldB = -1;
  /** Same rows since the last divergent row: fewer than 2 x `context` continue the same divergence. */
  private sinceDiff = Infinity;

  constructor(
    readonly desc: StreamDesc,
    private readonly limits: CollectLimits,
    private readonly env: CollectEnv,
    /** Pushed events per side, read when summarising. */
    private readonly totals: () => { a: number; b: number },
  ) {
    this.ringA = new Int32Array(limits.context);
    this.ringB = new Int32Array(limits.context);
  }

  private makeRow(op: RowOp, a: number | undefined, b: number | undefined): DiffRow {
    const row: DiffRow = { op };
    const x = a !== undefined ? this.env.a.item(a) : undefined;
    const y = b !== undefined ? this.env.b.item(b) : undefined;
    if (x) row.a = { seq: x.ev.seq, time: x.ev.time, text: this.env.formatA(x) };
    if (y) row.b = { seq: y.ev.seq, time: y.ev.time, text: this.env.formatB(y) };
    if (op === 'changed' && x && y) row.detail = this.env.detail(x, y, row.a!.text, row.b!.text);
    return row;
  }

  row(op: RowOp, a: number | undefined, b: number | undefined): void {
    const env = this.env;
    if (op === 'same') {
      this.same++;
      this.sinceDiff++;
      const c = this.limits.context;
      if (c === 0) {
        this.heldA = a!;
        this.heldB = b!;
        this.settleLast();
        env.a.release(a!);
        env.b.release(b!);
        return;
      }
      const pos = this.ringPos;
      if (this.ringLen === c) {
        env.a.release(this.ringA[pos]!);
        env.b.release(this.ringB[pos]!);
      }
      this.ringA[pos] = a!;
      this.ringB[pos] = b!;
      this.heldA = a!;
      this.heldB = b!;
      this.ringPos = (pos + 1) % c;
      if (this.ringLen < c) this.ringLen++;
      if (this.open) this.afterDivergence(a!, b!);
      return;
    }
    this.divergentRow(op, a, b);
  }

  /** A same row while a kept divergence takes its after-context. */
  private afterDivergence(a: number, b: number): void {
    const o = this.open!;
    o.d.rows.push(this.makeRow('same', a, b));
    if (--o.afterLeft <= 0) this.closeOpen();
  }

  /**
   * A changed, inserted or removed row. Apart from `row`, which every row
   * goes through: its optimised code then holds only the same rows' path,
   * not the few divergent rows' (which would each find code without
   * feedback for them, and have it thrown away and compiled again).
   */
  private divergentRow(op: Exclude<RowOp, 'same'>, a: number | undefined, b: number | undefined): void {
    const env = this.env;
    if (op === 'changed') this.changed++;
    else if (op === 'inserted') this.inserted++;
    else this.removed++;
    this.settleLast();
    const prevA = this.lastASeq;
    const prevB = this.lastBSeq;
    const prevATime = Number.isNaN(this.lastATime) ? null : this.lastATime;
    const prevBTime = Number.isNaN(this.lastBTime) ? null : this.lastBTime;
    if (a !== undefined) {
      this.lastASeq = env.a.seq(a);
      this.lastATime = env.a.time(a);
    }
    if (b !== undefined) {
      this.lastBSeq = env.b.seq(b);
      this.lastBTime = env.b.time(b);
    }
    this.divergent(op, a, b, prevA, prevB, prevATime, prevBTime);
    if (a !== undefined) env.a.release(a);
    if (b !== undefined) env.b.release(b);
  }

  /** Reads the sequence numbers and times of the last same row's events (see `heldA`), still held. */
  private settleLast(): void {
    if (this.heldA < 0) return;
    const env = this.env;
    this.lastASeq = env.a.seq(this.heldA);
    this.lastATime = env.a.time(this.heldA);
    this.lastBSeq = env.b.seq(this.heldB);
    this.lastBTime = env.b.time(this.heldB);
    this.heldA = this.heldB = -1;
  }

  /** A divergent row of a structural stream: counted as a divergence, kept or added to the open one. */
  private divergent(op: Exclude<RowOp, 'same'>, a: number | undefined, b: number | undefined, prevA: number, prevB: number,
    prevATime: number | null, prevBTime: number | null): void {
    if (!this.desc.structural) return;
    const env = this.env;
    const fresh = this.sinceDiff >= Math.max(1, 2 * this.limits.context);
    this.sinceDiff = 0;
    if (fresh) {
      this.divergences++;
      this.closeOpen();
      if (this.marks.length < this.limits.maxMarks) {
        this.marks.push({ stream: this.desc.id, aTime: a !== undefined ? env.a.time(a) : prevATime, bTime: b !== undefined ? env.b.time(b) : prevBTime, op });
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
    if (d.aSeq === null && a !== undefined) {
      d.aSeq = env.a.seq(a);
      d.aTime = env.a.time(a);
    }
    if (d.bSeq === null && b !== undefined) {
      d.bSeq = env.b.seq(b);
      d.bTime = env.b.time(b);
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
  private start(op: RowOp, a: number | undefined, b: number | undefined, prevA: number, prevB: number): void {
    const env = this.env;
    const aSeq = a !== undefined ? env.a.seq(a) : null;
    const bSeq = b !== undefined ? env.b.seq(b) : null;
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
      aSeq, bSeq, aTime: a !== undefined ? env.a.time(a) : null, bTime: b !== undefined ? env.b.time(b) : null,
      changed: op === 'changed' ? 1 : 0, inserted: op === 'inserted' ? 1 : 0, removed: op === 'removed' ? 1 : 0,
      what: op === 'changed' ? first.detail! : describeOne(op === 'inserted' ? 'inserted' : 'removed', (first.a ?? first.b)!.text),
      rows, omittedRows: 0,
      logs: this.env.logsBefore(aSeq ?? prevA + 1, bSeq ?? prevB + 1),
    };
    this.kept.push({ d, pos: aSeq ?? prevA + 0.5 });
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
