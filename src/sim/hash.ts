/**
 * FNV-1a (32-bit) over numbers and typed arrays, for device state digests.
 * Numbers are folded as two 32-bit halves so values above 2^32 (addresses,
 * picosecond times) count in full.
 */
export const FNV_OFFSET = 0x811c9dc5;

export function fnvWord(h: number, w: number): number {
  h ^= w & 0xff; h = Math.imul(h, 0x01000193);
  h ^= (w >>> 8) & 0xff; h = Math.imul(h, 0x01000193);
  h ^= (w >>> 16) & 0xff; h = Math.imul(h, 0x01000193);
  h ^= (w >>> 24) & 0xff; h = Math.imul(h, 0x01000193);
  return h >>> 0;
}

/** FNV prime to the 4th power (mod 2^32): folding a zero word is one multiply by it. */
const PRIME_4 = Math.imul(Math.imul(0x01000193, 0x01000193), Math.imul(0x01000193, 0x01000193));

export function fnvNumber(h: number, n: number): number {
  h = fnvWord(h, n >>> 0);
  // Most state values are below 2^32: their high half is zero, and xor with 0 leaves only the multiplies.
  if (n >= 0 && n < 4294967296) return Math.imul(h, PRIME_4) >>> 0;
  return fnvWord(h, Math.floor(n / 4294967296) >>> 0);
}

export function fnvArray(h: number, a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) h = fnvNumber(h, a[i]!);
  return h;
}

/** FNV-1a over bytes [offset, offset + length) of `a`. */
export function fnvBytes(h: number, a: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  for (let i = offset; i < end; i++) h = Math.imul(h ^ a[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * FNV-1a over 32-bit words [start, start + count) of `w` (one multiply a
 * word: four times fewer than `fnvBytes`), for large buffers such as display
 * frames. Not the same value as `fnvBytes` over the same bytes.
 */
export function fnvWords(h: number, w: Uint32Array, start: number, count: number): number {
  const end = start + count;
  for (let i = start; i < end; i++) h = Math.imul(h ^ w[i]!, 0x01000193);
  return h >>> 0;
}

/** `fnvWords` over the little-endian 32-bit words of bytes [offset, offset + 4 * count) of `a`, at any alignment. */
export function fnvWordsOfBytes(h: number, a: Uint8Array, offset: number, count: number): number {
  const end = offset + 4 * count;
  for (let i = offset; i < end; i += 4) h = Math.imul(h ^ (a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24)), 0x01000193);
  return h >>> 0;
}
