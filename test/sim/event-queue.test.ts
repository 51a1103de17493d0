import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventQueue } from '../../src/sim/event-queue.js';

describe('EventQueue', () => {
  it('dispatches by time, then by scheduling order for equal times', () => {
    const q = new EventQueue(2);
    const seen: string[] = [];
    const t = q.register('t', (kind, a0) => seen.push(`${kind}:${a0}`));
    q.scheduleAt(30 as never, t, 1, 0);
    q.scheduleAt(10 as never, t, 2, 0);
    q.scheduleAt(10 as never, t, 3, 0);
    q.scheduleAt(20 as never, t, 4, 0);
    q.scheduleAt(10 as never, t, 5, 0);
    while (q.step());
    expect(seen).toEqual(['2:0', '3:0', '5:0', '4:0', '1:0']);
    expect(q.now).toBe(30);
    expect(q.dispatched).toBe(5);
  });

  it('cancels by handle and ignores stale handles', () => {
    const q = new EventQueue(4);
    const seen: number[] = [];
    const t = q.register('t', (_k, a0) => seen.push(a0));
    const h1 = q.scheduleAt(5 as never, t, 0, 1);
    const h2 = q.scheduleAt(6 as never, t, 0, 2);
    expect(q.cancel(h1)).toBe(true);
    expect(q.cancel(h1)).toBe(false);
    q.runUntil(10);
    expect(seen).toEqual([2]);
    expect(q.cancel(h2)).toBe(false); // already ran
    // the slot of h1 is reused; the old handle must not cancel the new event
    const h3 = q.scheduleAt(20 as never, t, 0, 3);
    expect(q.cancel(h1)).toBe(false);
    expect(q.isPending(h3)).toBe(true);
  });

  it('never schedules into the past and runUntil advances now', () => {
    const q = new EventQueue();
    const t = q.register('t', () => {});
    q.runUntil(100);
    expect(q.now).toBe(100);
    q.scheduleAt(50 as never, t);
    expect(q.peekTime()).toBe(100);
  });

  it('hands each handler its a0 and a1 exactly as scheduled (integers, -0, fractions, huge and non-finite values)', () => {
    const values = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40 + 3, 0.5, -2.25, 1e300, Infinity, -Infinity, NaN];
    const q = new EventQueue(1);
    const got: [number, number][] = [];
    const t = q.register('t', (_k, a0, a1) => { got.push([a0, a1]); });
    const want: [number, number][] = [];
    for (const a0 of values) for (const a1 of values) { q.schedule(1 as never, t, 0, a0, a1); want.push([a0, a1]); }
    while (q.step());
    expect(got.length).toBe(want.length);
    got.forEach(([a0, a1], i) => {
      expect(Object.is(a0, want[i]![0]), `a0 of event ${i}: ${a0} for ${want[i]![0]}`).toBe(true);
      expect(Object.is(a1, want[i]![1]), `a1 of event ${i}: ${a1} for ${want[i]![1]}`).toBe(true);
    });
  });

  it('rejects a NaN time and stays usable', () => {
    const q = new EventQueue(1);
    const seen: number[] = [];
    const t = q.register('t', (_k, a0) => seen.push(a0));
    q.schedule(5 as never, t, 0, 1);
    expect(() => q.schedule(NaN as never, t, 0, 2)).toThrow(/NaN/);
    expect(() => q.scheduleAt(NaN as never, t, 0, 3)).toThrow(/NaN/);
    expect(q.pending).toBe(1);
    for (let i = 0; i < 5; i++) q.schedule((10 + i) as never, t, 0, 10 + i);
    while (q.step());
    expect(seen).toEqual([1, 10, 11, 12, 13, 14]);
  });

  it('peeks the exact earliest far event after the earliest ones are cancelled, and re-arms timeouts without growing', () => {
    const q = new EventQueue(8);
    const seen: number[] = [];
    const t = q.register('t', (_k, a0) => seen.push(a0));
    // Far beyond the window: 30 s timeouts and a tick, then the earliest cancelled one by one.
    const hs = [3e13, 3e13 + 5, 3e13 + 1e6, 1e9, 3e13 + 7].map((d, i) => q.schedule(d as never, t, 0, i));
    expect(q.peekTime()).toBe(1e9);
    q.cancel(hs[3]!);
    expect(q.peekTime()).toBe(3e13);
    q.cancel(hs[0]!);
    expect(q.peekTime()).toBe(3e13 + 5);
    expect(q.step()).toBe(true);
    expect(seen).toEqual([1]);
    expect(q.peekTime()).toBe(3e13 + 7);
    // Cancel and re-arm many times: the slots are reused at once (the queue never grows past its 8 slots).
    let h = q.schedule(3e13 as never, t, 0, 9);
    for (let i = 0; i < 10_000; i++) {
      q.cancel(h);
      h = q.schedule((3e13 + i) as never, t, 0, 9);
    }
    expect(q.pending).toBe(3);
    expect((q as unknown as { cap: number }).cap).toBe(8);
    while (q.step());
    expect(seen).toEqual([1, 4, 2, 9]);
  });

  it('numbers handles generation * 2^24 + slot and rejects stale, fractional and foreign ones', () => {
    const q = new EventQueue(2);
    const t = q.register('t', () => {});
    const h0 = q.schedule(5 as never, t);
    const h1 = q.schedule(6 as never, t);
    expect([h0, h1]).toEqual([0, 1]);
    q.step(); // frees slot 0: its next event is generation 1
    const h2 = q.schedule(7 as never, t);
    expect(h2).toBe(2 ** 24);
    for (const bad of [h0, h2 + 0.5, h2 - 2 ** 24 + 0.25, h2 + 2 ** 45, -1, NaN, Infinity, 2 ** 24 + 5]) {
      expect(q.isPending(bad)).toBe(false);
      expect(q.cancel(bad)).toBe(false);
    }
    expect(q.pending).toBe(2);
    // A third slot comes from growing (slots 2 and 3), generation 0.
    expect(q.schedule(8 as never, t)).toBe(2);
    expect(q.cancel(h1)).toBe(true);
    expect(q.schedule(9 as never, t)).toBe(2 ** 24 + 1);
  });

  it('finds the next non-empty bucket across the calendar wrap and word boundaries', () => {
    // 1 ps buckets (no adaptation in these few dispatches), 1024 of them: after a dispatch at 1000
    // the window is [1000, 2024) and times from 1024 on sit in positions before the current one.
    const q = new EventQueue(8);
    const seen: number[] = [];
    const t = q.register('t', () => seen.push(q.now));
    q.scheduleAt(1000 as never, t);
    q.step();
    for (const at of [2023, 1050, 1023, 1031, 1032, 1999, 1001, 2500]) q.scheduleAt(at as never, t);
    while (q.step());
    expect(seen).toEqual([1000, 1001, 1023, 1031, 1032, 1050, 1999, 2023, 2500]);
    expect(q.bucketWidth).toBe(1);
  });

  it('grows past its initial capacity and keeps order (property)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.boolean()), { maxLength: 300 }), (items) => {
      const q = new EventQueue(1);
      const out: [number, number][] = [];
      const t = q.register('t', (_k, a0, a1) => out.push([a0, a1]));
      const handles: number[] = [];
      items.forEach(([time], i) => handles.push(q.scheduleAt(time as never, t, 0, time, i)));
      const cancelled = new Set<number>();
      items.forEach(([, cancel], i) => { if (cancel) { q.cancel(handles[i]!); cancelled.add(i); } });
      while (q.step());
      const expected = items.map(([time], i) => [time, i] as [number, number]).filter(([, i]) => !cancelled.has(i))
        .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect(out).toEqual(expected);
    }), { seed: 42, numRuns: 200 });
  });
});

