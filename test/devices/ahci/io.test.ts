import { describe, expect, it } from 'vitest';
import { Harness, PxCI, PxCMD, PxIS, PxTFD, expectedSectors } from './harness.js';
import { getAtaString } from '../../../src/devices/ahci/identify.js';

function ready(opts: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = new Harness(opts);
  h.settle();
  h.startPort(0);
  h.pw(0, PxIS, 0xffffffff);
  return h;
}

const w16 = (d: Uint8Array, i: number): number => d[i * 2]! | (d[i * 2 + 1]! << 8);

describe('ahci IDENTIFY DEVICE (ACS-3 7.12.7): PIO data-in with a PIO Setup FIS', () => {
  it('fields, strings and the integrity checksum', () => {
    const h = ready({ props: { model: 'Test Disk Model', serial: 'SER123', firmware: 'FW42', ncqDepth: 31 } });
    const { addr, prd } = h.buffer(512);
    expect(h.exec(0, 0, { cmd: 0xec, prds: [prd] })).toBe(0x50);
    const d = h.readMem(addr, 512);
    expect(getAtaString(d, 10, 10)).toBe('SER123');
    expect(getAtaString(d, 23, 4)).toBe('FW42');
    expect(getAtaString(d, 27, 20)).toBe('Test Disk Model');
    // Byte-swapped per word: "Te" is stored as 'e','T'.
    expect(String.fromCharCode(d[54]!, d[55]!)).toBe('eT');
    expect(w16(d, 49) & 0x300).toBe(0x300); // DMA, LBA
    expect(w16(d, 83) & 0x400).toBe(0x400); // LBA48 supported
    expect(w16(d, 86) & 0x400).toBe(0x400); // LBA48 enabled
    expect(w16(d, 75)).toBe(30);
    expect(w16(d, 76) & 0x100).toBe(0x100); // NCQ
    expect(w16(d, 76) & 0xe).toBe(0xe); // Gen1-3
    expect(w16(d, 60) | (w16(d, 61) << 16)).toBe(h.sectors);
    expect(w16(d, 100) + w16(d, 101) * 65536).toBe(h.sectors);
    expect(w16(d, 102) | w16(d, 103)).toBe(0);
    expect(w16(d, 106)).toBe(0x4000); // 512-byte logical sectors (bit 12 clear: words 117-118 unused)
    expect(w16(d, 117) | w16(d, 118)).toBe(0);
    expect(d[510]).toBe(0xa5);
    let sum = 0;
    for (const b of d) sum += b;
    expect(sum & 0xff).toBe(0);
    // PIO Setup FIS at 0x20 with E_Status, PxIS.PSS, PRDBC 512, CI cleared.
    const ps = h.rfis(0, 0x20, 20);
    expect(ps[0]).toBe(0x5f);
    expect(ps[1]! & 0x60).toBe(0x60); // I, D
    expect(ps[15]).toBe(0x50);
    expect(ps[16]! | (ps[17]! << 8)).toBe(512);
    expect(h.pr(0, PxIS) & 0x2).toBe(0x2);
    expect(h.u32(h.clb[0]! + 4)).toBe(512);
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.irq.messages.length).toBeGreaterThan(0);
  });

  it('SET FEATURES disables the write cache (IDENTIFY word 85 bit 5)', () => {
    const h = new Harness({ props: { ports: 3 } });
    h.settle();
    h.startPort(0);
    const { addr, prd } = h.buffer(512);
    h.exec(0, 0, { cmd: 0xec, prds: [prd] });
    expect(w16(h.readMem(addr, 512), 85) & 0x20).toBe(0x20);
    expect(h.exec(0, 1, { cmd: 0xef, features: 0x82 })).toBe(0x50);
    h.exec(0, 2, { cmd: 0xec, prds: [prd] });
    expect(w16(h.readMem(addr, 512), 85) & 0x20).toBe(0);
    expect(getAtaString(h.readMem(addr, 512), 10, 10)).toBe('SIMRUN-AHCI-0001');
  });
});

