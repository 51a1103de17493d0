/**
 * IPv4 (RFC 791): a 20-byte header without options when building; options
 * are accepted (and skipped) when parsing. The header checksum is the RFC
 * 1071 checksum of the header.
 *
 *   0 version/IHL | 1 DSCP/ECN | 2 total length(2) | 4 id(2) | 6 flags/fragment offset(2) |
 *   8 TTL | 9 protocol | 10 header checksum(2) | 12 source(4) | 16 destination(4) | 20 options...
 */
import { readU16, writeU16 } from './bytes.js';
import { internetChecksum } from './checksum.js';

export const IPV4_HEADER_LEN = 20;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** Flags/fragment field: don't fragment. */
export const IPV4_DF = 0x4000;
/** Flags/fragment field: more fragments. */
export const IPV4_MF = 0x2000;

export interface Ipv4BuildOptions {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  payload: Uint8Array;
  id?: number;
  ttl?: number;
  /** Flags and fragment offset (default: DF). */
  flagsFrag?: number;
  tos?: number;
}

/** An IPv4 packet with a 20-byte header and a correct header checksum. */
export function buildIpv4(o: Ipv4BuildOptions): Uint8Array {
  const total = IPV4_HEADER_LEN + o.payload.length;
  const b = new Uint8Array(total);
  b[0] = 0x45;
  b[1] = o.tos ?? 0;
  writeU16(b, 2, total);
  writeU16(b, 4, o.id ?? 0);
  writeU16(b, 6, o.flagsFrag ?? IPV4_DF);
  b[8] = o.ttl ?? 64;
  b[9] = o.protocol;
  b.set(o.src.subarray(0, 4), 12);
  b.set(o.dst.subarray(0, 4), 16);
  writeU16(b, 10, internetChecksum(b, 0, IPV4_HEADER_LEN));
  b.set(o.payload, IPV4_HEADER_LEN);
  return b;
}

export interface Ipv4Packet {
  headerLen: number;
  totalLen: number;
  id: number;
  flagsFrag: number;
  ttl: number;
  protocol: number;
  /** Offsets of the addresses in the packet. */
  srcOff: 12;
  dstOff: 16;
  checksumOk: boolean;
  /** The bytes after the header up to totalLen (a view; link padding beyond totalLen is cut off). */
  payload: Uint8Array;
}

/** Why a buffer is not an IPv4 packet, or the parsed packet. */
export type Ipv4Parse = { ok: true; ip: Ipv4Packet } | { ok: false; reason: string };

/** Parses an IPv4 packet; never throws. The checksum is reported, not enforced. */
export function parseIpv4Packet(b: Uint8Array): Ipv4Parse {
  if (b.length < IPV4_HEADER_LEN) return { ok: false, reason: `IPv4 packet of ${b.length} bytes is shorter than a header` };
  const version = b[0]! >>> 4;
  if (version !== 4) return { ok: false, reason: `IP version ${version}, not 4` };
  const headerLen = (b[0]! & 0xf) * 4;
  const totalLen = readU16(b, 2);
  if (headerLen < IPV4_HEADER_LEN) return { ok: false, reason: `IPv4 header length ${headerLen} is below 20` };
  if (totalLen < headerLen) return { ok: false, reason: `IPv4 total length ${totalLen} is below the header length ${headerLen}` };
  if (totalLen > b.length) return { ok: false, reason: `IPv4 total length ${totalLen} exceeds the ${b.length} bytes received` };
  return {
    ok: true,
    ip: {
      headerLen, totalLen,
      id: readU16(b, 4),
      flagsFrag: readU16(b, 6),
      ttl: b[8]!, protocol: b[9]!,
      srcOff: 12, dstOff: 16,
      checksumOk: internetChecksum(b, 0, headerLen) === 0,
      payload: b.subarray(headerLen, totalLen),
    },
  };
}

/** True if the packet is a fragment (MF set or a non-zero fragment offset). */
export function isFragment(ip: Ipv4Packet): boolean {
  return (ip.flagsFrag & 0x3fff) !== 0;
}
