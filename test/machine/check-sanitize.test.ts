/**
 * `simrun check --no-sanitize`: check re-simulates with the boundary
 * sanitizers on by default (a driver race then shows as guest errors);
 * --no-sanitize re-simulates as the golden traces are recorded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DISK, ROOT, scenarioPath, simrunIn } from '../e2e/helpers.js';
import { Machine } from '../../src/machine/machine.js';
import { runCheckAll } from '../../src/machine/ci/check-all.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-check-sanitize-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('check --sanitize / --no-sanitize', () => {
  it('a racy driver recorded without sanitizers: check (sanitizers on) is FUNCTIONAL with the guest errors, --no-sanitize IDENTICAL', () => {
    const file = join(dir, 'racy.json');
    const json = JSON.parse(readFileSync(scenarioPath('nvme-msix'), 'utf8')) as Record<string, any>;
    json.machine.devices[0].props.image = DISK;
    json.drivers.nvme.doorbellBeforeWrite = true; // the SQ doorbell rung before the command is written
    json.workload.ops = 20;
    json.expect.minIos = 10;
    delete json.expect.maxGuestErrors;
    writeFileSync(file, JSON.stringify(json));
    const golden = join(dir, 'racy.simtrace');
    expect(simrunIn(ROOT, 'run', file, '--no-sanitize', '--record', golden).code).toBe(0);

    const on = simrunIn(ROOT, 'check', file, '--golden', golden, '--json');
    expect(on.code).toBe(1);
    const j = JSON.parse(on.out.split('\n')[0]!);
    expect(j.verdict).toBe('FUNCTIONAL');
    expect(j.guestErrors.added[0]).toMatch(/^nvme0: nvme\.sqe\.changed-after-doorbell: /);

    const off = simrunIn(ROOT, 'check', file, '--golden', golden, '--no-sanitize');
    expect(off.err).toBe('');
    expect(off.out).toMatch(/^verdict: IDENTICAL/);
    expect(off.code).toBe(0);
    // --sanitize says the default out loud.
    expect(simrunIn(ROOT, 'check', file, '--golden', golden, '--sanitize').code).toBe(1);
  }, 120_000);

  it('check --all passes it to every scenario\'s re-simulation (default on)', async () => {
    const run = Machine.prototype.run;
    const sanitized: boolean[] = [];
    const spy = vi.spyOn(Machine.prototype, 'run').mockImplementation(function (this: Machine, ...args: Parameters<Machine['run']>) {
      sanitized.push(this.sanitizer !== null);
      return run.apply(this, args);
    });
    try {
      const opts = { scenarioDir: join(ROOT, 'fixtures/scenarios'), goldenDir: join(ROOT, 'traces') };
      expect((await runCheckAll({ ...opts, sanitize: false })).exitCode).toBe(0);
      expect(sanitized.length).toBeGreaterThanOrEqual(4);
      expect(sanitized.every((x) => !x)).toBe(true);
      sanitized.length = 0;
      expect((await runCheckAll(opts)).exitCode).toBe(0);
      expect(sanitized.every((x) => x)).toBe(true);
    } finally {
      spy.mockRestore();
    }
  }, 120_000);

  it('check --all --no-sanitize checks the goldens the same way (clean scenarios are identical either way)', () => {
    const r = simrunIn(ROOT, 'check', '--all', '--no-sanitize', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.scenarios.every((s: { verdict: string }) => s.verdict === 'IDENTICAL')).toBe(true);
  }, 120_000);
});
