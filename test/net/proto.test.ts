/**
 * Protocol codecs against byte vectors written out by hand from the RFCs
 * (RFC 826 ARP, RFC 791 + RFC 1071 IPv4 checksum, RFC 792 ICMP echo, RFC 768
 * UDP with its pseudo-header), computed independently of the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  ARP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_UDP, buildArp, buildEthernet, buildIcmpEcho,
  buildIcmpUnreachable, buildIpv4, buildUdp, formatIpv4, formatMac, internetChecksum, isGroupMac, parseArp, parseEthernet, parseIcmp,
  parseIpv4, parseIpv4Packet, parseMac, parseUdp, udpChecksum,
} from '../../src/net/proto/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

const GUEST_MAC = parseMac('52:54:00:12:34:56')!;
const PEER_MAC = parseMac('52:54:00:12:35:02')!;
const GUEST_IP = parseIpv4('10.0.2.15')!;
const PEER_IP = parseIpv4('10.0.2.2')!;
/** The data of the classic Windows ping. */
const WIN_PING_DATA = new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi');

describe('RFC 1071 checksum', () => {
  it('gives the RFC example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d', () => {
    expect(internetChecksum(bytes('0001f203f4f5f6f7'))).toBe(0x220d);
  });
  it('pads an odd last byte with zero and is 0 over data holding its own checksum', () => {
    expect(internetChecksum(bytes('01'))).toBe(0xfeff);
    expect(internetChecksum(bytes('0001f203f4f5f6f7220d'))).toBe(0);
  });
  it('the IPv4 header of the textbook example (RFC 791 layout) has checksum b861', () => {
    expect(internetChecksum(bytes('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7'))).toBe(0xb861);
    const ok = parseIpv4Packet(bytes(`4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7 ${'00'.repeat(0x73 - 20)}`));
    expect(ok.ok && ok.ip.checksumOk).toBe(true);
    const bad = parseIpv4Packet(bytes(`4500 0073 0000 4000 4011 b862 c0a8 0001 c0a8 00c7 ${'00'.repeat(0x73 - 20)}`));
    expect(bad.ok && bad.ip.checksumOk).toBe(false);
  });
});

describe('addresses', () => {
  it('parses and formats MAC and IPv4 text, refusing malformed text', () => {
    expect(formatMac(GUEST_MAC)).toBe('52:54:00:12:34:56');
    expect(parseMac('52:54:00:12:34')).toBeUndefined();
    expect(parseMac('52:54:00:12:34:zz')).toBeUndefined();
    expect(formatIpv4(GUEST_IP)).toBe('10.0.2.15');
    for (const t of ['10.0.2', '10.0.2.256', '10.0.02.1', '10.0.2.1.1', 'a.b.c.d']) expect(parseIpv4(t)).toBeUndefined();
  });
});

describe('Ethernet II', () => {
  it('builds dst, src, type, payload, zero-padded to 60 bytes', () => {
    const f = buildEthernet(PEER_MAC, GUEST_MAC, 0x0806, bytes('aabb'));
    expect(f.length).toBe(60);
    expect(hex(f.subarray(0, 16))).toBe('525400123502' + '525400123456' + '0806' + 'aabb');
    expect(f.subarray(16).every((b) => b === 0)).toBe(true);
    expect(buildEthernet(PEER_MAC, GUEST_MAC, 0x0800, new Uint8Array(100)).length).toBe(114);
    expect(buildEthernet(PEER_MAC, GUEST_MAC, 0x0800, new Uint8Array(2), false).length).toBe(16);
  });
  it('parses the type (behind a VLAN tag too) and refuses runts', () => {
    expect(parseEthernet(bytes('ffffffffffff525400123456 0806'))).toEqual({ dstOff: 0, srcOff: 6, etherType: 0x0806, vlan: -1, payloadOff: 14 });
    expect(parseEthernet(bytes('ffffffffffff525400123456 8100 0064 0800'))?.etherType).toBe(0x0800);
    expect(parseEthernet(bytes('ffffffffffff525400123456 8100 0064 0800'))?.vlan).toBe(100);
    expect(parseEthernet(bytes('ffffffffffff525400123456 08'))).toBeUndefined();
    expect(isGroupMac(bytes('ffffffffffff'))).toBe(true);
    expect(isGroupMac(bytes('525400123456'))).toBe(false);
  });
});

describe('ARP (RFC 826)', () => {
  // htype 1, ptype 0800, hlen 6, plen 4, op 1, sha, spa, tha 0, tpa.
  const WHO_HAS = '0001 0800 06 04 0001 525400123456 0a00020f 000000000000 0a000202';
  it('builds who-has 10.0.2.2 tell 10.0.2.15 byte for byte', () => {
    expect(hex(buildArp(ARP_REQUEST, GUEST_MAC, GUEST_IP, new Uint8Array(6), PEER_IP))).toBe(WHO_HAS.replace(/\s+/g, ''));
  });
  it('parses it (with link padding after it), and refuses other hardware or protocol types and truncation', () => {
    const a = parseArp(bytes(`${WHO_HAS} 0000 0000`))!;
    expect(a.op).toBe(1);
    expect(a.tpaOff).toBe(24);
    expect(parseArp(bytes(WHO_HAS.replace('0001 0800', '0006 0800')))).toBeUndefined();
    expect(parseArp(bytes(WHO_HAS.replace('0001 0800', '0001 86dd')))).toBeUndefined();
    expect(parseArp(bytes(WHO_HAS).subarray(0, 27))).toBeUndefined();
  });
});

