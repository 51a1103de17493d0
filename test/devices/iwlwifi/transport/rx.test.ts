import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import { CSR, FH, FH_INT, INT, INT_MASK_NORMAL, RX_END_MARKER } from '../../../../src/devices/iwlwifi/regs.js';
import { RxDrop } from '../../../../src/devices/iwlwifi/transport/index.js';

function payload(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 3 + seed) & 0xff;
  return b;
}

describe('iwlwifi transport: RX ring', () => {
  it('writes len_n_flags, the narrow header and the payload; end marker at ALIGN(len + 4, 64); closed_rb_num', () => {
    const h = new Harness();
    h.setupRx();
    const p = payload(68);
    expect(h.post(0x01, 0, 0x8000, p, 68)).toBe(true);
    const rb = h.rbs[0]!;
    expect(h.ram32(rb)).toBe(4 + 68);
    expect(h.mem.ram[rb + 4]).toBe(0x01);
    expect(h.mem.ram[rb + 5]).toBe(0);
    expect(h.mem.ramView.getUint16(rb + 6, true)).toBe(0x8000);
    expect(h.readMem(rb + 8, 68)).toEqual(p);
    expect(h.ram32(rb + 128)).toBe(RX_END_MARKER); // ALIGN(72 + 4, 64) = 128
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(1);
    expect(h.r32(FH.RSCSR_CHNL0_RDPTR)).toBe(1);
    // Second packet: next RB; a 60-byte payload ends exactly at 64 -> marker at 64.
    expect(h.post(0x88, 0x0c, 0x0003, payload(56), 56)).toBe(true);
    expect(h.ram32(h.rbs[1]!)).toBe(60);
    expect(h.mem.ram[h.rbs[1]! + 5]).toBe(0x0c);
    expect(h.ram32(h.rbs[1]! + 64)).toBe(RX_END_MARKER);
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(2);
    expect(h.dev.stats()['rxPackets']).toBe(2);
  });

  it('order: packet, end marker, RB status, FH_RX + FH_INT bit 16, ICT entry, then MSI', () => {
    const h = new Harness();
    h.setupRx();
    const ict = h.enableIct();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.tracer.events.length = 0;
    h.post(0x01, 0, 0x8000, payload(68), 68);
    const seq = h.tracer.events
      .filter((e) => e.kind === 'msi' || (e.kind === 'dma' && e.write))
      .map((e) => (e.kind === 'dma' ? e.tag : 'msi'));
    expect(seq).toEqual(['iwl.rx', 'iwl.rx', 'iwl.rb-stts', 'iwl.ict', 'msi']);
    expect(h.ram32(ict)).toBe(0x8000);
    expect(h.r32(CSR.INT) & INT.FH_RX).toBe(INT.FH_RX);
    expect(h.r32(CSR.FH_INT_STATUS) & FH_INT.RX_CH0).toBe(FH_INT.RX_CH0);
  });

  it('never fills the RBD at the write-pointer index; returns false and records rx.dropped when full', () => {
    const h = new Harness();
    h.setupRx(8);
    for (let i = 0; i < 8; i++) expect(h.post(0x03, 0, i, payload(4), 4)).toBe(true);
    expect(h.post(0x03, 0, 9, payload(4), 4)).toBe(false);
    expect(h.ram32(h.rbs[8]!)).toBe(0);
    expect(h.milestones('rx.dropped')).toMatchObject([{ a: 0x03, b: RxDrop.NO_FREE_RBD }]);
    // 0x1C08 is not the write pointer; the driver restocks through 0x1BC8.
    h.w32(FH.MEM_RCSR_CHNL0_RBDCB_WPTR, 16);
    expect(h.post(0x03, 0, 9, payload(4), 4)).toBe(false);
    h.w32(FH.RSCSR_CHNL0_WPTR, 16);
    expect(h.post(0x03, 0, 10, payload(4), 4)).toBe(true);
    expect(h.ram32(h.rbs[8]!)).toBe(8);
  });

  it('wraps the ring: closed_rb_num goes 255 -> 0', () => {
    const h = new Harness();
    h.setupRx(0);
    // Write pointer 0 with read index 0 is an empty ring; move the driver around the ring.
    let posted = 0;
    for (let round = 0; round < 2; round++) {
      for (let w = 8; w <= 256; w += 8) {
        h.w32(FH.RSCSR_CHNL0_WPTR, w & 0xff);
        while (h.post(0x03, 0, posted, payload(4), 4)) posted++;
      }
    }
    expect(posted).toBe(2 * 256);
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(0);
    expect(h.dev.rx.read).toBe(0);
  });

  it('drops packets while RX DMA is disabled', () => {
    const h = new Harness();
    expect(h.post(0x01, 0, 0x8000, payload(68), 68)).toBe(false);
    expect(h.milestones('rx.dropped')).toMatchObject([{ b: RxDrop.DISABLED }]);
  });

  it('loseRxIrq: the n-th RX interrupt after the first ALIVE is not signalled; causes stay pending', () => {
    const h = new Harness({ faults: { loseRxIrq: 2 } });
    h.setupRx();
    const ict = h.enableIct();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    const ack = () => { h.w32(CSR.INT, 0xffffffff); h.w32(CSR.FH_INT_STATUS, 0xffffffff); };
    h.post(0x03, 0, 0x8000, payload(4), 4); // before ALIVE: not counted
    ack();
    h.post(0x01, 0, 0x8000, payload(68), 68); // ALIVE itself
    ack();
    h.post(0x88, 0, 0x0001, payload(8), 8); // 1st after ALIVE
    ack();
    expect(h.irq.messages).toHaveLength(3);
    h.post(0x88, 0, 0x0002, payload(8), 8); // 2nd: lost
    expect(h.irq.messages).toHaveLength(3);
    expect(h.dev.ints.ictIndex).toBe(3);
    expect(h.r32(CSR.INT) & INT.FH_RX).toBe(INT.FH_RX);
    expect(h.r32(CSR.FH_INT_STATUS) & FH_INT.RX_CH0).toBe(FH_INT.RX_CH0);
    expect(h.milestones('fault.lost-rx-irq')).toHaveLength(1);
    expect(h.ram32(ict + 12)).toBe(0);
    h.post(0x88, 0, 0x0003, payload(8), 8); // 3rd: signalled again
    expect(h.irq.messages).toHaveLength(4);
    expect(h.dev.stats()['lostRxIrqs']).toBe(1);
  });

  it('bus mastering off: the RBD fetch is refused and the packet dropped', () => {
    const h = new Harness();
    h.setupRx();
    h.gate.busMaster = false;
    expect(h.post(0x01, 0, 0x8000, payload(68), 68)).toBe(false);
    expect(h.guestErrs('dma.no-bus-master')).toHaveLength(1);
    expect(h.milestones('rx.dropped')).toMatchObject([{ b: RxDrop.DMA }]);
  });
});

