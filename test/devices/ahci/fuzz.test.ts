/**
 * Hostile driver traffic against the AHCI model: random ABAR reads and
 * writes of any width and offset (generic host registers, port registers,
 * unimplemented ports, beyond), PxCMD ST/FRE/CLO toggles, COMRESET and
 * disable through PxSCTL, PxCI / PxSACT with random slots, command headers,
 * command tables, command FISes and PRD tables with random contents in guest
 * memory (any FIS type, opcode, count, LBA, odd and > 4 MiB byte counts,
 * addresses outside RAM or outside DMA memory), GHC.HR, bus mastering off,
 * interrupt mode changes and function resets, interleaved with running the
 * event queue. Properties: the model never throws, reserved register bits
 * read 0 and read-only registers keep their values, every guest error is a
 * catalogued code, and after a final HBA reset the port comes back and a
 * valid IDENTIFY DEVICE completes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BOHC, CAP, CAP2, GHC, Harness, IS, PI, PxCI, PxCLB, PxCMD, PxFB, PxIE, PxIS, PxSACT, PxSCTL, PxSERR, PxSIG, PxSSTS, PxTFD, VS } from './harness.js';
import { us } from '../../../src/sim/time.js';
import { AHCI_GUEST_ERRORS } from '../../../src/devices/ahci/guest-errors.js';
import { PCI_GUEST_ERRORS } from '../../../src/devices/pci/guest-errors.js';

const CATALOGUE = new Set([...Object.keys(AHCI_GUEST_ERRORS), ...Object.keys(PCI_GUEST_ERRORS)]);
const PORTS = 2;
const SECTORS = 256;
const DATA_BYTES = 0x40000;
/** PxCMD bits that exist: ST, SUD, POD, FRE, CCS, FR, CR (CLO and ICC read 0). */
const CMD_READABLE = 0x0000df17;
const IS_DEFINED = 0xfdc000ff;
const SERR_DEFINED = (0x0f03 | (0x07ff << 16)) >>> 0;

type Op =
  | { k: 'w'; off: number; size: 1 | 2 | 4; value: number }
  | { k: 'r'; off: number; size: 1 | 2 | 4 }
  | { k: 'cmdReg'; port: number; value: number }
  | { k: 'sctl'; port: number; det: number; holdUs: number }
  | { k: 'ci'; port: number; mask: number; sact: boolean }
  | { k: 'cmd'; port: number; slot: number; c: Cmd; issue: boolean; sact: boolean; runUs: number }
  | { k: 'garbage'; port: number; slot: number; where: 'hdr' | 'ct'; bytes: number[]; at: number }
  | { k: 'hr' }
  | { k: 'ack'; port: number }
  | { k: 'busMaster'; on: boolean }
  | { k: 'mode'; mode: 'msi' | 'intx' }
  | { k: 'run'; us: number }
  | { k: 'quiesce' };

interface PrdSpec { where: 'data' | 'any' | 'nodma' | 'high'; off: number; dbau: number; dbc: number; irq: boolean }
interface Cmd {
  /** The command header W bit is the opposite of the command's direction. */
  cfl: number; flipW: boolean; prdtl: number; extraDw0: number;
  ctba: 'own' | 'unaligned' | 'any' | 'high' | 'nodma'; ctbaRaw: number;
  fisType: number; cbit: boolean; cmd: number; features: number; logAddr: number; count: number; lba: number; device: number; tagByte: number;
  /** exact: one PRD covering the transfer (as a driver builds it); split: two; random: `prds`. */
  prdMode: 'exact' | 'split' | 'random';
  dataOff: number;
  prds: PrdSpec[];
}

const port = fc.integer({ min: 0, max: PORTS - 1 });
const slot = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 31 }));
const size = fc.constantFrom<1 | 2 | 4>(4, 4, 4, 2, 1);
const offset = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x2c / 4 }).map((i) => i * 4) }, // generic host registers
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: PORTS }), fc.integer({ min: 0, max: 0x1f })).map(([p, r]) => 0x100 + p * 0x80 + r * 4) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x2fff }) }, // anywhere, beyond the ABAR too
);
const value = fc.oneof(
  fc.constantFrom(0, 1, 2, 4, 0x10, 0x11, 0x16, 0x17, 0x18, 0x80000000, 0x80000001, 0x80000002, 0xffffffff, 0xfdc000ff, 0x100000, 0x100400, 0x100080),
  fc.integer({ min: 0, max: 0xffff }),
  fc.nat().map((v) => v >>> 0),
  fc.integer({ min: 0, max: 0xffffffff }),
);
const mask = fc.oneof(fc.constantFrom(0, 1, 2, 3, 0x80000000, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));

