import { describe, expect, it } from 'vitest';
import { Harness, S } from './harness.js';
import { ms, ps, us } from '../../../src/sim/time.js';

const CC_OK = (4 << 20) | (6 << 16) | 1;

function program(h: Harness, sq = 16, cq = 16): { sqBase: number; cqBase: number } {
  const sqBase = h.alloc(sq * 64);
  const cqBase = h.alloc(cq * 16);
  h.w32(0x24, ((cq - 1) << 16) | (sq - 1));
  h.w64(0x28, sqBase);
  h.w64(0x30, cqBase);
  return { sqBase, cqBase };
}

describe('nvme enable / disable (NVMe 1.4 7.6.1, 7.3.2)', () => {
  it('CSTS.RDY rises readyDelay after CC.EN, in an event, within CAP.TO', () => {
    const h = new Harness({ props: { readyDelayMs: 3, timeout500ms: 1 } });
    program(h);
    h.w32(0x14, CC_OK);
    expect(h.r32(0x1c) & 1).toBe(0); // never inline
    h.run(ps(ms(3) - 1));
    expect(h.r32(0x1c) & 1).toBe(0);
    h.run(ps(1));
    expect(h.r32(0x1c) & 1).toBe(1);
    const capTo = (h.r32(0) >>> 24) * 500;
    expect(h.now).toBeLessThanOrEqual(ms(capTo));
    const ready = h.milestones('ready');
    expect(ready).toHaveLength(1);
    expect(ready[0]!.a).toBe(16);
  });

  it('doorbell writes before RDY are ignored with a guestErr', () => {
    const h = new Harness();
    program(h);
    h.w32(0x14, CC_OK);
    h.sqDoorbell(0, 1);
    expect(h.guestErrs('nvme.doorbell.not-ready')).toHaveLength(1);
    expect(h.guestErrs('nvme.doorbell.not-ready')[0]!.message).toMatch(/SQ0TDBL=1/);
  });

  const invalid: Array<[string, (h: Harness) => void, number, RegExp]> = [
    ['ASQS = 0', (h) => h.w32(0x24, 0x000f0000), CC_OK, /ASQS/],
    ['ACQS = 0', (h) => h.w32(0x24, 0x0000000f), CC_OK, /ACQS/],
    ['ASQ = 0', (h) => h.w64(0x28, 0), CC_OK, /ASQ=0/],
    ['ACQ = 0', (h) => h.w64(0x30, 0), CC_OK, /ACQ=0/],
    ['IOSQES = 0', () => {}, (4 << 20) | 1, /IOSQES/],
    ['IOCQES = 5', () => {}, (5 << 20) | (6 << 16) | 1, /IOCQES/],
    ['CSS = 1', () => {}, CC_OK | (1 << 4), /CSS/],
    ['MPS = 5', () => {}, CC_OK | (5 << 7), /MPS/],
    ['AMS = 1 (WRR unsupported)', () => {}, CC_OK | (1 << 11), /AMS/],
  ];
  for (const [what, mangle, cc, msg] of invalid) {
    it(`invalid admin configuration (${what}): no RDY, CSTS.CFS=1, guestErr`, () => {
      const h = new Harness();
      program(h);
      mangle(h);
      h.w32(0x14, cc);
      h.settle();
      expect(h.r32(0x1c) & 1).toBe(0);
      expect(h.r32(0x1c) & 2).toBe(2);
      const e = h.guestErrs('nvme.cc.enable-invalid');
      expect(e).toHaveLength(1);
      expect(e[0]!.message).toMatch(msg);
      expect(h.milestones('fatal')).toHaveLength(1);
      // Recovery: disable (clears CFS), fix, enable again.
      h.w32(0x14, 0);
      expect(h.r32(0x1c)).toBe(0);
      program(h);
      h.w32(0x14, CC_OK);
      h.settle();
      expect(h.r32(0x1c)).toBe(1);
    });
  }

  it('ASQ not aligned to a 16 KiB page with MPS=2 fails', () => {
    const h = new Harness();
    program(h);
    h.w64(0x28, 0x101000);
    h.w32(0x14, CC_OK | (2 << 7));
    h.settle();
    expect(h.r32(0x1c)).toBe(2);
    expect(h.guestErrs('nvme.cc.enable-invalid')[0]!.message).toMatch(/aligned/);
  });

  it('disable deletes the I/O queues, drops outstanding work, RDY=0 after a short delay', () => {
    const h = new Harness();
    h.enable();
    h.createIoPair(1);
    h.createIoPair(2);
    const buf = h.alloc(4096);
    h.submit(1, h.rw(false, 0, 8, buf));
    h.ring(1);
    h.run(us(1));
    const cc = h.r32(0x14);
    h.w32(0x14, cc & ~1);
    expect(h.r32(0x1c) & 1).toBe(1); // RDY stays until the reset completes
    expect(h.milestones('reset')).toHaveLength(1);
    h.settle();
    expect(h.r32(0x1c)).toBe(0);
    expect(h.dmaEvents('data')).toHaveLength(0);
    expect(h.dmaEvents('nvme.cqe')).toHaveLength(0);
    // AQA/ASQ/ACQ survive; enabling again gives fresh admin queues and no I/O queues.
    expect(h.r32(0x24)).toBe((31 << 16) | 31);
    h.enable();
    const r = h.exec(0, { opc: 0x00, cdw10: 1 });
    expect(r.status).toBe(S.INVALID_QID);
    h.sqDoorbell(1, 1);
    expect(h.guestErrs('nvme.doorbell.invalid-queue')).toHaveLength(1);
  });

  it('enabling again before RDY dropped completes the reset first (guestErr)', () => {
    const h = new Harness();
    h.enable();
    const cc = h.r32(0x14);
    h.w32(0x14, cc & ~1);
    h.w32(0x14, cc);
    expect(h.guestErrs('nvme.cc.enable-during-reset')).toHaveLength(1);
    expect(h.r32(0x1c) & 1).toBe(0);
    h.settle();
    expect(h.r32(0x1c) & 1).toBe(1);
  });

  it('the admin queue pointers restart at 0 after a reset', () => {
    const h = new Harness();
    h.enable({ sq: 4, cq: 4 });
    for (let i = 0; i < 3; i++) expect(h.exec(0, { opc: 0x06, cdw10: 1, prp1: h.alloc(4096) }).status).toBe(0);
    h.w32(0x14, h.r32(0x14) & ~1);
    h.settle();
    h.enable({ sq: 4, cq: 4 });
    const r = h.exec(0, { opc: 0x06, cdw10: 1, prp1: h.alloc(4096) });
    expect(r.status).toBe(0);
    expect(r.sqhd).toBe(1);
  });
});
