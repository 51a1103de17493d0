/**
 * Stall diagnosis for the 7265D (DeviceModel.stall): when a run ends by its
 * time limit or goes idle before the workload is done, say what the adapter
 * is waiting for, read from its state:
 *
 * - the firmware CPU: held in reset, booting without ALIVE, dead (and why);
 * - TX queues with TFDs the device cannot process (not active in the
 *   scheduler, no ring base, FH TX DMA channel disabled), with the time of
 *   the last TFD it processed;
 * - the RX ring without free receive buffers (the driver has not restocked)
 *   or with its DMA channel disabled;
 * - interrupt causes pending and not acknowledged, or pending but masked.
 *
 * Reads state only; allocates only when asked (once, at the end of a run).
 */
import { formatTime } from '../../sim/time.js';
import { SCD_QUEUE_STTS, TFD_QUEUE_SIZE } from './regs.js';
import type { IwlTransport } from './transport/transport.js';
import { InactiveReason, TX_QUEUES } from './transport/tx-queues.js';

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** Lines naming what the adapter `t` waits for at `now` (ps); empty when nothing is pending. */
export function iwlStall(t: IwlTransport, now: number): string[] {
  const out: string[] = [...(t.fw.stall?.() ?? [])];
  const txq = t.txq;
  for (let q = 0; q < TX_QUEUES; q++) {
    const pending = (txq.wr[q]! - txq.rd[q]!) & (TFD_QUEUE_SIZE - 1);
    if (pending === 0) continue;
    const last = txq.lastTfdPs[q]!;
    const since = last < 0 ? 'no TFD processed since the queue was set up' : `no TFD processed since ${formatTime(last)} (${formatTime(Math.max(0, now - last))} ago)`;
    const why = txq.blocked(q);
    const reasons: string[] = [];
    if ((why & InactiveReason.NOT_ACTIVE) !== 0) reasons.push('not active in the scheduler (SCD QUEUE_STATUS_BITS)');
    if ((why & InactiveReason.NO_RING) !== 0) reasons.push('no TFD ring base');
    if ((why & InactiveReason.CHANNEL_OFF) !== 0) {
      const ch = (txq.status[q]! >>> SCD_QUEUE_STTS.FIFO_SHIFT) & SCD_QUEUE_STTS.FIFO_MASK;
      reasons.push(`FH TX DMA channel ${ch} disabled`);
    }
    out.push(`TX queue ${q}: ${pending} TFD${pending === 1 ? '' : 's'} pending (read ${txq.rd[q]}, write ${txq.wr[q]})${reasons.length > 0 ? `, not processed: ${reasons.join(', ')}` : ''}; ${since}`);
  }
  const rx = t.rx;
  if (rx.enabled && rx.free() === 0) {
    out.push(`RX: no free receive buffers (driver has not restocked: write pointer ${rx.wptr}, read index ${rx.read}); ${rx.dropped} packet${rx.dropped === 1 ? '' : 's'} dropped`);
  } else if (!rx.enabled && t.fw.running) {
    out.push(`RX: the RX DMA channel is disabled while the firmware runs; ${rx.dropped} packet${rx.dropped === 1 ? '' : 's'} dropped`);
  }
  const ints = t.ints;
  if ((ints.int & ints.mask) !== 0) {
    out.push(`interrupt causes ${hex(ints.int & ints.mask)} pending, not acknowledged by the driver (CSR_INT not written back)`);
  } else if (ints.int !== 0) {
    out.push(`interrupt causes ${hex(ints.int)} pending but masked (CSR_INT_MASK ${hex(ints.mask)})`);
  }
  return out;
}
