/**
 * Transmit checksum offload (VIRTIO_NET_HDR_F_NEEDS_CSUM, virtio 1.2
 * 5.1.6.2): the driver leaves the partial checksum (the folded, not
 * complemented pseudo-header sum) in the field at csum_start + csum_offset;
 * the device sums from csum_start to the end of the frame and stores the
 * complement there. A result of 0 is stored as 0xffff (as Linux's
 * skb_checksum_help does: 0 means "no checksum" to UDP over IPv4).
 * In place, no allocation.
 */
import { finishChecksum, onesSum } from '../../../net/proto/checksum.js';

/** Why the checksum cannot be placed in a `len`-byte frame, or undefined. */
export function csumRangeProblem(len: number, start: number, offset: number): string | undefined {
  if (start >= len) return `csum_start ${start} is not inside the ${len}-byte frame`;
  if (start + offset + 2 > len) return `csum_start ${start} + csum_offset ${offset} + 2 is past the ${len}-byte frame`;
  return undefined;
}

/** Computes and stores the checksum over frame[start..len) at start + offset (range already checked). */
export function applyTxChecksum(frame: Uint8Array, len: number, start: number, offset: number): number {
  let ck = finishChecksum(onesSum(frame, start, len - start));
  if (ck === 0) ck = 0xffff;
  frame[start + offset] = ck >>> 8;
  frame[start + offset + 1] = ck & 0xff;
  return ck;
}
