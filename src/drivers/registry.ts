import { accessSync, constants as fsConstants, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Co } from '../sim/scheduler.js';
import { validateProps, type PropTable, type PropValues } from '../sim/props.js';
import type { PciFunctionHandle, PciFunctionInfo } from '../kernel/pcid.js';
import type { Sys } from '../kernel/sys.js';
import { LinuxKpi, pciMatch, type PciDeviceId, type PciDriver } from './linux-kpi/kpi.js';
import { makeNvmePciDriver, NVME_DEBUG_PARAMS, NVME_ID_TABLE } from './nvme/driver.js';
import { iwlwifiParams, IWL_ID_TABLE, makeIwlwifiPciDriver } from './iwlwifi/index.js';
import { runCompiledPciDriver } from '../wasm/kpi/run.js';
import { runCompiledRedoxDriver } from '../wasm/redox/run.js';

/** The repository root (this file sits two folders below it, as the CLI bundle does). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

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
  /**
   * Runs only when a scenario names it (an alternative implementation such as
   * a compiled driver for a device the default driver already drives).
   */
  explicit?: boolean;
  /** The PCI functions it drives: the driver's own id table (a linux-kpi driver's `pci_driver.id_table`). */
  idTable: readonly PciDeviceId[];
  /** The driver process's main task. */
  main(sys: Sys, pci: PciFunctionHandle, params: PropValues<T>, env: DriverEnv): Co<number | void>;
  /**
   * Checks the host files its parameters name (e.g. a firmware directory)
   * before anything runs; throws DriverConfigError naming the parameter.
   * Called only when the scenario has a device the driver matches.
   */
  checkInputs?(params: PropValues<T>, env: DriverEnv): void;
  /** Host files the driver runs from (a compiled driver's module): named with their hashes in the trace header. */
  inputFiles?(params: PropValues<T>, env: DriverEnv): string[];
}

/** Thrown by `checkInputs` for a parameter naming a missing or unreadable file; `field` is the parameter. */
export class DriverConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

/** A registry entry with its parameter types erased: the machine validates raw params against `params` first. */
export interface AnyDriverEntry extends Omit<DriverEntry, 'main' | 'checkInputs' | 'inputFiles'> {
  main(sys: Sys, pci: PciFunctionHandle, params: Record<string, unknown>, env: DriverEnv): Co<number | void>;
  checkInputs?(params: Record<string, unknown>, env: DriverEnv): void;
  inputFiles?(params: Record<string, unknown>, env: DriverEnv): string[];
}

export function registerDriver<T extends PropTable>(d: DriverEntry<T>): AnyDriverEntry {
  const check = d.checkInputs;
  const files = d.inputFiles;
  return {
    ...d,
    main: (sys, pci, params, env) => d.main(sys, pci, params as PropValues<T>, env),
    checkInputs: check === undefined ? undefined : (params, env) => check(params as PropValues<T>, env),
    inputFiles: files === undefined ? undefined : (params, env) => files(params as PropValues<T>, env),
  };
}

/** Whether `entry` drives a function with these ids (before anything is built: the device factories' PCI ids). */
export function driverMatchesIds(entry: { idTable: readonly PciDeviceId[] }, ids: { vendorId: number; deviceId: number; classCode: number }): boolean {
  return pciMatch(entry.idTable, ids.vendorId, ids.deviceId, ids.classCode) !== undefined;
}

/** Whether `entry` drives this function (its id table matches vendor, device and class). */
export function driverMatches(entry: { idTable: readonly PciDeviceId[] }, info: PciFunctionInfo): boolean {
  return pciMatch(entry.idTable, info.vendorId, info.deviceId, info.classCode) !== undefined;
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
  yield* sys.park();
  return 0;
}

