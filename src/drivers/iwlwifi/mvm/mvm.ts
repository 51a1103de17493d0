/**
 * The iwlwifi op mode for the 7265D ("mvm"), split along the Linux files it
 * mirrors: core.ts (mvm.h / ops.c shared state and host commands), nvm.ts,
 * tx.ts, fw.ts, scan.ts, mlme.ts (contexts, station, mac80211 MLME), rx.ts
 * and ops.ts (the IwlOpMode entry points); state.ts is the life cycle they
 * share (one discriminated union). This module is the public face.
 */
export { IwlMvm } from './ops.js';
export { MVM_CONFIG_DEFAULTS, type MvmConfig, type MvmStats, type NvmData, type WifiState } from './core.js';
export { parseNvm } from './nvm.js';
export type { Connection, Link, MvmState } from './state.js';
