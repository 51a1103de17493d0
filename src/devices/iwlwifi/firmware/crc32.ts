/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum of
 * zlib and PNG. Uses node:zlib's crc32 (Node >= 20.15) and falls back to a
 * table-driven version with identical results on older runtimes.
 */
import * as zlib from 'node:zlib';

type Crc32Fn = (data: Uint8Array, value?: number) => number;

const native: Crc32Fn | undefined = typeof (zlib as { crc32?: unknown }).crc32 === 'function'
  ? (zlib as unknown as { crc32: Crc32Fn }).crc32
  : undefined;

let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** Table-driven CRC-32 of `data`, continuing from `crc` (0 to start). */
export function crc32Portable(data: Uint8Array, crc = 0): number {
  const t = (table ??= makeTable());
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 of `data`, continuing from `crc` (0 to start). */
export function crc32(data: Uint8Array, crc = 0): number {
  return native !== undefined ? native(data, crc) >>> 0 : crc32Portable(data, crc);
}
