import { describe, expect, it } from 'vitest';
import { Harness, S } from './harness.js';
import { ms, us } from '../../../src/sim/time.js';

describe('nvme interrupts', () => {
  it('MSI-X: each CQ signals its own vector; the admin CQ vector 0; IEN=0 signals nothing', () => {
    const h = new Harness({ mode: 'msix' });
    h.enable();
    h.irq.messages.length = 0;
    h.exec(0, { opc: 0x0a, cdw10: 0x07 });
    expect(h.irq.messages).toEqual([0]);
    h.createIoPair(1, { iv: 3 });
    h.createIoPair(2, { iv: 5 });
    h.createIoPair(3, { iv: 7, ien: false });
    h.irq.messages.length = 0;
    const buf = h.alloc(4096);
    h.exec(1, h.rw(false, 0, 1, buf));
    h.exec(2, h.rw(false, 0, 1, buf));
    h.exec(2, h.rw(false, 0, 1, buf));
    h.exec(3, h.rw(false, 0, 1, buf));
    expect(h.irq.messages).toEqual([3, 5, 5]);
    expect(h.irq.intxCalls).toHaveLength(0);
    expect(h.dev.stats().interrupts).toBe(3 + 7); // + 7 admin completions before the list was cleared
  });

  it('interrupt coalescing: aggregation threshold and time (5.21.1.8)', () => {
    const h = new Harness({ mode: 'msix', props: { readLatencyUs: 10 } });
    h.enable();
    h.createIoPair(1, { iv: 1 });
    // THR = 3 (0-based: 4 entries), TIME = 5 (500 us).
    expect(h.exec(0, { opc: 0x09, cdw10: 0x08, cdw11: (5 << 8) | 3 }).status).toBe(S.SUCCESS);
    h.irq.messages.length = 0;
    const buf = h.alloc(4096);
    for (let i = 0; i < 4; i++) h.submit(1, h.rw(false, i, 1, buf));
    h.ring(1);
    h.run(us(100));
    expect(h.reap(1)).toHaveLength(4);
    expect(h.irq.messages).toEqual([1]); // one message for four completions
    h.irq.messages.length = 0;
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.run(us(100));
    expect(h.reap(1, false)).toHaveLength(1);
    expect(h.irq.messages).toEqual([]); // held back
    const posted = h.dmaEvents('nvme.cqe').at(-1)!.time;
    h.run(us(500));
    expect(h.irq.messages).toEqual([1]); // aggregation time elapsed
    expect(h.irq.messageTimes.at(-1)! - posted).toBe(us(500));
    h.cqDoorbell(1, h.pair(1).cqHead);
    // The admin CQ is never coalesced.
    h.irq.messages.length = 0;
    h.exec(0, { opc: 0x0a, cdw10: 0x08 });
    expect(h.irq.messages).toEqual([0]);
    // Coalescing disabled per vector (Interrupt Vector Configuration CD = 1).
    expect(h.exec(0, { opc: 0x09, cdw10: 0x09, cdw11: (1 << 16) | 1 }).status).toBe(S.SUCCESS);
    h.irq.messages.length = 0;
    h.exec(1, h.rw(false, 0, 1, buf));
    expect(h.irq.messages).toEqual([1]);
  });

  it('INTx: level follows unconsumed entries, masked by INTMS bit 0', () => {
    const h = new Harness({ mode: 'intx' });
    h.enable();
    h.createIoPair(1);
    expect(h.irq.level).toBe(false);
    const buf = h.alloc(4096);
    const calls = h.irq.intxCalls.length;
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    expect(h.irq.level).toBe(true);
    h.w32(0x0c, 1); // INTMS
    expect(h.irq.level).toBe(false);
    h.w32(0x10, 1); // INTMC: entries still unconsumed -> asserted again
    expect(h.irq.level).toBe(true);
    h.reap(1); // head doorbell consumes the entry
    expect(h.irq.level).toBe(false);
    expect(h.irq.intxCalls.slice(calls)).toEqual([true, false, true, false]);
    // While masked, a completion leaves the line low; unmasking raises it.
    h.w32(0x0c, 1);
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    expect(h.irq.level).toBe(false);
    h.w32(0x10, 1);
    expect(h.irq.level).toBe(true);
    h.reap(1);
    expect(h.irq.level).toBe(false);
    expect(h.irq.messages).toHaveLength(0);
  });

  it('INTx: an admin CQ entry alone asserts the line; a CQ with IEN=0 does not', () => {
    const h = new Harness({ mode: 'intx' });
    h.enable();
    h.createIoPair(1, { ien: false });
    const buf = h.alloc(4096);
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    expect(h.irq.level).toBe(false);
    h.submit(0, { opc: 0x0a, cdw10: 0x07 });
    h.ring(0);
    h.settle();
    expect(h.irq.level).toBe(true);
    h.reap(0);
    expect(h.irq.level).toBe(false);
  });

  it('MSI: a vector masked by INTMS is held and sent when INTMC unmasks it', () => {
    const h = new Harness({ mode: 'msi' });
    h.enable();
    h.createIoPair(1, { iv: 2 });
    const buf = h.alloc(4096);
    h.irq.messages.length = 0;
    h.w32(0x0c, 1 << 2);
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    expect(h.irq.messages).toEqual([]);
    h.w32(0x10, 1 << 2);
    expect(h.irq.messages).toEqual([2]);
    h.reap(1);
    // Masked, then consumed before unmasking: nothing left to signal.
    h.w32(0x0c, 1 << 2);
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    h.reap(1);
    h.w32(0x10, 1 << 2);
    expect(h.irq.messages).toEqual([2]);
  });

  it('the interrupt mode is read when signalling', () => {
    const h = new Harness({ mode: 'msix' });
    h.enable();
    h.createIoPair(1, { iv: 0 });
    const buf = h.alloc(4096);
    h.irq.mode = 'intx';
    h.irq.messages.length = 0;
    h.submit(1, h.rw(false, 0, 1, buf));
    h.ring(1);
    h.settle();
    expect(h.irq.level).toBe(true);
    h.reap(1);
    expect(h.irq.level).toBe(false);
    h.irq.mode = 'msix';
    h.exec(1, h.rw(false, 0, 1, buf));
    expect(h.irq.messages).toEqual([0]);
  });

  it('disable deasserts INTx', () => {
    const h = new Harness({ mode: 'intx' });
    h.enable();
    h.submit(0, { opc: 0x0a, cdw10: 0x07 });
    h.ring(0);
    h.settle();
    expect(h.irq.level).toBe(true);
    h.w32(0x14, h.r32(0x14) & ~1);
    expect(h.irq.level).toBe(false);
    h.run(ms(1));
  });
});
