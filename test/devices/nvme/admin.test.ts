import { describe, expect, it } from 'vitest';
import { Harness, S } from './harness.js';
import { us } from '../../../src/sim/time.js';

function ascii(b: Uint8Array, off: number, len: number): string {
  return String.fromCharCode(...b.subarray(off, off + len));
}
function u16(b: Uint8Array, off: number): number {
  return b[off]! | (b[off + 1]! << 8);
}
function u32(b: Uint8Array, off: number): number {
  return (u16(b, off) | (u16(b, off + 2) << 16)) >>> 0;
}

describe('nvme admin: Identify (5.15)', () => {
  it('controller data structure fields at their offsets', () => {
    const h = new Harness({ props: { serial: 'SN123', model: 'Test Model', firmware: 'FW9', mdts: 6 } });
    h.enable();
    const buf = h.alloc(4096);
    const r = h.exec(0, { opc: 0x06, cdw10: 1, prp1: buf });
    expect(r.status).toBe(S.SUCCESS);
    const d = h.readMem(buf, 4096);
    expect(u16(d, 0)).toBe(0x1b36); // VID
    expect(u16(d, 2)).toBe(0x1af4); // SSVID
    expect(ascii(d, 4, 20)).toBe('SN123'.padEnd(20));
    expect(ascii(d, 24, 40)).toBe('Test Model'.padEnd(40));
    expect(ascii(d, 64, 8)).toBe('FW9'.padEnd(8));
    expect(d[77]).toBe(6); // MDTS
    expect(u16(d, 78)).toBe(0); // CNTLID
    expect(u32(d, 80)).toBe(0x00010400); // VER
    expect(u16(d, 256)).toBe(0); // OACS
    expect(d[258]).toBe(3); // ACL
    expect(d[259]).toBe(3); // AERL
    expect(d[512]).toBe(0x66); // SQES
    expect(d[513]).toBe(0x44); // CQES
    expect(u32(d, 516)).toBe(1); // NN
    expect(u16(d, 520)).toBe(0x10); // ONCS: save/select
    expect(d[525]! & 1).toBe(1); // VWC present
    expect(ascii(d, 768, 28)).toBe('nqn.2019-08.org.simrun:nvme:');
  });

  it('namespace data structure: NSZE/NCAP/NUSE, NLBAF, FLBAS, LBAF0.LBADS', () => {
    for (const lbaSize of [512, 4096]) {
      const h = new Harness({ lbaSize, blocks: 300 });
      h.enable();
      const buf = h.alloc(4096);
      expect(h.exec(0, { opc: 0x06, nsid: 1, cdw10: 0, prp1: buf }).status).toBe(S.SUCCESS);
      const d = h.readMem(buf, 4096);
      expect(u32(d, 0)).toBe(300);
      expect(u32(d, 4)).toBe(0);
      expect(u32(d, 8)).toBe(300);
      expect(u32(d, 16)).toBe(300);
      expect(d[25]).toBe(0);
      expect(d[26]).toBe(0);
      expect((u32(d, 128) >>> 16) & 0xff).toBe(Math.log2(lbaSize));
      expect(u16(d, 128)).toBe(0); // no metadata
    }
  });

  it('active namespace list, descriptors, bad NSID and CNS', () => {
    const h = new Harness();
    h.enable();
    const buf = h.alloc(4096);
    h.mem.ram.fill(0xee, buf, buf + 4096);
    expect(h.exec(0, { opc: 0x06, nsid: 0, cdw10: 2, prp1: buf }).status).toBe(S.SUCCESS);
    let d = h.readMem(buf, 4096);
    expect(u32(d, 0)).toBe(1);
    expect(u32(d, 4)).toBe(0);
    expect(h.exec(0, { opc: 0x06, nsid: 1, cdw10: 2, prp1: buf }).status).toBe(S.SUCCESS);
    d = h.readMem(buf, 4096);
    expect(u32(d, 0)).toBe(0);
    expect(h.exec(0, { opc: 0x06, nsid: 1, cdw10: 3, prp1: buf }).status).toBe(S.SUCCESS);
    d = h.readMem(buf, 8);
    expect([d[0], d[1]]).toEqual([2, 16]);
    const bad = h.exec(0, { opc: 0x06, nsid: 2, cdw10: 0, prp1: buf });
    expect(bad.status).toBe(S.INVALID_NAMESPACE);
    expect(bad.dnr).toBe(true);
    expect(h.exec(0, { opc: 0x06, nsid: 0, cdw10: 0, prp1: buf }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(0, { opc: 0x06, nsid: 0xffffffff, cdw10: 2, prp1: buf }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(0, { opc: 0x06, cdw10: 0x10, prp1: buf }).status).toBe(S.INVALID_FIELD);
    expect(h.guestErrs('nvme.cmd.invalid-namespace').length).toBe(3);
    expect(h.guestErrs('nvme.cmd.invalid-field')[0]!.message).toMatch(/IDENTIFY cid=\d+ on SQ0 failed with INVALID_FIELD: Identify CNS 0x10/);
  });

  it('identify crossing a page uses PRP2; PRP2 with an offset is PRP Offset Invalid', () => {
    const h = new Harness();
    h.enable();
    const a = h.alloc(8192);
    const r = h.exec(0, { opc: 0x06, cdw10: 1, prp1: a + 0x800, prp2: a + 0x1000 });
    expect(r.status).toBe(S.SUCCESS);
    expect(u16(h.readMem(a + 0x800, 2), 0)).toBe(0x1b36);
    expect(h.dmaEvents('data').at(-1)!.data.length).toBe(0x800);
    const bad = h.exec(0, { opc: 0x06, cdw10: 1, prp1: a + 0x800, prp2: a + 0x1010 });
    expect(bad.status).toBe(S.PRP_OFFSET_INVALID);
  });

  it('unknown admin opcode -> Invalid Command Opcode; fused/SGL -> Invalid Field', () => {
    const h = new Harness();
    h.enable();
    const r = h.exec(0, { opc: 0x7f });
    expect(r.status).toBe(S.INVALID_OPCODE);
    expect(r.dnr).toBe(true);
    expect(h.exec(0, { opc: 0x06, cdw10: 1, flags: 0x40, prp1: h.alloc(4096) }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: 0x0c, flags: 0x01 }).status).toBe(S.INVALID_FIELD);
  });

  it('commands complete after the admin latency, in an event', () => {
    const h = new Harness();
    h.enable();
    const cid = h.submit(0, { opc: 0x09, cdw10: 0x07, cdw11: 0 });
    h.ring(0);
    expect(h.reap(0)).toHaveLength(0);
    h.run(us(1));
    expect(h.reap(0)).toHaveLength(0);
    h.run(us(10));
    const r = h.reap(0);
    expect(r).toHaveLength(1);
    expect(r[0]!.cid).toBe(cid);
    expect(r[0]!.sqid).toBe(0);
    expect(r[0]!.sqhd).toBe(1);
    expect(h.dmaEvents('nvme.asqe')).toHaveLength(1);
    expect(h.dmaEvents('nvme.acqe')).toHaveLength(1);
  });
});

describe('nvme admin: queue creation and deletion (5.3-5.6)', () => {
  function createCq(h: Harness, qid: number, size: number, opts: { pc?: number; ien?: number; iv?: number; base?: number } = {}) {
    const base = opts.base ?? h.alloc(size * 16);
    return h.exec(0, { opc: 0x05, prp1: base, cdw10: ((size - 1) << 16) | qid, cdw11: ((opts.iv ?? 0) << 16) | ((opts.ien ?? 1) << 1) | (opts.pc ?? 1) });
  }
  function createSq(h: Harness, qid: number, size: number, cqid: number, opts: { pc?: number; base?: number } = {}) {
    const base = opts.base ?? h.alloc(size * 64);
    return h.exec(0, { opc: 0x01, prp1: base, cdw10: ((size - 1) << 16) | qid, cdw11: (cqid << 16) | (opts.pc ?? 1) });
  }

  it('create CQ: every error status', () => {
    const h = new Harness({ props: { ioQueuePairs: 4, maxQueueEntries: 64, msixVectors: 5 } });
    h.enable();
    expect(createCq(h, 0, 16).status).toBe(S.INVALID_QID);
    expect(createCq(h, 5, 16).status).toBe(S.INVALID_QID);
    expect(createCq(h, 1, 1).status).toBe(S.INVALID_QSIZE); // QSIZE 0
    expect(createCq(h, 1, 65).status).toBe(S.INVALID_QSIZE); // > MQES + 1
    expect(createCq(h, 1, 16, { pc: 0 }).status).toBe(S.INVALID_FIELD);
    expect(createCq(h, 1, 16, { base: h.alloc(8192) + 0x800 }).status).toBe(S.PRP_OFFSET_INVALID);
    expect(createCq(h, 1, 16, { iv: 5 }).status).toBe(S.INVALID_INTERRUPT_VECTOR);
    const ok = createCq(h, 1, 64, { iv: 4 });
    expect(ok.status).toBe(S.SUCCESS);
    expect(createCq(h, 1, 16).status).toBe(S.INVALID_QID); // exists
    expect(h.milestones('cq.create')).toHaveLength(1);
    expect(h.milestones('cq.create')[0]).toMatchObject({ a: 1, b: 64 });
    expect(h.guestErrs('nvme.cmd.invalid-qid').length).toBe(3);
    expect(h.guestErrs('nvme.cmd.invalid-interrupt-vector')[0]!.message).toMatch(/IV 5/);
  });

  it('create CQ in INTx mode accepts only vector 0', () => {
    const h = new Harness({ mode: 'intx' });
    h.enable();
    expect(createCq(h, 1, 16, { iv: 1 }).status).toBe(S.INVALID_INTERRUPT_VECTOR);
    expect(createCq(h, 1, 16, { iv: 1, ien: 0 }).status).toBe(S.SUCCESS); // IV unused without IEN
    expect(createCq(h, 2, 16, { iv: 0 }).status).toBe(S.SUCCESS);
  });

  it('create SQ: every error status', () => {
    const h = new Harness({ props: { ioQueuePairs: 4, maxQueueEntries: 64 } });
    h.enable();
    expect(createCq(h, 1, 16, { iv: 1 }).status).toBe(S.SUCCESS);
    expect(createSq(h, 0, 16, 1).status).toBe(S.INVALID_QID);
    expect(createSq(h, 5, 16, 1).status).toBe(S.INVALID_QID);
    expect(createSq(h, 1, 16, 0).status).toBe(S.CQ_INVALID);
    expect(createSq(h, 1, 16, 2).status).toBe(S.CQ_INVALID);
    expect(createSq(h, 1, 16, 9).status).toBe(S.CQ_INVALID);
    expect(createSq(h, 1, 1, 1).status).toBe(S.INVALID_QSIZE);
    expect(createSq(h, 1, 65, 1).status).toBe(S.INVALID_QSIZE);
    expect(createSq(h, 1, 16, 1, { pc: 0 }).status).toBe(S.INVALID_FIELD);
    expect(createSq(h, 1, 16, 1, { base: h.alloc(8192) + 64 }).status).toBe(S.PRP_OFFSET_INVALID);
    expect(createSq(h, 1, 16, 1).status).toBe(S.SUCCESS);
    expect(createSq(h, 2, 16, 1).status).toBe(S.SUCCESS); // two SQs on one CQ
    expect(createSq(h, 1, 16, 1).status).toBe(S.INVALID_QID);
    expect(h.milestones('sq.create').map((m) => m.a)).toEqual([1, 2]);
  });

  it('delete: Invalid Queue Identifier, Invalid Queue Deletion, then in order', () => {
    const h = new Harness({ props: { ioQueuePairs: 4 } });
    h.enable();
    h.createIoPair(1);
    expect(h.exec(0, { opc: 0x00, cdw10: 0 }).status).toBe(S.INVALID_QID);
    expect(h.exec(0, { opc: 0x00, cdw10: 3 }).status).toBe(S.INVALID_QID);
    expect(h.exec(0, { opc: 0x04, cdw10: 0 }).status).toBe(S.INVALID_QID);
    expect(h.exec(0, { opc: 0x04, cdw10: 2 }).status).toBe(S.INVALID_QID);
    const busy = h.exec(0, { opc: 0x04, cdw10: 1 });
    expect(busy.status).toBe(S.INVALID_QUEUE_DELETION);
    expect(busy.dnr).toBe(true);
    expect(h.exec(0, { opc: 0x00, cdw10: 1 }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: 0x00, cdw10: 1 }).status).toBe(S.INVALID_QID);
    expect(h.exec(0, { opc: 0x04, cdw10: 1 }).status).toBe(S.SUCCESS);
    expect(h.milestones('sq.delete').map((m) => m.a)).toEqual([1]);
    expect(h.milestones('cq.delete').map((m) => m.a)).toEqual([1]);
    // The queue id is free again.
    h.io.delete(1);
    h.createIoPair(1);
  });

  it('deleting an SQ aborts its queued and running commands (Aborted due to SQ Deletion)', () => {
    const h = new Harness({ props: { mediaChannels: 1, readLatencyUs: 100 } });
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096 * 4);
    const cids = [0, 1, 2].map((i) => h.submit(1, h.rw(false, i * 8, 8, buf + i * 4096)));
    h.ring(1);
    h.run(us(5));
    const del = h.submit(0, { opc: 0x00, cdw10: 1 });
    h.ring(0);
    h.settle();
    const io = h.reap(1);
    expect(io.map((c) => c.cid).sort()).toEqual([...cids].sort());
    for (const c of io) expect(c.status).toBe(S.ABORTED_SQ_DELETION);
    expect(h.dmaEvents('data')).toHaveLength(0);
    const a = h.reap(0);
    expect(a.find((c) => c.cid === del)!.status).toBe(S.SUCCESS);
    expect(h.guestErrs('nvme.cmd')).toHaveLength(0);
  });
});

