/**
 * TX side of the gen1 transport (Linux pcie/tx.c and the gen1 parts of
 * queue/tx.c): TFD rings for queues 0-30, scheduler set-up, host commands
 * on the command queue (256 TFDs, 32 command buffers), data frames, reclaim
 * and the stuck-queue watchdog.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EINVAL, EIO, ENOMEM, ENOSPC, ETIMEDOUT } from '../../../kernel/errno.js';
import { CMD, TXQ, TX_CMD, cmdName, seqIndex, seqOf } from '../fw/api.js';
import { HBUS } from '../iwl-csr.js';
import { FH, FH_TX_CHICKEN_AUTO_RETRY, FH_TX_CONFIG_NORMAL, TFD, TFD_QUEUE_SIZE, fhTfdRingBaseReg, fhTxIdleBits } from '../iwl-fh.js';
import { APMG, APMG_PCIDEV_STT_L1_ACT_DIS, SCD, SCD_CONTEXT_FRAME_LIMIT_SHIFT, SCD_GP_CTRL_AUTO_ACTIVE_MODE, SCD_GP_CTRL_ENABLE_31_QUEUES, SCD_QUEUES, SCD_QUEUE_STTS, SCD_SRAM } from '../iwl-prph.js';
import { DMA_TO_DEVICE, type DmaCoherent, type DmaMapping } from '../../linux-kpi/kpi.js';
import type { TimerList } from '../../linux-kpi/ext-types.js';
import type { SkBuff } from '../../linux-kpi/skbuff.js';
import { CMD_ASYNC, CMD_WANT_SKB, type CmdResult, type HostCmd, type RxPacket } from '../trans-api.js';
import { FIRST_TB_SIZE, fillHostCmd, planHostCmd, tfdAddTb, tfdReset, writeCmdHeader } from './layout.js';
import { hex } from './io.js';
import type { PcieTrans } from './trans.js';

/** The command queue (DQA: queue 0 on FIFO 7). */
export const CMD_QUEUE = TXQ.CMD;
/** Command buffers of the command queue (TFD_CMD_SLOTS); slot = index & 31. */
export const CMD_SLOTS = 32;
/** Command buffer size: TFD_MAX_PAYLOAD_SIZE rounded up to 16. */
const CMD_BUF_SIZE = 336;
/** Per-TFD header area of data queues: command header, TX_CMD, 802.11 header (up to 104 bytes). */
const TX_BUF_SIZE = 128;
/** Sync host command timeout (HOST_COMPLETE_TIMEOUT). */
export const HOST_COMPLETE_TIMEOUT_MS = 2000;
/** Stuck-queue watchdog (IWL_DEF_WD_TIMEOUT). */
export const TX_WATCHDOG_MS = 2500;
/** Window size and frame limit the driver gives the scheduler. */
const SCD_WIN_SIZE = 64;
const SCD_FRAME_LIMIT = 64;
/** End of the SCD SRAM area the driver clears at fw_alive (SCD_TRANS_TBL_MEM_UPPER_BOUND). */
const SCD_TRANS_TBL_UPPER = 0x808;
/** Normal TX DMA channels (FH_TCSR_CHNL_NUM on gen1; the service channel is not one of them). */
const FH_TX_CHANNELS = 8;
/** Largest TB length (12-bit field). */
const TB_MAX_LEN = 0xfff;

interface TxEntry {
  inUse: boolean;
  skb: SkBuff | null;
  maps: DmaMapping[];
  /** Host commands: flags, id and group. */
  flags: number;
  cmd: number;
  group: number;
}

export class TxQueue {
  read = 0;
  write = 0;
  active = false;
  readonly entries: TxEntry[];
  stuckTimer: TimerList | null = null;

  constructor(readonly id: number, readonly slots: number, readonly slotSize: number,
    readonly tfds: DmaCoherent, readonly bufs: DmaCoherent) {
    this.entries = Array.from({ length: slots }, () => ({ inUse: false, skb: null, maps: [], flags: 0, cmd: 0, group: 0 }));
  }

