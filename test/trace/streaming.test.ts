import * as path from 'node:path';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { BENCH_HEADER, driveWorkload } from '../../bench/support/trace-workload.js';
import { retainedBytes, tmpDir } from './helpers.js';

const used = retainedBytes;

describe('streaming reader', () => {
  it('reads a trace of a million records with flat memory', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const file = path.join(dir, 'big.trace');
      // A small blob window: the reader holds at most one window of distinct payloads.
      const rec = TraceRecorder.create(file, BENCH_HEADER, { blobWindowBytes: 8 * 1024 * 1024 });
      driveWorkload(rec, 1_000_000);
      const res = rec.close();
      expect(res.records).toBeGreaterThanOrEqual(1_000_000);
      const size = fs.statSync(file).size;

      const t = openTrace(file);
      const base = used();
      let peak = 0;
      let n = 0;
      let lastSeq = -1;
      let payloadBytes = 0;
      for (const e of t.events()) {
        if (e.seq !== lastSeq + 1) throw new Error(`sequence gap at ${e.seq}`);
        lastSeq = e.seq;
        if (e.kind === 'dma') payloadBytes += e.data.length;
        if (++n % 100_000 === 0) peak = Math.max(peak, used() - base);
      }
      expect(n).toBe(res.records);
      expect(t.damage).toEqual([]);
      // What was streamed is far more than what was ever held at once.
      expect(payloadBytes).toBeGreaterThan(500_000_000);
      // Retaining the decoded events would take hundreds of MB; a streaming reader holds
      // one chunk, the strings and at most one blob window of payloads (8 MiB here).
      expect(peak).toBeLessThan(24 * 1024 * 1024);
      // eslint-disable-next-line no-console
      console.log(`streamed ${n} records (${(size / 1e6).toFixed(1)} MB file, ${(payloadBytes / 1e9).toFixed(2)} GB of DMA payload), peak retained growth ${(peak / 1e6).toFixed(1)} MB`);
    } finally {
      cleanup();
    }
  });
});
