import type { Duration, SimTime } from './time.js';

/**
 * The one event queue. Events are data — (target, kind, a0, a1) — ordered by
 * (time, sequence): equal-time events run in the order they were scheduled.
 * Scheduling and dispatching allocate nothing (arrays double when full, which
 * is amortised, not per event).
 *
 * Storage is a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990), which fits
 * because the queue is monotone: nothing is scheduled before `now`. Each
 * pending event sits in bucket b = the bit length of (its time XOR `last`),
 * where `last` is the time of the most recent dispatch, compared as the
 * IEEE-754 bit patterns (monotone in value for non-negative doubles, so any
 * SimTime works). Bucket 0 holds events due exactly at `last`, in FIFO order.
 * When it runs dry, the lowest non-empty bucket is redistributed around its
 * minimum, which becomes the new `last`; every event moves to a lower bucket,
 * so each moves at most 64 times and usually a few. Events with equal times
 * are always in the same bucket and are appended and redistributed in order,
 * so FIFO order among them needs no sequence number.
 *
 * `last` only changes when an event is dispatched, so it never passes `now`
 * and every event scheduled later lands at or above it. Cancelling marks the
 * slot; the entry is dropped when its bucket is next walked.
 *
 * A target is a handler registered once at construction (`register`), the
 * rp2040js "alarms created once" idea: devices keep their target id and
 * schedule numbers against it.
 */
export type EventHandler = (kind: number, a0: number, a1: number) => void;

/** A cancellable handle: slot index + generation packed in one number. */
export type EventHandle = number;
export const NO_EVENT: EventHandle = -1;

const GEN_SHIFT = 2 ** 24; // slots < 16M; generation in the upper bits
/** Times are non-negative, so their sign bits never differ: buckets 0..63. */
const BUCKETS = 64;

