/**
 * Windowed alignment of one stream (one device and kind) of two traces, with
 * bounded memory (docs/DIFF.md "Alignment").
 *
 * Events of each side are buffered; once both sides hold a window's worth,
 * jsdiff's Myers diff (`diffArrays`) aligns the two windows of normalised
 * keys, and everything up to the end of the last solid common run is
 * committed — the unmatched tail stays buffered and is aligned again with
 * the next window, so an insertion straddling a window edge still lines up.
 * When a window has nothing solid in common, an anchor search looks for the
 * nearest run of `anchor` equal keys anywhere in the two buffers and commits
 * what lies before it as a replaced block; without an anchor the stream waits
 * for more events, up to `maxBuffer` per side, then gives up on that head.
 * Removed and inserted events of a block are paired into "changed" rows when
 * their shapes match (a second, cheap diff over shape keys; a pair that turns
 * out to have equal keys is "same").
 *
 * Cost per event is bounded: the window diff is capped by `maxEdit` edits,
 * then retried on a small window, and nothing else scans more than the
 * buffers.
 */
import { diffArrays, type ArrayChange } from 'diff';
import { Hasher } from './hash.js';
import type { Item } from './normalise.js';

export type RowOp = 'same' | 'changed' | 'inserted' | 'removed';

/** Receives the aligned rows of a stream, in order. */
export interface RowSink {
  row(op: RowOp, a: Item | undefined, b: Item | undefined): void;
}

export interface AlignParams {
  /** Keys per side aligned at once. */
  window: number;
  /** Keys buffered per side before an unalignable head is given up on. */
  maxBuffer: number;
  /** Window for the retry when the big one has too many edits. */
  smallWindow: number;
  /** Equal keys in a row that count as a resynchronisation point. */
  anchor: number;
  /** Committed keys remembered per side to recover from a forced step that paired the wrong events. */
  history: number;
  /** Edit budget of the big window (beyond the size difference). */
  maxEdit: number;
  /** Edit budget of the small window. */
  smallMaxEdit: number;
  /** Largest removed+inserted block paired by a shape diff (bigger ones pair by position). */
  maxPairBlock: number;
}

export const DEFAULT_ALIGN: AlignParams = {
  window: 1024, maxBuffer: 8192, smallWindow: 128, anchor: 4, history: 65536, maxEdit: 64, smallMaxEdit: 64, maxPairBlock: 512,
};

/** A FIFO of items with O(1) amortised removal from the head. */
export class Side {
  private items: Item[] = [];
  private head = 0;
  /** Items ever pushed. */
  total = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(it: Item): void {
    this.items.push(it);
    this.total++;
  }

  at(i: number): Item {
    return this.items[this.head + i]!;
  }

  keys(n: number): number[] {
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.items[this.head + i]!.key;
    return out;
  }