  /** TFDs in use (write - read). */
  get used(): number { return (this.write - this.read) & (TFD_QUEUE_SIZE - 1); }
  /** Free TFDs: the command queue is limited by its 32 buffers; data queues hold at most 255. */
  get space(): number { return (this.slots < TFD_QUEUE_SIZE ? this.slots : TFD_QUEUE_SIZE - 1) - this.used; }
  slot(index: number): number { return index & (this.slots - 1); }
  /** True if `index` is between read (inclusive) and write (exclusive). */
  inUse(index: number): boolean { return ((index - this.read) & (TFD_QUEUE_SIZE - 1)) < this.used; }
}

// ---- allocation ---------------------------------------------------------------------

/** Allocates the TFD rings and header buffers of queues 0-30, the keep-warm buffer and the byte-count tables. */
export function txAlloc(t: PcieTrans): number {
  const { k, pdev } = t;
  if (t.txqs.length > 0) return 0;
  t.kw = k.dma_alloc_coherent(pdev, 4096);
  t.scdBcTbls = k.dma_alloc_coherent(pdev, SCD_QUEUES * 640);
  if (t.kw === null || t.scdBcTbls === null) return -ENOMEM;
  for (let q = 0; q < SCD_QUEUES; q++) {
    const cmd = q === CMD_QUEUE;
    const slots = cmd ? CMD_SLOTS : TFD_QUEUE_SIZE;
    const slotSize = cmd ? CMD_BUF_SIZE : TX_BUF_SIZE;
    const tfds = k.dma_alloc_coherent(pdev, TFD_QUEUE_SIZE * TFD.SIZE);
    const bufs = k.dma_alloc_coherent(pdev, slots * slotSize);
    if (tfds === null || bufs === null) {
      if (tfds !== null) k.dma_free_coherent(pdev, tfds);
      if (bufs !== null) k.dma_free_coherent(pdev, bufs);
      return -ENOMEM;
    }
    const txq = new TxQueue(q, slots, slotSize, tfds, bufs);
    if (!cmd) txq.stuckTimer = k.timer_setup(() => stuckTimerFired(t, txq));
    t.txqs.push(txq);
  }
  return 0;
}

export function txFree(t: PcieTrans): void {
  const { k, pdev } = t;
  for (const q of t.txqs) {
    txqUnmap(t, q);
    if (q.stuckTimer !== null) k.del_timer_sync(q.stuckTimer);
    k.dma_free_coherent(pdev, q.tfds);
    k.dma_free_coherent(pdev, q.bufs);
  }
  t.txqs.length = 0;
  if (t.kw !== null) k.dma_free_coherent(pdev, t.kw);
  if (t.scdBcTbls !== null) k.dma_free_coherent(pdev, t.scdBcTbls);
  t.kw = null;
  t.scdBcTbls = null;
}

// ---- init / start / stop ----------------------------------------------------------------

/** iwl_pcie_tx_init: FIFOs off, keep-warm buffer, ring bases, scheduler mode. */
export function txInit(t: PcieTrans): number {
  const r = txAlloc(t);
  if (r < 0) return r;
  const { io } = t;
  io.prphWrite(SCD.TXFACT, 0);
  writeDirect32(t, FH.KW_MEM_ADDR, t.kw!.dma / 16);
  for (const q of t.txqs) {
    txqUnmap(t, q);
    q.read = 0;
    q.write = 0;
    q.active = false;
    writeDirect32(t, fhTfdRingBaseReg(q.id), q.tfds.dma / 256);
  }
  io.prphSetBits(SCD.GP_CTRL, SCD_GP_CTRL_AUTO_ACTIVE_MODE);
  io.prphSetBits(SCD.GP_CTRL, SCD_GP_CTRL_ENABLE_31_QUEUES);
  return 0;
}