const nvmeParams = {
  irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msix', 'msi', 'intx'], doc: 'interrupt mechanism to request' },
  ioQueues: { type: 'number', default: 2, min: 1, max: 64, integer: true, doc: 'I/O queue pairs to request' },
  queueDepth: { type: 'number', default: 64, min: 2, max: 65536, integer: true, doc: 'entries per I/O queue (capped by CAP.MQES)' },
  adminTimeoutMs: { type: 'number', default: 2000, min: 1, integer: true, doc: 'admin command timeout' },
  ioTimeoutMs: { type: 'number', default: 30000, min: 1, integer: true, doc: 'I/O command timeout (blk-mq default 30 s), then the command is aborted and its request fails with EIO' },
  doorbellBeforeWrite: { type: 'boolean', default: false, doc: 'debug: a deliberate bug, ring the SQ tail doorbell before writing the I/O commands it makes available (corrupts commands on hardware; machine.sanitize reports it)' },
  ...NVME_DEBUG_PARAMS,
} as const satisfies PropTable;

export const DRIVERS: AnyDriverEntry[] = [
  registerDriver({
    name: 'nvme',
    description: 'NVMe driver ported through linux-kpi (nvme-pci shape); serves disk.nvme',
    kind: 'linux-kpi',
    params: nvmeParams,
    idTable: NVME_ID_TABLE,
    main: (sys, pci, params) => runLinuxPciDriver(sys, pci, makeNvmePciDriver(params)),
  }),
  registerDriver({
    name: 'iwlwifi',
    description: 'Intel Wi-Fi (7265D) driver ported through linux-kpi (iwlwifi pcie transport + mvm); serves wifictl and network.<ifname>',
    kind: 'linux-kpi',
    params: iwlwifiParams,
    idTable: IWL_ID_TABLE,
    main: (sys, pci, params, env) => runLinuxPciDriver(sys, pci, makeIwlwifiPciDriver(params, resolve(env.baseDir, params.firmwareDir))),
    checkInputs: (params, env) => checkFirmwareDir(resolve(env.baseDir, params.firmwareDir), params.firmwareApiMax),
  }),
];

/** Parameters every compiled driver has, besides its own. */
const compiledParams = {
  module: { type: 'string', default: '', doc: 'path of the instrumented .wasm module to run instead of the built-in one (relative to the scenario file)' },
  memoryMiB: { type: 'number', default: 16, min: 1, max: 256, integer: true, doc: 'size of the driver\'s linear memory (its heap, thread stacks and DMA buffers), mapped as RAM for device DMA' },
} as const satisfies PropTable;

/** What starts a compiled driver's module: the linux-kpi runner (C) or the Redox one (Rust). */
type CompiledRunner = (sys: Sys, pci: PciFunctionHandle, o: { name: string; module: string; memoryBytes: number; params: Readonly<Record<string, unknown>>; firmwareDir?: string }) => Co<number>;

interface CompiledDriverSpec<T extends PropTable> {
  name: string;
  /** Its file under guest/modules (without .wasm). */
  moduleName: string;
  description: string;
  params: T;
  idTable: readonly PciDeviceId[];
  /**
   * The device's own driver (no TypeScript one exists): it runs when a
   * scenario names no drivers, like the TypeScript drivers do.
   */
  default?: boolean;
}

/**
 * A driver built by npm run build:drivers (guest/c/<name> or
 * guest/rust/<name>) running on the compiled-driver runtime (src/wasm).
 * Compiled drivers are explicit (they run only when a scenario names them)
 * unless they are the only driver of their device (`default`).
 */
function compiledDriver<T extends PropTable>(kind: 'linux-kpi' | 'redox', run: CompiledRunner, d: CompiledDriverSpec<T>): AnyDriverEntry {
  const params = { ...compiledParams, ...d.params };
  const path = (p: Record<string, unknown>, env: DriverEnv) => compiledModulePath(d.moduleName, p as PropValues<typeof compiledParams>, env);
  return registerDriver({
    name: d.name,
    description: d.description,
    kind,
    explicit: d.default !== true,
    params,
    idTable: d.idTable,
    main: (sys, pci, p, env) => run(sys, pci, {
      name: d.name,
      module: path(p, env),
      memoryBytes: (p as PropValues<typeof compiledParams>).memoryMiB * 1024 * 1024,
      params: cParams(params, p),
      // A driver declaring a `firmwareDir` string parameter gets it as its /lib/firmware (request_firmware).
      ...(typeof p.firmwareDir === 'string' && p.firmwareDir !== '' ? { firmwareDir: resolve(env.baseDir, p.firmwareDir) } : {}),
    }),
    inputFiles: (p, env) => [path(p, env)],
    checkInputs: (p, env) => {
      if ((p as PropValues<typeof compiledParams>).module === '') return;
      try { accessSync(path(p, env), fsConstants.R_OK); } catch {
        throw new DriverConfigError('module', `${path(p, env)} does not exist or is not readable; build it with npm run build:drivers`);
      }
    },
  });
}

