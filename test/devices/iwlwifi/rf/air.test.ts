import { describe, expect, it } from 'vitest';
import {
  AKM_PSK, AKM_SAE, ARP_REPLY, ARP_REQUEST, BROADCAST, CAP_PRIVACY, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_REPLY, IE,
  MGMT, REASON, STATUS, airtimeUs, buildArp, buildAssocRequest, buildAuth, buildDeauth, buildDisassoc, buildPing,
  buildProbeRequest, buildToDsData, findIe, formatIpv4, formatMac, ieBytes, internetChecksum, mgmtChannel, mgmtSsid,
  parseArp, parseData, parseIcmpEcho, parseIpv4, parseIpv4Packet, parseMac, parseMgmt, parseRsn, rsnIeData,
  type AirFrame,
} from '../../../../src/devices/iwlwifi/rf/index.js';
import { MS, NEIGHBOUR_WPA3, PS_PER_US, SECURE_WPA2, SIMNET, STA, STA_TEXT, air, home, join, only } from './helpers.js';

const from = (frames: AirFrame[], bssid: string) => frames.filter((f) => parseMgmt(f.data)?.addr2 === bssid);
const STA_IP = parseIpv4('192.168.50.23')!;
const AP_IP = parseIpv4('192.168.50.1')!;

describe('beacons', () => {
  it('every beaconIntervalTu * 1024 us at a fixed seeded phase, TSF timestamp = TBTT in us', () => {
    const frames = air().listen(6, 0, 1000 * MS, null);
    const simnet = from(frames, '02:00:5e:10:00:01');
    expect(simnet.length).toBeGreaterThanOrEqual(9);
    expect(simnet.length).toBeLessThanOrEqual(10);
    const airPs = airtimeUs(simnet[0]!.data.length, 2) * PS_PER_US;
    simnet.forEach((f, i) => {
      const m = parseMgmt(f.data)!;
      expect(m.subtype).toBe(MGMT.BEACON);
      expect(m.timestamp! * PS_PER_US).toBe(f.timePs - airPs);
      if (i > 0) expect(f.timePs - simnet[i - 1]!.timePs).toBe(102_400 * PS_PER_US);
      if (i > 0) expect(m.seq).toBe(parseMgmt(simnet[i - 1]!.data)!.seq + 1);
    });
    expect(simnet[0]!.timePs).toBeLessThan(102_400 * PS_PER_US + airPs);
    // Both channel-6 APs, sorted, nothing from other channels.
    expect(from(frames, '02:00:5e:10:00:02').length).toBeGreaterThanOrEqual(9);
    expect(frames.length).toBe(from(frames, '02:00:5e:10:00:01').length + from(frames, '02:00:5e:10:00:02').length);
    for (let i = 1; i < frames.length; i++) expect(frames[i]!.timePs).toBeGreaterThanOrEqual(frames[i - 1]!.timePs);
  });

  it('windows split anywhere give the same beacon times (phase fixed per AP)', () => {
    const whole = air().listen(6, 0, 500 * MS, null).map((f) => f.timePs);
    const a = air();
    const parts = [...a.listen(6, 0, 123 * MS, null), ...a.listen(6, 123 * MS, 321 * MS, null), ...a.listen(6, 321 * MS, 500 * MS, null)];
    expect(parts.map((f) => f.timePs)).toEqual(whole);
    expect(air().listen(6, 5 * MS, 5 * MS, null)).toEqual([]);
  });

  it('content: SSID, rates, DS parameter set, capability, RSN, signal and rate', () => {
    const a = air();
    const open = from(a.listen(6, 0, 200 * MS, null), '02:00:5e:10:00:01')[0]!;
    expect(open).toMatchObject({ channel: 6, signalDbm: -45, rate500k: 2 });
    const m = parseMgmt(open.data)!;
    expect(mgmtSsid(open.data, m)).toBe('simnet');
    expect(mgmtChannel(open.data, m)).toBe(6);
    expect(m.capability! & CAP_PRIVACY).toBe(0);
    expect(findIe(m.ies!, IE.RSN)).toBeUndefined();
    expect(m.beaconIntervalTu).toBe(100);

    const wpa3 = from(a.listen(6, 0, 200 * MS, null), '02:00:5e:10:00:02')[0]!;
    const w3 = parseMgmt(wpa3.data)!;
    expect(w3.capability! & CAP_PRIVACY).toBe(CAP_PRIVACY);
    expect(parseRsn(ieBytes(wpa3.data, findIe(w3.ies!, IE.RSN)!))!.akms).toEqual([AKM_SAE]);
    const wpa2 = only(a.listen(1, 0, 102 * MS, null));
    const w2 = parseMgmt(wpa2.data)!;
    expect(parseRsn(ieBytes(wpa2.data, findIe(w2.ies!, IE.RSN)!))!.akms).toEqual([AKM_PSK]);

    const fiveG = only(a.listen(36, 0, 102 * MS, null));
    expect(fiveG).toMatchObject({ channel: 36, rate500k: 12, signalDbm: -55 });
    expect(mgmtSsid(fiveG.data, parseMgmt(fiveG.data)!)).toBe('simnet-5g');
    expect(a.listen(44, 0, 1000 * MS, null)).toEqual([]);
  });

  it('a hidden AP beacons an empty SSID every 200 TU', () => {
    const frames = air().listen(11, 0, 1000 * MS, null);
    expect(frames.length).toBeGreaterThanOrEqual(4);
    const m = parseMgmt(frames[0]!.data)!;
    expect(findIe(m.ies!, IE.SSID)!.len).toBe(0);
    expect(frames[1]!.timePs - frames[0]!.timePs).toBe(204_800 * PS_PER_US);
  });
});

