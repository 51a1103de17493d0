import { describe, expect, it } from 'vitest';
import {
  ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_REQUEST, IPPROTO_ICMP, IPPROTO_UDP, buildArp, buildEthernet,
  buildIcmpEcho, buildIpv4, buildUdp, formatIpv4, formatMac, internetChecksum, parseArp, parseEthernet, parseIcmp, parseIpv4, parseIpv4Packet,
  parseMac, parseUdp, readU16, udpChecksum,
} from '../../src/net/proto/index.js';
import { serializationPs } from '../../src/net/link.js';
import { US, netHarness, runAll } from './helpers.js';

const GUEST_MAC = parseMac('52:54:00:12:34:56')!;
const PEER_MAC = parseMac('52:54:00:12:35:02')!;
const GUEST_IP = parseIpv4('10.0.2.15')!;
const PEER_IP = parseIpv4('10.0.2.2')!;

const arpWhoHas = (tpa: Uint8Array, spa = GUEST_IP): Uint8Array =>
  buildEthernet(BROADCAST_MAC, GUEST_MAC, ETHERTYPE_ARP, buildArp(ARP_REQUEST, GUEST_MAC, spa, new Uint8Array(6), tpa));
const ipFrame = (protocol: number, payload: Uint8Array, dst = PEER_IP, src = GUEST_IP): Uint8Array =>
  buildEthernet(PEER_MAC, GUEST_MAC, ETHERTYPE_IPV4, buildIpv4({ src, dst, protocol, payload, id: 77 }));

/** The IPv4 packet of a reply frame, checked: addressed to the guest, from the peer, correct header checksum. */
function replyIp(frame: Uint8Array): ReturnType<typeof parseIpv4Packet> & { ok: true } {
  expect(formatMac(frame, 0)).toBe('52:54:00:12:34:56');
  expect(formatMac(frame, 6)).toBe('52:54:00:12:35:02');
  expect(parseEthernet(frame)?.etherType).toBe(ETHERTYPE_IPV4);
  expect(frame.length).toBeGreaterThanOrEqual(60);
  const r = parseIpv4Packet(frame.subarray(14));
  if (!r.ok) throw new Error(r.reason);
  expect(r.ip.checksumOk).toBe(true);
  expect(formatIpv4(frame, 14 + 12)).toBe('10.0.2.2');
  expect(formatIpv4(frame, 14 + 16)).toBe('10.0.2.15');
  return r;
}

describe('peer host: ARP', () => {
  it('answers who-has for its address with its MAC, to the asker, after serialization + delay both ways', () => {
    const { q, net, rx } = netHarness({ link: { delay: '50us' } });
    net.port.transmit(arpWhoHas(PEER_IP));
    runAll(q);
    expect(rx).toHaveLength(1);
    const f = rx[0]!.frame;
    expect(rx[0]!.time).toBe(2 * (serializationPs(42, 1000) + 50 * US));
    expect(formatMac(f, 0)).toBe('52:54:00:12:34:56');
    expect(readU16(f, 12)).toBe(ETHERTYPE_ARP);
    const a = parseArp(f.subarray(14))!;
    expect(a.op).toBe(ARP_REPLY);
    expect(formatMac(f, 14 + a.shaOff)).toBe('52:54:00:12:35:02');
    expect(formatIpv4(f, 14 + a.spaOff)).toBe('10.0.2.2');
    expect(formatMac(f, 14 + a.thaOff)).toBe('52:54:00:12:34:56');
    expect(formatIpv4(f, 14 + a.tpaOff)).toBe('10.0.2.15');
    expect(net.peer.counters.arpRequestsAnswered).toBe(1);
    expect(net.peer.guestMac && formatMac(net.peer.guestMac)).toBe('52:54:00:12:34:56');
  });
  it('ignores who-has for other addresses', () => {
    const { q, net, rx } = netHarness();
    net.port.transmit(arpWhoHas(parseIpv4('10.0.2.3')!));
    runAll(q);
    expect(rx).toHaveLength(0);
    expect(net.peer.counters.arpIgnored).toBe(1);
    expect(net.peer.notes[0]).toContain('who-has 10.0.2.3 (not 10.0.2.2)');
  });
  it('announces itself and asks for the guest at the scheduled times', () => {
    const { q, rx } = netHarness({ schedule: [{ at: '2ms', action: 'arp-request' }, { at: '1ms', action: 'gratuitous-arp' }] });
    runAll(q);
    expect(rx).toHaveLength(2);
    const [g, w] = rx.map((r) => r.frame);
    expect(formatMac(g!, 0)).toBe('ff:ff:ff:ff:ff:ff');
    expect(formatIpv4(g!, 14 + 14)).toBe('10.0.2.2');
    expect(formatIpv4(g!, 14 + 24)).toBe('10.0.2.2');
    expect(formatIpv4(w!, 14 + 24)).toBe('10.0.2.15');
    expect(rx[0]!.time).toBeGreaterThan(1000 * US);
    expect(rx[1]!.time).toBeGreaterThan(2000 * US);
  });
});

