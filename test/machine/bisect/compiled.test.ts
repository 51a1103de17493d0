/**
 * bisect --git over compiled drivers: each commit's guest/ sources are built
 * into its modules before the run, so a commit that broke a C driver is found
 * even though its committed module was never rebuilt (what a user forgets).
 * The repository has only the C drivers (no guest/rust), so each build takes
 * seconds; the bisect runs as a child process (its builds take a while and
 * must not hold the test worker).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, simrunAsync } from '../../e2e/helpers.js';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'bisect test', GIT_AUTHOR_EMAIL: 'bisect@example.invalid',
  GIT_COMMITTER_NAME: 'bisect test', GIT_COMMITTER_EMAIL: 'bisect@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};
function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', env: GIT_ENV }).trim();
}
function commit(dir: string, subject: string): string {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '--no-gpg-sign', '-m', subject);
  return git(dir, 'rev-parse', 'HEAD');
}
function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

describe.skipIf(!(have('clang') && have('wasm-ld')))('simrun bisect --git with a compiled driver', () => {
  it('rebuilds each commit\'s C driver: finds the commit that broke nvme-c although its module was not rebuilt there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simrun-bisect-c-'));
    const tmp = mkdtempSync(join(tmpdir(), 'simrun-bisect-c-tmp-'));
    dirs.push(dir, tmp);
    for (const p of ['src', 'bin', 'fixtures', 'traces', 'guest/c', 'guest/include', 'guest/lib', 'guest/modules', 'scripts', 'package.json', 'tsconfig.json']) {
      cpSync(join(ROOT, p), join(dir, p), { recursive: true });
    }
    writeFileSync(join(dir, 'README.md'), '# simrun (bisect test copy)\n');
    writeFileSync(join(dir, '.gitignore'), 'node_modules\nout\n');
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const rec = spawnSync(process.execPath, ['bin/simrun.js', 'run', 'fixtures/scenarios/nvme-jitter-c.json', '--record', 'traces/nvme-jitter-c.simtrace'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    expect(rec.status, rec.stdout + rec.stderr).toBe(0);
    unlinkSync(join(dir, 'node_modules'));
    git(dir, 'init', '-q', '-b', 'main');
    const c = [commit(dir, 'c0: import')];
    appendFileSync(join(dir, 'README.md'), 'harmless 1\n');
    c.push(commit(dir, 'c1: harmless'));
    const core = join(dir, 'guest/c/nvme/core.c');
    const src = readFileSync(core, 'utf8');
    expect(src).toContain('cmd->cdw12 = cpu_to_le32(blocks - 1);');
    // One block too many per command, and the committed module left as it was.
    writeFileSync(core, src.replace('cmd->cdw12 = cpu_to_le32(blocks - 1);', 'cmd->cdw12 = cpu_to_le32(blocks);'));
    c.push(commit(dir, 'c2: nvme-c: NLB off by one'));
    appendFileSync(join(dir, 'README.md'), 'harmless 3\n');
    c.push(commit(dir, 'c3: harmless'));

    const r = await simrunAsync(ROOT, 'bisect', '--git', `${c[0]}..${c[3]}`, '--repo', dir, '--scenario', 'nvme-jitter-c',
      '--install', `ln -s '${join(ROOT, 'node_modules')}' node_modules`, '--json');
    expect(r.err).not.toMatch(/do not build/);
    const j = JSON.parse(r.out) as { status: string; firstBad?: { commit: string; subject: string } };
    expect(j.status).toBe('found');
    expect(j.firstBad?.commit).toBe(c[2]);
    expect(j.firstBad?.subject).toBe('c2: nvme-c: NLB off by one');
    expect(r.code).toBe(0);
  }, 600_000);
});
