/**
 * Allocation benchmark support: JavaScript heap bytes allocated per NVMe
 * 4 KiB read through the whole path (client syscall, `disk.nvme` scheme
 * round trip, driver, device, DMA, MSI-X, IRQ thread and back).
 *
 * Measured with V8's GC profiler: the bytes allocated over an interval are
 * the growth of the used heap plus what every garbage collection in between
 * freed. Two runs of different lengths are measured and subtracted, so the
 * machine's set-up (scenario, devices, driver bring-up) cancels out and what
 * remains is the cost of the extra reads. Nothing here reads the wall clock.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { join, resolve } from 'node:path';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { nvmeReadsScenario } from './nvme-reads.js';
import { checkoutRoot } from './root.js';

const ROOT = checkoutRoot(import.meta.dirname);

/** The bench's NVMe read scenario. */
function nvmeReads(ops: number) {
  return parseScenario(nvmeReadsScenario(ops), join(ROOT, 'fixtures/scenarios/bench.json'), 'bench');
}

/** Heap bytes allocated while `fn` runs (used-heap growth plus everything the collections in between freed). */
export function bytesAllocatedBy(fn: () => void): number {
  const profiler = new GCProfiler();
  profiler.start();
  const before = getHeapStatistics().used_heap_size;
  fn();
  const after = getHeapStatistics().used_heap_size;
  const stats = profiler.stop()?.statistics ?? [];
  let freed = 0;
  for (const gc of stats) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
  return after - before + freed;
}

function runReads(ops: number, record: boolean): void {
  const out = runScenario(nvmeReads(ops), { recordToBuffer: record });
  if (out.result.ios !== ops) throw new Error(`alloc bench run did ${out.result.ios} of ${ops} I/Os: ${out.result.failures.join('; ')}`);
}

/**
 * Bytes allocated per NVMe 4 KiB read (the TypeScript `nvme` driver), after a
 * warm-up: (bytes of a `2 * ops` run - bytes of an `ops` run) / ops, the
 * median of `rounds` such differences. Recording is off by default (the
 * figure is then the simulator's own per-read allocation, without the trace
 * recorder's).
 */
export function nvmeReadAllocBytes(ops = 20_000, opts: { record?: boolean; rounds?: number } = {}): number {
  const record = opts.record ?? false;
  const rounds = opts.rounds ?? 3;
  for (let i = 0; i < 2; i++) runReads(ops, record); // warm-up: JIT-compiled code and feedback settle
  const per: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const short = bytesAllocatedBy(() => runReads(ops, record));
    const long = bytesAllocatedBy(() => runReads(2 * ops, record));
    per.push((long - short) / ops);
  }
  per.sort((a, b) => a - b);
  return Math.round(per[Math.floor(per.length / 2)]!);
}

// `npx tsx bench/support/alloc-workload.ts [ops]` prints the figure with recording off and on.
if (process.argv[1] !== undefined && import.meta.filename.endsWith('alloc-workload.ts') && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const ops = Number(process.argv[2] ?? 20_000);
  process.stdout.write(`nvme_read_alloc_bytes ${nvmeReadAllocBytes(ops)}\n`);
  process.stdout.write(`nvme_read_alloc_bytes_record_on ${nvmeReadAllocBytes(ops, { record: true })}\n`);
}
