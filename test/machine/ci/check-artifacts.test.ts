/**
 * check --save-actual / --html keep what the check compared: runCheck copies
 * its temporary trace and writes the HTML diff from the traces in hand, so
 * the scenario is simulated once (counted on Machine.run), and the kept
 * trace is the one a separate run records.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../../e2e/helpers.js';
import { Machine } from '../../../src/machine/machine.js';
import { runCheck } from '../../../src/machine/check.js';
import { checkOne, runCheckAll } from '../../../src/machine/ci/check-all.js';
import { runScenario } from '../../../src/machine/run.js';
import { deviceDecoders } from '../../../src/devices/decoders.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-artifacts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => { vi.restoreAllMocks(); });

const scenario = join(ROOT, 'fixtures/scenarios/nvme-msix.json');
/** A golden trace that is another scenario's: the check is FUNCTIONAL, so artifacts are kept. */
function brokenGolden(name: string): string {
  const p = join(dir, name);
  copyFileSync(join(ROOT, 'traces/nvme-intx.simtrace'), p);
  return p;
}

describe('check keeps its artifacts from the run it compared', () => {
  it('runCheck saveActual/html: one simulation; the kept trace is byte for byte what a separate run records; the HTML carries the verdict', () => {
    const golden = brokenGolden('g1.simtrace');
    const actual = join(dir, 'kept', 'nvme-msix.simtrace');
    const html = join(dir, 'kept', 'nvme-msix.html');
    const runs = vi.spyOn(Machine.prototype, 'run');
    const r = runCheck({ scenario, golden, saveActual: actual, html, decoders: deviceDecoders(), out: () => {} });
    expect(runs).toHaveBeenCalledTimes(1);
    runs.mockRestore();
    expect(r.verdict).toBe('FUNCTIONAL');
    expect(r.exitCode).toBe(1);
    expect(r.actualPath).toBe(actual);
    expect(r.htmlPath).toBe(html);
    expect(r.artifactErrors).toBeUndefined();
    // A separate run, recorded as check records (sanitizers on).
    const separate = join(dir, 'separate.simtrace');
    runScenario(scenario, { record: separate, sanitize: true });
    expect(readFileSync(actual).equals(readFileSync(separate))).toBe(true);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/id="verdict-banner" class="banner diff" data-verdict="FUNCTIONAL"/);
  });

  it('an identical check keeps nothing, and still runs once', () => {
    const runs = vi.spyOn(Machine.prototype, 'run');
    const out = join(dir, 'none');
    const r = runCheck({
      scenario, golden: join(ROOT, 'traces/nvme-msix.simtrace'), saveActual: join(out, 'a.simtrace'), html: join(out, 'a.html'),
      decoders: deviceDecoders(), out: () => {},
    });
    expect(runs).toHaveBeenCalledTimes(1);
    expect(r.verdict).toBe('IDENTICAL');
    expect(r.actualPath).toBeUndefined();
    expect(existsSync(out)).toBe(false);
  });

  it('checkOne (check <scenario> and check --all) reports the kept files; one simulation per scenario with --all', async () => {
    const golden = brokenGolden('g2.simtrace');
    const runs = vi.spyOn(Machine.prototype, 'run');
    const s = checkOne({ name: 'nvme-msix', scenario, golden, saveActual: join(dir, 'one.simtrace'), html: join(dir, 'one.html') });
    expect(runs).toHaveBeenCalledTimes(1);
    expect(s).toMatchObject({ verdict: 'FUNCTIONAL', exitCode: 1, actual: join(dir, 'one.simtrace'), html: join(dir, 'one.html') });

    runs.mockClear();
    const goldens = join(dir, 'goldens');
    const actual = join(dir, 'all-actual');
    const html = join(dir, 'all-html');
    const names = readdirSync(join(ROOT, 'traces')).filter((f) => f.endsWith('.simtrace'));
    mkdirSync(goldens);
    mkdirSync(actual);
    mkdirSync(html);
    for (const f of names) copyFileSync(join(ROOT, 'traces', f), join(goldens, f));
    copyFileSync(join(ROOT, 'traces/nvme-intx.simtrace'), join(goldens, 'nvme-msix.simtrace'));
    const all = await runCheckAll({ scenarioDir: join(ROOT, 'fixtures/scenarios'), goldenDir: goldens, saveActual: actual, htmlDir: html });
    expect(runs).toHaveBeenCalledTimes(names.length);
    expect(all.exitCode).toBe(1);
    expect(readdirSync(actual)).toEqual(['nvme-msix.simtrace']);
    expect(readdirSync(html)).toEqual(['nvme-msix.html']);
    expect(readFileSync(join(actual, 'nvme-msix.simtrace')).equals(readFileSync(join(dir, 'one.simtrace')))).toBe(true);
  });

  it('a file that cannot be written is named in the report (exit 2), the verdict kept', () => {
    const golden = brokenGolden('g3.simtrace');
    const blocker = join(dir, 'blocker');
    copyFileSync(golden, blocker); // a file where a folder is needed
    const s = checkOne({ name: 'nvme-msix', scenario, golden, saveActual: join(blocker, 'x.simtrace') });
    expect(s.verdict).toBe('FUNCTIONAL');
    expect(s.exitCode).toBe(2);
    expect(s.headlines.at(-1)).toMatch(/^could not save the re-simulated trace to .*blocker\/x\.simtrace: (ENOTDIR|EEXIST)/);
  });
});
