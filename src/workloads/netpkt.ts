/**
 * The client side of the network workloads: Ethernet frames carrying ARP
 * (RFC 826), ICMP echo (RFC 792) and UDP (RFC 768) over IPv4 (RFC 791),
 * built and checked byte by byte — the minimum of a network stack a ping
 * and a UDP echo need. (The simulated peer in src/net has codecs of its
 * own: the two sides share no definitions.)
 */

const ETH_HDR = 14;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV4 = 0x0800;

export function parseIpv4(text: string): Uint8Array | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? Uint8Array.from(b) : undefined;
}

export function parseMac(text: string): Uint8Array | undefined {
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/i.exec(text);
  return m === null ? undefined : Uint8Array.from(m.slice(1).map((h) => parseInt(h, 16)));
}

/** RFC 1071 ones'-complement sum of b[from, to). */
export function inetChecksum(b: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i += 2) sum += (b[i]! << 8) | (i + 1 < to ? b[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function eq(a: Uint8Array, ao: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (a[ao + i] !== b[i]) return false;
  return true;
}

function ethHeader(f: Uint8Array, dst: Uint8Array, src: Uint8Array, type: number): void {
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >>> 8;
  f[13] = type & 0xff;
}

/** Broadcast "who has `target`? tell `senderIp`". */
export function arpRequest(mac: Uint8Array, senderIp: Uint8Array, target: Uint8Array): Uint8Array {
  const f = new Uint8Array(ETH_HDR + 28);
  ethHeader(f, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), mac, ETHERTYPE_ARP);
  f.set([0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01], ETH_HDR); // Ethernet, IPv4, request
  f.set(mac, ETH_HDR + 8);
  f.set(senderIp, ETH_HDR + 14);
  f.set(target, ETH_HDR + 24);
  return f;
}

/** The sender MAC of an ARP reply from `peerIp` to `myIp`, else undefined. */
export function parseArpReply(f: Uint8Array, myIp: Uint8Array, peerIp: Uint8Array): Uint8Array | undefined {
  if (f.length < ETH_HDR + 28 || ((f[12]! << 8) | f[13]!) !== ETHERTYPE_ARP) return undefined;
  const a = ETH_HDR;
  if (f[a + 6] !== 0 || f[a + 7] !== 2) return undefined; // opcode 2 = reply
  if (!eq(f, a + 14, peerIp) || !eq(f, a + 24, myIp)) return undefined;
  return f.slice(a + 8, a + 14);
}

/** ICMP echo request `id`/`seq` with a `len`-byte payload (byte i = (seq + i) & 0xff). */
export function icmpEcho(mac: Uint8Array, peerMac: Uint8Array, src: Uint8Array, dst: Uint8Array, id: number, seq: number, len: number): Uint8Array {
  const ipLen = 20 + 8 + len;
  const f = new Uint8Array(ETH_HDR + ipLen);
  ethHeader(f, peerMac, mac, ETHERTYPE_IPV4);
  const ip = ETH_HDR;
  f[ip] = 0x45;
  f[ip + 2] = ipLen >>> 8; f[ip + 3] = ipLen & 0xff;
  f[ip + 4] = seq >>> 8 & 0xff; f[ip + 5] = seq & 0xff; // identification
  f[ip + 8] = 64; // TTL
  f[ip + 9] = 1; // ICMP
  f.set(src, ip + 12);
  f.set(dst, ip + 16);
  const c = inetChecksum(f, ip, ip + 20);
  f[ip + 10] = c >>> 8; f[ip + 11] = c & 0xff;
  const icmp = ip + 20;
  f[icmp] = 8; // echo request
  f[icmp + 4] = id >>> 8; f[icmp + 5] = id & 0xff;
  f[icmp + 6] = seq >>> 8 & 0xff; f[icmp + 7] = seq & 0xff;
  for (let i = 0; i < len; i++) f[icmp + 8 + i] = (seq + i) & 0xff;
  const ic = inetChecksum(f, icmp, f.length);
  f[icmp + 2] = ic >>> 8; f[icmp + 3] = ic & 0xff;
  return f;
}

/** True for the echo reply to `icmpEcho(.., id, seq, len)` from `peerIp`, with valid checksums and the same payload. */
export function parseEchoReply(f: Uint8Array, peerIp: Uint8Array, myIp: Uint8Array, id: number, seq: number, len: number): boolean {
  if (f.length < ETH_HDR + 28 + len || ((f[12]! << 8) | f[13]!) !== ETHERTYPE_IPV4) return false;
  const ip = ETH_HDR;
  if (f[ip] !== 0x45 || f[ip + 9] !== 1 || inetChecksum(f, ip, ip + 20) !== 0) return false;
  if (!eq(f, ip + 12, peerIp) || !eq(f, ip + 16, myIp)) return false;
  const total = (f[ip + 2]! << 8) | f[ip + 3]!;
  if (total !== 28 + len || ETH_HDR + total > f.length) return false;
  const icmp = ip + 20;
  if (f[icmp] !== 0 || inetChecksum(f, icmp, ETH_HDR + total) !== 0) return false;
  if (((f[icmp + 4]! << 8) | f[icmp + 5]!) !== id || ((f[icmp + 6]! << 8) | f[icmp + 7]!) !== (seq & 0xffff)) return false;
  for (let i = 0; i < len; i++) if (f[icmp + 8 + i] !== ((seq + i) & 0xff)) return false;
  return true;
}

/** UDP datagram (RFC 768) from `srcPort` to `dstPort` with a `len`-byte payload (byte i = (seq * 7 + i) & 0xff), checksummed over the pseudo-header. */
export function udpDatagram(mac: Uint8Array, peerMac: Uint8Array, src: Uint8Array, dst: Uint8Array, srcPort: number, dstPort: number, seq: number, len: number): Uint8Array {
  const udpLen = 8 + len;
  const ipLen = 20 + udpLen;
  const f = new Uint8Array(ETH_HDR + ipLen);
  ethHeader(f, peerMac, mac, ETHERTYPE_IPV4);
  const ip = ETH_HDR;
  f[ip] = 0x45;
  f[ip + 2] = ipLen >>> 8; f[ip + 3] = ipLen & 0xff;
  f[ip + 4] = 0x40 | (seq >>> 8 & 0x3f); f[ip + 5] = seq & 0xff; // identification
  f[ip + 8] = 64; // TTL
  f[ip + 9] = 17; // UDP
  f.set(src, ip + 12);
  f.set(dst, ip + 16);
  const c = inetChecksum(f, ip, ip + 20);
  f[ip + 10] = c >>> 8; f[ip + 11] = c & 0xff;
  const u = ip + 20;
  f[u] = srcPort >>> 8; f[u + 1] = srcPort & 0xff;
  f[u + 2] = dstPort >>> 8; f[u + 3] = dstPort & 0xff;
  f[u + 4] = udpLen >>> 8; f[u + 5] = udpLen & 0xff;
  for (let i = 0; i < len; i++) f[u + 8 + i] = (seq * 7 + i) & 0xff;
  const uc = udpChecksum(f, ip, u, udpLen);
  const sent = uc === 0 ? 0xffff : uc; // a computed 0 is sent as all ones (RFC 768)
  f[u + 6] = sent >>> 8; f[u + 7] = sent & 0xff;
  return f;
}

/** The UDP checksum of the datagram at `u` (`udpLen` bytes) in the IPv4 packet at `ip`: over the pseudo-header and the datagram. */
function udpChecksum(f: Uint8Array, ip: number, u: number, udpLen: number): number {
  const pseudo = new Uint8Array(12 + udpLen + (udpLen & 1));
  pseudo.set(f.subarray(ip + 12, ip + 20), 0);
  pseudo[9] = 17;
  pseudo[10] = udpLen >>> 8; pseudo[11] = udpLen & 0xff;
  pseudo.set(f.subarray(u, u + udpLen), 12);
  pseudo[12 + 6] = 0; pseudo[12 + 7] = 0;
  return inetChecksum(pseudo, 0, 12 + udpLen);
}

/** True for the echo of `udpDatagram(.., srcPort, dstPort, seq, len)`: from the peer's `dstPort` back to `srcPort`, same payload, valid checksums (0 = none sent). */
export function parseUdpEcho(f: Uint8Array, peerIp: Uint8Array, myIp: Uint8Array, srcPort: number, dstPort: number, seq: number, len: number): boolean {
  if (f.length < ETH_HDR + 28 + len || ((f[12]! << 8) | f[13]!) !== ETHERTYPE_IPV4) return false;
  const ip = ETH_HDR;
  if (f[ip] !== 0x45 || f[ip + 9] !== 17 || inetChecksum(f, ip, ip + 20) !== 0) return false;
  if (!eq(f, ip + 12, peerIp) || !eq(f, ip + 16, myIp)) return false;
  const u = ip + 20;
  const udpLen = (f[u + 4]! << 8) | f[u + 5]!;
  if (udpLen !== 8 + len || u + udpLen > f.length) return false;
  if (((f[u]! << 8) | f[u + 1]!) !== dstPort || ((f[u + 2]! << 8) | f[u + 3]!) !== srcPort) return false;
  const sum = (f[u + 6]! << 8) | f[u + 7]!;
  if (sum !== 0) {
    const c = udpChecksum(f, ip, u, udpLen);
    if ((c === 0 ? 0xffff : c) !== sum) return false;
  }
  for (let i = 0; i < len; i++) if (f[u + 8 + i] !== ((seq * 7 + i) & 0xff)) return false;
  return true;
}