/**
 * Reference model: a sorted array ordered by (time, scheduling sequence),
 * the queue's documented order, with the same clamping of past times.
 */
class ModelQueue {
  now = 0;
  private items: { t: number; seq: number; id: number; follow: number }[] = [];
  private seq = 0;
  constructor(private readonly onDispatch: (id: number, follow: number) => void) {}
  schedule(delay: number, id: number, follow: number): void {
    const time = this.now + delay;
    const t = time < this.now ? this.now : time + 0;
    const e = { t, seq: this.seq++, id, follow };
    let i = this.items.length;
    while (i > 0 && this.items[i - 1]!.t > t) i--;
    this.items.splice(i, 0, e);
  }
  cancel(id: number): boolean {
    const i = this.items.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.items.splice(i, 1);
    return true;
  }
  peekTime(): number {
    return this.items[0]?.t ?? Infinity;
  }
  get pending(): number {
    return this.items.length;
  }
  step(): boolean {
    const e = this.items.shift();
    if (e === undefined) return false;
    this.now = e.t;
    this.onDispatch(e.id, e.follow);
    return true;
  }
  runUntil(time: number): void {
    while (this.items.length > 0 && this.items[0]!.t <= time) this.step();
    if (time > this.now) this.now = time;
  }
}

/** Delays as the simulator makes them: ties, a few ps, ns to us, timer ticks and timeouts, and now and then something huge. */
const delayArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0, 0, 1, 2, 3) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 100 }) },
  { weight: 5, arbitrary: fc.integer({ min: 300, max: 200_000_000 }) },
  { weight: 2, arbitrary: fc.constantFrom(1_000_000_000, 1_000_300_000, 30_000_000_000_000, 2 ** 40, 2 ** 40 + 1) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 52, 2 ** 53, 1e300, Infinity, -5, 0.5, 1.25) },
);

