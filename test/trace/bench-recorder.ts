/**
 * Recorder throughput (not a test): `npx tsx test/trace/bench-recorder.ts [records] [file]`.
 * Prints one JSON line with records/s and bytes/record for the NVMe-like mix
 * of src/trace/bench-support.ts, in memory and (if a file is given) to disk,
 * plus the workload's own cost with recording off.
 */
import { performance } from 'node:perf_hooks';
import * as fs from 'node:fs';
import { benchKinds, benchRecorder, driveWorkload } from '../../bench/support/trace-workload.js';
import { NULL_TRACER } from '../../src/sim/tracer.js';

const records = Number(process.argv[2] ?? 3_000_000);
const file = process.argv[3];
driveWorkload(NULL_TRACER, 200_000);
const t0 = performance.now();
driveWorkload(NULL_TRACER, records);
const workloadOnly = (performance.now() - t0) / 1000;
const clock = (): number => performance.now();
const best = (path?: string) => {
  const runs = [1, 2, 3].map(() => benchRecorder(clock, path ? { records, path } : { records }));
  return runs.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
};
const mem = best();
const disk = file ? best(file) : undefined;
if (file) fs.rmSync(file, { force: true });
console.log(JSON.stringify({
  bench: 'trace.recorder',
  records: mem.records,
  recordsPerSecond: Math.round(mem.recordsPerSecond),
  recordsPerSecondExclWorkload: Math.round(mem.records / (mem.seconds - workloadOnly)),
  recordsPerSecondToFile: disk ? Math.round(disk.recordsPerSecond) : undefined,
  bytesPerRecord: Number(mem.bytesPerRecord.toFixed(2)),
  bytes: mem.bytes,
  blobs: mem.blobs,
  mix: mem.mix,
  perShapeRecordsPerSecond: benchKinds(clock),
}, null, 1));