  drop(n: number): void {
    this.head += n;
    if (this.head >= this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** The keys of the last `size` items committed from one side (a ring), for resynchronisation. */
class KeyHistory {
  private readonly keys: Float64Array;
  private pos = 0;
  private len = 0;
  constructor(readonly size: number) {
    this.keys = new Float64Array(size);
  }

  add(k: number): void {
    if (this.size === 0) return;
    this.keys[this.pos] = k;
    this.pos = (this.pos + 1) % this.size;
    if (this.len < this.size) this.len++;
  }

  /**
   * How many items were committed at and after the latest place where the
   * first `r` keys of `side` were committed in a row (0 if nowhere).
   */
  distanceOf(side: Side, r: number): number {
    if (side.length < r || this.len < r) return 0;
    const first = side.at(0).key;
    // Newest first: i counts back from the last committed key.
    for (let back = r; back <= this.len; back++) {
      const start = (this.pos - back + this.size) % this.size;
      if (this.keys[start] !== first) continue;
      let ok = true;
      for (let k = 1; k < r && ok; k++) ok = this.keys[(start + k) % this.size] === side.at(k).key;
      if (ok) return back;
    }
    return 0;
  }
}

type Mode = 'normal' | 'forced' | 'final';

export class StreamAligner {
  readonly a = new Side();
  readonly b = new Side();
  /** Skip normal steps until this many items are buffered (after a step found no anchor). */
  private stallUntil = 0;
  private readonly gh = new Hasher();
  /** Committed keys per side; created the first time the stream has no anchor (until then rows go straight out). */
  private histA: KeyHistory | undefined;
  private histB: KeyHistory | undefined;
  private out: RowSink;

  constructor(private readonly p: AlignParams, private readonly sink: RowSink) {
    this.out = sink;
  }

  /** Starts remembering committed keys (a stream that lost its anchor once may need to resynchronise). */
  private remember(): void {
    if (this.histA || this.p.history <= 0) return;
    const ha = new KeyHistory(this.p.history);
    const hb = new KeyHistory(this.p.history);
    this.histA = ha;
    this.histB = hb;
    const sink = this.sink;
    this.out = {
      row: (op, a, b) => {
        if (a) ha.add(a.key);
        if (b) hb.add(b.key);
        sink.row(op, a, b);
      },
    };
  }

  /** Adds an event of trace a (side 0) or b (side 1) and aligns what can be aligned. */
  push(side: 0 | 1, it: Item): void {
    (side === 0 ? this.a : this.b).push(it);
    const la = this.a.length;
    const lb = this.b.length;
    const W = this.p.window;
    if (la >= W && lb >= W) {
      if (la + lb >= this.stallUntil) this.step('normal');
      else if (la >= this.p.maxBuffer || lb >= this.p.maxBuffer) this.step('forced');
    } else if (la >= this.p.maxBuffer || lb >= this.p.maxBuffer) {
      this.step('forced');
    }
  }

  /** Both traces ended: aligns and emits everything left. */
  finish(): void {
    while (this.a.length > 0 || this.b.length > 0) this.step('final');
  }

  private step(mode: Mode): void {
    const p = this.p;
    const la = this.a.length;
    const lb = this.b.length;
    if (la === 0 || lb === 0) {
      if (mode === 'normal') return;
      const n = mode === 'final' ? la + lb : Math.min(la + lb, p.window);
      this.oneSided(la > 0 ? 0 : 1, n);
      return;
    }
    let res = this.tryAlign(la, lb, p.window, p.maxEdit, mode);
    if (!res) res = this.tryAlign(la, lb, p.smallWindow, p.smallMaxEdit, mode);
    if (res) {
      const cut = res.complete ? res.comps.length : this.lastCut(res.comps, res.wa, res.wb);
      if (cut > 0) {
        this.commit(res.comps, cut);
        this.stallUntil = 0;
        if (mode === 'forced') this.relieve();
        return;
      }
    }
    // At the end, a side shorter than an anchor may still match as a whole.
    const an = this.findAnchor(mode === 'final' ? Math.max(1, Math.min(p.anchor, la, lb)) : p.anchor);
    if (an) {
      this.replace(an.i, an.j);
      for (let k = 0; k < an.run; k++) this.out.row('same', this.a.at(k), this.b.at(k));
      this.a.drop(an.run);
      this.b.drop(an.run);
      this.stallUntil = 0;
      if (mode === 'forced') this.relieve();
      return;
    }
    if (this.resyncFromHistory()) {
      this.stallUntil = 0;
      if (mode === 'forced') this.relieve();
      return;
    }
    if (mode === 'normal') {
      this.stallUntil = la + lb + p.window;
      return;
    }
    // Nothing in common anywhere in the buffers: give up on the heads.
    this.replace(Math.min(la, p.window), Math.min(lb, p.window));
    if (mode === 'forced') this.relieve();
  }

  /**
   * After a forced step paired events that did not belong together, one side
   * runs behind: its head was already committed on the other side. Finds the
   * head of each side among the other side's recently committed keys and, if
   * found, commits the side that is behind one-sided up to the other's head.
   */
  private resyncFromHistory(): boolean {
    if (!this.histA || !this.histB) {
      this.remember();
      return false;
    }
    const r = 2 * this.p.anchor;
    const da = this.histB.distanceOf(this.a, r);
    const db = this.histA.distanceOf(this.b, r);
    if (da === 0 && db === 0) return false;
    if (db > 0 && (da === 0 || db <= da)) this.oneSided(1, Math.min(db, this.b.length));
    else this.oneSided(0, Math.min(da, this.a.length));
    return true;
  }

  /** After a forced step: keep an overfull side well under the limit (its head is reported one-sided). */
  private relieve(): void {
    const p = this.p;
    const limit = p.maxBuffer - p.window;
    while (this.a.length > limit) this.oneSided(0, Math.min(this.a.length - limit, p.window));
    while (this.b.length > limit) this.oneSided(1, Math.min(this.b.length - limit, p.window));
  }

  private tryAlign(la: number, lb: number, window: number, maxEdit: number, mode: Mode):
  { comps: ArrayChange<number>[]; wa: number; wb: number; complete: boolean } | undefined {
    let wa = Math.min(la, window);
    let wb = Math.min(lb, window);
    // Keep the windows comparable: a size difference costs edits without telling anything.
    const slack = Math.max(8, window >> 3);
    if (wa > wb + slack) wa = wb + slack;
    else if (wb > wa + slack) wb = wa + slack;
    const complete = mode === 'final' && wa === la && wb === lb;
    const comps = diffArrays(this.a.keys(wa), this.b.keys(wb), { maxEditLength: Math.abs(wa - wb) + maxEdit });
    return comps ? { comps, wa, wb, complete } : undefined;
  }

  /** Components to commit: up to the last common run of `anchor` keys, or one reaching the end of both windows. */
  private lastCut(comps: ArrayChange<number>[], wa: number, wb: number): number {
    let ia = 0;
    let ib = 0;
    let cut = 0;
    for (let c = 0; c < comps.length; c++) {
      const x = comps[c]!;
      if (x.added) ib += x.count;
      else if (x.removed) ia += x.count;
      else {
        ia += x.count;
        ib += x.count;
        if (x.count >= this.p.anchor || (ia === wa && ib === wb)) cut = c + 1;
      }
    }
    return cut;
  }

  private commit(comps: ArrayChange<number>[], upto: number): void {
    let ia = 0;
    let ib = 0;
    let ra = -1; // start of a pending replaced block
    let rb = -1;
    const flush = (): void => {
      if (ra < 0) return;
      this.pairBlock(ra, ia - ra, rb, ib - rb);
      ra = rb = -1;
    };
    for (let c = 0; c < upto; c++) {
      const x = comps[c]!;
      if (x.added || x.removed) {
        if (ra < 0) {
          ra = ia;
          rb = ib;
        }
        if (x.added) ib += x.count;
        else ia += x.count;
        continue;
      }
      flush();
      for (let k = 0; k < x.count; k++) this.out.row('same', this.a.at(ia + k), this.b.at(ib + k));
      ia += x.count;
      ib += x.count;
    }
    flush();
    this.a.drop(ia);
    this.b.drop(ib);
  }

  /** Commits the first `na` items of a and `nb` of b as one replaced block. */
  private replace(na: number, nb: number): void {
    if (na + nb === 0) return;
    this.pairBlock(0, na, 0, nb);
    this.a.drop(na);
    this.b.drop(nb);
  }

  private oneSided(side: 0 | 1, n: number): void {
    const s = side === 0 ? this.a : this.b;
    for (let k = 0; k < n; k++) {
      if (side === 0) this.out.row('removed', s.at(k), undefined);
      else this.out.row('inserted', undefined, s.at(k));
    }
    s.drop(n);
  }

  /** Emits a[ia, ia+na) and b[ib, ib+nb): pairs of equal shape become "changed", the rest removed/inserted. */
  private pairBlock(ia: number, na: number, ib: number, nb: number): void {
    const sink = this.out;
    if (na === 0 || nb === 0) {
      for (let k = 0; k < na; k++) sink.row('removed', this.a.at(ia + k), undefined);
      for (let k = 0; k < nb; k++) sink.row('inserted', undefined, this.b.at(ib + k));
      return;
    }
    if (na + nb <= this.p.maxPairBlock && this.pairByShape(ia, na, ib, nb)) return;
    // Too big or too different for a diff: pair by position.
    const n = Math.min(na, nb);
    for (let k = 0; k < n; k++) {
      const x = this.a.at(ia + k);
      const y = this.b.at(ib + k);
      if (x.key === y.key) sink.row('same', x, y);
      else if (x.shape === y.shape) sink.row('changed', x, y);
      else {
        sink.row('removed', x, undefined);
        sink.row('inserted', undefined, y);
      }
    }
    for (let k = n; k < na; k++) sink.row('removed', this.a.at(ia + k), undefined);
    for (let k = n; k < nb; k++) sink.row('inserted', undefined, this.b.at(ib + k));
  }

  /** Pairs a block through a diff of shapes; false (nothing emitted) when the shapes differ too much. */
  private pairByShape(ia: number, na: number, ib: number, nb: number): boolean {
    const sink = this.out;
    const sa = new Array<number>(na);
    const sb = new Array<number>(nb);
    for (let k = 0; k < na; k++) sa[k] = this.a.at(ia + k).shape;
    for (let k = 0; k < nb; k++) sb[k] = this.b.at(ib + k).shape;
    const comps = diffArrays(sa, sb, { maxEditLength: Math.abs(na - nb) + this.p.maxEdit });
    if (!comps) return false;
    let x = ia;
    let y = ib;
    for (const c of comps) {
      if (c.added) for (let k = 0; k < c.count; k++) sink.row('inserted', undefined, this.b.at(y++));
      else if (c.removed) for (let k = 0; k < c.count; k++) sink.row('removed', this.a.at(x++), undefined);
      else {
        for (let k = 0; k < c.count; k++) {
          const p = this.a.at(x++);
          const q = this.b.at(y++);
          sink.row(p.key === q.key ? 'same' : 'changed', p, q);
        }
      }
    }
    return true;
  }

  private gram(s: Side, i: number, r: number): number {
    const h = this.gh.start(0x6a09);
    for (let k = 0; k < r; k++) h.num(s.at(i + k).key);
    return h.value();
  }

  /** Nearest (smallest i + j) run of `anchor` equal keys a[i..] = b[j..] in the buffers, with its full length. */
  private findAnchor(r: number): { i: number; j: number; run: number } | undefined {
    const la = this.a.length;
    const lb = this.b.length;
    if (la < r || lb < r) return undefined;
    const firstInB = new Map<number, number>();
    for (let j = 0; j + r <= lb; j++) {
      const g = this.gram(this.b, j, r);
      if (!firstInB.has(g)) firstInB.set(g, j);
    }
    let bi = -1;
    let bj = -1;
    for (let i = 0; i + r <= la; i++) {
      if (bi >= 0 && i >= bi + bj) break;
      const j = firstInB.get(this.gram(this.a, i, r));
      if (j === undefined) continue;
      let ok = true;
      for (let k = 0; k < r && ok; k++) ok = this.a.at(i + k).key === this.b.at(j + k).key;
      if (ok && (bi < 0 || i + j < bi + bj)) {
        bi = i;
        bj = j;
      }
    }
    if (bi < 0) return undefined;
    let run = r;
    while (bi + run < la && bj + run < lb && this.a.at(bi + run).key === this.b.at(bj + run).key) run++;
    return { i: bi, j: bj, run };
  }
}
