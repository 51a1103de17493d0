/**
 * Completion entries consumed before they were posted, or consumed twice
 * (README "Sanitizers"): a CQ head doorbell that releases more entries than
 * the controller posted is an Invalid Doorbell Write Value (NVMe 1.4 5.2.1),
 * ignored and reported through an Asynchronous Event, and recorded once,
 * under the code that says what the host did. Driven by the harness's mini
 * driver with the bugs planted by hand.
 */
import { describe, expect, it } from 'vitest';
import { Harness, S } from './harness.js';
import type { TraceEvent } from '../../../src/sim/tracer.js';

const CQE_CODES = ['nvme.cqe.consumed-unposted', 'nvme.cqe.consumed-twice'];

function cqeErrs(h: Harness): Array<{ code: string; message: string }> {
  return h.guestErrs('nvme.cqe.').map((e) => ({ code: e.code, message: e.message }));
}

function setUp(opts: { sanitize?: boolean; sq?: number; cq?: number } = {}): { h: Harness; buf: number } {
  const h = new Harness({ sanitize: opts.sanitize ?? true });
  h.enable();
  h.createIoPair(1, { sq: opts.sq ?? 8, cq: opts.cq ?? 8 });
  return { h, buf: h.alloc(4096) };
}

/** Submits `n` reads on SQ1, rings once and runs until they completed (not reaped). */
function complete(h: Harness, buf: number, n: number): void {
  for (let i = 0; i < n; i++) h.submit(1, h.rw(false, i, 1, buf));
  h.ring(1);
  h.settle();
}

/**
 * A driver whose phase tag is not inverted when its head wraps: it takes
 * every entry whose phase tag is 1, at most `max` of them, then rings the
 * head doorbell. Returns the command ids it took.
 */
function reapPhaseStuck(h: Harness, max: number): number[] {
  const p = h.pair(1);
  const cids: number[] = [];
  const v = h.mem.ramView;
  while (cids.length < max) {
    const dw3 = v.getUint32(p.cqBase + p.cqHead * 16 + 12, true);
    if (((dw3 >>> 16) & 1) !== 1) break;
    cids.push(dw3 & 0xffff);
    p.cqHead = (p.cqHead + 1) % p.cqSize;
  }
  h.cqDoorbell(1, p.cqHead);
  return cids;
}

