import type { Duration, SimTime } from './time.js';

/**
 * The one event queue. Events are data — (target, kind, a0, a1) — ordered by
 * (time, sequence): equal-time events run in the order they were scheduled.
 * Scheduling and dispatching allocate nothing (arrays double when full, which
 * is amortised, not per event).
 *
 * Storage has two parts, split at a time `winEnd`: every pending event
 * before it is in the front, every one at or after it in the far heap.
 *
 * - The front is a bucketed calendar: NB buckets of width W = 2^shift ps,
 *   covering the absolute bucket numbers [cur, cur + NB) (bucket number =
 *   floor(time / W); position = number mod NB), so winEnd = (cur + NB) * W.
 *   Each bucket is a doubly linked list sorted by time, and a new event goes
 *   after every listed event of equal or earlier time: since it is the most
 *   recently scheduled, that is its (time, sequence) place, and no sequence
 *   number is stored. One bit per non-empty bucket finds the next one.
 *   `cur` is the bucket of the latest dispatch (never past `now`), so
 *   nothing can be scheduled before it.
 * - The far heap is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) for
 *   the events beyond the window (timeouts, timer ticks). Each sits in bucket
 *   b = the bit length of (its time XOR `last`), compared as IEEE-754 bit
 *   patterns (monotone for non-negative doubles), with `last` the time of
 *   the latest event taken out. Equal times share a bucket and stay in FIFO
 *   order through redistribution. When `cur` advances, the far events now
 *   inside the window move to the front in order, before anything else can
 *   be scheduled there, so equal-time order survives the move.
 *
 * The width adapts every EPOCH dispatches: narrower when sorted inserts walk
 * past many events, wider when many events come due from beyond the window
 * (both counted against the epoch's dispatches). A resize
 * re-files every event; each group of equal-time events is always in one
 * list (a front bucket or a far bucket) in its order, and is re-filed in
 * that order, so the dispatch order never depends on the width.
 *
 * Cancelling unlinks the event at once, front or far (far buckets are
 * doubly linked too, and each far event records its bucket): the usual
 * timeout, cancelled and re-armed on every completion, leaves nothing
 * behind. A far bucket whose earliest event was cancelled keeps that time
 * as a lower bound (enough for redistribution) and is scanned when its
 * exact minimum is asked for.
 *
 * A target is a handler registered once at construction (`register`), the
 * rp2040js "alarms created once" idea: devices keep their target id and
 * schedule numbers against it.
 */
/**
 * a0 and a1 arrive exactly as scheduled; when both are int32 (and not -0)
 * they arrive as int32 values, so integer arithmetic on them stays integer
 * in an optimised handler.
 */
export type EventHandler = (kind: number, a0: number, a1: number) => void;

/** A cancellable handle: slot index + generation packed in one number. */
export const NO_EVENT: EventHandle = -1;
export type EventHandle = number;

const GEN_SHIFT = 2 ** 24; // slots < 16M; generation in the upper bits
const INV_GEN_SHIFT = 2 ** -24;
/** Far-heap buckets: times are non-negative, so their sign bits never differ. */
const FAR_BUCKETS = 64;
/** Front buckets (a power of two) and their occupancy words. */
const NB = 1024;
const MASK = NB - 1;
const WORDS = NB >>> 5;
/** Dispatches between width adjustments. */
const EPOCH = 512;
/** Widest bucket: 2^40 ps (about a second). */
const MAX_SHIFT = 40;
/** Bucket numbers, and the window end, stay exact below this. */
const MAX_BUCKET = 2 ** 53 - 4 * NB;
/** The first width adjustment comes early (short scenarios), then every EPOCH dispatches. */
const FIRST_EPOCH = 64;

// Per-slot records: one 64-byte record per slot in one buffer, read as doubles
// (`f`, slot s at s * 8) and as integers (`m`, slot s at s * 16). An event's
// fields share a cache line, and the per-event work touches two typed arrays
// instead of one per field.
const RECORD = 64;
const F_TIME = 0;
const F_A0 = 1;
const F_A1 = 2;
/**
 * The slot's current handle, generation * 2^24 + slot: the handle of its
 * pending event, or the one its next event will get. Freeing the slot moves
 * it to the next generation (21 bits, then back to 0), so older handles no
 * longer match. Kept as a double: no integer arithmetic that could overflow.
 */
const F_HANDLE = 3;
// Integer fields start after the four doubles (byte 32 = int 8).
const M_TARGET = 8;
const M_KIND = 9;
/** List link: front bucket (both links), far bucket (`next`), free list (`next`). */
const M_NEXT = 10;
const M_PREV = 11;
const M_STATE = 12;
/** The far bucket a far event is listed in. */
const M_FB = 13;
/** A far event's delay when it was filed far (its bit length), counted for width adaptation if it comes due. */
const M_DBITS = 14;
/** Handles wrap when the generation reaches 2^21. */
const HANDLE_WRAP = 2 ** 45;

