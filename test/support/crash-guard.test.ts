import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareKernel } from '../kernel/harness.js';
import { checkCrashes, withCrashes } from './crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Assertion { title: string; status: string; failureMessages: string[] }

describe('crash guard: a crash in a simulated task fails the test', () => {
  it('checkCrashes throws for a failed expect in a task, naming the process and keeping the error', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('probe', function* (sys) {
      yield* sys.sleep(1000);
      expect(40 + 2).toBe(41);
    });
    run();
    let caught: unknown;
    try { checkCrashes(); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(Error);
    const err = caught as Error & { actual?: unknown; expected?: unknown };
    expect(err.message).toContain('process "probe"');
    expect(err.message).toContain('expected 42 to be 41');
    expect(err.cause).toBeInstanceOf(Error);
    expect([err.actual, err.expected]).toEqual([42, 41]);
    // The task's own frame (this file) is in the stack, not just the scheduler's.
    expect(err.stack).toContain('crash-guard.test.ts');
    // Reported once: the crash is forgotten after it was thrown.
    expect(() => checkCrashes()).not.toThrow();
  });

  it('names the thread that threw as well as its process', () => {
    const { kernel, run } = bareKernel();
    const proc = kernel.spawn('daemon', function* (sys) { yield* sys.sleep(10_000); });
    kernel.spawnThread(proc, 'irq-thread', function* () { throw new Error('bad descriptor'); }, 0);
    run();
    expect(checkCrashes).toThrow('process "daemon" (task "irq-thread"): bad descriptor');
  });

  it('withCrashes fails when the crash it expects does not happen', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('fine', function* (sys) { yield* sys.sleep(10); });
    expect(() => withCrashes(() => run())).toThrow('expected a simulated crash during this run; none happened');
  });

  describe('in a vitest run of fixture tests', () => {
    let results: Map<string, Assertion>;
    beforeAll(() => {
      const out = mkdtempSync(join(tmpdir(), 'crash-guard-'));
      try {
        const file = join(out, 'report.json');
        const r = spawnSync(process.execPath, [
          join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'test/support/fixtures/vitest.config.ts',
          '--reporter=json', `--outputFile=${file}`,
        ], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
        expect(r.status, r.stderr).toBe(1);
        const report = JSON.parse(readFileSync(file, 'utf8')) as { testResults: { assertionResults: Assertion[] }[] };
        results = new Map(report.testResults.flatMap((f) => f.assertionResults).map((a) => [a.title, a]));
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });

    it('fails every fixture test named "fails:" and passes every one named "passes:"', () => {
      expect(results.size).toBe(9);
      for (const [title, a] of results) {
        expect({ title, status: a.status }).toEqual({ title, status: title.startsWith('fails:') ? 'failed' : 'passed' });
      }
    });

    it('reports the process, the task and the original failure', () => {
      const msg = (title: string) => results.get(title)!.failureMessages.join('\n');
      expect(msg('fails: a failed expect in a spawned task')).toMatch(/SimulatedTaskCrash: simulated process "checker-task": expected 2 to be 3/);
      expect(msg('fails: a throw in a thread of a process')).toContain('process "threaded" (task "worker-thread"): index 9 out of range');
      expect(msg('fails: expectCrash with no crash')).toContain('the test expected a simulated crash; none happened');
      expect(msg('fails: expectCrash of another process does not cover this one')).toContain('process "wrong-one"');
      expect(msg('fails: the first test after a crashing beforeAll')).toMatch(/process "setup-task".*crashed before this test started/s);
    });
  });
});
