import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { wifiResultOf } from '../../src/workloads/wifi.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-wifi-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FW = join(ROOT, 'fixtures/firmware');

/** A bring-up with the firmware directory `fwDir`; returns the result and the driver's log. */
function bringUp(fwDir: string) {
  const s = parseScenario({
    name: 'wifi-fw-files',
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/small.json' } }] },
    drivers: { iwlwifi: { irqMode: 'msi', firmwareDir: fwDir } },
    workload: { type: 'wifi', pings: 2, waitForDriverMs: 3000 },
    limits: { simTime: '10s' },
  }, join(ROOT, 'fixtures/scenarios/wifi-fw-files.json'), 'test');
  let logs: string[] = [];
  const out = runScenario(s, { onBuilt: (m) => { logs = []; m.kernel.onLog = (l) => logs.push(l.text); } });
  return { result: out.result, logs };
}

function fwDir(name: string, files: Record<string, Uint8Array>): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  for (const [f, bytes] of Object.entries(files)) writeFileSync(join(d, f), bytes);
  return d;
}

describe('iwlwifi firmware files: bad images are refused with a message naming what is wrong', () => {
  const good29 = new Uint8Array(readFileSync(join(FW, 'iwlwifi-7265D-29.ucode')));
  const good27 = new Uint8Array(readFileSync(join(FW, 'iwlwifi-7265D-27.ucode')));

  it('a truncated newest image is refused (file, field, byte offset) and the driver falls back to the next API', () => {
    const d = fwDir('fallback', { 'iwlwifi-7265D-29.ucode': good29.subarray(0, 5000), 'iwlwifi-7265D-27.ucode': good27 });
    const { result, logs } = bringUp(d);
    expect(logs.some((l) => /iwlwifi-7265D-29\.ucode: tlv\[\d+\]\.length: .*\(at byte offset \d+\)/.test(l)), logs.join('\n')).toBe(true);
    expect(logs.some((l) => /loaded firmware version 27\.0\.27\.4 iwlwifi-7265D-27\.ucode/.test(l))).toBe(true);
    expect(wifiResultOf(result.workload)!.steps).toContain('connect');
  });

  it('bad magic and an API outside 22-29 are named; with nothing usable, probe fails and the scheme never appears', () => {
    const badMagic = good29.slice();
    badMagic[4] = 0x00;
    const wrongApi = good27.slice();
    wrongApi[73] = 31; // ver: API byte (15:8)
    const d = fwDir('none', { 'iwlwifi-7265D-29.ucode': badMagic, 'iwlwifi-7265D-27.ucode': wrongApi });
    const { result, logs } = bringUp(d);
    expect(logs.some((l) => /iwlwifi-7265D-29\.ucode: header\.magic: .*\(at byte offset 4\)/.test(l)), logs.join('\n')).toBe(true);
    expect(logs.some((l) => /iwlwifi-7265D-27\.ucode: header\.ver: API 31 is outside the range 22-29/.test(l))).toBe(true);
    expect(logs.some((l) => /no suitable firmware found/.test(l))).toBe(true);
    expect(wifiResultOf(result.workload)!.failedStep).toBe('up');
    expect(result.crashes).toEqual([]);
  });

  it('an image the parser accepts but whose section bytes are damaged fails the firmware\'s own check (SW error, no ALIVE)', () => {
    const damaged = good29.slice();
    // A byte in the payload of the INIT image's boot section (SIMF header: magic "SIMF", kind 1, index 0):
    // the file still parses, but the section's CRC no longer matches once it is in SRAM.
    const simf = Buffer.from(damaged.buffer, damaged.byteOffset, damaged.length);
    let at = -1;
    for (let i = simf.indexOf('SIMF'); i >= 0; i = simf.indexOf('SIMF', i + 1)) if (simf[i + 5] === 1 && simf[i + 6] === 0) { at = i; break; }
    expect(at).toBeGreaterThan(0);
    damaged[at + 200]! ^= 0xff;
    const d = fwDir('damaged', { 'iwlwifi-7265D-29.ucode': damaged });
    const { result, logs } = bringUp(d);
    expect(logs.some((l) => /loaded firmware version 29\.0\.29\.5/.test(l))).toBe(true);
    expect(logs.some((l) => /Microcode SW error detected/.test(l)), logs.join('\n')).toBe(true);
    expect(wifiResultOf(result.workload)!.failedStep).toBe('up');
  });
});
