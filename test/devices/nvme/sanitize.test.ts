/**
 * The submission-entry sanitizer (src/devices/nvme/sanitize.ts) and hostile
 * timing of the NVMe model, driven by the harness's mini driver.
 */
import { describe, expect, it } from 'vitest';
import { Harness, S } from './harness.js';
import { Timing } from '../../../src/devices/nvme/controller.js';
import type { TraceEvent } from '../../../src/sim/tracer.js';

const SANITIZER_CODES = ['nvme.sqe.changed-after-doorbell', 'nvme.sqe.not-written'];

function sanitizerErrs(h: Harness): Array<{ code: string; message: string }> {
  return h.guestErrs('nvme.sqe.').map((e) => ({ code: e.code, message: e.message }));
}

/** Rings SQ1's tail doorbell for one more entry, then writes the command (the race of issue 9). */
function doorbellBeforeWrite(h: Harness, buf: number): number {
  const p = h.pair(1);
  h.sqDoorbell(1, (p.sqTail + 1) % p.sqSize);
  return h.submit(1, h.rw(false, 8, 1, buf));
}

function setUp(sanitize: boolean): { h: Harness; buf: number } {
  const h = new Harness({ sanitize });
  h.enable();
  h.createIoPair(1, { sq: 8, cq: 8 });
  return { h, buf: h.alloc(4096) };
}

