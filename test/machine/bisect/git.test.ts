import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBisect, type BisectOptions } from '../../../src/machine/bisect/bisect.js';
import { defaultInstall } from '../../../src/machine/bisect/git.js';
// A driver crash in a run fails the test unless the test declares it.
import '../../support/crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
/** Installing in a worktree = linking this project's node_modules (fast, offline). */
const INSTALL = `ln -s '${join(ROOT, 'node_modules')}' node_modules`;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bisect test', GIT_AUTHOR_EMAIL: 'bisect@example.invalid',
  GIT_COMMITTER_NAME: 'bisect test', GIT_COMMITTER_EMAIL: 'bisect@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: GIT_ENV });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function edit(dir: string, file: string, from: string, to: string): void {
  const p = join(dir, file);
  const s = readFileSync(p, 'utf8');
  if (!s.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(p, s.replace(from, to));
}

function commit(dir: string, subject: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--no-gpg-sign', '-m', subject);
  return git(dir, 'rev-parse', 'HEAD');
}

/** A harmless change: a comment in the NVMe driver, or a README line. */
function harmless(dir: string, i: number): void {
  if (i % 2 === 0) appendFileSync(join(dir, 'src/drivers/nvme/driver.ts'), `// harmless change ${i}\n`);
  else appendFileSync(join(dir, 'README.md'), `\nharmless change ${i}\n`);
}

/**
 * A repository made from a copy of this project: c0 (with a golden trace
 * recorded by c0's own code, so concurrent edits of this tree cannot make it
 * stale), then c1..c9 where c5 shrinks the NVMe admin queue (AQA changes)
 * and the others are harmless. Branch `exp` (from c0) has e1..e5: e2 breaks
 * the scenario file (untestable), e3 fixes it, e4 leaves the controller one
 * MSI-X vector (no I/O completes: expectations fail).
 */
