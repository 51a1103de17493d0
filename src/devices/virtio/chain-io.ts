/**
 * Moving bytes between device buffers and a popped descriptor chain, through
 * the DMA port. A chain's device-readable buffers form one byte range (the
 * "readable region") and its device-writable buffers another; offsets here
 * are into those regions, so a device never cares how the driver split a
 * request across descriptors (virtio 1.2 2.6.4, message framing).
 * No allocation: loops over the chain's stored segments.
 */
import type { DmaPort } from '../../sim/dma.js';
import type { DescChain } from './virtqueue.js';

/**
 * Copies `len` bytes from offset `at` of the chain's readable region into
 * dst[dstOff..]. False if the region is too short or a DMA was refused.
 */
export function readFromChain(dma: DmaPort, c: DescChain, at: number, dst: Uint8Array, dstOff: number, len: number, tag: string): boolean {
  let skip = at;
  for (let i = 0; i < c.readableSegs && len > 0; i++) {
    const segLen = c.len[i]!;
    if (skip >= segLen) {
      skip -= segLen;
      continue;
    }
    const n = Math.min(segLen - skip, len);
    if (!dma.read(c.addr[i]! + skip, dst, dstOff, n, tag)) return false;
    dstOff += n;
    len -= n;
    skip = 0;
  }
  return len === 0;
}

/**
 * Copies `len` bytes of src[srcOff..] to offset `at` of the chain's
 * writable region. False if the region is too short or a DMA was refused.
 */
export function writeToChain(
  dma: DmaPort, c: DescChain, at: number, src: Uint8Array, srcOff: number, len: number, tag: string,
  image?: string, imageOffset = 0,
): boolean {
  // `image`: src holds that disk image's bytes from imageOffset (DmaPort.write), piece by piece.
  const imageBase = imageOffset - srcOff;
  let skip = at;
  for (let i = c.readableSegs; i < c.stored && len > 0; i++) {
    const segLen = c.len[i]!;
    if (skip >= segLen) {
      skip -= segLen;
      continue;
    }
    const n = Math.min(segLen - skip, len);
    if (!dma.write(c.addr[i]! + skip, src, srcOff, n, tag, image, imageBase + srcOff)) return false;
    srcOff += n;
    len -= n;
    skip = 0;
  }
  return len === 0;
}

/**
 * Writes one byte at the very end of the chain (the last byte of its last
 * descriptor, which must be device-writable): where a request's status goes,
 * even when the chain overflowed its DescChain. False if there is no such
 * byte or the DMA was refused.
 */
export function writeLastByte(dma: DmaPort, c: DescChain, src: Uint8Array, tag: string): boolean {
  const i = c.stored - 1;
  if (i < 0 || c.writable[i] === 0 || c.len[i] === 0) return false;
  return dma.write(c.addr[i]! + c.len[i]! - 1, src, 0, 1, tag);
}
