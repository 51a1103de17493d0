import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Harness, S, expectedBlocks, makeImage, tempDir } from './harness.js';
import { us } from '../../../src/sim/time.js';

function ready(opts: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(opts);
  h.enable();
  h.createIoPair(1);
  return h;
}

describe('nvme I/O: Read with PRPs (NVMe 1.4 4.3, 6.9)', () => {
  it('PRP1 only: one page', () => {
    const h = ready();
    const buf = h.alloc(4096);
    const r = h.exec(1, h.rw(false, 10, 8, buf));
    expect(r.status).toBe(S.SUCCESS);
    expect(r.sqid).toBe(1);
    expect(h.readMem(buf, 4096)).toEqual(expectedBlocks(10, 8, 512));
    expect(h.dmaEvents('nvme.sqe')).toHaveLength(1);
    expect(h.dmaEvents('nvme.cqe')).toHaveLength(1);
  });

  it('PRP1 with an offset and PRP2 for the second page', () => {
    const h = ready();
    const buf = h.alloc(8192);
    h.mem.ram.fill(0xaa, buf, buf + 8192);
    const r = h.exec(1, h.rw(false, 3, 8, buf + 0x200, buf + 0x1000));
    expect(r.status).toBe(S.SUCCESS);
    expect(h.readMem(buf + 0x200, 4096)).toEqual(expectedBlocks(3, 8, 512));
    expect(h.readMem(buf, 0x200).every((b) => b === 0xaa)).toBe(true);
    expect(h.readMem(buf + 0x1200, 0xe00).every((b) => b === 0xaa)).toBe(true);
    const data = h.dmaEvents('data');
    expect(data.map((e) => [e.addr - buf, e.data.length])).toEqual([[0x200, 0xe00], [0x1000, 0x200]]);
  });

  it('PRP list: scattered pages in the list order', () => {
    const h = ready();
    const pages = [5, 2, 7, 0, 3, 6, 1, 4].map(() => 0);
    const area = h.alloc(8 * 4096);
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    for (let i = 0; i < 8; i++) pages[i] = area + order[i]! * 4096;
    const list = h.alloc(4096);
    for (let i = 1; i < 8; i++) h.write64(list + (i - 1) * 8, pages[i]!);
    const r = h.exec(1, h.rw(false, 100, 64, pages[0]!, list));
    expect(r.status).toBe(S.SUCCESS);
    const want = expectedBlocks(100, 64, 512);
    for (let i = 0; i < 8; i++) expect(h.readMem(pages[i]!, 4096)).toEqual(want.subarray(i * 4096, (i + 1) * 4096));
    const prp = h.dmaEvents('nvme.prp');
    expect(prp).toHaveLength(1);
    expect(prp[0]!.data.length).toBe(7 * 8);
  });

  it('PRP list chaining when the list crosses a page', () => {
    const h = ready();
    const area = h.alloc(6 * 4096);
    const lists = h.alloc(2 * 4096);
    const first = lists + 4096 - 16; // room for 2 entries: one data page, one chain pointer
    const second = lists + 4096;
    h.write64(first, area + 4096);
    h.write64(first + 8, second);
    for (let i = 0; i < 4; i++) h.write64(second + i * 8, area + (2 + i) * 4096);
    const r = h.exec(1, h.rw(false, 0, 48, area, first));
    expect(r.status).toBe(S.SUCCESS);
    expect(h.readMem(area, 6 * 4096)).toEqual(expectedBlocks(0, 48, 512));
    expect(h.dmaEvents('nvme.prp').map((e) => [e.addr, e.data.length])).toEqual([[first, 16], [second, 32]]);
  });

  it('an exactly full list page does not chain', () => {
    const h = ready();
    const area = h.alloc(3 * 4096);
    const lists = h.alloc(4096);
    const first = lists + 4096 - 16;
    h.write64(first, area + 4096);
    h.write64(first + 8, area + 8192);
    expect(h.exec(1, h.rw(false, 0, 24, area, first)).status).toBe(S.SUCCESS);
    expect(h.readMem(area, 3 * 4096)).toEqual(expectedBlocks(0, 24, 512));
  });

  it('PRP offset rules: list entries, PRP2 data pointer, PRP1 dword alignment, chain pointer', () => {
    const h = ready();
    const area = h.alloc(4 * 4096);
    const list = h.alloc(4096);
    h.write64(list, area + 4096 + 8);
    h.write64(list + 8, area + 8192);
    expect(h.exec(1, h.rw(false, 0, 24, area, list)).status).toBe(S.PRP_OFFSET_INVALID);
    expect(h.exec(1, h.rw(false, 0, 16, area, area + 4096 + 512)).status).toBe(S.PRP_OFFSET_INVALID);
    expect(h.exec(1, h.rw(false, 0, 1, area + 2)).status).toBe(S.PRP_OFFSET_INVALID);
    const lists = h.alloc(8192);
    const first = lists + 4096 - 16;
    h.write64(first, area + 4096);
    h.write64(first + 8, lists + 4096 + 64);
    expect(h.exec(1, h.rw(false, 0, 32, area, first)).status).toBe(S.PRP_OFFSET_INVALID);
    expect(h.dmaEvents('data')).toHaveLength(0);
    expect(h.guestErrs('nvme.cmd.prp-offset-invalid')).toHaveLength(4);
  });

  it('4096-byte blocks', () => {
    const h = ready({ lbaSize: 4096, blocks: 64 });
    const buf = h.alloc(8192);
    expect(h.exec(1, h.rw(false, 7, 2, buf, buf + 4096)).status).toBe(S.SUCCESS);
    expect(h.readMem(buf, 8192)).toEqual(expectedBlocks(7, 2, 4096));
  });

  it('memory page size 16 KiB (CC.MPS=2) changes PRP page boundaries', () => {
    const h = new Harness();
    h.enable({ mps: 2 });
    const cq = h.alloc(64 * 16, 16384);
    const sq = h.alloc(64 * 64, 16384);
    expect(h.exec(0, { opc: 0x05, prp1: cq, cdw10: (63 << 16) | 1, cdw11: (1 << 16) | 3 }).status).toBe(0);
    expect(h.exec(0, { opc: 0x01, prp1: sq, cdw10: (63 << 16) | 1, cdw11: (1 << 16) | 1 }).status).toBe(0);
    h.io.set(1, { qid: 1, sqBase: sq, sqSize: 64, sqTail: 0, cqBase: cq, cqSize: 64, cqHead: 0, phase: 1 });
    const buf = h.alloc(65536, 16384);
    // 24 KiB from 8 KiB into a 16 KiB page: 8 KiB there, 16 KiB in the PRP2 page (a data pointer, not a list).
    expect(h.exec(1, h.rw(false, 0, 48, buf + 0x2000, buf + 16384)).status).toBe(S.SUCCESS);
    expect(h.readMem(buf + 0x2000, 24576)).toEqual(expectedBlocks(0, 48, 512));
    expect(h.dmaEvents('data').map((e) => e.data.length)).toEqual([0x2000, 0x4000]);
    expect(h.dmaEvents('nvme.prp')).toHaveLength(0);
  });
});