// Slot states.
const FREE = 0;
/** Pending, in a front bucket. */
const FRONT = 1;
/** Pending, in the far heap. */
const FAR = 2;

/** Scratch for reading a double's bit pattern (little- or big-endian host). */
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LO = 1 - HI;

export class EventQueue {
  /** Time of the event being (or last) dispatched. */
  now: SimTime = 0 as SimTime;
  /** Number of events dispatched so far. */
  dispatched = 0;
  /** The limit of the `runUntil` in progress. */
  private dueBy = 0.5;

  private handlers: EventHandler[] = [];
  private targetNames: string[] = [];
  private cap: number;
  /** Slot records (RECORD bytes each) as doubles: time, a0, a1, handle at s * 8 + F_*. */
  private f: Float64Array;
  /** The same records as integers: target, kind, links, state, far bucket and delay at s * 16 + M_*. */
  private m: Int32Array;
  /** Free slots, linked through `next` (last freed first); -1 when none. */
  private freeHead: number;

  /** Pending (not cancelled) events. */
  private size = 0;
  /** Earliest pending time when `minValid`. */
  private minTime = Infinity;
  private minValid = true;

  // Front calendar.
  private shift = 0;
  /** 2^-shift and 2^shift (exact). */
  private invW = 1;
  private width = 1;
  /** Absolute bucket number of position `cur & MASK`; every front event is at or after it. */
  private cur = 0;
  /** (cur + NB) * W: front events are before it, far events at or after it. */
  private winEnd = NB;
  private frontCount = 0;
  /** Head and tail of each front bucket's list (at 2p and 2p + 1), -1 when empty. */
  private readonly fb = new Int32Array(2 * NB).fill(-1);
  /** Time of each front bucket's tail (when it has one): appends compare with it without reading the tail's record. */
  private readonly ftt = new Float64Array(NB);
  private readonly occ = new Int32Array(WORDS);
  /** One bit per non-zero `occ` word (WORDS = 32): the next non-empty bucket is two bit scans away. */
  private occSum = 0;

  // Far radix heap.
  private farCount = 0;
  private readonly bucketHead = new Int32Array(FAR_BUCKETS).fill(-1);
  private readonly bucketTail = new Int32Array(FAR_BUCKETS).fill(-1);
  /** Lower bound of the times listed in each far bucket; Infinity when empty. */
  private readonly bucketMin = new Float64Array(FAR_BUCKETS).fill(Infinity);
  /** One bit per far bucket whose `bucketMin` may be below its earliest event (that event was cancelled). */
  private minStaleLo = 0;
  private minStaleHi = 0;
  /** One bit per non-empty far bucket: 0..31 in `farOccLo`, 32..63 in `farOccHi`. */
  private farOccLo = 0;
  private farOccHi = 0;
  /** Bit pattern of `last`. */
  private lastHi = 0;
  private lastLo = 0;
  /** A lower bound of the earliest far time (Infinity when the far heap is empty); exact when `farMinExact`. */
  private farMin = Infinity;
  private farMinExact = true;

  // Width adaptation: counts over the current epoch.
  private readonly epoch: number;
  private epochLeft: number;
  /** Dispatches in the current epoch (the measure the counts below are compared with). */
  private epochLen: number;
  private walks = 0;
  /** Far events that came due (moved to the front): the ones a wider window would have held. */
  private pulled = 0;
  /** Far events that came due, by bit length of their delay when filed far (time - now, whole ps). */
  private readonly farDelayBits = new Int32Array(64);

  /** `epoch`: dispatches between width adjustments (tests pass small values to exercise re-filing). */
  constructor(initialCapacity = 1024, epoch = EPOCH) {
    const n = Math.max(1, initialCapacity);
    this.epoch = Math.max(1, epoch);
    this.epochLeft = Math.min(FIRST_EPOCH, this.epoch);
    this.epochLen = this.epochLeft;
    this.cap = n;
    const buf = new ArrayBuffer(RECORD * n);
    this.f = new Float64Array(buf);
    this.m = new Int32Array(buf);
    this.freeHead = this.linkFree(0, n);
  }

  /** Links slots [from, to) into a free list, lowest first, ending the list; returns its head. */
  private linkFree(from: number, to: number): number {
    const m = this.m;
    for (let s = from; s < to; s++) {
      m[(s << 4) + M_NEXT] = s + 1 < to ? s + 1 : -1;
      this.f[(s << 3) + F_HANDLE] = s;
    }
    return from;
  }