const prd: fc.Arbitrary<PrdSpec> = fc.record({
  where: fc.constantFrom<PrdSpec['where']>('data', 'data', 'data', 'any', 'nodma', 'high'),
  off: fc.oneof(fc.integer({ min: 0, max: 64 }).map((v) => v * 512), fc.integer({ min: 0, max: DATA_BYTES + 0x1000 }), fc.nat()),
  dbau: fc.constantFrom(0, 0, 0, 0, 0, 1, 0xffffffff),
  dbc: fc.oneof(
    fc.constantFrom(511, 510, 4095, 0, 1, 0x1ff, 0x3fffff, 0x400000, 0x7fffffff, 0xffffffff),
    fc.integer({ min: 0, max: 0x10000 }),
    fc.integer({ min: 0, max: 0xffffffff }),
  ),
  irq: fc.boolean(),
});

/** Mostly `valid`, sometimes `hostile`: a command goes wrong in one or two fields, not all of them. */
function mostly<T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>, validWeight = 6): fc.Arbitrary<T> {
  return fc.oneof({ weight: validWeight, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

const cmd: fc.Arbitrary<Cmd> = fc.record({
  cfl: mostly(fc.constant(5), fc.integer({ min: 0, max: 31 })),
  flipW: mostly(fc.constant(false), fc.constant(true)),
  prdtl: mostly(fc.constant(-1), fc.oneof(fc.constantFrom(0, 1, 65535), fc.integer({ min: 0, max: 16 })), 4),
  extraDw0: mostly(fc.constant(0), fc.integer({ min: 0, max: 0xffff }).map((v) => v & 0xffa0)),
  ctba: mostly(fc.constant<Cmd['ctba']>('own'), fc.constantFrom<Cmd['ctba']>('unaligned', 'any', 'high', 'nodma'), 12),
  ctbaRaw: fc.nat(),
  fisType: mostly(fc.constant(0x27), fc.oneof(fc.constantFrom(0x34, 0x39, 0x41, 0x46, 0x58, 0x5f, 0xa1, 0), fc.integer({ min: 0, max: 255 })), 25),
  cbit: mostly(fc.constant(true), fc.constant(false), 25),
  cmd: fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(0x25, 0x35, 0xc8, 0xca, 0x60, 0x61, 0x60, 0x61, 0xec, 0xef, 0x2f, 0xe7, 0xea) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
  ),
  features: mostly(fc.constantFrom(0x02, 0x03, 0x10, 0x55, 0x82, 0x90, 0xaa), fc.integer({ min: 0, max: 0xffff }), 4),
  logAddr: mostly(fc.constantFrom(0x00, 0x10), fc.integer({ min: 0, max: 255 }), 4),
  count: mostly(fc.integer({ min: 1, max: 16 }), fc.oneof(fc.constantFrom(0, 255, 256, 0xffff), fc.integer({ min: 0, max: 0xffff })), 4),
  lba: mostly(
    fc.integer({ min: 0, max: SECTORS - 16 }),
    fc.oneof(
      fc.integer({ min: SECTORS - 16, max: SECTORS + 16 }),
      fc.constantFrom(0x0fffffff, 2 ** 32, 2 ** 48 - 1),
      fc.integer({ min: 0, max: 2 ** 48 - 1 }),
    ),
    4,
  ),
  device: mostly(fc.constant(0x40), fc.constantFrom(0x00, 0xff, 0xe0)),
  tagByte: mostly(fc.constant(-1), fc.integer({ min: 0, max: 255 }), 4),
  prdMode: mostly(fc.constantFrom<Cmd['prdMode']>('exact', 'split'), fc.constant<Cmd['prdMode']>('random'), 4),
  dataOff: fc.integer({ min: 0, max: 64 }).map((v) => v * 1024),
  prds: fc.array(prd, { maxLength: 6 }),
});

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('w' as const), off: offset, size, value }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('r' as const), off: offset, size }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('cmdReg' as const), port,
      value: fc.oneof(fc.constantFrom(0x0, 0x1, 0x2, 0x6, 0x8, 0x10, 0x11, 0x16, 0x17, 0x18, 0x1e, 0x10000001), fc.integer({ min: 0, max: 0xffffffff })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('sctl' as const), port, det: fc.oneof(fc.constantFrom(0, 1, 1, 4), fc.integer({ min: 0, max: 0xffffffff })),
      holdUs: fc.constantFrom(0, 10, 1100),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('ci' as const), port, mask, sact: fc.boolean() }) },
  { weight: 14, arbitrary: fc.record({ k: fc.constant('cmd' as const), port: fc.oneof(fc.constant(0), port), slot, c: cmd, issue: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)), sact: fc.boolean(), runUs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 300 })) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('garbage' as const), port, slot, where: fc.constantFrom<'hdr' | 'ct'>('hdr', 'ct'),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }), at: fc.integer({ min: 0, max: 0x100 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'hr' as const }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('ack' as const), port: fc.oneof(fc.constant(0), port) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('busMaster' as const), on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('mode' as const), mode: fc.constantFrom('msi' as const, 'intx' as const) }) },
  { weight: 6, arbitrary: fc.record({ k: fc.constant('run' as const), us: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3000 })) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'quiesce' as const }) },
);