describe('probing', () => {
  const probeWindow = (a = air(), ch: number, ssid: string | null, t0 = 1000 * MS, len = 10 * MS) =>
    a.listen(ch, t0, t0 + len, buildProbeRequest(STA, ssid, ch)).filter((f) => parseMgmt(f.data)!.subtype === MGMT.PROBE_RESP);

  it('a wildcard probe gets a response from each visible AP on the channel after its delay', () => {
    const t0 = 1000 * MS;
    const resp = probeWindow(air(), 6, null, t0);
    expect(resp.map((f) => parseMgmt(f.data)!.addr2).sort()).toEqual(['02:00:5e:10:00:01', '02:00:5e:10:00:02']);
    for (const r of resp) {
      const m = parseMgmt(r.data)!;
      expect(m.addr1).toBe(STA_TEXT);
      const delayUs = m.addr2 === '02:00:5e:10:00:01' ? 40 : 60;
      const airPs = airtimeUs(r.data.length, 2) * PS_PER_US;
      expect(r.timePs - airPs).toBeGreaterThanOrEqual(t0 + delayUs * PS_PER_US);
      expect(r.timePs - airPs).toBeLessThanOrEqual(t0 + (delayUs + 4) * PS_PER_US);
      expect(m.timestamp).toBe(Math.floor((r.timePs - airPs) / PS_PER_US));
    }
  });

  it('a directed probe gets only the AP with that SSID', () => {
    const r = only(probeWindow(air(), 6, 'simnet'));
    expect(mgmtSsid(r.data, parseMgmt(r.data)!)).toBe('simnet');
    expect(probeWindow(air(), 6, 'simnet-5g')).toEqual([]);
    expect(probeWindow(air(), 6, 'simne')).toEqual([]);
  });

  it('a hidden AP ignores wildcard probes and answers a probe for its SSID with the SSID', () => {
    expect(probeWindow(air(), 11, null)).toEqual([]);
    const r = only(probeWindow(air(), 11, 'simnet-hidden'));
    expect(mgmtSsid(r.data, parseMgmt(r.data)!)).toBe('simnet-hidden');
  });

  it('responses after the window are not heard; a probe naming another channel is ignored', () => {
    expect(probeWindow(air(), 6, null, 1000 * MS, 30 * PS_PER_US)).toEqual([]);
    const a = air();
    const wrongDs = buildProbeRequest(STA, null, 1);
    expect(a.listen(6, 0, 10 * MS, wrongDs).filter((f) => parseMgmt(f.data)!.subtype === MGMT.PROBE_RESP)).toEqual([]);
  });

  it('transmit: a broadcast probe is not acked but answered; a directed one to a BSSID is acked', () => {
    const a = air();
    const r = a.transmit(6, 0, buildProbeRequest(STA, null, 6));
    expect(r.acked).toBe(false);
    expect(r.replies).toHaveLength(2);
    const d = a.transmit(6, 0, buildProbeRequest(STA, 'simnet', 6, 1, SIMNET));
    expect(d.acked).toBe(true);
    expect(d.replies).toHaveLength(1);
  });
});