  /** Registers a handler and returns its target id. Do this at construction. */
  register(name: string, handler: EventHandler): number {
    this.handlers.push(handler);
    this.targetNames.push(name);
    return this.handlers.length - 1;
  }

  targetName(target: number): string {
    return this.targetNames[target] ?? `target${target}`;
  }

  get pending(): number {
    return this.size;
  }

  /** Current front bucket width in ps (diagnostics and tests: it adapts, the dispatch order does not depend on it). */
  get bucketWidth(): number {
    return 2 ** this.shift;
  }

  /** Schedules at an absolute time (never before `now`). */
  scheduleAt(time: SimTime, target: number, kind = 0, a0 = 0, a1 = 0): EventHandle {
    // The event is written straight into the next free slot's record and only the slot number is
    // passed on (a double crossing a call that is not inlined is boxed); the handle is read here,
    // where a caller that inlines this and stores it in a typed array boxes nothing.
    const now = this.now;
    const slot = this.freeHead;
    const j = slot << 3;
    const f = this.f;
    // `+ 0` turns -0 into +0 (whose bit pattern sorts first).
    f[j] = time < now ? now : time + 0;
    f[j + F_A0] = a0;
    f[j + F_A1] = a1;
    const m = this.m;
    const i = slot << 4;
    m[i + M_TARGET] = target;
    m[i + M_KIND] = kind;
    this.file(slot);
    return this.f[j + F_HANDLE]!;
  }

  /** Schedules `delay` after `now`. */
  schedule(delay: Duration, target: number, kind = 0, a0 = 0, a1 = 0): EventHandle {
    return this.scheduleAt((this.now + delay) as SimTime, target, kind, a0, a1);
  }

  /**
   * Files the event just written into the head free slot. The common case,
   * a bucket whose events are all due at or before it, is handled here; an
   * empty bucket, a sorted insert or the far heap are out of line. There is
   * always a free slot: the arrays grow when the last one is taken.
   */
  private file(slot: number): void {
    const m = this.m;
    const i = slot << 4;
    const t = this.f[slot << 3]!;
    const next = m[i + M_NEXT]!;
    this.freeHead = next;
    if (next < 0) this.grow();
    this.size++;
    // A stale minimum is recomputed when asked, whatever it holds.
    if (t < this.minTime) this.minTime = t;
    if (t < this.winEnd) {
      const b = Math.floor(t * this.invW) & MASK;
      const tail = this.fb[2 * b + 1]!;
      if (tail < 0 || this.ftt[b]! <= t) {
        // An empty bucket, or one whose events are all due at or before t: append.
        const mm = this.m;
        mm[i + M_PREV] = tail;
        mm[i + M_NEXT] = -1;
        mm[i + M_STATE] = FRONT;
        if (tail < 0) {
          this.fb[2 * b] = slot;
          this.occSet(b);
        } else mm[(tail << 4) + M_NEXT] = slot;
        this.fb[2 * b + 1] = slot;
        this.ftt[b] = t;
        this.frontCount++;
      } else this.frontInsert(slot);
    } else this.farSchedule(slot);
  }

  private badTime(target: number): never {
    throw new RangeError(`event time is NaN (target ${this.targetName(target)})`);
  }

