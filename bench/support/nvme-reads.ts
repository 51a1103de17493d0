/**
 * The NVMe read scenario the bench measures (and a kernel test checks for
 * allocation): 4 clients of 4 KiB random reads through one NVMe device with
 * 2 I/O queues and MSI-X. One definition, so the figures and the test that
 * guards them are about the same workload.
 */
export interface NvmeReadsOptions {
  name?: string;
  /** Driver: the TypeScript reference (`nvme`) or the C driver compiled to wasm (`nvme-c`). */
  driver?: 'nvme' | 'nvme-c';
  /** The disk image, as the scenario names it (relative to the scenario's folder, or absolute). */
  image?: string;
  /** Whether the clients check what they read (the bench does not). */
  verify?: boolean;
  simTime?: string;
}

/** The scenario as JSON, for parseScenario or a scenario file. */
export function nvmeReadsScenario(ops: number, o: NvmeReadsOptions = {}) {
  return {
    name: o.name ?? 'bench-nvme-4k-reads',
    machine: { cores: 2, ramMiB: 256, devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: o.image ?? '../disks/nvme-8m.img' } }] },
    drivers: { [o.driver ?? 'nvme']: { irqMode: 'msix', ioQueues: 2, queueDepth: 64 } },
    workload: { type: 'blockio', clients: 4, ops, readPct: 100, minBlocks: 8, maxBlocks: 8, verify: o.verify ?? false },
    limits: { simTime: o.simTime ?? '600s' },
  };
}
