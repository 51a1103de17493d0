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
