import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { parseScenario } from '../../../src/machine/scenario.js';
import { runScenario } from '../../../src/machine/run.js';
import { runDiff, type DiffRunResult } from '../../../src/trace/diff/index.js';
// A driver crash in a run fails the test unless the test declares it.
import '../../support/crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCENARIO = join(ROOT, 'fixtures/scenarios/nvme-msix.json');

/** The default scenario (fewer I/Os) with driver parameters changed, recorded into memory. */
function record(drivers: Record<string, number> = {}, seed?: number): Uint8Array {
  const json = JSON.parse(fs.readFileSync(SCENARIO, 'utf8')) as {
    drivers: { nvme: Record<string, unknown> }; workload: Record<string, unknown>; expect: Record<string, unknown>;
  };
  Object.assign(json.drivers.nvme, drivers);
  json.workload.ops = 200;
  json.expect.minIos = 100;
  const s = parseScenario(json, SCENARIO, 'test');
  const out = runScenario(s, seed !== undefined ? { recordToBuffer: true, seed } : { recordToBuffer: true });
  expect(out.result.failures).toEqual([]);
  return out.trace!.buffer!;
}

function diff(a: Uint8Array, b: Uint8Array): DiffRunResult & { text: string } {
  const lines: string[] = [];
  const r = runDiff({ a, b, decoders: deviceDecoders(), color: false, maxDivergences: 50, out: (l) => lines.push(l) });
  return { ...r, text: lines.join('\n') };
}

describe('simrun diff: NVMe scenario runs', () => {
  let base: Uint8Array;
  beforeAll(() => { base = record(); });

  it('finds nothing between two runs of the same scenario and seed', () => {
    const r = diff(base, record());
    expect(r.exitCode).toBe(0);
    expect(r.result.identical).toBe(true);
    expect(r.result.totals.same).toBeGreaterThan(2000);
    expect(r.result.timing.find((x) => x.phase === 'I/O latency p50')?.changePct).toBe(0);
  });

  it('reports a queueDepth change, naming the Create I/O SQ/CQ size field', () => {
    const r = diff(base, record({ queueDepth: 32 }));
    expect(r.exitCode).toBe(1);
    const asqe = r.result.divergences.find((d) => d.stream === 'nvme0 dma:nvme.asqe')!;
    expect(asqe.what).toBe('CREATE_IO_CQ: size 64 → 32');
    const details = asqe.rows.map((x) => x.detail).filter((x) => x !== undefined);
    expect(details).toContain('CREATE_IO_SQ: size 64 → 32');
    expect(r.text).toMatch(/~a .*CREATE_IO_SQ cid=\d+ qid=1 size=64/);
    expect(r.text).toMatch(/~b .*CREATE_IO_SQ cid=\d+ qid=1 size=32/);
    expect(r.text).toContain('CREATE_IO_SQ: size 64 → 32');
    // The data itself is untouched, even though the second queue pair moved in memory.
    const data = r.result.streams.find((s) => s.stream === 'nvme0 dma:data')!;
    expect(data.changed + data.inserted + data.removed).toBe(0);
  });

  it('reports an ioQueues change: the missing MSI-X vector, queue pair and the feature request', () => {
    const r = diff(base, record({ ioQueues: 1 }));
    expect(r.exitCode).toBe(1);
    const asqe = r.result.streams.find((s) => s.stream === 'nvme0 dma:nvme.asqe')!;
    expect(asqe.removed).toBe(2); // Create I/O CQ 2 and SQ 2
    expect(asqe.changed).toBe(1); // Set Features, Number of Queues
    const rows = r.result.divergences.flatMap((d) => d.rows);
    expect(rows.map((x) => x.detail)).toContain('SET_FEATURES: dw11 0x10001 → 0x0');
    expect(rows.some((x) => x.op === 'removed' && /CREATE_IO_SQ cid=\d+ qid=2/.test(x.a!.text))).toBe(true);
    expect(rows.some((x) => x.op === 'removed' && /MSIX\[2\]/.test(x.a!.text))).toBe(true);
    const milestones = r.result.streams.find((s) => s.stream === 'nvme0 milestone')!;
    expect(milestones.a - milestones.b).toBe(2);
    expect(milestones.removed).toBe(2);
  });
});
