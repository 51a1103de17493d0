import { beforeAll, describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { compareStreams } from '../../src/trace/compare/compare.js';
import { locateFirstDivergence, stateTicks } from '../../src/trace/compare/locate.js';
import { openTrace } from '../../src/trace/reader.js';
import { DISK } from '../e2e/helpers.js';

function trace(props: Record<string, unknown>, stateHashUs = 200): Buffer {
  const s = parseScenario({
    name: 'locate',
    machine: { stateHashUs, devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK, ...props } }] },
    drivers: { nvme: { irqMode: 'msix' } },
    workload: { type: 'blockio', clients: 2, ops: 400, readPct: 100, minBlocks: 8, maxBlocks: 8 },
  }, '/tmp/locate.json', 'h');
  return runScenario(s, { recordToBuffer: true }).trace!.buffer!;
}

describe('locating the first divergence with state digests', () => {
  let good: Buffer;
  let bad: Buffer;
  beforeAll(() => {
    good = trace({});
    // Flushes are never issued, so this changes nothing... until the latency of writes matters: it doesn't
    // (reads only). A slower read latency diverges at the first read completion.
    bad = trace({ readLatencyUs: 95 });
  });

  it('records one digest per device per tick', () => {
    const ticks = stateTicks(good);
    expect(ticks.length).toBeGreaterThan(20);
    expect(ticks[1]!.time - ticks[0]!.time).toBe(200e6);
  });

  it('finds the same first divergence as a full scan, after O(log n) digest comparisons', () => {
    const full = compareStreams(openTrace(good).events(), openTrace(bad).events());
    const loc = locateFirstDivergence(good, bad);
    expect(loc.result.identical).toBe(false);
    expect(loc.result.divergences[0]!.expected!.seq).toBe(full.divergences[0]!.expected!.seq);
    expect(loc.result.divergences[0]!.kind).toBe(full.divergences[0]!.kind);
    expect(loc.probes).toBeLessThanOrEqual(Math.ceil(Math.log2(loc.ticks + 1)) + 1);
    expect(loc.fromSeqExpected).toBeGreaterThan(0); // the comparison skipped the matching prefix
    expect(loc.result.expectedEvents).toBeLessThan(full.expectedEvents);
  });

  it('reports identical runs as identical', () => {
    const loc = locateFirstDivergence(good, trace({}));
    expect(loc.result.identical).toBe(true);
  });

  it('falls back to a full comparison without digests', () => {
    const loc = locateFirstDivergence(trace({}, 0), trace({ readLatencyUs: 95 }, 0));
    expect(loc.ticks).toBe(0);
    expect(loc.fromSeqExpected).toBe(0);
    expect(loc.result.identical).toBe(false);
  });
});
