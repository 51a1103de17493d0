/**
 * The BSS list (cfg80211's scan results): one entry per BSSID, updated by
 * every beacon / probe response; the text form served as wifictl
 * <if>/networks.
 */
import { macToString, type BeaconInfo, type Security } from './ieee80211.js';

export interface Bss {
  bssid: string;
  bssidBytes: Uint8Array;
  ssid: string;
  hidden: boolean;
  channel: number;
  /** dBm. */
  signal: number;
  security: Security;
  capability: number;
  beaconInt: number;
  /** Frames seen for this BSS. */
  seen: number;
}

export class BssList {
  private readonly byBssid = new Map<string, Bss>();

  clear(): void { this.byBssid.clear(); }
  get size(): number { return this.byBssid.size; }
  get(bssid: string): Bss | undefined { return this.byBssid.get(bssid); }

  /**
   * Records a sighting. The latest frame wins for signal, channel and
   * security; an SSID learnt from a probe response survives a later hidden
   * beacon.
   */
  update(b: BeaconInfo, rxChannel: number, signal: number): Bss {
    const key = macToString(b.bssid);
    const channel = b.channel ?? rxChannel;
    const old = this.byBssid.get(key);
    if (old !== undefined) {
      if (!b.hidden) { old.ssid = b.ssid; old.hidden = false; }
      old.channel = channel;
      old.signal = signal;
      old.security = b.security;
      old.capability = b.capability;
      old.beaconInt = b.beaconInt;
      old.seen++;
      return old;
    }
    const e: Bss = {
      bssid: key, bssidBytes: new Uint8Array(b.bssid), ssid: b.ssid, hidden: b.hidden, channel, signal,
      security: b.security, capability: b.capability, beaconInt: b.beaconInt, seen: 1,
    };
    this.byBssid.set(key, e);
    return e;
  }

  /** Sorted by signal (strongest first), then BSSID. */
  sorted(): Bss[] {
    return [...this.byBssid.values()].sort((a, b) => b.signal - a.signal || (a.bssid < b.bssid ? -1 : a.bssid > b.bssid ? 1 : 0));
  }

  /** The strongest BSS advertising `ssid` (hidden ones never match). */
  best(ssid: string): Bss | undefined {
    return this.sorted().find((b) => !b.hidden && b.ssid === ssid);
  }

  /** "<bssid>\t<ssid>\t<channel>\t<signal dBm>\t<security>\n" per BSS; control characters in SSIDs escaped as \xNN. */
  text(): string {
    let s = '';
    for (const b of this.sorted()) s += `${b.bssid}\t${escapeSsid(b.ssid)}\t${b.channel}\t${b.signal}\t${b.security}\n`;
    return s;
  }
}

export function escapeSsid(s: string): string {
  let o = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    o += c < 0x20 || c === 0x7f || ch === '\\' ? `\\x${c.toString(16).padStart(2, '0')}` : ch;
  }
  return o;
}