/** iwl_pcie_tx_start (fw_alive): scheduler SRAM, command queue, FIFOs and DMA channels on. */
export function txStart(t: PcieTrans, scdBaseAddr: number): void {
  const { io } = t;
  t.scdBase = io.prphRead(SCD.SRAM_BASE_ADDR);
  if (scdBaseAddr !== 0 && scdBaseAddr !== t.scdBase) {
    io.err(`SCD base address mismatch: ALIVE reports 0x${hex(scdBaseAddr)}, SCD_SRAM_BASE_ADDR reads 0x${hex(t.scdBase)}`);
  }
  const lo = SCD_SRAM.CONTEXT;
  io.memWrite(t.scdBase + lo, null, (SCD_TRANS_TBL_UPPER - lo) / 4);
  io.prphWrite(SCD.DRAM_BASE_ADDR, Math.floor(t.scdBcTbls!.dma / 1024));
  // The chain extension of the scheduler misbehaves on this family: off (scd_chain_ext_wa).
  io.prphWrite(SCD.CHAINEXT_EN, 0);
  txqEnableNow(t, CMD_QUEUE, 7);
  io.prphWrite(SCD.TXFACT, 0xff);
  for (let ch = 0; ch < FH_TX_CHANNELS; ch++) writeDirect32(t, FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch, FH_TX_CONFIG_NORMAL);
  if (io.grabNicAccess()) {
    io.write32(FH.TX_CHICKEN_BITS, io.read32(FH.TX_CHICKEN_BITS) | FH_TX_CHICKEN_AUTO_RETRY);
    io.releaseNicAccess();
  }
  io.prphClearBits(APMG.PCIDEV_STT, APMG_PCIDEV_STT_L1_ACT_DIS);
}

/** iwl_pcie_tx_stop: FIFOs off, DMA channels off (5 ms idle poll), every queue emptied. */
export function txStop(t: PcieTrans): void {
  const { io } = t;
  io.prphWrite(SCD.TXFACT, 0);
  if (io.grabNicAccess()) {
    let mask = 0;
    for (let ch = 0; ch < FH_TX_CHANNELS; ch++) {
      io.write32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch, 0);
      mask = (mask | fhTxIdleBits(ch)) >>> 0;
    }
    if (io.pollBit(FH.TSSR_TX_STATUS, mask, mask, 5000) < 0) {
      io.err(`Failing on timeout while stopping DMA channels [0x${hex(io.read32(FH.TSSR_TX_STATUS))}]`);
    }
    io.releaseNicAccess();
  }
  for (const q of t.txqs) {
    txqUnmap(t, q);
    q.read = 0;
    q.write = 0;
    q.active = false;
  }
}

function writeDirect32(t: PcieTrans, off: number, v: number): void {
  if (!t.io.grabNicAccess()) return;
  t.io.write32(off, v);
  t.io.releaseNicAccess();
}

// ---- queues ---------------------------------------------------------------------------------

/** iwl_trans_pcie_txq_enable with ssn 0, window and frame limit 64. */
export function txqEnableNow(t: PcieTrans, queue: number, fifo: number): void {
  const { io } = t;
  const q = t.txqs[queue];
  if (q === undefined) { io.err(`txq_enable: no queue ${queue}`); return; }
  if (q.active) io.warn(`queue ${queue} already enabled`);
  const bit = 1 << queue;
  const stts = SCD.QUEUE_STATUS_BITS + 4 * queue;
  io.prphWrite(stts, SCD_QUEUE_STTS.ACT_EN); // inactive while configuring
  if (queue === CMD_QUEUE) io.prphClearBits(SCD.QUEUECHAIN_SEL, bit);
  else io.prphSetBits(SCD.QUEUECHAIN_SEL, bit);
  io.prphClearBits(SCD.AGGR_SEL, bit);
  txqUnmap(t, q);
  q.read = 0;
  q.write = 0;
  writeDirect32(t, HBUS.TARG_WRPTR, (queue << 8) | 0);
  io.prphWrite(SCD.QUEUE_RDPTR + 4 * queue, 0);
  const ctx = t.scdBase + SCD_SRAM.CONTEXT + SCD_SRAM.CONTEXT_BYTES_PER_QUEUE * queue;
  io.memWrite32(ctx, 0);
  io.memWrite32(ctx + 4, (SCD_WIN_SIZE | (SCD_FRAME_LIMIT << SCD_CONTEXT_FRAME_LIMIT_SHIFT)) >>> 0);
  io.prphWrite(stts, (SCD_QUEUE_STTS.ACTIVE | ((fifo & SCD_QUEUE_STTS.FIFO_MASK) << SCD_QUEUE_STTS.FIFO_SHIFT)
    | SCD_QUEUE_STTS.WSL | SCD_QUEUE_STTS.REG_MSK) >>> 0);
  q.active = true;
  io.dbg(`Activate queue ${queue} on FIFO ${fifo}`);
}

