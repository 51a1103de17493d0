/**
 * Recorder benchmark support. The workload is deterministic; the clock is
 * passed in by the caller (bench scripts), so nothing here reads the wall
 * clock. Run: `npx tsx test/trace/bench-recorder.ts`.
 */
import type { Tracer } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import type { TraceHeaderInput } from '../../src/trace/format.js';

export const BENCH_HEADER: TraceHeaderInput = {
  tool: { name: 'simrun', version: 'bench' },
  scenario: { name: 'bench', path: 'bench', hash: '0' },
  seed: 1,
  machine: { cores: 2 },
  fixtures: [],
  devices: [{ index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' }, { index: 1, id: 'wifi0', type: 'iwlwifi', bdf: '00:05.0' }],
};

export interface WorkloadMix {
  mmio: number;
  dma64: number;
  dma4k: number;
  dma16: number;
  msi: number;
  other: number;
}

/**
 * Emits about `records` events shaped like NVMe I/O: per command a doorbell
 * write, a 64-byte SQE read (a small pool, so many repeat), a 4 KiB data
 * transfer (one of 16 pages 7 times in 8, otherwise fresh content), a 16-byte
 * CQE write, an MSI, a status read and a CQ doorbell; plus an occasional
 * milestone or log line. Returns the mix actually emitted.
 */
export function driveWorkload(t: Tracer, records: number): WorkloadMix {
  const ram = new Uint8Array(1 << 20);
  let x = 0x12345678;
  const rnd = (): number => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return x >>> 0;
  };
  // 16 data pages at 0x10000.., 32 SQE templates at 0x1000..
  for (let i = 0x1000; i < 0x10000 + 16 * 4096; i += 4) {
    const v = rnd();
    ram[i] = v; ram[i + 1] = v >>> 8; ram[i + 2] = v >>> 16; ram[i + 3] = v >>> 24;
  }
  const mix: WorkloadMix = { mmio: 0, dma64: 0, dma4k: 0, dma16: 0, msi: 0, other: 0 };
  let time = 1_000_000;
  let n = 0;
  let cid = 0;
  while (n < records) {
    time += 150_000 + (rnd() & 0xffff);
    t.mmio(true, time, 0, 0, 0, 0x1000, 4, cid & 63); n++; mix.mmio++;
    time += 80_000;
    const sqe = 0x1000 + (rnd() & 31) * 64;
    t.dma(false, time, 0, 0x2000_0000 + (cid & 63) * 64, ram, sqe, 64, 'nvme.sqe'); n++; mix.dma64++;
    time += 2_000_000;
    const r = rnd();
    let page = 0x10000 + (r & 15) * 4096;
    if ((r >>> 8) % 8 === 0) {
      page = 0x30000;
      for (let i = 0; i < 4096; i += 64) ram[page + i] = rnd();
    }
    t.dma(true, time, 0, 0x4000_0000 + (r & 0xfff) * 4096, ram, page, 4096, 'data'); n++; mix.dma4k++;
    time += 50_000;
    ram[0x50000] = cid; ram[0x50001] = cid >>> 8; ram[0x5000e] = cid & 1;
    t.dma(true, time, 0, 0x3000_0000 + (cid & 63) * 16, ram, 0x50000, 16, 'nvme.cqe'); n++; mix.dma16++;
    time += 10_000;
    t.msi(time, 0, 0xfee00000, 0x4021, 0, 0x21); n++; mix.msi++;
    time += 300_000;
    t.mmio(false, time, 0, 0, 0, 0x1c, 4, 1); n++; mix.mmio++;
    time += 100_000;
    t.mmio(true, time, 0, 0, 0, 0x1004, 4, cid & 63); n++; mix.mmio++;
    if ((cid & 15) === 0) {
      t.milestone(time, 0, 'cq.post', cid, 0); n++; mix.other++;
    }
    if ((cid & 255) === 0) {
      t.log(time, 7, 'debug', 'nvmed: completed a batch of 256 commands'); n++; mix.other++;
    }
    cid++;
  }
  return mix;
}

export interface RecorderBenchResult {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  bytes: number;
  bytesPerRecord: number;
  blobs: number;
  mix: WorkloadMix;
}

/**
 * Records `records` events of the workload into memory (or into `path`) and
 * times it with `clock` (milliseconds; the caller passes a wall clock).
 */
export function benchRecorder(
  clock: () => number,
  opts: { records?: number; chunkBytes?: number; path?: string } = {},
): RecorderBenchResult {
  const records = opts.records ?? 2_000_000;
  const ro = opts.chunkBytes ? { chunkBytes: opts.chunkBytes } : {};
  const make = (): TraceRecorder => (opts.path ? TraceRecorder.create(opts.path, BENCH_HEADER, ro) : TraceRecorder.toBuffer(BENCH_HEADER, ro));
  // Warm-up so the JIT has settled before timing.
  const warm = make();
  driveWorkload(warm, 200_000);
  warm.close();
  const rec = make();
  const t0 = clock();
  const mix = driveWorkload(rec, records);
  const res = rec.close();
  const seconds = (clock() - t0) / 1000;
  return {
    records: res.records, seconds, recordsPerSecond: res.records / seconds,
    bytes: res.bytes, bytesPerRecord: res.bytes / res.records, blobs: res.blobs, mix,
  };
}

/**
 * Records/s per record shape (each run alone, in memory), to see what a mix
 * costs: MMIO, MSI, 64-byte DMA from a pool of 32 payloads, 4 KiB DMA that
 * repeats from the same address (memcmp only), repeats moved to another
 * address (hash + memcmp), fresh incompressible 4 KiB content (hash, two
 * copies, lz4, 4 KiB of output each), and
 * 16-byte inline payloads.
 */
export function benchKinds(clock: () => number, records = 1_000_000): Record<string, number> {
  const ram = new Uint8Array(4 << 20);
  let x = 0x9e3779b9;
  for (let i = 0; i < ram.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    ram[i] = x;
  }
  const shapes: [string, (r: TraceRecorder, i: number) => void, number][] = [
    ['mmio', (r, i) => r.mmio((i & 1) === 0, i * 1000, 0, 0, 0, 0x14, 4, i), records],
    ['msi', (r, i) => r.msi(i * 1000, 0, 0xfee00000, 0x4021, 0, 0x21), records],
    ['dma64 (32 payloads)', (r, i) => r.dma(false, i * 1000, 0, 0x1000, ram, (i & 31) * 64, 64, 'nvme.sqe'), records],
    ['dma4k repeat, same address', (r, i) => r.dma(true, i * 1000, 0, 0x1000, ram, (i & 15) * 4096, 4096, 'data'), records / 4],
    ['dma4k repeat, moving address', (r, i) => {
      // The same 16 payloads, copied around so the source address keeps changing.
      const at = (1 << 20) + (i % 251) * 4096; // 251 slots vs 16 payloads: a slot rarely holds what it held last time
      ram.copyWithin(at, (i & 15) * 4096, (i & 15) * 4096 + 4096);
      r.dma(true, i * 1000, 0, 0x1000, ram, at, 4096, 'data');
    }, records / 4],
    ['dma4k fresh content', (r, i) => {
      ram[(2 << 20) + (i & 1023)] = i; ram[(2 << 20) + 2048 + (i & 1023)] = i >>> 8;
      r.dma(true, i * 1000, 0, 0x1000, ram, 2 << 20, 4096, 'data');
    }, records / 20],
    ['dma16 inline', (r, i) => {
      ram[0] = i; ram[1] = i >>> 8;
      r.dma(true, i * 1000, 0, 0x1000, ram, 0, 16, 'nvme.cqe');
    }, records],
  ];
  const out: Record<string, number> = {};
  for (const [name, f, n] of shapes) {
    for (let pass = 0; pass < 2; pass++) {
      const rec = TraceRecorder.toBuffer(BENCH_HEADER);
      const t0 = clock();
      for (let i = 0; i < n; i++) f(rec, i);
      rec.close();
      if (pass === 1) out[name] = Math.round(n / ((clock() - t0) / 1000));
    }
  }
  return out;
}
