/**
 * The iwlwifi pci_driver for the Intel Wireless 7265 (8086:095A), ported
 * through linux-kpi in the shape of Linux iwlwifi: iwl-drv.c (firmware
 * request / parse, drv.ts), the PCIe transport (./pcie), the mvm op mode
 * (./mvm) and a mac80211/cfg80211 subset (./mac80211). When the interface
 * is up the driver serves `wifictl:` and `network.<ifname>:` (schemes.ts).
 *
 * Probe: firmware -> transport probe -> op mode attached -> start_hw -> INIT
 * image (NVM, calibrations) -> runtime image -> schemes.
 */
import type { Co } from '../../sim/scheduler.js';
import type { PropTable, PropValues } from '../../sim/props.js';
import type { LinuxKpi, PciDev, PciDeviceId, PciDriver } from '../linux-kpi/kpi.js';
import { requestIwlFirmware } from './drv.js';
import { IwlMvm, type MvmConfig } from './mvm/mvm.js';
import { iwlPcieProbe, type IwlPcieTrans } from './pcie/index.js';
import { IwlSchemes } from './schemes.js';

export const iwlwifiParams = {
  irqMode: { type: 'enum', default: 'auto', values: ['auto', 'msi', 'intx'], doc: 'interrupt mechanism to request (auto: MSI, else INTx)' },
  ifname: { type: 'string', default: 'wlan0', doc: 'interface name: wifictl:<ifname>/..., network.<ifname>:' },
  firmwareDir: {
    type: 'string', default: '../firmware',
    doc: 'directory request_firmware reads (the model of /lib/firmware), relative to the scenario file\'s directory',
  },
  firmwareApiMax: { type: 'number', default: 29, min: 22, max: 29, integer: true, doc: 'highest firmware API to request (iwlwifi-7265D-<api>.ucode), tried down to 22' },
  aliveTimeoutMs: { type: 'number', default: 1000, min: 1, integer: true, doc: 'wait for the ALIVE notification after loading an image (Linux: 1 s)' },
  initCompleteTimeoutMs: { type: 'number', default: 2000, min: 1, integer: true, doc: 'wait for INIT_COMPLETE after PHY_CONFIGURATION (Linux: 2 s)' },
  scanTimeoutMs: { type: 'number', default: 10000, min: 1, integer: true, doc: 'wait for SCAN_COMPLETE_UMAC before aborting the scan' },
  connectTimeoutMs: { type: 'number', default: 5000, min: 1, integer: true, doc: 'overall limit for authentication and association' },
  mgmtTimeoutMs: { type: 'number', default: 300, min: 1, integer: true, doc: 'wait for each authentication / association response' },
  mgmtRetries: { type: 'number', default: 3, min: 1, max: 10, integer: true, doc: 'authentication / association attempts' },
  rxQueueLen: { type: 'number', default: 64, min: 1, max: 4096, integer: true, doc: 'received frames buffered for network.<ifname> readers (more are dropped)' },
} as const satisfies PropTable;

export type IwlwifiParams = PropValues<typeof iwlwifiParams>;

export const IWLWIFI_PARAM_DEFAULTS: IwlwifiParams = {
  irqMode: 'auto', ifname: 'wlan0', firmwareDir: '../firmware', firmwareApiMax: 29, aliveTimeoutMs: 1000, initCompleteTimeoutMs: 2000,
  scanTimeoutMs: 10000, connectTimeoutMs: 5000, mgmtTimeoutMs: 300, mgmtRetries: 3, rxQueueLen: 64,
};

/** One bound adapter: the transport, the op mode and the schemes. */
export interface IwlwifiDevice {
  trans: IwlPcieTrans;
  mvm: IwlMvm;
  schemes: IwlSchemes;
  firmwareName: string;
}

export function mvmConfig(p: IwlwifiParams): MvmConfig {
  return {
    ifname: p.ifname, aliveTimeoutMs: p.aliveTimeoutMs, initCompleteTimeoutMs: p.initCompleteTimeoutMs,
    scanTimeoutMs: p.scanTimeoutMs, connectTimeoutMs: p.connectTimeoutMs, mgmtTimeoutMs: p.mgmtTimeoutMs,
    mgmtRetries: p.mgmtRetries, rxQueueLen: p.rxQueueLen,
  };
}

function irqModeOf(s: string): 'auto' | 'msi' | 'intx' {
  return s === 'msi' || s === 'intx' ? s : 'auto';
}

/** The PCI ids this port drives (iwl_hw_card_ids, reduced to the 7265D: 8086:095A, any subsystem). */
export const IWL_ID_TABLE: readonly PciDeviceId[] = [{ vendor: 0x8086, device: 0x095a }];

/** The pci_driver for the match table; `firmwareDir` is where request_firmware looks. */
export function makeIwlwifiPciDriver(params: IwlwifiParams, firmwareDir: string, onReady?: (d: IwlwifiDevice) => void): PciDriver {
  return {
    name: 'iwlwifi',
    idTable: [...IWL_ID_TABLE],
    *probe(k: LinuxKpi, pdev: PciDev): Co<number> {
      k.setFirmwareDir(firmwareDir);
      k.dev_info(pdev, `Intel(R) Dual Band Wireless AC 7265 (8086:095a), interface ${params.ifname}`);
      const fw = yield* requestIwlFirmware(k, pdev, params.firmwareApiMax);
      if (typeof fw === 'number') {
        k.dev_err(pdev, `cannot load firmware: ${fw}`);
        return fw;
      }
      const t = yield* iwlPcieProbe(k, pdev, { irqMode: irqModeOf(params.irqMode) });
      if (typeof t === 'number') {
        k.dev_err(pdev, `PCIe transport probe failed: ${t}`);
        return t;
      }
      k.dev_info(pdev, `hardware revision 0x${t.hwRev.toString(16)}`);
      const mvm = new IwlMvm(k, pdev, t, fw.image, mvmConfig(params));
      t.setOpMode(mvm);
      const r = yield* mvm.start();
      if (r < 0) {
        k.dev_err(pdev, `${params.ifname}: bring-up failed: ${r}`);
        yield* t.free();
        return r;
      }
      const schemes = new IwlSchemes(k, pdev, mvm, params.ifname);
      const dev: IwlwifiDevice = { trans: t, mvm, schemes, firmwareName: fw.name };
      pdev.driverData = dev;
      schemes.start();
      onReady?.(dev);
      return 0;
    },
  };
}
