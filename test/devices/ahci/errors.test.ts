import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Harness, PxCI, PxCMD, PxIS, PxSACT, PxSERR, PxSSTS, PxTFD, expectedSectors, makeImage, tempDir } from './harness.js';
import { validateProps } from '../../../src/sim/props.js';
import { ahciFactory } from '../../../src/devices/ahci/index.js';
import { DeviceConfigError, type DeviceContext } from '../../../src/devices/device.js';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { MemoryTracer } from '../../../src/sim/tracer.js';
import { Rng } from '../../../src/sim/rng.js';

function ready(opts: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(opts);
  h.settle();
  h.startPort(0);
  h.pw(0, PxIS, 0xffffffff);
  return h;
}

/** Software recovery (AHCI 1.3.1 6.2.2.1): clear ST, wait CR=0, clear SERR and IS, (CLO if busy), set ST. */
function recover(h: Harness, clo = false): void {
  h.pw(0, PxCMD, 0x16);
  h.runUs(5);
  expect(h.pr(0, PxCMD) & (1 << 15)).toBe(0);
  h.pw(0, PxSERR, 0xffffffff);
  h.pw(0, PxIS, 0xffffffff);
  if (clo) {
    h.pw(0, PxCMD, 0x16 | 0x8);
    expect(h.pr(0, PxTFD) & 0x88).toBe(0);
  }
  h.pw(0, PxCMD, 0x17);
}

describe('ahci errors: task file errors halt the port until ST is toggled (6.1.2, 6.2.2)', () => {
  it('media error: UNC, TFES, the failed slot stays in PxCI, later commands wait; recovery by ST toggle', () => {
    const h = ready({ props: { faultMediaErrorLba: 100, faultMediaErrorSectors: 4 } });
    const bad = h.buffer(4096);
    const good = h.buffer(512);
    h.issue(0, 0, { cmd: 0x25, lba: 96, count: 8, prds: [bad.prd] });
    h.runUs(1);
    h.issue(0, 1, { cmd: 0x25, lba: 7, count: 1, prds: [good.prd] });
    h.settle();
    expect(h.pr(0, PxTFD)).toBe(0x4051);
    expect(h.pr(0, PxIS) & (1 << 30)).toBe(1 << 30);
    expect(h.pr(0, PxCI)).toBe(3); // failed slot 0 and the unprocessed slot 1
    expect((h.pr(0, PxCMD) >>> 8) & 0x1f).toBe(0); // CCS names the failed command
    expect(h.readMem(good.addr, 512).every((b) => b === 0xee)).toBe(true);
    expect(h.dev.stats().errors).toBe(1);
    expect(h.dev.stall(h.now)[0]).toMatch(/^port 0: CI 0x3 issued .* ago: the port halted on a task file error \(PxIS.TFES, PxTFD 0x4051\) at slot 0/);
    recover(h);
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.exec(0, 1, { cmd: 0x25, lba: 7, count: 1, prds: [good.prd] })).toBe(0x50);
    expect(h.readMem(good.addr, 512)).toEqual(expectedSectors(7, 1));
    expect(h.dev.stall(h.now)).toEqual([]);
  });

  it('writes to the media error range succeed (only reads fail)', () => {
    const h = ready({ props: { faultMediaErrorLba: 100, faultMediaErrorSectors: 4 } });
    expect(h.exec(0, 0, { cmd: 0x35, write: true, lba: 100, count: 1, prds: [h.buffer(512).prd] })).toBe(0x50);
  });
});

