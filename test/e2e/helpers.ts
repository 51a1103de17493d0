import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openTrace, type SeqEvent } from '../../src/trace/reader.js';
import { runScenario, type RunOptions } from '../../src/machine/run.js';
import { vi } from 'vitest';
import { QueuePair } from '../../src/drivers/nvme/queue.js';
// A crash of a driver in a scenario run fails the test unless it declares it (expectCrash, withCrashes).
import '../support/crash-guard.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const scenarioPath = (name: string) => join(ROOT, 'fixtures/scenarios', `${name}.json`);
export const DISK = join(ROOT, 'fixtures/disks/nvme-8m.img');

/** Runs a scenario recording into memory; returns the outcome and the decoded events. */
export function runRecorded(name: string, opts: RunOptions = {}) {
  const out = runScenario(scenarioPath(name), { ...opts, recordToBuffer: true });
  const buffer = out.trace!.buffer!;
  const events = (): SeqEvent[] => [...openTrace(buffer).events()];
  return { ...out, buffer, events };
}

/** A copy of the project whose source a test may edit (node_modules shared by symlink); removed by `cleanupCopies`. */
const copies: string[] = [];
export function projectCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'simrun-copy-'));
  copies.push(dir);
  for (const p of ['src', 'bin', 'fixtures', 'traces', 'guest', 'scripts', 'package.json', 'tsconfig.json']) cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

export function cleanupCopies(): void {
  for (const d of copies.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Replaces `from` by `to` in a file of a project copy (fails if `from` is not there). */
export function editFile(dir: string, file: string, from: string, to: string): void {
  const p = join(dir, file);
  const s = readFileSync(p, 'utf8');
  if (!s.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(p, s.replace(from, to));
}

/** Runs the simrun CLI of project `dir` (colour off); returns exit code and output. */
export function simrunIn(dir: string, ...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(dir, 'bin/simrun.js'), ...args], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 28,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * simrunIn without blocking the test worker (vitest's worker RPC times out
 * when a synchronous spawn holds its event loop for a minute, as
 * `check --all` over every golden trace can).
 */
export async function simrunAsync(dir: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((done) => {
    execFile(process.execPath, [join(dir, 'bin/simrun.js'), ...args], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 28,
    }, (e, stdout, stderr) => {
      const code = e === null ? 0 : typeof (e as { code?: unknown }).code === 'number' ? (e as { code: number }).code : null;
      done({ code, out: stdout, err: stderr });
    });
  });
}

/** A driver whose I/O queues stop ringing the CQ head doorbell after `ok` rings (admin queue unaffected). */
export function withBrokenCqDoorbell<T>(ok: number, fn: () => T): T {
  const ring = QueuePair.prototype.ringCq;
  let n = 0;
  const spy = vi.spyOn(QueuePair.prototype, 'ringCq').mockImplementation(function (this: QueuePair) {
    if (this.qid === 0 || n++ < ok) ring.call(this);
  });
  try {
    return fn();
  } finally {
    spy.mockRestore();
  }
}
