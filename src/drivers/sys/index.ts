/**
 * The redox-driver-sys-like layer: what a native Redox driver uses to reach
 * its hardware — the PCI function (from pcid), BAR mappings, IRQ handles and
 * DMA buffers — on top of the kernel model's syscalls. linux-kpi is built on
 * these.
 */
export { PciDevice } from './pci.js';
export { mapBar } from './bar.js';
export { IrqHandle } from './irq.js';
export { Dma } from './dma.js';
