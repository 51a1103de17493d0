/**
 * Boundary sanitizers and hostile timing end to end (README "Sanitizers"):
 * the linux-kpi NVMe driver with its `doorbellBeforeWrite` bug, clean golden
 * scenarios with the sanitizers on, and seeded hostile timing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario, type Scenario } from '../../src/machine/scenario.js';
import { runScenario, type RunOptions } from '../../src/machine/run.js';
import { openTrace } from '../../src/trace/reader.js';
import { DISK, ROOT, scenarioPath, simrunIn } from '../e2e/helpers.js';

/** nvme-msix, smaller, with edits to its JSON. */
function nvmeScenario(edit: (j: Record<string, any>) => void): Scenario {
  const path = scenarioPath('nvme-msix');
  const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, any>;
  json.workload.ops = 200;
  json.expect.minIos = 150;
  edit(json);
  return parseScenario(json, path, 'test');
}

function run(s: Scenario, opts: RunOptions = {}) {
  const out = runScenario(s, { ...opts, recordToBuffer: true });
  const buffer = out.trace!.buffer!;
  const guestErrs = [...openTrace(buffer).events()].flatMap((e) => (e.kind === 'guestErr' ? [e] : []));
  return { ...out, buffer, guestErrs };
}

describe('sanitize: the SQ doorbell rung before the command is written', () => {
  const buggy = nvmeScenario((j) => {
    j.drivers.nvme.doorbellBeforeWrite = true;
    delete j.expect.maxGuestErrors;
  });

  it('is caught with sanitize on: a named guest error per command, naming queue, slot and fields', () => {
    const r = run(buggy, { sanitize: true });
    const codes = new Set(r.guestErrs.map((e) => e.code));
    expect([...codes]).toEqual(['nvme.sqe.changed-after-doorbell']);
    expect(r.guestErrs.length).toBeGreaterThanOrEqual(150);
    expect(r.guestErrs[0]!.message).toMatch(/^nvme0: SQ[12] slot \d+ \((READ|WRITE) cid=\d+\) changed between the tail doorbell at [0-9.]+ [mµu]?s and the fetch: OPC 0x0 -> 0x[12], /);
    expect(r.guestErrs[0]!.message).toContain('PRP1');
  });

  it('is not caught with sanitize off (the writes take no simulated time), and the workload passes', () => {
    const r = run(buggy);
    expect(r.guestErrs).toEqual([]);
    expect(r.result.failures).toEqual([]);
  });

  it('the scenario field machine.sanitize turns it on too', () => {
    const s = nvmeScenario((j) => {
      j.drivers.nvme.doorbellBeforeWrite = true;
      j.machine.sanitize = true;
      j.workload.ops = 20;
      j.expect.minIos = 10;
      delete j.expect.maxGuestErrors;
    });
    expect(s.machine.sanitize).toBe(true);
    expect(run(s).guestErrs.map((e) => e.code)).toContain('nvme.sqe.changed-after-doorbell');
    expect(run(s, { sanitize: false }).guestErrs).toEqual([]);
  });
});

describe('sanitize on a clean run adds nothing', () => {
  // The goldens in traces/ are recorded with sanitize off; `simrun check` re-runs with it on.
  it.each(['nvme-msix', 'nvme-intx', 'nvme-jitter', 'wifi-connect'])('%s: byte-identical to its golden trace with sanitize on', (name) => {
    const golden = readFileSync(join(ROOT, 'traces', `${name}.simtrace`));
    const on = runScenario(scenarioPath(name), { recordToBuffer: true, sanitize: true });
    expect(on.result.guestErrors).toBe(0);
    expect(Buffer.compare(Buffer.from(on.trace!.buffer!), golden)).toBe(0);
  }, 120_000);
});

describe('hostile timing', () => {
  const s = nvmeScenario(() => {});

  it('is deterministic for a seed, differs across seeds, and a correct driver still passes', () => {
    const a = run(s, { hostileTiming: true, seed: 5 });
    const b = run(s, { hostileTiming: true, seed: 5 });
    const c = run(s, { hostileTiming: true, seed: 6 });
    const plain = run(s, { seed: 5 });
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(b.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(c.buffer))).not.toBe(0);
    expect(Buffer.compare(Buffer.from(a.buffer), Buffer.from(plain.buffer))).not.toBe(0);
    for (const r of [a, c]) {
      expect(r.result.failures).toEqual([]);
      expect(r.guestErrs).toEqual([]);
    }
    // The trace header says how the run was made.
    expect((openTrace(a.buffer).header.machine as { hostileTiming?: boolean }).hostileTiming).toBe(true);
    expect((openTrace(plain.buffer).header.machine as { hostileTiming?: boolean }).hostileTiming).toBeUndefined();
  }, 120_000);

  it('machine.hostileTiming in the scenario', () => {
    const h = nvmeScenario((j) => { j.machine.hostileTiming = true; });
    expect(h.machine.hostileTiming).toBe(true);
    expect(Buffer.compare(Buffer.from(run(h, { seed: 5 }).buffer), Buffer.from(run(s, { seed: 5 }).buffer))).not.toBe(0);
  }, 120_000);
});

describe('simrun run --sanitize / --no-sanitize', () => {
  it('the flag turns the sanitizer on and off over the scenario field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simrun-sanitize-'));
    const file = join(dir, 'buggy.json');
    const json = JSON.parse(readFileSync(scenarioPath('nvme-msix'), 'utf8')) as Record<string, any>;
    json.machine.devices[0].props.image = DISK;
    json.machine.sanitize = true;
    json.drivers.nvme.doorbellBeforeWrite = true;
    json.workload.ops = 20;
    json.expect.minIos = 10;
    writeFileSync(file, JSON.stringify(json));
    const on = simrunIn(ROOT, 'run', file, '--json');
    expect(on.code).toBe(1);
    expect(JSON.parse(on.out).guestErrors).toBeGreaterThan(0);
    const off = simrunIn(ROOT, 'run', file, '--no-sanitize', '--json');
    expect(off.err).toBe('');
    expect(off.code).toBe(0);
    expect(JSON.parse(off.out).guestErrors).toBe(0);
  }, 120_000);
});
