import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import {
  CSR, FH, FH_INT, FH_TX_CONFIG_NORMAL, INT, INT_MASK_FW_LOAD, INT_MASK_NORMAL, LMPM_CHICK, RESET,
} from '../../../../src/devices/iwlwifi/regs.js';

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

describe('iwlwifi transport: service channel', () => {
  it('copies a chunk into SRAM, takes time proportional to size, then raises FH_TX', () => {
    const h = new Harness();
    h.apmInit();
    h.w32(CSR.INT_MASK, INT_MASK_FW_LOAD);
    const data = pattern(0x20000, 1);
    const t0 = h.now;
    const src = h.loadChunk(0x000000, data, false);
    h.runUs(100);
    expect(h.irq.messages).toHaveLength(0);
    h.runUs(100);
    expect(h.irq.messages).toHaveLength(1);
    expect(h.irq.messageTimes[0]! - t0).toBeGreaterThan(100_000_000); // > 100 us for 128 KiB
    expect(h.r32(CSR.INT) & INT.FH_TX).toBe(INT.FH_TX);
    expect(h.r32(CSR.FH_INT_STATUS) & 0x3).not.toBe(0);
    expect(h.dev.readSram(0, 0x20000)).toEqual(data);
    const d = h.dmaEvents('iwl.fw-chunk');
    expect(d).toHaveLength(1);
    expect(d[0]!.addr).toBe(src);
    expect(h.milestones('fw.chunk')).toMatchObject([{ a: 0, b: 0x20000 }]);
    // Ack, next chunk.
    h.w32(CSR.INT, INT.FH_TX);
    h.w32(CSR.FH_INT_STATUS, 0x3);
    h.loadChunk(0x800000, pattern(64, 2));
    expect(h.irq.messages).toHaveLength(2);
    expect(h.dev.readSram(0x800000, 64)).toEqual(pattern(64, 2));
    expect(h.guestErrs()).toHaveLength(0);
    expect(h.dev.stats()['chunks']).toBe(2);
  });

  it('enabling channel 9 like a normal channel after a load moves nothing', () => {
    const h = new Harness();
    h.apmInit();
    h.loadChunk(0x800000, pattern(64, 3));
    h.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * 9, FH_TX_CONFIG_NORMAL);
    h.runUs(100);
    expect(h.milestones('fw.chunk')).toHaveLength(1);
    expect(h.guestErrs()).toHaveLength(0);
  });

  it('extended-range destinations need LMPM_CHICK bit 0: without it, data is lost but FH_TX still comes', () => {
    const h = new Harness();
    h.apmInit();
    h.w32(CSR.INT_MASK, INT_MASK_FW_LOAD);
    h.loadChunk(0x40000, pattern(256, 4));
    expect(h.guestErrs('iwl.fh.srvc.ext-addr')).toHaveLength(1);
    expect(h.dev.readSram(0x40000, 256)).toEqual(new Uint8Array(256));
    expect(h.irq.messages).toHaveLength(1);
    h.prphWrite(LMPM_CHICK, 1);
    h.loadChunk(0x40000, pattern(256, 4));
    expect(h.dev.readSram(0x40000, 256)).toEqual(pattern(256, 4));
    expect(h.irq.messages).toHaveLength(2);
  });

  it('bad descriptors are refused with a guestErr and no interrupt', () => {
    const h = new Harness();
    h.apmInit();
    h.w32(CSR.INT_MASK, INT_MASK_FW_LOAD);
    h.loadChunk(0x800000, new Uint8Array(0)); // 0 bytes
    expect(h.guestErrs('iwl.fh.srvc.len')).toHaveLength(1);
    h.loadChunk(0x300000, pattern(16, 1)); // outside SRAM: DMA completes, data lost
    expect(h.guestErrs('iwl.fh.srvc.dest')).toHaveLength(1);
    expect(h.irq.messages).toHaveLength(1);
    h.loadChunk(0x800000, pattern(4096, 1), false);
    h.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * 9, 0x80100000);
    expect(h.guestErrs('iwl.fh.srvc.busy')).toHaveLength(1);
    h.runUs(100);
    expect(h.irq.messages).toHaveLength(2);
  });

  it('corruptChunk flips one byte of the chosen chunk of the chosen load', () => {
    const h = new Harness({ faults: { corruptChunk: { load: 1, chunk: 1, byteSeed: 1000 } } });
    h.apmInit();
    const a = pattern(256, 5);
    // Load 0 (INIT): untouched.
    h.loadChunk(0x000000, a);
    h.loadChunk(0x000100, a);
    h.w32(CSR.RESET, 0);
    expect(h.fw.of('release')).toHaveLength(1);
    expect(h.dev.readSram(0x100, 256)).toEqual(a);
    // SW reset between images (as iwl_mvm_up does), then load 1 (runtime).
    h.set(CSR.RESET, RESET.SW_RESET);
    h.apmInit();
    h.loadChunk(0x800000, a);
    h.loadChunk(0x800100, a);
    const got = h.dev.readSram(0x800100, 256)!;
    const off = 1000 % 256;
    const expected = a.slice();
    expected[off] = expected[off]! ^ 0xff;
    expect(got).toEqual(expected);
    expect(h.dev.readSram(0x800000, 256)).toEqual(a);
    expect(h.milestones('fault.corrupt-chunk')).toMatchObject([{ a: 0x800100 + off, b: 1 }]);
  });
});

describe('iwlwifi transport: CPU release', () => {
  it('RESET = 0 after a load calls fw.release() once; the CPU then runs until reset', () => {
    const h = new Harness();
    h.apmInit();
    h.w32(CSR.RESET, 0);
    expect(h.fw.of('release')).toHaveLength(0); // nothing loaded yet
    h.loadChunk(0, pattern(64, 1));
    expect(h.fw.of('release')).toHaveLength(0); // loading alone does not start the CPU
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.w32(CSR.RESET, 0);
    expect(h.fw.of('release')).toHaveLength(1);
    expect(h.milestones('cpu.release')).toMatchObject([{ a: 0, b: 1 }]);
    h.w32(CSR.RESET, 0);
    expect(h.fw.of('release')).toHaveLength(1);
    h.set(CSR.RESET, RESET.SW_RESET);
    expect(h.fw.of('halt')).toHaveLength(1);
    expect(h.fw.running).toBe(false);
  });

  it('an asserted RF-kill switch is reported to the firmware before it starts', () => {
    const h = new Harness({ faults: { rfKill: true } });
    h.apmInit();
    h.loadChunk(0, pattern(64, 1));
    h.w32(CSR.RESET, 0);
    expect(h.fw.calls.map((c) => c.kind)).toEqual(['rfKill', 'release']);
  });

  it('the firmware can post on the ring once released (FH_TX then FH_RX)', () => {
    const h = new Harness();
    h.apmInit();
    h.setupRx();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.fw.onRelease = () => { h.dev.postRx(0x01, 0, 0x8000, new Uint8Array(68), 68); };
    h.loadChunk(0, pattern(64, 1));
    h.w32(CSR.INT, 0xffffffff);
    h.w32(CSR.FH_INT_STATUS, 0xffffffff);
    h.w32(CSR.RESET, 0);
    h.queue.runUntil(h.queue.now); // the RB closes at the same instant
    expect(h.r32(CSR.INT) & INT.FH_RX).toBe(INT.FH_RX);
    expect(h.r32(CSR.FH_INT_STATUS) & FH_INT.RX_CH0).toBe(FH_INT.RX_CH0);
  });
});
