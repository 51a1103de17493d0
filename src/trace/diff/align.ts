/**
 * Windowed alignment of one stream (one device and kind) of two traces, with
 * bounded memory (docs/DIFF.md "Alignment").
 *
 * Events of each side are buffered; once both sides hold a window's worth,
 * jsdiff's Myers diff (`diffArrays`, window-diff.ts)
 * aligns the two windows of normalised keys, and everything up to the end of
 * the last solid common run is committed — the unmatched tail stays buffered
 * and is aligned again with the next window, so an insertion straddling a
 * window edge still lines up.
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
import { Hasher } from './hash.js';
import { diffRuns, type Run } from './window-diff.js';
import type { Item } from './normalise.js';

export type RowOp = 'same' | 'changed' | 'inserted' | 'removed';

/** Receives the aligned rows of a stream, in order: each event pushed comes out in exactly one row. */
export interface RowSink<T = Item> {
  row(op: RowOp, a: T | undefined, b: T | undefined): void;
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

/** What an event is aligned by: its normalised key and shape (normalise.ts). */
export interface Keyed {
  key: number;
  shape: number;
}

/** A FIFO of events (key, shape and the caller's reference) with O(1) amortised removal from the head; keys and shapes in typed arrays. */
export class Side<T = Item> {
  private keyArr = new Float64Array(64);
  private shapeArr = new Float64Array(64);
  private refs: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;
  /** Items ever pushed. */
  total = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** Adds `ref` with the key and shape of `from` (read here: a number passed to a call that is not inlined is boxed). */
  push(ref: T, from: Keyed): void {
    if (this.tail === this.keyArr.length) this.makeRoom();
    const t = this.tail++;
    this.keyArr[t] = from.key;
    this.shapeArr[t] = from.shape;
    this.refs[t] = ref;
    this.total++;
  }

  /** Moves the items to the front, or doubles the arrays when more than half full. */
  private makeRoom(): void {
    const n = this.length;
    if (n * 2 > this.keyArr.length) {
      const k = new Float64Array(this.keyArr.length * 2);
      k.set(this.keyArr.subarray(this.head, this.tail));
      const sh = new Float64Array(k.length);
      sh.set(this.shapeArr.subarray(this.head, this.tail));
      this.keyArr = k;
      this.shapeArr = sh;
    } else {
      this.keyArr.copyWithin(0, this.head, this.tail);
      this.shapeArr.copyWithin(0, this.head, this.tail);
    }
    this.refs = this.refs.slice(this.head, this.tail);
    this.head = 0;
    this.tail = n;
  }

  ref(i: number): T {
    return this.refs[this.head + i]!;
  }

  key(i: number): number {
    return this.keyArr[this.head + i]!;
  }

  shape(i: number): number {
    return this.shapeArr[this.head + i]!;
  }

  /** The keys and shapes in place: item i's at index `first + i` (valid until the next push or drop). */
  get keyData(): Float64Array {
    return this.keyArr;
  }

  get shapeData(): Float64Array {
    return this.shapeArr;
  }

  get first(): number {
    return this.head;
  }

