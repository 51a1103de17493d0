import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { us, ms } from '../../../../src/sim/time.js';
import { CSR, FH_INT, ICT, INT, INT_MASK_NORMAL, ictEntry } from '../../../../src/devices/iwlwifi/regs.js';

const PAYLOAD = new Uint8Array([1, 2, 3, 4]);

describe('iwlwifi transport: INT / FH_INT', () => {
  it('INT and FH_INT are write-1-to-clear', () => {
    const h = new Harness();
    h.dev.raiseInt(INT.SW_ERR | INT.ALIVE);
    h.dev.ints.raise(0, FH_INT.RX_CH0 | FH_INT.TX_CH0);
    expect(h.r32(CSR.INT)).toBe((INT.SW_ERR | INT.ALIVE | INT.FH_RX | INT.FH_TX) >>> 0);
    expect(h.r32(CSR.FH_INT_STATUS)).toBe(FH_INT.RX_CH0 | FH_INT.TX_CH0);
    h.w32(CSR.INT, INT.ALIVE);
    expect(h.r32(CSR.INT)).toBe((INT.SW_ERR | INT.FH_RX | INT.FH_TX) >>> 0);
    h.w32(CSR.FH_INT_STATUS, 0x3);
    expect(h.r32(CSR.FH_INT_STATUS)).toBe(FH_INT.RX_CH0);
    h.w32(CSR.INT, 0xffffffff);
    h.w32(CSR.FH_INT_STATUS, 0xffffffff);
    expect(h.r32(CSR.INT)).toBe(0);
    expect(h.r32(CSR.FH_INT_STATUS)).toBe(0);
    // A byte-wide W1C write clears only its own byte.
    h.dev.raiseInt(INT.ALIVE | INT.SW_ERR);
    h.bar.write(CSR.INT, 1, 0xff);
    expect(h.r32(CSR.INT)).toBe(INT.SW_ERR);
  });

  it('signals only when INT & INT_MASK != 0; restoring the mask with pending causes signals again', () => {
    const h = new Harness();
    h.dev.raiseInt(INT.ALIVE);
    expect(h.irq.messages).toHaveLength(0);
    h.w32(CSR.INT_MASK, INT.RF_KILL);
    expect(h.irq.messages).toHaveLength(0);
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    expect(h.irq.messages).toHaveLength(1);
    // Driver ISR: mask off, ack nothing, restore -> signal again.
    h.w32(CSR.INT_MASK, 0);
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    expect(h.irq.messages).toHaveLength(2);
    // Acked, restore: no signal.
    h.w32(CSR.INT_MASK, 0);
    h.w32(CSR.INT, INT.ALIVE);
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    expect(h.irq.messages).toHaveLength(2);
    h.dev.raiseInt(INT.SW_ERR);
    expect(h.irq.messages).toHaveLength(3);
  });

  it('INTx is a level: asserted while INT & INT_MASK != 0', () => {
    const h = new Harness({ mode: 'intx' });
    h.dev.raiseInt(INT.ALIVE);
    expect(h.irq.level).toBe(false);
    h.w32(CSR.INT_MASK, INT.ALIVE);
    expect(h.irq.level).toBe(true);
    h.w32(CSR.INT_MASK, 0);
    expect(h.irq.level).toBe(false);
    h.w32(CSR.INT_MASK, INT.ALIVE);
    expect(h.irq.level).toBe(true);
    h.w32(CSR.INT, INT.ALIVE);
    expect(h.irq.level).toBe(false);
    h.dev.raiseInt(INT.SW_ERR); // masked cause
    expect(h.irq.level).toBe(false);
    expect(h.irq.messages).toHaveLength(0);
    expect(h.irq.intxCalls).toEqual([true, false, true, false]);
  });

  it('ICT: the compressed entry is written before the message; index advances and wraps; bit 28 resets it', () => {
    const h = new Harness();
    const ict = h.enableIct();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.dev.raiseInt(INT.ALIVE);
    expect(h.ram32(ict)).toBe(ictEntry(INT.ALIVE));
    h.dev.ints.raise(0, FH_INT.RX_CH0);
    expect(h.ram32(ict + 4)).toBe(0x8000);
    const ev = h.tracer.events;
    const ictIdx = ev.findIndex((e) => e.kind === 'dma' && e.tag === 'iwl.ict');
    const msiIdx = ev.findIndex((e) => e.kind === 'msi');
    expect(ictIdx).toBeGreaterThanOrEqual(0);
    expect(ictIdx).toBeLessThan(msiIdx);
    for (let i = 2; i < ICT.ENTRIES + 1; i++) h.dev.raiseInt(INT.SW_ERR);
    expect(h.dev.ints.ictIndex).toBe(1);
    expect(h.ram32(ict)).toBe(ictEntry(INT.SW_ERR));
    h.w32(CSR.DRAM_INT_TBL, (ict / 4096) | ICT.ENABLE | ICT.RESET_WRITE_PTR);
    expect(h.dev.ints.ictIndex).toBe(0);
    expect(h.r32(CSR.DRAM_INT_TBL) & ICT.RESET_WRITE_PTR).toBe(0);
  });
});

describe('iwlwifi transport: INT_PERIODIC and coalescing', () => {
  it('INT_PERIODIC byte 0xFF arms a one-shot ~8 ms timer raising RX_PERIODIC; 0 disarms', () => {
    const h = new Harness();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.w8(CSR.INT_PERIODIC, 0xff);
    h.run(ms(7));
    expect(h.r32(CSR.INT) & INT.RX_PERIODIC).toBe(0);
    h.run(ms(2));
    expect(h.r32(CSR.INT) & INT.RX_PERIODIC).toBe(INT.RX_PERIODIC);
    expect(h.irq.messages).toHaveLength(1);
    h.w32(CSR.INT, INT.RX_PERIODIC);
    h.run(ms(20));
    expect(h.r32(CSR.INT)).toBe(0); // one-shot
    h.w8(CSR.INT_PERIODIC, 0xff);
    h.run(ms(4));
    h.w8(CSR.INT_PERIODIC, 0);
    h.run(ms(20));
    expect(h.r32(CSR.INT)).toBe(0);
    expect(h.r32(CSR.INT_COALESCING) >>> 8 & 0xff).toBe(0);
  });

  it('byte 0x004 delays the RX interrupt by value x 32 us; other interrupts are not delayed', () => {
    const h = new Harness();
    h.setupRx();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.w8(CSR.INT_COALESCING, 0x40); // 2.048 ms
    expect(h.r32(CSR.INT_COALESCING) & 0xff).toBe(0x40);
    const t0 = h.now;
    expect(h.post(0x88, 0, 0x0001, PAYLOAD, 4)).toBe(true);
    expect(h.post(0x88, 0, 0x0002, PAYLOAD, 4)).toBe(true);
    expect(h.irq.messages).toHaveLength(0);
    h.dev.raiseInt(INT.SW_ERR);
    expect(h.irq.messages).toHaveLength(1);
    h.run(us(2000));
    expect(h.irq.messages).toHaveLength(1);
    h.run(us(100));
    expect(h.irq.messages).toHaveLength(2); // both packets share the one interrupt
    expect(h.irq.messageTimes[1]! - t0).toBe(us(0x40 * 32));
    expect(h.r32(CSR.FH_INT_STATUS) & FH_INT.RX_CH0).toBe(FH_INT.RX_CH0);
  });
});
