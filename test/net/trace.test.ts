/**
 * `eth` trace records: written by the recorder (the trace becomes format
 * version 4 only when it holds one), read back, shown by inspect, compared,
 * and exported as an Ethernet pcap (decoded by tshark when installed).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { COLUMN_FORMAT_VERSION, ETH_FORMAT_VERSION, FORMAT_VERSION } from '../../src/trace/format.js';
import { formatEvent, runInspect } from '../../src/trace/inspect.js';
import { compareStreams } from '../../src/trace/compare/compare.js';
import { LINKTYPE_ETHERNET, pcapEthernetFile, runExportPcap } from '../../src/trace/export/index.js';
import { describeEthFrame } from '../../src/trace/eth.js';
import type { Tracer } from '../../src/sim/tracer.js';
import {
  ARP_REPLY, ARP_REQUEST, BROADCAST_MAC, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_ICMP, IPPROTO_UDP, buildArp, buildEthernet, buildIcmpEcho,
  buildIpv4, buildUdp, parseIpv4, parseMac,
} from '../../src/net/proto/index.js';
import { makeHeader, tmpDir } from '../trace/helpers.js';
import { US, netHarness, runAll } from './helpers.js';

const { dir, cleanup } = tmpDir();
afterAll(cleanup);

const GUEST_MAC = parseMac('52:54:00:12:34:56')!;
const PEER_MAC = parseMac('52:54:00:12:35:02')!;
const GUEST_IP = parseIpv4('10.0.2.15')!;
const PEER_IP = parseIpv4('10.0.2.2')!;
const NIC = 1;

const WHO_HAS = buildEthernet(BROADCAST_MAC, GUEST_MAC, ETHERTYPE_ARP, buildArp(ARP_REQUEST, GUEST_MAC, GUEST_IP, new Uint8Array(6), PEER_IP));
const IS_AT = buildEthernet(GUEST_MAC, PEER_MAC, ETHERTYPE_ARP, buildArp(ARP_REPLY, PEER_MAC, PEER_IP, GUEST_MAC, GUEST_IP));
const PING = buildEthernet(PEER_MAC, GUEST_MAC, ETHERTYPE_IPV4,
  buildIpv4({ src: GUEST_IP, dst: PEER_IP, protocol: IPPROTO_ICMP, payload: buildIcmpEcho(8, 1, 3, new Uint8Array(56)) }));
const PONG = buildEthernet(GUEST_MAC, PEER_MAC, ETHERTYPE_IPV4,
  buildIpv4({ src: PEER_IP, dst: GUEST_IP, protocol: IPPROTO_ICMP, payload: buildIcmpEcho(0, 1, 3, new Uint8Array(56)) }));
const UDP = buildEthernet(PEER_MAC, GUEST_MAC, ETHERTYPE_IPV4,
  buildIpv4({ src: GUEST_IP, dst: PEER_IP, protocol: IPPROTO_UDP, payload: buildUdp(GUEST_IP, PEER_IP, 40000, 7, new Uint8Array(32)) }));
const FRAMES: [number, boolean, Uint8Array][] = [
  [10 * US, true, WHO_HAS], [110 * US, false, IS_AT], [200 * US, true, PING], [300 * US, false, PONG], [400 * US, true, UDP],
];

const header = () => makeHeader({ devices: [{ index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' }, { index: NIC, id: 'net0', type: 'nic', bdf: '00:06.0' }] });
function record(f: (t: Tracer) => void, opts = {}): Buffer {
  const rec = TraceRecorder.toBuffer(header(), opts);
  f(rec);
  return rec.close().buffer!;
}
const emitFrames = (t: Tracer): void => {
  for (const [time, tx, data] of FRAMES) t.eth(time, NIC, tx, 0, data, 0, data.length);
};

describe('eth records in traces', () => {
  it.each(['columns', 'records'] as const)('round trip (%s): time, device, direction, port and bytes (short frames inline, long ones as blobs)', (layout) => {
    const buf = record((t) => {
      t.mmio(true, 1, 0, 0, 0, 0x14, 4, 1);
      emitFrames(t);
      t.eth(500 * US, NIC, true, 2, WHO_HAS, 0, 14); // 14 bytes: stored inline
    }, { layout });
    const r = openTrace(buf);
    expect(r.header.formatVersion).toBe(layout === 'records' ? ETH_FORMAT_VERSION : COLUMN_FORMAT_VERSION);
    const evs = [...r.events({ kinds: ['eth'] })];
    expect(evs.map((e) => e.kind === 'eth' && [e.time, e.dev, e.tx, e.port, Buffer.from(e.data).toString('hex')])).toEqual([
      ...FRAMES.map(([time, tx, d]) => [time, NIC, tx, 0, Buffer.from(d).toString('hex')]),
      [500 * US, NIC, true, 2, Buffer.from(WHO_HAS.subarray(0, 14)).toString('hex')],
    ]);
    expect(r.damage).toEqual([]);
    expect([...r.events({ devs: [NIC] })]).toHaveLength(6);
  });

  it('in the record layout, a trace without eth records keeps format version 3 and the same bytes as before', () => {
    const a = record((t) => t.mmio(true, 1, 0, 0, 0, 0x14, 4, 1), { layout: 'records' });
    expect(a.readUInt32LE(8)).toBe(FORMAT_VERSION);
    expect(FORMAT_VERSION).toBe(3);
    expect(openTrace(a).header.formatVersion).toBe(3);
  });

  it('in the record layout, the first eth record turns the header into version 4 (same length), in memory and in a file, also after earlier chunks', () => {
    const v3 = record((t) => t.mmio(true, 1, 0, 0, 0, 0x14, 4, 1), { layout: 'records' });
    const v4 = record((t) => { t.mmio(true, 1, 0, 0, 0, 0x14, 4, 1); t.eth(2, NIC, true, 0, PING, 0, PING.length); }, { layout: 'records' });
    expect(v4.readUInt32LE(8)).toBe(4);
    expect(v4.readUInt32LE(12)).toBe(v3.readUInt32LE(12));
    const p = path.join(dir, 'late.simtrace');
    const rec = TraceRecorder.create(p, header(), { chunkBytes: 64, layout: 'records' });
    for (let i = 0; i < 50; i++) rec.mmio(true, i, 0, 0, 0, 0x14, 4, i);
    rec.eth(100, NIC, false, 0, PONG, 0, PONG.length);
    rec.mmio(false, 101, 0, 0, 0, 0x14, 4, 0);
    rec.close();
    const r = openTrace(p);
    expect(r.header.formatVersion).toBe(4);
    expect([...r.events()]).toHaveLength(52);
    expect(r.damage).toEqual([]);
  });

  it('an eth record in a version 3 chunk is damage, not an event', () => {
    const v4 = record(emitFrames, { layout: 'records' });
    // Relabel the file as version 3 (preamble and header, with its CRC) and read it.
    const relabelled = Buffer.from(v4);
    relabelled.writeUInt32LE(3, 8);
    const rec = TraceRecorder.toBuffer(header(), { layout: 'records' });
    const v3head = rec.close().buffer!;
    v3head.copy(relabelled, 0, 0, v3head.readUInt32LE(12) + 20);
    const r = openTrace(relabelled);
    expect(r.header.formatVersion).toBe(3);
    expect([...r.events()]).toHaveLength(0);
    expect(r.damage.length).toBeGreaterThan(0);
  });
});

describe('inspect and compare', () => {
  it('one-line summaries of ARP, ICMP and UDP frames', () => {
    expect(describeEthFrame(WHO_HAS)).toBe('ARP who-has 10.0.2.2 tell 10.0.2.15');
    expect(describeEthFrame(IS_AT)).toBe('ARP reply 10.0.2.2 is-at 52:54:00:12:35:02');
    expect(describeEthFrame(PING)).toBe('ICMP echo request id 1 seq 3 len 56');
    expect(describeEthFrame(PONG)).toBe('ICMP echo reply id 1 seq 3 len 56');
    expect(describeEthFrame(UDP)).toBe('UDP 10.0.2.15:40000 -> 10.0.2.2:7 len 32');
    expect(describeEthFrame(new Uint8Array(5))).toBe('runt (5 bytes)');
    expect(describeEthFrame(PING.subarray(0, 30))).toMatch(/^IPv4 \(malformed/);
  });

  it('inspect --kind eth shows a line per frame with device, direction, addresses and summary', () => {
    const buf = record((t) => { t.mmio(true, 1, 0, 0, 0, 0x14, 4, 1); emitFrames(t); });
    const lines: string[] = [];
    const r = runInspect({ path: buf, decoders: new Map(), kind: 'eth', out: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/net0\s+eth\.tx\s+60 B 52:54:00:12:34:56 > ff:ff:ff:ff:ff:ff ARP who-has 10\.0\.2\.2 tell 10\.0\.2\.15$/);
    expect(lines[3]).toMatch(/eth\.rx\s+98 B 52:54:00:12:35:02 > 52:54:00:12:34:56 ICMP echo reply id 1 seq 3 len 56$/);
    expect(lines[4]).toContain('UDP 10.0.2.15:40000 -> 10.0.2.2:7 len 32');
    const json: string[] = [];
    runInspect({ path: buf, decoders: new Map(), kind: 'eth', json: true, limit: 1, out: (l) => json.push(l) });
    expect(JSON.parse(json[0]!)).toMatchObject({ kind: 'eth', device: 'net0', tx: true, port: 0, length: 60, protocol: 'arp', summary: 'ARP who-has 10.0.2.2 tell 10.0.2.15' });
    const ev = [...openTrace(buf).events({ kinds: ['eth'] })][2]!;
    expect(formatEvent(ev, openTrace(buf).header, new Map())).toContain('ICMP echo request id 1 seq 3');
  });

  it('compare: identical frames are identical; a changed frame is a functional divergence naming the frame', () => {
    const a = record(emitFrames);
    const same = compareStreams(openTrace(a).events(), openTrace(record(emitFrames)).events());
    expect(same.identical).toBe(true);
    const changed = record((t) => {
      for (const [time, tx, data] of FRAMES) {
        const d = data === PING ? buildEthernet(PEER_MAC, GUEST_MAC, ETHERTYPE_IPV4,
          buildIpv4({ src: GUEST_IP, dst: PEER_IP, protocol: IPPROTO_ICMP, payload: buildIcmpEcho(8, 1, 4, new Uint8Array(56)) })) : data;
        t.eth(time, NIC, tx, 0, d, 0, d.length);
      }
    });
    const diff = compareStreams(openTrace(a).events(), openTrace(changed).events());
    expect(diff.identical).toBe(false);
    expect(diff.divergences[0]!.expected?.kind).toBe('eth');
    expect(diff.divergences[0]!.expected?.seq).toBe(2);
  });
});

describe('pcap export of Ethernet frames', () => {
  it('link type 1; each packet is the record header and the frame as recorded', () => {
    const pcap = Buffer.from(pcapEthernetFile([{ time: 1_500_000_250_123, data: WHO_HAS }]));
    expect(pcap.readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(pcap.readUInt32LE(20)).toBe(LINKTYPE_ETHERNET);
    expect(pcap.readUInt32LE(24)).toBe(1); // 1 s
    expect(pcap.readUInt32LE(28)).toBe(500_000_250); // ns
    expect(pcap.readUInt32LE(32)).toBe(60);
    expect(pcap.readUInt32LE(36)).toBe(60);
    expect(pcap.subarray(40).equals(Buffer.from(WHO_HAS))).toBe(true);
  });

  it('export picks Ethernet for a version 4 trace, 802.11 when asked, and notes the other kind', () => {
    const p = path.join(dir, 'eth.simtrace');
    fs.writeFileSync(p, record((t) => {
      emitFrames(t);
      t.air(500 * US, 0, true, 6, 15, 2, new Uint8Array(24), 0, 24);
    }));
    const errs: string[] = [];
    const r = runExportPcap({ trace: p, err: (l) => errs.push(l) });
    expect(r).toMatchObject({ exitCode: 0, frames: 5, kind: 'eth', otherFrames: 1 });
    expect(errs.join('\n')).toContain('also holds 1 802.11 frames (air records), not written: --frames air writes them');
    const out = fs.readFileSync(r.out!);
    expect(out.readUInt32LE(20)).toBe(1);
    const air = runExportPcap({ trace: p, out: path.join(dir, 'air.pcap'), frames: 'air', err: () => {} });
    expect(air).toMatchObject({ frames: 1, kind: 'air', otherFrames: 5 });
    expect(fs.readFileSync(air.out!).readUInt32LE(20)).toBe(127);
  });

  const tshark = spawnSync('which', ['tshark'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!tshark)('tshark decodes ARP, ICMP and UDP of a simulated exchange, with nothing malformed', () => {
    // A real exchange through the link and the peer host, recorded.
    const rec = TraceRecorder.create(path.join(dir, 'net.simtrace'), header());
    const { q, net } = netHarness({}, 1, rec, NIC);
    net.port.transmit(WHO_HAS);
    runAll(q);
    q.runUntil(1000 * US);
    net.port.transmit(PING);
    net.port.transmit(UDP);
    runAll(q);
    rec.close();
    const r = runExportPcap({ trace: path.join(dir, 'net.simtrace'), err: () => {} });
    expect(r.frames).toBe(6);
    const fields = ['eth.src', 'eth.dst', 'arp.opcode', 'arp.dst.proto_ipv4', 'icmp.type', 'icmp.seq', 'icmp.checksum.status', 'ip.checksum.status', 'udp.srcport', 'udp.dstport', 'udp.checksum.status'];
    const t = spawnSync('tshark', ['-r', r.out!, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=|',
      ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    const rows = t.stdout.trim().split('\n').map((l) => l.split('|'));
    expect(rows).toHaveLength(6);
    // who-has, is-at
    expect(rows[0]!.slice(0, 4)).toEqual(['52:54:00:12:34:56', 'ff:ff:ff:ff:ff:ff', '1', '10.0.2.2']);
    expect(rows[1]!.slice(0, 3)).toEqual(['52:54:00:12:35:02', '52:54:00:12:34:56', '2']);
    // The ping and the datagram leave back to back; the answers come back in the same order.
    // Checksum status 1 = good (tshark's PROTO_CHECKSUM_E_GOOD).
    expect([rows[2]![4], rows[2]![5], rows[2]![6], rows[2]![7]]).toEqual(['8', '3', '1', '1']);
    expect(rows[3]!.slice(7, 11)).toEqual(['1', '40000', '7', '1']);
    expect([rows[4]![0], rows[4]![4], rows[4]![5], rows[4]![6], rows[4]![7]]).toEqual(['52:54:00:12:35:02', '0', '3', '1', '1']);
    expect(rows[5]!.slice(7, 11)).toEqual(['1', '7', '40000', '1']);
    const malformed = spawnSync('tshark', ['-r', r.out!, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'], { encoding: 'utf8' });
    expect(malformed.stdout.trim()).toBe('');
  });
});

