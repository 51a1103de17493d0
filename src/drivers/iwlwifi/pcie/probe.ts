/**
 * PCI probe part of the transport (Linux pcie/drv.c iwl_pci_probe and
 * iwl_trans_pcie_alloc): enable the function, bus master, map BAR0, check
 * HW_REV, mask and ack interrupts, allocate the ICT table, one MSI vector
 * (else INTx), request the IRQ, and set up NAPI.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO, ENODEV, ENOMEM } from '../../../kernel/errno.js';
import { CSR, HW_REV_TYPE_7265D, HW_REV_TYPE_MASK, ICT } from '../iwl-csr.js';
import { IRQ_NONE, PCI_IRQ_LEGACY, PCI_IRQ_MSI, type LinuxKpi, type PciDev } from '../../linux-kpi/kpi.js';
import { IwlIo, hex } from './io.js';
import { iwlPcieIrq, iwlPcieNapiPoll } from './isr.js';
import { PcieTrans } from './trans.js';

/** request_irq flags: IRQF_SHARED (the INTx line may be shared). */
const IRQF_SHARED = 0x80;
/** NAPI weight of the RX queue. */
const NAPI_WEIGHT = 64;

export interface IwlPcieParams { irqMode: 'auto' | 'msi' | 'intx' }

export function* iwlPcieProbe(k: LinuxKpi, pdev: PciDev, params: IwlPcieParams): Co<PcieTrans | number> {
  yield* k.pci_enable_device(pdev);
  yield* k.pci_set_master(pdev);
  k.dma_set_mask_and_coherent(pdev, 36);
  const bar = k.pci_iomap(pdev, 0);
  if (bar === null) {
    k.dev_err(pdev, 'BAR0 is not a mapped memory BAR');
    yield* k.pci_disable_device(pdev);
    return -EIO;
  }
  const io = new IwlIo(k, pdev, bar);
  const hwRev = io.read32(CSR.HW_REV);
  if (hwRev === 0xffffffff) {
    io.err('HW_REV=0xFFFFFFFF: device gone (PCI issues?)');
    yield* k.pci_disable_device(pdev);
    return -ENODEV;
  }
  if ((hwRev & HW_REV_TYPE_MASK) !== HW_REV_TYPE_7265D) {
    io.err(`unsupported hardware revision 0x${hex(hwRev)} (type 0x${(hwRev & HW_REV_TYPE_MASK).toString(16)}; this driver handles the 7265D, 0x${HW_REV_TYPE_7265D.toString(16)})`);
    yield* k.pci_disable_device(pdev);
    return -ENODEV;
  }
  const t = new PcieTrans(k, pdev, io, hwRev);
  // Interrupts off and acked until start_hw.
  io.write32(CSR.INT_MASK, 0);
  io.write32(CSR.INT, 0xffffffff);
  io.write32(CSR.FH_INT_STATUS, 0xffffffff);

  const fail = function* (r: number): Co<number> {
    yield* t.free();
    yield* k.pci_disable_device(pdev);
    return r;
  };

  const ict = k.dma_alloc_coherent(pdev, ICT.SIZE);
  if (ict === null || ict.dma % ICT.SIZE !== 0) {
    if (ict !== null) k.dma_free_coherent(pdev, ict);
    io.err('could not allocate a 4 KiB aligned ICT table');
    return yield* fail(-ENOMEM);
  }
  t.ict = ict;

  const flags = params.irqMode === 'msi' ? PCI_IRQ_MSI : params.irqMode === 'intx' ? PCI_IRQ_LEGACY : PCI_IRQ_MSI | PCI_IRQ_LEGACY;
  const nvec = yield* k.pci_alloc_irq_vectors(pdev, 1, 1, flags);
  if (nvec < 0) {
    io.err(`no interrupt of the requested kind (${params.irqMode}): ${nvec}`);
    return yield* fail(nvec);
  }
  t.irqVector = k.pci_irq_vector(pdev, 0);
  t.napi = k.netif_napi_add((napi, budget) => iwlPcieNapiPoll(t, napi, budget), NAPI_WEIGHT);
  k.napi_enable(t.napi);
  const r = yield* k.request_irq(t.irqVector, (_irq, dev) => (dev === t ? iwlPcieIrq(t) : IRQ_NONE), IRQF_SHARED, 'iwlwifi', t);
  if (r < 0) {
    io.err(`Error allocating IRQ ${t.irqVector}: ${r}`);
    return yield* fail(r);
  }
  t.irqRequested = true;
  io.info(`Intel Wireless 7265D, HW_REV 0x${hex(hwRev)}, interrupts: ${pdev.irqType}`);
  return t;
}
