/**
 * Stall diagnosis for virtio-net (DeviceModel.stall): the handshake state,
 * a device that needs a reset, no cable or carrier down, frames dropped for
 * want of receive buffers ("rx: 3 frames dropped, no RX buffers posted
 * since 1.200 ms"), frames waiting in the RX FIFO, transmit chains
 * available but not consumed, and control commands not consumed. Avail
 * indices are peeked without tracing. Allocates only when asked.
 */
import { formatTime } from '../../../sim/time.js';
import { STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, STATUS_FAILED, statusNames } from '../transport/regs.js';
import type { SplitQueue } from '../virtqueue.js';
import type { VirtioNet } from './device.js';
import { RX_QUEUE, TX_QUEUE } from './regs.js';

function pending(d: VirtioNet, vq: SplitQueue, scratch: Uint8Array): number {
  let avail = vq.availIdx;
  if (d.dma.peek(vq.driverAddr + 2, scratch, 0, 2)) avail = scratch[0]! | (scratch[1]! << 8);
  return (avail - vq.lastAvail) & 0xffff;
}

function lastNotify(vq: SplitQueue): string {
  return vq.lastNotifyPs < 0 ? 'never notified' : `last notify ${formatTime(vq.lastNotifyPs)}`;
}

export function netStall(d: VirtioNet, now: number): string[] {
  const out: string[] = [];
  const t = d.t;
  const c = d.counters;
  if (d.net === undefined) out.push('no network attached (network prop empty): the link is down, transmitted frames are dropped');
  else if (!d.linkUp) out.push(`link down since ${formatTime(d.linkChangedAt)} (${formatTime(now - d.linkChangedAt)} ago): frames are dropped`);
  const st = t.status;
  if ((st & STATUS_DEVICE_NEEDS_RESET) !== 0) out.push('device needs reset (DEVICE_NEEDS_RESET): nothing is sent or received until the driver resets it');
  else if ((st & STATUS_FAILED) !== 0) out.push('driver set FAILED: the device is given up');
  else if ((st & STATUS_DRIVER_OK) === 0) {
    if (st !== 0) out.push(`initialization not finished: device_status ${statusNames(st)}, DRIVER_OK not set`);
    if (c.rxDroppedNotReady > 0) out.push(`rx: ${c.rxDroppedNotReady} frame${c.rxDroppedNotReady === 1 ? '' : 's'} arrived before the driver was ready and were dropped`);
    return out;
  }
  const scratch = new Uint8Array(2);
  const rxq = t.queue(RX_QUEUE);
  if (!rxq.enabled && c.rxDroppedNotReady > 0) {
    out.push(`rx: receive queue 0 not enabled; ${c.rxDroppedNotReady} frame${c.rxDroppedNotReady === 1 ? '' : 's'} dropped`);
  }
  if (d.rx.dropStreak > 0) {
    const n = d.rx.dropStreak;
    out.push(`rx: ${n} frame${n === 1 ? '' : 's'} dropped, no RX buffers posted since ${formatTime(d.rx.dropSince)}`
      + ` (${c.rxDropped} dropped in all; ${d.rx.held} buffer${d.rx.held === 1 ? '' : 's'} held; ${lastNotify(rxq)})`);
  }
  if (d.rx.queued > 0) out.push(`rx: ${d.rx.queued} frame${d.rx.queued === 1 ? '' : 's'} waiting in the device's RX FIFO for receive buffers (${lastNotify(rxq)})`);
  const txq = t.queue(TX_QUEUE);
  if (txq.enabled) {
    const p = pending(d, txq, scratch);
    const inFlight = d.tx.inFlight;
    if (p > 0 || inFlight > 0) {
      let line = `tx: avail idx ${(txq.lastAvail + p) & 0xffff}, device consumed ${txq.lastAvail}`;
      if (inFlight > 0) line += `, ${inFlight} frame${inFlight === 1 ? '' : 's'} on the wire (next completes at ${formatTime(d.tx.oldestDue)})`;
      if (p > 0) line += `; ${p} available, not consumed (${lastNotify(txq)})`;
      out.push(line);
    }
  }
  for (let q = 2; q < t.queues.length; q++) {
    const vq = t.queue(q);
    if (!vq.enabled) continue;
    const p = pending(d, vq, scratch);
    if (p > 0) out.push(`controlq: ${p} command${p === 1 ? '' : 's'} available, not consumed (${lastNotify(vq)})`);
  }
  return out;
}
