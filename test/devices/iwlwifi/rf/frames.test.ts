import { describe, expect, it } from 'vitest';
import {
  AKM_PSK, AKM_SAE, ARP_REQUEST, BROADCAST, CAP_ESS, CAP_PRIVACY, ETHERTYPE_ARP, FTYPE_DATA, ICMP_ECHO_REQUEST, IE, MGMT,
  airtimeUs, buildArp, buildAssocRequest, buildAssocResponse, buildAuth, buildBeacon, buildDeauth, buildDisassoc, buildIcmpEcho,
  buildPing, buildProbeRequest, buildProbeResponse, buildToDsData, findIe, formatIpv4, formatMac, ieBytes,
  internetChecksum, mgmtChannel, mgmtRates, mgmtSsid, parseArp, parseData, parseHeader, parseIcmpEcho, parseIes, parseIpv4,
  parseIpv4Packet, parseMac, parseMgmt, parseRsn, rsnIeData, ssidBytes,
} from '../../../../src/devices/iwlwifi/rf/index.js';
import { channelFreq } from '../../../../src/trace/air.js';

const STA = parseMac('02:11:22:33:44:55')!;
const AP = parseMac('02:00:5e:10:00:01')!;

describe('addresses', () => {
  it('parse and format MACs', () => {
    expect(formatMac(parseMac('02:AB:cd:00:01:ff')!)).toBe('02:ab:cd:00:01:ff');
    expect(parseMac('02:ab:cd:00:01')).toBeUndefined();
    expect(parseMac('02-ab-cd-00-01-ff')).toBeUndefined();
  });
  it('channel frequencies', () => {
    expect(channelFreq(1)).toBe(2412);
    expect(channelFreq(6)).toBe(2437);
    expect(channelFreq(14)).toBe(2484);
    expect(channelFreq(36)).toBe(5180);
    expect(channelFreq(165)).toBe(5825);
  });
  it('airtime: DSSS long preamble and OFDM symbols', () => {
    expect(airtimeUs(10, 2)).toBe(192 + 14 * 8); // 14 bytes incl. FCS at 1 Mb/s
    expect(airtimeUs(10, 12)).toBe(20 + 4 * Math.ceil((16 + 112 + 6) / 24));
  });
});

describe('management frames', () => {
  const bss = { bssid: AP, ssid: ssidBytes('simnet'), channel: 6, beaconIntervalTu: 100, capability: CAP_ESS | CAP_PRIVACY, rsn: rsnIeData(AKM_PSK) };

  it('beacon round trip: header, fixed fields, SSID, rates, DS, TIM, ext rates, RSN', () => {
    const f = buildBeacon(bss, 2 ** 40 + 12345, 77);
    const m = parseMgmt(f)!;
    expect(m).toMatchObject({ type: 0, subtype: MGMT.BEACON, addr1: 'ff:ff:ff:ff:ff:ff', addr2: '02:00:5e:10:00:01', addr3: '02:00:5e:10:00:01', seq: 77, frag: 0 });
    expect(m.timestamp).toBe(2 ** 40 + 12345);
    expect(m.beaconIntervalTu).toBe(100);
    expect(m.capability).toBe(CAP_ESS | CAP_PRIVACY);
    expect(m.ies!.map((e) => e.id)).toEqual([IE.SSID, IE.RATES, IE.DS_PARAMS, IE.TIM, IE.EXT_RATES, IE.RSN]);
    expect(mgmtSsid(f, m)).toBe('simnet');
    expect(mgmtChannel(f, m)).toBe(6);
    expect(mgmtRates(f, m).map((r) => r & 0x7f)).toEqual([2, 4, 11, 22, 12, 18, 24, 36, 48, 72, 96, 108]);
    expect(parseRsn(ieBytes(f, findIe(m.ies!, IE.RSN)!))).toEqual({ version: 1, groupCipher: 4, pairwise: [4], akms: [AKM_PSK] });
  });

  it('5 GHz BSS: OFDM rates only, no extended rates', () => {
    const f = buildProbeResponse(STA, { ...bss, channel: 36, rsn: undefined }, 5, 1);
    const m = parseMgmt(f)!;
    expect(m.subtype).toBe(MGMT.PROBE_RESP);
    expect(m.addr1).toBe('02:11:22:33:44:55');
    expect(mgmtRates(f, m).map((r) => r & 0x7f)).toEqual([12, 18, 24, 36, 48, 72, 96, 108]);
    expect(findIe(m.ies!, IE.EXT_RATES)).toBeUndefined();
    expect(findIe(m.ies!, IE.TIM)).toBeUndefined();
  });

  it('probe request: wildcard and directed', () => {
    const w = parseMgmt(buildProbeRequest(STA, null, 6, 3))!;
    expect(w).toMatchObject({ subtype: MGMT.PROBE_REQ, addr1: 'ff:ff:ff:ff:ff:ff', addr2: '02:11:22:33:44:55', addr3: 'ff:ff:ff:ff:ff:ff', seq: 3 });
    expect(findIe(w.ies!, IE.SSID)!.len).toBe(0);
    const f = buildProbeRequest(STA, 'simnet-hidden', 11);
    expect(mgmtSsid(f, parseMgmt(f)!)).toBe('simnet-hidden');
    expect(mgmtChannel(f, parseMgmt(f)!)).toBe(11);
  });

  it('auth, assoc request/response, deauth, disassoc', () => {
    expect(parseMgmt(buildAuth(AP, STA, AP, 0, 1, 0, 9))).toMatchObject({ subtype: MGMT.AUTH, authAlgorithm: 0, authTransaction: 1, status: 0, seq: 9, ies: [] });
    const req = buildAssocRequest(STA, AP, { ssid: 'simnet', channel: 6, rsn: rsnIeData(AKM_SAE) });
    const rm = parseMgmt(req)!;
    expect(rm).toMatchObject({ subtype: MGMT.ASSOC_REQ, capability: CAP_ESS, listenInterval: 10 });
    expect(mgmtSsid(req, rm)).toBe('simnet');
    expect(parseRsn(ieBytes(req, findIe(rm.ies!, IE.RSN)!))!.akms).toEqual([AKM_SAE]);
    const re = parseMgmt(buildAssocRequest(STA, AP, { ssid: 'simnet', channel: 6, currentAp: AP }))!;
    expect(re.subtype).toBe(MGMT.REASSOC_REQ);
    expect(mgmtSsid(buildAssocRequest(STA, AP, { ssid: 'simnet', channel: 6, currentAp: AP }), re)).toBe('simnet');
    expect(parseMgmt(buildAssocResponse(STA, AP, 6, CAP_ESS, 0, 3))).toMatchObject({ subtype: MGMT.ASSOC_RESP, status: 0, aid: 3 });
    expect(parseMgmt(buildDeauth(STA, AP, AP, 7))).toMatchObject({ subtype: MGMT.DEAUTH, reason: 7 });
    expect(parseMgmt(buildDisassoc(AP, STA, AP, 8))).toMatchObject({ subtype: MGMT.DISASSOC, reason: 8 });
  });

  it('malformed input: short frames and broken element lists', () => {
    expect(parseHeader(new Uint8Array(23))).toBeUndefined();
    expect(parseMgmt(buildAuth(AP, STA, AP, 0, 1, 0).subarray(0, 28))).toBeUndefined();
    const f = buildProbeRequest(STA, 'abc', 6);
    const broken = f.slice(0, f.length - 1);
    expect(parseMgmt(broken)!.ies).toBeUndefined();
    expect(parseIes(new Uint8Array([0, 5, 1]), 0)).toBeUndefined();
    expect(parseRsn(new Uint8Array([2, 0]))).toBeUndefined();
    expect(parseRsn(new Uint8Array([1, 0, 0, 0x0f, 0xac, 4, 5, 0]))).toBeUndefined();
  });
});

