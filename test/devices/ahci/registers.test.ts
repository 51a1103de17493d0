import { describe, expect, it } from 'vitest';
import {
  BOHC, CAP, CAP2, GHC, Harness, IS, PI, PxCI, PxCLB, PxCMD, PxFB, PxIE, PxIS, PxSACT, PxSERR, PxSIG, PxSSTS, PxTFD, VS,
} from './harness.js';
import { ahciDecoder } from '../../../src/devices/ahci/decode.js';

describe('ahci registers: reset values (AHCI 1.3.1 3.1, 3.3)', () => {
  it('generic host control and PCI identity', () => {
    const h = new Harness({ props: { ports: 4 } });
    expect(h.spec.classCode).toBe(0x010601);
    expect(h.spec.bars).toHaveLength(1);
    expect(h.spec.bars[0]!.index).toBe(5);
    expect(h.spec.bars[0]!.kind).toBe('mem32');
    expect(h.spec.capabilities.msi?.vectors).toBe(1);
    const cap = h.r32(CAP);
    expect(cap & 0x1f).toBe(3); // NP = ports - 1
    expect((cap >>> 8) & 0x1f).toBe(31); // 32 command slots
    expect((cap >>> 30) & 1).toBe(1); // SNCQ
    expect(cap >>> 31).toBe(1); // S64A
    expect((cap >>> 18) & 1).toBe(1); // SAM
    expect((cap >>> 24) & 1).toBe(1); // SCLO
    expect((cap >>> 27) & 1).toBe(0); // no staggered spin-up by default
    expect((cap >>> 20) & 0xf).toBe(3); // Gen3
    expect(h.r32(GHC)).toBe(0x80000000);
    expect(h.r32(IS)).toBe(0);
    expect(h.r32(PI)).toBe(0xf);
    expect(h.r32(VS)).toBe(0x00010301);
    expect(h.r32(CAP2) & 1).toBe(1);
    expect(h.r32(BOHC)).toBe(0);
  });

  it('port registers before and after the power-on link comes up', () => {
    const h = new Harness();
    expect(h.pr(0, PxTFD)).toBe(0x7f);
    expect(h.pr(0, PxSIG)).toBe(0xffffffff);
    expect(h.pr(0, PxSSTS)).toBe(0);
    expect(h.pr(0, PxCMD)).toBe(0x6); // SUD | POD
    expect(h.pr(0, PxCI)).toBe(0);
    h.runUs(999);
    expect(h.pr(0, PxSSTS) & 0xf).toBe(0);
    h.runUs(2);
    expect(h.pr(0, PxSSTS)).toBe(0x133); // DET 3, Gen3, IPM active
    expect(h.pr(0, PxTFD) & 0x80).toBe(0x80); // device busy with its reset diagnostics
    h.runUs(60);
    expect(h.pr(0, PxSIG)).toBe(0x101);
    expect(h.pr(0, PxTFD)).toBe(0x150);
    expect(h.pr(0, PxSERR)).toBe((1 << 16) | (1 << 26)); // DIAG.N, DIAG.X
    expect(h.pr(0, PxIS) & ((1 << 22) | (1 << 6))).toBe((1 << 22) | (1 << 6)); // PRCS, PCS
  });

  it('unimplemented ports read 0 and writes to them are guest errors', () => {
    const h = new Harness();
    expect(h.pr(1, PxCMD)).toBe(0);
    h.pw(1, PxCMD, 1);
    expect(h.guestErrs('ahci.reg.reserved')).toHaveLength(1);
  });

  it('a port with no device: implemented in PI, PxSSTS.DET stays 0', () => {
    const h = new Harness({ props: { ports: 3 } });
    h.settle();
    expect(h.r32(PI)).toBe(7);
    expect(h.pr(0, PxSSTS) & 0xf).toBe(3);
    expect(h.pr(1, PxSSTS)).toBe(0);
    expect(h.pr(2, PxSIG)).toBe(0xffffffff);
  });

  it('read-only registers ignore writes and record a guest error', () => {
    const h = new Harness();
    const cap = h.r32(CAP);
    h.w32(CAP, 0);
    h.w32(PI, 0);
    h.w32(VS, 0);
    h.pw(0, PxTFD, 0);
    h.pw(0, PxSIG, 0);
    h.pw(0, PxSSTS, 0);
    expect(h.r32(CAP)).toBe(cap);
    expect(h.r32(PI)).toBe(1);
    expect(h.pr(0, PxTFD)).toBe(0x7f);
    expect(h.guestErrs('ahci.reg.read-only')).toHaveLength(6);
    h.w32(GHC, 0x2); // clears AE: read-only 1 with CAP.SAM
    expect(h.r32(GHC)).toBe(0x80000002);
    expect(h.guestErrs('ahci.reg.read-only')).toHaveLength(7);
  });

  it('narrow accesses: reads give the bytes, writes are dropped', () => {
    const h = new Harness();
    expect(h.bar.read(VS + 2, 2)).toBe(0x0001);
    h.bar.write(GHC, 1, 2);
    expect(h.r32(GHC)).toBe(0x80000000);
    expect(h.guestErrs('ahci.mmio.width')).toHaveLength(2);
  });

  it('PxIS and PxSERR are write-1-to-clear; PRCS/PCS follow SERR.DIAG.N/X', () => {
    const h = new Harness();
    h.settle();
    const is0 = h.pr(0, PxIS);
    expect(is0 & 1).toBe(1); // DHRS from the signature FIS
    h.pw(0, PxIS, 0xffffffff);
    // DHRS cleared; PRCS and PCS are read-only mirrors of SERR.DIAG.N / DIAG.X.
    expect(h.pr(0, PxIS)).toBe((1 << 22) | (1 << 6));
    h.pw(0, PxSERR, 1 << 16);
    expect(h.pr(0, PxSERR)).toBe(1 << 26);
    expect(h.pr(0, PxIS)).toBe(1 << 6);
    h.pw(0, PxSERR, 1 << 26);
    expect(h.pr(0, PxIS)).toBe(0);
  });

  it('IS: a port bit is set by an enabled PxIS bit and cleared by writing 1 once PxIS is clear', () => {
    const h = new Harness();
    h.pw(0, PxIE, 1 << 22);
    h.w32(GHC, 0x80000002);
    h.settle();
    expect(h.r32(IS)).toBe(1);
    expect(h.irq.messages).toEqual([0]);
    h.w32(IS, 1); // PxIS.PRCS still set: the bit stays
    expect(h.r32(IS)).toBe(1);
    h.pw(0, PxSERR, 0xffffffff);
    h.w32(IS, 1);
    expect(h.r32(IS)).toBe(0);
  });

  it('INTx follows GHC.IE and IS', () => {
    const h = new Harness({ mode: 'intx' });
    h.pw(0, PxIE, 1);
    h.settle();
    expect(h.irq.level).toBe(false); // GHC.IE = 0
    expect(h.r32(IS)).toBe(1);
    h.w32(GHC, 0x80000002);
    expect(h.irq.level).toBe(true);
    h.pw(0, PxIS, 1);
    h.w32(IS, 1);
    expect(h.irq.level).toBe(false);
  });

  it('PxCLB keeps 1 KiB alignment, PxFB 256 bytes; both locked while running', () => {
    const h = new Harness();
    h.pw(0, PxCLB, 0x12345);
    expect(h.pr(0, PxCLB)).toBe(0x12000);
    h.pw(0, PxFB, 0x45678);
    expect(h.pr(0, PxFB)).toBe(0x45600);
    expect(h.guestErrs('ahci.clb.unaligned')).toHaveLength(1);
    expect(h.guestErrs('ahci.fb.unaligned')).toHaveLength(1);
    h.settle();
    h.startPort(0);
    const clb = h.pr(0, PxCLB);
    h.pw(0, PxCLB, 0x400000);
    h.pw(0, PxFB, 0x400000);
    expect(h.pr(0, PxCLB)).toBe(clb);
    expect(h.guestErrs('ahci.clb.while-running')).toHaveLength(1);
    expect(h.guestErrs('ahci.fb.while-running')).toHaveLength(1);
  });

  it('PxCMD: CR follows ST and FR follows FRE, clearing after the stop delay (10.3.2)', () => {
    const h = new Harness();
    h.settle();
    h.startPort(0);
    let cmd = h.pr(0, PxCMD);
    expect(cmd & 0x1).toBe(1);
    expect(cmd & (1 << 15)).toBe(1 << 15);
    expect(cmd & (1 << 14)).toBe(1 << 14);
    h.pw(0, PxCMD, 0x16); // clear ST
    cmd = h.pr(0, PxCMD);
    expect(cmd & 1).toBe(0);
    expect(cmd & (1 << 15)).toBe(1 << 15); // CR still 1
    h.runUs(3);
    expect(h.pr(0, PxCMD) & (1 << 15)).toBe(0);
    h.pw(0, PxCMD, 0x06); // clear FRE
    expect(h.pr(0, PxCMD) & (1 << 14)).toBe(1 << 14);
    h.runUs(3);
    expect(h.pr(0, PxCMD) & ((1 << 14) | (1 << 4))).toBe(0);
  });

  it('PxCMD guest errors: ST without FRE, ST again before CR cleared, FRE cleared while ST', () => {
    const h = new Harness();
    h.settle();
    h.pw(0, PxCMD, 0x07); // ST without FRE
    expect(h.guestErrs('ahci.cmd.st-without-fre')).toHaveLength(1);
    h.pw(0, PxCMD, 0x06);
    h.pw(0, PxCMD, 0x07); // CR still 1
    expect(h.guestErrs('ahci.cmd.st-while-cr')).toHaveLength(1);
    h.pw(0, PxCMD, 0x17);
    h.pw(0, PxCMD, 0x07); // FRE cleared while ST
    expect(h.guestErrs('ahci.cmd.fre-cleared-while-st')).toHaveLength(1);
    expect(h.pr(0, PxCMD) & 0x10).toBe(0x10);
  });

  it('PxCI and PxSACT cannot be written while ST is 0', () => {
    const h = new Harness();
    h.settle();
    h.pw(0, PxCI, 1);
    h.pw(0, PxSACT, 1);
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.pr(0, PxSACT)).toBe(0);
    expect(h.guestErrs('ahci.ci.not-started')).toHaveLength(1);
    expect(h.guestErrs('ahci.sact.not-started')).toHaveLength(1);
  });

  it('GHC.HR resets the ports (keeping PxCLB/PxFB) and self-clears; links retrain', () => {
    const h = new Harness();
    h.settle();
    h.startPort(0);
    const clb = h.pr(0, PxCLB);
    h.w32(GHC, 0x80000001);
    expect(h.r32(GHC) & 1).toBe(1);
    expect(h.pr(0, PxCMD)).toBe(0x6);
    expect(h.pr(0, PxIE)).toBe(0);
    expect(h.pr(0, PxSSTS)).toBe(0);
    expect(h.pr(0, PxCLB)).toBe(clb);
    h.runUs(10);
    expect(h.r32(GHC)).toBe(0x80000000);
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0x133);
    expect(h.pr(0, PxSIG)).toBe(0x101);
  });

  it('BOHC: OS ownership is granted at once, OOC is write-1-to-clear', () => {
    const h = new Harness();
    h.w32(BOHC, 0x2);
    expect(h.r32(BOHC)).toBe(0x2);
    h.w32(BOHC, 0x2 | 0x8);
    expect(h.r32(BOHC) & 0x8).toBe(0);
  });

  it('decoder names registers and fields', () => {
    expect(ahciDecoder.regName(5, 0x04, 4)).toBe('GHC');
    expect(ahciDecoder.regName(5, 0x100 + 0x80 + 0x18, 4)).toBe('P1CMD');
    expect(ahciDecoder.regName(5, 0x100 + 0x38 + 2, 1)).toBe('P0CI+2');
    expect(ahciDecoder.regName(0, 0x04, 4)).toBeUndefined();
    expect(ahciDecoder.regFields?.(5, 0x118, 0xc017, false)).toBe('ST=1 SUD=1 POD=1 CLO=0 FRE=1 CCS=0 FR=1 CR=1 ICC=0');
    expect(ahciDecoder.regFields?.(5, 0x110, (1 << 30) | 1, false)).toBe('DHRS|TFES');
    expect(ahciDecoder.regFields?.(5, 0x10, 0x10301, false)).toBe('1.3.1');
    expect(ahciDecoder.isVolatileRegister?.('P0CI')).toBe(true);
    expect(ahciDecoder.isVolatileRegister?.('P0CMD')).toBe(false);
    expect(ahciDecoder.addressRegisters).toContain('P0CLB');
    expect(ahciDecoder.dmaAddressFields?.('ahci.prdt', 32)).toEqual([0, 16]);
    expect(ahciDecoder.dmaAddressFields?.('ahci.cmdhdr', 32)).toEqual([8]);
    expect(ahciDecoder.dmaAddressFields?.('data', 512)).toBeUndefined();
  });
});


