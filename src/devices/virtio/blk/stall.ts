/**
 * Stall diagnosis for virtio-blk (DeviceModel.stall): the handshake state,
 * a device that needs a reset, and per enabled queue how far the driver's
 * available index is ahead of what the device consumed, and the requests in
 * flight with the age of the oldest ("queue 0: avail idx 12, device consumed
 * 11, 1 request in flight 3.000 ms"). The driver's avail idx is peeked
 * without tracing. Allocates only when asked.
 */
import { formatTime } from '../../../sim/time.js';
import { STATUS_DEVICE_NEEDS_RESET, STATUS_DRIVER_OK, STATUS_FAILED, statusNames } from '../transport/regs.js';
import type { VirtioBlk } from './device.js';

export function blkStall(d: VirtioBlk, now: number): string[] {
  const out: string[] = [];
  const t = d.t;
  const st = t.status;
  if ((st & STATUS_DEVICE_NEEDS_RESET) !== 0) out.push('device needs reset (DEVICE_NEEDS_RESET): no request is processed until the driver resets it');
  else if ((st & STATUS_FAILED) !== 0) out.push('driver set FAILED: the device is given up');
  else if ((st & STATUS_DRIVER_OK) === 0) {
    if (st !== 0) out.push(`initialization not finished: device_status ${statusNames(st)}, DRIVER_OK not set`);
    return out;
  }
  const scratch = new Uint8Array(2);
  for (const vq of t.queues) {
    if (!vq.enabled) continue;
    let avail = vq.availIdx;
    if (d.dma.peek(vq.driverAddr + 2, scratch, 0, 2)) avail = scratch[0]! | (scratch[1]! << 8);
    let inFlight = 0;
    let hung = 0;
    let oldest = Infinity;
    for (let s = 0; s < d.slotCount; s++) {
      const state = d.slotBusy(s);
      if (state === 'free' || d.slotQueue[s] !== vq.index) continue;
      inFlight++;
      if (state === 'hung') hung++;
      oldest = Math.min(oldest, d.slotStartPs[s]!);
    }
    const pending = (avail - vq.lastAvail) & 0xffff;
    const unreturned = vq.inFlight;
    if (pending === 0 && inFlight === 0 && unreturned === 0) continue;
    let line = `queue ${vq.index}: avail idx ${avail}, device consumed ${vq.lastAvail}`;
    if (inFlight > 0) {
      line += `, ${inFlight} request${inFlight === 1 ? '' : 's'} in flight ${formatTime(now - oldest)}`;
      if (hung > 0) line += ` (${hung} held by the faultHangRequest fault: never completes)`;
    }
    if (pending > 0) {
      const last = vq.lastNotifyPs < 0 ? 'never notified' : `last notify ${formatTime(vq.lastNotifyPs)}`;
      line += `; ${pending} available, not consumed (${last})`;
    }
    out.push(line);
  }
  return out;
}
