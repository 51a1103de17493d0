/**
 * UDP (RFC 768) over IPv4.
 *
 *   0 source port(2) | 2 destination port(2) | 4 length(2) | 6 checksum(2) | 8 data...
 *
 * The checksum covers the IPv4 pseudo-header (source, destination, zero,
 * protocol 17, UDP length), the UDP header and the data. Over IPv4 a
 * checksum of 0 means "none"; a computed 0 is sent as 0xffff.
 */
import { readU16, writeU16 } from './bytes.js';
import { finishChecksum, onesSum, pseudoHeaderSum } from './checksum.js';
import { IPPROTO_UDP } from './ipv4.js';

export const UDP_HEADER_LEN = 8;

/** The UDP checksum of `udp` (header with its checksum field as it is, and data) between `src` and `dst`. */
export function udpChecksum(src: Uint8Array, dst: Uint8Array, udp: Uint8Array): number {
  return finishChecksum(onesSum(udp, 0, udp.length, pseudoHeaderSum(src, 0, dst, 0, IPPROTO_UDP, udp.length)));
}

/** A UDP datagram; `checksum` false leaves the field 0 (allowed over IPv4). */
export function buildUdp(src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, data: Uint8Array, checksum = true): Uint8Array {
  const b = new Uint8Array(UDP_HEADER_LEN + data.length);
  writeU16(b, 0, srcPort);
  writeU16(b, 2, dstPort);
  writeU16(b, 4, b.length);
  b.set(data, UDP_HEADER_LEN);
  if (checksum) {
    const ck = udpChecksum(src, dst, b);
    writeU16(b, 6, ck === 0 ? 0xffff : ck);
  }
  return b;
}

export interface UdpDatagram {
  srcPort: number;
  dstPort: number;
  length: number;
  /** The checksum field (0: none was sent). */
  checksum: number;
  /** True when the checksum is 0 (none) or verifies. */
  checksumOk: boolean;
  /** The data (a view, up to `length`). */
  data: Uint8Array;
}

export type UdpParse = { ok: true; udp: UdpDatagram } | { ok: false; reason: string };

/** Parses a UDP datagram carried between `src` and `dst` (IPv4 addresses); never throws. */
export function parseUdp(src: Uint8Array, dst: Uint8Array, b: Uint8Array): UdpParse {
  if (b.length < UDP_HEADER_LEN) return { ok: false, reason: `UDP datagram of ${b.length} bytes is shorter than a header` };
  const length = readU16(b, 4);
  if (length < UDP_HEADER_LEN || length > b.length) {
    return { ok: false, reason: `UDP length ${length} does not fit the ${b.length} bytes of the IP payload` };
  }
  const checksum = readU16(b, 6);
  const dgram = b.subarray(0, length);
  return {
    ok: true,
    udp: {
      srcPort: readU16(b, 0), dstPort: readU16(b, 2), length, checksum,
      checksumOk: checksum === 0 || udpChecksum(src, dst, dgram) === 0,
      data: b.subarray(UDP_HEADER_LEN, length),
    },
  };
}
