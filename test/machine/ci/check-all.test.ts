import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunAsync } from '../../e2e/helpers.js';
import { childrenNamed, parseXml } from '../../../src/machine/ci/xml.js';
import { runCheckAll } from '../../../src/machine/ci/check-all.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-check-all-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); cleanupCopies(); });

const GOLDENS = readdirSync(join(ROOT, 'traces')).filter((f) => f.endsWith('.simtrace')).map((f) => f.replace(/\.simtrace$/, '')).sort();

/** A copy of traces/ where nvme-msix's golden trace is nvme-intx's: a functional change (INTx instead of MSI-X). */
const broken = join(dir, 'broken-goldens');
beforeAll(() => {
  mkdirSync(broken, { recursive: true });
  for (const g of GOLDENS) copyFileSync(join(ROOT, 'traces', `${g}.simtrace`), join(broken, `${g}.simtrace`));
  copyFileSync(join(ROOT, 'traces/nvme-intx.simtrace'), join(broken, 'nvme-msix.simtrace'));
});

describe('simrun check --all', () => {
  it('checks every scenario with a golden trace: all identical, exit 0, one line each and a total', async () => {
    const r = await simrunAsync(ROOT, 'check', '--all');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(GOLDENS.length).toBeGreaterThanOrEqual(4);
    expect(lines.slice(0, GOLDENS.length).map((l) => l.split(/\s+/).slice(0, 3))).toEqual(GOLDENS.map((g) => [g, 'IDENTICAL', 'ok']));
    expect(lines[GOLDENS.length]).toMatch(new RegExp(`^${GOLDENS.length} scenarios: ${GOLDENS.length} identical, 0 timing-only, 0 functional; PASS; without a golden trace, not checked: .*wifi-bringup`));
  });

  it('a broken golden trace fails with exit 1: JUnit failure with the headline, annotations, the re-simulated trace and the HTML report kept', async () => {
    const junit = join(dir, 'report.xml');
    const actual = join(dir, 'actual');
    const html = join(dir, 'html');
    const r = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--junit', junit, '--annotations', '--save-actual', actual, '--html', html);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^nvme-msix\s+FUNCTIONAL\s+FAIL$/m);
    expect(r.out).toMatch(/^nvme-intx\s+IDENTICAL\s+ok$/m);
    expect(r.out).toMatch(/FAIL \(1 failed\)/);
    // Annotations: one ::error for the broken scenario, nothing for the others.
    const ann = r.out.split('\n').filter((l) => l.startsWith('::'));
    expect(ann).toHaveLength(1);
    expect(ann[0]).toMatch(/^::error file=fixtures\/scenarios\/nvme-msix\.json,title=simrun check nvme-msix%3A FUNCTIONAL::\S/);
    // JUnit: parsed strictly, one failure element on nvme-msix carrying the headline.
    const root = parseXml(readFileSync(junit, 'utf8'));
    expect(root.name).toBe('testsuites');
    expect(root.attrs).toMatchObject({ tests: String(GOLDENS.length), failures: '1', errors: '0' });
    const cases = childrenNamed(childrenNamed(root, 'testsuite')[0]!, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(GOLDENS);
    const failed = cases.filter((c) => childrenNamed(c, 'failure').length > 0);
    expect(failed.map((c) => c.attrs.name)).toEqual(['nvme-msix']);
    const failure = childrenNamed(failed[0]!, 'failure')[0]!;
    expect(failure.attrs.type).toBe('FUNCTIONAL');
    expect(failure.attrs.message).not.toBe('');
    expect(failure.text).toContain(failure.attrs.message);
    expect(ann[0]).toContain(failure.attrs.message!.replace(/%/g, '%25'));
    // Only the failing scenario keeps artifacts; its re-simulated trace is the real nvme-msix golden (same code, deterministic).
    expect(readdirSync(actual)).toEqual(['nvme-msix.simtrace']);
    expect(readFileSync(join(actual, 'nvme-msix.simtrace')).equals(readFileSync(join(ROOT, 'traces/nvme-msix.simtrace')))).toBe(true);
    expect(readdirSync(html)).toEqual(['nvme-msix.html']);
    expect(readFileSync(join(html, 'nvme-msix.html'), 'utf8')).toMatch(/<html/i);
  });

  it('--jobs 2 prints exactly what --jobs 1 prints (text and JSON)', async () => {
    for (const extra of [[], ['--json']]) {
      const one = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--jobs', '1', ...extra);
      const two = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--jobs', '2', ...extra);
      expect(one.code).toBe(1);
      expect(two.code).toBe(1);
      expect(two.out).toBe(one.out);
    }
  }, 360_000); // four passes over every golden trace

  it('--json is one object for the run: scenarios with name, verdict, exitCode, headlines, failures', async () => {
    const r = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--json');
    const j = JSON.parse(r.out);
    expect(j.exitCode).toBe(1);
    expect(j.scenarios.map((s: { name: string }) => s.name)).toEqual(GOLDENS);
    const m = j.scenarios.find((s: { name: string }) => s.name === 'nvme-msix');
    expect(m).toMatchObject({ verdict: 'FUNCTIONAL', exitCode: 1, failures: [] });
    expect(m.headlines.length).toBeGreaterThan(0);
    expect(j.totals.FUNCTIONAL).toBe(1);
  });

  it('shards 1/2 and 2/2 cover every scenario exactly once, and merge-reports joins their JSON and JUnit outputs', async () => {
    const s1 = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--shard', '1/2', '--json');
    const j2 = join(dir, 'shard2.xml');
    const s2 = await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--shard', '2/2', '--json', '--junit', j2);
    const n1 = JSON.parse(s1.out).scenarios.map((s: { name: string }) => s.name) as string[];
    const n2 = JSON.parse(s2.out).scenarios.map((s: { name: string }) => s.name) as string[];
    expect(n1.length).toBeGreaterThan(0);
    expect(n2.length).toBeGreaterThan(0);
    expect([...n1, ...n2].sort()).toEqual(GOLDENS);
    expect(JSON.parse(s1.out).shard).toBe('1/2');
    const f1 = join(dir, 'shard1.json');
    writeFileSync(f1, s1.out);
    const out = join(dir, 'merged.xml');
    const m = await simrunAsync(ROOT, 'merge-reports', f1, j2, '--junit', out, '--json');
    expect(m.code).toBe(1);
    const merged = JSON.parse(m.out);
    const whole = JSON.parse((await simrunAsync(ROOT, 'check', '--all', '--golden-dir', broken, '--json')).out);
    expect(merged.scenarios).toEqual(whole.scenarios);
    expect(merged.totals).toEqual(whole.totals);
    const cases = childrenNamed(childrenNamed(parseXml(readFileSync(out, 'utf8')), 'testsuite')[0]!, 'testcase');
    expect(cases.map((c) => c.attrs.name)).toEqual(GOLDENS);
    // Text form, and overlapping reports are bad input.
    expect((await simrunAsync(ROOT, 'merge-reports', f1, j2)).out).toMatch(/scenarios: .*1 functional; FAIL/);
    const dup = await simrunAsync(ROOT, 'merge-reports', f1, f1);
    expect(dup.code).toBe(2);
    expect(dup.err).toMatch(/shard1\.json: .*is also in .*shard1\.json/);
    const missing = await simrunAsync(ROOT, 'merge-reports', join(dir, 'nope.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.json: report file not found/);
  }, 360_000); // passes over every golden trace

  it('one scenario: --save-actual, --html and --junit on a failing check', async () => {
    const junit = join(dir, 'one.xml');
    const htmlFile = join(dir, 'one.html');
    const r = await simrunAsync(ROOT, 'check', 'nvme-msix', '--golden', join(broken, 'nvme-msix.simtrace'), '--save-actual', join(dir, 'one'), '--html', htmlFile, '--junit', junit);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 divergence/);
    expect(r.out).toContain(`re-simulated trace kept: ${join(dir, 'one', 'nvme-msix.simtrace')}`);
    expect(existsSync(join(dir, 'one', 'nvme-msix.simtrace'))).toBe(true);
    expect(existsSync(htmlFile)).toBe(true);
    const tc = childrenNamed(childrenNamed(parseXml(readFileSync(junit, 'utf8')), 'testsuite')[0]!, 'testcase');
    expect(tc).toHaveLength(1);
    expect(childrenNamed(tc[0]!, 'failure')).toHaveLength(1);
    // A passing check keeps nothing.
    const ok = await simrunAsync(ROOT, 'check', 'nvme-intx', '--save-actual', join(dir, 'none'));
    expect(ok.code).toBe(0);
    expect(readdirSync(join(dir, 'none'))).toEqual([]);
  });

  it('bad options are exit 2 naming the option', async () => {
    const cases: [string[], RegExp][] = [
      [['check', '--all', '--shard', '3/2'], /--shard: "3\/2" is not a shard/],
      [['check', '--all', '--jobs', '0'], /--jobs: "0" is out of range/],
      [['check', '--all', '--update'], /cannot --update/],
      [['check', 'nvme-msix', '--all'], /give no scenario with it/],
      [['check'], /check needs a scenario, or --all/],
      [['check', 'nvme-msix', '--jobs', '2'], /--jobs and --shard are for check --all/],
      [['check', '--all', '--golden-dir', join(dir, 'no-such-dir')], /no-such-dir: --golden-dir: folder not found/],
    ];
    for (const [args, msg] of cases) {
      const r = await simrunAsync(ROOT, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(msg);
    }
  });

  it('a harmless timing change is TIMING-ONLY: passes with a ::warning annotation; --fail-on timing makes it an ::error and exit 1', async () => {
    const copy = projectCopy();
    editFile(copy, 'src/drivers/nvme/queue.ts', 'ringSq(): void {\n', 'ringSq(): void {\n    this.k.udelay(2);\n');
    const r = await simrunAsync(copy, 'check', '--all', '--jobs', '2', '--annotations', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const [json, ...ann] = r.out.trim().split('\n');
    const j = JSON.parse(json!);
    const msix = j.scenarios.find((x: { name: string }) => x.name === 'nvme-msix');
    expect(msix).toMatchObject({ verdict: 'TIMING-ONLY', exitCode: 0 });
    expect(j.scenarios.find((x: { name: string }) => x.name === 'wifi-connect').verdict).toBe('IDENTICAL');
    expect(ann.some((l) => l.startsWith('::warning file=fixtures/scenarios/nvme-msix.json,title=simrun check nvme-msix%3A TIMING-ONLY::'))).toBe(true);
    expect(ann.every((l) => l.startsWith('::warning '))).toBe(true);
    const strict = await simrunAsync(copy, 'check', '--all', '--fail-on', 'timing', '--annotations', '--junit', join(copy, 'strict.xml'));
    expect(strict.code).toBe(1);
    expect(strict.out).toMatch(/^nvme-msix\s+TIMING-ONLY\s+FAIL$/m);
    expect(strict.out).toMatch(/^::error file=fixtures\/scenarios\/nvme-msix\.json,title=simrun check nvme-msix%3A TIMING-ONLY::/m);
    const cases = childrenNamed(childrenNamed(parseXml(readFileSync(join(copy, 'strict.xml'), 'utf8')), 'testsuite')[0]!, 'testcase');
    const tc = cases.find((c) => c.attrs.name === 'nvme-msix')!;
    expect(childrenNamed(tc, 'failure')[0]!.attrs.type).toBe('TIMING-ONLY');
  }, 360_000); // passes over every golden trace

  it('in-process with worker threads (the TypeScript worker) gives the same report as one job', async () => {
    const opts = { scenarioDir: join(ROOT, 'fixtures/scenarios'), goldenDir: broken };
    const one = await runCheckAll({ ...opts, jobs: 1 });
    const two = await runCheckAll({ ...opts, jobs: 2 });
    expect(two).toEqual(one);
    expect(one.exitCode).toBe(1);
  }, 360_000); // two passes over every golden trace
});
