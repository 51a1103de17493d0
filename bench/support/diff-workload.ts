/**
 * Diff benchmark support: builds two N-event traces of the NVMe-like bench
 * workload (src/trace/bench-support.ts) — b with every DMA address moved
 * (renaming must absorb it) and a few real differences (a changed doorbell
 * value, a dropped event and an extra register read every 100,000 events) —
 * then times `diffTraces` on them. The clock and the memory probe are passed
 * in by the caller (bench scripts), so nothing here reads the wall clock.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import { BENCH_HEADER, driveWorkload } from './trace-workload.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import type { LogLevel, ProcEvent, Tracer } from '../../src/sim/tracer.js';
import { diffTraces } from '../../src/trace/diff/engine.js';

/** Passes events on to `t`, with b's differences: addresses moved, one value changed, one event dropped, one added per period. */
export class PerturbingTracer implements Tracer {
  readonly enabled = true;
  private n = 0;
  private changeDue = false;
  constructor(private readonly t: Tracer, private readonly period = 100_000, private readonly addrShift = 0x10_0000) {}

  /** True for the event that should be dropped; also adds the extra event half a period later. */
  private tick(time: number): boolean {
    const i = this.n++;
    const p = i % this.period;
    if (p === Math.floor(this.period / 4)) this.changeDue = true;
    if (p === Math.floor(this.period / 2)) this.t.mmio(false, time, 0, 0, 0, 0x1c, 4, 1);
    return p === this.period - 1;
  }

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    if (this.tick(time)) return;
    const change = write && this.changeDue;
    if (change) this.changeDue = false;
    this.t.mmio(write, time, core, dev, bar, offset, size, change ? value ^ 0x40 : value);
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    if (!this.tick(time)) this.t.pio(write, time, core, dev, port, size, value);
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    if (!this.tick(time)) this.t.cfg(write, time, core, dev, offset, size, value);
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    if (!this.tick(time)) this.t.dma(write, time, dev, addr + this.addrShift, data, offset, length, tag, image, imageOffset);
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    if (!this.tick(time)) this.t.intx(time, dev, gsi, level);
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    if (!this.tick(time)) this.t.msi(time, dev, addr, data, core, vector);
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    if (!this.tick(time)) this.t.schemeReq(time, pid, scheme, op, reqId, a, b);
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    if (!this.tick(time)) this.t.schemeReply(time, pid, scheme, reqId, result);
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    if (!this.tick(time)) this.t.milestone(time, dev, name, a, b);
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    if (!this.tick(time)) this.t.log(time, pid, level, text);
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    if (!this.tick(time)) this.t.guestErr(time, dev, code, message);
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    if (!this.tick(time)) this.t.proc(time, pid, event, name, detail);
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    if (!this.tick(time)) this.t.air(time, dev, tx, channel, signal, rate, data, offset, length);
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    if (!this.tick(time)) this.t.eth(time, dev, tx, port, data, offset, length);
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    if (!this.tick(time)) this.t.frame(time, dev, pipe, seq, width, height, format, data, offset, length);
  }
}

/**
 * Writes the bench pair (a plain, b perturbed) of about `events` events each;
 * to files in `dir`, or in memory. `blobWindowBytes` is the recorder's payload
 * window (default 64 MiB), which bounds each reader's payload memory.
 */
export function makeDiffBenchTraces(events: number, dir?: string, blobWindowBytes?: number): { a: string | Uint8Array; b: string | Uint8Array } {
  const ro = blobWindowBytes !== undefined ? { blobWindowBytes } : {};
  const one = (perturb: boolean, name: string): string | Uint8Array => {
    const file = dir !== undefined ? path.join(dir, name) : undefined;
    const rec = file !== undefined ? TraceRecorder.create(file, BENCH_HEADER, ro) : TraceRecorder.toBuffer(BENCH_HEADER, ro);
    driveWorkload(perturb ? new PerturbingTracer(rec) : rec, events);
    const res = rec.close();
    return file ?? res.buffer!;
  };
  return { a: one(false, 'diff-bench-a.simtrace'), b: one(true, 'diff-bench-b.simtrace') };
}

export interface DiffBenchResult {
  eventsA: number;
  eventsB: number;
  seconds: number;
  /** Events of both traces per second. */
  eventsPerSecond: number;
  /** Highest value returned by `memory` while diffing (bytes), if a probe was given. */
  peakMemory?: number;
  identical: boolean;
  changed: number;
  inserted: number;
  removed: number;
  divergences: number;
}

export interface DiffBenchOptions {
  /** Write the traces to files in a new directory under this one (deleted afterwards) instead of memory; use it for large N. */
  dir?: string;
  /** Memory probe sampled while diffing (e.g. `() => process.memoryUsage().rss`). */
  memory?: () => number;
  /** Keep the trace files (default false). */
  keep?: boolean;
  /** Recorder payload window of the generated traces (default: the recorder's, 64 MiB). */
  blobWindowBytes?: number;
}

/**
 * Times a diff of two existing traces with `clock` (milliseconds,
 * the caller's wall clock), sampling `memory` (if given) every 65,536 events.
 * For a peak-RSS figure, run this in a process that did not also generate
 * the traces (generation leaves the recorder's memory in the RSS).
 */
export function benchDiffFiles(
  clock: () => number, a: string | Uint8Array, b: string | Uint8Array, memory?: () => number,
): DiffBenchResult {
  let peak = memory ? memory() : 0;
  const t0 = clock();
  const r = diffTraces({
    a, b, decoders: deviceDecoders(),
    ...(memory ? { progress: () => { peak = Math.max(peak, memory()); } } : {}),
  });
  const seconds = (clock() - t0) / 1000;
  if (memory) peak = Math.max(peak, memory());
  if (r.error !== undefined) throw new Error(`diff bench failed: ${r.error}`);
  const eventsA = r.a?.events ?? 0;
  const eventsB = r.b?.events ?? 0;
  const out: DiffBenchResult = {
    eventsA, eventsB, seconds, eventsPerSecond: (eventsA + eventsB) / seconds, identical: r.identical,
    changed: r.totals.changed, inserted: r.totals.inserted, removed: r.totals.removed, divergences: r.totals.divergences,
  };
  if (memory) out.peakMemory = peak;
  return out;
}

/**
 * Times diffing two `events`-event traces with `clock` (milliseconds,
 * the caller's wall clock). Trace generation is not timed.
 */
export function benchDiff(clock: () => number, events: number, opts: DiffBenchOptions = {}): DiffBenchResult {
  // A directory of our own, so concurrent runs never share trace files.
  const dir = opts.dir !== undefined ? fs.mkdtempSync(path.join(opts.dir, 'simrun-diff-bench-')) : undefined;
  const { a, b } = makeDiffBenchTraces(events, dir, opts.blobWindowBytes);
  try {
    return benchDiffFiles(clock, a, b, opts.memory);
  } finally {
    if (dir !== undefined && !opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
