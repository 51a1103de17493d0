/**
 * Ethernet-level payloads the simulated APs understand and produce: ARP
 * request/reply, IPv4 headers and ICMP echo. All multi-byte fields are
 * big-endian (network order). Parsers return undefined for anything
 * truncated or malformed; they never throw.
 */

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export const IPPROTO_ICMP = 1;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;

/** Parses a dotted quad ("192.168.50.1", no leading zeros); undefined if malformed. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

function eq(a: Uint8Array, aOff: number, b: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[i]) return false;
  return true;
}

export function ipEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === 4 && b.length === 4 && eq(a, 0, b, 4);
}

// ---- ARP -----------------------------------------------------------------

export const ARP_LEN = 28;

export interface Arp {
  op: number;
  /** Sender hardware/protocol address, target hardware/protocol address (copies). */
  sha: Uint8Array;
  spa: Uint8Array;
  tha: Uint8Array;
  tpa: Uint8Array;
}

/** An Ethernet/IPv4 ARP packet. */
export function buildArp(op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  b[1] = 1; // htype Ethernet
  b[2] = 0x08; // ptype IPv4
  b[4] = 6; b[5] = 4; // hlen, plen
  b[7] = op;
  b.set(sha, 8); b.set(spa, 14); b.set(tha, 18); b.set(tpa, 24);
  return b;
}

/** Parses an Ethernet/IPv4 ARP packet; undefined for other hardware/protocol types or if truncated. */
export function parseArp(b: Uint8Array): Arp | undefined {
  if (b.length < ARP_LEN) return undefined;
  if (b[0] !== 0 || b[1] !== 1 || b[2] !== 0x08 || b[3] !== 0 || b[4] !== 6 || b[5] !== 4) return undefined;
  return {
    op: (b[6]! << 8) | b[7]!,
    sha: b.slice(8, 14), spa: b.slice(14, 18), tha: b.slice(18, 24), tpa: b.slice(24, 28),
  };
}

// ---- checksums, IPv4, ICMP -----------------------------------------------

/** RFC 1071 internet checksum of `b[off..off+len)` (the value to store; 0 when verifying a correct packet). */
export function internetChecksum(b: Uint8Array, off = 0, len = b.length - off): number {
  let sum = 0;
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const IPV4_HDR_LEN = 20;

export interface Ipv4Options {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl?: number;
  id?: number;
  payload: Uint8Array;
}

/** An IPv4 packet with a 20-byte header (DF set, no options) and a correct header checksum. */
export function buildIpv4(o: Ipv4Options): Uint8Array {
  const total = IPV4_HDR_LEN + o.payload.length;
  const b = new Uint8Array(total);
  b[0] = 0x45;
  b[2] = total >>> 8; b[3] = total & 0xff;
  const id = o.id ?? 0;
  b[4] = (id >>> 8) & 0xff; b[5] = id & 0xff;
  b[6] = 0x40; // don't fragment
  b[8] = o.ttl ?? 64;
  b[9] = o.protocol;
  b.set(o.src, 12); b.set(o.dst, 16);
  const ck = internetChecksum(b, 0, IPV4_HDR_LEN);
  b[10] = ck >>> 8; b[11] = ck & 0xff;
  b.set(o.payload, IPV4_HDR_LEN);
  return b;
}

export interface Ipv4 {
  headerLen: number;
  totalLen: number;
  id: number;
  /** Flags (3 bits) and fragment offset as in the header. */
  flagsFrag: number;
  ttl: number;
  protocol: number;
  src: Uint8Array;
  dst: Uint8Array;
  checksumOk: boolean;
  /** Bytes after the header up to totalLen (a view, not a copy). */
  payload: Uint8Array;
}

/** Parses an IPv4 packet; undefined if not version 4 or the lengths do not fit. */
export function parseIpv4Packet(b: Uint8Array): Ipv4 | undefined {
  if (b.length < IPV4_HDR_LEN || b[0]! >> 4 !== 4) return undefined;
  const headerLen = (b[0]! & 0xf) * 4;
  const totalLen = (b[2]! << 8) | b[3]!;
  if (headerLen < IPV4_HDR_LEN || totalLen < headerLen || totalLen > b.length) return undefined;
  return {
    headerLen, totalLen,
    id: (b[4]! << 8) | b[5]!,
    flagsFrag: (b[6]! << 8) | b[7]!,
    ttl: b[8]!, protocol: b[9]!,
    src: b.slice(12, 16), dst: b.slice(16, 20),
    checksumOk: internetChecksum(b, 0, headerLen) === 0,
    payload: b.subarray(headerLen, totalLen),
  };
}

/** True if the packet is a fragment (MF set or a non-zero offset). */
export function isFragment(ip: Ipv4): boolean {
  return (ip.flagsFrag & 0x3fff) !== 0;
}

export const ICMP_ECHO_HDR_LEN = 8;

/** ICMP echo request (type 8) or reply (type 0) with a correct checksum. */
export function buildIcmpEcho(type: number, id: number, seq: number, data: Uint8Array): Uint8Array {
  const b = new Uint8Array(ICMP_ECHO_HDR_LEN + data.length);
  b[0] = type;
  b[4] = (id >>> 8) & 0xff; b[5] = id & 0xff;
  b[6] = (seq >>> 8) & 0xff; b[7] = seq & 0xff;
  b.set(data, ICMP_ECHO_HDR_LEN);
  const ck = internetChecksum(b);
  b[2] = ck >>> 8; b[3] = ck & 0xff;
  return b;
}

export interface IcmpEcho {
  type: number;
  code: number;
  id: number;
  seq: number;
  data: Uint8Array;
  checksumOk: boolean;
}

/** Parses an ICMP message with the echo layout; undefined if shorter than 8 bytes. */
export function parseIcmpEcho(b: Uint8Array): IcmpEcho | undefined {
  if (b.length < ICMP_ECHO_HDR_LEN) return undefined;
  return {
    type: b[0]!, code: b[1]!,
    id: (b[4]! << 8) | b[5]!,
    seq: (b[6]! << 8) | b[7]!,
    data: b.subarray(ICMP_ECHO_HDR_LEN),
    checksumOk: internetChecksum(b) === 0,
  };
}

/** An IPv4 ICMP echo request packet (what a station sends to ping). */
export function buildPing(src: Uint8Array, dst: Uint8Array, id: number, seq: number, data: Uint8Array,
  ipId = 0, ttl = 64): Uint8Array {
  return buildIpv4({ src, dst, protocol: IPPROTO_ICMP, ttl, id: ipId, payload: buildIcmpEcho(ICMP_ECHO_REQUEST, id, seq, data) });
}