/** A C driver on the linux-kpi headers (guest/c/<name>). */
const compiledLinuxDriver = <T extends PropTable>(d: CompiledDriverSpec<T>) => compiledDriver('linux-kpi', runCompiledPciDriver, d);
/** A Rust driver in the Redox shape on the redox-driver crate (guest/rust/<name>), with the `redox` imports (src/wasm/redox). */
const compiledRedoxDriver = <T extends PropTable>(d: CompiledDriverSpec<T>) => compiledDriver('redox', runCompiledRedoxDriver, d);

/** The parameters the compiled NVMe drivers share with the TypeScript one (its debug bugs excepted). */
const compiledNvmeParams = {
  irqMode: nvmeParams.irqMode,
  ioQueues: nvmeParams.ioQueues,
  queueDepth: nvmeParams.queueDepth,
  adminTimeoutMs: nvmeParams.adminTimeoutMs,
  ioTimeoutMs: nvmeParams.ioTimeoutMs,
} as const satisfies PropTable;

/** Parameters as the C side reads them (param_int): an enum's value becomes its index in the declared values. */
function cParams(table: PropTable, p: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    const spec = table[k];
    out[k] = spec?.type === 'enum' && typeof v === 'string' ? spec.values.indexOf(v) : v;
  }
  return out;
}

/** The module a compiled driver runs: its `module` parameter, or the built one under guest/modules. */
function compiledModulePath(moduleName: string, p: PropValues<typeof compiledParams>, env: DriverEnv): string {
  return p.module === '' ? resolve(ROOT, 'guest/modules', `${moduleName}.wasm`) : resolve(env.baseDir, p.module);
}

DRIVERS.push(compiledLinuxDriver({
  name: 'kpi-selftest',
  moduleName: 'selftest',
  description: 'C (linux-kpi, compiled to wasm): runtime self-test bound to an NVMe controller; reads registers, spends `loops` iterations, DMA buffer, msleep; `fault` makes it misbehave',
  params: {
    loops: { type: 'number', default: 1000, min: 0, max: 2_000_000_000, integer: true, doc: 'iterations of arithmetic between two register reads' },
    mmio_reads: { type: 'number', default: 0, min: 0, max: 100_000_000, integer: true, doc: 'a burst of this many CSTS reads after the loop (the bench\'s boundary-call figure)' },
    fault: { type: 'number', default: 0, min: 0, max: 8, integer: true, doc: '1 BUG_ON, 2 store outside memory, 3 endless loop, 4 unbounded recursion, 5 null function pointer, 7 double kfree, 8 spinlock misuse' },
    kpi_extra: { type: 'number', default: 0, min: 0, max: 2, integer: true, doc: '1: also exercise dmapool.h, firmware.h (kpi-extra-test.bin), skbuff.h and NAPI; 2: plus a double dma_pool_free' },
    kpi_netdev: { type: 'number', default: 0, min: 0, max: 1, integer: true, doc: '1: also register a loopback net device served as network.loop0: (netdevice.h: ndo_open/stop/start_xmit, queue stop/wake, NAPI receive)' },
    firmwareDir: { type: 'string', default: '', doc: 'the driver\'s /lib/firmware for request_firmware (relative to the scenario file; empty: none)' },
  },
  idTable: [{ class: 0x010802, classMask: 0xffffff }],
}));

