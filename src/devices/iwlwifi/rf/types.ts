/**
 * The simulated radio environment around the adapter: access points on
 * channels, what they send on the air and how they answer a station.
 * Loaded from fixtures/rf/*.json (./environment.ts); the firmware model asks
 * the `Air` (./air.ts) what it hears while scanning and what comes back when
 * it transmits.
 */

export type Security = 'open' | 'wpa2-psk' | 'wpa3-sae';

export interface ApConfig {
  /** "02:11:22:33:44:55" normalised to lower case. */
  bssid: string;
  bssidBytes: Uint8Array;
  ssid: string;
  /** 2.4 GHz 1-14, 5 GHz 36-165 (the NVM channel list). */
  channel: number;
  /** Received signal strength at the station, dBm (-100..-10). */
  signalDbm: number;
  /** Beacon interval in TU (1 TU = 1024 us). */
  beaconIntervalTu: number;
  security: Security;
  /** Answers probe requests (a hidden AP with an empty SSID in beacons still answers directed probes). */
  hidden: boolean;
  /** IPv4 address the AP answers ARP and ICMP echo for ("" = none). */
  ip: string;
  ipBytes: Uint8Array | undefined;
  /** AP processing delay before it answers a frame, us. */
  responseDelayUs: number;
}

export interface RfEnvironment {
  /** Absolute path of the file (for messages). */
  file: string;
  name: string;
  aps: ApConfig[];
}

/** A frame on the air, as the station's radio sees it (802.11 frame, no FCS). */
export interface AirFrame {
  /** Simulated time the frame ends on the air, ps. */
  timePs: number;
  channel: number;
  signalDbm: number;
  /** Rate in 500 kb/s units (radiotap): 2 = 1 Mb/s, 12 = 6 Mb/s. */
  rate500k: number;
  data: Uint8Array;
}
