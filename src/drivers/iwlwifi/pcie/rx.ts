/**
 * RX side of the gen1 transport (Linux pcie/rx.c): one RX queue of 256 RBDs
 * pointing at 4 KiB receive buffers, the RB status write-back area, RX DMA
 * init/stop, and the NAPI poll that walks closed RBs, hands packets to the
 * command completion and the op mode, and restocks RBDs.
 */
import { ENOMEM } from '../../../kernel/errno.js';
import { RX_PKT_HDR, SEQ_UNSOLICITED, seqQueue } from '../fw/api.js';
import { CSR } from '../iwl-csr.js';
import { FH, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, FH_RX_CONFIG_4K, RB_SIZE_4K, RB_STTS_SIZE, RX_QUEUE_SIZE } from '../iwl-fh.js';
import type { DmaCoherent } from '../../linux-kpi/kpi.js';
import type { RxPacket } from '../trans-api.js';
import { hex } from './io.js';
import { walkRb } from './layout.js';
import { CMD_QUEUE, cmdComplete } from './tx.js';
import type { PcieTrans } from './trans.js';

/** Interrupt coalescing timer the driver programs (IWL_HOST_INT_TIMEOUT_DEF, 32 us units). */
export const INT_COALESCING_DEF = 0x40;
/** Receive buffers: one per RBD (at most 255 are in the ring; one is always spare). */
const RX_BUFFERS = RX_QUEUE_SIZE;

export class RxQueue {
  read = 0;
  write = 0;
  writeActual = 0;
  /** Buffer index held by each RBD slot (-1 = none). */
  readonly slotBuf = new Int16Array(RX_QUEUE_SIZE).fill(-1);
  /** Buffers not in the ring. */
  readonly free: number[] = [];
  constructor(readonly bd: DmaCoherent, readonly stts: DmaCoherent, readonly bufs: DmaCoherent[]) {}
  /** RBDs the driver may still fill (one always stays empty). */
  get space(): number { return (this.read - this.write - 1) & (RX_QUEUE_SIZE - 1); }
}

export function rxAlloc(t: PcieTrans): number {
  if (t.rxq !== null) return 0;
  const { k, pdev } = t;
  const bd = k.dma_alloc_coherent(pdev, RX_QUEUE_SIZE * 4);
  const stts = k.dma_alloc_coherent(pdev, RB_STTS_SIZE);
  const bufs: DmaCoherent[] = [];
  let ok = bd !== null && stts !== null;
  for (let i = 0; ok && i < RX_BUFFERS; i++) {
    const b = k.dma_alloc_coherent(pdev, RB_SIZE_4K);
    if (b === null) ok = false;
    else bufs.push(b);
  }
  if (!ok) {
    if (bd !== null) k.dma_free_coherent(pdev, bd);
    if (stts !== null) k.dma_free_coherent(pdev, stts);
    for (const b of bufs) k.dma_free_coherent(pdev, b);
    return -ENOMEM;
  }
  t.rxq = new RxQueue(bd!, stts!, bufs);
  return 0;
}

export function rxFree(t: PcieTrans): void {
  const q = t.rxq;
  if (q === null) return;
  const { k, pdev } = t;
  k.dma_free_coherent(pdev, q.bd);
  k.dma_free_coherent(pdev, q.stts);
  for (const b of q.bufs) k.dma_free_coherent(pdev, b);
  t.rxq = null;
}

/** iwl_pcie_rx_stop: RX DMA off, then wait (1 ms) for the channel to go idle. */
export function rxStop(t: PcieTrans): number {
  const { io } = t;
  if (!io.grabNicAccess()) return -1;
  io.write32(FH.MEM_RCSR_CHNL0_CONFIG, 0);
  const r = io.pollBit(FH.MEM_RSSR_RX_STATUS, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, 1000);
  if (r < 0) io.warn(`RX DMA did not go idle within 1 ms (RX status 0x${hex(io.read32(FH.MEM_RSSR_RX_STATUS))})`);
  io.releaseNicAccess();
  return r;
}

