import { describe, expect, it } from 'vitest';
import { runRecorded } from './helpers.js';
import type { SeqEvent } from '../../src/trace/reader.js';
import { blockIoResultOf } from '../../src/workloads/blockio.js';

/** Index of the first event matching `pred`, or -1. */
const find = (evs: SeqEvent[], pred: (e: SeqEvent) => boolean, from = 0) => {
  for (let i = from; i < evs.length; i++) if (pred(evs[i]!)) return i;
  return -1;
};
const milestone = (name: string) => (e: SeqEvent) => e.kind === 'milestone' && e.name === name;
const adminSqe = (opcode: number, cdw10?: number) => (e: SeqEvent) =>
  e.kind === 'dma' && e.tag === 'nvme.asqe' && e.data[0] === opcode &&
  (cdw10 === undefined || new DataView(e.data.buffer, e.data.byteOffset).getUint32(40, true) === cdw10);
// NVMe BAR0 register offsets, for reading the trace.
const CC = 0x14;

describe.each(['msix', 'intx'] as const)('NVMe end to end with %s', (mode) => {
  const run = runRecorded(`nvme-${mode}`);
  const evs = run.events();

  it('completes at least 1,000 mixed reads and writes, every read checked against the image', () => {
    const r = run.result;
    expect(r.failures).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    expect(r.ios).toBeGreaterThanOrEqual(1000);
    const w = blockIoResultOf(r.workload)!;
    expect(w.reads).toBeGreaterThan(300);
    expect(w.writes).toBeGreaterThan(300);
    expect(w.dataErrors).toBe(0);
    expect(w.ioErrors).toBe(0);
    expect(r.guestErrors).toBe(0);
    expect(r.crashes).toEqual([]);
    expect(r.deviceStats.nvme0!.reads! + r.deviceStats.nvme0!.writes!).toBeGreaterThanOrEqual(r.ios);
  });

  it('brings the controller up in order: disable, admin queues, enable, ready, identify, queues, I/O', () => {
    const enable = find(evs, (e) => e.kind === 'mmio' && e.write && e.offset === CC && (e.value & 1) === 1);
    const ready = find(evs, milestone('ready'));
    const idCtrl = find(evs, adminSqe(0x06, 1));
    const idList = find(evs, adminSqe(0x06, 2));
    const idNs = find(evs, adminSqe(0x06, 0));
    const setQueues = find(evs, adminSqe(0x09));
    const firstIo = find(evs, (e) => e.kind === 'dma' && e.tag === 'nvme.sqe');
    const aqa = find(evs, (e) => e.kind === 'mmio' && e.write && e.offset === 0x24);
    expect(aqa).toBeGreaterThan(0);
    expect(enable).toBeGreaterThan(aqa);
    expect(ready).toBeGreaterThan(enable);
    expect(idCtrl).toBeGreaterThan(ready);
    expect(idList).toBeGreaterThan(idCtrl);
    expect(idNs).toBeGreaterThan(idList);
    expect(setQueues).toBeGreaterThan(idNs);
    const cqs = evs.filter(milestone('cq.create'));
    const sqs = evs.filter(milestone('sq.create'));
    expect(cqs).toHaveLength(2);
    expect(sqs).toHaveLength(2);
    expect(firstIo).toBeGreaterThan(evs.indexOf(sqs[1]!));
    // Identify data went to the driver by DMA and named the controller in the driver log.
    expect(evs.some((e) => e.kind === 'log' && /model "simrun NVMe SSD"/.test(e.text))).toBe(true);
    expect(evs.some((e) => e.kind === 'log' && new RegExp(`interrupts: ${mode === 'intx' ? 'legacy' : mode}`).test(e.text))).toBe(true);
  });

  if (mode === 'msix') {
    it('uses one MSI-X vector for the admin queue and one per I/O queue', () => {
      const vectors = new Set(evs.filter((e) => e.kind === 'msi').map((e) => (e.kind === 'msi' ? e.vector : 0)));
      expect(vectors.size).toBe(3);
      expect(evs.some((e) => e.kind === 'intx')).toBe(false);
      // Completion queues were created with interrupt vectors 1 and 2 (CDW11 bits 31:16).
      const ivs = evs.filter(adminSqe(0x05)).map((e) => e.kind === 'dma' ? new DataView(e.data.buffer, e.data.byteOffset).getUint32(44, true) >>> 16 : -1);
      expect(ivs).toEqual([1, 2]);
    });
  } else {
    it('raises INTx through the IOAPIC and never sends a message', () => {
      const edges = evs.filter((e) => e.kind === 'intx' && e.level === 1);
      expect(edges.length).toBeGreaterThan(100);
      expect(evs.some((e) => e.kind === 'msi')).toBe(false);
      // The line rises and falls: the device drops it when the driver consumes the entries.
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 0).length).toBeGreaterThan(100);
    });
  }
});
