/**
 * The transport's host command, RX and TX paths against a tiny fake register
 * file (no device model): the fake "firmware" reads the command's TFD from
 * guest memory, answers into the next RB, and raises FH_RX; the ISR runs
 * from a timer like an IRQ thread would.
 */
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../../kernel/harness.js';
import type { Co } from '../../../../src/sim/scheduler.js';
import { LinuxKpi, type IoMem, type PciDev } from '../../../../src/drivers/linux-kpi/kpi.js';
import { IwlIo } from '../../../../src/drivers/iwlwifi/pcie/io.js';
import { PcieTrans } from '../../../../src/drivers/iwlwifi/pcie/trans.js';
import { rxInit } from '../../../../src/drivers/iwlwifi/pcie/rx.js';
import { txInit, txStart } from '../../../../src/drivers/iwlwifi/pcie/tx.js';
import { iwlPcieIrq, iwlPcieNapiPoll } from '../../../../src/drivers/iwlwifi/pcie/isr.js';
import { tfdNumTbs, tfdTb } from '../../../../src/drivers/iwlwifi/pcie/layout.js';
import {
  CSR, FH, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, GP_CNTRL, HBUS, HW_IF_CONFIG, HW_REV_7265D, INT, PRPH_ADDR_MASK, RX_END_MARKER,
  SCD, SCD_SRAM_BASE_VALUE, TFD,
} from '../../../../src/devices/iwlwifi/regs.js';
import { CMD, SEQ_UNSOLICITED, seqIndex, seqQueue } from '../../../../src/devices/iwlwifi/fw-api.js';
import { CMD_ASYNC, CMD_WANT_SKB, type RxPacket } from '../../../../src/drivers/iwlwifi/trans-api.js';
import { EIO, ETIMEDOUT } from '../../../../src/kernel/errno.js';

function setup(answer: (cmd: Uint8Array, tbLens: number[]) => Uint8Array | null) {
  const h = bareKernel();
  const ram = h.mem.ram;
  const rdv = h.mem.ramView;
  const regs = new Map<number, number>();
  const wrptrs: number[] = [];
  let prphRaddr = 0;
  let t!: PcieTrans;
  let k!: LinuxKpi;
  let rbSlot = 0;
  const pendingIrqs: number[] = [];
  const mmio = {
    read8: (o: number) => regs.get(o) ?? 0,
    read16: (o: number) => regs.get(o) ?? 0,
    read32(o: number): number {
      switch (o) {
        case CSR.GP_CNTRL: return ((regs.get(o) ?? 0) | GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.HW_RF_KILL_SW) >>> 0;
        case CSR.HW_IF_CONFIG: return ((regs.get(o) ?? 0) | HW_IF_CONFIG.NIC_READY) >>> 0;
        case CSR.HW_REV: return HW_REV_7265D;
        case HBUS.TARG_PRPH_RDAT: return prphRaddr === (SCD.SRAM_BASE_ADDR & PRPH_ADDR_MASK) ? SCD_SRAM_BASE_VALUE : 0;
        case FH.MEM_RSSR_RX_STATUS: return FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE;
        case FH.TSSR_TX_STATUS: return 0xffffffff;
        default: return regs.get(o) ?? 0;
      }
    },
    write8(o: number, v: number) { regs.set(o, v); },
    write16(o: number, v: number) { regs.set(o, v); },
    write32(o: number, v: number) {
      if (o === CSR.INT) { regs.set(o, (regs.get(o) ?? 0) & ~v); return; }
      if (o === HBUS.TARG_PRPH_RADDR) prphRaddr = v & PRPH_ADDR_MASK;
      regs.set(o, v);
      if (o === HBUS.TARG_WRPTR) {
        wrptrs.push(v);
        const q = v >>> 8;
        // txq_enable writes the pointer before the queue is active; later writes are commands.
        if (q === 0 && t?.txqs[0]?.active) fwCommand((v - 1) & 0xff);
      }
    },
  };
  function fwCommand(idx: number) {
    const q = t.txqs[0]!;
    const n = tfdNumTbs(q.tfds.dv, idx * TFD.SIZE);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const tb = tfdTb(q.tfds.dv, idx * TFD.SIZE, i);
      parts.push(ram.slice(tb.addr, tb.addr + tb.len));
    }
    const cmd = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) { cmd.set(p, o); o += p.length; }
    const payload = answer(cmd, parts.map((p) => p.length));
    if (payload === null) return;
    // Post the response into the next RB, then the RB status, then the interrupt.
    const rxq = t.rxq!;
    const buf = rxq.bufs[rxq.slotBuf[rbSlot]!]!;
    const base = buf.dma;
    rdv.setUint32(base, 4 + payload.length, true);
    ram.set(cmd.subarray(0, 4), base + 4);
    ram.set(payload, base + 8);
    rdv.setUint32(base + ((8 + payload.length + 63) & ~63), RX_END_MARKER, true);
    rbSlot = (rbSlot + 1) & 0xff;
    rdv.setUint16(rxq.stts.dma, rbSlot, true);
    pendingIrqs.push(INT.FH_RX);
    k.mod_timer(irqTimer, k.jiffies + 1);
  }
  let irqTimer!: ReturnType<LinuxKpi['timer_setup']>;
  const rx: RxPacket[] = [];
  const run = (body: (t: PcieTrans, k: LinuxKpi) => Co<void>) => {
    h.kernel.spawn('iwlwifi', function* (sys) {
      k = new LinuxKpi(sys, 'iwlwifi');
      const pdev = { bdf: '00:03.0', irqType: 'none', vectors: [] } as unknown as PciDev;
      const io = new IwlIo(k, pdev, { mmio, len: 0x2000, bar: 0 } as unknown as IoMem);
      t = new PcieTrans(k, pdev, io, HW_REV_7265D);
      t.setOpMode({ rx: (p) => rx.push(p), nicError: () => {}, rfKill: () => {}, queueStuck: () => {} });
      t.napi = k.netif_napi_add((n, b) => iwlPcieNapiPoll(t, n, b), 64);
      k.napi_enable(t.napi);
      irqTimer = k.timer_setup(() => {
        for (const bits of pendingIrqs.splice(0)) regs.set(CSR.INT, (regs.get(CSR.INT) ?? 0) | bits);
        iwlPcieIrq(t);
      });
      t.isDown = false;
      expect(rxInit(t)).toBe(0);
      expect(txInit(t)).toBe(0);
      t.enableInterrupts();
      txStart(t, SCD_SRAM_BASE_VALUE);
      yield* body(t, k);
      yield* t.free();
    });
    h.run();
    return h;
  };
  return { run, rx, regs, wrptrs, logs: () => h.kernel.logs.map((l) => l.text) };
}

