/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the data taken as big-endian 16-bit words, an odd last
 * byte padded with a zero byte. Used by IPv4 (header), ICMP (message) and UDP
 * (pseudo-header + datagram, RFC 768).
 */

/**
 * One's complement sum (not yet folded or complemented) of `b[off..off+len)`
 * added to `initial`. Sums stay far below 2^53 for any frame, so folding
 * once at the end is exact.
 */
export function onesSum(b: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  return sum;
}

/** Folds carries into 16 bits and complements: the value to store in a checksum field. */
export function finishChecksum(sum: number): number {
  let s = sum;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** RFC 1071 checksum of `b[off..off+len)`. Over data that holds a correct checksum it is 0. */
export function internetChecksum(b: Uint8Array, off = 0, len = b.length - off): number {
  return finishChecksum(onesSum(b, off, len));
}

/**
 * Sum of the IPv4 pseudo-header of RFC 768 (and RFC 793): source address,
 * destination address, zero, protocol, transport length; `src`/`dst` are the
 * 4 address bytes at `srcOff`/`dstOff`.
 */
export function pseudoHeaderSum(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, protocol: number, length: number): number {
  return onesSum(src, srcOff, 4) + onesSum(dst, dstOff, 4) + protocol + length;
}
