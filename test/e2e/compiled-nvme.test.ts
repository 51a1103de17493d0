/**
 * The NVMe driver in C (guest/c/nvme, compiled to wasm) against the same
 * scenarios as the TypeScript one: the same device-boundary behaviour (diff
 * says TIMING-ONLY once the process names are left out), traces identical
 * from any checkout path, and `simrun check` telling a harmless change of the
 * C source (TIMING-ONLY, passes) from a bug (FUNCTIONAL, fails). The checks
 * on edited sources rebuild the module and need clang (installed by .ci/run).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/machine/run.js';
import { cleanupCopies, editFile, projectCopy, ROOT, scenarioPath, simrunIn } from './helpers.js';

afterAll(cleanupCopies);

function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}
const toolchain = have('clang') && have('wasm-ld');

describe('nvme-c (C, compiled to wasm)', () => {
  for (const s of ['nvme-msix', 'nvme-intx']) {
    it(`${s}-c behaves like ${s} at the device boundary: diff is TIMING-ONLY apart from the driver's process name`, () => {
      const strict = simrunIn(ROOT, 'diff', join(ROOT, `traces/${s}.simtrace`), join(ROOT, `traces/${s}-c.simtrace`), '--json');
      const verdict = (JSON.parse(strict.out) as { verdict: { verdict: string; differences: { source: string; stream: string }[] } }).verdict;
      expect(verdict.verdict).toBe('FUNCTIONAL');
      // The only functional difference: the driver process is nvme-cd, not nvmed.
      expect(verdict.differences.map((d) => `${d.source} ${d.stream}`).sort()).toEqual(['nvme-cd process', 'nvmed process']);
      const r = simrunIn(ROOT, 'diff', join(ROOT, `traces/${s}.simtrace`), join(ROOT, `traces/${s}-c.simtrace`), '--ignore', 'kind:proc');
      expect(r.out).toMatch(/^verdict: TIMING-ONLY/);
      expect(r.code).toBe(0);
    });
  }

  it('passes the I/O timeout fault like the TypeScript driver: abort, one EIO, the rest verified', () => {
    const out = runScenario(scenarioPath('nvme-fault-io-timeout-c'));
    expect(out.result.failures).toEqual([]);
    const logs = out.machine.kernel.logs.map((l) => l.text).join('\n');
    expect(logs).toMatch(/I\/O \d+ QID \d timeout, aborting/);
  });

  it('records byte-identical traces run after run and from another checkout path', () => {
    const a = runScenario(scenarioPath('nvme-jitter-c'), { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(scenarioPath('nvme-jitter-c'), { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
    const copy = projectCopy();
    const r = simrunIn(copy, 'run', 'fixtures/scenarios/nvme-jitter-c.json', '--record', join(copy, 'j.simtrace'));
    expect(r.code).toBe(0);
    expect(Buffer.compare(readFileSync(join(copy, 'j.simtrace')), a)).toBe(0);
  });
});

/** Rebuilds the nvme module of a project copy (asynchronously: Binaryen takes a while to load). */
async function rebuild(copy: string): Promise<void> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', join(copy, 'scripts/build-drivers.ts'), '--root', copy, 'nvme'], { cwd: ROOT });
}

describe.skipIf(!toolchain)('simrun check on a changed C driver', () => {
  it('a harmless change (more work per command) is TIMING-ONLY and passes', async () => {
    const copy = projectCopy();
    editFile(copy, 'guest/c/nvme/core.c', '  u32 blocks = bytes >> ns->lba_shift;\n',
      '  u32 blocks = bytes >> ns->lba_shift;\n  for (volatile int spin = 0; spin < 200; spin++) {}\n');
    await rebuild(copy);
    const r = simrunIn(copy, 'check', 'fixtures/scenarios/nvme-jitter-c.json');
    expect(r.out).toMatch(/^note: guest\/modules\/nvme\.wasm changed since the golden trace was recorded \([0-9a-f]{12} -> [0-9a-f]{12}\)\nverdict: TIMING-ONLY/);
    expect(r.code).toBe(0);
  }, 300_000);

  it('a bug in the C source (one block too many per command) is FUNCTIONAL, names the field, and fails', async () => {
    const copy = projectCopy();
    editFile(copy, 'guest/c/nvme/core.c', 'cmd->cdw12 = cpu_to_le32(blocks - 1);', 'cmd->cdw12 = cpu_to_le32(blocks);');
    await rebuild(copy);
    const r = simrunIn(copy, 'check', 'fixtures/scenarios/nvme-jitter-c.json');
    expect(r.out).toMatch(/^note: guest\/modules\/nvme\.wasm changed since the golden trace was recorded .*\nverdict: FUNCTIONAL/);
    expect(r.out).toMatch(/nlb|NLB|blocks/);
    expect(r.code).toBe(1);
  }, 300_000);
});
