/**
 * Random register, doorbell and queue traffic interleaved with running the
 * event queue: the model never throws, reserved bits stay 0, and each
 * recognisable misuse leaves a guestErr.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Harness, makeImage } from './harness.js';
import { us } from '../../../src/sim/time.js';

const REG_OFFSETS = [0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38, 0x3c, 0x50, 0xe00, 0xffc];
const VALID_CC = (4 << 20) | (6 << 16) | 1;
const QUEUE_PAIRS = 4;

type Op =
  | { k: 'w'; off: number; size: 1 | 2 | 4; value: number }
  | { k: 'r'; off: number; size: 1 | 2 | 4 }
  | { k: 'cmd'; qid: number; opc: number; flags: number; nsid: number; prp1: number; prp2: number; cdw: number[] }
  | { k: 'io'; qid: number; write: boolean; slba: number; nlb: number; prp1: number; prp2: number }
  | { k: 'run'; us: number }
  | { k: 'busMaster'; on: boolean }
  | { k: 'mode'; mode: 'msix' | 'msi' | 'intx' }
  | { k: 'quiesce' };

const offset = fc.oneof(
  fc.constantFrom(...REG_OFFSETS),
  fc.integer({ min: 0, max: 2 * (QUEUE_PAIRS + 3) }).map((i) => 0x1000 + i * 4), // doorbells, some beyond the last queue
  fc.integer({ min: 0, max: 0x3fff }),
);
const size = fc.constantFrom<1 | 2 | 4>(4, 4, 4, 2, 1);
const value = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 0xffffffff, VALID_CC, VALID_CC | (1 << 14), VALID_CC & ~1, 0x4e564d65, 0x001f001f, 0x100000),
  fc.integer({ min: 0, max: 64 }),
  fc.nat(),
);
const address = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x100000, max: 0x17ffff }).map((a) => a & ~0xfff) },
  { weight: 1, arbitrary: fc.nat({ max: 0x3fffff }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ k: fc.constant('w' as const), off: offset, size, value }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('r' as const), off: offset, size }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('cmd' as const),
      qid: fc.constantFrom(0, 0, 1, 2),
      opc: fc.oneof(fc.constantFrom(0, 1, 2, 4, 5, 6, 8, 9, 0x0a, 0x0c), fc.integer({ min: 0, max: 255 })),
      flags: fc.constantFrom(0, 0, 0, 1, 0x40),
      nsid: fc.constantFrom(0, 1, 1, 2, 0xffffffff),
      prp1: address,
      prp2: address,
      cdw: fc.array(fc.oneof(fc.integer({ min: 0, max: 16 }), fc.nat(), fc.integer({ min: 0, max: 0xffff }).map((v) => (v << 16) | 1)), { minLength: 6, maxLength: 6 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('io' as const), qid: fc.constantFrom(1, 2), write: fc.boolean(), slba: fc.integer({ min: 0, max: 70 }),
      nlb: fc.integer({ min: 1, max: 16 }), prp1: address.map((a) => a + 0x200 * (a & 1)), prp2: address,
    }),
  },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('run' as const), us: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('busMaster' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mode' as const), mode: fc.constantFrom('msix' as const, 'msi' as const, 'intx' as const) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'quiesce' as const }) },
);

function apply(h: Harness, o: Op): void {
  switch (o.k) {
    case 'w': {
      const before = h.tracer.events.length;
      const csts = h.r32(0x1c);
      h.bar.write(o.off, o.size, o.value);
      const added = h.tracer.events.slice(before).filter((e) => e.kind === 'guestErr').map((e) => (e.kind === 'guestErr' ? e.code : ''));
      if (o.off < 0x2000 && (o.size !== 4 || (o.off & 3) !== 0)) {
        expect(added).toEqual([o.off >= 0x1000 ? 'nvme.doorbell.width' : 'nvme.mmio.width']);
      } else if (o.off < 0x0c && o.size === 4) {
        expect(added).toEqual(['nvme.reg.read-only']);
      } else if (o.off >= 0x1000 && o.off < 0x2000 && ((csts & 1) === 0 || (csts & 2) !== 0)) {
        expect(added).toEqual(['nvme.doorbell.not-ready']);
      } else if (o.off >= 0x1000 + 8 * (QUEUE_PAIRS + 1) && o.off < 0x2000 && added.length > 0) {
        expect(added[0]).toBe('nvme.doorbell.invalid-queue');
      }
      break;
    }
    case 'r':
      h.bar.read(o.off, o.size);
      break;
    case 'cmd': {
      const p = o.qid === 0 ? h.admin : h.io.get(o.qid);
      if (p === undefined) break;
      h.submit(o.qid, {
        opc: o.opc, flags: o.flags, nsid: o.nsid, prp1: o.prp1, prp2: o.prp2,
        cdw10: o.cdw[0], cdw11: o.cdw[1], cdw12: o.cdw[2], cdw13: o.cdw[3], cdw14: o.cdw[4], cdw15: o.cdw[5],
      });
      h.ring(o.qid);
      break;
    }
    case 'io':
      if (!h.io.has(o.qid)) break;
      h.submit(o.qid, h.rw(o.write, o.slba, o.nlb, o.prp1, o.prp2));
      h.ring(o.qid);
      break;
    case 'run':
      h.run(us(o.us));
      h.reap(0);
      for (const qid of h.io.keys()) h.reap(qid);
      break;
    case 'busMaster':
      h.gate.busMaster = o.on;
      break;
    case 'mode':
      h.irq.mode = o.mode;
      break;
    case 'quiesce':
      h.dev.quiesce();
      break;
  }
  // Reserved bits always read 0.
  expect(h.r32(0x1c) & ~0x3f).toBe(0);
  expect(h.r32(0x14) & ~0x00fffff1).toBe(0);
  expect(h.r32(0x24) & ~0x0fff0fff).toBe(0);
  expect(h.r32(0x28) & 0xfff).toBe(0);
  expect(h.r32(0x08)).toBe(0x00010400);
}

describe('nvme fuzz', () => {
  const image = makeImage(64, 512, 'fuzz.img');

  it('random register/doorbell/queue traffic never throws and misuse is traced', () => {
    let guestErrs = 0;
    let errorCompletions = 0;
    let transfers = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 40 }), (ops) => {
        const h = new Harness({ image, blocks: 64, ramBytes: 4 << 20, props: { ioQueuePairs: QUEUE_PAIRS, readyDelayMs: 0.01 } });
        h.enable({ sq: 8, cq: 8 });
        h.createIoPair(1, { sq: 8, cq: 8 });
        h.createIoPair(2, { sq: 8, cq: 4 });
        h.mem.markDma(0x100000, 0x80000, true);
        for (const o of ops) apply(h, o);
        h.settle(200_000);
        guestErrs += h.guestErrs().length;
        errorCompletions += h.dev.stats().errors!;
        transfers += h.dev.stats().reads! + h.dev.stats().writes!;
        // Counters stay consistent with the trace.
        expect(h.dev.stats().guestErrors).toBe(h.guestErrs('nvme.').length);
      }),
      { seed: 0x5eed, numRuns: 2000 },
    );
    expect(guestErrs).toBeGreaterThan(1000);
    expect(errorCompletions).toBeGreaterThan(1000);
    expect(transfers).toBeGreaterThan(300);
  });
});