describe('ahci faults', () => {
  it('link drop: PxSSTS.DET=0, PRCS, the command in flight is lost; the link returns and the port recovers', () => {
    const h = new Harness({ props: { faultLinkDropUs: 1500, faultLinkDownUs: 2000, readLatencyUs: 1000 } });
    h.runUs(1100);
    h.startPort(0);
    h.pw(0, PxSERR, 0xffffffff);
    h.pw(0, PxIS, 0xffffffff);
    const b = h.buffer(512);
    h.issue(0, 0, { cmd: 0x25, lba: 3, count: 1, prds: [b.prd] });
    h.runUs(500); // 1.6 ms: dropped
    expect(h.pr(0, PxSSTS)).toBe(0);
    expect(h.pr(0, PxIS) & (1 << 22)).toBe(1 << 22);
    expect(h.pr(0, PxSERR) & (1 << 16)).toBe(1 << 16);
    expect(h.dev.stall(h.now)[0]).toMatch(/link is down \(PxSSTS.DET=0, dropped by fault\)/);
    h.runUs(3000);
    expect(h.pr(0, PxSSTS)).toBe(0x133);
    expect(h.pr(0, PxCI)).toBe(1); // lost: never completes
    expect(h.readMem(b.addr, 512).every((x) => x === 0xee)).toBe(true);
    recover(h);
    expect(h.exec(0, 0, { cmd: 0x25, lba: 3, count: 1, prds: [b.prd] })).toBe(0x50);
    expect(h.readMem(b.addr, 512)).toEqual(expectedSectors(3, 1));
  });

  it('a link that never returns', () => {
    const h = new Harness({ props: { faultLinkDropUs: 1200 } });
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0);
    h.pw(0, 0x2c, 1);
    h.runUs(1000);
    h.pw(0, 0x2c, 0);
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0); // COMRESET does not bring it back
  });

  it('the n-th command hangs: PxTFD.BSY stays; recovery needs CLO (or COMRESET)', () => {
    const h = ready({ props: { faultHangCommand: 2 } });
    const b = h.buffer(512);
    expect(h.exec(0, 0, { cmd: 0x25, lba: 1, count: 1, prds: [b.prd] })).toBe(0x50);
    h.issue(0, 1, { cmd: 0x25, lba: 2, count: 1, prds: [b.prd] });
    h.settle();
    h.runUs(100_000);
    expect(h.pr(0, PxCI)).toBe(2);
    expect(h.pr(0, PxTFD) & 0x80).toBe(0x80);
    expect(h.dev.stall(h.now)[0]).toMatch(/^port 0: CI 0x2 issued 100\.\d+ ms ago: slot 1 \(READ DMA EXT\) never completed by the device/);
    h.pw(0, PxCMD, 0x16);
    h.runUs(5);
    expect(h.pr(0, PxTFD) & 0x80).toBe(0x80); // device still busy after ST cleared
    h.issue(0, 2, { cmd: 0x25, lba: 3, count: 1, prds: [b.prd] }); // ST=0: refused
    expect(h.guestErrs('ahci.ci.not-started')).toHaveLength(1);
    recover(h, true);
    expect(h.exec(0, 2, { cmd: 0x25, lba: 3, count: 1, prds: [b.prd] })).toBe(0x50);
    expect(h.readMem(b.addr, 512)).toEqual(expectedSectors(3, 1));
  });

  it('a hung queued command stays in PxSACT', () => {
    const h = ready({ props: { faultHangCommand: 1 } });
    h.issue(0, 5, { cmd: 0x60, lba: 0, count: 1, prds: [h.buffer(512).prd] });
    h.settle();
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.pr(0, PxSACT)).toBe(1 << 5);
    expect(h.dev.stall(h.now)[0]).toMatch(/SACT 0x20 .*slot 5 \(READ FPDMA QUEUED\) never completed/);
  });
});

describe('ahci guest errors: what hardware does, plus a record', () => {
  it('CTBA not 128-byte aligned: low bits ignored', () => {
    const h = ready();
    const b = h.buffer(512);
    expect(h.exec(0, 0, { cmd: 0x25, lba: 9, count: 1, prds: [b.prd], ctbaOffset: 0x40 })).toBe(0x50);
    expect(h.guestErrs('ahci.cmdhdr.ctba-unaligned')).toHaveLength(1);
    expect(h.readMem(b.addr, 512)).toEqual(expectedSectors(9, 1));
  });

  it('a command FIS that is not Register H2D: PxIS.IFS, SERR.ERR.P, port halted', () => {
    const h = ready();
    h.exec(0, 0, { cmd: 0xec, fisType: 0x34, prds: [h.buffer(512).prd] });
    expect(h.guestErrs('ahci.cfis.type')).toHaveLength(1);
    expect(h.pr(0, PxIS) & (1 << 27)).toBe(1 << 27);
    expect(h.pr(0, PxSERR) & (1 << 10)).toBe(1 << 10);
    expect(h.pr(0, PxCI)).toBe(1);
  });

  it('CFL out of range', () => {
    const h = ready();
    h.exec(0, 0, { cmd: 0xec, cfl: 1 });
    expect(h.guestErrs('ahci.cmdhdr.cfl')).toHaveLength(1);
    expect(h.pr(0, PxIS) & (1 << 27)).toBe(1 << 27);
  });

  it('DMA outside memory mapped for DMA: dma.unmapped and PxIS.HBFS', () => {
    const h = ready();
    const notDma = h.alloc(4096, 4096, false);
    h.exec(0, 0, { cmd: 0x25, lba: 0, count: 1, prds: [{ addr: notDma, bytes: 512 }] });
    expect(h.guestErrs('dma.unmapped')).toHaveLength(1);
    expect(h.guestErrs('ahci.hbfs')).toHaveLength(1);
    expect(h.pr(0, PxIS) & (1 << 29)).toBe(1 << 29);
    expect(h.dev.stall(h.now)[0]).toMatch(/host bus fatal error/);
    recover(h);
    expect(h.exec(0, 0, { cmd: 0x25, lba: 0, count: 1, prds: [h.buffer(512).prd] })).toBe(0x50);
  });

  it('bus mastering off: the command header cannot be fetched (HBFS)', () => {
    const h = ready();
    h.gate.busMaster = false;
    h.exec(0, 0, { cmd: 0xec, prds: [h.buffer(512).prd] });
    expect(h.guestErrs('dma.no-bus-master').length).toBeGreaterThan(0);
    expect(h.pr(0, PxIS) & (1 << 29)).toBe(1 << 29);
  });

  it('SCTL.DET changed while ST=1 loses the running commands', () => {
    const h = ready();
    h.pw(0, 0x2c, 1);
    expect(h.guestErrs('ahci.sctl.while-started')).toHaveLength(1);
    expect(h.pr(0, PxCI)).toBe(0);
  });
});

