import { EINVAL, ENOSPC } from '../../kernel/errno.js';
import type { Co } from '../../kernel/sys.js';
import { type IrqHandle, PciDevice } from '../sys/index.js';
import type { KpiEnv } from './env.js';
import type { PciDev } from './pci.js';

export const PCI_IRQ_LEGACY = 1 << 0;
export const PCI_IRQ_MSI = 1 << 1;
export const PCI_IRQ_MSIX = 1 << 2;
export const PCI_IRQ_ALL_TYPES = PCI_IRQ_LEGACY | PCI_IRQ_MSI | PCI_IRQ_MSIX;

export const IRQ_NONE = 0;
export const IRQ_HANDLED = 1;
export type IrqReturn = typeof IRQ_NONE | typeof IRQ_HANDLED;
export type IrqHandler = (irq: number, devId: unknown) => IrqReturn;

interface IrqVector {
  irq: number;
  handle: IrqHandle;
  kind: 'legacy' | 'msi' | 'msix';
  handler: IrqHandler | undefined;
  devId: unknown;
  name: string;
  thread: number;
  count: number;
}

/**
 * linux/interrupt.h plus the vector half of linux/pci.h: allocating
 * MSI-X/MSI/legacy vectors (Linux irq numbers from 256 for message
 * vectors, the GSI for the legacy line) and running handlers. A handler
 * runs in a per-vector IRQ thread of the driver process, woken by the
 * vector's irq: handle, and must not block (it is a plain function).
 */
export class LinuxInterrupt {
  private readonly irqs = new Map<number, IrqVector>();
  private nextMsiIrq = 256;
  constructor(private readonly env: KpiEnv) {}

  /**
   * Allocates between min and max vectors of the allowed types, preferring
   * MSI-X, then MSI (one vector), then the legacy line. Returns the count
   * or a negated errno.
   */
  *pci_alloc_irq_vectors(pdev: PciDev, min: number, max: number, flags: number): Co<number> {
    if (pdev.irqType !== 'none') return -EINVAL;
    const dev = new PciDevice(this.env.sys, pdev.handle);
    const add = (irq: number, h: IrqHandle, kind: IrqVector['kind']) => {
      this.irqs.set(irq, { irq, handle: h, kind, handler: undefined, devId: undefined, name: '', thread: -1, count: 0 });
      pdev.vectors.push(irq);
    };
    if (flags & PCI_IRQ_MSIX) {
      const info = yield* pdev.handle.msixInfo();
      if (info !== undefined && info.tableSize >= min) {
        const hs = yield* dev.enableMsix(Math.min(max, info.tableSize));
        if (hs !== undefined) {
          for (const h of hs) add(this.nextMsiIrq++, h, 'msix');
          pdev.irqType = 'msix';
          return hs.length;
        }
      }
    }
    if ((flags & PCI_IRQ_MSI) && min <= 1) {
      const h = yield* dev.enableMsi();
      if (h !== undefined) {
        add(this.nextMsiIrq++, h, 'msi');
        pdev.irqType = 'msi';
        return 1;
      }
    }
    if ((flags & PCI_IRQ_LEGACY) && min <= 1) {
      const h = yield* dev.legacyIrq();
      if (h !== undefined) {
        add(pdev.irq, h, 'legacy');
        pdev.irqType = 'legacy';
        return 1;
      }
    }
    return -ENOSPC;
  }

  pci_irq_vector(pdev: PciDev, nr: number): number {
    return pdev.vectors[nr] ?? -EINVAL;
  }

  *pci_free_irq_vectors(pdev: PciDev): Co<void> {
    for (const irq of pdev.vectors) {
      const v = this.irqs.get(irq);
      if (v === undefined) continue;
      yield* v.handle.close();
      this.irqs.delete(irq);
    }
    if (pdev.irqType === 'msix') yield* pdev.handle.setMsix(false, false);
    pdev.vectors = [];
    pdev.irqType = 'none';
  }

  /**
   * Installs `handler` for `irq`: an IRQ thread waits on the vector's irq:
   * handle and calls it for each interrupt (acknowledging legacy lines).
   */
  request_irq(irq: number, handler: IrqHandler, _flags: number, name: string, devId: unknown): number {
    const v = this.irqs.get(irq);
    if (v === undefined) return -EINVAL;
    if (v.handler !== undefined) return -EINVAL;
    v.handler = handler;
    v.devId = devId;
    v.name = name;
    const sysOfKpi = this.env.sys;
    v.thread = sysOfKpi.spawnThread(`irq/${irq}-${name}`, function* (sys) {
      for (;;) {
        const n = yield* v.handle.wait(sys);
        if (n < 0) return;
        if (v.handler === undefined) return;
        v.count++;
        const r = v.handler(irq, v.devId);
        if (v.kind === 'legacy') yield* v.handle.ack(sys);
        if (r === IRQ_NONE && v.kind !== 'legacy') sysOfKpi.log('debug', `irq ${irq}: handler returned IRQ_NONE`);
      }
    });
    return 0;
  }

  /** Removes the handler and ends the vector's IRQ thread. */
  free_irq(irq: number): void {
    const v = this.irqs.get(irq);
    if (v === undefined) return;
    v.handler = undefined;
    this.env.sys.killThread(v.thread);
  }

  /** Interrupts handled on `irq` so far. */
  irqCount(irq: number): number {
    return this.irqs.get(irq)?.count ?? 0;
  }
}