function buildRepo(): { dir: string; main: string[]; exp: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'simrun-bisect-repo-'));
  for (const p of ['src', 'bin', 'fixtures', 'traces', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  writeFileSync(join(dir, 'README.md'), '# simrun (bisect test copy)\n');
  writeFileSync(join(dir, '.gitignore'), 'node_modules\nout\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const rec = spawnSync(process.execPath, ['bin/simrun.js', 'run', 'fixtures/scenarios/nvme-msix.json', '--record', 'traces/nvme-msix.simtrace'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (rec.status !== 0) throw new Error(`recording the golden trace failed: ${rec.stdout}${rec.stderr}`);
  unlinkSync(join(dir, 'node_modules'));
  git(dir, 'init', '-q', '-b', 'main');
  const main = [commit(dir, 'c0: initial import')];
  for (let i = 1; i <= 9; i++) {
    if (i === 5) {
      edit(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
      main.push(commit(dir, 'c5: nvme: smaller admin queue'));
    } else {
      harmless(dir, i);
      main.push(commit(dir, `c${i}: harmless change ${i}`));
    }
  }
  git(dir, 'checkout', '-q', '-b', 'exp', main[0]!);
  const exp = [main[0]!];
  const scen = 'fixtures/scenarios/nvme-msix.json';
  harmless(dir, 1); exp.push(commit(dir, 'e1: harmless'));
  edit(dir, scen, '"seed": 1,', '"seed": 1, "bogus": true,'); exp.push(commit(dir, 'e2: scenario with an unknown field'));
  edit(dir, scen, '"seed": 1, "bogus": true,', '"seed": 1,'); exp.push(commit(dir, 'e3: fix the scenario'));
  edit(dir, scen, '"image": "../disks/nvme-8m.img"', '"image": "../disks/nvme-8m.img", "msixVectors": 1'); exp.push(commit(dir, 'e4: one MSI-X vector'));
  harmless(dir, 2); exp.push(commit(dir, 'e5: harmless'));
  git(dir, 'checkout', '-q', 'main');
  return { dir, main, exp };
}

let repo: { dir: string; main: string[]; exp: string[] };
let tmpRoot: string;
const dirs: string[] = [];

beforeAll(() => {
  repo = buildRepo();
  tmpRoot = mkdtempSync(join(tmpdir(), 'simrun-bisect-tmp-'));
  dirs.push(repo.dir, tmpRoot);
});
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function bisect(o: Partial<BisectOptions>) {
  const out: string[] = [];
  const progress: string[] = [];
  const err: string[] = [];
  const r = runBisect({
    repo: repo.dir, install: INSTALL, tmpDir: tmpRoot,
    out: (t) => out.push(t), progress: (t) => progress.push(t), err: (t) => err.push(t), ...o,
  });
  return { r, out: out.join('\n'), progress: progress.join('\n'), err: err.join('\n') };
}

const hash = (i: number) => repo.main[i]!;

describe('simrun bisect --git', () => {
  it('finds the commit that changed the NVMe admin queue, and shows the AQA write that differs', () => {
    const { r, out, progress } = bisect({ git: `${hash(0)}..main` });
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe('found');
    expect(r.classify).toBe('golden');
    expect(r.firstBad?.commit).toBe(hash(5));
    expect(r.firstBad?.subject).toBe('c5: nvme: smaller admin queue');
    expect(r.lastGood?.commit).toBe(hash(4));
    // Endpoints first, then a binary search: c4 (good), c6 (bad), c5 (bad).
    expect(r.probes.map((p) => [p.item.subject?.slice(0, 2), p.role, p.verdict])).toEqual([
      ['c0', 'good end', 'good'], ['c9', 'bad end', 'bad'],
      ['c4', 'probe', 'good'], ['c6', 'probe', 'bad'], ['c5', 'probe', 'bad'],
    ]);
    expect(progress).toMatch(/\[good end\] [0-9a-f]{12} c0: initial import: good \(identical to the golden trace, \d+ events\)/);
    expect(progress).toMatch(/\[bad end\] [0-9a-f]{12} c9: harmless change 9: bad \(differs from the golden trace \(FUNCTIONAL\): nvme0 registers #\d+: W AQA <- 0x1f001f → 0xf000f\)/);
    expect(out).toContain(`first bad commit: ${hash(5)} c5: nvme: smaller admin queue`);
    expect(out).toContain(`last good commit: ${hash(4)} c4: harmless change 4`);
    expect(out).toContain('MMIO write to nvme0 AQA (BAR0+0x24): expected 0x001f001f, got 0x000f000f');
    expect(out).toMatch(/1 divergence/);
    expect(r.comparison?.divergences[0]?.kind).toBe('value');
    // The user's tree is untouched, and no worktree or temporary file is left behind.
    expect(git(repo.dir, 'status', '--porcelain')).toBe('');
    expect(git(repo.dir, 'rev-parse', 'HEAD')).toBe(hash(9));
    expect(git(repo.dir, 'worktree', 'list').split('\n')).toHaveLength(1);
    expect(readdirSync(tmpRoot)).toEqual([]);
  });

  it('classifies by expectations, steps around an untestable commit, and reports the failed expectation', () => {
    const { r, out, progress } = bisect({ git: `${hash(0)}..exp`, classify: 'expectations', json: true });
    expect(r.exitCode).toBe(0);
    expect(r.firstBad?.commit).toBe(repo.exp[4]);
    expect(r.probes.map((p) => [p.item.subject?.slice(0, 2), p.verdict])).toEqual([
      ['c0', 'good'], ['e5', 'bad'], ['e2', 'skip'], ['e3', 'good'], ['e4', 'bad'],
    ]);
    expect(r.probes[2]?.why).toMatch(/the scenario does not load at this commit: .*bogus: unknown field/);
    // Progress still goes to the progress callback; `out` gets exactly one JSON object.
    expect(progress).toMatch(/\[4 left, ~3 steps\] [0-9a-f]{12} e2: scenario with an unknown field: skip/);
    const j = JSON.parse(out);
    expect(j.exitCode).toBe(0);
    expect(j.status).toBe('found');
    expect(j.firstBad.subject).toBe('e4: one MSI-X vector');
    expect(j.lastGood.subject).toBe('e3: fix the scenario');
    expect(j.failures).toContain('expected at least 1000 I/Os, got 0');
    expect(j.divergence.divergences[0].what).toMatch(/config read of nvme0 at 0x72: expected 0x00000010, got 0x00000000/);
  });

  it('exit 1 when the bad end is not bad (the AQA change breaks no expectation)', () => {
    const { r, out } = bisect({ git: `${hash(0)}..${hash(9)}`, classify: 'expectations' });
    expect(r.exitCode).toBe(1);
    expect(r.status).toBe('bad-end-good');
    expect(out).toMatch(/nothing to bisect: the bad end [0-9a-f]{12} c9: harmless change 9 is good \(expectations held\)/);
  });

  it('exit 1 when the good end does not match the golden trace', () => {
    const { r, out } = bisect({ git: `${hash(0)}..${hash(9)}`, golden: join(repo.dir, 'traces/nvme-intx.simtrace') });
    expect(r.exitCode).toBe(1);
    expect(r.status).toBe('good-end-bad');
    expect(out).toMatch(/the good end [0-9a-f]{12} c0: initial import is not good/);
    expect(r.probes).toHaveLength(1);
  });

  it('works from a tree with untracked files (a lockfile among them) and leaves them as they were', () => {
    const lock = '{ "name": "simrun", "lockfileVersion": 3, "note": "the user\'s own lockfile" }\n';
    writeFileSync(join(repo.dir, 'notes.txt'), 'untracked\n');
    writeFileSync(join(repo.dir, 'package-lock.json'), lock);
    try {
      const before = git(repo.dir, 'status', '--porcelain', '--untracked-files=all');
      expect(before).toMatch(/\?\? notes\.txt/);
      const { r, out } = bisect({ git: `${hash(4)}..${hash(6)}` });
      expect(r.exitCode).toBe(0);
      expect(r.firstBad?.commit).toBe(hash(5));
      expect(out).toContain(`first bad commit: ${hash(5)} c5: nvme: smaller admin queue`);
      expect(git(repo.dir, 'status', '--porcelain', '--untracked-files=all')).toBe(before);
      expect(readFileSync(join(repo.dir, 'package-lock.json'), 'utf8')).toBe(lock);
      expect(readFileSync(join(repo.dir, 'notes.txt'), 'utf8')).toBe('untracked\n');
      expect(git(repo.dir, 'worktree', 'list').split('\n')).toHaveLength(1);

      // An install command that reaches into the user's tree and rewrites the lockfile: the commit is untestable and the lockfile is restored.
      const rogue = bisect({ git: `${hash(4)}..${hash(6)}`, install: `${INSTALL} && echo '{}' > '${join(repo.dir, 'package-lock.json')}'` });
      expect(rogue.r.exitCode).toBe(2);
      expect(rogue.err).toMatch(/the good end cannot be tested: the install command .* changed package-lock\.json in .*; it was restored/);
      expect(readFileSync(join(repo.dir, 'package-lock.json'), 'utf8')).toBe(lock);
      expect(git(repo.dir, 'status', '--porcelain', '--untracked-files=all')).toBe(before);
    } finally {
      unlinkSync(join(repo.dir, 'notes.txt'));
      unlinkSync(join(repo.dir, 'package-lock.json'));
    }
  });

  it('the default install is npm ci when the commit has a lockfile (it never rewrites one), npm install otherwise', () => {
    const wt = mkdtempSync(join(tmpdir(), 'simrun-bisect-install-'));
    dirs.push(wt);
    expect(defaultInstall(wt)).toBe('npm install --no-audit --no-fund');
    writeFileSync(join(wt, 'package-lock.json'), '{}');
    expect(defaultInstall(wt)).toBe('npm ci --no-audit --no-fund');
  });

  it('refuses uncommitted changes to tracked files with exit 2', () => {
    appendFileSync(join(repo.dir, 'README.md'), 'local edit\n');
    try {
      const b = bisect({ git: `${hash(0)}..${hash(9)}` });
      expect(b.r.exitCode).toBe(2);
      expect(b.r.error).toMatch(/uncommitted changes \(M README\.md\)/);
      expect(b.err).toMatch(/untracked files are fine/);
      expect(b.r.probes).toEqual([]);
    } finally {
      git(repo.dir, 'checkout', '--', 'README.md');
    }
  });

  it('refuses ranges that do not exist with exit 2', () => {
    const cases: [string, RegExp][] = [
      [`nosuchref..${hash(9)}`, /unknown good revision "nosuchref"/],
      [`${hash(0)}..nosuchref`, /unknown bad revision "nosuchref"/],
      [`${hash(9)}..${hash(0)}`, /is not an ancestor of bad/],
      [`${hash(3)}..${hash(3)}`, /empty range/],
      [`${hash(5)}..exp`, /is not an ancestor of bad/],
      [hash(0), /is not a range: give <good>\.\.<bad>/],
    ];
    for (const [range, msg] of cases) {
      const { r, err } = bisect({ git: range });
      expect(r.exitCode, range).toBe(2);
      expect(err, range).toMatch(msg);
      expect(r.probes, range).toEqual([]);
    }
    const notRepo = bisect({ git: 'a..b', repo: tmpRoot });
    expect(notRepo.r.exitCode).toBe(2);
    expect(notRepo.err).toMatch(/not a git repository/);
  });

  it('exit 2 when the good end cannot be tested (no such scenario there)', () => {
    const { r, err } = bisect({ git: `${hash(0)}..${hash(9)}`, scenario: 'fixtures/scenarios/nope.json', classify: 'expectations' });
    expect(r.exitCode).toBe(2);
    expect(err).toMatch(/the good end cannot be tested: no scenario fixtures\/scenarios\/nope\.json at this commit/);
  });
});