/** iwl_trans_pcie_txq_disable: scheduler status inactive, SRAM status cleared, entries freed. */
export function txqDisableNow(t: PcieTrans, queue: number): void {
  const { io, k } = t;
  const q = t.txqs[queue];
  if (q === undefined || !q.active) { io.warn(`queue ${queue} not used`); return; }
  io.prphWrite(SCD.QUEUE_STATUS_BITS + 4 * queue, SCD_QUEUE_STTS.ACT_EN);
  io.memWrite(t.scdBase + SCD_SRAM.TX_STATUS + SCD_SRAM.TX_STATUS_BYTES_PER_QUEUE * queue, null, 4);
  txqUnmap(t, q);
  q.read = 0;
  q.write = 0;
  q.active = false;
  if (q.stuckTimer !== null) k.del_timer(q.stuckTimer);
  io.dbg(`Deactivate queue ${queue}`);
}

/** Frees every outstanding entry of `q` (mappings, skbs) and clears its TFDs. */
export function txqUnmap(t: PcieTrans, q: TxQueue): void {
  while (q.used > 0) {
    freeEntry(t, q, q.read);
    q.read = (q.read + 1) & (TFD_QUEUE_SIZE - 1);
  }
  for (const e of q.entries) if (e.inUse) clearEntry(t, e);
  if (q.stuckTimer !== null) t.k.del_timer(q.stuckTimer);
}

function clearEntry(t: PcieTrans, e: TxEntry): void {
  for (const m of e.maps) t.k.dma_unmap_single(t.pdev, m);
  e.maps.length = 0;
  if (e.skb !== null) t.k.dev_kfree_skb_any(e.skb);
  e.skb = null;
  e.inUse = false;
  e.flags = 0;
}

function freeEntry(t: PcieTrans, q: TxQueue, index: number): void {
  const e = q.entries[q.slot(index)]!;
  if (e.inUse) clearEntry(t, e);
  tfdReset(q.tfds.dv, index * TFD.SIZE);
}

function kickWritePtr(t: PcieTrans, q: TxQueue): void {
  // Shadow registers: the write pointer goes straight to HBUS_TARG_WRPTR.
  t.io.write32(HBUS.TARG_WRPTR, q.write | (q.id << 8));
}

/** Adds `len` bytes at `addr` as TBs of at most 4095 bytes. False when the TFD is full. */
function addTbs(q: TxQueue, tfdOff: number, addr: number, len: number): boolean {
  for (let o = 0; o < len; o += TB_MAX_LEN) {
    if (tfdAddTb(q.tfds.dv, tfdOff, addr + o, Math.min(TB_MAX_LEN, len - o)) < 0) return false;
  }
  return true;
}

// ---- host commands ------------------------------------------------------------------------------

