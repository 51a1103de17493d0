import { describe, expect, it } from 'vitest';
import { CAP, Harness, PxCI, PxCMD, PxIS, PxSCTL, PxSERR, PxSIG, PxSSTS, PxTFD } from './harness.js';

describe('ahci link: COMRESET, signature, spin-up (AHCI 1.3.1 3.3.11, 10.4.2)', () => {
  it('COMRESET via SCTL.DET=1 then 0: link down, then up after linkUpDelayUs with the signature FIS', () => {
    const h = new Harness({ props: { linkUpDelayUs: 200 } });
    h.settle();
    h.startPort(0);
    h.pw(0, PxCMD, 0x16); // stop before resetting
    h.runUs(5);
    h.pw(0, PxSERR, 0xffffffff);
    h.pw(0, PxIS, 0xffffffff);
    h.pw(0, PxSCTL, 0x301); // DET=1, IPM: partial/slumber disabled
    expect(h.pr(0, PxSSTS)).toBe(0);
    expect(h.pr(0, PxTFD)).toBe(0x7f);
    expect(h.pr(0, PxSIG)).toBe(0xffffffff);
    h.runUs(1000);
    expect(h.pr(0, PxSSTS)).toBe(0); // held in reset
    h.pw(0, PxSCTL, 0x300);
    h.runUs(199);
    expect(h.pr(0, PxSSTS) & 0xf).toBe(0);
    h.runUs(2);
    expect(h.pr(0, PxSSTS)).toBe(0x133);
    expect(h.pr(0, PxSERR) & (1 << 16)).toBe(1 << 16);
    expect(h.pr(0, PxIS) & (1 << 22)).toBe(1 << 22);
    h.runUs(60);
    expect(h.pr(0, PxSIG)).toBe(0x101);
    expect(h.pr(0, PxTFD)).toBe(0x150);
    const d2h = h.rfis(0, 0x40, 20);
    expect(d2h[0]).toBe(0x34);
    expect(d2h[12]).toBe(0x01); // signature 00000101h: sector count 01h
    expect(d2h[4]).toBe(0x01); // LBA 7:0 = 01h
    expect(d2h[5]).toBe(0);
    expect(h.guestErrs().map((e) => e.message)).toEqual([]);
    expect(h.dev.stats().linkUps).toBe(2);
  });

  it('a COMRESET shorter than 1 ms is a guest error (the reset still happens)', () => {
    const h = new Harness();
    h.settle();
    h.pw(0, PxSCTL, 1);
    h.runUs(10);
    h.pw(0, PxSCTL, 0);
    h.settle();
    expect(h.guestErrs('ahci.sctl.comreset-short')).toHaveLength(1);
    expect(h.pr(0, PxSIG)).toBe(0x101);
  });

  it('SCTL.DET=4 takes the interface offline', () => {
    const h = new Harness();
    h.settle();
    h.pw(0, PxSCTL, 4);
    expect(h.pr(0, PxSSTS)).toBe(4);
    h.pw(0, PxSCTL, 0);
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0x133);
  });

  it('staggered spin-up: no link until PxCMD.SUD is set', () => {
    const h = new Harness({ props: { staggeredSpinUp: true } });
    expect((h.r32(CAP) >>> 27) & 1).toBe(1);
    expect(h.pr(0, PxCMD) & 0x2).toBe(0);
    h.runUs(5000);
    expect(h.pr(0, PxSSTS)).toBe(0);
    h.pw(0, PxCMD, 0x2);
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0x133);
    expect(h.pr(0, PxSIG)).toBe(0x101);
  });

  it('link speed prop: Gen1', () => {
    const h = new Harness({ props: { linkSpeed: 1 } });
    h.settle();
    expect(h.pr(0, PxSSTS)).toBe(0x113);
    expect((h.r32(CAP) >>> 20) & 0xf).toBe(1);
  });

  it('commands issued to a port with no device are never sent (guest error, stall names it)', () => {
    const h = new Harness({ props: { ports: 2 } });
    h.settle();
    h.startPort(1);
    h.issue(1, 0, { cmd: 0xec, prds: [h.buffer(512).prd] });
    h.settle();
    expect(h.pr(1, PxCI)).toBe(1);
    expect(h.guestErrs('ahci.cmd.no-device')).toHaveLength(1);
    expect(h.dev.stall(h.now)).toEqual([expect.stringMatching(/^port 1: CI 0x1 issued .* ago: no device is attached/)]);
  });

  it('a command issued before the link is up waits for the signature FIS', () => {
    const h = new Harness();
    h.startPort(0);
    const b = h.buffer(512);
    h.issue(0, 0, { cmd: 0xec, prds: [b.prd] });
    h.settle();
    expect(h.pr(0, PxCI)).toBe(0);
    expect(h.pr(0, PxTFD)).toBe(0x50);
  });
});