  /** Cancels a pending event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    // Slot and generation by multiply and floor: `%` on a double is a call out of the JIT's code.
    if (!(handle >= 0)) return false;
    const gen = Math.floor(handle * INV_GEN_SHIFT);
    const slot = handle - gen * GEN_SHIFT;
    // A fractional or stale handle does not match the slot's current handle.
    if (slot >= this.cap || this.f[(slot << 3) + F_HANDLE] !== handle) return false;
    const st = this.m[(slot << 4) + M_STATE]!;
    if (st !== FRONT && st !== FAR) return false;
    this.drop(slot, st);
    return true;
  }

  /**
   * Takes a pending event out (front or far) and frees its slot. One
   * function, kept out of line: `cancel` stays small enough that a handler
   * which cancels a timeout still inlines the schedules that follow (a
   * `schedule` that is not inlined returns its handle as a heap number).
   */
  private drop(slot: number, st: number): void {
    const m = this.m;
    const f = this.f;
    const i = slot << 4;
    const t = f[slot << 3]!;
    this.size--;
    if (t === this.minTime) this.minValid = false;
    const n = m[i + M_NEXT]!;
    const p = m[i + M_PREV]!;
    if (st === FRONT) {
      const fb = this.fb;
      const b = Math.floor(t * this.invW) & MASK;
      if (p < 0) fb[2 * b] = n;
      else m[(p << 4) + M_NEXT] = n;
      if (n < 0) {
        fb[2 * b + 1] = p;
        if (p >= 0) this.ftt[b] = f[p << 3]!;
      } else m[(n << 4) + M_PREV] = p;
      if (fb[2 * b]! < 0) this.occClear(b);
      this.frontCount--;
    } else {
      // Far: out of its bucket at once, so a timeout re-armed on every completion leaves nothing behind.
      const fbk = m[i + M_FB]!;
      if (p < 0) this.bucketHead[fbk] = n;
      else m[(p << 4) + M_NEXT] = n;
      if (n < 0) this.bucketTail[fbk] = p;
      else m[(n << 4) + M_PREV] = p;
      if (this.bucketHead[fbk]! < 0) this.farClear(fbk);
      else if (t === this.bucketMin[fbk]) {
        if (fbk < 32) this.minStaleLo |= 1 << fbk;
        else this.minStaleHi |= 1 << (fbk - 32);
      }
      this.farCount--;
      if (t === this.farMin) this.farMinExact = false;
    }
    // Free the slot; its handle moves to the next generation.
    const h = f[(slot << 3) + F_HANDLE]! + GEN_SHIFT;
    f[(slot << 3) + F_HANDLE] = h < HANDLE_WRAP ? h : h - HANDLE_WRAP;
    m[i + M_STATE] = FREE;
    m[i + M_NEXT] = this.freeHead;
    this.freeHead = slot;
  }

  isPending(handle: EventHandle): boolean {
    if (!(handle >= 0)) return false;
    const gen = Math.floor(handle * INV_GEN_SHIFT);
    const slot = handle - gen * GEN_SHIFT;
    if (slot >= this.cap || this.f[(slot << 3) + F_HANDLE] !== handle) return false;
    const s = this.m[(slot << 4) + M_STATE]!;
    return s === FRONT || s === FAR;
  }

  /** Time of the earliest pending event, or +Infinity. */
  peekTime(): number {
    if (!this.minValid) {
      this.minTime = this.findMin();
      this.minValid = true;
    }
    return this.minTime;
  }

  /** Dispatches the earliest event. Returns false if the queue is empty. */
  step(): boolean {
    if (this.size === 0) return false;
    let b = this.cur & MASK;
    const fb = this.fb;
    let slot = fb[2 * b]!;
    if (slot < 0) {
      slot = this.advance();
      b = this.cur & MASK;
    }
    const m = this.m;
    const f = this.f;
    const i = slot << 4;
    const j = slot << 3;
    // Unlink the head of bucket b.
    const rest = m[i + M_NEXT]!;
    fb[2 * b] = rest;
    if (rest < 0) {
      fb[2 * b + 1] = -1;
      this.occClear(b);
    } else m[(rest << 4) + M_PREV] = -1;
    this.frontCount--;
    // Read the event before releasing its slot: the handler may reuse it.
    const target = m[i + M_TARGET]!;
    const kind = m[i + M_KIND]!;
    const a0 = f[j + F_A0]!;
    const a1 = f[j + F_A1]!;
    const a0i = a0 | 0;
    const a1i = a1 | 0;
    // High words of the two doubles (sign bit set for -0), read through the integer view.
    const a0hi = m[i + 2 * F_A0 + HI]!;
    const a1hi = m[i + 2 * F_A1 + HI]!;
    this.now = f[j + F_TIME]! as SimTime;
    m[i + M_STATE] = FREE;
    const h = f[j + F_HANDLE]! + GEN_SHIFT;
    f[j + F_HANDLE] = h < HANDLE_WRAP ? h : h - HANDLE_WRAP;
    m[i + M_NEXT] = this.freeHead;
    this.freeHead = slot;
    this.size--;
    // The minimum is recomputed when asked (bucket b's new head when there is one).
    this.minValid = false;
    this.dispatched++;
    if (--this.epochLeft === 0) this.adapt();
    // Integer arguments go as int32 (-0 | 0 === -0 holds, so a zero is checked for its sign bit).
    if (a0i === a0 && a1i === a1 && (a0i !== 0 || a0hi >= 0) && (a1i !== 0 || a1hi >= 0)) this.handlers[target]!(kind, a0i, a1i);
    else this.handlers[target]!(kind, a0, a1);
    return true;
  }

  /** Dispatches every event due at or before `time`, then sets `now` to it. */
  runUntil(time: number): void {
    // Small enough to inline into every device access (Core.sync); the loop is out of line.
    if (this.size !== 0 && this.peekTime() <= time) {
      // Passed in a field (a double argument to a call that is not inlined is boxed), kept for a nested call.
      const outer = this.dueBy;
      this.dueBy = time;
      this.runDue();
      this.dueBy = outer;
    }
    if (time > this.now) this.now = time as SimTime;
  }