describe('authentication and association', () => {
  it('open system auth then association: status 0, AID from 1, station associated', () => {
    const a = air();
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('none');
    const t = 5 * MS;
    const auth = a.transmit(6, t, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0));
    expect(auth.acked).toBe(true);
    const ar = only(auth.replies);
    expect(ar).toMatchObject({ channel: 6, signalDbm: -45, rate500k: 2 });
    expect(ar.timePs).toBeGreaterThanOrEqual(t + 40 * PS_PER_US);
    expect(parseMgmt(ar.data)).toMatchObject({ subtype: MGMT.AUTH, addr1: STA_TEXT, addr2: '02:00:5e:10:00:01', authAlgorithm: 0, authTransaction: 2, status: 0 });
    expect(a.stationState('02:00:5E:10:00:01', STA_TEXT)).toBe('authenticated');

    const assoc = a.transmit(6, t + MS, buildAssocRequest(STA, SIMNET, { ssid: 'simnet', channel: 6 }));
    expect(assoc.acked).toBe(true);
    expect(parseMgmt(only(assoc.replies).data)).toMatchObject({ subtype: MGMT.ASSOC_RESP, addr1: STA_TEXT, status: 0, aid: 1 });
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('associated');

    const other = parseMac('02:11:22:33:44:66')!;
    expect(parseMgmt(join(a, 6, SIMNET, 'simnet', t, other).data)!.aid).toBe(2);
  });

  it('sequence numbers increment per AP across frames', () => {
    const a = air();
    const s1 = parseMgmt(only(a.transmit(6, 0, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0)).replies).data)!.seq;
    const s2 = parseMgmt(only(a.transmit(6, MS, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0)).replies).data)!.seq;
    expect(s2).toBe(s1 + 1);
  });

  it('unsupported algorithm and bad transaction number are refused', () => {
    const a = air();
    expect(parseMgmt(only(a.transmit(6, 0, buildAuth(SIMNET, STA, SIMNET, 3, 1, 0)).replies).data)!.status).toBe(STATUS.UNSUPPORTED_AUTH_ALG);
    expect(parseMgmt(only(a.transmit(6, 0, buildAuth(SIMNET, STA, SIMNET, 0, 3, 0)).replies).data)!.status).toBe(STATUS.AUTH_SEQ_OUT_OF_ORDER);
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('none');
  });

  it('association from a non-authenticated station gets a deauth, reason 6', () => {
    const a = air();
    const r = a.transmit(6, 0, buildAssocRequest(STA, SIMNET, { ssid: 'simnet', channel: 6 }));
    expect(r.acked).toBe(true);
    expect(parseMgmt(only(r.replies).data)).toMatchObject({ subtype: MGMT.DEAUTH, addr1: STA_TEXT, reason: REASON.CLASS2_FROM_NONAUTH });
  });

  it('wrong SSID or no rates in the association request are refused', () => {
    const a = air();
    a.transmit(6, 0, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0));
    const wrong = a.transmit(6, 0, buildAssocRequest(STA, SIMNET, { ssid: 'other', channel: 6 }));
    expect(parseMgmt(only(wrong.replies).data)!.status).toBe(STATUS.UNSPECIFIED);
    const noRates = a.transmit(6, 0, buildAssocRequest(STA, SIMNET, { ssid: 'simnet', channel: 6, noRates: true }));
    expect(parseMgmt(only(noRates.replies).data)!.status).toBe(STATUS.BASIC_RATES_UNSUPPORTED);
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('authenticated');
  });

  it('deauth from the station makes the AP forget it; disassoc leaves it authenticated', () => {
    const a = air();
    join(a, 6, SIMNET, 'simnet');
    expect(a.transmit(6, 2 * MS, buildDisassoc(SIMNET, STA, SIMNET, REASON.DISASSOC_LEAVING)).replies).toEqual([]);
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('authenticated');
    join(a, 6, SIMNET, 'simnet', 3 * MS);
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('associated');
    expect(a.transmit(6, 6 * MS, buildDeauth(SIMNET, STA, SIMNET, REASON.LEAVING)).acked).toBe(true);
    expect(a.stationState('02:00:5e:10:00:01', STA_TEXT)).toBe('none');
  });

  it('frames to an unknown BSSID or another channel are not acked', () => {
    const a = air();
    expect(a.transmit(1, 0, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0))).toEqual({ acked: false, replies: [] });
    const nobody = parseMac('02:99:99:99:99:99')!;
    expect(a.transmit(6, 0, buildAuth(nobody, STA, nobody, 0, 1, 0))).toEqual({ acked: false, replies: [] });
    expect(a.transmit(6, 0, buildToDsData(BROADCAST, STA, BROADCAST, ETHERTYPE_ARP, new Uint8Array(28))).acked).toBe(false);
  });
});

