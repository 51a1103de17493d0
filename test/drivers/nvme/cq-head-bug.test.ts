/**
 * The NVMe driver's `cqHeadBug` debug parameter (src/drivers/nvme/driver.ts
 * NVME_DEBUG_PARAMS) end to end: the linux-kpi driver writes its I/O CQ head
 * doorbells wrongly and the controller model records what it did
 * ('nvme.cqe.consumed-unposted', 'nvme.cqe.consumed-twice'; README
 * "Sanitizers"), with or without the sanitizers, and nothing without the bug.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../src/drivers/registry.js';
import { NVME_DEBUG_PARAMS } from '../../../src/drivers/nvme/driver.js';
import { parseScenario, type Scenario } from '../../../src/machine/scenario.js';
import { runScenario, type RunOptions } from '../../../src/machine/run.js';
import { openTrace } from '../../../src/trace/reader.js';
import { scenarioPath } from '../../e2e/helpers.js';

it('the registry\'s nvme entry takes the debug parameters', () => {
  expect(Object.keys(DRIVERS.find((d) => d.name === 'nvme')!.params)).toEqual(expect.arrayContaining(Object.keys(NVME_DEBUG_PARAMS)));
});

/** nvme-msix, small, with the bug (or none). */
function scenario(bug: string | undefined): Scenario {
  const path = scenarioPath('nvme-msix');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  json.workload.ops = 40;
  json.expect.minIos = 30;
  if (bug !== undefined) {
    json.drivers.nvme.cqHeadBug = bug;
    delete json.expect.maxGuestErrors;
  }
  return parseScenario(json, path, 'test');
}

function run(s: Scenario, opts: RunOptions = {}) {
  const out = runScenario(s, { ...opts, recordToBuffer: true });
  const guestErrs = [...openTrace(out.trace!.buffer!).events()].flatMap((e) => (e.kind === 'guestErr' ? [e] : []));
  return { ...out, buffer: out.trace!.buffer!, guestErrs };
}

describe('nvme driver cqHeadBug', () => {
  it('"ahead": the head doorbell claims a completion not posted yet: consumed-unposted, the writes ignored', () => {
    const r = run(scenario('ahead'), { sanitize: true });
    const codes = new Set(r.guestErrs.map((e) => e.code));
    expect([...codes]).toEqual(['nvme.cqe.consumed-unposted']);
    expect(r.guestErrs[0]!.message).toMatch(/^nvme0: CQ[12]HDBL=\d+ ignored: head \d+ consumes 1 entry the controller has not posted \(head \d+, tail \d+: \d+ posted; slot \d+ has never been written since the CQ was created\)/);
    // The controller ignored the writes; with fewer commands than a queue holds the workload still passes.
    expect(r.result.failures).toEqual([]);
  }, 120_000);

  it('"stale": a stale head after the right one moves the head back: consumed-twice', () => {
    const r = run(scenario('stale'), { sanitize: true });
    const codes = new Set(r.guestErrs.map((e) => e.code));
    expect([...codes]).toEqual(['nvme.cqe.consumed-twice']);
    expect(r.guestErrs[0]!.message).toMatch(/^nvme0: CQ[12]HDBL=\d+ ignored: head \d+ is \d+ entr(y|ies) behind the head \d+ written before/);
    expect(r.result.failures).toEqual([]);
  }, 120_000);

  it('spec errors: the same trace with sanitize off; without the bug none, and "none" is the default', () => {
    const buggy = scenario('stale');
    const on = run(buggy, { sanitize: true });
    const off = run(buggy, { sanitize: false });
    expect(Buffer.compare(Buffer.from(on.buffer), Buffer.from(off.buffer))).toBe(0);
    const clean = run(scenario(undefined), { sanitize: true });
    expect(clean.guestErrs).toEqual([]);
    expect(clean.result.failures).toEqual([]);
    const none = run(scenario('none'), { sanitize: true });
    expect(Buffer.compare(Buffer.from(none.buffer), Buffer.from(clean.buffer))).toBe(0);
  }, 120_000);
});
