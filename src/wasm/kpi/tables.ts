/** Every import table of the linux-kpi for compiled drivers: what run.ts instantiates with and the build hands to Asyncify. */
import type { ImportTable } from '../runtime/process.js';
import { LINUX_IMPORTS } from './shim.js';
import { SYNC_IMPORTS } from './shim-sync.js';
import { BLK_IMPORTS } from './shim-blk.js';
import { NET_IMPORTS } from './shim-net.js';
import { NETDEV_IMPORTS } from './shim-netdev.js';

export const LINUX_KPI_TABLES: readonly ImportTable[] = [LINUX_IMPORTS, SYNC_IMPORTS, BLK_IMPORTS, NET_IMPORTS, NETDEV_IMPORTS];
