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
 * past many events, wider when many events land beyond the window. A resize
 * re-files every event; each group of equal-time events is always in one
 * list (a front bucket or a far bucket) in its order, and is re-filed in
 * that order, so the dispatch order never depends on the width.
 *
 * Cancelling unlinks a front event at once; a far event is marked and
 * dropped when its bucket is next walked.
 *
 * A target is a handler registered once at construction (`register`), the
 * rp2040js "alarms created once" idea: devices keep their target id and
 * schedule numbers against it.
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

// Slot states.
const FREE = 0;
/** Pending, in a front bucket. */
const FRONT = 1;
/** Pending, in the far heap. */
const FAR = 2;
/** Cancelled, still listed in a far bucket until that bucket is next walked. */
const CANCELLED = 3;

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

  private handlers: EventHandler[] = [];
  private targetNames: string[] = [];
  private cap: number;
  // Per slot: time, data, handle generation and state; list links (front: both, far: `next`); far key bits.
  private times: Float64Array;
  private targets: Int32Array;
  private kinds: Int32Array;
  private a0s: Float64Array;
  private a1s: Float64Array;
  private gens: Int32Array;
  private state: Uint8Array;
  private next: Int32Array;
  private prev: Int32Array;
  private keyHi: Int32Array;
  private keyLo: Int32Array;
  private freeSlots: Int32Array;
  private freeCount: number;

  /** Pending (not cancelled) events. */
  private size = 0;
  /** Earliest pending time when `minValid`. */
  private minTime = Infinity;
  private minValid = true;

  // Front calendar.
  private shift = 0;
  /** 2^-shift (exact). */
  private invW = 1;
  /** Absolute bucket number of position `cur & MASK`; every front event is at or after it. */
  private cur = 0;
  /** (cur + NB) * W: front events are before it, far events at or after it. */
  private winEnd = NB;
  private frontCount = 0;
  private readonly fHead = new Int32Array(NB).fill(-1);
  private readonly fTail = new Int32Array(NB).fill(-1);
  private readonly occ = new Int32Array(WORDS);

  // Far radix heap.
  private farCount = 0;
  private tombs = 0;
  private readonly bucketHead = new Int32Array(FAR_BUCKETS).fill(-1);
  private readonly bucketTail = new Int32Array(FAR_BUCKETS).fill(-1);
  /** Lower bound of the times listed in each far bucket; Infinity when empty. */
  private readonly bucketMin = new Float64Array(FAR_BUCKETS).fill(Infinity);
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
  private inserts = 0;
  private walks = 0;
  private farInserts = 0;
  /** Far inserts by bit length of the delay (time - now, whole ps). */
  private readonly farDelayBits = new Int32Array(64);

  /** `epoch`: dispatches between width adjustments (tests pass small values to exercise re-filing). */
  constructor(initialCapacity = 1024, epoch = EPOCH) {
    const n = Math.max(1, initialCapacity);
    this.epoch = Math.max(1, epoch);
    this.epochLeft = Math.min(FIRST_EPOCH, this.epoch);
    this.cap = n;
    this.times = new Float64Array(n);
    this.targets = new Int32Array(n);
    this.kinds = new Int32Array(n);
    this.a0s = new Float64Array(n);
    this.a1s = new Float64Array(n);
    this.gens = new Int32Array(n);
    this.state = new Uint8Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.keyHi = new Int32Array(n);
    this.keyLo = new Int32Array(n);
    this.freeSlots = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeSlots[i] = n - 1 - i;
    this.freeCount = n;
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
    // `+ 0` turns -0 into +0 (whose bit pattern sorts first).
    const t = time < this.now ? this.now : time + 0;
    if (t !== t) throw new RangeError(`event time is NaN (target ${this.targetName(target)})`);
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.times[slot] = t;
    this.targets[slot] = target;
    this.kinds[slot] = kind;
    this.a0s[slot] = a0;
    this.a1s[slot] = a1;
    this.inserts++;
    if (t < this.winEnd) this.frontInsert(slot, t);
    else {
      this.farInserts++;
      this.countFarDelay(t - this.now);
      this.farInsert(slot, t);
    }
    this.size++;
    if (this.minValid && t < this.minTime) this.minTime = t;
    return this.gens[slot]! * GEN_SHIFT + slot;
  }

  /** Schedules `delay` after `now`. */
  schedule(delay: Duration, target: number, kind = 0, a0 = 0, a1 = 0): EventHandle {
    return this.scheduleAt((this.now + delay) as SimTime, target, kind, a0, a1);
  }

  /** Cancels a pending event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    // Slot and generation by multiply and floor: `%` on a double is a call out of the JIT's code.
    if (!(handle >= 0)) return false;
    const gen = Math.floor(handle * INV_GEN_SHIFT);
    const slot = handle - gen * GEN_SHIFT;
    if (slot >= this.cap || this.gens[slot] !== gen) return false;
    const st = this.state[slot]!;
    if (st !== FRONT && st !== FAR) return false;
    this.gens[slot] = (this.gens[slot]! + 1) & 0x1fffff;
    this.size--;
    const t = this.times[slot]!;
    if (t === this.minTime) this.minValid = false;
    if (st === FRONT) {
      this.frontUnlink(slot);
      this.release(slot);
    } else {
      this.state[slot] = CANCELLED;
      this.farCount--;
      this.tombs++;
      if (t === this.farMin) this.farMinExact = false;
      if (this.tombs > 64 && this.tombs > this.farCount) this.purge();
    }
    return true;
  }

  isPending(handle: EventHandle): boolean {
    if (!(handle >= 0)) return false;
    const gen = Math.floor(handle * INV_GEN_SHIFT);
    const slot = handle - gen * GEN_SHIFT;
    if (slot >= this.cap || this.gens[slot] !== gen) return false;
    const s = this.state[slot]!;
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
    let slot = this.fHead[b]!;
    if (slot < 0) {
      slot = this.advance();
      b = this.cur & MASK;
    }
    // Unlink the head of bucket b.
    const rest = this.next[slot]!;
    this.fHead[b] = rest;
    if (rest < 0) {
      this.fTail[b] = -1;
      this.occ[b >>> 5] = this.occ[b >>> 5]! & ~(1 << (b & 31));
    } else this.prev[rest] = -1;
    this.frontCount--;
    // Read the event before releasing its slot: the handler may reuse it.
    const target = this.targets[slot]!;
    const kind = this.kinds[slot]!;
    const a0 = this.a0s[slot]!;
    const a1 = this.a1s[slot]!;
    this.now = this.times[slot]! as SimTime;
    this.state[slot] = FREE;
    this.gens[slot] = (this.gens[slot]! + 1) & 0x1fffff;
    this.freeSlots[this.freeCount++] = slot;
    this.size--;
    // The minimum is recomputed when asked (bucket b's new head when there is one).
    this.minValid = false;
    this.dispatched++;
    if (--this.epochLeft === 0) this.adapt();
    this.handlers[target]!(kind, a0, a1);
    return true;
  }

  /** Dispatches every event due at or before `time`, then sets `now` to it. */
  runUntil(time: number): void {
    // Small enough to inline into every device access (Core.sync); the loop is out of line.
    if (this.size !== 0 && this.peekTime() <= time) this.runDue(time);
    if (time > this.now) this.now = time as SimTime;
  }

  /** Sets `now` to `time` if that is later; the caller knows no event is due by then. */
  advanceTo(time: number): void {
    if (time > this.now) this.now = time as SimTime;
  }

  private runDue(time: number): void {
    do this.step();
    while (this.size !== 0 && this.peekTime() <= time);
  }

  private release(slot: number): void {
    this.state[slot] = FREE;
    this.freeSlots[this.freeCount++] = slot;
  }

  // ---- front ----

  /** Files a pending event due before `winEnd` into its bucket, after every listed event due at or before it. */
  private frontInsert(slot: number, t: number): void {
    this.state[slot] = FRONT;
    this.frontCount++;
    const b = Math.floor(t * this.invW) & MASK;
    const next = this.next;
    const prev = this.prev;
    const tail = this.fTail[b]!;
    if (tail < 0) {
      this.fHead[b] = slot;
      this.fTail[b] = slot;
      next[slot] = -1;
      prev[slot] = -1;
      this.occ[b >>> 5] = this.occ[b >>> 5]! | (1 << (b & 31));
      return;
    }
    const times = this.times;
    if (times[tail]! <= t) {
      next[tail] = slot;
      prev[slot] = tail;
      next[slot] = -1;
      this.fTail[b] = slot;
      return;
    }
    // Walk back from the tail to the last event due at or before t.
    let s = prev[tail]!;
    let walked = 1;
    while (s >= 0 && times[s]! > t) {
      s = prev[s]!;
      walked++;
    }
    this.walks += walked;
    const after = s < 0 ? this.fHead[b]! : next[s]!;
    prev[slot] = s;
    next[slot] = after;
    prev[after] = slot;
    if (s < 0) this.fHead[b] = slot;
    else next[s] = slot;
  }

  private frontUnlink(slot: number): void {
    const n = this.next[slot]!;
    const p = this.prev[slot]!;
    const b = Math.floor(this.times[slot]! * this.invW) & MASK;
    if (p < 0) this.fHead[b] = n;
    else this.next[p] = n;
    if (n < 0) this.fTail[b] = p;
    else this.prev[n] = p;
    if (this.fHead[b]! < 0) this.occ[b >>> 5] = this.occ[b >>> 5]! & ~(1 << (b & 31));
    this.frontCount--;
  }

  /** Distance from position p to the next non-empty front bucket (circular), or -1 if the front is empty. */
  private nextOccupied(p: number): number {
    const occ = this.occ;
    let w = p >>> 5;
    let bits = occ[w]! & (-1 << (p & 31));
    let base = w << 5;
    for (let i = 0; i <= WORDS; i++) {
      if (bits !== 0) {
        const pos = base + (31 - Math.clz32(bits & -bits));
        return (pos - p) & MASK;
      }
      w = (w + 1) & (WORDS - 1);
      bits = occ[w]!;
      base = w << 5;
    }
    return -1;
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
    this.winEnd = (this.cur + NB) / this.invW;
    if (this.farCount > 0 && this.farMin < this.winEnd) this.pull();
    return this.fHead[this.cur & MASK]!;
  }

  /**
   * The earliest event is beyond any window (time 2^52 W or more, or
   * Infinity): file it alone in the current bucket (it is the only pending
   * event due then or earlier, and the front is empty).
   */
  private takeFarDirect(): number {
    const slot = this.farPop();
    const b = this.cur & MASK;
    this.state[slot] = FRONT;
    this.frontCount++;
    this.fHead[b] = slot;
    this.fTail[b] = slot;
    this.next[slot] = -1;
    this.prev[slot] = -1;
    this.occ[b >>> 5] = this.occ[b >>> 5]! | (1 << (b & 31));
    return slot;
  }

  /** Moves every far event due before `winEnd` to the front, in order. */
  private pull(): void {
    const end = this.winEnd;
    while (this.farCount > 0 && this.farPeek() < end) {
      const slot = this.farPop();
      this.frontInsert(slot, this.times[slot]!);
    }
  }

  private findMin(): number {
    if (this.size === 0) return Infinity;
    if (this.frontCount > 0) {
      const p = this.cur & MASK;
      const head = this.fHead[p]!;
      if (head >= 0) return this.times[head]!;
      return this.times[this.fHead[(p + this.nextOccupied(p)) & MASK]!]!;
    }
    return this.farPeek();
  }

  // ---- width adaptation ----

  private countFarDelay(d: number): void {
    // Bit length of the whole-ps delay (0 for under 1 ps; 53 or more for huge delays).
    let bits: number;
    if (d < 1) bits = 0;
    else if (d < 4294967296) bits = 32 - Math.clz32(d);
    else if (d < 2 ** 63) bits = 64 - Math.clz32(Math.floor(d / 4294967296));
    else bits = 63;
    const i = bits > 63 ? 63 : bits;
    this.farDelayBits[i] = this.farDelayBits[i]! + 1;
  }

  /**
   * Once per epoch: narrow the buckets when sorted inserts walked past more
   * than about one event per insert, widen them so the window covers most
   * delays when more than an eighth of the inserts went beyond it.
   */
  private adapt(): void {
    this.epochLeft = this.epoch;
    const inserts = this.inserts;
    const walks = this.walks;
    const far = this.farInserts;
    this.inserts = 0;
    this.walks = 0;
    this.farInserts = 0;
    let shift = this.shift;
    if (walks > inserts && shift > 0) {
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
    // Chain every pending event (front, then far) through `prev` into one list; drop far tombstones.
    let first = -1;
    let lastOf = -1;
    const link = (s: number): void => {
      if (lastOf < 0) first = s;
      else this.prev[lastOf] = s;
      lastOf = s;
    };
    for (let p = 0; p < NB; p++) {
      for (let s = this.fHead[p]!; s >= 0; ) {
        const n = this.next[s]!;
        link(s);
        s = n;
      }
    }
    for (let b = 0; b < FAR_BUCKETS; b++) {
      for (let s = this.bucketHead[b]!; s >= 0; ) {
        const n = this.next[s]!;
        if (this.state[s] === CANCELLED) this.release(s);
        else link(s);
        s = n;
      }
    }
    if (lastOf >= 0) this.prev[lastOf] = -1;
    // Reset both parts around `now`.
    this.fHead.fill(-1);
    this.fTail.fill(-1);
    this.occ.fill(0);
    this.frontCount = 0;
    this.bucketHead.fill(-1);
    this.bucketTail.fill(-1);
    this.bucketMin.fill(Infinity);
    this.farOccLo = 0;
    this.farOccHi = 0;
    this.farCount = 0;
    this.tombs = 0;
    this.farMin = Infinity;
    this.farMinExact = true;
    f64[0] = this.now;
    this.lastHi = u32[HI]! | 0;
    this.lastLo = u32[LO]! | 0;
    this.shift = shift;
    this.invW = 2 ** -shift;
    const c = Math.floor(this.now * this.invW);
    if (c < MAX_BUCKET) {
      this.cur = c;
      this.winEnd = (c + NB) / this.invW;
    } else {
      // Beyond any window: everything goes to the far heap and is taken from there directly.
      this.cur = 0;
      this.winEnd = 0;
    }
    for (let s = first; s >= 0; ) {
      const n = this.prev[s]!;
      const t = this.times[s]!;
      if (t < this.winEnd) this.frontInsert(s, t);
      else this.farInsert(s, t);
      s = n;
    }
  }

  // ---- far radix heap ----

  private farInsert(slot: number, t: number): void {
    this.state[slot] = FAR;
    f64[0] = t;
    const hi = u32[HI]! | 0;
    const lo = u32[LO]! | 0;
    this.keyHi[slot] = hi;
    this.keyLo[slot] = lo;
    const hx = hi ^ this.lastHi;
    let b: number;
    if (hx !== 0) b = 64 - Math.clz32(hx);
    else {
      const lx = lo ^ this.lastLo;
      b = lx === 0 ? 0 : 32 - Math.clz32(lx);
    }
    this.farAppend(b, slot, t);
    this.farCount++;
    if (t < this.farMin) this.farMin = t;
  }

  private farAppend(b: number, slot: number, t: number): void {
    this.next[slot] = -1;
    const tail = this.bucketTail[b]!;
    if (tail < 0) {
      this.bucketHead[b] = slot;
      if (b < 32) this.farOccLo |= 1 << b;
      else this.farOccHi |= 1 << (b - 32);
    } else {
      this.next[tail] = slot;
    }
    this.bucketTail[b] = slot;
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
    if (i < 32) this.farOccLo &= ~(1 << i);
    else this.farOccHi &= ~(1 << (i - 32));
  }

  private dropTomb(slot: number): void {
    this.release(slot);
    this.tombs--;
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
    const state = this.state;
    const next = this.next;
    let slot = this.bucketHead[0]!;
    while (slot >= 0 && state[slot] !== FAR) {
      const n = next[slot]!;
      this.dropTomb(slot);
      slot = n;
    }
    if (slot < 0) slot = this.farRefill();
    const rest = next[slot]!;
    this.bucketHead[0] = rest;
    if (rest < 0) {
      this.bucketTail[0] = -1;
      this.farOccLo &= ~1;
    }
    this.farCount--;
    // The next minimum is at or after this one.
    this.farMinExact = this.farCount === 0;
    this.farMin = this.farCount === 0 ? Infinity : this.times[slot]!;
    return slot;
  }

  /**
   * Far bucket 0 has no pending event left: redistribute the lowest non-empty
   * bucket around its minimum (the new `last`) and return the first pending
   * event of the new bucket 0. Only called with farCount > 0.
   */
  private farRefill(): number {
    const heads = this.bucketHead;
    this.farClear(0);
    for (;;) {
      const i = this.farLowest();
      let s = heads[i]!;
      const m = this.bucketMin[i]!;
      this.farClear(i);
      f64[0] = m;
      const lastHi = u32[HI]! | 0;
      const lastLo = u32[LO]! | 0;
      this.lastHi = lastHi;
      this.lastLo = lastLo;
      const state = this.state;
      const keyHi = this.keyHi;
      const keyLo = this.keyLo;
      const times = this.times;
      const next = this.next;
      while (s >= 0) {
        const after = next[s]!;
        if (state[s] !== FAR) {
          this.dropTomb(s);
        } else {
          const hx = keyHi[s]! ^ lastHi;
          let b: number;
          if (hx !== 0) b = 64 - Math.clz32(hx);
          else {
            const lx = keyLo[s]! ^ lastLo;
            b = lx === 0 ? 0 : 32 - Math.clz32(lx);
          }
          this.farAppend(b, s, times[s]!);
        }
        s = after;
      }
      // Bucket 0 now lists the events due at m in their order; if m was a cancelled event's time it may be empty.
      if (heads[0]! >= 0) return heads[0]!;
    }
  }

  /** Earliest pending far time, without changing `last`. */
  private farFindMin(): number {
    if (this.farCount === 0) return Infinity;
    const head0 = this.bucketHead[0]!;
    if (this.tombs === 0) return head0 >= 0 ? this.times[head0]! : this.bucketMin[this.farLowest()]!;
    const state = this.state;
    const next = this.next;
    for (let s = head0; s >= 0; s = next[s]!) if (state[s] === FAR) return this.times[s]!;
    for (let i = 1; i < FAR_BUCKETS; i++) {
      let m = Infinity;
      let any = false;
      for (let s = this.bucketHead[i]!; s >= 0; s = next[s]!) {
        if (state[s] !== FAR) continue;
        any = true;
        if (this.times[s]! < m) m = this.times[s]!;
      }
      // Every pending event of a higher bucket is later than any of this one.
      if (any) return m;
    }
    return Infinity;
  }

  /** Drops every cancelled far entry (keeping the order of the rest): bounds memory when many events are cancelled. */
  private purge(): void {
    const state = this.state;
    const next = this.next;
    for (let b = 0; b < FAR_BUCKETS; b++) {
      let s = this.bucketHead[b]!;
      this.farClear(b);
      while (s >= 0) {
        const after = next[s]!;
        if (state[s] === FAR) this.farAppend(b, s, this.times[s]!);
        else this.dropTomb(s);
        s = after;
      }
    }
  }

  private grow(): void {
    const old = this.cap;
    const cap = old * 2;
    const growF = (a: Float64Array) => { const n = new Float64Array(cap); n.set(a); return n; };
    const growI = (a: Int32Array) => { const n = new Int32Array(cap); n.set(a); return n; };
    this.times = growF(this.times);
    this.keyHi = growI(this.keyHi);
    this.keyLo = growI(this.keyLo);
    this.next = growI(this.next);
    this.prev = growI(this.prev);
    this.a0s = growF(this.a0s);
    this.a1s = growF(this.a1s);
    this.targets = growI(this.targets);
    this.kinds = growI(this.kinds);
    this.gens = growI(this.gens);
    const st = new Uint8Array(cap);
    st.set(this.state);
    this.state = st;
    const free = new Int32Array(cap);
    free.set(this.freeSlots.subarray(0, this.freeCount));
    for (let s = cap - 1; s >= old; s--) free[this.freeCount++] = s;
    this.freeSlots = free;
    this.cap = cap;
  }
}