/** Bytes the command moves, when it is one this model transfers data for (0 otherwise). */
function transferBytes(c: Cmd): number {
  switch (c.cmd) {
    case 0x25: case 0x35: case 0x60: case 0x61: return (c.count || 65536) * 512;
    case 0xc8: case 0xca: return ((c.count & 0xff) || 256) * 512;
    case 0xec: case 0x2f: return 512;
    default: return 0;
  }
}

class Fuzz {
  readonly h: Harness;
  readonly data: number;
  readonly noDma: number;
  readonly cap: number;
  readonly pi: number;
  readonly vs: number;
  readonly cap2: number;

  constructor(hostileTiming: boolean) {
    const h = new Harness({ sectors: SECTORS, hostileTiming, props: { ports: PORTS, ncqDepth: 8 } });
    this.h = h;
    h.settle();
    for (let p = 0; p < PORTS; p++) h.startPort(p);
    this.data = h.alloc(DATA_BYTES);
    this.noDma = h.alloc(0x10000, 4096, false);
    this.cap = h.r32(CAP);
    this.pi = h.r32(PI);
    this.vs = h.r32(VS);
    this.cap2 = h.r32(CAP2);
  }

  prdAddr(p: PrdSpec): number {
    switch (p.where) {
      case 'data': return (this.data + (p.off % (DATA_BYTES + 0x1000))) >>> 0;
      case 'nodma': return this.noDma + (p.off & 0xffff);
      case 'high': return (0x0200_0000 + (p.off & 0x0fff_ffff)) >>> 0; // beyond the 32 MiB of RAM
      case 'any': return p.off >>> 0;
    }
  }

  /** Writes the command header and table of `slot` as a hostile driver might. */
  build(port: number, slot: number, c: Cmd): void {
    const h = this.h;
    const ram = h.mem.ram;
    const v = h.mem.ramView;
    const own = h.ct[port]![slot]!;
    ram.fill(0, own, own + 4096);
    const hdr = h.clb[port]! + slot * 32;
    ram.fill(0, hdr, hdr + 32);
    const bytes = transferBytes(c);
    const half = Math.max(2, (bytes >> 1) & ~1);
    const prds: PrdSpec[] = c.prdMode === 'random' || bytes === 0 ? c.prds
      : c.prdMode === 'exact' ? [{ where: 'data', off: c.dataOff, dbau: 0, dbc: bytes - 1, irq: true }]
      : [{ where: 'data', off: c.dataOff, dbau: 0, dbc: half - 1, irq: false }, { where: 'data', off: c.dataOff + half, dbau: 0, dbc: bytes - half - 1, irq: true }];
    const prdtl = c.prdtl < 0 ? prds.length : c.prdtl;
    v.setUint32(hdr, ((c.cfl & 0x1f) | (([0x35, 0xca, 0x61].includes(c.cmd) !== c.flipW) ? 0x40 : 0) | c.extraDw0 | (prdtl << 16)) >>> 0, true);
    let ctba = own;
    let ctbau = 0;
    switch (c.ctba) {
      case 'own': break;
      case 'unaligned': ctba = own + (c.ctbaRaw % 128); break;
      case 'any': ctba = c.ctbaRaw >>> 0; break;
      case 'high': ctbau = (c.ctbaRaw & 0xff) + 1; break;
      case 'nodma': ctba = this.noDma; break;
    }
    v.setUint32(hdr + 8, ctba >>> 0, true);
    v.setUint32(hdr + 12, ctbau, true);
    // The command FIS always goes in the slot's own table (the header may point elsewhere).
    const fpdma = c.cmd === 0x60 || c.cmd === 0x61;
    const features = fpdma ? c.count : c.features;
    ram[own] = c.fisType;
    ram[own + 1] = c.cbit ? 0x80 : 0;
    ram[own + 2] = c.cmd;
    ram[own + 3] = features & 0xff;
    ram[own + 4] = c.cmd === 0x2f ? c.logAddr : c.lba & 0xff;
    ram[own + 5] = (c.lba >>> 8) & 0xff;
    ram[own + 6] = (c.lba >>> 16) & 0xff;
    ram[own + 7] = c.device;
    ram[own + 8] = (c.lba >>> 24) & 0xff;
    ram[own + 9] = Math.floor(c.lba / 2 ** 32) & 0xff;
    ram[own + 10] = Math.floor(c.lba / 2 ** 40) & 0xff;
    ram[own + 11] = (features >> 8) & 0xff;
    if (fpdma) ram[own + 12] = c.tagByte < 0 ? slot << 3 : c.tagByte;
    else if (c.cmd === 0x2f && c.count <= 16) {
      ram[own + 12] = 1;
    } else {
      ram[own + 12] = c.count & 0xff;
      ram[own + 13] = (c.count >> 8) & 0xff;
    }
    prds.forEach((p, i) => {
      const e = own + 0x80 + i * 16;
      v.setUint32(e, this.prdAddr(p), true);
      v.setUint32(e + 4, p.dbau, true);
      v.setUint32(e + 12, (p.dbc | (p.irq ? 0x80000000 : 0)) >>> 0, true);
    });
  }

