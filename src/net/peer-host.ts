/**
 * The simulated host at the far end of a NIC's link (fixtures/networks/*.json,
 * ./config.ts). It answers:
 * - ARP requests for its address (RFC 826 reply to the asker's MAC), learning
 *   the guest's MAC and address;
 * - ICMP echo requests to its address (RFC 792: an echo reply with the same
 *   identifier, sequence and data, from its address to the sender's);
 * - UDP datagrams to an echo port (the same data back, from the echo port to
 *   the sender's port; the checksum over the pseudo-header per RFC 768, or 0
 *   when the file says `udpEcho.checksum: false`), and with ICMP port
 *   unreachable for other ports (unless `icmpPortUnreachable: false`).
 * It can also announce itself (gratuitous ARP) and ask for the guest's MAC
 * (ARP who-has guest.ip) at times the file's `schedule` gives.
 *
 * Replies leave at once (no host turnaround time is modelled); the link adds
 * serialization and propagation delay. Every reply frame is padded to 60
 * bytes. Anything the host cannot use — runts, unknown EtherTypes, a bad IPv4
 * header checksum, bad lengths, a bad ICMP or UDP checksum, fragments,
 * packets for another address — is counted (and the first NOTE_LIMIT noted
 * with the time and reason), never thrown.
 */
import type { EventQueue } from '../sim/event-queue.js';
import { formatTime, type SimTime } from '../sim/time.js';
import type { NetworkConfig, ScheduleEntry } from './config.js';
import type { EthernetPort } from './port.js';
import { ARP_REPLY, ARP_REQUEST, buildArp, parseArp } from './proto/arp.js';
import { bytesEqual, formatIpv4, formatMac } from './proto/bytes.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, ZERO_MAC, buildEthernet, isGroupMac, parseEthernet } from './proto/ethernet.js';
import { ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, ICMP_PORT_UNREACHABLE, buildIcmpEcho, buildIcmpUnreachable, parseIcmp } from './proto/icmp.js';
import { IPPROTO_ICMP, IPPROTO_UDP, buildIpv4, isFragment, parseIpv4Packet } from './proto/ipv4.js';
import { buildUdp, parseUdp } from './proto/udp.js';

/** Notes kept about frames the host could not use. */
export const NOTE_LIMIT = 32;

export interface PeerCounters {
  framesReceived: number;
  arpRequestsAnswered: number;
  arpRepliesReceived: number;
  arpIgnored: number;
  echoRequests: number;
  echoReplies: number;
  udpEchoed: number;
  udpPortUnreachable: number;
  /** Frames sent by the peer itself (announcements and who-has). */
  arpSent: number;
  /** Frames the peer tried to send while the link was down. */
  sendFailed: number;
  /** Frames not for the peer (another MAC or IP address), or of a kind it does not serve (IPv6, TCP, ...). */
  ignored: number;
  /** Runts, bad lengths, bad checksums, unparseable ARP or IP. */
  malformed: number;
  /** IPv4 fragments (not reassembled). */
  fragments: number;
  /** IP packets from another source address than the guest's (`guest.ip`); still answered. */
  unexpectedSource: number;
}

export class PeerHost {
  readonly counters: PeerCounters = {
    framesReceived: 0, arpRequestsAnswered: 0, arpRepliesReceived: 0, arpIgnored: 0, echoRequests: 0, echoReplies: 0,
    udpEchoed: 0, udpPortUnreachable: 0, arpSent: 0, sendFailed: 0, ignored: 0, malformed: 0, fragments: 0, unexpectedSource: 0,
  };
  /** The first NOTE_LIMIT reasons a frame was dropped, with the time: "1.234 ms: malformed: ...". */
  readonly notes: string[] = [];
  /** The guest's MAC, once learned (from an ARP packet or an IP packet from guest.ip). */
  guestMac: Uint8Array | undefined;
  private ipId = 0;
  private readonly target: number;
  private readonly mac: Uint8Array;
  private readonly ip: Uint8Array;

