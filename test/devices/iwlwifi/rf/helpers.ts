/** Shared set-up for the RF tests: the home environment and a station. */
import { Rng } from '../../../../src/sim/rng.js';
import {
  Air, buildAssocRequest, buildAuth, loadRfEnvironment, parseMac, type AirFrame, type RfEnvironment,
} from '../../../../src/devices/iwlwifi/rf/index.js';

export const home: RfEnvironment = loadRfEnvironment('fixtures/rf/home.json');
export const STA = parseMac('02:11:22:33:44:55')!;
export const STA_TEXT = '02:11:22:33:44:55';
export const SIMNET = parseMac('02:00:5e:10:00:01')!;
export const NEIGHBOUR_WPA3 = parseMac('02:00:5e:10:00:02')!;
export const SECURE_WPA2 = parseMac('02:00:5e:10:00:03')!;
export const PS_PER_US = 1_000_000;
export const MS = 1_000_000_000;

export function air(seed = 42, env: RfEnvironment = home): Air {
  return new Air(env, new Rng(seed).fork('rf'));
}

export function only(frames: AirFrame[]): AirFrame {
  if (frames.length !== 1) throw new Error(`expected one frame, got ${frames.length}`);
  return frames[0]!;
}

/** Open-system authentication and association of STA with `bssid` on `channel`; returns the assoc response. */
export function join(a: Air, channel: number, bssid: Uint8Array, ssid: string, atPs = 0, sta = STA): AirFrame {
  a.transmit(channel, atPs, buildAuth(bssid, sta, bssid, 0, 1, 0));
  return only(a.transmit(channel, atPs + MS, buildAssocRequest(sta, bssid, { ssid, channel })).replies);
}