  apply(o: Op): void {
    const h = this.h;
    switch (o.k) {
      case 'w':
        h.bar.write(o.off, o.size, o.value);
        break;
      case 'r':
        h.bar.read(o.off, o.size);
        break;
      case 'cmdReg':
        h.pw(o.port, PxCMD, o.value);
        break;
      case 'sctl':
        h.pw(o.port, PxSCTL, o.det);
        if ((o.det & 0xf) === 1) {
          h.runUs(o.holdUs);
          h.pw(o.port, PxSCTL, o.det & ~0xf);
        }
        break;
      case 'ci':
        if (o.sact) h.pw(o.port, PxSACT, o.mask);
        h.pw(o.port, PxCI, o.mask);
        break;
      case 'cmd':
        this.build(o.port, o.slot, o.c);
        if (o.issue) {
          if (o.sact) h.pw(o.port, PxSACT, 1 << o.slot);
          h.pw(o.port, PxCI, 1 << o.slot);
        }
        h.runUs(o.runUs);
        break;
      case 'garbage': {
        const base = o.where === 'hdr' ? h.clb[o.port]! + o.slot * 32 : h.ct[o.port]![o.slot]!;
        const at = o.where === 'hdr' ? o.at % 32 : o.at;
        h.mem.ram.set(o.bytes.slice(0, o.where === 'hdr' ? 32 - at : 4096 - at), base + at);
        break;
      }
      case 'hr':
        h.w32(GHC, 0x80000001);
        break;
      case 'ack':
        this.restart(o.port);
        break;
      case 'busMaster':
        h.gate.busMaster = o.on;
        break;
      case 'mode':
        h.irq.mode = o.mode;
        break;
      case 'run':
        h.run(us(o.us));
        break;
      case 'quiesce':
        h.dev.quiesce();
        break;
    }
    this.checkRegisters();
  }

  /**
   * What a driver does after an error (AHCI 1.3.1 6.2.2, 10.1.2): clear ST and
   * FRE and wait for CR / FR, COMRESET if the link is not up, clear PxSERR and
   * PxIS, then program PxCLB / PxFB again and set FRE and ST.
   */
  restart(port: number): void {
    const h = this.h;
    h.pw(port, PxCMD, h.pr(port, PxCMD) & ~1);
    h.pw(port, PxCMD, h.pr(port, PxCMD) & ~0x11);
    for (let i = 0; i < 10 && (h.pr(port, PxCMD) & 0xc000) !== 0; i++) h.runUs(100);
    if ((port === 0 && (h.pr(port, PxSSTS) & 0xf) !== 3) || (h.r32(GHC) & 1) !== 0) {
      h.pw(port, PxSCTL, 1);
      h.runUs(1100);
      h.pw(port, PxSCTL, 0);
      h.waitLink(port);
    }
    h.pw(port, PxSERR, 0xffffffff);
    h.pw(port, PxIS, 0xffffffff);
    h.w32(IS, 0xffffffff);
    h.startPort(port);
  }

