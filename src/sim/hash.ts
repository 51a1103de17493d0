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

export function fnvNumber(h: number, n: number): number {
  return fnvWord(fnvWord(h, n >>> 0), Math.floor(n / 4294967296) >>> 0);
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
