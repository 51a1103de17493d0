/**
 * Ethernet II frames (IEEE 802.3 with an EtherType), as NICs hand them over:
 * destination MAC, source MAC, EtherType, payload, without preamble or FCS.
 * A sender pads frames shorter than 60 bytes (64 on the wire with the FCS).
 */
import { MAC_LEN, readU16, writeU16 } from './bytes.js';

export const ETH_HEADER_LEN = 14;
/** Smallest frame without FCS; shorter ones are padded with zeros by the sender. */
export const ETH_MIN_FRAME = 60;
export const ETH_FCS_LEN = 4;
/** A VLAN tag (802.1Q) adds 4 bytes to the header. */
export const ETH_VLAN_TAG_LEN = 4;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;
export const ETHERTYPE_IPV6 = 0x86dd;

export const BROADCAST_MAC: Uint8Array = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
export const ZERO_MAC: Uint8Array = new Uint8Array(MAC_LEN);

export interface EthernetHeader {
  /** Offsets of the addresses in the frame (no copies). */
  dstOff: 0;
  srcOff: 6;
  /** EtherType (the 802.1Q inner type when tagged); values below 0x0600 are 802.3 lengths. */
  etherType: number;
  /** VLAN id when tagged, else -1. */
  vlan: number;
  /** Offset of the payload. */
  payloadOff: number;
}

/** Parses the header; undefined if the frame is shorter than one (or a truncated VLAN tag). */
export function parseEthernet(frame: Uint8Array): EthernetHeader | undefined {
  if (frame.length < ETH_HEADER_LEN) return undefined;
  let type = readU16(frame, 12);
  let vlan = -1;
  let payloadOff = ETH_HEADER_LEN;
  if (type === ETHERTYPE_VLAN) {
    if (frame.length < ETH_HEADER_LEN + ETH_VLAN_TAG_LEN) return undefined;
    vlan = readU16(frame, 14) & 0x0fff;
    type = readU16(frame, 16);
    payloadOff += ETH_VLAN_TAG_LEN;
  }
  return { dstOff: 0, srcOff: 6, etherType: type, vlan, payloadOff };
}

/** True if the destination is a group (multicast or broadcast) address: bit 0 of the first octet. */
export function isGroupMac(frame: Uint8Array, off = 0): boolean {
  return ((frame[off] ?? 0) & 1) === 1;
}

/**
 * An Ethernet II frame: header + payload, zero-padded to 60 bytes (the
 * minimum without FCS) unless `pad` is false.
 */
export function buildEthernet(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array, pad = true): Uint8Array {
  const len = ETH_HEADER_LEN + payload.length;
  const b = new Uint8Array(pad ? Math.max(len, ETH_MIN_FRAME) : len);
  b.set(dst.subarray(0, MAC_LEN), 0);
  b.set(src.subarray(0, MAC_LEN), 6);
  writeU16(b, 12, etherType);
  b.set(payload, ETH_HEADER_LEN);
  return b;
}
