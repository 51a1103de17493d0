/**
 * Runs a compiled linux-kpi PCI driver: load the module, call its
 * `simrun_module_init` (module_pci_driver), read the `struct pci_driver` it
 * registered, match its id table against the function pcid gave us, and
 * call its probe with a `struct pci_dev` in the module's memory. Then the
 * process stays resident in its IRQ threads and kthreads, like a Linux
 * driver (and like runLinuxPciDriver for TypeScript drivers).
 */
import type { Co, Sys } from '../../kernel/sys.js';
import type { PciFunctionHandle } from '../../kernel/pcid.js';
import { LinuxKpi } from '../../drivers/linux-kpi/kpi.js';
import { loadDriverModule } from '../runtime/module.js';
import { WasmProcess } from '../runtime/process.js';
import { KpiShim } from './shim.js';
import { LINUX_KPI_TABLES } from './tables.js';

/** struct pci_driver (guest/include/linux/pci.h) on wasm32. */
const DRV = { name: 0, idTable: 4, probe: 8, remove: 12 } as const;
/** struct pci_device_id: vendor, device, subvendor, subdevice, class, class_mask, driver_data (7 × 4 bytes). */
const ID_SIZE = 28;
/** struct pci_dev: __handle, vendor (u16), device (u16), class, irq, struct device { __handle, driver_data }. */
const PDEV = { handle: 0, vendor: 4, device: 6, class: 8, irq: 12, devHandle: 16, size: 24 } as const;
const ANY = 0xffffffff;

export interface CompiledPciDriverOptions {
  /** The driver's name in logs. */
  name: string;
  /** Path of the instrumented module. */
  module: string;
  memoryBytes: number;
  /** Scenario parameters the module reads with param_int. */
  params: Readonly<Record<string, unknown>>;
  /** The driver's firmware directory (its /lib/firmware), if it has one. */
  firmwareDir?: string;
}

export function* runCompiledPciDriver(sys: Sys, pci: PciFunctionHandle, o: CompiledPciDriverOptions): Co<number> {
  const mod = loadDriverModule(o.module);
  const k = new LinuxKpi(sys, o.name);
  if (o.firmwareDir !== undefined) k.setFirmwareDir(o.firmwareDir);
  const proc = new WasmProcess(mod, sys, {
    memoryBytes: o.memoryBytes, imports: LINUX_KPI_TABLES,
    // Linux's might_sleep: a call that may sleep, made with a spinlock held.
    sleepingWhileLocked: (name, locks) => k.env.log('error', `BUG: ${name.replace(/^linux\./, '')} (sleeping) while holding ${locks} spinlock(s)`),
  });
  const shim = new KpiShim(k, proc, o.params);
  proc.host = shim;
  const ctors = proc.exported('__wasm_call_ctors');
  if (ctors !== undefined) yield* proc.call(sys, ctors, [], '__wasm_call_ctors');
  const init = proc.exported('simrun_module_init');
  if (init === undefined) {
    sys.log('error', `${o.name}: ${o.module} exports no simrun_module_init (use module_pci_driver)`);
    return 1;
  }
  const r = yield* proc.call(sys, init, [], 'simrun_module_init');
  if (r < 0 || shim.driverStruct === 0) {
    sys.log('error', `${o.name}: module init ${r < 0 ? `failed: ${r}` : 'registered no pci_driver'}`);
    return 1;
  }
  const drv = shim.driverStruct;
  const pdev = k.makePciDev(pci);
  const idPtr = matchIdTable(proc, proc.u32(drv + DRV.idTable), pdev.vendor, pdev.device, pdev.class);
  if (idPtr === 0) {
    sys.log('error', `${o.name}: spawned for ${pdev.bdf} but its id table does not match`);
    return 1;
  }
  const probe = proc.tableFunction(proc.u32(drv + DRV.probe));
  if (probe === undefined) {
    sys.log('error', `${o.name}: struct pci_driver has no probe function`);
    return 1;
  }
  const cdev = proc.malloc(PDEV.size, 16, true);
  const h = shim.addDev(pdev);
  proc.setU32(cdev + PDEV.handle, h);
  proc.bytes[cdev + PDEV.vendor] = pdev.vendor & 0xff; proc.bytes[cdev + PDEV.vendor + 1] = pdev.vendor >> 8;
  proc.bytes[cdev + PDEV.device] = pdev.device & 0xff; proc.bytes[cdev + PDEV.device + 1] = pdev.device >> 8;
  proc.setU32(cdev + PDEV.class, pdev.class);
  proc.setU32(cdev + PDEV.irq, pdev.irq);
  proc.setU32(cdev + PDEV.devHandle, h);
  const pr = yield* proc.call(sys, probe, [cdev, idPtr], 'probe');
  if (pr < 0) {
    k.dev_err(pdev, `probe failed: ${pr}`);
    return 1;
  }
  yield* sys.park();
  return 0;
}

/** The first entry of a C `pci_device_id` table (ended by an all-zero entry) matching the function, or 0. */
function matchIdTable(proc: WasmProcess, table: number, vendor: number, device: number, cls: number): number {
  for (let p = table; p !== 0; p += ID_SIZE) {
    const v = proc.u32(p), d = proc.u32(p + 4), c = proc.u32(p + 16), m = proc.u32(p + 20);
    if (v === 0 && d === 0 && c === 0 && m === 0) return 0;
    if ((v === ANY || v === vendor) && (d === ANY || d === device) && ((cls ^ c) & m) === 0) return p;
  }
  return 0;
}
