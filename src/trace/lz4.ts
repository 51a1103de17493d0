/**
 * LZ4 block decompression into a buffer the caller keeps (the reader's side
 * of chunk compression: lz4-napi's block, a 4-byte little-endian size prefix
 * then the LZ4 block format's sequences). The native binding returns a new
 * buffer per chunk, tens of kilobytes that live one chunk each; here every
 * chunk of a reader lands in the same memory. Malformed input is reported,
 * never read or written out of bounds.
 */

/** Literal runs at least this long are copied by a builtin (set); shorter ones byte by byte. */
const BULK = 32;
/** Matches at least this long (and not overlapping) are copied by a builtin (copyWithin); shorter ones a word at a time. */
const BULK_MATCH = 64;

/**
 * Decompresses `src` (size prefix included) into dst[0, rawLen) (dst must
 * have room). Returns undefined, or why `src` is not an LZ4 block of
 * `rawLen` bytes.
 */
export function lz4DecompressInto(src: Uint8Array, dst: Uint8Array, rawLen: number): string | undefined {
  const end = src.length;
  const words = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let ip = 4;
  let op = 0;
  for (;;) {
    if (ip >= end) return 'the block ends before its last sequence';
    const token = src[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b = 255;
      while (b === 255) {
        if (ip >= end) return 'the block ends inside a literal length';
        b = src[ip++]!;
        lit += b;
      }
    }
    if (lit > end - ip || lit > rawLen - op) return `literals at byte ${ip} run past the end`;
    if (lit >= BULK) dst.set(src.subarray(ip, ip + lit), op);
    else for (let k = 0; k < lit; k++) dst[op + k] = src[ip + k]!;
    ip += lit;
    op += lit;
    // The last sequence is literals only.
    if (ip === end) break;
    if (ip + 2 > end) return 'the block ends inside a match offset';
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || offset > op) return `match offset ${offset} at byte ${ip - 2} points outside the output`;
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b = 255;
      while (b === 255) {
        if (ip >= end) return 'the block ends inside a match length';
        b = src[ip++]!;
        len += b;
      }
    }
    if (len > rawLen - op) return `a match at byte ${ip} runs past the end`;
    const from = op - offset;
    let k = 0;
    if (len >= BULK_MATCH && offset >= len) {
      dst.copyWithin(op, from, from + len);
      k = len;
    } else if (offset >= 4) {
      // Four bytes at a time: with the source at least four bytes back, each word read is final.
      for (; k + 4 <= len; k += 4) words.setInt32(op + k, words.getInt32(from + k, true), true);
    }
    // An offset shorter than four repeats the bytes just written: copied forwards, byte by byte.
    for (; k < len; k++) dst[op + k] = dst[from + k]!;
    op += len;
  }
  return op === rawLen ? undefined : `decompressed to ${op} bytes, expected ${rawLen}`;
}
