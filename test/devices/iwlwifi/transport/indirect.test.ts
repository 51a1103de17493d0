import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import {
  APMG, HBUS, LMPM_CHICK, PRPH_ADDR_MASK, SCD, SCD_QUEUE_STTS, SCD_SRAM_BASE_VALUE,
} from '../../../../src/devices/iwlwifi/regs.js';
import { scdQueueAddr, QREG_RDPTR, QREG_STATUS, QREG_WRPTR } from '../../../../src/devices/iwlwifi/transport/index.js';

describe('iwlwifi transport: PRPH access', () => {
  it('needs the MAC clock: without it reads 0xA5A5A5A2 (the 0xA5A5A5Ax pattern), drops writes and records iwl.prph.no-access', () => {
    const h = new Harness();
    h.prphWrite(APMG.CLK_EN, 0x200);
    expect(h.prphRead(APMG.CLK_CTRL)).toBe(0xa5a5a5a2);
    expect((h.prphRead(APMG.CLK_CTRL) & 0xfffffff0) >>> 0).toBe(0xa5a5a5a0);
    expect(h.guestErrs('iwl.prph.no-access')).toHaveLength(3);
    h.grabNic();
    expect(h.prphRead(SCD.SRAM_BASE_ADDR)).toBe(SCD_SRAM_BASE_VALUE);
    expect(h.guestErrs('iwl.prph.no-access')).toHaveLength(3);
    expect(h.prphRead(APMG.CLK_EN)).toBe(0); // the write without the clock was dropped
  });

  it('APMG clock enable / disable, PCIDEV_STT and LMPM_CHICK storage', () => {
    const h = new Harness();
    h.apmInit();
    h.prphWrite(APMG.CLK_EN, 0x200);
    expect(h.prphRead(APMG.CLK_CTRL)).toBe(0x200);
    expect(h.prphRead(APMG.CLK_EN)).toBe(0x200);
    h.prphWrite(APMG.CLK_DIS, 0x200);
    expect(h.prphRead(APMG.CLK_CTRL)).toBe(0);
    h.prphWrite(APMG.PCIDEV_STT, 1 << 11);
    expect(h.prphRead(APMG.PCIDEV_STT)).toBe(1 << 11);
    h.prphWrite(LMPM_CHICK, 1);
    expect(h.prphRead(LMPM_CHICK)).toBe(1);
    expect(h.dev.prphRead(LMPM_CHICK)).toBe(1);
    expect(h.dev.prphRead(SCD.SRAM_BASE_ADDR)).toBe(SCD_SRAM_BASE_VALUE);
  });

  it('SCD: SRAM_BASE_ADDR is read-only; per-queue registers for queues below and above 20', () => {
    const h = new Harness();
    h.grabNic();
    h.prphWrite(SCD.SRAM_BASE_ADDR, 0x1234);
    expect(h.prphRead(SCD.SRAM_BASE_ADDR)).toBe(SCD_SRAM_BASE_VALUE);
    expect(h.guestErrs('iwl.prph.read-only')).toHaveLength(1);
    for (const q of [0, 5, 19, 20, 25, 30]) {
      h.prphWrite(scdQueueAddr(QREG_RDPTR, q), q + 3);
      h.prphWrite(scdQueueAddr(QREG_STATUS, q), SCD_QUEUE_STTS.ACT_EN | q);
      h.prphWrite(scdQueueAddr(QREG_WRPTR, q), q + 3);
      expect(h.prphRead(scdQueueAddr(QREG_RDPTR, q))).toBe(q + 3);
      expect(h.prphRead(scdQueueAddr(QREG_WRPTR, q))).toBe(q + 3);
      expect(h.prphRead(scdQueueAddr(QREG_STATUS, q))).toBe(SCD_QUEUE_STTS.ACT_EN | q);
      expect(h.dev.txq.rd[q]).toBe(q + 3);
    }
    expect(scdQueueAddr(QREG_STATUS, 3)).toBe(SCD.QUEUE_STATUS_BITS + 12);
    for (const r of [SCD.DRAM_BASE_ADDR, SCD.TXFACT, SCD.QUEUECHAIN_SEL, SCD.GP_CTRL, SCD.AGGR_SEL, SCD.EN_CTRL, SCD.CHAINEXT_EN]) {
      h.prphWrite(r, 0xabc00 + (r & 0xff));
      expect(h.prphRead(r)).toBe(0xabc00 + (r & 0xff));
    }
    expect(h.guestErrs('iwl.prph.no-access')).toHaveLength(0);
  });

  it('the HBUS address carries (addr & 0xFFFFF) | 3 << 24; a missing access size is recorded', () => {
    const h = new Harness();
    h.grabNic();
    h.w32(HBUS.TARG_PRPH_RADDR, SCD.SRAM_BASE_ADDR & PRPH_ADDR_MASK);
    expect(h.r32(HBUS.TARG_PRPH_RDAT)).toBe(SCD_SRAM_BASE_VALUE);
    expect(h.guestErrs('iwl.prph.addr')).toHaveLength(1);
  });
});

describe('iwlwifi transport: SRAM access', () => {
  it('MEM_WADDR/WDAT and MEM_RADDR/RDAT auto-increment by 4', () => {
    const h = new Harness();
    h.grabNic();
    h.sramWrite(0x800000, [0x11111111, 0x22222222, 0x33333333]);
    expect(h.r32(HBUS.TARG_MEM_WADDR)).toBe(0x80000c);
    expect(h.sramRead(0x800004, 2)).toEqual([0x22222222, 0x33333333]);
    expect(h.r32(HBUS.TARG_MEM_RADDR)).toBe(0x80000c);
    expect(Array.from(h.dev.readSram(0x800000, 8)!)).toEqual([0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22]);
    h.sramWrite(SCD_SRAM_BASE_VALUE + 0x600, [0, 0x00400040]);
    expect(h.sramRead(SCD_SRAM_BASE_VALUE + 0x604, 1)).toEqual([0x00400040]);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('needs the MAC clock; unbacked addresses read 0 with a guestErr; readSram returns null outside SRAM', () => {
    const h = new Harness();
    h.sramWrite(0x800000, [1]);
    expect(h.guestErrs('iwl.sram.no-access')).toHaveLength(1);
    expect(h.sramRead(0x800000, 1)).toEqual([0xa5a5a5a2]);
    expect(h.guestErrs('iwl.sram.no-access')).toHaveLength(2);
    h.grabNic();
    expect(h.sramRead(0x800000, 1)).toEqual([0]);
    expect(h.sramRead(0x300000, 1)).toEqual([0]);
    expect(h.guestErrs('iwl.sram.unbacked')).toHaveLength(1);
    expect(h.dev.readSram(0x300000, 4)).toBeNull();
    expect(h.dev.readSram(0x0ffffe, 4)).toBeNull();
    expect(h.dev.readSram(0x456000, 4)).toEqual(new Uint8Array(4));
  });
});
