import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';
import { DEFAULT_COSTS } from '../../../src/sim/cpu.js';

const dir = fileURLToPath(new URL('../../../fixtures/firmware', import.meta.url));
const NAME = 'iwlwifi-7265D-29.ucode';

describe('linux-kpi request_firmware', () => {
  it('loads the image from the firmware directory and charges a round trip plus the copy', () => {
    const { kernel, run } = bareKernel();
    const host = new Uint8Array(readFileSync(`${dir}/${NAME}`));
    let took = 0;
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      k.setFirmwareDir(dir);
      const t = sys.now;
      const fw = yield* k.request_firmware(NAME);
      took = sys.now - t;
      if (typeof fw === 'number') throw new Error(`request_firmware ${fw}`);
      expect(fw.size).toBe(220460);
      expect(Buffer.from(fw.data).equals(Buffer.from(host))).toBe(true);
      k.release_firmware(fw);
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    const min = 2 * DEFAULT_COSTS.schemeHopPs + Math.ceil(220460 / 64) * DEFAULT_COSTS.copyPsPer64B;
    expect(took).toBeGreaterThanOrEqual(min);
    expect(took).toBeLessThan(min + 5e6);
    expect(kernel.logs.filter((l) => l.level !== 'debug')).toEqual([]);
  });

  it('returns -ENOENT and logs the file and directory; unreleased firmware is a leak', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      expect(yield* k.request_firmware(NAME)).toBe(-2); // no directory set
      k.setFirmwareDir(dir);
      expect(yield* k.request_firmware('iwlwifi-9999-1.ucode')).toBe(-2);
      expect(yield* k.request_firmware('../README.md')).toBe(-2);
      const fw = yield* k.request_firmware(NAME);
      expect(typeof fw).toBe('object');
      yield* k.msleep(1);
    });
    run();
    expect(kernel.logs.map((l) => `${l.level} ${l.text}`)).toEqual([
      `error drv: Direct firmware load for ${NAME} failed with error -2 (not found in (no firmware directory set))`,
      `error drv: Direct firmware load for iwlwifi-9999-1.ucode failed with error -2 (not found in ${dir})`,
      `error drv: Direct firmware load for ../README.md failed with error -2 (not found in ${dir})`,
      `warn drv: leak: firmware ${NAME} not released at driver exit`,
    ]);
  });
});