describe('nvme admin: features (5.21)', () => {
  it('Number of Queues returns the granted count; refused after queues exist', () => {
    const h = new Harness({ props: { ioQueuePairs: 8 } });
    h.enable();
    const r = h.exec(0, { opc: 0x09, cdw10: 0x07, cdw11: (63 << 16) | 63 });
    expect(r.status).toBe(S.SUCCESS);
    expect(r.dw0).toBe((7 << 16) | 7);
    expect(h.exec(0, { opc: 0x0a, cdw10: 0x07 }).dw0).toBe((7 << 16) | 7);
    expect(h.exec(0, { opc: 0x09, cdw10: 0x07, cdw11: 0xffff }).status).toBe(S.INVALID_FIELD);
    h.createIoPair(1);
    expect(h.exec(0, { opc: 0x09, cdw10: 0x07, cdw11: 0 }).status).toBe(S.COMMAND_SEQUENCE_ERROR);
  });

  it('stored features read back; defaults with SEL=1; capabilities with SEL=3', () => {
    const h = new Harness();
    h.enable();
    const set = (fid: number, v: number) => h.exec(0, { opc: 0x09, cdw10: fid, cdw11: v });
    const get = (fid: number, sel = 0, dw11 = 0) => h.exec(0, { opc: 0x0a, cdw10: fid | (sel << 8), cdw11: dw11 });
    expect(set(0x01, 0x01020307).status).toBe(0);
    expect(get(0x01).dw0).toBe(0x01020307);
    expect(get(0x01, 1).dw0).toBe(3);
    expect(set(0x02, 0).status).toBe(0);
    expect(set(0x02, 1).status).toBe(S.INVALID_FIELD); // NPSS = 0
    expect(set(0x04, 0x160).status).toBe(0);
    expect(set(0x04, (1 << 20) | 0x100).status).toBe(0);
    expect(get(0x04).dw0).toBe(0x160);
    expect(get(0x04, 0, 1 << 20).dw0).toBe(0x100);
    expect(set(0x04, (1 << 16) | 0x100).status).toBe(S.INVALID_FIELD); // sensor 1
    expect(set(0x06, 0).status).toBe(0);
    expect(get(0x06).dw0).toBe(0);
    expect(set(0x08, 0x0a05).status).toBe(0);
    expect(get(0x08).dw0).toBe(0x0a05);
    expect(set(0x09, (1 << 16) | 3).status).toBe(0);
    expect(get(0x09, 0, 3).dw0).toBe((1 << 16) | 3);
    expect(get(0x09, 0, 0).dw0).toBe(1 << 16); // admin vector never coalesced
    expect(set(0x09, 0).status).toBe(S.INVALID_FIELD);
    expect(get(0x06, 3).dw0).toBe(0b100);
    expect(set(0x0e, 0).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: 0x09, cdw10: 0x80000001, cdw11: 0 }).status).toBe(S.FEATURE_NOT_SAVEABLE);
    expect(h.exec(0, { opc: 0x09, nsid: 1, cdw10: 0x08, cdw11: 0 }).status).toBe(S.FEATURE_NOT_NS_SPECIFIC);
    expect(h.exec(0, { opc: 0x09, nsid: 7, cdw10: 0x08, cdw11: 0 }).status).toBe(S.INVALID_NAMESPACE);
    // A controller reset restores the defaults.
    h.w32(0x14, h.r32(0x14) & ~1);
    h.settle();
    h.enable();
    expect(get(0x08).dw0).toBe(0);
  });
});

