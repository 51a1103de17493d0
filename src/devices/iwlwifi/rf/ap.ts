/**
 * One simulated access point: its beacons, its answers to probes, and the
 * station state machine (none -> authenticated -> associated) with the
 * ARP/ICMP responder behind it. Behaviour is documented in docs/RF.md.
 *
 * Everything here is a pure function of the config, the frames received, the
 * times they are given and the AP's own random stream, so the same calls give
 * the same frames.
 */
import type { Rng } from '../../../sim/rng.js';
import {
  AKM_PSK, AKM_SAE, AUTH_OPEN, CAP_ESS, CAP_PRIVACY, CAP_SHORT_PREAMBLE, CAP_SHORT_SLOT, DATA, FTYPE_DATA, FTYPE_MGMT, IE,
  MGMT, REASON, STATUS, airtimeUs, buildAssocResponse, buildAuth, buildBeacon, buildDeauth, buildFromDsData,
  buildProbeResponse, decodeSsid, findIe, ieBytes, is5GHz, isGroupAddr, macEquals, mgmtChannel, parseData, parseHeader,
  parseMgmt, parseRsn, rsnIeData, ssidBytes, writeSeq, writeTimestamp, type BssDesc, type MgmtFrame,
} from './frames.js';
import {
  ARP_REPLY, ARP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, ICMP_ECHO_REPLY, ICMP_ECHO_REQUEST, IPPROTO_ICMP, buildArp,
  buildIcmpEcho, buildIpv4, ipEquals, isFragment, parseArp, parseIcmpEcho, parseIpv4Packet,
} from './net.js';
import type { AirFrame, ApConfig } from './types.js';

export type StationState = 'none' | 'authenticated' | 'associated';

export interface StationEntry {
  state: StationState;
  /** Association ID while associated, else 0. */
  aid: number;
}

/** Why frames were dropped without an answer (counted per AP). */
export interface ApCounters {
  /** Frames addressed to this AP (or group-addressed probe requests it looked at). */
  rx: number;
  /** Frames this AP put on the air (beacons included). */
  tx: number;
  beacons: number;
  /** Frames received that got no answer and changed nothing. */
  dropped: number;
}

const PS_PER_US = 1_000_000;
/** Maximum extra response delay, ns (the seeded jitter is 0..this in whole ns). */
export const JITTER_MAX_NS = 4_000;
/** Rate of an AP's data frames, 500 kb/s units (54 Mb/s). */
export const DATA_RATE_500K = 108;

export class AccessPoint {
  readonly cfg: ApConfig;
  readonly mgmtRate500k: number;
  /** Time of the first TBTT, ps (seeded, fixed for the AP's life); later TBTTs follow every interval. */
  readonly tbttPhasePs: number;
  readonly intervalPs: number;
  readonly counters: ApCounters = { rx: 0, tx: 0, beacons: 0, dropped: 0 };
  private readonly jitter: Rng;
  private readonly capability: number;
  /** BSS description for beacons (empty SSID if hidden) and for probe responses (real SSID). */
  private readonly beaconBss: BssDesc;
  private readonly probeBss: BssDesc;
  private readonly beaconTemplate: Uint8Array;
  private readonly beaconAirPs: number;
  private readonly ssid: Uint8Array;
  private readonly stations = new Map<string, StationEntry>();
  private seq = 0;
  private ipId = 0;

  constructor(cfg: ApConfig, rng: Rng) {
    this.cfg = cfg;
    const fiveG = is5GHz(cfg.channel);
    this.mgmtRate500k = fiveG ? 12 : 2;
    this.intervalPs = cfg.beaconIntervalTu * 1024 * PS_PER_US;
    this.tbttPhasePs = rng.fork('tbtt').int(0, cfg.beaconIntervalTu * 1024 - 1) * PS_PER_US;
    this.jitter = rng.fork('jitter');
    this.capability = CAP_ESS | (cfg.security !== 'open' ? CAP_PRIVACY : 0)
      | (fiveG ? 0 : CAP_SHORT_PREAMBLE) | CAP_SHORT_SLOT;
    this.ssid = ssidBytes(cfg.ssid);
    const rsn = cfg.security === 'wpa2-psk' ? rsnIeData(AKM_PSK) : cfg.security === 'wpa3-sae' ? rsnIeData(AKM_SAE) : undefined;
    const base = { bssid: cfg.bssidBytes, channel: cfg.channel, beaconIntervalTu: cfg.beaconIntervalTu, capability: this.capability, rsn };
    this.probeBss = { ...base, ssid: this.ssid };
    this.beaconBss = { ...base, ssid: cfg.hidden ? new Uint8Array(0) : this.ssid };
    this.beaconTemplate = buildBeacon(this.beaconBss, 0, 0);
    this.beaconAirPs = airtimeUs(this.beaconTemplate.length, this.mgmtRate500k) * PS_PER_US;
  }

