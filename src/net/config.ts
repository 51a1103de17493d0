/**
 * Network fixture files (fixtures/networks/*.json): what is at the far end
 * of a NIC's Ethernet link. Loading and strict validation: unknown fields
 * are errors, and every error is an InputError (exit code 2) naming the
 * file, the field path (e.g. `link.mtu`, `schedule[1].action`) and what was
 * expected. The format is documented in docs/NETWORK.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../sim/errors.js';
import { JsonChecker, show } from '../sim/json-checker.js';
import { ipv4ToU32, parseIpv4, parseMac } from './proto/bytes.js';

/** Things the peer does at a simulated time (schedule entries). */
export const SCHEDULE_ACTIONS = ['link-down', 'link-up', 'gratuitous-arp', 'arp-request'] as const;
export type ScheduleAction = (typeof SCHEDULE_ACTIONS)[number];

export interface ScheduleEntry {
  /** Simulated time, ps. */
  atPs: number;
  action: ScheduleAction;
}

export interface NetworkConfig {
  /** Absolute path of the file it came from (for messages). */
  file: string;
  name: string;
  description: string;
  peer: { mac: string; macBytes: Uint8Array; ip: string; ipBytes: Uint8Array };
  guest: { ip: string; ipBytes: Uint8Array; prefixLength: number };
  link: { delayPs: number; bandwidthMbps: number; mtu: number; lossPct: number; duplicatePct: number };
  udpEcho: { ports: number[]; checksum: boolean };
  /** Answer UDP to a port that is not an echo port with ICMP port unreachable. */
  icmpPortUnreachable: boolean;
  /** Sorted by time (entries at equal times in file order). */
  schedule: ScheduleEntry[];
}

export const NETWORK_DEFAULTS = {
  peerMac: '52:54:00:12:35:02',
  peerIp: '10.0.2.2',
  guestIp: '10.0.2.15',
  prefixLength: 24,
  delay: '50us',
  bandwidthMbps: 1000,
  mtu: 1500,
  udpEchoPorts: [7],
} as const;

const TOP_FIELDS = ['$schema', 'name', 'description', 'peer', 'guest', 'link', 'udpEcho', 'icmpPortUnreachable', 'schedule'] as const;
const PEER_FIELDS = ['mac', 'ip'] as const;
const GUEST_FIELDS = ['ip', 'prefixLength'] as const;
const LINK_FIELDS = ['delay', 'bandwidthMbps', 'mtu', 'lossPct', 'duplicatePct'] as const;
const UDP_FIELDS = ['ports', 'checksum'] as const;
const SCHEDULE_FIELDS = ['at', 'action'] as const;

/** Largest link delay accepted: 1 s. */
const MAX_DELAY_PS = 1_000_000_000_000;

/** Reads and validates a network file. */
export function loadNetworkConfig(path: string): NetworkConfig {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(path, '', 'network file not found (networks live in fixtures/networks/)');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new InputError(abs, '', `not valid JSON: ${(e as Error).message}`);
  }
  return parseNetworkConfig(json, abs);
}

