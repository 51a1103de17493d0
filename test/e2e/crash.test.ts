import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, runLinuxPciDriver, type DriverEntry } from '../../src/drivers/registry.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { openTrace } from '../../src/trace/reader.js';
import { DISK } from './helpers.js';
import { expectCrash } from '../support/crash-guard.js';
import { blockIoResultOf } from '../../src/workloads/blockio.js';

/** A driver that sets up DMA and an enabled controller, then dereferences null. */
const crashy: DriverEntry = {
  name: 'crashy',
  description: 'test driver that crashes after enabling the controller',
  kind: 'linux-kpi',
  params: {},
  idTable: [{ class: 0x010802, classMask: 0xffffff }],
  main: (sys, pci) => runLinuxPciDriver(sys, pci, {
    name: 'crashy',
    idTable: [{ class: 0x010802 }],
    *probe(k, pdev) {
      yield* k.pci_enable_device(pdev);
      yield* k.pci_set_master(pdev);
      const bar = k.pci_iomap(pdev, 0)!;
      const q = k.dma_alloc_coherent(pdev, 8192)!;
      k.writel(0x001f001f, bar, 0x24);
      k.writeq(q.dma, bar, 0x28);
      k.writeq(q.dma + 4096, bar, 0x30);
      k.writel(0x00460001, bar, 0x14);
      yield* k.msleep(5);
      k.dev_info(pdev, `CSTS=${k.readl(bar, 0x1c)}`);
      const broken = undefined as unknown as { field: number };
      return broken.field; // TypeError: a crash in probe
    },
  }),
};

describe('a driver that crashes', () => {
  beforeAll(() => { DRIVERS.push(crashy); });
  afterAll(() => { DRIVERS.splice(DRIVERS.indexOf(crashy), 1); });

  it('is a crashed process: recorded, its device quiesced, and the rest of the machine runs on', () => {
    expectCrash(/process "crashyd".*Cannot read properties of undefined/);
    const s = parseScenario({
      name: 'crash',
      machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { crashy: {} },
      workload: { type: 'blockio', clients: 2, ops: 10, waitForDiskMs: 20 },
      expect: { crashes: 1, ioErrors: 2 },
    }, '/tmp/crash.json', 'h');
    const out = runScenario(s, { recordToBuffer: true });
    const r = out.result;
    expect(r.crashes).toHaveLength(1);
    expect(r.crashes[0]!.name).toBe('crashyd');
    expect(r.crashes[0]!.reason).toMatch(/Cannot read properties of undefined/);
    // Quiesced: the function was reset (no bus mastering, no decode) and the controller is disabled.
    const dev = out.machine.devices[0]!;
    expect(dev.fn.busMaster).toBe(false);
    expect(dev.fn.memoryEnabled).toBe(false);
    // The machine ran on: both clients gave up on the missing disk after their timeout, cleanly.
    expect(r.stoppedBy).toBe('workload-done');
    expect(blockIoResultOf(r.workload)!.ioErrors).toBe(2);
    expect(r.failures).toEqual([]);
    const evs = [...openTrace(out.trace!.buffer!).events()];
    const crash = evs.find((e) => e.kind === 'proc' && e.event === 'crash');
    expect(crash).toBeDefined();
    expect(evs.some((e) => e.kind === 'log' && /device nvme0 \(00:04\.0\) quiesced after its driver crashed/.test(e.text))).toBe(true);
    expect(evs.some((e) => e.kind === 'milestone' && e.name === 'ready')).toBe(true);
    const readyAt = evs.findIndex((e) => e.kind === 'milestone' && e.name === 'ready');
    const resetAfter = evs.findIndex((e, i) => i > readyAt && e.kind === 'milestone' && e.name === 'reset');
    expect(resetAfter).toBeGreaterThan(readyAt);
  });
});
