/**
 * Byte-level helpers shared by the protocol codecs: big-endian (network
 * order) integers, MAC and IPv4 address text. Pure functions; parsers return
 * undefined for malformed text and never throw.
 */

export const MAC_LEN = 6;
export const IPV4_LEN = 4;

export function readU16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
export function readU32(b: Uint8Array, o: number): number {
  return (((b[o] ?? 0) << 24) | ((b[o + 1] ?? 0) << 16) | ((b[o + 2] ?? 0) << 8) | (b[o + 3] ?? 0)) >>> 0;
}

/** Parses "aa:bb:cc:dd:ee:ff" (or with "-"); undefined if malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text);
  if (!m) return undefined;
  return Uint8Array.from(m.slice(1, 7), (h) => parseInt(h, 16));
}

/** "aa:bb:cc:dd:ee:ff" of the 6 bytes at `o` ("?" for bytes beyond the end). */
export function formatMac(b: Uint8Array, o = 0): string {
  let s = '';
  for (let i = 0; i < MAC_LEN; i++) s += (i > 0 ? ':' : '') + (b[o + i]?.toString(16).padStart(2, '0') ?? '?');
  return s;
}

/** Parses a dotted quad ("10.0.2.15", no leading zeros); undefined if malformed. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(IPV4_LEN);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Dotted quad of the 4 bytes at `o`. */
export function formatIpv4(b: Uint8Array, o = 0): string {
  return `${b[o] ?? 0}.${b[o + 1] ?? 0}.${b[o + 2] ?? 0}.${b[o + 3] ?? 0}`;
}

/** The 4 bytes at `o` as an unsigned 32-bit number (for subnet arithmetic). */
export function ipv4ToU32(b: Uint8Array, o = 0): number {
  return readU32(b, o);
}

/** True if `n` bytes of `a` at `ao` equal `n` bytes of `b` at `bo`. */
export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): boolean {
  if (ao + n > a.length || bo + n > b.length) return false;
  for (let i = 0; i < n; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}
