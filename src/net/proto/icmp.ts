/**
 * ICMP for IPv4 (RFC 792): echo request/reply and destination unreachable.
 * The checksum is the RFC 1071 checksum of the whole ICMP message.
 *
 *   echo:        0 type | 1 code | 2 checksum(2) | 4 identifier(2) | 6 sequence(2) | 8 data...
 *   unreachable: 0 type 3 | 1 code | 2 checksum(2) | 4 unused(4) | 8 IP header + first 8 data bytes
 */
import { readU16, writeU16 } from './bytes.js';
import { internetChecksum } from './checksum.js';

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACHABLE = 3;
export const ICMP_ECHO_REQUEST = 8;
/** Destination unreachable code: port unreachable. */
export const ICMP_PORT_UNREACHABLE = 3;
export const ICMP_HEADER_LEN = 8;

/** ICMP echo request (8) or reply (0) with a correct checksum. */
export function buildIcmpEcho(type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(ICMP_HEADER_LEN + data.length);
  b[0] = type;
  writeU16(b, 4, id);
  writeU16(b, 6, seq);
  b.set(data, ICMP_HEADER_LEN);
  writeU16(b, 2, internetChecksum(b));
  return b;
}

/** Destination unreachable quoting the offending IP packet's header and first 8 payload bytes. */
export function buildIcmpUnreachable(code: number, offending: Uint8Array, headerLen: number): Uint8Array {
  const quoted = offending.subarray(0, Math.min(offending.length, headerLen + 8));
  const b = new Uint8Array(ICMP_HEADER_LEN + quoted.length);
  b[0] = ICMP_DEST_UNREACHABLE;
  b[1] = code;
  b.set(quoted, ICMP_HEADER_LEN);
  writeU16(b, 2, internetChecksum(b));
  return b;
}

export interface IcmpMessage {
  type: number;
  code: number;
  /** Echo identifier and sequence (bytes 4..8 of any message). */
  id: number;
  seq: number;
  /** Bytes after the 8-byte header (a view). */
  data: Uint8Array;
  checksumOk: boolean;
}

/** Parses an ICMP message; undefined if shorter than its 8-byte header. */
export function parseIcmp(b: Uint8Array): IcmpMessage | undefined {
  if (b.length < ICMP_HEADER_LEN) return undefined;
  return {
    type: b[0]!, code: b[1]!,
    id: readU16(b, 4), seq: readU16(b, 6),
    data: b.subarray(ICMP_HEADER_LEN),
    checksumOk: internetChecksum(b) === 0,
  };
}
