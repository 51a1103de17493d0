import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNetworkConfig, parseNetworkConfig } from '../../src/net/config.js';
import { InputError } from '../../src/sim/errors.js';

const ROOT = path.resolve(__dirname, '../..');
const FILE = '/x/fixtures/networks/bad.json';

function error(json: unknown): InputError {
  try {
    parseNetworkConfig(json, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('network files', () => {
  it('fixtures/networks/default.json: peer 10.0.2.2, guest 10.0.2.15/24, 1 Gb/s, 50 us, MTU 1500, UDP echo 7', () => {
    const c = loadNetworkConfig(path.join(ROOT, 'fixtures/networks/default.json'));
    expect(c).toMatchObject({
      name: 'default',
      peer: { mac: '52:54:00:12:35:02', ip: '10.0.2.2' },
      guest: { ip: '10.0.2.15', prefixLength: 24 },
      link: { delayPs: 50_000_000, bandwidthMbps: 1000, mtu: 1500, lossPct: 0, duplicatePct: 0 },
      udpEcho: { ports: [7], checksum: true },
      icmpPortUnreachable: true,
      schedule: [],
    });
  });
  it('fixtures/networks/flaky.json validates, its schedule in time order', () => {
    const c = loadNetworkConfig(path.join(ROOT, 'fixtures/networks/flaky.json'));
    expect(c.schedule.map((e) => e.action)).toEqual(['gratuitous-arp', 'arp-request', 'link-down', 'link-up']);
    expect(c.link).toMatchObject({ lossPct: 5, duplicatePct: 1, bandwidthMbps: 100 });
  });
  it('defaults everything but the name', () => {
    expect(parseNetworkConfig({ name: 'n' }, FILE)).toMatchObject({ peer: { ip: '10.0.2.2' }, guest: { ip: '10.0.2.15' }, link: { mtu: 1500 } });
  });
  it('a missing file or bad JSON is an InputError naming the file', () => {
    expect(() => loadNetworkConfig('/nonexistent/net.json')).toThrow(/\/nonexistent\/net.json: network file not found/);
    expect(() => loadNetworkConfig(path.join(ROOT, 'package.json'))).toThrow(InputError);
  });

  const cases: [string, unknown, string][] = [
    ['unknown top field', { name: 'n', cable: 1 }, 'cable: unknown field'],
    ['unknown nested field', { name: 'n', link: { speed: 1 } }, 'link.speed: unknown field'],
    ['missing name', {}, 'name: is required'],
    ['bad name', { name: 'a b' }, 'name: must be a non-empty word'],
    ['bad MAC', { name: 'n', peer: { mac: '52:54:00' } }, 'peer.mac: must be a MAC address'],
    ['multicast MAC', { name: 'n', peer: { mac: '01:00:5e:00:00:01' } }, 'peer.mac: must be a unicast address'],
    ['bad IP', { name: 'n', peer: { ip: '10.0.2' } }, 'peer.ip: must be a dotted-quad'],
    ['loopback IP', { name: 'n', guest: { ip: '127.0.0.2', prefixLength: 8 } }, 'guest.ip: must be a unicast host address'],
    ['peer off the subnet', { name: 'n', peer: { ip: '10.0.3.2' } }, "peer.ip: 10.0.3.2 is not in the guest's subnet 10.0.2.15/24"],
    ['same addresses', { name: 'n', peer: { ip: '10.0.2.15' } }, 'peer.ip: must differ from guest.ip'],
    ['broadcast guest', { name: 'n', guest: { ip: '10.0.2.255' } }, 'guest.ip: 10.0.2.255 is the network or broadcast address'],
    ['prefix too long', { name: 'n', guest: { prefixLength: 31 } }, 'guest.prefixLength: must be between 8 and 30, got 31'],
    ['bad delay', { name: 'n', link: { delay: 'soon' } }, 'link.delay: must be a duration'],
    ['delay too long', { name: 'n', link: { delay: '2s' } }, 'link.delay: must be at most 1s'],
    ['zero bandwidth', { name: 'n', link: { bandwidthMbps: 0 } }, 'link.bandwidthMbps: must be between 1 and 400000, got 0'],
    ['MTU too small', { name: 'n', link: { mtu: 20 } }, 'link.mtu: must be between 68 and 9000, got 20'],
    ['loss over 100', { name: 'n', link: { lossPct: 101 } }, 'link.lossPct: must be between 0 and 100, got 101'],
    ['loss not a number', { name: 'n', link: { duplicatePct: '5' } }, 'link.duplicatePct: must be a number from 0 to 100, got "5"'],
    ['port out of range', { name: 'n', udpEcho: { ports: [7, 70000] } }, 'udpEcho.ports[1]: must be between 1 and 65535, got 70000'],
    ['duplicate port', { name: 'n', udpEcho: { ports: [7, 9, 7] } }, 'udpEcho.ports[2]: duplicate port 7 (also udpEcho.ports[0])'],
    ['ports not a list', { name: 'n', udpEcho: { ports: 7 } }, 'udpEcho.ports: must be a list of port numbers'],
    ['schedule not a list', { name: 'n', schedule: {} }, 'schedule: must be a list'],
    ['schedule without time', { name: 'n', schedule: [{ action: 'link-down' }] }, 'schedule[0].at: is required'],
    ['unknown action', { name: 'n', schedule: [{ at: '1ms', action: 'reboot' }] }, 'schedule[0].action: must be one of "link-down", "link-up", "gratuitous-arp", "arp-request", got "reboot"'],
    ['link up while up', { name: 'n', schedule: [{ at: '1ms', action: 'link-up' }] }, 'schedule[0].action: "link-up" when the link is already up'],
    ['down twice (time order)', { name: 'n', schedule: [{ at: '3ms', action: 'link-down' }, { at: '1ms', action: 'link-down' }] }, 'schedule[0].action: "link-down" when the link is already down'],
  ];
  for (const [what, json, msg] of cases) {
    it(`rejects ${what}, naming the file and field`, () => {
      const e = error(json);
      expect(e.message).toContain(`${FILE}: ${msg}`);
      expect(e.file).toBe(FILE);
    });
  }
});
