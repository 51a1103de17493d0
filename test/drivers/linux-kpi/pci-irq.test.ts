import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, type DriverEntry } from '../../../src/drivers/registry.js';
import {
  DMA_FROM_DEVICE, IRQ_HANDLED, LinuxKpi, PCI_IRQ_ALL_TYPES, PCI_IRQ_LEGACY, PCI_IRQ_MSI, type PciDev,
} from '../../../src/drivers/linux-kpi/kpi.js';
import { parseScenario } from '../../../src/machine/scenario.js';
import { runScenario } from '../../../src/machine/run.js';
import { DISK } from '../../e2e/helpers.js';

/**
 * A small ported-style driver on a real NVMe model: pci.h (enable, bus
 * master, BARs, config space), io.h (readl/readq/writel/writeq),
 * dma-mapping.h (coherent queues, a streaming mapping for the Identify
 * data), interrupt.h (vectors, request_irq, free_irq) and completion.h (the
 * handler completes, probe waits) — one Identify command end to end.
 */
let flags = PCI_IRQ_ALL_TYPES;
let found: Record<string, unknown> = {};

const kpiIdentify: DriverEntry = {
  name: 'kpi-identify',
  description: 'test: identify an NVMe controller through linux-kpi',
  kind: 'linux-kpi',
  params: {},
  idTable: [{ class: 0x010802, classMask: 0xffffff }],
  *main(sys, handle) {
    const k = new LinuxKpi(sys, 'kpi-identify');
    const pdev: PciDev = k.makePciDev(handle);
    found.ids = [pdev.vendor, pdev.device, pdev.class];
    found.cfgVendor = yield* k.pci_read_config_word(pdev, 0);
    found.enable = yield* k.pci_enable_device(pdev);
    yield* k.pci_set_master(pdev);
    found.busMaster = ((yield* k.pci_read_config_word(pdev, 4)) & 4) !== 0;
    found.bar0 = [k.pci_resource_start(pdev, 0) !== 0, k.pci_resource_len(pdev, 0) >= 0x2000];
    found.absentBar = k.pci_iomap(pdev, 5);
    const bar = k.pci_iomap(pdev, 0)!;
    found.vs = k.readl(bar, 0x08);
    found.capMqesPlus1 = Number(k.readq(bar, 0x00) & 0xffffn) + 1;

    found.nvec = yield* k.pci_alloc_irq_vectors(pdev, 1, 2, flags);
    found.again = yield* k.pci_alloc_irq_vectors(pdev, 1, 2, flags); // already allocated
    found.irqType = pdev.irqType;
    const irq = k.pci_irq_vector(pdev, 0);
    found.noVector = k.pci_irq_vector(pdev, 7);
    const done = k.init_completion();
    let handled = 0;
    const handler = (n: number, dev: unknown): typeof IRQ_HANDLED => {
      handled++;
      found.handlerArgs = [n === irq, dev === pdev];
      k.writel(1, bar, 0x1004); // CQ0 head: the entry is consumed (drops INTx)
      k.complete(done);
      return IRQ_HANDLED;
    };
    found.request = yield* k.request_irq(irq, handler, 0, 'nvme-test', pdev);
    found.requestTwice = yield* k.request_irq(irq, handler, 0, 'nvme-test', pdev);

    const asq = k.dma_alloc_coherent(pdev, 4096)!;
    const acq = k.dma_alloc_coherent(pdev, 4096)!;
    const idBuf = new Uint8Array(4096);
    const map = k.dma_map_single(pdev, idBuf, DMA_FROM_DEVICE)!;
    k.writel((1 << 16) | 1, bar, 0x24); // AQA: 2-entry admin queues
    k.writeq(asq.dma, bar, 0x28);
    k.writeq(BigInt(acq.dma), bar, 0x30);
    k.writel(0x00460001, bar, 0x14); // CC.EN
    while ((k.readl(bar, 0x1c) & 1) === 0) yield* k.msleep(1);
    asq.dv.setUint8(0, 0x06); // Identify
    asq.dv.setUint16(2, 0x1234, true);
    asq.dv.setUint32(24, map.dma, true);
    asq.dv.setUint32(40, 1, true); // CNS 1: controller
    k.writel(1, bar, 0x1000); // SQ0 tail
    found.left = yield* k.wait_for_completion_timeout(done, k.msecs_to_jiffies(100));
    found.cid = acq.dv.getUint16(12, true);
    found.beforeUnmap = idBuf[24];
    k.dma_unmap_single(pdev, map); // copies the device's data back
    found.model = String.fromCharCode(...idBuf.subarray(24, 64)).trim();
    found.handled = handled;
    found.irqCount = k.irqCount(irq);

    k.free_irq(irq);
    yield* k.pci_free_irq_vectors(pdev);
    found.afterFree = [pdev.irqType, pdev.vectors.length, k.irqCount(irq)];
    k.dma_free_coherent(pdev, asq);
    k.dma_free_coherent(pdev, asq); // double free: logged
    // acq is left allocated: reported as a leak at exit.
    return 0;
  },
};

function run(f: number) {
  flags = f;
  found = {};
  const s = parseScenario({
    name: 'kpi-identify',
    machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
    drivers: { 'kpi-identify': {} },
  }, '/tmp/kpi-identify.json', 'h');
  const out = runScenario(s);
  const logs = out.machine.kernel.logs.filter((l) => l.proc === 'kpi-identify' || l.text.startsWith('kpi-identify')).map((l) => `${l.level} ${l.text}`);
  return { out, logs };
}

describe('linux-kpi pci, io, dma-mapping, interrupt and completion on an NVMe model', () => {
  beforeAll(() => { DRIVERS.push(kpiIdentify); });
  afterAll(() => { DRIVERS.splice(DRIVERS.indexOf(kpiIdentify), 1); });

  it.each([
    ['msix', PCI_IRQ_ALL_TYPES, 2],
    ['msi', PCI_IRQ_MSI | PCI_IRQ_LEGACY, 1],
    ['legacy', PCI_IRQ_LEGACY, 1],
  ] as const)('with %s interrupts', (mode, f, nvec) => {
    const { out, logs } = run(f);
    expect(out.result.crashes).toEqual([]);
    expect(out.result.guestErrors).toBe(0);
    expect(found).toMatchObject({
      ids: [expect.any(Number), expect.any(Number), 0x010802],
      enable: 0, busMaster: true, bar0: [true, true], absentBar: null,
      vs: 0x00010400,
      nvec, again: -22, irqType: mode, noVector: -22,
      request: 0, requestTwice: -22,
      left: expect.any(Number), cid: 0x1234, beforeUnmap: 0, model: 'simrun NVMe SSD',
      handled: 1, irqCount: 1, handlerArgs: [true, true],
      afterFree: ['none', 0, 0],
    });
    expect(found.cfgVendor).toBe((found.ids as number[])[0]);
    expect(found.capMqesPlus1).toBeGreaterThan(1);
    expect(found.left).toBeGreaterThan(0);
    expect(logs).toContain('error kpi-identify: dma_free_coherent of a buffer that is not allocated');
    expect(logs).toContain('warn kpi-identify: leak: 1 coherent DMA buffers not freed at driver exit');
  });
});