  constructor(readonly config: NetworkConfig, private readonly port: EthernetPort, private readonly queue: EventQueue, name = 'net-peer') {
    this.mac = config.peer.macBytes;
    this.ip = config.peer.ipBytes;
    port.onReceive((frame, time) => this.receive(frame, time));
    const acts = config.schedule.filter((e) => e.action === 'gratuitous-arp' || e.action === 'arp-request');
    this.target = queue.register(name, (_kind, a0) => this.act(acts[a0]));
    acts.forEach((e, i) => queue.scheduleAt(e.atPs as SimTime, this.target, 0, i));
  }

  private act(e: ScheduleEntry | undefined): void {
    if (e === undefined) return;
    if (e.action === 'gratuitous-arp') this.sendArp(ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, this.ip);
    else this.sendArp(ARP_REQUEST, BROADCAST_MAC, ZERO_MAC, this.config.guest.ipBytes);
  }

  private sendArp(op: number, dst: Uint8Array, tha: Uint8Array, tpa: Uint8Array): void {
    const frame = buildEthernet(dst, this.mac, ETHERTYPE_ARP, buildArp(op, this.mac, this.ip, tha, tpa));
    if (op === ARP_REQUEST) this.counters.arpSent++;
    this.send(frame);
  }

  private send(frame: Uint8Array): void {
    if (!this.port.transmit(frame)) this.counters.sendFailed++;
  }

  private note(time: number, what: string): void {
    if (this.notes.length < NOTE_LIMIT) this.notes.push(`${formatTime(time)}: ${what}`);
  }

  private drop(time: number, counter: 'malformed' | 'ignored' | 'fragments' | 'arpIgnored', why: string): void {
    this.counters[counter]++;
    this.note(time, `${counter === 'arpIgnored' ? 'ARP ignored' : counter}: ${why}`);
  }

  /** Handles one frame arriving from the guest. Never throws. */
  receive(frame: Uint8Array, time: number): void {
    this.counters.framesReceived++;
    const eth = parseEthernet(frame);
    if (eth === undefined) return this.drop(time, 'malformed', `runt frame of ${frame.length} bytes`);
    const toUs = bytesEqual(frame, 0, this.mac, 0, 6);
    if (!toUs && !isGroupMac(frame)) return this.drop(time, 'ignored', `frame for ${formatMac(frame, 0)}`);
    const payload = frame.subarray(eth.payloadOff);
    if (eth.etherType === ETHERTYPE_ARP) return this.arp(frame, payload, time);
    if (eth.etherType === ETHERTYPE_IPV4) {
      if (!toUs) return this.drop(time, 'ignored', `IPv4 to the group address ${formatMac(frame, 0)}`);
      return this.ipv4(frame, payload, time);
    }
    return this.drop(time, 'ignored', `EtherType 0x${eth.etherType.toString(16).padStart(4, '0')}`);
  }

  private arp(frame: Uint8Array, a: Uint8Array, time: number): void {
    const arp = parseArp(a);
    if (arp === undefined) return this.drop(time, 'malformed', `ARP packet of ${a.length} bytes that is not Ethernet/IPv4`);
    const sha = a.subarray(arp.shaOff, arp.shaOff + 6);
    const spa = a.subarray(arp.spaOff, arp.spaOff + 4);
    if (bytesEqual(spa, 0, this.config.guest.ipBytes, 0, 4)) this.guestMac = sha.slice();
    if (arp.op === ARP_REPLY) {
      this.counters.arpRepliesReceived++;
      return;
    }
    if (arp.op !== ARP_REQUEST) return this.drop(time, 'arpIgnored', `operation ${arp.op}`);
    if (!bytesEqual(a, arp.tpaOff, this.ip, 0, 4)) return this.drop(time, 'arpIgnored', `who-has ${formatIpv4(a, arp.tpaOff)} (not ${this.config.peer.ip})`);
    this.counters.arpRequestsAnswered++;
    // Reply to the asker: its hardware address from the ARP packet (the frame's source in practice).
    const tha = sha.slice();
    const tpa = spa.slice();
    this.send(buildEthernet(frame.subarray(6, 12), this.mac, ETHERTYPE_ARP, buildArp(ARP_REPLY, this.mac, this.ip, tha, tpa)));
  }

