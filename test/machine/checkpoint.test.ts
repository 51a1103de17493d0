import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/machine/run.js';
import { readCheckpoint } from '../../src/machine/checkpoint.js';
import { InputError } from '../../src/sim/errors.js';
import type { StopPoint } from '../../src/machine/machine.js';
import { scenarioPath } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-ck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('run --until and resume from a checkpoint', () => {
  const full = join(dir, 'full.simtrace');
  beforeAll(() => { runScenario(scenarioPath('nvme-msix'), { record: full }); });

  const points: [string, StopPoint][] = [
    ['a time', { timePs: 5e9 }],
    ['an event number', { seq: 4000 }],
  ];
  it.each(points)('stopping at %s and resuming gives a trace byte-identical to an unbroken run', (_what, until) => {
    const t = join(dir, `part-${until.seq ?? until.timePs}.simtrace`);
    const ckPath = `${t}.checkpoint.json`;
    const first = runScenario(scenarioPath('nvme-msix'), { record: t, until, checkpoint: ckPath });
    expect(first.result.stoppedBy).toBe('until');
    expect(first.result.failures).toEqual([]);
    const ck = readCheckpoint(ckPath);
    if (until.seq !== undefined) expect(ck.reached.events).toBeGreaterThanOrEqual(until.seq);
    else expect(ck.reached.simTimePs).toBeLessThanOrEqual(until.timePs!);
    // The partial trace is a complete, readable trace of the run so far.
    expect(readFileSync(t).length).toBeLessThan(readFileSync(full).length);
    const second = runScenario(scenarioPath('nvme-msix'), { resume: { checkpoint: ck, path: ckPath } });
    expect(second.result.stoppedBy).toBe('workload-done');
    expect(second.result.failures).toEqual([]);
    expect(Buffer.compare(readFileSync(t), readFileSync(full))).toBe(0);
  });

  it('refuses a checkpoint the re-execution does not reach', () => {
    const t = join(dir, 'tampered.simtrace');
    const ckPath = `${t}.checkpoint.json`;
    runScenario(scenarioPath('nvme-msix'), { record: t, until: { timePs: 3e9 }, checkpoint: ckPath });
    const ck = readCheckpoint(ckPath);
    ck.reached.digest = '0'.repeat(64);
    writeFileSync(ckPath, JSON.stringify(ck));
    expect(() => runScenario(scenarioPath('nvme-msix'), { resume: { checkpoint: readCheckpoint(ckPath), path: ckPath } }))
      .toThrow(/did not reach the checkpoint's state/);
  });

  it('refuses a checkpoint of a scenario that changed, and a file that is not a checkpoint', () => {
    const ckPath = join(dir, 'other.checkpoint.json');
    runScenario(scenarioPath('nvme-msix'), { until: { timePs: 1e9 }, checkpoint: ckPath });
    const ck = readCheckpoint(ckPath);
    expect(() => runScenario(scenarioPath('nvme-intx'), { resume: { checkpoint: ck, path: ckPath } })).toThrow(InputError);
    writeFileSync(join(dir, 'junk.json'), '{"format":"x"}');
    expect(() => readCheckpoint(join(dir, 'junk.json'))).toThrow(/format: not a simrun checkpoint/);
  });
});