describe('nvme I/O: Write, Flush and the disk image', () => {
  it('write then read back; the image file is unchanged (copy-on-write overlay)', () => {
    const h = ready();
    const file = path.join(tempDir(), h.image);
    const before = fs.readFileSync(file);
    const src = h.alloc(8192);
    const data = new Uint8Array(8192).map((_, i) => (i * 13 + 5) & 0xff);
    h.write(src, data);
    expect(h.exec(1, h.rw(true, 20, 16, src, src + 4096)).status).toBe(S.SUCCESS);
    expect(h.dev.disk.verify(20, data)).toBe(true);
    expect(h.dev.disk.readBlock(19)).toEqual(expectedBlocks(19, 1, 512));
    const dst = h.alloc(8192);
    expect(h.exec(1, h.rw(false, 20, 16, dst, dst + 4096)).status).toBe(S.SUCCESS);
    expect(h.readMem(dst, 8192)).toEqual(data);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(h.dev.disk.dirtyChunks).toBe(1);
    const st = h.dev.stats();
    expect(st).toMatchObject({ reads: 1, writes: 1, bytesRead: 8192, bytesWritten: 8192 });
  });

  it('write through a chained PRP list lands on the right blocks', () => {
    const h = ready();
    const area = h.alloc(5 * 4096);
    const data = new Uint8Array(5 * 4096).map((_, i) => (i * 29 + (i >> 9)) & 0xff);
    // Pages in reverse order in memory, so a mapping mistake shows.
    const pages = [4, 3, 2, 1, 0].map((i) => area + i * 4096);
    for (let i = 0; i < 5; i++) h.write(pages[i]!, data.subarray(i * 4096, (i + 1) * 4096));
    const lists = h.alloc(8192);
    const first = lists + 4096 - 24; // room for 3 entries: two data pages and a chain pointer
    h.write64(first, pages[1]!);
    h.write64(first + 8, pages[2]!);
    h.write64(first + 16, lists + 4096);
    h.write64(lists + 4096, pages[3]!);
    h.write64(lists + 4096 + 8, pages[4]!);
    expect(h.exec(1, h.rw(true, 200, 40, pages[0]!, first)).status).toBe(S.SUCCESS);
    expect(h.dev.disk.verify(200, data)).toBe(true);
    expect(h.dev.disk.readBlock(240)).toEqual(expectedBlocks(240, 1, 512));
    expect(h.dmaEvents('nvme.prp').map((e) => e.data.length)).toEqual([24, 16]);
  });

  it('writeThrough: writes also reach the image file', () => {
    const img = makeImage(256, 512);
    const h = ready({ image: img, blocks: 256, props: { writeThrough: true } });
    const src = h.alloc(4096);
    const data = new Uint8Array(1024).fill(0x5a);
    h.write(src, data);
    expect(h.exec(1, h.rw(true, 255 - 1, 2, src)).status).toBe(S.SUCCESS);
    const file = fs.readFileSync(path.join(tempDir(), img));
    expect(file.subarray(254 * 512, 256 * 512).every((b) => b === 0x5a)).toBe(true);
    expect(new Uint8Array(file.subarray(253 * 512, 254 * 512))).toEqual(expectedBlocks(253, 1, 512));
    h.dev.disk.close();
  });

  it('flush completes after the flush latency (NSID 1 and all namespaces)', () => {
    const h = ready({ props: { flushLatencyUs: 300 } });
    const cid = h.submit(1, { opc: 0x00, nsid: 1 });
    h.ring(1);
    h.run(us(250));
    expect(h.reap(1)).toHaveLength(0);
    h.run(us(100));
    const r = h.reap(1);
    expect(r.map((c) => [c.cid, c.status])).toEqual([[cid, 0]]);
    expect(h.exec(1, { opc: 0x00, nsid: 0xffffffff }).status).toBe(S.SUCCESS);
    expect(h.exec(1, { opc: 0x00, nsid: 2 }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.dev.stats().flushes).toBe(2);
  });

  it('read and write latencies are modelled', () => {
    const h = ready({ props: { readLatencyUs: 80, writeLatencyUs: 20 } });
    const buf = h.alloc(4096);
    const t0 = h.now;
    h.submit(1, h.rw(false, 0, 8, buf));
    h.ring(1);
    h.settle();
    const readDone = h.dmaEvents('nvme.cqe').at(-1)!.time - t0;
    expect(readDone).toBeGreaterThanOrEqual(us(80));
    expect(readDone).toBeLessThan(us(82));
    h.reap(1);
    const t1 = h.now;
    h.submit(1, h.rw(true, 0, 8, buf));
    h.ring(1);
    h.settle();
    const writeDone = h.dmaEvents('nvme.cqe').at(-1)!.time - t1;
    expect(writeDone).toBeGreaterThanOrEqual(us(20));
    expect(writeDone).toBeLessThan(us(22));
  });

  it('latency jitter is seeded: same seed same timings, different seeds differ, all within +-pct', () => {
    const run = (seed: number): number[] => {
      const h = ready({ seed, props: { latencyJitterPct: 25, readLatencyUs: 100 } });
      const buf = h.alloc(4096);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = h.now;
        h.exec(1, h.rw(false, i, 1, buf));
        times.push(h.dmaEvents('nvme.cqe').at(-1)!.time - t);
      }
      return times;
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
    for (const t of [...a, ...run(3)]) {
      expect(t).toBeGreaterThanOrEqual(us(75));
      expect(t).toBeLessThanOrEqual(us(127));
    }
  });
});

describe('nvme I/O: errors', () => {
  it('LBA out of range, invalid opcode, bad NSID, MDTS exceeded, fused', () => {
    const h = ready({ blocks: 100 });
    const buf = h.alloc(4096);
    const oor = h.exec(1, h.rw(false, 96, 8, buf));
    expect(oor.status).toBe(S.LBA_OUT_OF_RANGE);
    expect(oor.dnr).toBe(true);
    expect(h.exec(1, h.rw(false, 2 ** 40, 1, buf)).status).toBe(S.LBA_OUT_OF_RANGE);
    expect(h.exec(1, h.rw(false, 92, 8, buf)).status).toBe(S.SUCCESS);
    expect(h.exec(1, { opc: 0x05, nsid: 1 }).status).toBe(S.INVALID_OPCODE);
    expect(h.exec(1, { opc: 0x99, nsid: 1 }).status).toBe(S.INVALID_OPCODE);
    expect(h.exec(1, { ...h.rw(false, 0, 1, buf), nsid: 2 }).status).toBe(S.INVALID_NAMESPACE);
    expect(h.exec(1, { ...h.rw(false, 0, 1, buf), nsid: 0 }).status).toBe(S.INVALID_NAMESPACE);
    // MDTS 5: 128 KiB = 256 blocks of 512 bytes.
    const big = new Harness({ blocks: 1024 });
    big.enable();
    big.createIoPair(1);
    expect(big.exec(1, big.rw(false, 0, 257, buf)).status).toBe(S.INVALID_FIELD);
    expect(big.guestErrs('nvme.cmd.invalid-field')[0]!.message).toMatch(/MDTS/);
    expect(h.exec(1, { ...h.rw(false, 0, 1, buf), flags: 1 }).status).toBe(S.INVALID_FIELD);
    expect(h.guestErrs('nvme.cmd.lba-out-of-range')).toHaveLength(2);
    expect(h.guestErrs('nvme.cmd.invalid-opcode')[0]!.message).toMatch(/COMPARE cid=\d+ on SQ1/);
    expect(h.dev.stats().errors).toBe(7);
  });

  it('data DMA refused (memory not mapped for DMA): Data Transfer Error, not fatal', () => {
    const h = ready();
    const buf = h.alloc(4096, 4096, false);
    const r = h.exec(1, h.rw(false, 0, 8, buf));
    expect(r.status).toBe(S.DATA_TRANSFER_ERROR);
    expect(r.dnr).toBe(false);
    expect(h.guestErrs('dma.unmapped')).toHaveLength(1);
    const w = h.exec(1, h.rw(true, 0, 8, buf));
    expect(w.status).toBe(S.DATA_TRANSFER_ERROR);
    expect(h.r32(0x1c)).toBe(1);
  });

  it('PRP list fetch refused: Data Transfer Error', () => {
    const h = ready();
    const area = h.alloc(3 * 4096);
    const list = h.alloc(4096, 4096, false);
    expect(h.exec(1, h.rw(false, 0, 24, area, list)).status).toBe(S.DATA_TRANSFER_ERROR);
  });
});

describe('nvme completion queue back-pressure', () => {
  it('a full CQ is never overwritten; completions wait for the head doorbell', () => {
    const h = new Harness();
    h.enable();
    h.createIoPair(1, { sq: 16, cq: 4 });
    const buf = h.alloc(8 * 4096);
    const cids: number[] = [];
    for (let i = 0; i < 8; i++) cids.push(h.submit(1, h.rw(false, i * 8, 8, buf + i * 4096)));
    h.ring(1);
    h.settle();
    const p = h.pair(1);
    const first = h.reap(1, false);
    expect(first).toHaveLength(3); // size 4: one slot always empty
    // Entry 3 untouched: the controller did not wrap over unconsumed entries.
    expect(h.readMem(p.cqBase + 3 * 16, 16).every((b) => b === 0)).toBe(true);
    expect(h.dmaEvents('nvme.cqe')).toHaveLength(3);
    h.cqDoorbell(1, p.cqHead);
    h.settle();
    const second = h.reap(1, false);
    expect(second).toHaveLength(3);
    h.cqDoorbell(1, p.cqHead);
    h.settle();
    const third = h.reap(1);
    expect(third).toHaveLength(2);
    const all = [...first, ...second, ...third];
    expect(all.map((c) => c.cid)).toEqual(cids);
    expect(all.every((c) => c.status === 0)).toBe(true);
    expect(all.map((c) => c.phase)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    for (let i = 0; i < 8; i++) expect(h.readMem(buf + i * 4096, 4096)).toEqual(expectedBlocks(i * 8, 8, 512));
  });

  it('SQ head pointer in completions follows fetching', () => {
    const h = ready();
    const buf = h.alloc(4096);
    const r1 = h.exec(1, h.rw(false, 0, 1, buf));
    const r2 = h.exec(1, h.rw(false, 0, 1, buf));
    expect([r1.sqhd, r2.sqhd]).toEqual([1, 2]);
  });
});

describe('nvme controller fatal status (3.1.6, 9.5)', () => {
  it('admin SQ fetch with bus mastering off: CFS, milestone, processing stops; reset recovers', () => {
    const h = new Harness();
    h.enable();
    h.gate.busMaster = false;
    h.submit(0, { opc: 0x06, cdw10: 1, prp1: h.alloc(4096) });
    h.ring(0);
    h.settle();
    expect(h.r32(0x1c) & 2).toBe(2);
    expect(h.milestones('fatal')).toEqual([expect.objectContaining({ a: 1, b: 0 })]);
    expect(h.guestErrs('dma.no-bus-master')).toHaveLength(1);
    expect(h.guestErrs('nvme.fatal')).toHaveLength(1);
    h.gate.busMaster = true;
    h.sqDoorbell(0, 0);
    h.settle();
    expect(h.dmaEvents('nvme.asqe')).toHaveLength(0);
    h.w32(0x14, h.r32(0x14) & ~1);
    h.settle();
    expect(h.r32(0x1c)).toBe(0);
    h.enable();
    expect(h.exec(0, { opc: 0x06, cdw10: 1, prp1: h.alloc(4096) }).status).toBe(0);
  });

  it('posting to an I/O CQ in unmapped memory is fatal', () => {
    const h = new Harness();
    h.enable();
    const cq = h.alloc(4096, 4096, false);
    const sq = h.alloc(4096);
    expect(h.exec(0, { opc: 0x05, prp1: cq, cdw10: (15 << 16) | 1, cdw11: (1 << 16) | 3 }).status).toBe(0);
    expect(h.exec(0, { opc: 0x01, prp1: sq, cdw10: (15 << 16) | 1, cdw11: (1 << 16) | 1 }).status).toBe(0);
    h.io.set(1, { qid: 1, sqBase: sq, sqSize: 16, sqTail: 0, cqBase: cq, cqSize: 16, cqHead: 0, phase: 1 });
    h.submit(1, { opc: 0x00, nsid: 1 });
    h.ring(1);
    h.settle();
    expect(h.r32(0x1c) & 3).toBe(3);
    expect(h.milestones('fatal')[0]).toMatchObject({ a: 2, b: 1 });
  });
});
