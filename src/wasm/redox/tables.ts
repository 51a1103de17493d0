/** Every import table of the `redox` interface for compiled drivers: what run.ts instantiates with and the build hands to Asyncify. */
import type { ImportTable } from '../runtime/process.js';
import { REDOX_IMPORTS } from './shim.js';

export const REDOX_TABLES: readonly ImportTable[] = [REDOX_IMPORTS];
