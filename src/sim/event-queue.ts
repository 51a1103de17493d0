import type { Duration, SimTime } from './time.js';

/**
 * The one event queue. Events are data — (target, kind, a0, a1) — ordered by
 * (time, sequence); the sequence only grows, so equal-time events run in the
 * order they were scheduled. Storage is a binary heap of slot indices over
 * parallel typed arrays: scheduling and dispatching allocate nothing (the
 * arrays double when full, which is amortised, not per event).
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

export class EventQueue {
  /** Time of the event being (or last) dispatched. */
  now: SimTime = 0 as SimTime;
  /** Number of events dispatched so far. */
  dispatched = 0;

  private handlers: EventHandler[] = [];
  private targetNames: string[] = [];
  private cap: number;
  private times: Float64Array;
  private seqs: Float64Array;
  private targets: Int32Array;
  private kinds: Int32Array;
  private a0s: Float64Array;
  private a1s: Float64Array;
  private gens: Int32Array;
  private heapPos: Int32Array; // slot -> heap index, -1 when free
  private heap: Int32Array; // heap index -> slot
  private size = 0;
  private freeSlots: Int32Array;
  private freeCount: number;
  private nextSeq = 0;

  constructor(initialCapacity = 1024) {
    this.cap = initialCapacity;
    this.times = new Float64Array(initialCapacity);
    this.seqs = new Float64Array(initialCapacity);
    this.targets = new Int32Array(initialCapacity);
    this.kinds = new Int32Array(initialCapacity);
    this.a0s = new Float64Array(initialCapacity);
    this.a1s = new Float64Array(initialCapacity);
    this.gens = new Int32Array(initialCapacity);
    this.heapPos = new Int32Array(initialCapacity).fill(-1);
    this.heap = new Int32Array(initialCapacity);
    this.freeSlots = new Int32Array(initialCapacity);
    for (let i = 0; i < initialCapacity; i++) this.freeSlots[i] = initialCapacity - 1 - i;
    this.freeCount = initialCapacity;
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
    if (time < this.now) time = this.now;
    if (this.freeCount === 0) this.grow();
    const slot = this.freeSlots[--this.freeCount]!;
    this.times[slot] = time;
    this.seqs[slot] = this.nextSeq++;
    this.targets[slot] = target;
    this.kinds[slot] = kind;
    this.a0s[slot] = a0;
    this.a1s[slot] = a1;
    const i = this.size++;
    this.heap[i] = slot;
    this.heapPos[slot] = i;
    this.siftUp(i);
    return this.gens[slot]! * GEN_SHIFT + slot;
  }

  /** Schedules `delay` after `now`. */
  schedule(delay: Duration, target: number, kind = 0, a0 = 0, a1 = 0): EventHandle {
    return this.scheduleAt((this.now + delay) as SimTime, target, kind, a0, a1);
  }

  /** Cancels a pending event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    if (handle < 0) return false;
    const slot = handle % GEN_SHIFT;
    const gen = Math.floor(handle / GEN_SHIFT);
    if (slot >= this.cap || this.gens[slot] !== gen) return false;
    const i = this.heapPos[slot]!;
    if (i < 0) return false;
    this.removeAt(i);
    this.release(slot);
    return true;
  }

  isPending(handle: EventHandle): boolean {
    if (handle < 0) return false;
    const slot = handle % GEN_SHIFT;
    return slot < this.cap && this.gens[slot] === Math.floor(handle / GEN_SHIFT) && this.heapPos[slot]! >= 0;
  }

  /** Time of the earliest pending event, or +Infinity. */
  peekTime(): number {
    return this.size === 0 ? Infinity : this.times[this.heap[0]!]!;
  }

  /** Dispatches the earliest event. Returns false if the queue is empty. */
  step(): boolean {
    if (this.size === 0) return false;
    const slot = this.heap[0]!;
    this.removeAt(0);
    const target = this.targets[slot]!;
    const kind = this.kinds[slot]!;
    const a0 = this.a0s[slot]!;
    const a1 = this.a1s[slot]!;
    this.now = this.times[slot]! as SimTime;
    this.release(slot);
    this.dispatched++;
    this.handlers[target]!(kind, a0, a1);
    return true;
  }

  /** Dispatches every event due at or before `time`, then sets `now` to it. */
  runUntil(time: number): void {
    while (this.size !== 0 && this.times[this.heap[0]!]! <= time) this.step();
    if (time > this.now) this.now = time as SimTime;
  }

  private release(slot: number): void {
    this.heapPos[slot] = -1;
    this.gens[slot] = (this.gens[slot]! + 1) & 0x1fffff;
    this.freeSlots[this.freeCount++] = slot;
  }

  private less(sa: number, sb: number): boolean {
    const ta = this.times[sa]!;
    const tb = this.times[sb]!;
    return ta < tb || (ta === tb && this.seqs[sa]! < this.seqs[sb]!);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const slot = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = heap[parent]!;
      if (!this.less(slot, ps)) break;
      heap[i] = ps;
      this.heapPos[ps] = i;
      i = parent;
    }
    heap[i] = slot;
    this.heapPos[slot] = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = this.size;
    const slot = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(heap[r]!, heap[l]!)) c = r;
      const cs = heap[c]!;
      if (!this.less(cs, slot)) break;
      heap[i] = cs;
      this.heapPos[cs] = i;
      i = c;
    }
    heap[i] = slot;
    this.heapPos[slot] = i;
  }

  private removeAt(i: number): void {
    const last = --this.size;
    if (i === last) return;
    const moved = this.heap[last]!;
    this.heap[i] = moved;
    this.heapPos[moved] = i;
    if (i > 0 && this.less(moved, this.heap[(i - 1) >> 1]!)) this.siftUp(i);
    else this.siftDown(i);
  }

  private grow(): void {
    const old = this.cap;
    const cap = old * 2;
    const growF = (a: Float64Array) => { const n = new Float64Array(cap); n.set(a); return n; };
    const growI = (a: Int32Array, fill = 0) => { const n = new Int32Array(cap).fill(fill); n.set(a); return n; };
    this.times = growF(this.times);
    this.seqs = growF(this.seqs);
    this.a0s = growF(this.a0s);
    this.a1s = growF(this.a1s);
    this.targets = growI(this.targets);
    this.kinds = growI(this.kinds);
    this.gens = growI(this.gens);
    this.heapPos = growI(this.heapPos, -1);
    this.heap = growI(this.heap);
    const free = new Int32Array(cap);
    free.set(this.freeSlots.subarray(0, this.freeCount));
    for (let s = cap - 1; s >= old; s--) free[this.freeCount++] = s;
    this.freeSlots = free;
    this.cap = cap;
  }
}
