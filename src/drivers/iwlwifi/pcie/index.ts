/**
 * The iwlwifi gen1 PCIe transport for the 7265D (Linux pcie/): probe,
 * bring-up, firmware load, host commands, TX/RX rings and interrupts.
 */
import type { Co } from '../../../sim/scheduler.js';
import type { LinuxKpi, PciDev } from '../../linux-kpi/kpi.js';
import type { IwlOpMode, IwlTrans } from '../trans-api.js';
import { iwlPcieProbe as probe } from './probe.js';

export interface IwlPcieTrans extends IwlTrans {
  setOpMode(op: IwlOpMode): void;
  /** Free everything (IRQ, rings, ICT) for remove/probe failure. */
  free(): Co<void>;
}

/**
 * PCI probe part of the transport: enable device, bus master, map BAR0, read
 * HW_REV (0xFFFFFFFF -> -ENODEV "device gone"), check it is a 7265D, mask
 * and ack interrupts, allocate the ICT table, MSI (1 vector) else INTx,
 * request_irq, NAPI. Returns the transport or a negated errno.
 */
export function iwlPcieProbe(k: LinuxKpi, pdev: PciDev, params: { irqMode: 'auto' | 'msi' | 'intx' }): Co<IwlPcieTrans | number> {
  return probe(k, pdev, params);
}

export { PcieTrans, ERFKILL } from './trans.js';
export { CMD_QUEUE, CMD_SLOTS, HOST_COMPLETE_TIMEOUT_MS, TX_WATCHDOG_MS } from './tx.js';
export { FW_CHUNK_TIMEOUT_MS, planChunks, type FwChunk } from './fw-load.js';
