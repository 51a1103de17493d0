import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { CMD_QUEUE, FH, HBUS, SCD, TFD } from '../../../../src/devices/iwlwifi/regs.js';
import { InactiveReason, QREG_RDPTR, scdQueueAddr } from '../../../../src/devices/iwlwifi/transport/index.js';

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 0xff;
  return b;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

describe('iwlwifi transport: TX queues', () => {
  it('an inactive queue leaves its TFDs untouched and records txq.inactive once', () => {
    const h = new Harness();
    const ring = h.setupTxRing(CMD_QUEUE);
    h.writeTfd(ring, 0, [bytes(20, 1)]);
    h.writeTfd(ring, 1, [bytes(20, 2)]);
    h.w32(HBUS.TARG_WRPTR, 1 | (CMD_QUEUE << 8));
    h.w32(HBUS.TARG_WRPTR, 2 | (CMD_QUEUE << 8));
    h.runUs(100);
    expect(h.fw.of('command')).toHaveLength(0);
    expect(h.dmaEvents('iwl.tfd')).toHaveLength(0);
    const m = h.milestones('txq.inactive');
    expect(m).toHaveLength(1);
    expect(m[0]!.a).toBe(CMD_QUEUE);
    expect(m[0]!.b & InactiveReason.NOT_ACTIVE).toBe(InactiveReason.NOT_ACTIVE);
    expect(m[0]!.b & InactiveReason.CHANNEL_OFF).toBe(InactiveReason.CHANNEL_OFF);
  });

  it('active on an enabled FIFO with a ring: TFDs go to fw.command in order with TBs concatenated', () => {
    const h = new Harness();
    const ring = h.setupTxRing(CMD_QUEUE);
    h.activateQueue(CMD_QUEUE);
    const a0 = bytes(20, 1);
    const a1 = bytes(100, 2);
    const b0 = bytes(20, 3);
    h.writeTfd(ring, 0, [a0, a1]);
    h.writeTfd(ring, 1, [b0]);
    h.w32(HBUS.TARG_WRPTR, 2 | (CMD_QUEUE << 8));
    h.runUs(10);
    const cmds = h.fw.of('command');
    expect(cmds).toHaveLength(2);
    expect(cmds[0]).toMatchObject({ queue: 0, index: 0 });
    expect(cmds[0]!.bytes).toEqual(concat(a0, a1));
    expect(cmds[1]).toMatchObject({ queue: 0, index: 1 });
    expect(cmds[1]!.bytes).toEqual(b0);
    expect(h.dmaEvents('iwl.tfd')).toHaveLength(2);
    expect(h.dmaEvents('iwl.tb')).toHaveLength(3);
    h.grabNic();
    expect(h.prphRead(scdQueueAddr(QREG_RDPTR, CMD_QUEUE))).toBe(2);
    expect(h.milestones('txq.inactive')).toHaveLength(0);
    expect(h.dev.stats()['tfds']).toBe(2);
  });

  it('work posted before activation is picked up once the FIFO channel is enabled', () => {
    const h = new Harness();
    const ring = h.setupTxRing(CMD_QUEUE);
    h.writeTfd(ring, 0, [bytes(24, 1)]);
    h.w32(HBUS.TARG_WRPTR, 1 | (CMD_QUEUE << 8)); // too early
    h.runUs(10);
    expect(h.fw.of('command')).toHaveLength(0);
    // Activation as fw_alive does it: WRPTR = ssn, RDPTR = ssn, status ACTIVE, channels on.
    h.activateQueue(CMD_QUEUE, 7, 0);
    h.w32(HBUS.TARG_WRPTR, 1 | (CMD_QUEUE << 8));
    h.runUs(10);
    expect(h.fw.of('command')).toHaveLength(1);
  });

  it('queues above 19 use the split SCD register layout and ring bases', () => {
    const h = new Harness();
    const q = 25;
    const ring = h.setupTxRing(q);
    expect(h.r32(0x1b20 + 4 * 5)).toBe(ring / 256);
    h.activateQueue(q, 1, 10);
    h.writeTfd(ring, 10, [bytes(40, 9)]);
    h.w32(HBUS.TARG_WRPTR, 11 | (q << 8));
    h.runUs(10);
    expect(h.fw.of('command')).toMatchObject([{ queue: q, index: 10 }]);
  });

  it('malformed TFDs are skipped with a guestErr and the queue moves on', () => {
    const h = new Harness();
    const ring = h.setupTxRing(CMD_QUEUE);
    h.activateQueue(CMD_QUEUE);
    h.writeTfd(ring, 0, [], 0); // no TBs
    h.writeTfd(ring, 1, [bytes(8, 1)], 21); // too many TBs
    h.writeTfd(ring, 2, [bytes(8, 1), bytes(8, 2)]);
    h.mem.ramView.setUint16(ring + 2 * TFD.SIZE + TFD.TBS_OFFSET + TFD.TB_SIZE + 4, 0, true); // TB 1 length 0
    h.writeTfd(ring, 3, [bytes(8, 1)]);
    h.setRam32(ring + 3 * TFD.SIZE + TFD.TBS_OFFSET, 0x7fff0000); // unmapped TB
    h.writeTfd(ring, 4, [bytes(8, 4)]);
    h.w32(HBUS.TARG_WRPTR, 5);
    h.runUs(20);
    expect(h.guestErrs('iwl.tfd.num-tbs')).toHaveLength(2);
    expect(h.guestErrs('iwl.tfd.tb-len')).toHaveLength(1);
    expect(h.guestErrs('dma.')).toHaveLength(1);
    expect(h.fw.of('command')).toMatchObject([{ queue: 0, index: 4 }]);
    expect(h.dev.stats()['badTfds']).toBe(4);
  });

  it('a write pointer naming a queue beyond 31 is refused', () => {
    const h = new Harness();
    h.w32(HBUS.TARG_WRPTR, 0x2000 | 5);
    expect(h.guestErrs('iwl.txq.wrptr')).toHaveLength(1);
    h.grabNic();
    h.prphWrite(SCD.QUEUE_WRPTR, 0x100);
    expect(h.guestErrs('iwl.scd.ptr')).toHaveLength(1);
  });

  it('SW reset drops queue state (ring bases, pointers)', () => {
    const h = new Harness();
    h.setupTxRing(3);
    h.activateQueue(3, 3, 7);
    h.w32(0x020, 1 << 7);
    expect(h.r32(FH.MEM_CBBC_0_15 + 12)).toBe(0);
    expect(h.dev.txq.rd[3]).toBe(0);
    expect(h.dev.txq.status[3]).toBe(0);
  });
});