  /** Sets `now` to `time` if that is later; the caller knows no event is due by then. */
  advanceTo(time: number): void {
    if (time > this.now) this.now = time as SimTime;
  }

  private runDue(): void {
    do this.step();
    while (this.size !== 0 && this.peekTime() <= this.dueBy);
  }

  // ---- front ----

  /** Files a pending event due before `winEnd` into its bucket, after every listed event due at or before it. */
  private frontInsert(slot: number): void {
    const m = this.m;
    const i = slot << 4;
    m[i + M_STATE] = FRONT;
    this.frontCount++;
    const t = this.f[slot << 3]!;
    const b = Math.floor(t * this.invW) & MASK;
    const fb = this.fb;
    const tail = fb[2 * b + 1]!;
    if (tail < 0) {
      fb[2 * b] = slot;
      fb[2 * b + 1] = slot;
      this.ftt[b] = t;
      m[i + M_NEXT] = -1;
      m[i + M_PREV] = -1;
      this.occSet(b);
    } else if (this.ftt[b]! <= t) {
      m[(tail << 4) + M_NEXT] = slot;
      m[i + M_PREV] = tail;
      m[i + M_NEXT] = -1;
      fb[2 * b + 1] = slot;
      this.ftt[b] = t;
    } else this.frontInsertSorted(slot, b);
  }

  /** Bucket b's tail is due after `slot`: walk back to the last event due at or before it and link it after that one. */
  private frontInsertSorted(slot: number, b: number): void {
    const m = this.m;
    const f = this.f;
    const fb = this.fb;
    const t = f[slot << 3]!;
    let s = m[(fb[2 * b + 1]! << 4) + M_PREV]!;
    let walked = 1;
    while (s >= 0 && f[s << 3]! > t) {
      s = m[(s << 4) + M_PREV]!;
      walked++;
    }
    this.walks += walked;
    const after = s < 0 ? fb[2 * b]! : m[(s << 4) + M_NEXT]!;
    const i = slot << 4;
    m[i + M_PREV] = s;
    m[i + M_NEXT] = after;
    m[(after << 4) + M_PREV] = slot;
    if (s < 0) fb[2 * b] = slot;
    else m[(s << 4) + M_NEXT] = slot;
  }

  private occSet(b: number): void {
    const w = b >>> 5;
    this.occ[w] = this.occ[w]! | (1 << (b & 31));
    this.occSum |= 1 << w;
  }

  private occClear(b: number): void {
    const w = b >>> 5;
    const bits = this.occ[w]! & ~(1 << (b & 31));
    this.occ[w] = bits;
    if (bits === 0) this.occSum &= ~(1 << w);
  }

  /** Distance from position p to the next non-empty front bucket (circular), or -1 if the front is empty. */
  private nextOccupied(p: number): number {
    const occ = this.occ;
    const w = p >>> 5;
    let bits = occ[w]! & (-1 << (p & 31));
    let word = w;
    if (bits === 0) {
      // The next non-empty word after w, else (wrapping) the first one up to w, whose bits are all below p.
      // (-2 << w: the words after w, none for w = 31; its complement: the words up to w.)
      const after = -2 << w;
      let sum = this.occSum & after;
      if (sum === 0) sum = this.occSum & ~after;
      if (sum === 0) return -1;
      word = 31 - Math.clz32(sum & -sum);
      bits = occ[word]!;
    }
    const pos = (word << 5) + (31 - Math.clz32(bits & -bits));
    return (pos - p) & MASK;
  }

  /**
   * The current bucket is empty: move `cur` to the next non-empty bucket (or,
   * with an empty front, to the earliest far event's bucket), bring the far
   * events now inside the window to the front, and return the current
   * bucket's head. Only called with size > 0.
   */
  private advance(): number {
    if (this.frontCount > 0) {
      this.cur += this.nextOccupied(this.cur & MASK);
    } else {
      const m = this.farPeek();
      const c = Math.floor(m * this.invW);
      if (c >= MAX_BUCKET) return this.takeFarDirect();
      this.cur = c;
    }
    this.winEnd = (this.cur + NB) * this.width;
    if (this.farCount > 0 && this.farMin < this.winEnd) this.pull();
    return this.fb[2 * (this.cur & MASK)]!;
  }

