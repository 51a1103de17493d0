/**
 * Firmware request and parse (Linux iwl-drv.c: iwl_request_firmware /
 * iwl_req_fw_callback): try `iwlwifi-7265D-<api>.ucode` from the highest API
 * the driver supports down to the lowest; a file that is missing or fails to
 * parse makes the driver try the next lower API.
 */
import type { Co } from '../../sim/scheduler.js';
import { ENOENT } from '../../kernel/errno.js';
import { FirmwareFormatError, IWL7265D_API_MAX, IWL7265D_API_MIN, parseFirmware, type FirmwareImage } from './fw/file.js';
import type { LinuxKpi, PciDev } from '../linux-kpi/kpi.js';

export const FW_PREFIX = 'iwlwifi-7265D-';

export function firmwareName(api: number): string { return `${FW_PREFIX}${api}.ucode`; }

export interface LoadedFirmware {
  image: FirmwareImage;
  name: string;
  api: number;
  /** "major.minor.api.serial" from the header's ver word. */
  version: string;
}

/**
 * Requests and parses the firmware, API `apiMax` (clamped to the device's
 * 29) down to `apiMin` (22). Returns the parsed image or -ENOENT after
 * "no suitable firmware found!".
 */
export function* requestIwlFirmware(k: LinuxKpi, pdev: PciDev, apiMax: number, apiMin = IWL7265D_API_MIN): Co<LoadedFirmware | number> {
  const top = Math.min(apiMax, IWL7265D_API_MAX);
  const bottom = Math.max(apiMin, IWL7265D_API_MIN);
  for (let api = top; api >= bottom; api--) {
    const name = firmwareName(api);
    k.dev_dbg(pdev, `attempting to load firmware '${name}'`);
    const fw = yield* k.request_firmware(name);
    if (typeof fw === 'number') continue; // request_firmware logged the miss
    let image: FirmwareImage;
    try {
      image = parseFirmware(fw.data, { fileName: name, apiMin: IWL7265D_API_MIN, apiMax: IWL7265D_API_MAX, device: '7265D' });
    } catch (e) {
      const msg = e instanceof FirmwareFormatError ? e.message : `unexpected parse failure: ${String(e)}`;
      k.dev_err(pdev, msg.startsWith(name) ? msg : `${name}: ${msg}`);
      k.release_firmware(fw);
      continue;
    }
    k.release_firmware(fw);
    const v = image.version;
    const version = `${v.major}.${v.minor}.${v.api}.${v.serial}`;
    k.dev_info(pdev, `loaded firmware version ${version} ${name} op_mode iwlmvm`);
    return { image, name, api, version };
  }
  k.dev_err(pdev, 'no suitable firmware found!');
  k.dev_err(pdev, `minimum version required: ${FW_PREFIX}${bottom}, maximum: ${FW_PREFIX}${top}`);
  return -ENOENT;
}