  get bssid(): string { return this.cfg.bssid; }

  stationState(sta: string): StationState {
    return this.stations.get(sta.toLowerCase())?.state ?? 'none';
  }

  /** Stations with their state, sorted by address. */
  stationList(): { sta: string; state: StationState; aid: number }[] {
    return [...this.stations.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([sta, e]) => ({ sta, ...e }));
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) & 0xfff;
    this.counters.tx++;
    return s;
  }

  private frame(data: Uint8Array, endPs: number, rate500k: number): AirFrame {
    return { timePs: endPs, channel: this.cfg.channel, signalDbm: this.cfg.signalDbm, rate500k, data };
  }

  /** Beacons whose transmission ends in [fromPs, toPs), appended to `out`. Timestamp = TSF (us since power on) at the TBTT. */
  beacons(fromPs: number, toPs: number, out: AirFrame[]): void {
    const first = Math.max(0, Math.ceil((fromPs - this.beaconAirPs - this.tbttPhasePs) / this.intervalPs));
    for (let k = first; ; k++) {
      const tbtt = this.tbttPhasePs + k * this.intervalPs;
      const end = tbtt + this.beaconAirPs;
      if (end >= toPs) break;
      if (end < fromPs) continue;
      const b = this.beaconTemplate.slice();
      writeTimestamp(b, 24, Math.floor(tbtt / PS_PER_US));
      writeSeq(b, this.nextSeq());
      this.counters.beacons++;
      out.push(this.frame(b, end, this.mgmtRate500k));
    }
  }

  /** When a reply to a frame sent at `atPs` starts: after the response delay plus seeded jitter. */
  private replyStart(atPs: number): number {
    return atPs + this.cfg.responseDelayUs * PS_PER_US + this.jitter.int(0, JITTER_MAX_NS) * 1000;
  }

  private mgmtReply(atPs: number, build: (seq: number, tsfUs: number) => Uint8Array): AirFrame {
    const start = this.replyStart(atPs);
    const data = build(this.nextSeq(), Math.floor(start / PS_PER_US));
    return this.frame(data, start + airtimeUs(data.length, this.mgmtRate500k) * PS_PER_US, this.mgmtRate500k);
  }

  private dataReply(atPs: number, build: (seq: number) => Uint8Array): AirFrame {
    const start = this.replyStart(atPs);
    const data = build(this.nextSeq());
    return this.frame(data, start + airtimeUs(data.length, DATA_RATE_500K) * PS_PER_US, DATA_RATE_500K);
  }

  /**
   * Would this AP answer the probe request `m`? Wildcard SSID: yes unless
   * hidden; a directed probe: only for its own SSID. The DA/BSSID must be
   * broadcast or this AP, and a DS parameter set (if any) must name its channel.
   */
  matchesProbe(f: Uint8Array, m: MgmtFrame): boolean {
    if (m.ies === undefined) return false;
    const bssid = this.cfg.bssidBytes;
    if (!(isGroupAddr(f, 4) || macEquals(f, 4, bssid))) return false;
    if (!(isGroupAddr(f, 16) || macEquals(f, 16, bssid))) return false;
    if (isGroupAddr(f, 10)) return false;
    const ch = mgmtChannel(f, m);
    if (ch !== undefined && ch !== this.cfg.channel) return false;
    const e = findIe(m.ies, IE.SSID);
    if (e === undefined) return false;
    if (e.len === 0) return !this.cfg.hidden;
    if (e.len !== this.ssid.length) return false;
    for (let i = 0; i < e.len; i++) if (f[e.off + i] !== this.ssid[i]) return false;
    return true;
  }

  /** Handles a (possibly group-addressed) probe request; returns the probe response or undefined. */
  probe(f: Uint8Array, atPs: number): AirFrame | undefined {
    const m = parseMgmt(f);
    if (m === undefined || m.subtype !== MGMT.PROBE_REQ) return undefined;
    this.counters.rx++;
    if (!this.matchesProbe(f, m)) {
      this.counters.dropped++;
      return undefined;
    }
    const sta = f.slice(10, 16);
    return this.mgmtReply(atPs, (seq, tsf) => buildProbeResponse(sta, this.probeBss, tsf, seq));
  }

  /** A unicast frame with addr1 = this BSSID, sent by a station at `atPs`. Returns the AP's answers. */
  receive(f: Uint8Array, atPs: number): AirFrame[] {
    const h = parseHeader(f);
    if (h === undefined) return [];
    if (h.type === FTYPE_MGMT && h.subtype === MGMT.PROBE_REQ) {
      const r = this.probe(f, atPs);
      return r === undefined ? [] : [r];
    }
    this.counters.rx++;
    if (isGroupAddr(f, 10) || macEquals(f, 10, this.cfg.bssidBytes)) {
      this.counters.dropped++;
      return [];
    }
    const staBytes = f.slice(10, 16);
    const sta = h.addr2;
    if (h.type === FTYPE_MGMT) return this.receiveMgmt(f, atPs, sta, staBytes);
    if (h.type === FTYPE_DATA) return this.receiveData(f, atPs, sta, staBytes);
    this.counters.dropped++;
    return [];
  }

  private deauth(atPs: number, staBytes: Uint8Array, reason: number): AirFrame {
    const b = this.cfg.bssidBytes;
    return this.mgmtReply(atPs, (seq) => buildDeauth(staBytes, b, b, reason, seq));
  }

  private receiveMgmt(f: Uint8Array, atPs: number, sta: string, staBytes: Uint8Array): AirFrame[] {
    const m = parseMgmt(f);
    const bssid = this.cfg.bssidBytes;
    if (m === undefined || !macEquals(f, 16, bssid)) {
      this.counters.dropped++;
      return [];
    }
    const entry = this.stations.get(sta);
    switch (m.subtype) {
      case MGMT.AUTH: {
        let status: number = STATUS.SUCCESS;
        if (m.authAlgorithm !== AUTH_OPEN) status = STATUS.UNSUPPORTED_AUTH_ALG;
        else if (m.authTransaction !== 1) status = STATUS.AUTH_SEQ_OUT_OF_ORDER;
        // A new authentication ends any association the station had.
        if (status === STATUS.SUCCESS) this.stations.set(sta, { state: 'authenticated', aid: 0 });
        const alg = m.authAlgorithm ?? 0;
        return [this.mgmtReply(atPs, (seq) => buildAuth(staBytes, bssid, bssid, alg, (m.authTransaction ?? 0) + 1, status, seq))];
      }
      case MGMT.ASSOC_REQ:
      case MGMT.REASSOC_REQ: {
        if (entry === undefined || entry.state === 'none') return [this.deauth(atPs, staBytes, REASON.CLASS2_FROM_NONAUTH)];
        const status = this.assocStatus(f, m);
        const reassoc = m.subtype === MGMT.REASSOC_REQ;
        let aid = 0;
        if (status === STATUS.SUCCESS) {
          aid = entry.aid !== 0 ? entry.aid : this.freeAid();
          entry.state = 'associated';
          entry.aid = aid;
        }
        const ch = this.cfg.channel;
        return [this.mgmtReply(atPs, (seq) => buildAssocResponse(staBytes, bssid, ch, this.capability, status, aid, seq, reassoc))];
      }
      case MGMT.DEAUTH:
        if (entry === undefined) this.counters.dropped++;
        this.stations.delete(sta);
        return [];
      case MGMT.DISASSOC:
        if (entry === undefined || entry.state !== 'associated') this.counters.dropped++;
        else { entry.state = 'authenticated'; entry.aid = 0; }
        return [];
      default:
        this.counters.dropped++;
        return [];
    }
  }

  /** Status for an association request from an authenticated station. */
  private assocStatus(f: Uint8Array, m: MgmtFrame): number {
    if (m.ies === undefined) return STATUS.INVALID_IE;
    const ssidIe = findIe(m.ies, IE.SSID);
    if (ssidIe === undefined || decodeSsid(ieBytes(f, ssidIe)) !== this.cfg.ssid) return STATUS.UNSPECIFIED;
    if (findIe(m.ies, IE.RATES) === undefined) return STATUS.BASIC_RATES_UNSUPPORTED;
    if (this.cfg.security === 'open') return STATUS.SUCCESS;
    const rsnIe = findIe(m.ies, IE.RSN);
    if (rsnIe === undefined) return STATUS.INVALID_AKMP;
    const rsn = parseRsn(ieBytes(f, rsnIe));
    if (rsn === undefined) return STATUS.INVALID_IE;
    // WPA2-PSK: the AKM must be PSK; the 4-way handshake that would follow is not simulated.
    // WPA3-SAE: needs SAE authentication, which is not simulated, so an open-system
    // authenticated station is always refused.
    if (this.cfg.security === 'wpa2-psk' && rsn.akms.includes(AKM_PSK)) return STATUS.SUCCESS;
    return STATUS.INVALID_AKMP;
  }

  private freeAid(): number {
    const used = new Set<number>();
    for (const e of this.stations.values()) if (e.aid !== 0) used.add(e.aid);
    let aid = 1;
    while (used.has(aid)) aid++;
    return aid;
  }

  private receiveData(f: Uint8Array, atPs: number, sta: string, staBytes: Uint8Array): AirFrame[] {
    const d = parseData(f);
    if (d === undefined || !d.toDs || d.fromDs) {
      this.counters.dropped++;
      return [];
    }
    const entry = this.stations.get(sta);
    if (entry === undefined || entry.state !== 'associated') return [this.deauth(atPs, staBytes, REASON.CLASS3_FROM_NONASSOC)];
    if (d.subtype === DATA.NULL || d.subtype === DATA.QOS_NULL) return []; // power-save signalling, nothing to answer
    // Secured BSS: no keys are ever installed (no 4-way handshake), so nothing gets through.
    if (this.cfg.security !== 'open' || d.protected || d.ethertype === undefined || this.cfg.ipBytes === undefined) {
      this.counters.dropped++;
      return [];
    }
    const apIp = this.cfg.ipBytes;
    const bssid = this.cfg.bssidBytes;
    if (d.ethertype === ETHERTYPE_ARP) {
      const arp = parseArp(d.payload);
      if (arp !== undefined && arp.op === ARP_REQUEST && ipEquals(arp.tpa, apIp)) {
        const reply = buildArp(ARP_REPLY, bssid, apIp, arp.sha, arp.spa);
        return [this.dataReply(atPs, (seq) => buildFromDsData(staBytes, bssid, bssid, ETHERTYPE_ARP, reply, seq))];
      }
    } else if (d.ethertype === ETHERTYPE_IPV4) {
      const ip = parseIpv4Packet(d.payload);
      if (ip !== undefined && ip.checksumOk && !isFragment(ip) && ipEquals(ip.dst, apIp) && ip.protocol === IPPROTO_ICMP) {
        const icmp = parseIcmpEcho(ip.payload);
        if (icmp !== undefined && icmp.checksumOk && icmp.type === ICMP_ECHO_REQUEST && icmp.code === 0) {
          const id = this.ipId;
          this.ipId = (this.ipId + 1) & 0xffff;
          const pkt = buildIpv4({
            src: apIp, dst: ip.src, protocol: IPPROTO_ICMP, ttl: 64, id,
            payload: buildIcmpEcho(ICMP_ECHO_REPLY, icmp.id, icmp.seq, icmp.data),
          });
          return [this.dataReply(atPs, (seq) => buildFromDsData(staBytes, bssid, bssid, ETHERTYPE_IPV4, pkt, seq))];
        }
      }
    }
    this.counters.dropped++;
    return [];
  }
}