describe('data frames and payloads', () => {
  it('ToDS data with LLC/SNAP round trip', () => {
    const arp = buildArp(ARP_REQUEST, STA, parseIpv4('192.168.50.7')!, new Uint8Array(6), parseIpv4('192.168.50.1')!);
    const f = buildToDsData(AP, STA, BROADCAST, ETHERTYPE_ARP, arp, 5);
    const d = parseData(f)!;
    expect(d).toMatchObject({ type: FTYPE_DATA, subtype: 0, toDs: true, fromDs: false, addr1: '02:00:5e:10:00:01', addr2: '02:11:22:33:44:55', addr3: 'ff:ff:ff:ff:ff:ff', seq: 5, ethertype: ETHERTYPE_ARP });
    const a = parseArp(d.payload)!;
    expect(a.op).toBe(ARP_REQUEST);
    expect(formatIpv4(a.tpa)).toBe('192.168.50.1');
    expect(formatMac(a.sha)).toBe('02:11:22:33:44:55');
  });

  it('internet checksum: RFC 1071 example and a known IPv4 header', () => {
    expect(internetChecksum(new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
    const hdr = new Uint8Array([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(internetChecksum(hdr)).toBe(0xb861);
    expect(internetChecksum(new Uint8Array([0x12]))).toBe(~0x1200 & 0xffff); // odd length pads with zero
  });

  it('ping packet: IPv4 and ICMP checksums verify', () => {
    const p = buildPing(parseIpv4('10.0.0.2')!, parseIpv4('10.0.0.1')!, 0x1234, 7, new Uint8Array([1, 2, 3]), 99, 32);
    const ip = parseIpv4Packet(p)!;
    expect(ip).toMatchObject({ headerLen: 20, totalLen: 31, id: 99, ttl: 32, protocol: 1, checksumOk: true });
    const icmp = parseIcmpEcho(ip.payload)!;
    expect(icmp).toMatchObject({ type: ICMP_ECHO_REQUEST, code: 0, id: 0x1234, seq: 7, checksumOk: true });
    expect([...icmp.data]).toEqual([1, 2, 3]);
    p[8] = 31; // corrupt TTL
    expect(parseIpv4Packet(p)!.checksumOk).toBe(false);
    const e = buildIcmpEcho(8, 1, 1, new Uint8Array(0));
    e[7] = e[7]! ^ 1;
    expect(parseIcmpEcho(e)!.checksumOk).toBe(false);
  });
});
