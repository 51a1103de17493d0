import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, type DriverEntry } from '../../src/drivers/registry.js';
import { Dma, IrqHandle, PciDevice } from '../../src/drivers/sys/index.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { DISK } from '../e2e/helpers.js';

const found: Record<string, string | number> = {};

/** A native Redox-style driver: no linux-kpi, just redox-driver-sys-like calls. */
const redoxIdentify: DriverEntry = {
  name: 'redox-identify',
  description: 'test: identify an NVMe controller the Redox way',
  kind: 'redox',
  params: {},
  matches: (info) => info.classCode === 0x010802,
  *main(sys, handle) {
    const pci = new PciDevice(sys, handle);
    yield* pci.enable();
    const bar = pci.mapBar(0);
    found.vs = bar.read32(0x08);
    const irqs = (yield* pci.enableMsix(1))!;
    const irq: IrqHandle = irqs[0]!;
    const asq = Dma.zeroed(sys, 4096);
    const acq = Dma.zeroed(sys, 4096);
    const id = Dma.zeroed(sys, 4096);
    bar.write32(0x24, (1 << 16) | 1); // 2-entry admin queues
    bar.write32(0x28, asq.phys); bar.write32(0x2c, 0);
    bar.write32(0x30, acq.phys); bar.write32(0x34, 0);
    bar.write32(0x14, 0x00460001);
    while ((bar.read32(0x1c) & 1) === 0) yield* sys.sleep(100e6);
    const sqe = asq.view;
    sqe.setUint8(0, 0x06); // Identify
    sqe.setUint16(2, 0x1234, true);
    sqe.setUint32(24, id.phys, true);
    sqe.setUint32(40, 1, true); // CNS 1: controller
    bar.write32(0x1000, 1);
    found.irqs = yield* irq.wait();
    found.cid = acq.view.getUint16(12, true);
    found.phase = (acq.view.getUint16(14, true) & 1);
    found.model = String.fromCharCode(...id.bytes.subarray(24, 64)).trim();
    bar.write32(0x1004, 1);
    return 0;
  },
};

describe('redox-driver-sys layer', () => {
  beforeAll(() => { DRIVERS.push(redoxIdentify); });
  afterAll(() => { DRIVERS.splice(DRIVERS.indexOf(redoxIdentify), 1); });

  it('a native driver maps the BAR, sets up MSI-X, allocates DMA and identifies the controller', () => {
    const s = parseScenario({
      name: 'sys',
      machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { 'redox-identify': {} },
    }, '/tmp/sys.json', 'h');
    const out = runScenario(s);
    expect(out.result.crashes).toEqual([]);
    expect(out.result.guestErrors).toBe(0);
    expect(found).toEqual({ vs: 0x00010400, irqs: 1, cid: 0x1234, phase: 1, model: 'simrun NVMe SSD' });
  });
});