/** Puts a host command on the command queue. Returns its index or -errno. */
export function enqueueHcmd(t: PcieTrans, cmd: HostCmd): number {
  const { k, io, pdev } = t;
  const q = t.txqs[CMD_QUEUE];
  const name = cmdName(cmd.id, cmd.group);
  if (q === undefined || !q.active) {
    io.err(`${name}: command queue not active`);
    return -EIO;
  }
  if (q.space < ((cmd.flags & CMD_ASYNC) !== 0 ? 2 : 1)) {
    io.err('No space in command queue');
    return -ENOSPC;
  }
  const plan = planHostCmd(cmd.group, cmd.data);
  let tbs = (plan.copy > FIRST_TB_SIZE ? 2 : 1);
  for (const m of plan.mapped) tbs += Math.ceil((cmd.data[m.frag]!.length - m.start) / TB_MAX_LEN);
  if (tbs > TFD.MAX_TBS) {
    io.err(`${name}: ${plan.payloadLen} bytes need ${tbs} TBs, more than ${TFD.MAX_TBS}`);
    return -EINVAL;
  }
  const index = q.write;
  const e = q.entries[q.slot(index)]!;
  if (e.inUse) {
    io.err(`${name}: command buffer ${q.slot(index)} still in use`);
    return -ENOSPC;
  }
  if (!io.holdNicAwakeForCmd()) return -EIO;
  const bufOff = q.slot(index) * q.slotSize;
  fillHostCmd(q.bufs.cpu, q.bufs.dv, bufOff, cmd.id, cmd.group, seqOf(CMD_QUEUE, index), cmd.data, plan);
  const tfdOff = index * TFD.SIZE;
  tfdReset(q.tfds.dv, tfdOff);
  tfdAddTb(q.tfds.dv, tfdOff, q.bufs.dma + bufOff, Math.min(FIRST_TB_SIZE, plan.copy));
  if (plan.copy > FIRST_TB_SIZE) tfdAddTb(q.tfds.dv, tfdOff, q.bufs.dma + bufOff + FIRST_TB_SIZE, plan.copy - FIRST_TB_SIZE);
  for (const m of plan.mapped) {
    const map = k.dma_map_single(pdev, cmd.data[m.frag]!.subarray(m.start), DMA_TO_DEVICE);
    if (map === null) {
      for (const mm of e.maps) k.dma_unmap_single(pdev, mm);
      e.maps.length = 0;
      tfdReset(q.tfds.dv, tfdOff);
      return -ENOMEM;
    }
    e.maps.push(map);
    addTbs(q, tfdOff, map.dma, map.len);
  }
  e.inUse = true;
  e.flags = cmd.flags;
  e.cmd = cmd.id;
  e.group = cmd.group;
  q.write = (index + 1) & (TFD_QUEUE_SIZE - 1);
  kickWritePtr(t, q);
  return index;
}

/** An async host command: queued, never waits (safe where sleeping is not). 0 or -errno. */
export function sendCmdAsync(t: PcieTrans, cmd: HostCmd): number {
  if (t.fwError) return -EIO;
  const r = enqueueHcmd(t, { ...cmd, flags: cmd.flags | CMD_ASYNC });
  if (r < 0) {
    t.io.err(`Error sending ${cmdName(cmd.id, cmd.group)}: enqueue_hcmd failed: ${r}`);
    return r;
  }
  return 0;
}