describe('nvme admin: Abort and Asynchronous Event Request (5.1, 5.2)', () => {
  it('aborts a queued, not started command; a running one is not aborted (DW0 bit 0 = 1)', () => {
    const h = new Harness({ props: { mediaChannels: 1, readLatencyUs: 50 } });
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096 * 2);
    const running = h.submit(1, h.rw(false, 0, 8, buf));
    const queued = h.submit(1, h.rw(false, 8, 8, buf + 4096));
    h.ring(1);
    h.run(us(2));
    const a1 = h.submit(0, { opc: 0x08, cdw10: (queued << 16) | 1 });
    const a2 = h.submit(0, { opc: 0x08, cdw10: (running << 16) | 1 });
    const a3 = h.submit(0, { opc: 0x08, cdw10: (1234 << 16) | 3 });
    h.ring(0);
    h.settle();
    const admin = h.reap(0);
    expect(admin.find((c) => c.cid === a1)).toMatchObject({ status: 0, dw0: 0 });
    expect(admin.find((c) => c.cid === a2)).toMatchObject({ status: 0, dw0: 1 });
    expect(admin.find((c) => c.cid === a3)).toMatchObject({ status: 0, dw0: 1 });
    const io = h.reap(1);
    expect(io.find((c) => c.cid === queued)!.status).toBe(S.ABORT_REQUESTED);
    expect(io.find((c) => c.cid === queued)!.dnr).toBe(false);
    expect(io.find((c) => c.cid === running)!.status).toBe(S.SUCCESS);
    expect(h.dmaEvents('data')).toHaveLength(1);
  });

  it('stall fault: the n-th Read/Write never starts and never completes, the others do; Abort takes it back', () => {
    const h = new Harness({ props: { faultStallIo: 2 } });
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096 * 3);
    const cids = [0, 1, 2].map((i) => h.submit(1, h.rw(false, i * 8, 8, buf + i * 4096)));
    h.ring(1);
    h.settle();
    const done = h.reap(1);
    expect(done.map((c) => c.cid).sort()).toEqual([cids[0], cids[2]].sort());
    expect(h.milestones('fault.stall')).toHaveLength(1);
    const ab = h.submit(0, { opc: 0x08, cdw10: (cids[1]! << 16) | 1 });
    h.ring(0);
    h.settle();
    expect(h.reap(0).find((c) => c.cid === ab)).toMatchObject({ status: 0, dw0: 0 });
    expect(h.reap(1)).toEqual([expect.objectContaining({ cid: cids[1], status: S.ABORT_REQUESTED })]);
  });

  it('stall fault: deleting the SQ ends the stalled command too', () => {
    const h = new Harness({ props: { faultStallIo: 1 } });
    h.enable();
    h.createIoPair(1);
    const cid = h.submit(1, h.rw(false, 0, 8, h.alloc(4096)));
    h.ring(1);
    h.settle();
    expect(h.reap(1)).toHaveLength(0);
    h.submit(0, { opc: 0x00, cdw10: 1 });
    h.ring(0);
    h.settle();
    expect(h.reap(1)).toEqual([expect.objectContaining({ cid, status: S.ABORTED_SQ_DELETION })]);
  });

  it('AER limit: AERL+1 outstanding, one more fails with AER Limit Exceeded', () => {
    const h = new Harness();
    h.enable();
    const cids = [0, 1, 2, 3].map(() => h.submit(0, { opc: 0x0c }));
    h.ring(0);
    h.settle();
    expect(h.reap(0)).toHaveLength(0);
    const r = h.exec(0, { opc: 0x0c });
    expect(r.status).toBe(S.AER_LIMIT_EXCEEDED);
    expect(r.dnr).toBe(true);
    // An outstanding AER can be aborted.
    const ab = h.submit(0, { opc: 0x08, cdw10: (cids[0]! << 16) | 0 });
    h.ring(0);
    h.settle();
    const got = h.reap(0);
    expect(got.find((c) => c.cid === cids[0])!.status).toBe(S.ABORT_REQUESTED);
    expect(got.find((c) => c.cid === ab)!.dw0).toBe(0);
  });

  it('invalid doorbell writes: ignored, guestErr, reported through an outstanding AER', () => {
    const h = new Harness({ props: { ioQueuePairs: 4 } });
    h.enable();
    const aer = h.submit(0, { opc: 0x0c });
    const aer2 = h.submit(0, { opc: 0x0c });
    h.ring(0);
    h.settle();
    h.sqDoorbell(3, 1); // queue does not exist
    expect(h.guestErrs('nvme.doorbell.invalid-queue')).toHaveLength(1);
    expect(h.guestErrs('nvme.doorbell.invalid-queue')[0]!.message).toMatch(/SQ3TDBL=1/);
    h.settle();
    let c = h.reap(0);
    expect(c).toHaveLength(1);
    expect(c[0]!.cid).toBe(aer);
    expect(c[0]!.dw0).toBe(0x01_00_00); // type 0 error, info 00h invalid register, log page 01h
    // The error type is masked until the error log is read; a new event waits.
    h.cqDoorbell(0, h.pair(0).cqHead + 1); // head one past what was posted
    expect(h.guestErrs('nvme.cqe.consumed-unposted')).toHaveLength(1);
    expect(h.guestErrs('nvme.doorbell.invalid-value')).toHaveLength(0);
    h.settle();
    expect(h.reap(0)).toHaveLength(0);
    const log = h.alloc(4096);
    const lr = h.exec(0, { opc: 0x02, cdw10: (63 << 16) | 0x01, prp1: log });
    expect(lr.status).toBe(S.SUCCESS);
    // Still masked when the event was dropped; a new invalid value is reported now.
    h.sqDoorbell(0, 40);
    h.settle();
    c = h.reap(0);
    expect(c.map((e) => e.cid)).toContain(aer2);
    expect(c.find((e) => e.cid === aer2)!.dw0).toBe(0x01_01_00); // invalid doorbell write value
  });

  it('an event raised with no AER outstanding is reported by the next AER', () => {
    const h = new Harness();
    h.enable();
    h.cqDoorbell(5, 0);
    const r = h.exec(0, { opc: 0x0c });
    expect(r.status).toBe(0);
    expect(r.dw0 & 0xff07).toBe(0);
    expect((r.dw0 >>> 16) & 0xff).toBe(1);
  });

  it('SQ tail that would overrun unfetched entries is an invalid doorbell value', () => {
    const h = new Harness({ props: { readyDelayMs: 0 } });
    h.enable({ sq: 4, cq: 4 });
    h.sqDoorbell(0, 4);
    expect(h.guestErrs('nvme.doorbell.invalid-value')[0]!.message).toMatch(/beyond the 4-entry queue/);
    h.sqDoorbell(0, 2);
    h.sqDoorbell(0, 1); // moves back behind the previous tail before anything was fetched
    expect(h.guestErrs('nvme.doorbell.invalid-value')).toHaveLength(2);
  });
});