type Op =
  | { op: 'schedule'; delay: number; follow: number }
  | { op: 'cancel'; pick: number }
  | { op: 'step' }
  | { op: 'run'; ahead: number }
  | { op: 'rearm'; delay: number }
  | { op: 'peek' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('schedule' as const), delay: delayArb, follow: fc.oneof(fc.constant(-1), fc.constant(-1), delayArb) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('step' as const)}) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('run' as const), ahead: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2_000_000_000 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('peek' as const) }) },
  // A timeout cancelled and re-armed, as devices do on every completion (mostly far, sometimes due soon).
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rearm' as const), delay: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 30_000_000_000_000, max: 30_000_000_000_100 }) },
    { weight: 1, arbitrary: delayArb },
  ) }) },
);

/**
 * Drives the queue and the model with the same operations; every dispatch,
 * cancel result, peek and `now` must agree. A dispatched event with a
 * follow-up delay schedules one more from its handler (as devices do).
 */
function sameAsModel(ops: Op[], epoch: number, capacity: number, drain: boolean): { widths: Set<number> } {
  const q = new EventQueue(capacity, epoch);
  const got: number[] = [];
  const want: number[] = [];
  let nextId = 0;
  const handles = new Map<number, number>();
  const ids: number[] = [];
  const model: ModelQueue = new ModelQueue((id, follow) => {
    want.push(id);
    if (follow !== -1) model.schedule(follow, 1_000_000 + id, -1);
  });
  const target = q.register('t', (_k, id, follow) => {
    got.push(id);
    if (follow !== -1) handles.set(1_000_000 + id, q.schedule(follow as never, target, 0, 1_000_000 + id, -1));
  });
  const widths = new Set<number>();
  let timeout = -1;
  for (const o of ops) {
    switch (o.op) {
      case 'rearm': {
        if (timeout >= 0) expect(q.cancel(handles.get(timeout)!)).toBe(model.cancel(timeout));
        const id = nextId++;
        ids.push(id);
        timeout = id;
        handles.set(id, q.schedule(o.delay as never, target, 0, id, -1));
        model.schedule(o.delay, id, -1);
        break;
      }
      case 'schedule': {
        const id = nextId++;
        ids.push(id);
        handles.set(id, q.schedule(o.delay as never, target, 0, id, o.follow));
        model.schedule(o.delay, id, o.follow);
        break;
      }
      case 'cancel': {
        if (ids.length === 0) break;
        const id = ids[o.pick % ids.length]!;
        expect(q.cancel(handles.get(id)!)).toBe(model.cancel(id));
        break;
      }
      case 'step':
        expect(q.step()).toBe(model.step());
        break;
      case 'run':
        if (Number.isFinite(q.now)) {
          q.runUntil(q.now + o.ahead);
          model.runUntil(model.now + o.ahead);
        }
        break;
      case 'peek':
        expect(q.peekTime()).toBe(model.peekTime());
        break;
    }
    expect(q.now).toBe(model.now);
    expect(q.pending).toBe(model.pending);
    widths.add(q.bucketWidth);
  }
  expect(q.peekTime()).toBe(model.peekTime());
  if (drain) {
    while (q.step()) widths.add(q.bucketWidth);
    while (model.step());
  }
  expect(got).toEqual(want);
  expect(q.now).toBe(model.now);
  return { widths };
}