  /**
   * The earliest event is beyond any window (time 2^52 W or more, or
   * Infinity): file it alone in the current bucket (it is the only pending
   * event due then or earlier, and the front is empty).
   */
  private takeFarDirect(): number {
    const slot = this.farPop();
    this.countPulled(slot);
    const b = this.cur & MASK;
    const m = this.m;
    const i = slot << 4;
    m[i + M_STATE] = FRONT;
    this.frontCount++;
    this.fb[2 * b] = slot;
    this.fb[2 * b + 1] = slot;
    this.ftt[b] = this.f[slot << 3]!;
    m[i + M_NEXT] = -1;
    m[i + M_PREV] = -1;
    this.occSet(b);
    return slot;
  }

  /** Moves every far event due before `winEnd` to the front, in order. */
  private pull(): void {
    const end = this.winEnd;
    while (this.farCount > 0 && this.farPeek() < end) {
      const slot = this.farPop();
      this.countPulled(slot);
      this.frontInsert(slot);
    }
  }

  private findMin(): number {
    if (this.size === 0) return Infinity;
    if (this.frontCount > 0) {
      const p = this.cur & MASK;
      const head = this.fb[2 * p]!;
      if (head >= 0) return this.f[head << 3]!;
      return this.f[this.fb[2 * ((p + this.nextOccupied(p)) & MASK)]! << 3]!;
    }
    return this.farPeek();
  }

  // ---- width adaptation ----

  /** Bit length of a slot's delay (slot numbers, not times, cross calls: a double argument is boxed). */
  private delayBits(slot: number): number {
    const d = this.f[slot << 3]! - this.now;
    // Bit length of the whole-ps delay (0 for under 1 ps; 53 or more for huge delays).
    let bits: number;
    if (d < 1) bits = 0;
    else if (d < 4294967296) bits = 32 - Math.clz32(d);
    else if (d < 2 ** 63) bits = 64 - Math.clz32(Math.floor(d / 4294967296));
    else bits = 63;
    return bits > 63 ? 63 : bits;
  }

  /** Counts a far event that came due (it is being moved to the front). */
  private countPulled(slot: number): void {
    const bits = this.m[(slot << 4) + M_DBITS]!;
    this.farDelayBits[bits] = this.farDelayBits[bits]! + 1;
    this.pulled++;
  }

  /**
   * Once per epoch (counts against its dispatches): narrow the buckets when
   * sorted inserts walked past more than one event per two dispatches (a
   * sorted insert costs more than stepping over empty buckets); widen them,
   * so the window covers most of their delays, when more than one dispatch
   * in eight was a far event that came due and sorted inserts were rare.
   * Far events cancelled before they come due (timeouts) do not count: the
   * far heap files and unlinks them in constant time.
   */
  private adapt(): void {
    this.epochLeft = this.epoch;
    const inserts = this.epochLen;
    this.epochLen = this.epoch;
    const walks = this.walks;
    const far = this.pulled;
    this.walks = 0;
    this.pulled = 0;
    let shift = this.shift;
    if (walks * 2 > inserts && shift > 0) {
      shift--;
    } else if (far * 8 > inserts && walks * 4 < inserts) {
      // The smallest window (NB << shift) that covers three quarters of the far delays.
      const h = this.farDelayBits;
      let acc = 0;
      let need = 0;
      for (let i = 0; i < 64; i++) {
        acc += h[i]!;
        if (acc * 4 >= far * 3) {
          need = i;
          break;
        }
      }
      // A delay of bit length `need` is below 2^need; NB = 2^10.
      shift = Math.max(shift + 1, need - 10);
      if (shift > MAX_SHIFT) shift = MAX_SHIFT;
    }
    this.farDelayBits.fill(0);
    if (shift !== this.shift) this.rebuild(shift);
  }