  /** Read-only registers keep their values; reserved bits and reserved space read 0. */
  checkRegisters(): void {
    const h = this.h;
    expect(h.r32(CAP)).toBe(this.cap);
    expect(h.r32(PI)).toBe(this.pi);
    expect(h.r32(VS)).toBe(this.vs);
    expect(h.r32(CAP2)).toBe(this.cap2);
    const ghc = h.r32(GHC);
    expect(ghc & ~0x80000003).toBe(0);
    expect(ghc >>> 31).toBe(1); // AE: CAP.SAM=1
    expect(h.r32(IS) & ~this.pi).toBe(0);
    expect(h.r32(BOHC) & ~0x1f).toBe(0);
    for (const off of [0x14, 0x18, 0x1c, 0x20, 0x2c, 0xa0, 0xfc]) expect(h.r32(off)).toBe(0);
    for (let p = 0; p < PORTS; p++) {
      expect(h.pr(p, PxCLB) & 0x3ff).toBe(0);
      expect(h.pr(p, PxFB) & 0xff).toBe(0);
      expect(h.pr(p, PxIS) & ~IS_DEFINED).toBe(0);
      expect(h.pr(p, PxIE) & ~IS_DEFINED).toBe(0);
      expect(h.pr(p, PxCMD) & ~CMD_READABLE).toBe(0);
      expect(h.pr(p, PxTFD) & ~0xffff).toBe(0);
      expect(h.pr(p, PxSSTS) & ~0xfff).toBe(0);
      expect(h.pr(p, PxSCTL) & ~0xfff).toBe(0);
      expect(h.pr(p, PxSERR) & ~SERR_DEFINED).toBe(0);
      expect([0xffffffff, 0x101]).toContain(h.pr(p, PxSIG));
      for (let r = 0x48; r < 0x80; r += 4) expect(h.pr(p, r)).toBe(0);
    }
    // An unimplemented port reads 0 throughout.
    for (let r = 0; r < 0x80; r += 4) expect(h.pr(PORTS, r)).toBe(0);
  }

  /** HBA reset, then the bring-up of 10.1.2 and a valid IDENTIFY DEVICE. */
  recover(): void {
    const h = this.h;
    h.gate.busMaster = true;
    h.irq.mode = 'msi';
    h.w32(GHC, 0x80000001);
    h.settle();
    expect(h.r32(GHC) & 1).toBe(0);
    expect(h.pr(0, PxSSTS) & 0xf).toBe(3);
    expect(h.pr(0, PxSIG)).toBe(0x101);
    h.startPort(0);
    h.pw(0, PxIS, 0xffffffff);
    const buf = this.data;
    h.mem.ram.fill(0xee, buf, buf + 512);
    expect(h.exec(0, 0, { cmd: 0xec, prds: [{ addr: buf, bytes: 512 }] })).toBe(0x50);
    const d = h.readMem(buf, 512);
    expect(d[510]).toBe(0xa5);
    expect(d[200]! | (d[201]! << 8)).toBe(SECTORS); // word 100: LBA48 sector count
    let sum = 0;
    for (const b of d) sum += b;
    expect(sum & 0xff).toBe(0);
    expect(h.pr(0, PxCI)).toBe(0);
  }
}

describe('ahci fuzz', () => {
  it('random register / command list / PRD traffic never throws, keeps reserved bits 0, and the HBA recovers', () => {
    const seen = new Set<string>();
    /** Runs in which data moved between the disk and memory. */
    let transfers = 0;
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { minLength: 1, maxLength: 40, size: 'medium' }), (hostile, ops) => {
        const f = new Fuzz(hostile);
        const h = f.h;
        for (const o of ops) f.apply(o);
        h.settle(200_000);
        f.checkRegisters();
        for (const e of h.guestErrs()) {
          expect(CATALOGUE.has(e.code), `uncatalogued guest error ${e.code}: ${e.message}`).toBe(true);
          seen.add(e.code);
        }
        expect(h.dev.stats().guestErrors).toBe(h.guestErrs('ahci.').length);
        if (h.dev.stats().bytesRead! + h.dev.stats().bytesWritten! > 0) transfers++;
        f.recover();
      }),
      // Fixed seed; FUZZ_SEED / FUZZ_RUNS explore further (e.g. FUZZ_SEED=7 FUZZ_RUNS=2000).
      { seed: Number(process.env.FUZZ_SEED ?? 1), numRuns: Number(process.env.FUZZ_RUNS ?? 250) },
    );
    // The generator reaches (nearly) every ahci guest error, and many runs move data.
    const missed = Object.keys(AHCI_GUEST_ERRORS).filter((c) => !seen.has(c));
    expect(missed.length, `not reached: ${missed.join(', ')}`).toBeLessThanOrEqual(2);
    expect(transfers).toBeGreaterThan(30);
  });
});
