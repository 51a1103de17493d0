import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExportPcap } from '../../../src/trace/export/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const GOLDEN = join(ROOT, 'traces/wifi-connect.simtrace');
const dir = mkdtempSync(join(tmpdir(), 'simrun-wifi-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tshark = spawnSync('which', ['tshark'], { encoding: 'utf8' }).status === 0;

/** SSID as tshark prints it: text (newer versions) or hex (4.0). */
const ssidText = (s: string) => (/^[0-9a-f]+$/.test(s) && s.length % 2 === 0 ? Buffer.from(s, 'hex').toString('latin1') : s);

describe('simrun export --pcap on the golden Wi-Fi trace', () => {
  const out = join(dir, 'wifi.pcap');
  let r: ReturnType<typeof runExportPcap>;
  beforeAll(() => { r = runExportPcap({ trace: GOLDEN, out, err: () => {} } as never); });

  it('writes every 802.11 frame of the run', () => {
    expect(r.exitCode).toBe(0);
    expect(r.frames).toBeGreaterThan(200);
  });

  it.skipIf(!tshark)('tshark decodes the beacons, the scan and the association exchange, with nothing malformed', () => {
    const t = spawnSync('tshark', ['-r', out, '-T', 'fields', '-E', 'separator=|', '-e', 'wlan.fc.type_subtype', '-e', 'wlan.ssid',
      '-e', 'wlan.fixed.status_code', '-e', 'wlan.fixed.aid', '-e', 'wlan.bssid', '-e', 'wlan_radio.channel'], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    const rows = t.stdout.trim().split('\n').map((l) => l.split('|'));
    const sub = (r: string[]) => parseInt(r[0]!, r[0]!.startsWith('0x') ? 16 : 10);
    const of = (st: number) => rows.filter((r) => sub(r) === st);
    const beacons = of(0x08);
    expect(beacons.length).toBeGreaterThan(0);
    expect(beacons.some((b) => ssidText(b[1]!) === 'simnet' && b[4] === '02:00:5e:10:00:01' && b[5] === '6')).toBe(true);
    expect(of(0x04).length).toBeGreaterThan(10); // probe requests
    expect(of(0x05).map((p) => ssidText(p[1]!))).toContain('simnet'); // probe responses
    expect(of(0x0b)).toHaveLength(2); // authentication request and response
    const assocReq = of(0x00);
    const assocResp = of(0x01);
    expect(assocReq).toHaveLength(1);
    expect(ssidText(assocReq[0]![1]!)).toBe('simnet');
    expect(assocResp).toHaveLength(1);
    expect(['0', '0x0000']).toContain(assocResp[0]![2]); // status: success
    expect(Number(assocResp[0]![3]) & 0x3fff).toBeGreaterThanOrEqual(1); // AID
    expect(of(0x0c)).toHaveLength(1); // deauthentication at disconnect
    expect(of(0x20).length).toBe(202); // ARP and 100 pings, each way
    const bad = spawnSync('tshark', ['-r', out, '-Y', '_ws.malformed || _ws.expert.severity >= "error"'], { encoding: 'utf8' });
    expect(bad.stdout.trim()).toBe('');
  });
});