  private ipv4(frame: Uint8Array, b: Uint8Array, time: number): void {
    const r = parseIpv4Packet(b);
    if (!r.ok) return this.drop(time, 'malformed', r.reason);
    const ip = r.ip;
    if (!ip.checksumOk) return this.drop(time, 'malformed', `IPv4 header checksum is wrong (packet id ${ip.id})`);
    if (!bytesEqual(b, ip.dstOff, this.ip, 0, 4)) return this.drop(time, 'ignored', `IPv4 packet for ${formatIpv4(b, ip.dstOff)}`);
    if (isFragment(ip)) return this.drop(time, 'fragments', `IPv4 fragment (id ${ip.id}, flags/offset 0x${ip.flagsFrag.toString(16)}): not reassembled`);
    const src = b.slice(ip.srcOff, ip.srcOff + 4);
    if (!bytesEqual(src, 0, this.config.guest.ipBytes, 0, 4)) {
      this.counters.unexpectedSource++;
      this.note(time, `IPv4 from ${formatIpv4(src)}, not the guest's ${this.config.guest.ip} (answered)`);
    } else {
      this.guestMac = frame.slice(6, 12);
    }
    const dstMac = frame.subarray(6, 12);
    if (ip.protocol === IPPROTO_ICMP) {
      const m = parseIcmp(ip.payload);
      if (m === undefined) return this.drop(time, 'malformed', `ICMP message of ${ip.payload.length} bytes`);
      if (!m.checksumOk) return this.drop(time, 'malformed', `ICMP checksum is wrong (type ${m.type}, id ${m.id}, seq ${m.seq})`);
      if (m.type !== ICMP_ECHO_REQUEST || m.code !== 0) return this.drop(time, 'ignored', `ICMP type ${m.type} code ${m.code}`);
      this.counters.echoRequests++;
      const reply = buildIcmpEcho(ICMP_ECHO_REPLY, m.id, m.seq, m.data);
      this.counters.echoReplies++;
      return this.sendIp(dstMac, src, IPPROTO_ICMP, reply);
    }
    if (ip.protocol === IPPROTO_UDP) {
      const u = parseUdp(src, this.ip, ip.payload);
      if (!u.ok) return this.drop(time, 'malformed', u.reason);
      const d = u.udp;
      if (!d.checksumOk) return this.drop(time, 'malformed', `UDP checksum 0x${d.checksum.toString(16)} is wrong (port ${d.srcPort} -> ${d.dstPort})`);
      if (this.config.udpEcho.ports.includes(d.dstPort)) {
        this.counters.udpEchoed++;
        return this.sendIp(dstMac, src, IPPROTO_UDP, buildUdp(this.ip, src, d.dstPort, d.srcPort, d.data, this.config.udpEcho.checksum));
      }
      if (!this.config.icmpPortUnreachable) return this.drop(time, 'ignored', `UDP to port ${d.dstPort} (no echo there)`);
      this.counters.udpPortUnreachable++;
      return this.sendIp(dstMac, src, IPPROTO_ICMP, buildIcmpUnreachable(ICMP_PORT_UNREACHABLE, b.subarray(0, ip.totalLen), ip.headerLen));
    }
    return this.drop(time, 'ignored', `IP protocol ${ip.protocol}`);
  }

  private sendIp(dstMac: Uint8Array, dst: Uint8Array, protocol: number, payload: Uint8Array): void {
    const id = this.ipId;
    this.ipId = (this.ipId + 1) & 0xffff;
    this.send(buildEthernet(dstMac, this.mac, ETHERTYPE_IPV4, buildIpv4({ src: this.ip, dst, protocol, payload, id })));
  }
}