describe('EventQueue against a sorted-array model (property)', () => {
  it('dispatches in (time, scheduling order) through random schedule, cancel, step and runUntil sequences', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 400 }), fc.constantFrom(1, 2, 5, 64, 512), fc.constantFrom(1, 16, 1024), fc.boolean(),
      (ops, epoch, capacity, drain) => { sameAsModel(ops, epoch, capacity, drain); }), { seed: 1414, numRuns: 300 });
  });

  it('keeps the order across width changes in long runs with phases of tiny, wide and tied delays', () => {
    const phase = (delays: fc.Arbitrary<number>) => fc.array(fc.oneof(
      { weight: 3, arbitrary: fc.record({ op: fc.constant('schedule' as const), delay: delays, follow: fc.oneof(fc.constant(-1), delays) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('step' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), pick: fc.nat() }) },
    ), { minLength: 200, maxLength: 1500 });
    const tiny = fc.integer({ min: 0, max: 97 });
    const wide = fc.oneof(fc.integer({ min: 300_000, max: 100_000_000 }), fc.constant(30_000_000_000_000));
    const tied = fc.constantFrom(0, 1_000, 1_000_000);
    const allWidths = new Set<number>();
    fc.assert(fc.property(fc.array(fc.oneof(phase(tiny), phase(wide), phase(tied)), { minLength: 2, maxLength: 5 }), fc.constantFrom(8, 64),
      (phases, epoch) => {
        const { widths } = sameAsModel(phases.flat() as Op[], epoch, 64, true);
        for (const w of widths) allWidths.add(w);
      }), { seed: 77, numRuns: 40 });
    // The runs did make the queue re-file at several widths.
    expect(allWidths.size).toBeGreaterThan(3);
  });

  it('adapts the bucket width to the delays it sees', () => {
    const q = new EventQueue(64, 64);
    const t = q.register('t', (_k, a0) => { q.schedule((a0 === 0 ? 1 + (q.dispatched % 50) : 1_000_000) as never, t, 0, a0); });
    for (let i = 0; i < 8; i++) q.scheduleAt(i as never, t, 0, 1);
    for (let i = 0; i < 2000; i++) q.step();
    expect(q.bucketWidth).toBeGreaterThan(1000);
    // Timeouts cancelled before they come due do not widen the window: only far events that come due do.
    const q3 = new EventQueue(64, 64);
    let tmo = -1;
    const dead = q3.register('timeout', () => { throw new Error('a timeout came due'); });
    const t3 = q3.register('t', (_k, a0) => {
      q3.cancel(tmo);
      tmo = q3.schedule(30_000_000_000_000 as never, dead);
      q3.schedule((1000 + ((a0 * 7919) % 50_000)) as never, t3, 0, a0 + 1);
    });
    q3.scheduleAt(0 as never, t3, 0, 1);
    for (let i = 0; i < 5000; i++) q3.step();
    expect(q3.bucketWidth).toBeLessThan(2 ** 20);
    const q2 = new EventQueue(64, 64);
    const t2 = q2.register('t', () => { q2.schedule((1 + (q2.dispatched % 50)) as never, t2); });
    for (let i = 0; i < 500; i++) q2.scheduleAt(i as never, t2);
    for (let i = 0; i < 2000; i++) q2.step();
    expect(q2.bucketWidth).toBeLessThanOrEqual(4);
  });
});