describe('secured APs', () => {
  it('WPA2-PSK: open auth succeeds, association without RSN is refused with status 43 (invalid AKMP)', () => {
    const a = air();
    const auth = only(a.transmit(1, 0, buildAuth(SECURE_WPA2, STA, SECURE_WPA2, 0, 1, 0)).replies);
    expect(parseMgmt(auth.data)!.status).toBe(0);
    const r = only(a.transmit(1, MS, buildAssocRequest(STA, SECURE_WPA2, { ssid: 'simnet-secure', channel: 1 })).replies);
    expect(parseMgmt(r.data)).toMatchObject({ subtype: MGMT.ASSOC_RESP, status: STATUS.INVALID_AKMP, aid: 0 });
    expect(a.stationState('02:00:5e:10:00:03', STA_TEXT)).toBe('authenticated');
  });

  it('WPA2-PSK: with a PSK RSN element association succeeds, but unprotected data is dropped', () => {
    const a = air();
    a.transmit(1, 0, buildAuth(SECURE_WPA2, STA, SECURE_WPA2, 0, 1, 0));
    const r = only(a.transmit(1, MS, buildAssocRequest(STA, SECURE_WPA2, { ssid: 'simnet-secure', channel: 1, rsn: rsnIeData(AKM_PSK) })).replies);
    expect(parseMgmt(r.data)!.status).toBe(0);
    const arp = buildArp(ARP_REQUEST, STA, STA_IP, new Uint8Array(6), parseIpv4('192.168.60.1')!);
    const d = a.transmit(1, 2 * MS, buildToDsData(SECURE_WPA2, STA, BROADCAST, ETHERTYPE_ARP, arp));
    expect(d).toEqual({ acked: true, replies: [] });
    expect(a.summary().find((s) => s.bssid === '02:00:5e:10:00:03')!.counters.dropped).toBe(1);
  });

  it('WPA3-SAE: refused (43) with or without an SAE RSN element, since SAE is not simulated', () => {
    const a = air();
    a.transmit(6, 0, buildAuth(NEIGHBOUR_WPA3, STA, NEIGHBOUR_WPA3, 0, 1, 0));
    for (const rsn of [undefined, rsnIeData(AKM_SAE)]) {
      const r = only(a.transmit(6, MS, buildAssocRequest(STA, NEIGHBOUR_WPA3, { ssid: 'neighbour-wpa3', channel: 6, ...(rsn ? { rsn } : {}) })).replies);
      expect(parseMgmt(r.data)!.status).toBe(STATUS.INVALID_AKMP);
    }
  });
});

