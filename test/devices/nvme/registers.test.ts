import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { us } from '../../../src/sim/time.js';

describe('nvme registers: reset values and access rules (NVMe 1.4 3.1)', () => {
  it('CAP, VS and the other registers have their reset values', () => {
    const h = new Harness({ props: { maxQueueEntries: 256, timeout500ms: 10 } });
    const capLo = h.r32(0x00);
    const capHi = h.r32(0x04);
    expect(capLo & 0xffff).toBe(255); // MQES = maxQueueEntries - 1
    expect((capLo >>> 16) & 1).toBe(1); // CQR
    expect((capLo >>> 17) & 3).toBe(0); // AMS: round robin only
    expect(capLo >>> 24).toBe(10); // TO
    expect(capHi & 0xf).toBe(0); // DSTRD
    expect((capHi >>> 4) & 1).toBe(1); // NSSRS
    expect((capHi >>> 5) & 0xff).toBe(1); // CSS: NVM command set
    expect((capHi >>> 16) & 0xf).toBe(0); // MPSMIN
    expect((capHi >>> 20) & 0xf).toBe(4); // MPSMAX
    expect(h.r32(0x08)).toBe(0x00010400);
    for (const off of [0x0c, 0x10, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34]) expect(h.r32(off)).toBe(0);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('reserved offsets and doorbells read 0', () => {
    const h = new Harness();
    for (const off of [0x38, 0x3c, 0x40, 0x58, 0x100, 0xe00, 0xffc, 0x1000, 0x1004, 0x1ffc]) expect(h.r32(off)).toBe(0);
  });

  it('read-only registers ignore writes and record a guestErr', () => {
    const h = new Harness();
    const cap = h.r32(0);
    h.w32(0x00, 0xffffffff);
    h.w32(0x08, 0);
    expect(h.r32(0)).toBe(cap);
    expect(h.r32(0x08)).toBe(0x00010400);
    expect(h.guestErrs('nvme.reg.read-only')).toHaveLength(2);
    expect(h.guestErrs('nvme.reg.read-only')[0]!.message).toMatch(/CAP/);
    h.w32(0x100, 5);
    expect(h.guestErrs('nvme.reg.reserved')).toHaveLength(1);
  });

  it('ASQ/ACQ bits 11:0 and AQA reserved bits read 0', () => {
    const h = new Harness();
    h.w32(0x28, 0x12345fff);
    h.w32(0x30, 0xabcde123);
    h.w32(0x24, 0xffffffff);
    expect(h.r32(0x28)).toBe(0x12345000);
    expect(h.r32(0x30)).toBe(0xabcde000);
    expect(h.r32(0x24)).toBe(0x0fff0fff);
    expect(h.guestErrs('nvme.aq.reserved')).toHaveLength(2);
    expect(h.guestErrs('nvme.aqa.reserved')).toHaveLength(1);
    h.w32(0x2c, 0x1);
    expect(h.r64(0x28)).toBe(0x1_12345000);
  });

  it('CC reserved bits read 0; CSTS is read-only except NSSRO', () => {
    const h = new Harness();
    h.w32(0x14, 0xff00000e);
    expect(h.r32(0x14)).toBe(0);
    expect(h.guestErrs('nvme.cc.reserved')).toHaveLength(1);
    h.w32(0x1c, 0x3f);
    expect(h.r32(0x1c)).toBe(0);
    expect(h.guestErrs('nvme.csts.read-only')).toHaveLength(1);
  });

  it('narrow reads return the addressed bytes with a guestErr; narrow writes are dropped', () => {
    const h = new Harness();
    expect(h.bar.read(0x08, 1)).toBe(0x00);
    expect(h.bar.read(0x0a, 1)).toBe(0x01);
    expect(h.bar.read(0x0a, 2)).toBe(0x0001);
    expect(h.bar.read(0x09, 2)).toBe(0x0104);
    expect(h.guestErrs('nvme.mmio.width')).toHaveLength(4);
    h.bar.write(0x24, 2, 0x1f);
    h.bar.write(0x25, 1, 0x1f);
    expect(h.r32(0x24)).toBe(0);
    h.bar.write(0x1000, 2, 1);
    expect(h.guestErrs('nvme.doorbell.width')).toHaveLength(1);
    expect(h.guestErrs('nvme.mmio.width')).toHaveLength(6);
  });

  it('CC fields other than EN/SHN cannot change while EN=1', () => {
    const h = new Harness();
    h.enable();
    const cc = h.r32(0x14);
    h.w32(0x14, (cc & ~(0xf << 16)) | (7 << 16)); // IOSQES 6 -> 7
    expect(h.r32(0x14)).toBe(cc);
    expect(h.guestErrs('nvme.cc.locked')).toHaveLength(1);
    expect(h.r32(0x1c) & 1).toBe(1);
    // Disabling with CC = 0 may clear the other fields at the same time.
    h.w32(0x14, 0);
    expect(h.r32(0x14)).toBe(0);
    expect(h.guestErrs('nvme.cc.locked')).toHaveLength(1);
  });

  it('writes to unused BAR0 space above the doorbells are dropped with a guestErr', () => {
    const h = new Harness();
    h.w32(0x2800, 1);
    expect(h.r32(0x2800)).toBe(0);
    expect(h.guestErrs('nvme.reg.reserved')).toHaveLength(1);
  });

  it('INTMS/INTMC set and clear mask bits (pin and MSI modes)', () => {
    const h = new Harness({ mode: 'msi' });
    h.w32(0x0c, 0x5);
    expect(h.r32(0x0c)).toBe(0x5);
    expect(h.r32(0x10)).toBe(0x5);
    h.w32(0x0c, 0x2);
    expect(h.r32(0x0c)).toBe(0x7);
    h.w32(0x10, 0x5);
    expect(h.r32(0x0c)).toBe(0x2);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('INTMS/INTMC writes are ignored with a guestErr in MSI-X mode', () => {
    const h = new Harness({ mode: 'msix' });
    h.w32(0x0c, 1);
    h.w32(0x10, 1);
    expect(h.r32(0x0c)).toBe(0);
    expect(h.guestErrs('nvme.intms.msix')).toHaveLength(2);
  });

  it('shutdown: SHST goes 00 -> 01 -> 10 after a delay; clearing SHN clears SHST', () => {
    const h = new Harness();
    h.enable();
    const cc = h.r32(0x14);
    h.w32(0x14, cc | (1 << 14));
    expect((h.r32(0x1c) >>> 2) & 3).toBe(1);
    h.runUs(1);
    expect((h.r32(0x1c) >>> 2) & 3).toBe(1);
    h.settle();
    expect((h.r32(0x1c) >>> 2) & 3).toBe(2);
    expect(h.milestones('shutdown')).toHaveLength(1);
    h.w32(0x14, cc);
    expect((h.r32(0x1c) >>> 2) & 3).toBe(0);
  });

  it('NSSR: only "NVMe" resets the subsystem; NSSRO is write-1-to-clear', () => {
    const h = new Harness();
    h.enable();
    h.w32(0x20, 0x12345678);
    expect(h.guestErrs('nvme.nssr.value')).toHaveLength(1);
    expect(h.r32(0x1c) & 1).toBe(1);
    h.w32(0x20, 0x4e564d65);
    expect(h.r32(0x20)).toBe(0);
    expect(h.r32(0x1c)).toBe(0x10); // RDY=0, NSSRO=1
    expect(h.r32(0x14)).toBe(0);
    expect(h.r32(0x24)).toBe(0);
    expect(h.milestones('reset').at(-1)!.a).toBe(1);
    h.w32(0x1c, 0x10);
    expect(h.r32(0x1c)).toBe(0);
  });

  it('quiesce() is a function-level reset: registers back to power-on values, work dropped', () => {
    const h = new Harness();
    h.enable();
    h.createIoPair(1);
    const buf = h.alloc(4096);
    h.submit(1, h.rw(false, 0, 8, buf));
    h.ring(1);
    h.run(us(2));
    h.dev.quiesce();
    expect(h.r32(0x1c)).toBe(0);
    expect(h.r32(0x14)).toBe(0);
    expect(h.r32(0x28)).toBe(0);
    const before = h.dmaEvents('data').length;
    h.settle();
    expect(h.dmaEvents('data').length).toBe(before);
    expect(h.queue.pending).toBe(0);
  });
});
