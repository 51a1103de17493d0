import { describe, expect, it } from 'vitest';
import { Harness, PxCI, PxCMD, PxIS, PxSACT, PxSERR, PxTFD, expectedSectors } from './harness.js';

function ready(opts: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(opts);
  h.settle();
  h.startPort(0);
  h.pw(0, PxIS, 0xffffffff);
  return h;
}

describe('ahci NCQ: READ/WRITE FPDMA QUEUED (AHCI 1.3.1 5.6.4, SATA 13.6)', () => {
  it('32 tags in flight complete through Set Device Bits FISes clearing PxSACT', () => {
    const h = ready({ props: { latencyJitterPct: 50, readLatencyUs: 1000 }, seed: 7 });
    const bufs = Array.from({ length: 32 }, () => h.buffer(4096));
    for (let t = 0; t < 32; t++) h.build(0, t, { cmd: 0x60, lba: t * 8, count: 8, prds: [bufs[t]!.prd] });
    h.pw(0, PxSACT, 0xffffffff);
    h.pw(0, PxCI, 0xffffffff);
    h.runUs(80); // every command accepted (CI cleared), none complete yet
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.pr(0, PxSACT)).toBe(0xffffffff);
    const sdb = h.dmaEvents('ahci.fis').filter((e) => e.data[0] === 0xa1);
    expect(sdb).toHaveLength(0);
    h.settle();
    expect(h.pr(0, PxSACT)).toBe(0);
    expect(h.pr(0, PxIS) & 0x8).toBe(0x8); // SDBS
    for (let t = 0; t < 32; t++) expect(h.readMem(bufs[t]!.addr, 4096)).toEqual(expectedSectors(t * 8, 8));
    const fises = h.dmaEvents('ahci.fis').filter((e) => e.data[0] === 0xa1);
    expect(fises).toHaveLength(32);
    const tags = fises.map((e) => Math.log2(new DataView(e.data.buffer, e.data.byteOffset).getUint32(4, true)));
    expect([...tags].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    expect(tags).not.toEqual(Array.from({ length: 32 }, (_, i) => i)); // jitter: out of order
    expect(fises.every((e) => (e.data[1]! & 0x40) !== 0)).toBe(true);
    expect(h.rfis(0, 0x58, 1)[0]).toBe(0xa1);
    expect(h.dev.stats().ncqCommands).toBe(32);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('queued writes then queued reads round trip', () => {
    const h = ready();
    const src = h.buffer(1024, 0x5a);
    h.issue(0, 4, { cmd: 0x61, write: true, lba: 900, count: 2, prds: [src.prd] });
    h.settle();
    expect(h.pr(0, PxSACT)).toBe(0);
    const dst = h.buffer(1024);
    h.issue(0, 5, { cmd: 0x60, lba: 900, count: 2, prds: [dst.prd] });
    h.settle();
    expect(h.readMem(dst.addr, 1024).every((b) => b === 0x5a)).toBe(true);
  });

  it('tag rules: SACT not set, tag not the slot, tag beyond the queue depth', () => {
    const h = ready({ props: { ncqDepth: 8 } });
    const b = h.buffer(512);
    h.build(0, 1, { cmd: 0x60, lba: 0, count: 1, prds: [b.prd] });
    h.pw(0, PxCI, 2);
    h.settle();
    expect(h.guestErrs('ahci.ncq.sact-not-set')).toHaveLength(1);
    h.issue(0, 2, { cmd: 0x60, lba: 0, count: 1, prds: [b.prd], tag: 3 });
    h.settle();
    expect(h.guestErrs('ahci.ncq.tag-mismatch')).toHaveLength(1);
    h.issue(0, 9, { cmd: 0x60, lba: 0, count: 1, prds: [b.prd] });
    h.settle();
    expect(h.guestErrs('ahci.ncq.tag-beyond-depth')).toHaveLength(1);
    expect(h.pr(0, PxIS) & (1 << 30)).toBe(1 << 30);
    expect(h.pr(0, PxTFD)).toBe(0x0451);
  });

  it('a non-queued command while queued ones are outstanding aborts them all', () => {
    const h = ready({ props: { readLatencyUs: 1000 } });
    const b = h.buffer(512);
    h.issue(0, 0, { cmd: 0x60, lba: 0, count: 1, prds: [b.prd] });
    h.runUs(10);
    h.issue(0, 1, { cmd: 0xea });
    h.settle();
    expect(h.guestErrs('ahci.ncq.mixed')).toHaveLength(1);
    expect(h.pr(0, PxIS) & (1 << 30)).toBe(1 << 30);
    expect(h.pr(0, PxSACT)).toBe(1); // the aborted queued command keeps its bit until ST is cleared
  });

  it('NCQ media error: SDB FIS with ERR, TFES, other queued commands aborted; READ LOG EXT 10h names the tag', () => {
    const h = ready({ props: { faultMediaErrorLba: 64, faultMediaErrorSectors: 8, readLatencyUs: 100 } });
    const bufs = [0, 1, 2].map(() => h.buffer(4096));
    h.build(0, 0, { cmd: 0x60, lba: 0, count: 8, prds: [bufs[0]!.prd] });
    h.build(0, 1, { cmd: 0x60, lba: 64, count: 8, prds: [bufs[1]!.prd] });
    h.build(0, 2, { cmd: 0x60, lba: 128, count: 8, prds: [bufs[2]!.prd] });
    h.pw(0, PxSACT, 7);
    h.pw(0, PxCI, 7);
    h.settle();
    expect(h.pr(0, PxIS) & (1 << 30)).toBe(1 << 30);
    expect(h.pr(0, PxTFD) & 0x1).toBe(1);
    expect((h.pr(0, PxTFD) >>> 8) & 0x40).toBe(0x40);
    expect(h.pr(0, PxSACT)).toBe(6); // slot 0 completed before the failing one; 1 failed, 2 aborted
    expect(h.dev.stall(h.now).join('\n')).toMatch(/halted on a task file error/);
    // Recovery (6.2.2.1): clear ST, wait for CR, clear SERR and IS, set ST; read the NCQ error log.
    h.pw(0, PxCMD, 0x16);
    h.runUs(5);
    expect(h.pr(0, PxCMD) & (1 << 15)).toBe(0);
    expect(h.pr(0, PxSACT)).toBe(0);
    h.pw(0, PxSERR, 0xffffffff);
    h.pw(0, PxIS, 0xffffffff);
    h.pw(0, PxCMD, 0x17);
    const log = h.buffer(512);
    expect(h.exec(0, 0, { cmd: 0x2f, lba: 0x10, count: 1, prds: [log.prd] })).toBe(0x50);
    const d = h.readMem(log.addr, 512);
    expect(d[0]).toBe(1); // tag 1, NQ = 0
    expect(d[2]).toBe(0x51);
    expect(d[3]).toBe(0x40); // UNC
    expect(d[4]).toBe(64);
    let sum = 0;
    for (const x of d) sum += x;
    expect(sum & 0xff).toBe(0);
    // Read again: nothing to report (NQ = 1).
    h.exec(0, 1, { cmd: 0x2f, lba: 0x10, count: 1, prds: [log.prd] });
    expect(h.readMem(log.addr, 1)[0]).toBe(0x80);
    // The port works again.
    h.issue(0, 2, { cmd: 0x60, lba: 128, count: 8, prds: [bufs[2]!.prd] });
    h.settle();
    expect(h.readMem(bufs[2]!.addr, 4096)).toEqual(expectedSectors(128, 8));
    expect(h.pr(0, PxCI)).toBe(0);
  });
});
