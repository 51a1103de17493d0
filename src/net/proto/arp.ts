/**
 * ARP for IPv4 over Ethernet (RFC 826): hardware type 1, protocol type
 * 0x0800, address lengths 6 and 4; 28 bytes.
 *
 *   0 htype(2) | 2 ptype(2) | 4 hlen(1) | 5 plen(1) | 6 op(2) |
 *   8 sha(6) | 14 spa(4) | 18 tha(6) | 24 tpa(4)
 */
import { readU16, writeU16 } from './bytes.js';

export const ARP_LEN = 28;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface Arp {
  op: number;
  /** Offsets of the addresses in the ARP packet (views, no copies). */
  shaOff: 8;
  spaOff: 14;
  thaOff: 18;
  tpaOff: 24;
}

/** An Ethernet/IPv4 ARP packet. */
export function buildArp(op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): Uint8Array {
  const b = new Uint8Array(ARP_LEN);
  writeU16(b, 0, 1); // Ethernet
  writeU16(b, 2, 0x0800); // IPv4
  b[4] = 6;
  b[5] = 4;
  writeU16(b, 6, op);
  b.set(sha.subarray(0, 6), 8);
  b.set(spa.subarray(0, 4), 14);
  b.set(tha.subarray(0, 6), 18);
  b.set(tpa.subarray(0, 4), 24);
  return b;
}

/** Parses an Ethernet/IPv4 ARP packet (trailing padding allowed); undefined for other types or if truncated. */
export function parseArp(b: Uint8Array): Arp | undefined {
  if (b.length < ARP_LEN) return undefined;
  if (readU16(b, 0) !== 1 || readU16(b, 2) !== 0x0800 || b[4] !== 6 || b[5] !== 4) return undefined;
  return { op: readU16(b, 6), shaOff: 8, spaOff: 14, thaOff: 18, tpaOff: 24 };
}