describe('IPv4 (RFC 791) + ICMP echo (RFC 792)', () => {
  // The Windows ping (id 1, seq 1, 32 bytes of a..w, a..i): ICMP checksum 4d5a, IPv4 header checksum 22b1
  // with DF, TTL 64, id 0, 10.0.2.15 -> 10.0.2.2.
  const PING = '4500003c00004000400122b10a00020f0a000202' + '08004d5a00010001' + Buffer.from(WIN_PING_DATA).toString('hex');
  it('builds the echo request byte for byte', () => {
    const icmp = buildIcmpEcho(ICMP_ECHO_REQUEST, 1, 1, WIN_PING_DATA);
    expect(hex(icmp.subarray(0, 8))).toBe('08004d5a00010001');
    expect(hex(buildIpv4({ src: GUEST_IP, dst: PEER_IP, protocol: IPPROTO_ICMP, payload: icmp }))).toBe(PING);
  });
  it('parses it: lengths, addresses, checksums; link padding after totalLen is cut off', () => {
    const r = parseIpv4Packet(bytes(`${PING} 000000000000`));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.ip).toMatchObject({ headerLen: 20, totalLen: 60, ttl: 64, protocol: 1, checksumOk: true, flagsFrag: 0x4000 });
    expect(r.ip.payload.length).toBe(40);
    const m = parseIcmp(r.ip.payload)!;
    expect(m).toMatchObject({ type: 8, code: 0, id: 1, seq: 1, checksumOk: true });
    expect(Buffer.from(m.data).toString()).toBe('abcdefghijklmnopqrstuvwabcdefghi');
    const corrupt = bytes(PING);
    corrupt[30]! ^= 1;
    expect(parseIcmp(parseIpv4Packet(corrupt).ok ? corrupt.subarray(20) : new Uint8Array())!.checksumOk).toBe(false);
  });
  it('names what is wrong with a packet that does not parse', () => {
    expect(parseIpv4Packet(bytes('4500'))).toEqual({ ok: false, reason: 'IPv4 packet of 2 bytes is shorter than a header' });
    expect(parseIpv4Packet(bytes(PING.replace(/^45/, '65')))).toEqual({ ok: false, reason: 'IP version 6, not 4' });
    expect(parseIpv4Packet(bytes(PING.replace(/^45/, '44')))).toMatchObject({ ok: false });
    expect(parseIpv4Packet(bytes(PING.replace(/^4500003c/, '450000ff')))).toEqual({ ok: false, reason: 'IPv4 total length 255 exceeds the 60 bytes received' });
  });
  it('destination unreachable quotes the IP header and 8 bytes, with a correct checksum', () => {
    const u = buildIcmpUnreachable(3, bytes(PING), 20);
    expect(u.length).toBe(8 + 28);
    expect(hex(u.subarray(0, 2))).toBe('0303');
    expect(internetChecksum(u)).toBe(0);
    expect(hex(u.subarray(8))).toBe(PING.slice(0, 56));
  });
});

describe('UDP (RFC 768)', () => {
  // 10.0.2.15:40000 -> 10.0.2.2:7 "hello": pseudo-header 0a00020f 0a000202 00 11 000d, checksum 07aa.
  const HELLO = '9c400007000d07aa68656c6c6f';
  it('builds the datagram with the pseudo-header checksum byte for byte', () => {
    expect(hex(buildUdp(GUEST_IP, PEER_IP, 40000, 7, new TextEncoder().encode('hello')))).toBe(HELLO);
    expect(udpChecksum(GUEST_IP, PEER_IP, bytes(HELLO))).toBe(0);
    expect(IPPROTO_UDP).toBe(17);
  });
  it('writes 0 for "no checksum" when asked, and a computed 0 as ffff', () => {
    expect(hex(buildUdp(GUEST_IP, PEER_IP, 40000, 7, new TextEncoder().encode('hello'), false).subarray(6, 8))).toBe('0000');
    // Find a payload whose checksum computes to 0: the 2 data bytes are the complement of the rest.
    const base = buildUdp(GUEST_IP, PEER_IP, 1, 2, new Uint8Array(2), false);
    const need = internetChecksum(new Uint8Array([...GUEST_IP, ...PEER_IP, 0, 17, 0, 10, ...base]));
    // Adding `need` as data makes the sum ffff, so the computed checksum is 0.
    const zero = buildUdp(GUEST_IP, PEER_IP, 1, 2, Uint8Array.of(need >>> 8, need & 0xff));
    expect(hex(zero.subarray(6, 8))).toBe('ffff');
    const p = parseUdp(GUEST_IP, PEER_IP, zero);
    expect(p.ok && p.udp.checksumOk).toBe(true);
  });
  it('parses it, verifying the checksum (0 = none), and names bad lengths', () => {
    const p = parseUdp(GUEST_IP, PEER_IP, bytes(HELLO));
    expect(p.ok && p.udp).toMatchObject({ srcPort: 40000, dstPort: 7, length: 13, checksum: 0x07aa, checksumOk: true });
    const wrongAddr = parseUdp(GUEST_IP, parseIpv4('10.0.2.3')!, bytes(HELLO));
    expect(wrongAddr.ok && wrongAddr.udp.checksumOk).toBe(false);
    const none = parseUdp(GUEST_IP, PEER_IP, bytes(HELLO.replace('07aa', '0000')));
    expect(none.ok && none.udp.checksumOk).toBe(true);
    expect(parseUdp(GUEST_IP, PEER_IP, bytes('9c40000700'))).toMatchObject({ ok: false });
    expect(parseUdp(GUEST_IP, PEER_IP, bytes(HELLO.replace('000d', '0020')))).toEqual({ ok: false, reason: 'UDP length 32 does not fit the 13 bytes of the IP payload' });
  });
});

describe('ethertypes', () => {
  it('are the IEEE values', () => {
    expect([ETHERTYPE_IPV4, ETHERTYPE_ARP]).toEqual([0x0800, 0x0806]);
  });
});
