/**
 * Git side of `simrun bisect --git`: checks the user's repository (no
 * uncommitted changes to tracked files, both refs exist, good is an ancestor
 * of bad on the first-parent line), lists the first-parent commits of the
 * range, and runs the scenario at one commit in a temporary detached worktree
 * that is removed afterwards. Untracked files in the user's tree are
 * irrelevant (the worktree holds only the commit). Only `git worktree
 * add/remove/prune` write anything, and only under .git; the user's branch,
 * index and working tree are never touched, and their package-lock.json is
 * checked to be left as it was.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { InputError } from '../../sim/errors.js';

export interface Commit {
  hash: string;
  subject: string;
}

/** Environment for child processes: without GIT_DIR & co. (set when run from a hook), so `-C` decides. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_COMMON_DIR']) delete env[k];
  return env;
}

export function git(repo: string, args: string[]): SpawnSyncReturns<string> {
  return spawnSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 26 });
}

function gitOk(repo: string, args: string[], what: string): string {
  const r = git(repo, args);
  if (r.error !== undefined) throw new InputError('--git', '', `cannot run git (${r.error.message}); is git installed?`);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed while ${what}: ${lastLine(r.stderr)}`);
  return r.stdout;
}

/** The last non-empty line of a process's output (for one-line reasons). */
export function lastLine(text: string | null | undefined): string {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** The first non-empty line of a process's output (the error message, before any stack). */
export function firstLine(text: string | null | undefined): string {
  return (text ?? '').split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
}

/** Splits "<good>..<bad>"; anything else is a usage error naming --git. */
export function parseRange(range: string): { good: string; bad: string } {
  const m = /^(.+?)\.\.(.+)$/.exec(range);
  if (m === null || m[1] === undefined || m[2] === undefined || m[2].startsWith('.')) {
    throw new InputError('--git', '', `"${range}" is not a range: give <good>..<bad>, e.g. v1.2..HEAD`);
  }
  for (const ref of [m[1], m[2]]) {
    if (ref.startsWith('-') || /\s/.test(ref)) throw new InputError('--git', '', `"${ref}" is not a revision`);
  }
  return { good: m[1], bad: m[2] };
}

/** The top of the work tree holding `dir`; exit 2 when it is not in a git repository. */
export function repoRoot(dir: string): string {
  if (!existsSync(dir)) throw new InputError(dir, '', 'folder not found');
  const r = git(dir, ['rev-parse', '--show-toplevel']);
  if (r.error !== undefined) throw new InputError('--git', '', `cannot run git (${r.error.message}); is git installed?`);
  if (r.status !== 0) throw new InputError(dir, '', `not a git repository (${lastLine(r.stderr)}); run bisect from the project's repository`);
  return r.stdout.trim();
}

/**
 * Refuses a tree with uncommitted changes to tracked files (exit 2): the
 * golden trace and scenario are read from it. Untracked files are fine:
 * each commit runs in its own worktree, where they do not exist.
 */
export function requireClean(root: string): void {
  const st = gitOk(root, ['status', '--porcelain', '--untracked-files=no'], 'checking the working tree');
  const lines = st.split('\n').filter((l) => l.trim() !== '');
  if (lines.length > 0) {
    const shown = lines.slice(0, 5).map((l) => l.trim()).join(', ');
    throw new InputError(root, '', `the working tree has uncommitted changes (${shown}${lines.length > 5 ? `, and ${lines.length - 5} more` : ''}); `
      + 'commit or stash them first: bisect compares against the golden trace of the current tree, and never touches the tree itself (untracked files are fine)');
  }
}

/**
 * The install command for a worktree when none is given: `npm ci` when the
 * commit has a lockfile (installs exactly what it pins and never rewrites
 * it), `npm install` otherwise.
 */
export function defaultInstall(wt: string): string {
  return existsSync(join(wt, 'package-lock.json')) ? 'npm ci --no-audit --no-fund' : 'npm install --no-audit --no-fund';
}

/** The bytes of a file, or undefined when it does not exist. */
function snapshot(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Resolves a ref to a commit hash; unknown refs are exit 2. */
export function resolveCommit(root: string, ref: string, which: 'good' | 'bad'): Commit {
  const r = git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (r.status !== 0) throw new InputError('--git', '', `unknown ${which} revision "${ref}": not a commit in ${root}`);
  const hash = r.stdout.trim();
  const subject = gitOk(root, ['log', '-1', '--format=%s', hash], 'reading a commit subject').replace(/\n$/, '');
  return { hash, subject };
}

/**
 * The first-parent commits after `good` up to and including `bad`, oldest
 * first. Exit 2 when the range does not exist: good equal to bad, good not an
 * ancestor of bad, or good not on bad's first-parent line.
 */
export function rangeCommits(root: string, good: Commit, bad: Commit, range: string): Commit[] {
  if (good.hash === bad.hash) throw new InputError('--git', '', `empty range ${range}: good and bad are the same commit ${good.hash.slice(0, 12)}`);
  const anc = git(root, ['merge-base', '--is-ancestor', good.hash, bad.hash]);
  if (anc.status === 1) {
    throw new InputError('--git', '', `no such range ${range}: good (${good.hash.slice(0, 12)}) is not an ancestor of bad (${bad.hash.slice(0, 12)}); `
      + 'give the older, good commit first');
  }
  if (anc.status !== 0) throw new Error(`git merge-base failed: ${lastLine(anc.stderr)}`);
  const log = gitOk(root, ['log', '--first-parent', '--reverse', '--format=%H%x09%P%x09%s', `${good.hash}..${bad.hash}`], 'listing the range');
  const commits: Commit[] = [];
  let firstParent: string | undefined;
  for (const line of log.split('\n')) {
    if (line === '') continue;
    const [hash = '', parents = '', ...rest] = line.split('\t');
    if (commits.length === 0) firstParent = parents.split(' ')[0];
    commits.push({ hash, subject: rest.join('\t') });
  }
  if (commits.length === 0 || commits[commits.length - 1]?.hash !== bad.hash) throw new Error(`git log ${range} did not end at the bad commit`);
  if (firstParent !== good.hash) {
    throw new InputError('--git', '', `good (${good.hash.slice(0, 12)}) is not on the first-parent history of bad (${bad.hash.slice(0, 12)}): `
      + 'it was merged in from a side branch; give the merge commit, or a commit on the main line, as good');
  }
  return commits;
}

export interface CommitRun {
  /** What happened, before any trace comparison. */
  kind: 'ran' | 'untestable';
  /** Why untestable, or the run's stderr tail. */
  reason: string;
  /** Exit code of `simrun run` (null when killed by a signal). */
  exitCode: number | null;
  signal: string | null;
  /** Expectation failures printed by the run. */
  failures: string[];
  /** The recorded trace, when the run wrote one. */
  trace: string | undefined;
}

/**
 * Checks `commit` out in a detached worktree under `tmp`, installs, runs the
 * scenario recording to `tracePath`, and removes the worktree.
 */
export function runAtCommit(root: string, commit: Commit, o: { tmp: string; scenario: string; install: string | undefined; tracePath: string }): CommitRun {
  const wt = join(o.tmp, `wt-${commit.hash.slice(0, 12)}`);
  const add = spawnSync('git', ['-C', root, '-c', 'core.hooksPath=/dev/null', 'worktree', 'add', '--detach', wt, commit.hash],
    { encoding: 'utf8', env: childEnv() });
  if (add.status !== 0) throw new Error(`git worktree add failed for ${commit.hash.slice(0, 12)}: ${lastLine(add.stderr)}`);
  const lockPath = join(root, 'package-lock.json');
  const lock = snapshot(lockPath);
  try {
    const install = o.install ?? defaultInstall(wt);
    const inst = spawnSync(install, { cwd: wt, shell: true, encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 26 });
    const after = snapshot(lockPath);
    if (lock !== undefined && (after === undefined || !after.equals(lock))) {
      // The install reached outside its worktree: put the user's lockfile back and do not trust this commit's run.
      writeFileSync(lockPath, lock);
      return untestable(`the install command (${install}) changed package-lock.json in ${root}; it was restored`);
    }
    if (inst.status !== 0) {
      return untestable(`install failed (${install}: ${inst.error?.message ?? (lastLine(inst.stderr) || lastLine(inst.stdout) || `exit ${inst.status}`)})`);
    }
    if (!existsSync(join(wt, 'bin/simrun.js'))) return untestable('no bin/simrun.js at this commit');
    const built = buildDrivers(wt);
    if (built !== undefined) return untestable(built);
    if (!isAbsolute(o.scenario) && !existsSync(join(wt, o.scenario))) return untestable(`no scenario ${o.scenario} at this commit`);
    const run = spawnSync(process.execPath, [join(wt, 'bin/simrun.js'), 'run', o.scenario, '--record', o.tracePath], {
      cwd: wt, encoding: 'utf8', env: childEnv({ FORCE_COLOR: '0', NO_COLOR: '1' }), maxBuffer: 1 << 28,
    });
    if (run.error !== undefined) return untestable(`could not run simrun: ${run.error.message}`);
    const failures = parseFailures(run.stdout);
    const trace = existsSync(o.tracePath) ? o.tracePath : undefined;
    const reason = firstLine(run.stderr).replace(/^(?:internal error|error|simrun):\s*/, '');
    if (run.status === 2) return untestable(`the scenario does not load at this commit: ${reason || 'exit 2'}`);
    return { kind: 'ran', reason, exitCode: run.status, signal: run.signal, failures, trace };
  } finally {
    removeWorktree(root, wt);
  }
}

/**
 * Rebuilds the commit's compiled drivers (guest/ → guest/modules) so the run
 * uses what its sources say, not a module someone forgot to rebuild. Without
 * clang the committed modules are used. Returns why the build failed, if it did.
 */
function buildDrivers(wt: string): string | undefined {
  const script = join(wt, 'scripts/build-drivers.ts');
  if (!existsSync(script) || !existsSync(join(wt, 'guest'))) return undefined;
  const clang = spawnSync('clang', ['--version'], { encoding: 'utf8', env: childEnv() });
  if (clang.error !== undefined || clang.status !== 0) return undefined;
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: wt, encoding: 'utf8', env: childEnv(), maxBuffer: 1 << 26 });
  if (r.error !== undefined || r.status !== 0) return `the compiled drivers do not build at this commit: ${lastLine(r.stderr) || r.error?.message || `exit ${r.status}`}`;
  return undefined;
}

function untestable(reason: string): CommitRun {
  return { kind: 'untestable', reason, exitCode: null, signal: null, failures: [], trace: undefined };
}

/** The "  - ..." lines after FAIL in a run summary. */
export function parseFailures(stdout: string): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => /^\s*FAIL\b/.test(l.replace(/\x1b\[[0-9;]*m/g, '')));
  if (at < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\s+- (.*)$/.exec(l.replace(/\x1b\[[0-9;]*m/g, ''));
    if (m === null) break;
    out.push(m[1] ?? '');
  }
  return out;
}

export function removeWorktree(root: string, wt: string): void {
  const r = spawnSync('git', ['-C', root, 'worktree', 'remove', '--force', '--force', wt], { encoding: 'utf8', env: childEnv() });
  if (r.status !== 0 || existsSync(wt)) {
    rmSync(wt, { recursive: true, force: true });
    spawnSync('git', ['-C', root, 'worktree', 'prune'], { encoding: 'utf8', env: childEnv() });
  }
}
