/**
 * The medium: which APs the station hears on a channel, and what comes back
 * when it transmits. No collisions, no loss, no propagation delay: every
 * frame sent by an AP on the station's channel is heard, with the AP's
 * configured signal strength. See docs/RF.md.
 */
import type { Rng } from '../../../sim/rng.js';
import { AccessPoint, type ApCounters, type StationEntry } from './ap.js';
import { FTYPE_MGMT, MGMT, isGroupAddr, macEquals, parseHeader } from './frames.js';
import type { AirFrame, RfEnvironment } from './types.js';

export interface AirSummaryAp {
  bssid: string;
  ssid: string;
  channel: number;
  counters: ApCounters;
  stations: ({ sta: string } & StationEntry)[];
}

export class Air {
  readonly env: RfEnvironment;
  private readonly aps: AccessPoint[];
  private readonly byChannel = new Map<number, AccessPoint[]>();
  /** Frames the station sent that no AP was addressed by (or that did not parse). */
  unanswered = 0;

  constructor(env: RfEnvironment, rng: Rng) {
    this.env = env;
    // Each AP's stream is named by its BSSID, so adding an AP does not change another's timing.
    this.aps = env.aps.map((cfg) => new AccessPoint(cfg, rng.fork(`ap:${cfg.bssid}`)));
    for (const ap of this.aps) {
      const list = this.byChannel.get(ap.cfg.channel);
      if (list === undefined) this.byChannel.set(ap.cfg.channel, [ap]);
      else list.push(ap);
    }
  }

  private on(channel: number): readonly AccessPoint[] {
    return this.byChannel.get(channel) ?? [];
  }

  /**
   * Frames heard on `channel` during [fromPs, toPs) (by the time they end on
   * the air): beacons, and if `probe` is a probe request sent at `fromPs`,
   * the probe responses of the APs it matches. Sorted by time (ties in AP
   * order, beacons first).
   */
  listen(channel: number, fromPs: number, toPs: number, probe: Uint8Array | null): AirFrame[] {
    const out: AirFrame[] = [];
    const aps = this.on(channel);
    for (const ap of aps) ap.beacons(fromPs, toPs, out);
    if (probe !== null) {
      const h = parseHeader(probe);
      if (h !== undefined && h.type === FTYPE_MGMT && h.subtype === MGMT.PROBE_REQ) {
        for (const ap of aps) {
          const r = ap.probe(probe, fromPs);
          if (r !== undefined && r.timePs >= fromPs && r.timePs < toPs) out.push(r);
        }
      } else {
        this.unanswered++;
      }
    }
    return out.sort((a, b) => a.timePs - b.timePs);
  }

  /**
   * The station sends `frame` (802.11, no FCS) on `channel` at `atPs`.
   * `acked` when an AP on the channel is its receiver (addr1 = BSSID); group
   * addressed frames are never acked, but a group-addressed probe request is
   * answered by every AP it matches. Never throws, whatever the bytes.
   */
  transmit(channel: number, atPs: number, frame: Uint8Array): { acked: boolean; replies: AirFrame[] } {
    const h = parseHeader(frame);
    if (h === undefined) {
      this.unanswered++;
      return { acked: false, replies: [] };
    }
    const aps = this.on(channel);
    if (isGroupAddr(frame, 4)) {
      const replies: AirFrame[] = [];
      if (h.type === FTYPE_MGMT && h.subtype === MGMT.PROBE_REQ) {
        for (const ap of aps) {
          const r = ap.probe(frame, atPs);
          if (r !== undefined) replies.push(r);
        }
      }
      if (replies.length === 0) this.unanswered++;
      return { acked: false, replies: replies.sort((a, b) => a.timePs - b.timePs) };
    }
    for (const ap of aps) {
      if (macEquals(frame, 4, ap.cfg.bssidBytes)) return { acked: true, replies: ap.receive(frame, atPs) };
    }
    this.unanswered++;
    return { acked: false, replies: [] };
  }

  /** 'none' | 'authenticated' | 'associated' of station `sta` at the AP `bssid` ('none' for an unknown AP). */
  stationState(bssid: string, sta: string): string {
    const b = bssid.toLowerCase();
    const ap = this.aps.find((a) => a.bssid === b);
    return ap === undefined ? 'none' : ap.stationState(sta);
  }

  /** Per-AP counters and station tables, in file order (for the run summary). */
  summary(): AirSummaryAp[] {
    return this.aps.map((ap) => ({
      bssid: ap.bssid, ssid: ap.cfg.ssid, channel: ap.cfg.channel,
      counters: { ...ap.counters }, stations: ap.stationList(),
    }));
  }
}