  /**
   * Re-files every pending event for bucket width 2^shift. Events are taken
   * list by list (front buckets, then far buckets) and filed in list order;
   * equal-time events share one list, so their order is kept.
   */
  private rebuild(shift: number): void {
    const m = this.m;
    // Chain every pending event (front, then far) through `prev` into one list.
    let first = -1;
    let lastOf = -1;
    const link = (s: number): void => {
      if (lastOf < 0) first = s;
      else m[(lastOf << 4) + M_PREV] = s;
      lastOf = s;
    };
    for (let p = 0; p < NB; p++) {
      for (let s = this.fb[2 * p]!; s >= 0; ) {
        const n = m[(s << 4) + M_NEXT]!;
        link(s);
        s = n;
      }
    }
    for (let b = 0; b < FAR_BUCKETS; b++) {
      for (let s = this.bucketHead[b]!; s >= 0; ) {
        const n = m[(s << 4) + M_NEXT]!;
        link(s);
        s = n;
      }
    }
    if (lastOf >= 0) m[(lastOf << 4) + M_PREV] = -1;
    // Reset both parts around `now`.
    this.fb.fill(-1);
    this.occ.fill(0);
    this.occSum = 0;
    this.frontCount = 0;
    this.bucketHead.fill(-1);
    this.bucketTail.fill(-1);
    this.bucketMin.fill(Infinity);
    this.farOccLo = 0;
    this.farOccHi = 0;
    this.farCount = 0;
    this.minStaleLo = 0;
    this.minStaleHi = 0;
    this.farMin = Infinity;
    this.farMinExact = true;
    f64[0] = this.now;
    this.lastHi = u32[HI]! | 0;
    this.lastLo = u32[LO]! | 0;
    this.shift = shift;
    this.invW = 2 ** -shift;
    this.width = 2 ** shift;
    const c = Math.floor(this.now * this.invW);
    if (c < MAX_BUCKET) {
      this.cur = c;
      this.winEnd = (c + NB) * this.width;
    } else {
      // Beyond any window: everything goes to the far heap and is taken from there directly.
      this.cur = 0;
      this.winEnd = 0;
    }
    for (let s = first; s >= 0; ) {
      const n = m[(s << 4) + M_PREV]!;
      if (this.f[s << 3]! < this.winEnd) this.frontInsert(s);
      else this.farInsert(s);
      s = n;
    }
  }

  // ---- far radix heap ----

  /** A new event due at or after `winEnd` (or a NaN time): counted for width adaptation, then filed in the far heap. */
  private farSchedule(slot: number): void {
    const t = this.f[slot << 3]!;
    if (t !== t) {
      // Undo the filing begun in `file` (the slot goes back to the head of the free list), then throw.
      this.size--;
      this.m[(slot << 4) + M_NEXT] = this.freeHead;
      this.freeHead = slot;
      this.badTime(this.m[(slot << 4) + M_TARGET]!);
    }
    // farInsert, written out: a timeout is filed on nearly every completion.
    const m = this.m;
    const i = slot << 4;
    m[i + M_DBITS] = this.delayBits(slot);
    m[i + M_STATE] = FAR;
    f64[0] = t;
    const hx = (u32[HI]! | 0) ^ this.lastHi;
    let b: number;
    if (hx !== 0) b = 64 - Math.clz32(hx);
    else {
      const lx = (u32[LO]! | 0) ^ this.lastLo;
      b = lx === 0 ? 0 : 32 - Math.clz32(lx);
    }
    m[i + M_NEXT] = -1;
    m[i + M_FB] = b;
    const tail = this.bucketTail[b]!;
    m[i + M_PREV] = tail;
    if (tail < 0) {
      this.bucketHead[b] = slot;
      if (b < 32) this.farOccLo |= 1 << b;
      else this.farOccHi |= 1 << (b - 32);
    } else m[(tail << 4) + M_NEXT] = slot;
    this.bucketTail[b] = slot;
    if (t < this.bucketMin[b]!) this.bucketMin[b] = t;
    this.farCount++;
    if (t < this.farMin) this.farMin = t;
  }

  private farInsert(slot: number): void {
    const t = this.f[slot << 3]!;
    this.m[(slot << 4) + M_STATE] = FAR;
    this.m[(slot << 4) + M_DBITS] = this.delayBits(slot);
    this.farAppend(this.farBucket(slot), slot);
    this.farCount++;
    if (t < this.farMin) this.farMin = t;
  }

  /** Far bucket of a slot's time t: the bit length of (t XOR last), compared as bit patterns. */
  private farBucket(slot: number): number {
    f64[0] = this.f[slot << 3]!;
    const hx = (u32[HI]! | 0) ^ this.lastHi;
    if (hx !== 0) return 64 - Math.clz32(hx);
    const lx = (u32[LO]! | 0) ^ this.lastLo;
    return lx === 0 ? 0 : 32 - Math.clz32(lx);
  }

  private farAppend(b: number, slot: number): void {
    const m = this.m;
    const i = slot << 4;
    m[i + M_NEXT] = -1;
    m[i + M_FB] = b;
    const tail = this.bucketTail[b]!;
    m[i + M_PREV] = tail;
    if (tail < 0) {
      this.bucketHead[b] = slot;
      if (b < 32) this.farOccLo |= 1 << b;
      else this.farOccHi |= 1 << (b - 32);
    } else {
      m[(tail << 4) + M_NEXT] = slot;
    }
    this.bucketTail[b] = slot;
    const t = this.f[slot << 3]!;
    if (t < this.bucketMin[b]!) this.bucketMin[b] = t;
  }

