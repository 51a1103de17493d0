/**
 * Small Ethernet helpers for `eth` trace records (Ethernet frames on a NIC's
 * link, destination MAC first, no FCS): one-line summaries for `simrun
 * inspect`, comparison reports and diff. Pure functions over bytes; nothing
 * here may throw on a short or odd frame. (The trace tools know no device
 * and import nothing outside src/trace and src/sim, so this is a reader of
 * its own, not the simulated network's codecs.)
 */

function u16(b: Uint8Array, o: number): number {
  return ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
}

/** "aa:bb:cc:dd:ee:ff" at `o`, or undefined if the frame is too short. */
export function ethMac(data: Uint8Array, o: number): string | undefined {
  if (o + 6 > data.length) return undefined;
  let s = '';
  for (let i = 0; i < 6; i++) s += (i > 0 ? ':' : '') + data[o + i]!.toString(16).padStart(2, '0');
  return s;
}

function ip(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** EtherType of a frame (the inner one behind an 802.1Q tag) and where its payload starts; undefined if shorter than a header. */
export function etherTypeOf(data: Uint8Array): { type: number; payload: number; vlan: number } | undefined {
  if (data.length < 14) return undefined;
  const t = u16(data, 12);
  if (t === 0x8100) {
    if (data.length < 18) return undefined;
    return { type: u16(data, 16), payload: 18, vlan: u16(data, 14) & 0xfff };
  }
  return { type: t, payload: 14, vlan: -1 };
}

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply', 3: 'destination unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem',
};
const UNREACH: Record<number, string> = { 0: 'net', 1: 'host', 2: 'protocol', 3: 'port', 4: 'fragmentation needed' };

function describeArp(b: Uint8Array, o: number): string {
  if (b.length < o + 28 || u16(b, o) !== 1 || u16(b, o + 2) !== 0x0800 || b[o + 4] !== 6 || b[o + 5] !== 4) return `ARP (malformed, ${b.length - o} bytes)`;
  const op = u16(b, o + 6);
  const spa = ip(b, o + 14);
  const tpa = ip(b, o + 24);
  if (op === 1) return spa === tpa ? `ARP announce ${spa} (gratuitous)` : `ARP who-has ${tpa} tell ${spa}`;
  if (op === 2) return `ARP reply ${spa} is-at ${ethMac(b, o + 8)!}`;
  return `ARP op ${op} ${spa} -> ${tpa}`;
}

function describeIcmp(b: Uint8Array, o: number, end: number): string {
  if (end - o < 8) return 'ICMP (truncated)';
  const type = b[o]!;
  const code = b[o + 1]!;
  if (type === 0 || type === 8) return `ICMP ${ICMP_TYPES[type]} id ${u16(b, o + 4)} seq ${u16(b, o + 6)} len ${end - o - 8}`;
  if (type === 3) return `ICMP destination unreachable (${UNREACH[code] ?? `code ${code}`})`;
  return `ICMP ${ICMP_TYPES[type] ?? `type ${type}`} code ${code}`;
}

function describeIpv4(b: Uint8Array, o: number): string {
  if (b.length < o + 20 || b[o]! >>> 4 !== 4) return 'IPv4 (malformed)';
  const hl = (b[o]! & 0xf) * 4;
  const total = u16(b, o + 2);
  if (hl < 20 || total < hl || o + total > b.length) return `IPv4 (malformed lengths: header ${hl}, total ${total}, ${b.length - o} bytes)`;
  const src = ip(b, o + 12);
  const dst = ip(b, o + 16);
  const proto = b[o + 9]!;
  const frag = u16(b, o + 6) & 0x3fff;
  const p = o + hl;
  const end = o + total;
  if (frag !== 0) return `IPv4 fragment ${src} -> ${dst} proto ${proto} offset ${(frag & 0x1fff) * 8}`;
  if (proto === 1) return describeIcmp(b, p, end);
  if (proto === 17) {
    if (end - p < 8) return `UDP ${src} -> ${dst} (truncated)`;
    return `UDP ${src}:${u16(b, p)} -> ${dst}:${u16(b, p + 2)} len ${u16(b, p + 4) - 8}`;
  }
  if (proto === 6) {
    if (end - p < 20) return `TCP ${src} -> ${dst} (truncated)`;
    return `TCP ${src}:${u16(b, p)} -> ${dst}:${u16(b, p + 2)}`;
  }
  return `IPv4 ${src} -> ${dst} proto ${proto}`;
}

/**
 * One-line summary of a frame: "ARP who-has 10.0.2.2 tell 10.0.2.15",
 * "ICMP echo request id 1 seq 3 len 56", "UDP 10.0.2.15:40000 -> 10.0.2.2:7 len 32"
 * (len: UDP data bytes, ICMP echo data bytes), "IPv6", "ethertype 0x88cc",
 * "runt (10 bytes)".
 */
export function describeEthFrame(data: Uint8Array): string {
  const h = etherTypeOf(data);
  if (h === undefined) return `runt (${data.length} bytes)`;
  const vlan = h.vlan >= 0 ? `vlan ${h.vlan} ` : '';
  switch (h.type) {
    case 0x0806: return vlan + describeArp(data, h.payload);
    case 0x0800: return vlan + describeIpv4(data, h.payload);
    case 0x86dd: return `${vlan}IPv6`;
    default: return h.type < 0x0600 ? `${vlan}802.3 length ${h.type}` : `${vlan}ethertype 0x${h.type.toString(16).padStart(4, '0')}`;
  }
}

/** A short protocol name for grouping: "arp", "icmp", "udp", "tcp", "ipv4", "ipv6", "other", "runt". */
export function ethProtocol(data: Uint8Array): string {
  const h = etherTypeOf(data);
  if (h === undefined) return 'runt';
  if (h.type === 0x0806) return 'arp';
  if (h.type === 0x86dd) return 'ipv6';
  if (h.type !== 0x0800) return 'other';
  const proto = data[h.payload + 9];
  return proto === 1 ? 'icmp' : proto === 17 ? 'udp' : proto === 6 ? 'tcp' : 'ipv4';
}
