import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { diffTraces } from '../../../src/trace/diff/index.js';
import { makeDiffBenchTraces } from '../../../bench/support/diff-workload.js';
import { retainedBytes, tmpDir } from '../helpers.js';

const used = retainedBytes;

describe('simrun diff: large traces', () => {
  it('diffs two 300k-event traces with bounded memory and finds the planted differences', () => {
    const { dir, cleanup } = tmpDir();
    try {
      // b: every DMA address moved by 1 MiB, plus per 100k events one changed doorbell value,
      // one dropped event and one extra status read. Small blob windows bound the readers.
      const { a, b } = makeDiffBenchTraces(300_000, dir, 8 * 1024 * 1024);
      expect(path.dirname(a as string)).toBe(dir);
      const base = used();
      let peak = 0;
      let samples = 0;
      const r = diffTraces({
        a, b, decoders: deviceDecoders(),
        progress: () => {
          if (++samples % 2 === 0) peak = Math.max(peak, used() - base);
        },
      });
      expect(r.error).toBeUndefined();
      expect(r.a!.events).toBeGreaterThanOrEqual(300_000);
      expect(samples).toBeGreaterThan(5);
      // The moved buffers are absorbed by renaming: data, SQE and CQE payloads all align.
      for (const s of r.streams.filter((x) => x.kind.startsWith('dma'))) {
        expect(s.same, s.stream).toBeGreaterThan(0.999 * Math.min(s.a, s.b));
      }
      // The planted differences (3 periods) and little else.
      expect(r.identical).toBe(false);
      expect(r.totals.changed + r.totals.inserted + r.totals.removed).toBeGreaterThanOrEqual(6);
      expect(r.totals.changed + r.totals.inserted + r.totals.removed).toBeLessThan(40);
      expect(r.divergences.some((d) => d.stream === 'nvme0 mmio' && /SQ0TDBL|CQ0HDBL/.test(d.what))).toBe(true);
      // Two readers (one 8 MiB payload window each) plus the diff's bounded buffers;
      // keeping the events would take hundreds of MB.
      expect(peak).toBeLessThan(64 * 1024 * 1024);
      // eslint-disable-next-line no-console
      console.log(`diffed ${r.a!.events} + ${r.b!.events} events, peak retained growth ${(peak / 1e6).toFixed(1)} MB, ` +
        `${r.totals.changed} changed, ${r.totals.inserted} inserted, ${r.totals.removed} removed`);
    } finally {
      cleanup();
    }
  });
});