describe('peer host: ICMP echo', () => {
  it('replies with the same id, seq and data, correct IPv4 and ICMP checksums', () => {
    const { q, net, rx } = netHarness();
    const data = Uint8Array.from({ length: 56 }, (_, i) => i);
    net.port.transmit(ipFrame(IPPROTO_ICMP, buildIcmpEcho(ICMP_ECHO_REQUEST, 0x1234, 3, data)));
    runAll(q);
    expect(rx).toHaveLength(1);
    const ip = replyIp(rx[0]!.frame).ip;
    expect(ip.protocol).toBe(IPPROTO_ICMP);
    expect(internetChecksum(ip.payload)).toBe(0);
    const m = parseIcmp(ip.payload)!;
    expect(m).toMatchObject({ type: 0, code: 0, id: 0x1234, seq: 3, checksumOk: true });
    expect([...m.data]).toEqual([...data]);
    expect(net.peer.counters).toMatchObject({ echoRequests: 1, echoReplies: 1, malformed: 0 });
  });
  it('drops a request with a bad ICMP or IPv4 checksum, counting and noting it', () => {
    const { q, net, rx } = netHarness();
    const bad = ipFrame(IPPROTO_ICMP, buildIcmpEcho(ICMP_ECHO_REQUEST, 1, 1, new Uint8Array(8)));
    bad[14 + 20 + 8]! ^= 0xff; // data byte: ICMP checksum now wrong
    net.port.transmit(bad);
    const badIp = ipFrame(IPPROTO_ICMP, buildIcmpEcho(ICMP_ECHO_REQUEST, 1, 2, new Uint8Array(8)));
    badIp[14 + 8] = 1; // TTL: header checksum now wrong
    net.port.transmit(badIp);
    runAll(q);
    expect(rx).toHaveLength(0);
    expect(net.peer.counters.malformed).toBe(2);
    expect(net.peer.notes.join('\n')).toMatch(/ICMP checksum is wrong[\s\S]*IPv4 header checksum is wrong/);
  });
});

describe('peer host: UDP echo', () => {
  it('echoes to the source port with a pseudo-header checksum', () => {
    const data = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
    const h = netHarness();
    h.net.port.transmit(ipFrame(IPPROTO_UDP, buildUdp(GUEST_IP, PEER_IP, 40000, 7, data)));
    runAll(h.q);
    expect(h.rx).toHaveLength(1);
    const ip = replyIp(h.rx[0]!.frame).ip;
    expect(ip.protocol).toBe(IPPROTO_UDP);
    expect(udpChecksum(PEER_IP, GUEST_IP, ip.payload)).toBe(0);
    const u = parseUdp(PEER_IP, GUEST_IP, ip.payload);
    expect(u.ok && u.udp).toMatchObject({ srcPort: 7, dstPort: 40000, length: 40, checksumOk: true });
    expect(u.ok && new TextDecoder().decode(u.udp.data)).toBe('0123456789abcdef0123456789abcdef');
  });
  it('sends checksum 0 when the file says so, and port unreachable for other ports', () => {
    const h = netHarness({ udpEcho: { ports: [9], checksum: false } });
    h.net.port.transmit(ipFrame(IPPROTO_UDP, buildUdp(GUEST_IP, PEER_IP, 1000, 9, new Uint8Array(4))));
    h.net.port.transmit(ipFrame(IPPROTO_UDP, buildUdp(GUEST_IP, PEER_IP, 1000, 7, new Uint8Array(4))));
    runAll(h.q);
    expect(h.rx).toHaveLength(2);
    const u = replyIp(h.rx[0]!.frame).ip.payload;
    expect(readU16(u, 6)).toBe(0);
    const icmp = parseIcmp(replyIp(h.rx[1]!.frame).ip.payload)!;
    expect(icmp).toMatchObject({ type: 3, code: 3, checksumOk: true });
    expect(h.net.peer.counters).toMatchObject({ udpEchoed: 1, udpPortUnreachable: 1 });
  });
  it('drops a datagram with a wrong checksum', () => {
    const h = netHarness();
    const f = ipFrame(IPPROTO_UDP, buildUdp(GUEST_IP, PEER_IP, 1000, 7, new Uint8Array(4)));
    f[14 + 20 + 6]! ^= 0x55;
    h.net.port.transmit(f);
    runAll(h.q);
    expect(h.rx).toHaveLength(0);
    expect(h.net.peer.notes[0]).toMatch(/malformed: UDP checksum 0x[0-9a-f]+ is wrong \(port 1000 -> 7\)/);
  });
});

