/** Frames the test driver sends, built with the network's own codecs (src/net/proto). */
import { ARP_REQUEST, buildArp } from '../../../../src/net/proto/arp.js';
import { parseMac, parseIpv4 } from '../../../../src/net/proto/bytes.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ZERO_MAC, buildEthernet } from '../../../../src/net/proto/ethernet.js';
import { IPPROTO_UDP, buildIpv4 } from '../../../../src/net/proto/ipv4.js';
import { buildUdp } from '../../../../src/net/proto/udp.js';
import { pseudoHeaderSum } from '../../../../src/net/proto/checksum.js';

export const GUEST_MAC = parseMac('52:54:00:12:34:56')!;
export const PEER_MAC = parseMac('52:54:00:12:35:02')!;
export const GUEST_IP = parseIpv4('10.0.2.15')!;
export const PEER_IP = parseIpv4('10.0.2.2')!;

export function arpWhoHasPeer(src = GUEST_MAC): Uint8Array {
  return buildEthernet(BROADCAST_MAC, src, ETHERTYPE_ARP, buildArp(ARP_REQUEST, src, GUEST_IP, ZERO_MAC, PEER_IP), false);
}

export function payload(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed * 13) & 0xff;
  return b;
}

/** UDP from the guest to the peer; checksum: 'full' (correct), 'partial' (pseudo-header sum only, for NEEDS_CSUM) or 'none'. */
export function udpToPeer(data: Uint8Array, dstPort = 7, checksum: 'full' | 'partial' | 'none' = 'full'): Uint8Array {
  const udp = buildUdp(GUEST_IP, PEER_IP, 40000, dstPort, data, checksum === 'full');
  if (checksum === 'partial') {
    let s = pseudoHeaderSum(GUEST_IP, 0, PEER_IP, 0, IPPROTO_UDP, udp.length);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    udp[6] = s >>> 8;
    udp[7] = s & 0xff;
  }
  return buildEthernet(PEER_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4({ src: GUEST_IP, dst: PEER_IP, protocol: IPPROTO_UDP, payload: udp, id: 1 }), false);
}

/** Offset of the UDP header in udpToPeer's frames (Ethernet 14 + IPv4 20). */
export const UDP_OFF = 34;