/** iwl_pcie_rx_init + rx_hw_init: ring filled with 255 buffers, DMA on for 256 RBDs of 4 KiB, coalescing. */
export function rxInit(t: PcieTrans): number {
  const r = rxAlloc(t);
  if (r < 0) return r;
  const q = t.rxq!;
  const { io } = t;
  // Every buffer back to the free list, ring empty.
  q.free.length = 0;
  for (let i = 0; i < q.bufs.length; i++) q.free.push(i);
  q.slotBuf.fill(-1);
  q.bd.cpu.fill(0);
  q.stts.cpu.fill(0);
  q.read = 0;
  q.write = 0;
  q.writeActual = 0;
  restock(t, q);

  rxStop(t);
  if (!io.grabNicAccess()) return -5;
  io.write32(FH.MEM_RCSR_CHNL0_RBDCB_WPTR, 0);
  io.write32(FH.RSCSR_CHNL0_WPTR, 0);
  io.write32(FH.RSCSR_CHNL0_RDPTR, 0);
  io.write32(FH.RSCSR_CHNL0_RBDCB_BASE, q.bd.dma / 256);
  io.write32(FH.RSCSR_CHNL0_STTS_WPTR, q.stts.dma / 16);
  io.write32(FH.MEM_RCSR_CHNL0_CONFIG, FH_RX_CONFIG_4K);
  io.releaseNicAccess();
  io.write8(CSR.INT_COALESCING, INT_COALESCING_DEF);
  q.writeActual = q.write & ~7;
  io.write32(FH.RSCSR_CHNL0_WPTR, q.writeActual);
  return 0;
}

/** Puts free buffers into empty RBDs from the write index on. */
function restock(_t: PcieTrans, q: RxQueue): void {
  while (q.space > 0 && q.free.length > 0) {
    const b = q.free.shift()!;
    q.slotBuf[q.write] = b;
    q.bd.dv.setUint32(q.write * 4, q.bufs[b]!.dma / 256, true);
    q.write = (q.write + 1) & (RX_QUEUE_SIZE - 1);
  }
}

/** Tells the device about new RBDs: the write pointer in multiples of 8. */
function updateWritePtr(t: PcieTrans, q: RxQueue): void {
  const wa = q.write & ~7;
  if (wa === q.writeActual) return;
  q.writeActual = wa;
  t.io.write32(FH.RSCSR_CHNL0_WPTR, wa);
}

/**
 * iwl_pcie_rx_handle: processes closed RBs from the driver's read index up
 * to the device's closed_rb_num, at most `budget` RBs. Returns the RBs
 * processed.
 */
export function rxHandle(t: PcieTrans, budget: number): number {
  const q = t.rxq;
  if (q === null) return 0;
  const closed = (q.stts.dv.getUint16(0, true) & 0x0fff) & (RX_QUEUE_SIZE - 1);
  let rbs = 0;
  let packets = 0;
  while (q.read !== closed && rbs < budget) {
    const b = q.slotBuf[q.read]!;
    if (b < 0) {
      t.io.err(`RX: RBD ${q.read} closed by the device but holds no buffer`);
    } else {
      packets += handleRb(t, q.bufs[b]!);
      q.slotBuf[q.read] = -1;
      q.free.push(b);
    }
    q.read = (q.read + 1) & (RX_QUEUE_SIZE - 1);
    rbs++;
    restock(t, q);
  }
  if (rbs > 0) updateWritePtr(t, q);
  t.rxPackets += packets;
  t.rxPollPackets += packets;
  return rbs;
}

function handleRb(t: PcieTrans, buf: DmaCoherent): number {
  return walkRb(buf.dv, 0, RB_SIZE_4K,
    (off, len) => handlePacket(t, buf, off, len),
    (off, lnf) => t.io.err(`RX: bad packet at offset ${off} of an RB (len_n_flags 0x${hex(lnf)})`));
}

function handlePacket(t: PcieTrans, buf: DmaCoherent, off: number, len: number): void {
  const dv = buf.dv;
  const seq = dv.getUint16(off + 6, true);
  const pkt: RxPacket = {
    cmd: dv.getUint8(off + 4),
    group: dv.getUint8(off + 5),
    seq,
    payload: buf.cpu.slice(off + RX_PKT_HDR, off + 4 + len),
  };
  if ((seq & SEQ_UNSOLICITED) === 0 && seqQueue(seq) === CMD_QUEUE) cmdComplete(t, pkt);
  if (t.opMode !== null) t.opMode.rx(pkt);
  else t.io.dbg(`RX: packet 0x${pkt.cmd.toString(16)} before an op mode was set, dropped`);
}