describe('peer host: robustness', () => {
  it('counts malformed, foreign and unsupported frames and never throws, whatever the bytes', () => {
    const h = netHarness();
    let x = 12345;
    const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 24; };
    // Random frames, and truncations of good frames of every kind.
    const good = [arpWhoHas(PEER_IP), ipFrame(IPPROTO_ICMP, buildIcmpEcho(8, 1, 1, new Uint8Array(16))), ipFrame(IPPROTO_UDP, buildUdp(GUEST_IP, PEER_IP, 5, 7, new Uint8Array(9)))];
    for (const g of good) {
      for (let n = 14; n < g.length; n++) {
        const f = g.slice(0, n);
        // Keep the IPv4 total length pointing past the end for the truncations.
        expect(() => h.net.peer.receive(f, 0)).not.toThrow();
      }
    }
    for (let i = 0; i < 2000; i++) {
      const f = Uint8Array.from({ length: 14 + (rnd() % 80) }, rnd);
      if (i % 3 === 0) f.set(PEER_MAC, 0);
      if (i % 2 === 0) { f[12] = 0x08; f[13] = i % 4 === 0 ? 0x00 : 0x06; }
      if (i % 4 === 0) f[14] = 0x45;
      expect(() => h.net.peer.receive(f, 0)).not.toThrow();
    }
    expect(() => h.net.peer.receive(new Uint8Array(3), 0)).not.toThrow();
    const c = h.net.peer.counters;
    expect(c.malformed).toBeGreaterThan(0);
    expect(c.ignored).toBeGreaterThan(0);
    expect(h.net.peer.notes.length).toBeLessThanOrEqual(32);
  });
  it('notes an unexpected source address but still answers', () => {
    const h = netHarness();
    h.net.port.transmit(ipFrame(IPPROTO_ICMP, buildIcmpEcho(8, 1, 1, new Uint8Array(8)), PEER_IP, parseIpv4('10.0.2.99')!));
    runAll(h.q);
    expect(h.rx).toHaveLength(1);
    expect(h.net.peer.counters.unexpectedSource).toBe(1);
    expect(h.net.peer.notes[0]).toContain("IPv4 from 10.0.2.99, not the guest's 10.0.2.15 (answered)");
  });
  it('has run-summary counters for the link and the peer', () => {
    const h = netHarness();
    h.net.port.transmit(arpWhoHas(PEER_IP));
    runAll(h.q);
    expect(h.net.stats()).toMatchObject({ 'link.txFrames': 1, 'link.rxFrames': 1, 'peer.arpRequestsAnswered': 1 });
  });
  it('goes quiet while the link is down (schedule) and answers again after', () => {
    const h = netHarness({ schedule: [{ at: '1ms', action: 'link-down' }, { at: '2ms', action: 'link-up' }] });
    const states: boolean[] = [];
    h.net.port.onLinkChange((up) => states.push(up));
    h.q.runUntil(1500 * US);
    expect(h.net.port.transmit(arpWhoHas(PEER_IP))).toBe(false);
    h.q.runUntil(2000 * US);
    expect(h.net.port.transmit(arpWhoHas(PEER_IP))).toBe(true);
    runAll(h.q);
    expect(states).toEqual([false, true]);
    expect(h.rx).toHaveLength(1);
  });
});
