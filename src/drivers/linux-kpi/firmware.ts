import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ENOENT } from '../../kernel/errno.js';
import type { Co } from '../../kernel/sys.js';
import type { KpiEnv } from './env.js';
import type { LinuxSpinlocks } from './spinlock.js';

/** `struct firmware`. */
export interface Firmware {
  readonly name: string;
  readonly data: Uint8Array;
  readonly size: number;
}

/**
 * linux/firmware.h: images from the firmware directory the machine gives
 * the driver (its /lib/firmware), tracked until released.
 */
export class LinuxFirmware {
  private dir: string | undefined;
  private readonly live = new Set<Firmware>();

  /** `onLoad` runs after each successful load (the facade registers its exit leak report on first use). */
  constructor(private readonly env: KpiEnv, private readonly spinlocks: LinuxSpinlocks, private readonly onLoad: () => void) {}

  setFirmwareDir(dir: string): void { this.dir = dir; }

  /**
   * Loads `/lib/firmware/<name>` from the firmware directory: a round trip
   * to the firmware-loading service (blocking) plus the copy into driver
   * memory. Returns the image or a negated errno.
   */
  *request_firmware(name: string): Co<Firmware | number> {
    this.spinlocks.might_sleep('request_firmware');
    const sys = this.env.sys;
    yield* sys.serviceRoundTrip();
    const dir = this.dir;
    const bad = name === '' || name.split('/').some((p) => p === '..' || p === '');
    const file = dir === undefined || bad ? undefined : join(dir, name);
    if (file === undefined || !existsSync(file) || !statSync(file).isFile()) {
      this.env.log('error', `Direct firmware load for ${name} failed with error -${ENOENT} (not found in ${dir ?? '(no firmware directory set)'})`);
      return -ENOENT;
    }
    const src = new Uint8Array(readFileSync(file));
    const data = new Uint8Array(src.length);
    sys.memcpy(data, 0, src, 0, src.length);
    const fw: Firmware = { name, data, size: data.length };
    this.live.add(fw);
    this.onLoad();
    return fw;
  }

  release_firmware(fw: Firmware | null | undefined): void {
    if (fw === null || fw === undefined) return;
    if (!this.live.delete(fw)) this.env.log('error', `release_firmware of ${fw.name}, which is not loaded`);
  }

  /** Logs images still loaded (at driver exit). */
  reportLeaks(): void {
    for (const f of this.live) this.env.log('warn', `leak: firmware ${f.name} not released at driver exit`);
  }
}