/** iwl_trans_send_cmd: async returns once queued; sync waits for the response (2 s). */
export function* sendCmd(t: PcieTrans, cmd: HostCmd): Co<CmdResult> {
  const { k, io } = t;
  const name = cmdName(cmd.id, cmd.group);
  if (t.fwError) return { status: -EIO };
  if ((cmd.flags & CMD_ASYNC) !== 0) return { status: sendCmdAsync(t, cmd) };
  yield* k.mutex_lock(t.syncMutex);
  try {
    if (t.fwError) return { status: -EIO };
    const sync = { index: -1, done: k.init_completion(), finished: false, status: 0, resp: undefined as RxPacket | undefined };
    t.sync = sync;
    const idx = enqueueHcmd(t, cmd);
    if (idx < 0) {
      io.err(`Error sending ${name}: enqueue_hcmd failed: ${idx}`);
      return { status: idx };
    }
    sync.index = idx;
    const left = yield* k.wait_for_completion_timeout(sync.done, k.msecs_to_jiffies(HOST_COMPLETE_TIMEOUT_MS));
    if (left === 0 && !sync.finished) {
      const q = t.txqs[CMD_QUEUE]!;
      io.err(`Error sending ${name}: time out after ${HOST_COMPLETE_TIMEOUT_MS}ms.`);
      io.err(`Current CMD queue read_ptr ${q.read} write_ptr ${q.write}`);
      // The response may still come: it must not be handed to a caller that is gone.
      const e = q.entries[q.slot(idx)]!;
      e.flags &= ~CMD_WANT_SKB;
      // Like Linux, a command timeout means the firmware is considered dead until the next stop/start.
      t.fwError = true;
      return { status: -ETIMEDOUT };
    }
    if (sync.status !== 0) {
      io.err(`Error sending ${name}: ${sync.status === -EIO ? 'firmware error' : `status ${sync.status}`} while waiting for the response`);
      return { status: sync.status };
    }
    if ((cmd.flags & CMD_WANT_SKB) !== 0) {
      if (sync.resp === undefined) {
        io.err(`Error: Response NULL in '${name}'`);
        return { status: -EIO };
      }
      return { status: 0, resp: sync.resp };
    }
    return { status: 0 };
  } finally {
    t.sync = null;
    k.mutex_unlock(t.syncMutex);
  }
}

/** Wakes a waiting sync command with `status` (firmware error, stop). */
export function abortSync(t: PcieTrans, status: number): void {
  const s = t.sync;
  if (s === null || s.finished) return;
  s.finished = true;
  s.status = status;
  t.k.complete(s.done);
}

/** A response on the command queue (seq bit 15 clear): free its TFD and buffer, wake the waiter. */
export function cmdComplete(t: PcieTrans, pkt: RxPacket): void {
  const { io } = t;
  const q = t.txqs[CMD_QUEUE];
  const index = seqIndex(pkt.seq);
  if (q === undefined || !q.inUse(index)) {
    io.err(`response ${cmdName(pkt.cmd, pkt.group)} for command queue index ${index} which is not in use (read ${q?.read ?? 0} write ${q?.write ?? 0})`);
    return;
  }
  const e = q.entries[q.slot(index)]!;
  const flags = e.flags;
  const s = t.sync;
  const isSync = (flags & CMD_ASYNC) === 0;
  if (isSync && s !== null && s.index === index && !s.finished && (flags & CMD_WANT_SKB) !== 0) s.resp = pkt;
  // Reclaim up to and including `index`; anything before it was skipped by the firmware.
  let freed = 0;
  while (q.inUse(index)) {
    if (freed++ > 0) io.err(`HCMD skipped: index (${index}) ${q.write} ${q.read}`);
    freeEntry(t, q, q.read);
    q.read = (q.read + 1) & (TFD_QUEUE_SIZE - 1);
  }
  // iwl_pcie_clear_cmd_in_flight: nothing left on the command queue, the NIC may sleep again.
  if (q.read === q.write) io.releaseCmdHold();
  if (isSync) {
    if (s !== null && s.index === index && !s.finished) {
      s.finished = true;
      s.status = 0;
      t.k.complete(s.done);
    } else {
      io.dbg(`late response ${cmdName(pkt.cmd, pkt.group)} for sync command at index ${index}`);
    }
  }
}

// ---- data TX ------------------------------------------------------------------------------------