describe('data', () => {
  it('ARP request for the AP address gets a FromDS ARP reply from the BSSID', () => {
    const a = air();
    join(a, 6, SIMNET, 'simnet');
    const req = buildArp(ARP_REQUEST, STA, STA_IP, new Uint8Array(6), AP_IP);
    const t = 10 * MS;
    const r = a.transmit(6, t, buildToDsData(SIMNET, STA, BROADCAST, ETHERTYPE_ARP, req));
    expect(r.acked).toBe(true);
    const f = only(r.replies);
    expect(f).toMatchObject({ rate500k: 108, signalDbm: -45, channel: 6 });
    expect(f.timePs).toBeGreaterThanOrEqual(t + 40 * PS_PER_US);
    const d = parseData(f.data)!;
    expect(d).toMatchObject({ toDs: false, fromDs: true, addr1: STA_TEXT, addr2: '02:00:5e:10:00:01', addr3: '02:00:5e:10:00:01', ethertype: ETHERTYPE_ARP });
    const arp = parseArp(d.payload)!;
    expect(arp.op).toBe(ARP_REPLY);
    expect(formatMac(arp.sha)).toBe('02:00:5e:10:00:01');
    expect(formatIpv4(arp.spa)).toBe('192.168.50.1');
    expect(formatMac(arp.tha)).toBe(STA_TEXT);
    expect(formatIpv4(arp.tpa)).toBe('192.168.50.23');
  });

  it('ICMP echo request to the AP gets an echo reply with the same id, seq and data and valid checksums', () => {
    const a = air();
    join(a, 6, SIMNET, 'simnet');
    const data = new Uint8Array(56).map((_, i) => i * 7);
    const ping = buildPing(STA_IP, AP_IP, 0xbeef, 3, data, 17, 128);
    const f = only(a.transmit(6, 10 * MS, buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_IPV4, ping)).replies);
    const d = parseData(f.data)!;
    expect(d).toMatchObject({ fromDs: true, addr1: STA_TEXT, addr2: '02:00:5e:10:00:01', addr3: '02:00:5e:10:00:01', ethertype: ETHERTYPE_IPV4 });
    const ip = parseIpv4Packet(d.payload)!;
    expect(ip).toMatchObject({ ttl: 64, protocol: 1, checksumOk: true, totalLen: 20 + 8 + 56 });
    expect(internetChecksum(d.payload, 0, 20)).toBe(0);
    expect(formatIpv4(ip.src)).toBe('192.168.50.1');
    expect(formatIpv4(ip.dst)).toBe('192.168.50.23');
    const icmp = parseIcmpEcho(ip.payload)!;
    expect(icmp).toMatchObject({ type: ICMP_ECHO_REPLY, code: 0, id: 0xbeef, seq: 3, checksumOk: true });
    expect(internetChecksum(ip.payload)).toBe(0);
    expect([...icmp.data]).toEqual([...data]);
  });

  it('anything else is dropped silently and counted', () => {
    const a = air();
    join(a, 6, SIMNET, 'simnet');
    const otherIp = parseIpv4('192.168.50.99')!;
    const frames = [
      buildToDsData(SIMNET, STA, BROADCAST, ETHERTYPE_ARP, buildArp(ARP_REQUEST, STA, STA_IP, new Uint8Array(6), otherIp)),
      buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_IPV4, buildPing(STA_IP, otherIp, 1, 1, new Uint8Array(4))),
      buildToDsData(SIMNET, STA, SIMNET, 0x86dd, new Uint8Array(40)),
    ];
    const bad = buildPing(STA_IP, AP_IP, 1, 1, new Uint8Array(4));
    bad[10] = bad[10]! ^ 0xff; // broken header checksum
    frames.push(buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_IPV4, bad));
    for (const f of frames) expect(a.transmit(6, 20 * MS, f)).toEqual({ acked: true, replies: [] });
    expect(a.summary()[0]!.counters.dropped).toBe(4);
  });

  it('data from a station that is not associated gets a deauth, reason 7', () => {
    const a = air();
    const arp = buildArp(ARP_REQUEST, STA, STA_IP, new Uint8Array(6), AP_IP);
    for (const pre of [false, true]) {
      if (pre) a.transmit(6, 0, buildAuth(SIMNET, STA, SIMNET, 0, 1, 0));
      const r = a.transmit(6, MS, buildToDsData(SIMNET, STA, BROADCAST, ETHERTYPE_ARP, arp));
      expect(r.acked).toBe(true);
      expect(parseMgmt(only(r.replies).data)).toMatchObject({ subtype: MGMT.DEAUTH, addr1: STA_TEXT, addr2: '02:00:5e:10:00:01', reason: REASON.CLASS3_FROM_NONASSOC });
    }
  });

  it('the 5 GHz AP answers ping too, with management frames at 6 Mb/s', () => {
    const a = air();
    const bssid = parseMac('02:00:5e:10:00:04')!;
    const resp = join(a, 36, bssid, 'simnet-5g');
    expect(resp.rate500k).toBe(12);
    expect(parseMgmt(resp.data)!.status).toBe(0);
    const ip = parseIpv4('192.168.51.1')!;
    const f = only(a.transmit(36, 10 * MS, buildToDsData(bssid, STA, bssid, ETHERTYPE_IPV4, buildPing(STA_IP, ip, 1, 1, new Uint8Array(8)))).replies);
    expect(parseIcmpEcho(parseIpv4Packet(parseData(f.data)!.payload)!.payload)!.type).toBe(ICMP_ECHO_REPLY);
  });
});

describe('determinism', () => {
  const session = (seed: number) => {
    const a = air(seed);
    const out: AirFrame[] = [];
    out.push(...a.listen(6, 0, 300 * MS, buildProbeRequest(STA, null, 6)));
    out.push(...a.listen(11, 300 * MS, 600 * MS, buildProbeRequest(STA, 'simnet-hidden', 11)));
    out.push(join(a, 6, SIMNET, 'simnet', 700 * MS));
    out.push(...a.transmit(6, 800 * MS, buildToDsData(SIMNET, STA, SIMNET, ETHERTYPE_IPV4, buildPing(STA_IP, AP_IP, 1, 1, new Uint8Array(8)))).replies);
    return out;
  };
  it('same seed gives the same frames at the same times', () => {
    expect(session(7)).toEqual(session(7));
  });
  it('another seed moves the TBTTs', () => {
    expect(session(7).map((f) => f.timePs)).not.toEqual(session(8).map((f) => f.timePs));
  });
  it('an AP keeps its timing when another AP is added to the environment', () => {
    const small = { ...home, aps: home.aps.filter((ap) => ap.ssid === 'simnet') };
    const inSmall = air(5, small).listen(6, 0, 500 * MS, null).map((f) => f.timePs);
    const inHome = from(air(5).listen(6, 0, 500 * MS, null), '02:00:5e:10:00:01').map((f) => f.timePs);
    expect(inSmall).toEqual(inHome);
  });
});