describe('ahci determinism and timing', () => {
  function ncqRun(seed: number, hostileTiming = false): { times: number[]; hash: number; order: number[] } {
    const h = ready({ seed, hostileTiming, props: { latencyJitterPct: 30 } });
    const bufs = Array.from({ length: 16 }, () => h.buffer(4096));
    for (let t = 0; t < 16; t++) h.build(0, t, { cmd: 0x60, lba: t * 8, count: 8, prds: [bufs[t]!.prd] });
    h.pw(0, PxSACT, 0xffff);
    h.pw(0, PxCI, 0xffff);
    h.settle();
    for (let t = 0; t < 16; t++) expect(h.readMem(bufs[t]!.addr, 4096)).toEqual(expectedSectors(t * 8, 8));
    const sdb = h.dmaEvents('ahci.fis').filter((e) => e.data[0] === 0xa1);
    return {
      times: sdb.map((e) => e.time),
      order: sdb.map((e) => new DataView(e.data.buffer, e.data.byteOffset).getUint32(4, true)),
      hash: h.dev.stateHash(),
    };
  }

  it('same seed, same results; another seed, other times', () => {
    const a = ncqRun(3);
    const b = ncqRun(3);
    expect(b).toEqual(a);
    const c = ncqRun(4);
    expect(c.times).not.toEqual(a.times);
  });

  it('hostile timing: seeded, still correct', () => {
    const a = ncqRun(5, true);
    expect(ncqRun(5, true)).toEqual(a);
    expect(a.times).not.toEqual(ncqRun(5).times);
  });
});

describe('ahci factory: props validated, errors name the field', () => {
  function create(props: Record<string, unknown>): unknown {
    const ctx: DeviceContext = {
      id: 'ahci0', index: 0, queue: new EventQueue(), tracer: new MemoryTracer(), rng: new Rng(1), baseDir: tempDir(),
      attachPci: () => { throw new Error('not reached'); },
    };
    try {
      return ahciFactory.create(ctx, validateProps(ahciFactory.props, props, 'ahci0.props'));
    } catch (e) {
      return e;
    }
  }
  const field = (e: unknown): string | undefined => (e instanceof DeviceConfigError ? e.field : undefined);

  it('bad props', () => {
    const img = makeImage(8);
    expect(field(create({ disks: 'missing.img' }))).toBe('disks[0]');
    expect(field(create({ disks: `${img},,${img}`, ports: 2 }))).toBe('disks');
    expect(field(create({ disks: ',' }))).toBe('disks');
    expect(field(create({ disks: img, serial: 'x'.repeat(21) }))).toBe('serial');
    expect(field(create({ disks: `${img},${img}`, ports: 2, serial: 'x'.repeat(20) }))).toBe('serial');
    expect(field(create({ disks: img, faultPort: 1 }))).toBe('faultPort');
    expect(field(create({ disks: img, model: '' }))).toBe('model');
    fs.writeFileSync(path.join(tempDir(), 'odd.img'), new Uint8Array(700));
    expect(field(create({ disks: 'odd.img' }))).toBe('disks[0]');
    expect(() => validateProps(ahciFactory.props, { disks: img, ports: 33 }, 'p')).toThrow(/ports/);
  });

  it('quiesce: power-on state, addresses cleared, links retrain', () => {
    const h = ready();
    h.dev.quiesce();
    expect(h.pr(0, 0x00)).toBe(0);
    expect(h.pr(0, PxCMD)).toBe(0x6);
    expect(h.r32(0x04)).toBe(0x80000000);
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0x133);
  });
});