/** Trace events without the sanitizer's own guest errors, times included. */
function withoutSanitizer(events: readonly TraceEvent[]): string {
  return JSON.stringify(events.filter((e) => !(e.kind === 'guestErr' && SANITIZER_CODES.includes(e.code))),
    (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
}

describe('NVMe submission-entry sanitizer', () => {
  it('a tail doorbell rung before the entry is written is reported, naming queue, slot and fields', () => {
    const { h, buf } = setUp(true);
    const cid = doorbellBeforeWrite(h, buf);
    h.settle();
    const errs = sanitizerErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.sqe.changed-after-doorbell']);
    const m = errs[0]!.message;
    expect(m).toContain('SQ1 slot 0');
    expect(m).toContain(`cid=${cid}`);
    expect(m).toMatch(/OPC 0x0 -> 0x2/);
    expect(m).toMatch(/NSID 0x0 -> 0x1/);
    expect(m).toMatch(new RegExp(`PRP1 0x0 -> 0x${buf.toString(16)}`));
    expect(m).toMatch(/CDW10 0x0 -> 0x8/);
    // The controller still runs what it fetched: behaviour is unchanged.
    const cqes = h.reap(1);
    expect(cqes.map((c) => [c.cid, c.status])).toEqual([[cid, S.SUCCESS]]);
  });

  it('is silent with sanitize off, and on adds only its guest errors (same events, same times)', () => {
    const off = setUp(false);
    const on = setUp(true);
    for (const { h, buf } of [off, on]) {
      doorbellBeforeWrite(h, buf);
      h.settle();
      h.reap(1);
      h.exec(1, h.rw(true, 16, 2, buf, 0));
    }
    expect(sanitizerErrs(off.h)).toEqual([]);
    expect(off.h.guestErrs()).toEqual([]);
    expect(sanitizerErrs(on.h)).toHaveLength(1);
    expect(withoutSanitizer(on.h.tracer.events)).toBe(withoutSanitizer(off.h.tracer.events));
  });

  it('a doorbell beyond the written entries: the never-written slot is reported as not written', () => {
    const { h, buf } = setUp(true);
    h.submit(1, h.rw(false, 0, 1, buf));
    h.sqDoorbell(1, 2); // slot 1 was never written: all zero
    h.settle();
    const errs = sanitizerErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.sqe.not-written']);
    expect(errs[0]!.message).toContain('made slot 1 available');
    expect(errs[0]!.message).toContain('all zero');
  });

  it('a doorbell over a slot not rewritten since its last fetch: the stale entry is reported', () => {
    const h = new Harness({ sanitize: true });
    h.enable();
    h.createIoPair(1, { sq: 2, cq: 4 });
    const buf = h.alloc(4096);
    const a = h.exec(1, h.rw(false, 1, 1, buf)); // slot 0
    h.exec(1, h.rw(false, 2, 1, buf)); // slot 1; tail wraps to 0
    expect(sanitizerErrs(h)).toEqual([]);
    h.sqDoorbell(1, 1); // slot 0 again, not rewritten
    h.settle();
    const errs = sanitizerErrs(h);
    expect(errs.map((e) => e.code)).toEqual(['nvme.sqe.not-written']);
    expect(errs[0]!.message).toContain('byte-identical');
    expect(errs[0]!.message).toContain(`cid=${a.cid}`);
  });

  it('a well-behaved driver gets no sanitizer errors (admin and I/O, across queue wrap and re-creation)', () => {
    const h = new Harness({ sanitize: true });
    h.enable({ sq: 4, cq: 4 });
    h.createIoPair(1, { sq: 4, cq: 4 });
    const buf = h.alloc(8192);
    for (let i = 0; i < 20; i++) expect(h.exec(1, h.rw(i % 2 === 0, i, 2, buf, buf + 4096)).status).toBe(S.SUCCESS);
    // Delete and re-create SQ1 at the same place: identical first commands are not stale.
    expect(h.exec(0, { opc: 0x00, cdw10: 1 }).status).toBe(S.SUCCESS);
    const p = h.pair(1);
    expect(h.exec(0, { opc: 0x01, prp1: p.sqBase, cdw10: (3 << 16) | 1, cdw11: (1 << 16) | 1 }).status).toBe(S.SUCCESS);
    p.sqTail = 0;
    for (let i = 0; i < 3; i++) expect(h.exec(1, h.rw(false, i, 2, buf, buf + 4096)).status).toBe(S.SUCCESS);
    expect(h.guestErrs()).toEqual([]);
  });
});

describe('NVMe hostile timing', () => {
  /** A fixed command sequence; returns the times of every DMA and MSI-X message. */
  function timeline(opts: { seed: number; hostileTiming: boolean }): number[] {
    const h = new Harness({ seed: opts.seed, hostileTiming: opts.hostileTiming });
    h.enable();
    h.createIoPair(1);
    h.createIoPair(2);
    const buf = h.alloc(16 * 4096);
    for (let i = 0; i < 8; i++) {
      h.submit(1 + (i % 2), h.rw(i % 3 === 0, i * 8, 8, buf + i * 4096));
    }
    h.ring(1);
    h.ring(2);
    h.settle();
    const n = h.reap(1).length + h.reap(2).length;
    expect(n).toBe(8);
    expect(h.guestErrs()).toEqual([]);
    return h.tracer.events.filter((e) => e.kind === 'dma' || e.kind === 'msi').map((e) => e.time);
  }

  it('is deterministic for a seed and differs across seeds', () => {
    const a = timeline({ seed: 7, hostileTiming: true });
    expect(timeline({ seed: 7, hostileTiming: true })).toEqual(a);
    const b = timeline({ seed: 8, hostileTiming: true });
    expect(b).not.toEqual(a);
  });

  it('off: the documented fixed delays, whatever the seed', () => {
    expect(timeline({ seed: 7, hostileTiming: false })).toEqual(timeline({ seed: 8, hostileTiming: false }));
    const h = new Harness({ hostileTiming: false });
    h.enable();
    const t0 = h.now;
    h.submit(0, { opc: 0x06, prp1: h.alloc(4096), cdw10: 1 });
    h.ring(0);
    h.settle();
    const fetch = h.dmaEvents('nvme.asqe').at(-1)!;
    expect(fetch.time - t0).toBe(Timing.FETCH_DELAY);
  });

  it('on: fetch delays vary within the hostile range', () => {
    const h = new Harness({ hostileTiming: true, seed: 3 });
    h.enable();
    const gaps: number[] = [];
    for (let i = 0; i < 6; i++) {
      const t0 = h.now;
      h.exec(0, { opc: 0x06, prp1: h.alloc(4096), cdw10: 1 });
      gaps.push(h.dmaEvents('nvme.asqe').at(-1)!.time - t0);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(100_000); // 100 ns
  });
});