  drop(n: number): void {
    for (let i = this.head; i < this.head + n; i++) this.refs[i] = undefined;
    this.head += n;
    if (this.head >= this.tail) {
      this.head = 0;
      this.tail = 0;
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
  distanceOf<T>(side: Side<T>, r: number): number {
    if (side.length < r || this.len < r) return 0;
    const first = side.key(0);
    // Newest first: i counts back from the last committed key.
    for (let back = r; back <= this.len; back++) {
      const start = (this.pos - back + this.size) % this.size;
      if (this.keys[start] !== first) continue;
      let ok = true;
      for (let k = 1; k < r && ok; k++) ok = this.keys[(start + k) % this.size] === side.key(k);
      if (ok) return back;
    }
    return 0;
  }
}

type Mode = 'normal' | 'forced' | 'final';

/**
 * Aligns one stream. `T` is what the caller hands in per event and gets back
 * in the rows (an Item, or a number naming the event in the caller's store).
 */
export class StreamAligner<T = Item> {
  readonly a = new Side<T>();
  readonly b = new Side<T>();
  /** Skip normal steps until this many items are buffered (after a step found no anchor). */
  private stallUntil = 0;
  private readonly gh = new Hasher();
  /** Committed keys per side; created the first time the stream has no anchor (until then rows go straight out). */
  private histA: KeyHistory | undefined;
  private histB: KeyHistory | undefined;

  constructor(private readonly p: AlignParams, private readonly sink: RowSink<T>) {}

  /** Starts remembering committed keys (a stream that lost its anchor once may need to resynchronise). */
  private remember(): void {
    if (this.histA || this.p.history <= 0) return;
    this.histA = new KeyHistory(this.p.history);
    this.histB = new KeyHistory(this.p.history);
  }

  /** Emits a row of a's item at ia and b's at ib (-1: none), before they are dropped. */
  private emit(op: RowOp, ia: number, ib: number): void {
    if (this.histA) {
      if (ia >= 0) this.histA.add(this.a.key(ia));
      if (ib >= 0) this.histB!.add(this.b.key(ib));
    }
    this.sink.row(op, ia >= 0 ? this.a.ref(ia) : undefined, ib >= 0 ? this.b.ref(ib) : undefined);
  }

  /** Adds an item whose key and shape are its own fields. */
  push(side: 0 | 1, it: T & Keyed): void {
    this.add(side, it, it);
  }

  /** Adds an event of trace a (side 0) or b (side 1), with the key and shape of `from`, and aligns what can be aligned. */
  add(side: 0 | 1, ref: T, from: Keyed): void {
    (side === 0 ? this.a : this.b).push(ref, from);
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
      for (let k = 0; k < an.run; k++) this.emit('same', k, k);
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
  { comps: Run[]; wa: number; wb: number; complete: boolean } | undefined {
    let wa = Math.min(la, window);
    let wb = Math.min(lb, window);
    // Keep the windows comparable: a size difference costs edits without telling anything.
    const slack = Math.max(8, window >> 3);
    if (wa > wb + slack) wa = wb + slack;
    else if (wb > wa + slack) wb = wa + slack;
    const complete = mode === 'final' && wa === la && wb === lb;
    const a = this.a;
    const b = this.b;
    const comps = diffRuns(a.keyData, a.first, wa, b.keyData, b.first, wb, Math.abs(wa - wb) + maxEdit);
    return comps ? { comps, wa, wb, complete } : undefined;
  }

  /** Components to commit: up to the last common run of `anchor` keys, or one reaching the end of both windows. */
  private lastCut(comps: Run[], wa: number, wb: number): number {
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

  private commit(comps: Run[], upto: number): void {
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
      for (let k = 0; k < x.count; k++) this.emit('same', ia + k, ib + k);
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
      if (side === 0) this.emit('removed', k, -1);
      else this.emit('inserted', -1, k);
    }
    s.drop(n);
  }

  /** Emits a[ia, ia+na) and b[ib, ib+nb): pairs of equal shape become "changed", the rest removed/inserted. */
  private pairBlock(ia: number, na: number, ib: number, nb: number): void {
    if (na === 0 || nb === 0) {
      for (let k = 0; k < na; k++) this.emit('removed', ia + k, -1);
      for (let k = 0; k < nb; k++) this.emit('inserted', -1, ib + k);
      return;
    }
    if (na + nb <= this.p.maxPairBlock && this.pairByShape(ia, na, ib, nb)) return;
    // Too big or too different for a diff: pair by position.
    const n = Math.min(na, nb);
    for (let k = 0; k < n; k++) {
      const x = ia + k;
      const y = ib + k;
      if (this.a.key(x) === this.b.key(y)) this.emit('same', x, y);
      else if (this.a.shape(x) === this.b.shape(y)) this.emit('changed', x, y);
      else {
        this.emit('removed', x, -1);
        this.emit('inserted', -1, y);
      }
    }
    for (let k = n; k < na; k++) this.emit('removed', ia + k, -1);
    for (let k = n; k < nb; k++) this.emit('inserted', -1, ib + k);
  }

  /** Pairs a block through a diff of shapes; false (nothing emitted) when the shapes differ too much. */
  private pairByShape(ia: number, na: number, ib: number, nb: number): boolean {
    const a = this.a;
    const b = this.b;
    const comps = diffRuns(a.shapeData, a.first + ia, na, b.shapeData, b.first + ib, nb, Math.abs(na - nb) + this.p.maxEdit);
    if (!comps) return false;
    let x = ia;
    let y = ib;
    for (const c of comps) {
      if (c.added) for (let k = 0; k < c.count; k++) this.emit('inserted', -1, y++);
      else if (c.removed) for (let k = 0; k < c.count; k++) this.emit('removed', x++, -1);
      else {
        for (let k = 0; k < c.count; k++) {
          const p = x++;
          const q = y++;
          this.emit(this.a.key(p) === this.b.key(q) ? 'same' : 'changed', p, q);
        }
      }
    }
    return true;
  }

  private gram(s: Side<T>, i: number, r: number): number {
    const h = this.gh.start(0x6a09);
    for (let k = 0; k < r; k++) h.num(s.key(i + k));
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
      for (let k = 0; k < r && ok; k++) ok = this.a.key(i + k) === this.b.key(j + k);
      if (ok && (bi < 0 || i + j < bi + bj)) {
        bi = i;
        bj = j;
      }
    }
    if (bi < 0) return undefined;
    let run = r;
    while (bi + run < la && bj + run < lb && this.a.key(bi + run) === this.b.key(bj + run)) run++;
    return { i: bi, j: bj, run };
  }
}
