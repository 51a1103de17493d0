import { resolve } from 'node:path';
import type { Co } from '../sim/scheduler.js';
import { validateProps, type PropTable, type PropValues } from '../sim/props.js';
import type { PciFunctionHandle, PciFunctionInfo } from '../kernel/pcid.js';
import type { Sys } from '../kernel/sys.js';
import { LinuxKpi, pciMatch, type PciDriver } from './linux-kpi/kpi.js';
import { makeNvmePciDriver, type NvmeParams } from './nvme/driver.js';
import { iwlwifiParams, makeIwlwifiPciDriver, type IwlwifiParams } from './iwlwifi/index.js';

/**
 * The pcid-spawner match table: which driver starts for which PCI function.
 * A new driver is one folder under src/drivers plus one entry here.
 */
export interface DriverEntry<T extends PropTable = PropTable> {
  name: string;
  description: string;
  /** 'linux-kpi' drivers are ported Linux drivers; 'redox' ones use src/drivers/sys directly. */
  kind: 'linux-kpi' | 'redox';
  params: T;
  matches(info: PciFunctionInfo): boolean;
  /** The driver process's main task. */
  main(sys: Sys, pci: PciFunctionHandle, params: PropValues<T>, env: DriverEnv): Co<number | void>;
}

/** Where the driver's files are: relative paths in driver params resolve against the scenario's directory. */
export interface DriverEnv {
  baseDir: string;
}

/** Runs a linux-kpi `pci_driver`: probe, then stay resident serving callbacks until killed. */
export function* runLinuxPciDriver(sys: Sys, pci: PciFunctionHandle, drv: PciDriver): Co<number> {
  const k = new LinuxKpi(sys, drv.name);
  const pdev = k.makePciDev(pci);
  const id = pciMatch(drv.idTable, pdev.vendor, pdev.device, pdev.class);
  if (id === undefined) {
    sys.log('error', `${drv.name}: spawned for ${pdev.bdf} but its id table does not match`);
    return 1;
  }
  const r = yield* drv.probe(k, pdev, id);
  if (r < 0) {
    k.dev_err(pdev, `probe failed: ${r}`);
    return 1;
  }
  // Resident: a Linux driver lives on in its IRQ threads and kthreads.
  yield* sys.kernel.block(sys.ctx);
  return 0;
}

const nvmeParams = {
  irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msix', 'msi', 'intx'], doc: 'interrupt mechanism to request' },
  ioQueues: { type: 'number', default: 2, min: 1, max: 64, integer: true, doc: 'I/O queue pairs to request' },
  queueDepth: { type: 'number', default: 64, min: 2, max: 65536, integer: true, doc: 'entries per I/O queue (capped by CAP.MQES)' },
  adminTimeoutMs: { type: 'number', default: 2000, min: 1, integer: true, doc: 'admin command timeout' },
  ioTimeoutMs: { type: 'number', default: 30000, min: 1, integer: true, doc: 'I/O command timeout (blk-mq default 30 s), then the command is aborted and its request fails with EIO' },
} as const satisfies PropTable;

export const DRIVERS: DriverEntry[] = [
  {
    name: 'nvme',
    description: 'NVMe driver ported through linux-kpi (nvme-pci shape); serves disk.nvme',
    kind: 'linux-kpi',
    params: nvmeParams,
    matches: (info) => info.classCode === 0x010802,
    main: (sys, pci, params) => runLinuxPciDriver(sys, pci, makeNvmePciDriver(params as unknown as NvmeParams)),
  },
  {
    name: 'iwlwifi',
    description: 'Intel Wi-Fi (7265D) driver ported through linux-kpi (iwlwifi pcie transport + mvm); serves wifictl and network.<ifname>',
    kind: 'linux-kpi',
    params: iwlwifiParams,
    matches: (info) => info.vendorId === 0x8086 && info.deviceId === 0x095a,
    main: (sys, pci, params, env) => {
      const p = params as unknown as IwlwifiParams;
      return runLinuxPciDriver(sys, pci, makeIwlwifiPciDriver(p, resolve(env.baseDir, p.firmwareDir)));
    },
  },
];

export function findDriver(name: string): DriverEntry | undefined {
  return DRIVERS.find((d) => d.name === name);
}

export function validateDriverParams(entry: DriverEntry, raw: unknown, where: string): Record<string, unknown> {
  return validateProps(entry.params, raw, where) as Record<string, unknown>;
}
