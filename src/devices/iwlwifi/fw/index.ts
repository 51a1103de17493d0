/**
 * The firmware CPU of the simulated Intel 7265D (fw-cpu-api.ts
 * `FirmwareCpu`): image check and ALIVE, the INIT flow (NVM, calibration,
 * INIT_COMPLETE), UMAC scan, contexts, stations and the data path against an
 * `Air`. See cpu.ts for the lifecycle and command sets, init-flow.ts,
 * scan.ts and station.ts for each command's behaviour.
 */
import type { FirmwareCpu, FirmwareHost } from '../fw-cpu-api.js';
import { FwCore } from './cpu.js';
import type { FwConfig } from './types.js';

export type { AirLike, FwConfig, FwFaults } from './types.js';
export { NO_FAULTS } from './types.js';
export { BOOT_TIME, COMMAND_LATENCY, INIT_CMDS, RUNTIME_CMDS, type CpuState } from './cpu.js';
export { CALIB_SECTIONS, CALIB_STEP, CALIB_TIME } from './init-flow.js';
export { NVM_SIZES, NVM_VERSION, NVM_RADIO_CFG, buildNvm, channelFlags, nvmRead } from './nvm.js';
export { CHANNEL_SWITCH, DEFAULT_ACTIVE_DWELL_TU, DEFAULT_PASSIVE_DWELL_TU, TU } from './scan.js';
export { ADD_STA_MODIFY_NON_EXIST, ADD_STA_STATIONS_OVERLOAD, LONG_RETRY_LIMIT, MAX_STATIONS, TX_START } from './station.js';
export { ALIVE_PTRS, probeRequest } from './packets.js';

export function createFirmwareCpu(host: FirmwareHost, cfg: FwConfig): FirmwareCpu {
  return new FwCore(host, cfg);
}