/** Validates the parsed JSON of a network file; `file` is used in messages and kept in the result. */
export function parseNetworkConfig(json: unknown, file: string): NetworkConfig {
  const c: JsonChecker = new JsonChecker(file);
  const top = c.obj(json, '', TOP_FIELDS);
  if (top.$schema !== undefined) c.str(top.$schema, '$schema');
  const name = c.str(top.name, 'name');
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) c.fail('name', `must be a non-empty word of letters, digits, ".", "_" and "-", got ${show(name)}`);
  const description = top.description === undefined ? '' : c.str(top.description, 'description');

  const peerRaw = top.peer === undefined ? {} : c.obj(top.peer, 'peer', PEER_FIELDS);
  const mac = c.str(peerRaw.mac, 'peer.mac', NETWORK_DEFAULTS.peerMac);
  const macBytes = parseMac(mac);
  if (macBytes === undefined) c.fail('peer.mac', `must be a MAC address such as "52:54:00:12:35:02", got ${show(mac)}`);
  if ((macBytes[0]! & 1) !== 0) c.fail('peer.mac', `must be a unicast address (bit 0 of the first octet clear), got ${mac}`);
  if (macBytes.every((b) => b === 0)) c.fail('peer.mac', 'must not be 00:00:00:00:00:00');
  const peerIp = hostIp(c, peerRaw.ip, 'peer.ip', NETWORK_DEFAULTS.peerIp);

  const guestRaw = top.guest === undefined ? {} : c.obj(top.guest, 'guest', GUEST_FIELDS);
  const guestIp = hostIp(c, guestRaw.ip, 'guest.ip', NETWORK_DEFAULTS.guestIp);
  const prefixLength = c.int(guestRaw.prefixLength, 'guest.prefixLength', NETWORK_DEFAULTS.prefixLength, 8, 30);
  const mask = prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
  const g = ipv4ToU32(guestIp.bytes);
  const p = ipv4ToU32(peerIp.bytes);
  const hostBits = ~mask >>> 0;
  if ((g & hostBits) === 0 || (g & hostBits) === hostBits) {
    c.fail('guest.ip', `${guestIp.text} is the network or broadcast address of its /${prefixLength} subnet`);
  }
  if (((g ^ p) & mask) !== 0) c.fail('peer.ip', `${peerIp.text} is not in the guest's subnet ${guestIp.text}/${prefixLength}`);
  if ((p & hostBits) === 0 || (p & hostBits) === hostBits) c.fail('peer.ip', `${peerIp.text} is the network or broadcast address of the /${prefixLength} subnet`);
  if (g === p) c.fail('peer.ip', `must differ from guest.ip (both ${peerIp.text})`);

  const linkRaw = top.link === undefined ? {} : c.obj(top.link, 'link', LINK_FIELDS);
  const delayPs = c.duration(linkRaw.delay, 'link.delay', parseDelay(NETWORK_DEFAULTS.delay));
  if (delayPs > MAX_DELAY_PS) c.fail('link.delay', `must be at most 1s, got ${show(linkRaw.delay)}`);
  const bandwidthMbps = c.int(linkRaw.bandwidthMbps, 'link.bandwidthMbps', NETWORK_DEFAULTS.bandwidthMbps, 1, 400_000);
  const mtu = c.int(linkRaw.mtu, 'link.mtu', NETWORK_DEFAULTS.mtu, 68, 9000);
  const lossPct = percent(c, linkRaw.lossPct, 'link.lossPct');
  const duplicatePct = percent(c, linkRaw.duplicatePct, 'link.duplicatePct');

  const udpRaw = top.udpEcho === undefined ? {} : c.obj(top.udpEcho, 'udpEcho', UDP_FIELDS);
  let ports: number[] = [...NETWORK_DEFAULTS.udpEchoPorts];
  if (udpRaw.ports !== undefined) {
    const list: unknown = udpRaw.ports;
    if (!Array.isArray(list)) c.fail('udpEcho.ports', `must be a list of port numbers (may be empty), got ${show(list)}`);
    if (list.length > 64) c.fail('udpEcho.ports', `at most 64 ports, got ${list.length}`);
    ports = (list as unknown[]).map((v, i) => c.int(v, `udpEcho.ports[${i}]`, undefined, 1, 65535));
    ports.forEach((port, i) => {
      const j = ports.indexOf(port);
      if (j !== i) c.fail(`udpEcho.ports[${i}]`, `duplicate port ${port} (also udpEcho.ports[${j}])`);
    });
  }
  const checksum = c.bool(udpRaw.checksum, 'udpEcho.checksum', true);
  const icmpPortUnreachable = c.bool(top.icmpPortUnreachable, 'icmpPortUnreachable', true);

  const schedule = parseSchedule(c, top.schedule);

  return {
    file, name, description,
    peer: { mac: mac.toLowerCase(), macBytes, ip: peerIp.text, ipBytes: peerIp.bytes },
    guest: { ip: guestIp.text, ipBytes: guestIp.bytes, prefixLength },
    link: { delayPs, bandwidthMbps, mtu, lossPct, duplicatePct },
    udpEcho: { ports, checksum },
    icmpPortUnreachable,
    schedule,
  };
}

function parseDelay(text: string): number {
  const [, n, unit] = /^(\d+)(us)$/.exec(text) ?? [];
  if (n === undefined || unit === undefined) throw new Error(`internal: bad default delay ${text}`);
  return Number(n) * 1_000_000;
}

/** A unicast host address: a dotted quad, not 0.x, 127.x, multicast or broadcast. */
function hostIp(c: JsonChecker, v: unknown, field: string, def: string): { text: string; bytes: Uint8Array } {
  const text = c.str(v, field, def);
  const bytes = parseIpv4(text);
  if (bytes === undefined) c.fail(field, `must be a dotted-quad IPv4 address such as "10.0.2.15", got ${show(text)}`);
  const a = bytes[0]!;
  if (a === 0 || a === 127 || a >= 224) c.fail(field, `must be a unicast host address (not 0.x, 127.x, multicast or broadcast), got ${text}`);
  return { text, bytes };
}

/** A percentage: a number from 0 to 100 (fractions allowed), default 0. */
function percent(c: JsonChecker, v: unknown, field: string): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) c.fail(field, `must be a number from 0 to 100, got ${show(v)}`);
  if (v < 0 || v > 100) c.fail(field, `must be between 0 and 100, got ${v}`);
  return v;
}

function parseSchedule(c: JsonChecker, raw: unknown): ScheduleEntry[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) c.fail('schedule', `must be a list of {"at": "5ms", "action": ...}, got ${show(raw)}`);
  if (raw.length > 10_000) c.fail('schedule', `at most 10000 entries, got ${raw.length}`);
  const entries = raw.map((r: unknown, i: number) => {
    const f = `schedule[${i}]`;
    const o = c.obj(r, f, SCHEDULE_FIELDS);
    if (o.at === undefined) c.fail(`${f}.at`, 'is required (a simulated time such as "5ms")');
    const atPs = c.duration(o.at, `${f}.at`, 0);
    const action = c.str(o.action, `${f}.action`);
    if (!(SCHEDULE_ACTIONS as readonly string[]).includes(action)) {
      c.fail(`${f}.action`, `must be one of ${SCHEDULE_ACTIONS.map((a) => `"${a}"`).join(', ')}, got ${show(action)}`);
    }
    return { atPs, action: action as ScheduleAction, index: i };
  });
  // Stable by time; the link starts up, so link changes must alternate down, up, down, ...
  entries.sort((a, b) => a.atPs - b.atPs || a.index - b.index);
  let up = true;
  for (const e of entries) {
    if (e.action !== 'link-down' && e.action !== 'link-up') continue;
    const wantUp = e.action === 'link-up';
    if (wantUp === up) {
      c.fail(`schedule[${e.index}].action`, `"${e.action}" when the link is already ${up ? 'up' : 'down'} (the link starts up; link-down and link-up must alternate in time order)`);
    }
    up = wantUp;
  }
  return entries.map(({ atPs, action }) => ({ atPs, action }));
}
