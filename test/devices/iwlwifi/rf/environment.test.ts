import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../../src/sim/errors.js';
import { loadRfEnvironment, parseRfEnvironment } from '../../../../src/devices/iwlwifi/rf/index.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-rf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FILE = '/x/env.json';
const ap = (over: Record<string, unknown> = {}) => ({ ssid: 'simnet', bssid: '02:00:5e:10:00:01', channel: 6, ...over });
const env = (aps: unknown[] = [ap()], over: Record<string, unknown> = {}) => ({ name: 'test', accessPoints: aps, ...over });

function err(json: unknown): InputError {
  try {
    parseRfEnvironment(json, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('fixtures', () => {
  it('home.json: simnet open on channel 6 at 192.168.50.1, plus secured, 5 GHz and hidden APs', () => {
    const e = loadRfEnvironment('fixtures/rf/home.json');
    expect(e.name).toBe('home');
    expect(e.file).toMatch(/fixtures\/rf\/home\.json$/);
    const simnet = e.aps.find((a) => a.ssid === 'simnet')!;
    expect(simnet).toMatchObject({ channel: 6, security: 'open', hidden: false, ip: '192.168.50.1', bssid: '02:00:5e:10:00:01' });
    expect([...simnet.ipBytes!]).toEqual([192, 168, 50, 1]);
    expect([...simnet.bssidBytes]).toEqual([2, 0, 0x5e, 0x10, 0, 1]);
    expect(e.aps.some((a) => a.security !== 'open')).toBe(true);
    expect(e.aps.some((a) => a.channel > 14)).toBe(true);
    expect(e.aps.some((a) => a.hidden)).toBe(true);
  });

  it('small.json: one open AP with defaults filled in', () => {
    const e = loadRfEnvironment('fixtures/rf/small.json');
    expect(e.aps).toHaveLength(1);
    expect(e.aps[0]).toMatchObject({ security: 'open', beaconIntervalTu: 100, responseDelayUs: 30, hidden: false });
  });
});

describe('loading', () => {
  it('a missing file names the path', () => {
    expect(() => loadRfEnvironment(join(dir, 'nope.json'))).toThrow(/nope\.json: RF environment file not found/);
  });
  it('bad JSON names the file', () => {
    const p = join(dir, 'bad.json');
    writeFileSync(p, '{ "name": ');
    expect(() => loadRfEnvironment(p)).toThrow(/bad\.json: not valid JSON/);
  });
  it('validation errors from a file name the absolute path and the field', () => {
    const p = join(dir, 'chan.json');
    writeFileSync(p, JSON.stringify(env([ap(), ap({ bssid: '02:00:00:00:00:02', channel: 15 })])));
    expect(() => loadRfEnvironment(p)).toThrow(`${p}: accessPoints[1].channel: must be a 2.4 GHz channel`);
  });
  it('accepts $schema, description, defaults and an empty AP list', () => {
    const e = parseRfEnvironment({ $schema: './rf.schema.json', name: 'empty', description: 'nothing here', accessPoints: [] }, FILE);
    expect(e).toEqual({ file: FILE, name: 'empty', aps: [] });
  });
  it('normalises the BSSID to lower case', () => {
    expect(parseRfEnvironment(env([ap({ bssid: '02:AB:CD:EF:00:01' })]), FILE).aps[0]!.bssid).toBe('02:ab:cd:ef:00:01');
  });
  it('accepts every 5 GHz channel of the list and 1-14', () => {
    for (const ch of [1, 14, 36, 64, 100, 144, 149, 165]) {
      expect(parseRfEnvironment(env([ap({ channel: ch })]), FILE).aps[0]!.channel).toBe(ch);
    }
  });
});

describe('every validation error names file, field and expectation', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['top not an object', [], '', /must be an object/],
    ['unknown top field', env([ap()], { colour: 'red' }), 'colour', /unknown field \(allowed: \$schema, name, description, accessPoints\)/],
    ['$schema not a string', env([ap()], { $schema: 1 }), '$schema', /must be a string/],
    ['name missing', { accessPoints: [] }, 'name', /is required/],
    ['name not a word', env([ap()], { name: 'a b' }), 'name', /non-empty word/],
    ['description not a string', env([ap()], { description: 3 }), 'description', /must be a string/],
    ['accessPoints missing', { name: 'x' }, 'accessPoints', /is required/],
    ['accessPoints not a list', env([ap()], { accessPoints: {} }), 'accessPoints', /must be a list/],
    ['AP not an object', env([ap(), 'simnet']), 'accessPoints[1]', /must be an object/],
    ['unknown AP field', env([ap({ power: 3 })]), 'accessPoints[0].power', /unknown field \(allowed: ssid, bssid/],
    ['ssid missing', env([{ bssid: '02:00:00:00:00:01', channel: 1 }]), 'accessPoints[0].ssid', /is required/],
    ['ssid not a string', env([ap({ ssid: 5 })]), 'accessPoints[0].ssid', /must be a string/],
    ['ssid empty', env([ap({ ssid: '' })]), 'accessPoints[0].ssid', /must not be empty.*hidden/],
    ['ssid too long', env([ap({ ssid: 'x'.repeat(33) })]), 'accessPoints[0].ssid', /at most 32 bytes.*33/],
    ['ssid too long in UTF-8', env([ap({ ssid: 'é'.repeat(17) })]), 'accessPoints[0].ssid', /at most 32 bytes.*34/],
    ['bssid missing', env([{ ssid: 'a', channel: 1 }]), 'accessPoints[0].bssid', /is required/],
    ['bssid malformed', env([ap({ bssid: '02:00:00:00:00' })]), 'accessPoints[0].bssid', /must be a MAC address/],
    ['bssid multicast', env([ap({ bssid: '03:00:00:00:00:01' })]), 'accessPoints[0].bssid', /unicast/],
    ['bssid zero', env([ap({ bssid: '00:00:00:00:00:00' })]), 'accessPoints[0].bssid', /must not be 00:00/],
    ['bssid duplicate', env([ap(), ap({ bssid: '02:00:5E:10:00:01' })]), 'accessPoints[1].bssid', /duplicate BSSID 02:00:5e:10:00:01 \(also accessPoints\[0\]\.bssid\)/],
    ['channel missing', env([{ ssid: 'a', bssid: '02:00:00:00:00:01' }]), 'accessPoints[0].channel', /is required/],
    ['channel not an integer', env([ap({ channel: 6.5 })]), 'accessPoints[0].channel', /must be an integer/],
    ['channel a string', env([ap({ channel: '6' })]), 'accessPoints[0].channel', /must be an integer, got "6"/],
    ['channel 0', env([ap({ channel: 0 })]), 'accessPoints[0].channel', /between 1 and 165/],
    ['channel not in the 5 GHz list', env([ap({ channel: 38 })]), 'accessPoints[0].channel', /5 GHz channel \(36, 40.*got 38/],
    ['channel 15', env([ap({ channel: 15 })]), 'accessPoints[0].channel', /got 15/],
    ['signalDbm too strong', env([ap({ signalDbm: -9 })]), 'accessPoints[0].signalDbm', /between -100 and -10/],
    ['signalDbm too weak', env([ap({ signalDbm: -101 })]), 'accessPoints[0].signalDbm', /between -100 and -10/],
    ['beaconIntervalTu too small', env([ap({ beaconIntervalTu: 14 })]), 'accessPoints[0].beaconIntervalTu', /between 15 and 1000/],
    ['beaconIntervalTu too large', env([ap({ beaconIntervalTu: 1001 })]), 'accessPoints[0].beaconIntervalTu', /between 15 and 1000/],
    ['security unknown', env([ap({ security: 'wep' })]), 'accessPoints[0].security', /one of "open", "wpa2-psk", "wpa3-sae", got "wep"/],
    ['hidden not a boolean', env([ap({ hidden: 'yes' })]), 'accessPoints[0].hidden', /true or false/],
    ['ip malformed', env([ap({ ip: '192.168.1' })]), 'accessPoints[0].ip', /dotted-quad/],
    ['ip octet too big', env([ap({ ip: '192.168.1.256' })]), 'accessPoints[0].ip', /dotted-quad/],
    ['ip leading zero', env([ap({ ip: '192.168.01.1' })]), 'accessPoints[0].ip', /dotted-quad/],
    ['ip not a string', env([ap({ ip: 3232248321 })]), 'accessPoints[0].ip', /must be a string/],
    ['ip broadcast', env([ap({ ip: '255.255.255.255' })]), 'accessPoints[0].ip', /unicast host address/],
    ['ip loopback', env([ap({ ip: '127.0.0.1' })]), 'accessPoints[0].ip', /unicast host address/],
    ['responseDelayUs negative', env([ap({ responseDelayUs: -1 })]), 'accessPoints[0].responseDelayUs', /between 0 and 100000/],
    ['responseDelayUs too large', env([ap({ responseDelayUs: 100001 })]), 'accessPoints[0].responseDelayUs', /between 0 and 100000/],
  ];
  it.each(cases)('%s', (_what, json, field, msg) => {
    const e = err(json);
    expect(e.file).toBe(FILE);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(msg);
    expect(e.message.startsWith(field ? `${FILE}: ${field}: ` : `${FILE}: `)).toBe(true);
  });
});