DRIVERS.push(compiledLinuxDriver({
  name: 'nvme-c',
  moduleName: 'nvme',
  description: 'NVMe driver in C (guest/c/nvme, Linux nvme-pci shape) on the linux-kpi headers, compiled to wasm; serves disk.nvme through the block layer',
  params: compiledNvmeParams,
  idTable: NVME_ID_TABLE,
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'redox-selftest',
  moduleName: 'redox-selftest',
  description: 'Rust (redox-driver crate, compiled to wasm): runtime self-test bound to an NVMe controller; pcid handle, registers, `loops` iterations, Dma buffer, sleep, a second thread; `fault` makes it misbehave',
  params: {
    loops: { type: 'number', default: 1000, min: 0, max: 2_000_000_000, integer: true, doc: 'iterations of arithmetic between two register reads' },
    fault: { type: 'number', default: 0, min: 0, max: 5, integer: true, doc: '1 panic!, 2 index out of bounds, 3 endless loop, 4 unbounded recursion, 5 an allocation the heap cannot hold' },
  },
  idTable: [{ class: 0x010802, classMask: 0xffffff }],
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'nvmed',
  moduleName: 'nvmed',
  description: 'NVMe driver daemon in Rust (guest/rust/nvmed, Redox nvmed shape) on the redox-driver crate, compiled to wasm; serves disk.nvme',
  params: compiledNvmeParams,
  idTable: NVME_ID_TABLE,
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'ahcid',
  moduleName: 'ahcid',
  description: 'AHCI SATA driver daemon in Rust (guest/rust/ahcid, Redox ahcid shape) on the redox-driver crate, compiled to wasm; serves disk.ahci (one disk per port with an ATA disk, numbered from 0), NCQ when the disk has it',
  params: {
    irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msi', 'intx'], doc: 'interrupt mechanism to request (auto: MSI, else INTx)' },
    ncq: { type: 'boolean', default: true, doc: 'use READ/WRITE FPDMA QUEUED when the HBA and the disk support NCQ (false: READ/WRITE DMA EXT)' },
    queueDepth: { type: 'number', default: 32, min: 1, max: 32, integer: true, doc: 'command slots (NCQ tags) used per port, at most the HBA\'s slots and the disk\'s queue depth' },
    maxTransferKiB: { type: 'number', default: 128, min: 1, max: 32768, integer: true, doc: 'largest transfer of one command; longer requests are split' },
    ioTimeoutMs: { type: 'number', default: 30000, min: 1, max: 3_600_000, integer: true, doc: 'a command not completed within this resets its port (it fails with EIO, the others are issued again)' },
    linkTimeoutMs: { type: 'number', default: 10, min: 1, max: 10_000, integer: true, doc: 'how long to wait for a port\'s link (PxSSTS.DET=3) before and after COMRESET' },
  },
  idTable: [{ class: 0x010601, classMask: 0xffffff }],
  default: true,
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'virtio-blkd',
  moduleName: 'virtio-blkd',
  description: 'virtio-blk driver daemon in Rust (guest/rust/virtio-blkd, Redox virtio-blkd shape) on the redox-driver and virtio-core crates, compiled to wasm; serves disk.virtio',
  params: {
    irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msix', 'intx'], doc: 'interrupt mechanism: MSI-X (configuration vector 0, one vector per queue) if present, else INTx through the ISR' },
    ioQueues: { type: 'number', default: 1, min: 1, max: 16, integer: true, doc: 'request queues to use (more than 1 needs VIRTIO_BLK_F_MQ; capped by num_queues)' },
    queueDepth: { type: 'number', default: 128, min: 2, max: 32768, integer: true, doc: 'entries per request queue (rounded down to a power of 2, capped by the device\'s queue_size)' },
    ioTimeoutMs: { type: 'number', default: 30000, min: 1, integer: true, doc: 'request timeout: a request not completed by then is logged and fails with EIO' },
    indirectDesc: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_F_INDIRECT_DESC when offered (a request takes one ring descriptor)' },
    eventIdx: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_F_EVENT_IDX when offered (used_event / avail_event suppression)' },
  },
  idTable: [{ vendor: 0x1af4, device: 0x1042 }],
  default: true,
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'virtio-netd',
  moduleName: 'virtio-netd',
  description: 'virtio-net driver daemon in Rust (guest/rust/virtio-netd, Redox virtio-netd shape) on the redox-driver and virtio-core crates, compiled to wasm; serves network.<ifname>',
  params: {
    ifname: { type: 'string', default: 'eth0', minLength: 1, doc: 'interface name: the driver serves network.<ifname>: (frames; network.<ifname>:mac its address)' },
    irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msix', 'intx'], doc: 'interrupt mechanism: MSI-X (configuration vector 0, receiveq and transmitq a vector each) if present, else INTx through the ISR' },
    queueSize: { type: 'number', default: 256, min: 2, max: 32768, integer: true, doc: 'entries of receiveq and transmitq (rounded down to a power of 2, capped by the device\'s queue_size)' },
    rxBuffers: { type: 'number', default: 256, min: 1, max: 32768, integer: true, doc: 'receive buffers kept posted (capped by the receive queue\'s size)' },
    rxBufferBytes: { type: 'number', default: 0, min: 0, max: 65536, integer: true, doc: 'bytes of each receive buffer (12-byte header + frame); 0: room for a whole frame (mtu + 30); smaller (at least 64) only with MRG_RXBUF, a frame then spans several buffers' },
    mrgRxbuf: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_NET_F_MRG_RXBUF when offered (frames gathered from several receive buffers)' },
    csum: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_NET_F_CSUM and GUEST_CSUM when offered (transmitted frames still carry complete checksums)' },
    indirectDesc: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_F_INDIRECT_DESC when offered (unused: every chain is one descriptor)' },
    eventIdx: { type: 'boolean', default: true, doc: 'negotiate VIRTIO_F_EVENT_IDX when offered (used_event / avail_event suppression)' },
  },
  idTable: [{ vendor: 0x1af4, device: 0x1041 }],
  default: true,
}));