/** The trace as JSON (times included). */
function traceText(events: readonly TraceEvent[]): string {
  return JSON.stringify(events, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
}

describe('CQ head doorbell past the posted completions', () => {
  it('one past the tail: consumed-unposted, naming head, tail and the never-written slot; ignored', () => {
    const { h, buf } = setUp();
    complete(h, buf, 2);
    expect(h.reap(1, false)).toHaveLength(2);
    h.cqDoorbell(1, 3); // the driver consumed 2 and claims 3
    const errs = cqeErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.cqe.consumed-unposted']);
    expect(errs[0]!.message).toBe('nvme0: CQ1HDBL=3 ignored: head 3 consumes 1 entry the controller has not posted '
      + '(head 0, tail 2: 2 posted; slot 2 has never been written since the CQ was created): '
      + 'the host consumed completions that do not exist yet (a phase tag read wrong, or a head counted ahead of the entries read)');
    // Recorded once: not also as the generic invalid doorbell value.
    expect(h.guestErrs().map((e) => e.code)).toEqual(['nvme.cqe.consumed-unposted']);
    // Ignored: the head the driver really consumed to is still a valid doorbell, and the queue goes on.
    h.cqDoorbell(1, 2);
    expect(h.guestErrs()).toHaveLength(1);
    expect(h.exec(1, h.rw(false, 9, 1, buf)).status).toBe(S.SUCCESS);
    expect(h.guestErrs()).toHaveLength(1);
  });

  it('past the tail after the CQ wrapped: the slot holds a completion of the previous pass', () => {
    const { h, buf } = setUp({ sq: 4, cq: 4 });
    for (let i = 0; i < 5; i++) expect(h.exec(1, h.rw(false, i, 1, buf)).status).toBe(S.SUCCESS);
    const p = h.pair(1);
    expect(p.cqHead).toBe(1);
    h.cqDoorbell(1, 2);
    const errs = cqeErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.cqe.consumed-unposted']);
    expect(errs[0]!.message).toContain('head 2 consumes 1 entry the controller has not posted (head 1, tail 1: 0 posted; slot 1 still holds a completion of the previous pass, consumed then)');
  });

  it('a stale head written after the right one (a second reaper): consumed-twice, the head moved back', () => {
    const { h, buf } = setUp();
    complete(h, buf, 3);
    const start = h.pair(1).cqHead;
    expect(h.reap(1)).toHaveLength(3); // rings head 3
    h.cqDoorbell(1, start); // and a stale 0
    const errs = cqeErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.cqe.consumed-twice']);
    expect(errs[0]!.message).toBe('nvme0: CQ1HDBL=0 ignored: head 0 is 3 entries behind the head 3 written before (head 3, tail 3: 0 posted); '
      + 'read forward it wraps past the tail and releases 5 entries not posted: the host walked again over completions it had already '
      + 'consumed (a stale head, or a phase tag not inverted when its head wrapped)');
    expect(h.guestErrs().map((e) => e.code)).toEqual(['nvme.cqe.consumed-twice']);
    // Ignored: the controller kept head 3, and the next completions land after it.
    expect(h.exec(1, h.rw(false, 9, 1, buf)).status).toBe(S.SUCCESS);
    expect(h.pair(1).cqHead).toBe(4);
    expect(h.guestErrs()).toHaveLength(1);
  });

  it('a phase tag not inverted at the wrap: the driver takes old completions again, consumed-twice', () => {
    const { h, buf } = setUp({ sq: 4, cq: 4 });
    complete(h, buf, 3);
    expect(reapPhaseStuck(h, 3)).toHaveLength(3); // slots 0..2, head 3
    expect(cqeErrs(h)).toEqual([]);
    h.submit(1, h.rw(false, 7, 1, buf));
    h.ring(1);
    h.settle(); // slot 3 posted; the CQ tail wraps to 0
    const cids = reapPhaseStuck(h, 3); // slot 3, then slots 0 and 1 of the first pass again (still phase 1)
    expect(new Set(cids).size).toBe(3);
    const errs = cqeErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.cqe.consumed-twice']);
    expect(errs[0]!.message).toContain('CQ1HDBL=2 ignored: head 2 is 1 entry behind the head 3 written before (head 3, tail 0: 1 posted)');
  });

  it('each is an Invalid Doorbell Write Value through an outstanding AER', () => {
    const { h, buf } = setUp();
    const aer = h.submit(0, { opc: 0x0c });
    h.ring(0);
    h.settle();
    complete(h, buf, 1);
    h.reap(1, false);
    h.cqDoorbell(1, 2);
    expect(cqeErrs(h).map((e) => e.code)).toEqual(['nvme.cqe.consumed-unposted']);
    h.settle();
    const c = h.reap(0);
    expect(c.map((e) => e.cid)).toEqual([aer]);
    expect(c[0]!.dw0).toBe(0x01_01_00); // type 0 error, info 01h invalid doorbell write value, log page 01h
  });

  it('a spec error with or without sanitize: the same trace, and a well-behaved driver gets none across wraps', () => {
    const runs = [false, true].map((sanitize) => {
      const { h, buf } = setUp({ sanitize, sq: 4, cq: 4 });
      for (let i = 0; i < 10; i++) expect(h.exec(1, h.rw(i % 2 === 0, i, 1, buf)).status).toBe(S.SUCCESS);
      expect(h.guestErrs()).toEqual([]);
      complete(h, buf, 2);
      h.reap(1, false);
      const head = h.pair(1).cqHead;
      h.cqDoorbell(1, (head + 1) % 4); // one past what was posted
      h.cqDoorbell(1, head); // the head really consumed to
      h.cqDoorbell(1, (head + 3) % 4); // one behind it
      return h;
    });
    for (const h of runs) expect(cqeErrs(h).map((e) => e.code)).toEqual(['nvme.cqe.consumed-unposted', 'nvme.cqe.consumed-twice']);
    expect(traceText(runs[1]!.tracer.events)).toBe(traceText(runs[0]!.tracer.events));
    for (const code of CQE_CODES) expect(runs[0]!.guestErrs(code)).toHaveLength(1);
  });

  it('a value beyond the queue size stays nvme.doorbell.invalid-value', () => {
    const { h } = setUp();
    h.cqDoorbell(1, 8);
    expect(h.guestErrs().map((e) => e.code)).toEqual(['nvme.doorbell.invalid-value']);
  });
});
