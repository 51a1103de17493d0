/** `simrun diff` exit codes follow the verdict: --fail-on, --timing-budget and --ignore. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import { loadScenario } from '../../../src/machine/scenario.js';
import { parseFailOn, parseIgnore, parseTimingBudget } from '../../../src/cli/compare-options.js';
import { ROOT, simrunIn } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-diff-verdict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const golden = join(ROOT, 'traces/nvme-msix.simtrace');
const slow = join(dir, 'slow.simtrace');

beforeAll(() => {
  const s = loadScenario(join(ROOT, 'fixtures/scenarios/nvme-msix.json'));
  const c = s.machine.costs;
  const t = runScenario({ ...s, machine: { ...s.machine, costs: { ...c, mmioWritePs: c.mmioWritePs * 4, contextSwitchPs: c.contextSwitchPs * 3 } } }, { recordToBuffer: true });
  writeFileSync(slow, t.trace!.buffer!);
});

describe('simrun diff verdicts', () => {
  it('a timing-only difference exits 0 and says so first; --fail-on timing and a tight budget exit 1', () => {
    const r = simrunIn(ROOT, 'diff', golden, slow);
    expect(r.out.split('\n')[0]).toBe('verdict: TIMING-ONLY');
    expect(r.code).toBe(0);
    expect(simrunIn(ROOT, 'diff', golden, slow, '--fail-on', 'timing').code).toBe(1);
    const tight = simrunIn(ROOT, 'diff', golden, slow, '--timing-budget', '1%', '--json');
    expect(tight.code).toBe(1);
    const j = JSON.parse(tight.out);
    expect(j.verdict.verdict).toBe('TIMING-ONLY');
    expect(j.verdict.overBudget.length).toBeGreaterThan(0);
    expect(simrunIn(ROOT, 'diff', golden, slow, '--timing-budget', '100000%').code).toBe(0);
  });

  it('bad verdict options are exit 2 naming the option', () => {
    const bad = simrunIn(ROOT, 'diff', golden, slow, '--ignore', 'colour:red');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--ignore: "colour:red"/);
    expect(simrunIn(ROOT, 'diff', golden, slow, '--timing-budget', 'lots').code).toBe(2);
    expect(simrunIn(ROOT, 'diff', golden, slow, '--fail-on', 'always').code).toBe(2);
  });

  it('option parsers', () => {
    expect(parseTimingBudget('10%')).toBe(10);
    expect(parseTimingBudget('2.5')).toBe(2.5);
    expect(parseFailOn(undefined)).toBeUndefined();
    expect(parseIgnore(['kind:log,field:tsf', 'milestone:fw.alive'])).toEqual({ kinds: ['log'], milestones: ['fw.alive'], fields: ['tsf'] });
  });
});