  /** Lowest non-empty far bucket above 0, or -1. */
  private farLowest(): number {
    const lo = this.farOccLo & ~1;
    if (lo !== 0) return 31 - Math.clz32(lo & -lo);
    const hi = this.farOccHi;
    if (hi !== 0) return 63 - Math.clz32(hi & -hi);
    return -1;
  }

  private farClear(i: number): void {
    this.bucketHead[i] = -1;
    this.bucketTail[i] = -1;
    this.bucketMin[i] = Infinity;
    if (i < 32) {
      this.farOccLo &= ~(1 << i);
      this.minStaleLo &= ~(1 << i);
    } else {
      this.farOccHi &= ~(1 << (i - 32));
      this.minStaleHi &= ~(1 << (i - 32));
    }
  }

  /** Earliest far time (exact), Infinity when the far heap is empty. */
  private farPeek(): number {
    if (!this.farMinExact) {
      this.farMin = this.farFindMin();
      this.farMinExact = true;
    }
    return this.farMin;
  }

  /** Takes the earliest far event out (state left for the caller to set). Only called with farCount > 0. */
  private farPop(): number {
    const m = this.m;
    let slot = this.bucketHead[0]!;
    if (slot < 0) slot = this.farRefill();
    const rest = m[(slot << 4) + M_NEXT]!;
    this.bucketHead[0] = rest;
    if (rest < 0) {
      this.bucketTail[0] = -1;
      this.farOccLo &= ~1;
    } else m[(rest << 4) + M_PREV] = -1;
    this.farCount--;
    // The next minimum is at or after this one.
    this.farMinExact = this.farCount === 0;
    this.farMin = this.farCount === 0 ? Infinity : this.f[slot << 3]!;
    return slot;
  }

  /**
   * Far bucket 0 is empty: redistribute the lowest non-empty bucket around
   * its minimum (the new `last`; a lower bound when its earliest event was
   * cancelled, which still moves every event to a lower bucket) and return
   * the head of the new bucket 0. Only called with farCount > 0.
   */
  private farRefill(): number {
    const heads = this.bucketHead;
    const m = this.m;
    const f = this.f;
    this.farClear(0);
    for (;;) {
      const i = this.farLowest();
      let s = heads[i]!;
      const min = this.bucketMin[i]!;
      this.farClear(i);
      f64[0] = min;
      const lastHi = u32[HI]! | 0;
      const lastLo = u32[LO]! | 0;
      this.lastHi = lastHi;
      this.lastLo = lastLo;
      while (s >= 0) {
        const after = m[(s << 4) + M_NEXT]!;
        f64[0] = f[s << 3]!;
        const hx = (u32[HI]! | 0) ^ lastHi;
        let b: number;
        if (hx !== 0) b = 64 - Math.clz32(hx);
        else {
          const lx = (u32[LO]! | 0) ^ lastLo;
          b = lx === 0 ? 0 : 32 - Math.clz32(lx);
        }
        this.farAppend(b, s);
        s = after;
      }
      // Bucket 0 now lists the events due at `min` in their order; if `min` was a cancelled event's time it is empty.
      if (heads[0]! >= 0) return heads[0]!;
    }
  }

  /** Earliest pending far time, without changing `last`. */
  private farFindMin(): number {
    if (this.farCount === 0) return Infinity;
    const head0 = this.bucketHead[0]!;
    // Bucket 0 holds only events due at `last`, and every far event is due at or after it.
    if (head0 >= 0) return this.f[head0 << 3]!;
    const i = this.farLowest();
    const stale = i < 32 ? (this.minStaleLo >>> i) & 1 : (this.minStaleHi >>> (i - 32)) & 1;
    if (stale !== 0) {
      // Its earliest event was cancelled: find the earliest left (every event of a higher bucket is later).
      let min = Infinity;
      for (let s = this.bucketHead[i]!; s >= 0; s = this.m[(s << 4) + M_NEXT]!) {
        const t = this.f[s << 3]!;
        if (t < min) min = t;
      }
      this.bucketMin[i] = min;
      if (i < 32) this.minStaleLo &= ~(1 << i);
      else this.minStaleHi &= ~(1 << (i - 32));
    }
    return this.bucketMin[i]!;
  }

  /** Doubles the slot arrays (when the last free slot is taken): the new slots become the free list. */
  private grow(): void {
    const old = this.cap;
    const cap = old * 2;
    const buf = new ArrayBuffer(RECORD * cap);
    new Uint8Array(buf).set(new Uint8Array(this.f.buffer));
    this.f = new Float64Array(buf);
    this.m = new Int32Array(buf);
    this.cap = cap;
    this.freeHead = this.linkFree(old, cap);
  }
}
