/**
 * RF environment files (fixtures/rf/*.json, format in docs/RF.md): loading
 * and strict validation. Unknown fields are errors; every error names the
 * file, the field path (e.g. `accessPoints[1].channel`) and what was expected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../../../sim/errors.js';
import { JsonChecker, show } from '../../../sim/json-checker.js';
import { ssidBytes, parseMac } from './frames.js';
import { parseIpv4 } from './net.js';
import type { ApConfig, RfEnvironment, Security } from './types.js';

/** Channels an AP may use: 2.4 GHz 1-14 and the 5 GHz channels of the NVM list. */
export const CHANNELS_2GHZ: readonly number[] = Array.from({ length: 14 }, (_, i) => i + 1);
export const CHANNELS_5GHZ: readonly number[] = [
  36, 40, 44, 48, 52, 56, 60, 64,
  ...Array.from({ length: 12 }, (_, i) => 100 + 4 * i), // 100..144
  149, 153, 157, 161, 165,
];
export const VALID_CHANNELS: ReadonlySet<number> = new Set([...CHANNELS_2GHZ, ...CHANNELS_5GHZ]);

export const SECURITIES: readonly Security[] = ['open', 'wpa2-psk', 'wpa3-sae'];

export const AP_DEFAULTS = {
  signalDbm: -50,
  beaconIntervalTu: 100,
  security: 'open' as Security,
  hidden: false,
  ip: '',
  responseDelayUs: 30,
} as const;

const TOP_FIELDS = ['$schema', 'name', 'description', 'accessPoints'] as const;
const AP_FIELDS = ['ssid', 'bssid', 'channel', 'signalDbm', 'beaconIntervalTu', 'security', 'hidden', 'ip', 'responseDelayUs'] as const;

/** Reads and validates an RF environment file. */
export function loadRfEnvironment(path: string): RfEnvironment {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(path, '', 'RF environment file not found (environments live in fixtures/rf/)');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new InputError(abs, '', `not valid JSON: ${(e as Error).message}`);
  }
  return parseRfEnvironment(json, abs);
}

/** Validates the parsed JSON of an RF environment; `file` is used in messages and kept in the result. */
export function parseRfEnvironment(json: unknown, file: string): RfEnvironment {
  const c = new JsonChecker(file);
  const top = c.obj(json, '', TOP_FIELDS);
  if (top.$schema !== undefined) c.str(top.$schema, '$schema');
  const name = c.str(top.name, 'name');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) c.fail('name', `must be a non-empty word of letters, digits, ".", "_" and "-", got ${show(name)}`);
  if (top.description !== undefined) c.str(top.description, 'description');
  if (!Array.isArray(top.accessPoints)) {
    c.fail('accessPoints', top.accessPoints === undefined ? 'is required (a list of access points, may be empty)' : `must be a list of access points, got ${show(top.accessPoints)}`);
  }
  const seen = new Map<string, number>();
  const aps = (top.accessPoints as unknown[]).map((raw, i) => {
    const ap = parseAp(c, raw, `accessPoints[${i}]`);
    const prev = seen.get(ap.bssid);
    if (prev !== undefined) c.fail(`accessPoints[${i}].bssid`, `duplicate BSSID ${ap.bssid} (also accessPoints[${prev}].bssid)`);
    seen.set(ap.bssid, i);
    return ap;
  });
  return { file, name, aps };
}

function parseAp(c: JsonChecker, raw: unknown, f: string): ApConfig {
  const o = c.obj(raw, f, AP_FIELDS);

  const ssid = c.str(o.ssid, `${f}.ssid`);
  const ssidLen = ssidBytes(ssid).length;
  if (ssidLen === 0) c.fail(`${f}.ssid`, 'must not be empty (for a hidden network give its real SSID and "hidden": true)');
  if (ssidLen > 32) c.fail(`${f}.ssid`, `must be at most 32 bytes of UTF-8, got ${ssidLen} bytes`);

  const bssidText = c.str(o.bssid, `${f}.bssid`);
  const bssidBytes = parseMac(bssidText);
  if (bssidBytes === undefined) c.fail(`${f}.bssid`, `must be a MAC address such as "02:00:5e:10:00:01", got ${show(bssidText)}`);
  if ((bssidBytes[0]! & 1) !== 0) c.fail(`${f}.bssid`, `must be a unicast address (bit 0 of the first octet clear), got ${bssidText}`);
  if (bssidBytes.every((b) => b === 0)) c.fail(`${f}.bssid`, 'must not be 00:00:00:00:00:00');

  const channel = c.int(o.channel, `${f}.channel`, undefined, 1, 165);
  if (!VALID_CHANNELS.has(channel)) {
    c.fail(`${f}.channel`, `must be a 2.4 GHz channel 1-14 or a 5 GHz channel (${CHANNELS_5GHZ.join(', ')}), got ${channel}`);
  }

  const signalDbm = c.int(o.signalDbm, `${f}.signalDbm`, AP_DEFAULTS.signalDbm, -100, -10);
  const beaconIntervalTu = c.int(o.beaconIntervalTu, `${f}.beaconIntervalTu`, AP_DEFAULTS.beaconIntervalTu, 15, 1000);

  const security = c.str(o.security, `${f}.security`, AP_DEFAULTS.security);
  if (!(SECURITIES as readonly string[]).includes(security)) {
    c.fail(`${f}.security`, `must be one of ${SECURITIES.map((s) => `"${s}"`).join(', ')}, got ${show(security)}`);
  }

  const hidden = c.bool(o.hidden, `${f}.hidden`, AP_DEFAULTS.hidden);

  const ip = c.str(o.ip, `${f}.ip`, AP_DEFAULTS.ip);
  let ipBytes: Uint8Array | undefined;
  if (ip !== '') {
    ipBytes = parseIpv4(ip);
    if (ipBytes === undefined) c.fail(`${f}.ip`, `must be a dotted-quad IPv4 address such as "192.168.50.1", or "" for none, got ${show(ip)}`);
    const a = ipBytes[0]!;
    if (a === 0 || a === 127 || a >= 224) c.fail(`${f}.ip`, `must be a unicast host address (not 0.x, 127.x, multicast or broadcast), got ${ip}`);
  }

  const responseDelayUs = c.int(o.responseDelayUs, `${f}.responseDelayUs`, AP_DEFAULTS.responseDelayUs, 0, 100_000);

  return {
    bssid: bssidText.toLowerCase(), bssidBytes, ssid, channel, signalDbm, beaconIntervalTu,
    security: security as Security, hidden, ip, ipBytes, responseDelayUs,
  };
}
