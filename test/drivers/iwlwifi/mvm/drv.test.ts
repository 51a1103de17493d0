import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bareKernel } from '../../../kernel/harness.js';
import { LinuxKpi } from '../../../../src/drivers/linux-kpi/kpi.js';
import { buildFirmware } from '../../../../src/devices/iwlwifi/firmware/index.js';
import { requestIwlFirmware, type LoadedFirmware } from '../../../../src/drivers/iwlwifi/drv.js';
import { PDEV, testImage } from './fake-trans.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function fwDir(files: Record<number, Uint8Array>): string {
  const d = mkdtempSync(join(tmpdir(), 'iwlfw-'));
  dirs.push(d);
  for (const [api, bytes] of Object.entries(files)) writeFileSync(join(d, `iwlwifi-7265D-${api}.ucode`), bytes);
  return d;
}

function image(api: number): Uint8Array {
  const img = testImage();
  img.version = { major: 17, minor: 3, api, serial: 1 };
  return buildFirmware(img);
}

function load(dir: string) {
  const { kernel, run } = bareKernel();
  let got: LoadedFirmware | number = 0;
  kernel.spawn('iwlwifi', function* (sys) {
    const k = new LinuxKpi(sys, 'iwlwifi');
    k.setFirmwareDir(dir);
    got = yield* requestIwlFirmware(k, PDEV, 29);
  });
  run();
  return { got: got as LoadedFirmware | number, logs: kernel.logs.map((l) => `${l.level} ${l.text}`), crashes: kernel.crashes };
}

describe('iwlwifi firmware request', () => {
  it('falls back from a missing 29 and a damaged 28 to 27', () => {
    const bad = image(28);
    bad[4] = 0; // magic
    const { got, logs, crashes } = load(fwDir({ 28: bad, 27: image(27) }));
    expect(crashes).toEqual([]);
    expect(typeof got).toBe('object');
    expect((got as LoadedFirmware).name).toBe('iwlwifi-7265D-27.ucode');
    expect(logs.some((l) => l.startsWith('error iwlwifi: Direct firmware load for iwlwifi-7265D-29.ucode failed'))).toBe(true);
    expect(logs.some((l) => l.startsWith('error iwlwifi 0000:03:00.0: iwlwifi-7265D-28.ucode: header.magic: magic is'))).toBe(true);
    expect(logs).toContain('info iwlwifi 0000:03:00.0: loaded firmware version 17.3.27.1 iwlwifi-7265D-27.ucode op_mode iwlmvm');
  });

  it('fails with -ENOENT and a clear line when nothing is usable', () => {
    const { got, logs } = load(fwDir({ 25: new Uint8Array(10) }));
    expect(got).toBe(-2);
    expect(logs.some((l) => l.includes('iwlwifi-7265D-25.ucode: header: file is 10 bytes'))).toBe(true);
    expect(logs).toContain('error iwlwifi 0000:03:00.0: no suitable firmware found!');
  });
});