describe('iwlwifi PCIe host commands', () => {
  it('builds the TFD, matches the response by sequence and returns it (CMD_WANT_SKB)', () => {
    const seen: Uint8Array[] = [];
    let queuePtrs: number[] = [];
    const s = setup((cmd, lens) => { seen.push(cmd); tbLens = lens; return Uint8Array.of(0, 0, 0, 0, 0x42); });
    let tbLens: number[] = [];
    let res: { status: number; resp?: RxPacket } | undefined;
    const h = s.run(function* (t) {
      const r = yield* t.sendCmd({ id: CMD.NVM_ACCESS, group: 0, data: [new Uint8Array(8).fill(7), new Uint8Array(30).fill(9)], flags: CMD_WANT_SKB });
      res = r;
      const q = t.txqs[0]!;
      queuePtrs = [q.read, q.write, tfdNumTbs(q.tfds.dv, 0)];
    });
    expect(h.kernel.crashes).toEqual([]);
    // Reclaimed: read caught up with write, the TFD was cleared.
    expect(queuePtrs).toEqual([1, 1, 0]);
    expect(tbLens).toEqual([20, 22]);
    expect(seen).toHaveLength(1);
    const cmd = seen[0]!;
    expect(cmd.length).toBe(4 + 38);
    expect([...cmd.subarray(0, 4)]).toEqual([0x88, 0, 0, 0]);
    expect(cmd[4]).toBe(7);
    expect(cmd[41]).toBe(9);
    expect(res!.status).toBe(0);
    expect(res!.resp?.cmd).toBe(0x88);
    expect([...res!.resp!.payload]).toEqual([0, 0, 0, 0, 0x42]);
    expect(s.rx.map((p) => [p.cmd, seqQueue(p.seq), seqIndex(p.seq), p.seq & SEQ_UNSOLICITED])).toEqual([[0x88, 0, 0, 0]]);
    expect(s.logs().filter((l) => /error|Error/.test(l))).toEqual([]);
  });

  it('times out after 2 s with the Linux message, then fails later commands with -EIO', () => {
    const s = setup(() => null);
    const statuses: number[] = [];
    const h = s.run(function* (t, k) {
      const t0 = k.jiffies;
      statuses.push((yield* t.sendCmd({ id: CMD.ECHO, group: 0, data: [], flags: 0 })).status);
      expect(k.jiffies - t0).toBeGreaterThanOrEqual(2000);
      statuses.push((yield* t.sendCmd({ id: CMD.ECHO, group: 0, data: [], flags: 0 })).status);
    });
    expect(statuses).toEqual([-ETIMEDOUT, -EIO]);
    expect(s.logs()).toContain('iwlwifi 00:03.0: Error sending ECHO (0x03): time out after 2000ms.');
    expect(h.kernel.crashes).toEqual([]);
  });

  it('async commands return at once; their responses reclaim the slots by sequence and reach the op mode', () => {
    const s = setup((cmd) => Uint8Array.of(0, 0, 0, 0, cmd[0]!));
    const statuses: number[] = [];
    let during: number[] = [];
    let after: number[] = [];
    const h = s.run(function* (t, k) {
      const t0 = k.jiffies;
      for (const id of [CMD.ECHO, CMD.BT_CONFIG, CMD.TX_ANT_CONFIG]) {
        statuses.push((yield* t.sendCmd({ id, group: 0, data: [new Uint8Array(4)], flags: CMD_ASYNC })).status);
      }
      const q = t.txqs[0]!;
      during = [k.jiffies - t0, q.write - q.read];
      yield* k.msleep(10);
      after = [q.write - q.read];
    });
    expect(h.kernel.crashes).toEqual([]);
    expect(statuses).toEqual([0, 0, 0]);
    expect(during).toEqual([0, 3]);
    expect(after).toEqual([0]);
    expect(s.rx.map((p) => [p.cmd, seqIndex(p.seq), p.payload[4]])).toEqual([[CMD.ECHO, 0, CMD.ECHO], [CMD.BT_CONFIG, 1, CMD.BT_CONFIG], [CMD.TX_ANT_CONFIG, 2, CMD.TX_ANT_CONFIG]]);
  });
});