describe('nvme admin: Get Log Page (5.14)', () => {
  it('error, SMART and firmware slot logs; unknown log; offset and size checks', () => {
    const h = new Harness({ props: { firmware: 'ABC' } });
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096);
    expect(h.exec(1, h.rw(false, 0, 8, buf)).status).toBe(0);
    const log = h.alloc(4096);
    expect(h.exec(0, { opc: 0x02, nsid: 0xffffffff, cdw10: (127 << 16) | 0x02, prp1: log }).status).toBe(S.SUCCESS);
    const d = h.readMem(log, 512);
    expect(u16(d, 1)).toBe(0x139); // composite temperature (K)
    expect(d[3]).toBe(100);
    expect(u32(d, 32)).toBe(1); // data units read (thousands of 512 B, rounded up)
    expect(u32(d, 64)).toBe(1); // host read commands
    expect(h.exec(0, { opc: 0x02, cdw10: (127 << 16) | 0x03, prp1: log }).status).toBe(S.SUCCESS);
    expect(ascii(h.readMem(log, 16), 8, 8)).toBe('ABC     ');
    expect(h.exec(0, { opc: 0x02, cdw10: (15 << 16) | 0x01, prp1: log }).status).toBe(S.SUCCESS);
    expect(h.exec(0, { opc: 0x02, cdw10: (15 << 16) | 0x7e, prp1: log }).status).toBe(S.INVALID_LOG_PAGE);
    expect(h.exec(0, { opc: 0x02, cdw10: (15 << 16) | 0x02, cdw12: 512, prp1: log }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: 0x02, cdw10: (15 << 16) | 0x02, cdw12: 2, prp1: log }).status).toBe(S.INVALID_FIELD);
    expect(h.exec(0, { opc: 0x02, cdw10: 0xffff0002, cdw11: 1, prp1: log }).status).toBe(S.INVALID_FIELD); // > MDTS
  });
});