describe('iwlwifi transport: RX pointers', () => {
  it('0x1BCC reads the device read index; writing it (RX init zeroes it) moves the index', () => {
    const h = new Harness();
    h.setupRx();
    h.post(0x03, 0, 1, payload(4), 4);
    h.post(0x03, 0, 2, payload(4), 4);
    expect(h.r32(FH.RSCSR_CHNL0_RDPTR)).toBe(2);
    h.w32(FH.RSCSR_CHNL0_RDPTR, 0);
    expect(h.r32(FH.RSCSR_CHNL0_RDPTR)).toBe(0);
    expect(h.guestErrs()).toHaveLength(0);
  });
});

describe('iwlwifi transport: multi-packet RBs and DMA errors', () => {
  it('packets posted at the same instant share an RB, each 64-byte aligned, one end marker after the last; one RB status, one interrupt', () => {
    const h = new Harness();
    h.setupRx();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.tracer.events.length = 0;
    expect(h.dev.postRx(0xc0, 0, 0x8000, payload(68), 68)).toBe(true); // RX_PHY: 8 + 68 = 76 -> next at 128
    expect(h.dev.postRx(0xc1, 0, 0x8000, payload(100), 100)).toBe(true); // RX_MPDU at 128: 108 -> next at 256
    expect(h.dev.postRx(0x0f, 1, 0x8000, payload(16), 16)).toBe(true); // at 256: 24 -> end marker at 320
    // Nothing closed yet: no RB status, no interrupt.
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(0);
    expect(h.r32(CSR.INT) & INT.FH_RX).toBe(0);
    h.queue.runUntil(h.queue.now);
    const rb = h.rbs[0]!;
    expect([h.ram32(rb), h.ram32(rb + 128), h.ram32(rb + 256)]).toEqual([72, 104, 20]);
    expect([h.mem.ram[rb + 4], h.mem.ram[rb + 128 + 4], h.mem.ram[rb + 256 + 4], h.mem.ram[rb + 256 + 5]]).toEqual([0xc0, 0xc1, 0x0f, 1]);
    expect(h.readMem(rb + 128 + 8, 100)).toEqual(payload(100));
    expect(h.ram32(rb + 320)).toBe(RX_END_MARKER);
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(1); // one RB closed
    expect(h.mem.ramView.getUint16(h.rbStts + 2, true) & 0xfff).toBe(3); // three frames
    const writes = h.tracer.events.filter((e) => e.kind === 'dma' && e.write).map((e) => (e.kind === 'dma' ? e.tag : ''));
    expect(writes).toEqual(['iwl.rx', 'iwl.rx', 'iwl.rx', 'iwl.rx', 'iwl.rb-stts']);
    expect(h.tracer.events.filter((e) => e.kind === 'msi')).toHaveLength(1);
    expect(h.dev.stats()).toMatchObject({ rxPackets: 3, rxPacked: 2 });
  });

  it('a packet that does not fit closes the RB and opens the next one', () => {
    const h = new Harness();
    h.setupRx();
    h.dev.postRx(0x88, 0, 1, payload(2000), 2000); // 2008 -> next at 2048
    h.dev.postRx(0x88, 0, 2, payload(2000), 2000); // at 2048 -> the RB is full (no end marker: the walk ends at 4096)
    h.dev.postRx(0x88, 0, 3, payload(2000), 2000); // does not fit: the RB closes, the next one opens
    h.queue.runUntil(h.queue.now);
    expect(h.mem.ramView.getUint16(h.rbStts, true) & 0xfff).toBe(2);
    expect([h.ram32(h.rbs[0]!), h.ram32(h.rbs[0]! + 2048)]).toEqual([2004, 2004]);
    expect(h.ram32(h.rbs[1]!)).toBe(2004);
    expect(h.ram32(h.rbs[1]! + 2048)).toBe(RX_END_MARKER);
  });

  it('seeded DMA fault: the k-th packet after ALIVE is lost, FH_INT bit 31 and INT.HW_ERR; a driver acking RX with 0x40030000 leaves bit 31', () => {
    const h = new Harness({ faults: { dmaErrorRx: 2 } });
    h.setupRx();
    h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
    h.post(0x01, 0, 0x8000, payload(68), 68); // ALIVE
    h.post(0x88, 0, 1, payload(8), 8); // 1st after ALIVE
    expect(h.r32(CSR.INT) & INT.HW_ERR).toBe(0);
    expect(h.post(0x88, 0, 2, payload(8), 8)).toBe(false); // 2nd: the bus refuses it
    expect(h.r32(CSR.INT) & INT.HW_ERR).toBe(INT.HW_ERR);
    expect((h.r32(CSR.FH_INT_STATUS) & FH_INT.ERR) >>> 0).toBe(FH_INT.ERR >>> 0);
    expect(h.milestones('fault.dma-error')).toMatchObject([{ a: 0x88, b: 2 }]);
    expect(h.milestones('rx.dropped')).toMatchObject([{ a: 0x88, b: RxDrop.DMA }]);
    h.w32(CSR.FH_INT_STATUS, 0x40030000);
    expect((h.r32(CSR.FH_INT_STATUS) & FH_INT.ERR) >>> 0).toBe(FH_INT.ERR >>> 0);
    h.w32(CSR.FH_INT_STATUS, FH_INT.ERR);
    expect(h.r32(CSR.FH_INT_STATUS) & FH_INT.ERR).toBe(0);
    expect(h.dev.stats()['dmaErrors']).toBe(1);
  });

  it('an RBD pointing at no memory: the transfer fails with the FH error and HW_ERR', () => {
    const h = new Harness();
    h.setupRx();
    h.mem.ramView.setUint32(h.rbdRing, 0xfffff000, true); // RBD 0 -> far beyond RAM
    expect(h.post(0x03, 0, 1, payload(4), 4)).toBe(false);
    expect(h.r32(CSR.INT) & INT.HW_ERR).toBe(INT.HW_ERR);
    expect((h.r32(CSR.FH_INT_STATUS) & FH_INT.ERR) >>> 0).toBe(FH_INT.ERR >>> 0);
  });
});
