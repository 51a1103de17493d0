/** The matchers exported as `simrun/vitest`, through the package's own export. */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import 'simrun/vitest';
import { matchTrace, noGuestErrors } from 'simrun/vitest';
import { runScenario, type RunOutcome } from '../../src/machine/run.js';
import { loadScenario } from '../../src/machine/scenario.js';
import { ROOT } from '../e2e/helpers.js';

const golden = join(ROOT, 'traces/nvme-msix.simtrace');

describe('simrun/vitest matchers', () => {
  let slow: RunOutcome;
  let changed: RunOutcome;
  let hostile: RunOutcome;
  beforeAll(() => {
    const s = loadScenario(join(ROOT, 'fixtures/scenarios/nvme-msix.json'));
    const c = s.machine.costs;
    slow = runScenario({ ...s, machine: { ...s.machine, costs: { ...c, mmioWritePs: c.mmioWritePs * 4 } } }, { recordToBuffer: true });
    changed = runScenario({ ...s, drivers: { ...s.drivers, nvme: { ...s.drivers.nvme, queueDepth: 32 } } }, { recordToBuffer: true });
    hostile = runScenario({ ...s, drivers: { ...s.drivers, nvme: { ...s.drivers.nvme, doorbellBeforeWrite: true } } }, { recordToBuffer: true, sanitize: true });
  });

  it('toMatchTrace passes a timing-only change unless timing is exact, and fails a functional one naming the field', () => {
    expect(slow).toMatchTrace(golden, { timing: 'ignore' });
    expect(slow).toMatchTrace(golden);
    expect(slow).not.toMatchTrace(golden, { timing: 'exact' });
    expect(slow).not.toMatchTrace(golden, { timing: 'budget', budgetPct: 1 });
    expect(changed).not.toMatchTrace(golden);
    const r = matchTrace(changed, golden);
    expect(r.pass).toBe(false);
    expect(r.message()).toMatch(/verdict FUNCTIONAL[\s\S]*CREATE_IO_CQ: size: 64 → 32/);
    expect(() => expect(changed).toMatchTrace(golden)).toThrow(/CREATE_IO_CQ: size: 64 → 32/);
    expect(golden).toMatchTrace(golden, { timing: 'exact' });
  });

  it('toHaveNoGuestErrors reads the recorded guest errors and names them', () => {
    expect(slow).toHaveNoGuestErrors();
    expect(hostile).not.toHaveNoGuestErrors();
    expect(noGuestErrors(hostile).message()).toMatch(/nvme0: nvme\.sqe\.(changed-after-doorbell|not-written)/);
  });
});