/** Queues a data/management frame; 0, -ENOSPC (ring full) or -EINVAL. */
export function txFrame(t: PcieTrans, queue: number, txCmd: Uint8Array, skb: SkBuff, hdrLen: number): number {
  const { k, io, pdev } = t;
  const q = t.txqs[queue];
  if (q === undefined || queue === CMD_QUEUE || !q.active) {
    io.err(`tx on queue ${queue}, which is not an active data queue`);
    return -EINVAL;
  }
  if (txCmd.length < TX_CMD.SIZE || hdrLen > skb.len || 4 + TX_CMD.SIZE + hdrLen > q.slotSize) {
    io.err(`tx on queue ${queue}: bad frame (TX_CMD ${txCmd.length} bytes, header ${hdrLen} of ${skb.len})`);
    return -EINVAL;
  }
  if (q.space < 1) return -ENOSPC;
  const index = q.write;
  const e = q.entries[q.slot(index)]!;
  const bufOff = q.slot(index) * q.slotSize;
  const bytes = skb.bytes;
  writeCmdHeader(q.bufs.dv, bufOff, CMD.TX, 0, seqOf(queue, index), TX_CMD.SIZE + bytes.length);
  q.bufs.cpu.set(txCmd.subarray(0, TX_CMD.SIZE), bufOff + 4);
  q.bufs.cpu.set(bytes.subarray(0, hdrLen), bufOff + 4 + TX_CMD.SIZE);
  const tfdOff = index * TFD.SIZE;
  tfdReset(q.tfds.dv, tfdOff);
  const copy = 4 + TX_CMD.SIZE + hdrLen;
  tfdAddTb(q.tfds.dv, tfdOff, q.bufs.dma + bufOff, FIRST_TB_SIZE);
  tfdAddTb(q.tfds.dv, tfdOff, q.bufs.dma + bufOff + FIRST_TB_SIZE, copy - FIRST_TB_SIZE);
  if (bytes.length > hdrLen) {
    const map = k.dma_map_single(pdev, bytes.subarray(hdrLen), DMA_TO_DEVICE);
    if (map === null) { tfdReset(q.tfds.dv, tfdOff); return -ENOSPC; }
    if (!addTbs(q, tfdOff, map.dma, map.len)) {
      k.dma_unmap_single(pdev, map);
      tfdReset(q.tfds.dv, tfdOff);
      io.err(`tx on queue ${queue}: frame of ${bytes.length} bytes needs too many TBs`);
      return -EINVAL;
    }
    e.maps.push(map);
  }
  e.inUse = true;
  e.skb = skb;
  e.flags = 0;
  e.cmd = CMD.TX;
  e.group = 0;
  if (q.used === 0 && q.stuckTimer !== null) k.mod_timer(q.stuckTimer, k.jiffies + k.msecs_to_jiffies(TX_WATCHDOG_MS));
  q.write = (index + 1) & (TFD_QUEUE_SIZE - 1);
  kickWritePtr(t, q);
  return 0;
}

/** Frees TFDs on `queue` from the read pointer up to, not including, `ssnIndex`. */
export function reclaim(t: PcieTrans, queue: number, ssnIndex: number): number {
  const { k, io } = t;
  const q = t.txqs[queue];
  if (q === undefined || !q.active) return 0;
  const ssn = ssnIndex & (TFD_QUEUE_SIZE - 1);
  if (ssn === q.read) return 0;
  const last = (ssn - 1) & (TFD_QUEUE_SIZE - 1);
  if (!q.inUse(last)) {
    io.err(`reclaim: Read index for txq id (${queue}), last_to_free ${last} is out of range [0-${TFD_QUEUE_SIZE}] ${q.read} ${q.write}.`);
    return 0;
  }
  let n = 0;
  while (q.read !== ssn) {
    freeEntry(t, q, q.read);
    q.read = (q.read + 1) & (TFD_QUEUE_SIZE - 1);
    n++;
  }
  if (q.stuckTimer !== null) {
    if (q.used === 0) k.del_timer(q.stuckTimer);
    else k.mod_timer(q.stuckTimer, k.jiffies + k.msecs_to_jiffies(TX_WATCHDOG_MS));
  }
  return n;
}

function stuckTimerFired(t: PcieTrans, q: TxQueue): void {
  if (!q.active || q.used === 0) return;
  t.io.err(`Queue ${q.id} is stuck ${q.read} ${q.write}`);
  t.opMode?.queueStuck(q.id);
}

/** Stops every watchdog (firmware error: the queues will be torn down). */
export function stopWatchdogs(t: PcieTrans): void {
  for (const q of t.txqs) if (q.stuckTimer !== null) t.k.del_timer(q.stuckTimer);
}