describe('ahci READ/WRITE DMA EXT (ACS-3 7.25, 7.62) through the PRD table (AHCI 4.2.3)', () => {
  it('reads sectors into a scatter list; D2H FIS, DHRS, PRDBC, CI cleared', () => {
    const h = ready();
    const a = h.buffer(1024);
    const b = h.buffer(3072);
    expect(h.exec(0, 3, { cmd: 0x25, lba: 100, count: 8, prds: [a.prd, b.prd] })).toBe(0x50);
    expect(h.readMem(a.addr, 1024)).toEqual(expectedSectors(100, 2));
    expect(h.readMem(b.addr, 3072)).toEqual(expectedSectors(102, 6));
    const d2h = h.rfis(0, 0x40, 20);
    expect(d2h[0]).toBe(0x34);
    expect(d2h[1]! & 0x40).toBe(0x40);
    expect(d2h[2]).toBe(0x50);
    expect(h.pr(0, PxIS) & 1).toBe(1);
    expect(h.u32(h.clb[0]! + 3 * 32 + 4)).toBe(4096);
    expect(h.pr(0, PxCI)).toBe(0);
    expect((h.pr(0, PxCMD) >>> 8) & 0x1f).toBe(3); // CCS
    expect(h.dev.stats().reads).toBe(1);
    expect(h.dmaEvents('ahci.cfis')).toHaveLength(1);
    expect(h.dmaEvents('ahci.prdt')).toHaveLength(1);
    expect(h.dmaEvents('data').map((e) => e.data.length)).toEqual([1024, 3072]);
  });

  it('write then read back: the disk holds the data, the image file is untouched', () => {
    const h = ready();
    const src = h.buffer(2048, 0);
    for (let i = 0; i < 2048; i++) h.mem.ram[src.addr + i] = (i * 7 + 3) & 0xff;
    expect(h.exec(0, 0, { cmd: 0x35, write: true, lba: 500, count: 4, prds: [src.prd] })).toBe(0x50);
    expect(h.dev.stats().writes).toBe(1);
    const dst = h.buffer(2048);
    expect(h.exec(0, 1, { cmd: 0x25, lba: 500, count: 4, prds: [dst.prd] })).toBe(0x50);
    expect(h.readMem(dst.addr, 2048)).toEqual(h.readMem(src.addr, 2048));
    expect(h.dev.ports[0]!.disk!.verify(500, h.readMem(src.addr, 2048))).toBe(true);
    expect(h.exec(0, 2, { cmd: 0xea })).toBe(0x50);
    expect(h.dev.stats().flushes).toBe(1);
  });

  it('read latency: completion after readLatencyUs plus the link transfer time', () => {
    const h = ready({ props: { readLatencyUs: 300 } });
    const b = h.buffer(512);
    h.issue(0, 0, { cmd: 0x25, lba: 1, count: 1, prds: [b.prd] });
    h.runUs(290);
    expect(h.pr(0, PxCI)).toBe(1);
    expect(h.pr(0, PxTFD) & 0x80).toBe(0x80);
    h.runUs(20);
    expect(h.pr(0, PxCI)).toBe(0);
  });

  it('non-queued commands in several slots run one after another', () => {
    const h = ready();
    const bufs = [0, 1, 2].map(() => h.buffer(512));
    for (let s = 0; s < 3; s++) h.build(0, s, { cmd: 0x25, lba: 10 + s, count: 1, prds: [bufs[s]!.prd] });
    h.pw(0, PxCI, 0x7);
    h.settle();
    expect(h.pr(0, PxCI)).toBe(0);
    for (let s = 0; s < 3; s++) expect(h.readMem(bufs[s]!.addr, 512)).toEqual(expectedSectors(10 + s, 1));
  });

  it('PRD I bit raises PxIS.DPS', () => {
    const h = ready();
    const b = h.buffer(512);
    h.exec(0, 0, { cmd: 0x25, lba: 0, count: 1, prds: [b.prd] });
    expect(h.pr(0, PxIS) & 0x20).toBe(0);
    h.exec(0, 1, { cmd: 0x25, lba: 0, count: 1, prds: [{ ...b.prd, irq: true }] });
    expect(h.pr(0, PxIS) & 0x20).toBe(0x20);
  });

  it('an odd PRD byte count is rounded up to even, with a guest error', () => {
    const h = ready();
    const b = h.buffer(1024);
    // DBC = 510 (bit 0 clear): treated as 511 -> 512 bytes.
    h.exec(0, 0, { cmd: 0x25, lba: 5, count: 2, prds: [{ addr: b.addr, bytes: 0, dbc: 510 }, { addr: b.addr + 512, bytes: 512 }] });
    expect(h.readMem(b.addr, 1024)).toEqual(expectedSectors(5, 2));
    expect(h.guestErrs('ahci.prdt.odd-count')).toHaveLength(1);
  });

  it('a PRD entry is limited to 4 MiB: DBC bits above 21 are reserved and ignored', () => {
    const h = ready({ sectors: 16384 });
    const big = h.alloc(4 << 20);
    const rest = h.alloc(4096);
    // 4 MiB (DBC 0x3fffff) is the largest entry; setting bit 22 asks for 8 MiB.
    h.exec(0, 0, { cmd: 0x25, lba: 0, count: 8200, prds: [{ addr: big, bytes: 0, dbc: 0x7fffff }, { addr: rest, bytes: 4096 }] });
    expect(h.guestErrs('ahci.prdt.reserved')).toHaveLength(1);
    expect(h.pr(0, PxTFD)).toBe(0x50);
    expect(h.readMem(rest, 4096)).toEqual(expectedSectors(8192, 8));
    expect(h.u32(h.clb[0]! + 4)).toBe(8200 * 512);
  });

  it('a PRD table too short for the transfer stops the port with PxIS.OFS', () => {
    const h = ready();
    const b = h.buffer(512);
    h.exec(0, 0, { cmd: 0x25, lba: 0, count: 2, prds: [b.prd] });
    expect(h.pr(0, PxIS) & (1 << 24)).toBe(1 << 24);
    expect(h.pr(0, PxCI)).toBe(1);
    expect(h.guestErrs('ahci.prdt.short')).toHaveLength(1);
    expect(h.dev.stall(h.now).join('\n')).toMatch(/PRD table overflow/);
  });

  it('reads beyond the last sector are aborted with IDNF and TFES', () => {
    const h = ready({ sectors: 64 });
    const b = h.buffer(1024);
    const tfd = h.exec(0, 0, { cmd: 0x25, lba: 63, count: 2, prds: [b.prd] });
    expect(tfd & 0xff).toBe(0x51);
    expect((tfd >>> 8) & 0x10).toBe(0x10);
    expect(h.pr(0, PxIS) & (1 << 30)).toBe(1 << 30);
    expect(h.guestErrs('ahci.ata.lba-out-of-range')).toHaveLength(1);
  });

  it('unknown commands and SET FEATURES subcommands are aborted (ERR, ABRT)', () => {
    const h = ready();
    const tfd = h.exec(0, 0, { cmd: 0xb0, features: 0xd0 });
    expect(tfd).toBe(0x0451);
    expect(h.guestErrs('ahci.ata.unsupported')).toHaveLength(1);
    h.pw(0, PxCMD, 0x16);
    h.runUs(5);
    h.pw(0, PxIS, 0xffffffff);
    h.pw(0, PxCMD, 0x17);
    expect(h.exec(0, 0, { cmd: 0xef, features: 0x77 })).toBe(0x0451);
    expect(h.exec(0, 0, { cmd: 0x25, lba: 0, count: 1, prds: [h.buffer(512).prd] })).toBe(0x0451); // halted: not run
  });

  it('the W bit must match the command direction', () => {
    const h = ready();
    const b = h.buffer(512);
    expect(h.exec(0, 0, { cmd: 0x25, write: true, lba: 0, count: 1, prds: [b.prd] })).toBe(0x50);
    expect(h.guestErrs('ahci.cmdhdr.direction')).toHaveLength(1);
  });
});