DRIVERS.push(compiledRedoxDriver({
  name: 'redox-drm',
  moduleName: 'redox-drm',
  description: 'DRM/KMS display daemon in Rust (guest/rust/redox-drm, Redox redox-drm shape: a KMS/GEM core with the Intel Gen9 modesetting driver inside) on the redox-driver crate, compiled to wasm; serves drm:card0 (docs/DRM-SCHEME.md)',
  params: {
    irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msi', 'intx'], doc: 'interrupt mechanism to request (auto: MSI, else INTx)' },
    memoryMiB: { ...compiledParams.memoryMiB, default: 64, doc: 'size of the driver\'s linear memory: dumb buffers are allocated in it (a 1920x1080 buffer takes 8 MiB)' },
    faultFlipUnmapped: {
      type: 'number', default: 0, min: 0, max: 1_000_000, integer: true,
      doc: 'fault: the n-th page flip points PLANE_SURF at a GGTT address no PTE maps (a driver that forgot to map the buffer); 0 = off',
    },
  },
  idTable: [0x5912, 0x5916, 0x591b, 0x591e, 0x5926, 0x1912, 0x1916].map((device) => ({ vendor: 0x8086, device, class: 0x030000, classMask: 0xff0000 })),
  default: true,
}));

export function findDriver(name: string): AnyDriverEntry | undefined {
  return DRIVERS.find((d) => d.name === name);
}

export function validateDriverParams(entry: AnyDriverEntry, raw: unknown, where: string): Record<string, unknown> {
  return validateProps(entry.params, raw, where) as Record<string, unknown>;
}

/**
 * The iwlwifi firmware directory must be a readable directory holding at
 * least one readable iwlwifi-7265D-<api>.ucode for an API the driver
 * requests (firmwareApiMax down to 22). Bad content is not checked here: a
 * damaged image is the driver's to reject at run time.
 */
export function checkFirmwareDir(dir: string, apiMax: number): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new DriverConfigError('firmwareDir', `${dir} does not exist (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}); point it at a directory holding iwlwifi-7265D-<api>.ucode`);
  }
  if (!isDir) throw new DriverConfigError('firmwareDir', `${dir} is not a directory`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new DriverConfigError('firmwareDir', `${dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const wanted: string[] = [];
  for (let api = apiMax; api >= 22; api--) wanted.push(`iwlwifi-7265D-${api}.ucode`);
  const present = wanted.filter((n) => names.includes(n));
  if (present.length === 0) {
    throw new DriverConfigError('firmwareDir', `${dir} holds none of the firmware files the driver requests (${wanted[0]} down to ${wanted[wanted.length - 1]})`);
  }
  for (const n of present) {
    const p = resolve(dir, n);
    try {
      if (!statSync(p).isFile()) continue;
      accessSync(p, fsConstants.R_OK);
      return;
    } catch {
      // try the next API, as the driver would
    }
  }
  throw new DriverConfigError('firmwareDir', `${dir}: no readable firmware file among ${present.join(', ')}`);
}