// Slot states.
const FREE = 0;
const PENDING = 1;
/** Cancelled, still listed in a bucket until that bucket is next walked. */
const CANCELLED = 2;

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
  // Per slot: time (and its bit pattern), data, handle generation and state.
  private times: Float64Array;
  private keyHi: Int32Array;
  private keyLo: Int32Array;
  private targets: Int32Array;
  private kinds: Int32Array;
  private a0s: Float64Array;
  private a1s: Float64Array;
  private gens: Int32Array;
  private state: Uint8Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  // Buckets: FIFO lists of slots linked through `next` (-1 ends a list).
  private next: Int32Array;
  private readonly bucketHead = new Int32Array(BUCKETS).fill(-1);
  private readonly bucketTail = new Int32Array(BUCKETS).fill(-1);
  /** Lower bound of the times listed in each bucket (exact unless the minimum was cancelled); Infinity when empty. */
  private readonly bucketMin = new Float64Array(BUCKETS).fill(Infinity);
  /** One bit per non-empty bucket: buckets 0..31 in `occLo`, 32..63 in `occHi`. */
  private occLo = 0;
  private occHi = 0;
  /** Bit pattern of `last`, the time of the most recent dispatch. */
  private lastHi = 0;
  private lastLo = 0;
  /** Pending (not cancelled) events. */
  private size = 0;
  /** Cancelled entries still in buckets. */
  private tombs = 0;
  /** Earliest pending time when `minValid`. */
  private minTime = Infinity;
  private minValid = true;

  constructor(initialCapacity = 1024) {
    const n = Math.max(1, initialCapacity);
    this.cap = n;
    this.times = new Float64Array(n);
    this.keyHi = new Int32Array(n);
    this.keyLo = new Int32Array(n);
    this.next = new Int32Array(n);
    this.targets = new Int32Array(n);
    this.kinds = new Int32Array(n);
    this.a0s = new Float64Array(n);
    this.a1s = new Float64Array(n);
    this.gens = new Int32Array(n);
    this.state = new Uint8Array(n);
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
    this.state[slot] = PENDING;
    f64[0] = t;
    const hi = u32[HI]! | 0;
    const lo = u32[LO]! | 0;
    this.keyHi[slot] = hi;
    this.keyLo[slot] = lo;
    this.append(this.bucketOf(hi, lo), slot, t);
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
    if (!this.isPending(handle)) return false;
    const slot = handle % GEN_SHIFT;
    this.state[slot] = CANCELLED;
    this.gens[slot] = (this.gens[slot]! + 1) & 0x1fffff;
    this.size--;
    this.tombs++;
    if (this.times[slot] === this.minTime) this.minValid = false;
    if (this.tombs > 64 && this.tombs > this.size) this.purge();
    return true;
  }

  isPending(handle: EventHandle): boolean {
    if (handle < 0) return false;
    const slot = handle % GEN_SHIFT;
    return slot < this.cap && this.gens[slot] === Math.floor(handle / GEN_SHIFT) && this.state[slot] === PENDING;
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
    const state = this.state;
    const next = this.next;
    let slot = this.bucketHead[0]!;
    while (slot >= 0 && state[slot] !== PENDING) {
      const n = next[slot]!;
      this.dropTomb(slot);
      slot = n;
    }
    if (slot < 0) slot = this.refill();
    // Unlink from bucket 0.
    const rest = next[slot]!;
    this.bucketHead[0] = rest;
    if (rest < 0) {
      this.bucketTail[0] = -1;
      this.occLo &= ~1;
    }
    // Read the event before releasing its slot: the handler may reuse it.
    const target = this.targets[slot]!;
    const kind = this.kinds[slot]!;
    const a0 = this.a0s[slot]!;
    const a1 = this.a1s[slot]!;
    const now = this.times[slot]!;
    this.now = now as SimTime;
    state[slot] = FREE;
    this.gens[slot] = (this.gens[slot]! + 1) & 0x1fffff;
    this.freeSlots[this.freeCount++] = slot;
    this.size--;
    // The minimum is recomputed when asked (cheap without tombstones: bucket 0's head or a bucket minimum).
    this.minValid = false;
    this.dispatched++;
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

  /** Bucket of the time with bit pattern (hi, lo) relative to `last`: the bit length of the XOR of the patterns. */
  private bucketOf(hi: number, lo: number): number {
    const hx = hi ^ this.lastHi;
    if (hx !== 0) return 64 - Math.clz32(hx);
    const lx = lo ^ this.lastLo;
    return lx === 0 ? 0 : 32 - Math.clz32(lx);
  }

  private append(b: number, slot: number, t: number): void {
    this.next[slot] = -1;
    const tail = this.bucketTail[b]!;
    if (tail < 0) {
      this.bucketHead[b] = slot;
      if (b < 32) this.occLo |= 1 << b;
      else this.occHi |= 1 << (b - 32);
    } else {
      this.next[tail] = slot;
    }
    this.bucketTail[b] = slot;
    if (t < this.bucketMin[b]!) this.bucketMin[b] = t;
  }

  /** Lowest non-empty bucket above 0, or -1. */
  private lowestBucket(): number {
    const lo = this.occLo & ~1;
    if (lo !== 0) return 31 - Math.clz32(lo & -lo);
    const hi = this.occHi;
    if (hi !== 0) return 63 - Math.clz32(hi & -hi);
    return -1;
  }

  private clearBucket(i: number): void {
    this.bucketHead[i] = -1;
    this.bucketTail[i] = -1;
    this.bucketMin[i] = Infinity;
    if (i < 32) this.occLo &= ~(1 << i);
    else this.occHi &= ~(1 << (i - 32));
  }

  private dropTomb(slot: number): void {
    this.state[slot] = FREE;
    this.freeSlots[this.freeCount++] = slot;
    this.tombs--;
  }

  /**
   * Bucket 0 has no pending event left: redistribute the lowest non-empty
   * bucket around its minimum (the new `last`) and return the first pending
   * event of the new bucket 0. Only called with size > 0.
   */
  private refill(): number {
    const heads = this.bucketHead;
    this.clearBucket(0);
    for (;;) {
      const i = this.lowestBucket();
      let s = heads[i]!;
      const m = this.bucketMin[i]!;
      this.clearBucket(i);
      // Redistribute around m (at or below every time listed here; exact unless that event was cancelled).
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
        if (state[s] !== PENDING) {
          this.dropTomb(s);
        } else {
          const hx = keyHi[s]! ^ lastHi;
          let b: number;
          if (hx !== 0) b = 64 - Math.clz32(hx);
          else {
            const lx = keyLo[s]! ^ lastLo;
            b = lx === 0 ? 0 : 32 - Math.clz32(lx);
          }
          this.append(b, s, times[s]!);
        }
        s = after;
      }
      // Bucket 0 now lists the events due at m in their order; if m was a cancelled event's time it may be empty.
      if (heads[0]! >= 0) return heads[0]!;
    }
  }

  /** Earliest pending time, without changing `last` (which must not pass `now`). */
  private findMin(): number {
    if (this.size === 0) return Infinity;
    const head0 = this.bucketHead[0]!;
    // Without tombstones every listed event is pending and bucket minima are exact.
    if (this.tombs === 0) return head0 >= 0 ? this.times[head0]! : this.bucketMin[this.lowestBucket()]!;
    const state = this.state;
    const next = this.next;
    for (let s = head0; s >= 0; s = next[s]!) if (state[s] === PENDING) return this.times[s]!;
    for (let i = 1; i < BUCKETS; i++) {
      let m = Infinity;
      let any = false;
      for (let s = this.bucketHead[i]!; s >= 0; s = next[s]!) {
        if (state[s] !== PENDING) continue;
        any = true;
        if (this.times[s]! < m) m = this.times[s]!;
      }
      // Every pending event of a higher bucket is later than any of this one.
      if (any) return m;
    }
    return Infinity;
  }

  /** Drops every cancelled entry (keeping the order of the rest): bounds memory when many events are cancelled. */
  private purge(): void {
    const state = this.state;
    const next = this.next;
    for (let b = 0; b < BUCKETS; b++) {
      let s = this.bucketHead[b]!;
      this.clearBucket(b);
      while (s >= 0) {
        const after = next[s]!;
        if (state[s] === PENDING) this.append(b, s, this.times[s]!);
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
