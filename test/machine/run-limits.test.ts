import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/machine/run.js';
import { loadScenario } from '../../src/machine/scenario.js';
import { openTrace } from '../../src/trace/reader.js';
import { DISK, ROOT } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Copies a fixture scenario and the disk image it references into `root`/fixtures/... */
function copyFixtures(root: string, scenario: string): string {
  mkdirSync(join(root, 'fixtures/scenarios'), { recursive: true });
  mkdirSync(join(root, 'fixtures/disks'), { recursive: true });
  copyFileSync(join(ROOT, 'fixtures/scenarios', scenario), join(root, 'fixtures/scenarios', scenario));
  copyFileSync(join(ROOT, 'fixtures/disks/nvme-8m.img'), join(root, 'fixtures/disks/nvme-8m.img'));
  return join(root, 'fixtures/scenarios', scenario);
}

describe('trace bytes do not depend on where the checkout lives', () => {
  it('records the same scenario and seed byte-identically from two copies in different directories', () => {
    const a = copyFixtures(join(dir, 'one'), 'nvme-jitter.json');
    const b = copyFixtures(join(dir, 'two', 'deeper', 'clone'), 'nvme-jitter.json');
    const ta = runScenario(a, { recordToBuffer: true }).trace!.buffer!;
    const tb = runScenario(b, { recordToBuffer: true }).trace!.buffer!;
    expect(ta.length).toBeGreaterThan(1000);
    expect(Buffer.compare(ta, tb)).toBe(0);
    const h = openTrace(ta).header;
    expect(h.scenario.path).toBe('fixtures/scenarios/nvme-jitter.json');
    expect(h.fixtures).toEqual([{ path: 'fixtures/disks/nvme-8m.img', hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(JSON.stringify(h)).not.toContain(dir);
    // ...and the same bytes as from the repository itself.
    const tr = runScenario(join(ROOT, 'fixtures/scenarios/nvme-jitter.json'), { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(ta, tr)).toBe(0);
  });

  it('stores a fixture outside the scenario root by name and hash, not by its absolute path', () => {
    const p = join(dir, 'outside.json');
    writeFileSync(p, JSON.stringify({
      name: 'outside', machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
      workload: { type: 'blockio', ops: 4, clients: 1 },
    }));
    const h = openTrace(runScenario(p, { recordToBuffer: true }).trace!.buffer!).header;
    expect(h.scenario.path).toBe('outside.json');
    expect(h.fixtures.map((f) => f.path)).toEqual(['nvme-8m.img']);
  });
});

describe('the time limit holds whatever the cost model', () => {
  const big = 10 ** 15; // 1000 s per operation
  for (const cost of ['mmioReadPs', 'syscallPs', 'contextSwitchPs', 'schemeHopPs', 'copyPsPer64B']) {
    it(`stops at limits.simTime with ${cost} = 1e15 ps, and says so`, () => {
      const p = join(dir, `costs-${cost}.json`);
      writeFileSync(p, JSON.stringify({
        name: `costs-${cost}`,
        machine: { costs: { [cost]: big }, devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
        workload: { type: 'blockio', ops: 40, clients: 2 },
        limits: { simTime: '10ms' },
      }));
      const out = runScenario(loadScenario(p), { recordToBuffer: true });
      expect(out.result.stoppedBy).toBe('time-limit');
      expect(out.result.simTimePs).toBeLessThanOrEqual(10e9);
      expect(out.result.failures.join('\n')).toMatch(/time limit reached/);
      // Nothing in the trace lies past the limit.
      const t = openTrace(out.trace!.buffer!);
      expect(t.footer!.endTime).toBeLessThanOrEqual(10e9);
    }, 30_000);
  }
});
