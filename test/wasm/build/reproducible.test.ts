/**
 * `npm run build:drivers`: the committed driver modules (guest/modules/*.wasm)
 * are what their sources build to (`--check` rebuilds every driver in memory
 * and compares), and a compile error names the C source line. Needs Debian's
 * clang and lld, which .ci/run installs; without them the tests are skipped.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../e2e/helpers.js';

function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}
const toolchain = have('clang') && have('wasm-ld');

/** Runs the build script (asynchronously: a long synchronous spawn would stall the test worker). */
async function build(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/build-drivers.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, out: x.stdout ?? '', err: x.stderr ?? '' };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'simrun-build-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!toolchain)('npm run build:drivers', () => {
  it('reproduces every committed module byte for byte', async () => {
    const r = await build('--check');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/guest\/modules\/selftest\.wasm: up to date/);
  }, 300_000);

  it('reports a compile error at its source line and writes nothing', async () => {
    cpSync(join(ROOT, 'guest/include'), join(dir, 'guest/include'), { recursive: true });
    cpSync(join(ROOT, 'guest/lib'), join(dir, 'guest/lib'), { recursive: true });
    mkdirSync(join(dir, 'guest/c/broken'), { recursive: true });
    writeFileSync(join(dir, 'guest/c/broken/broken.c'), '#include <linux/pci.h>\n\nint broken(void) { return undeclared_thing; }\n');
    const r = await build('--root', dir, 'broken');
    expect(r.code).toBe(1);
    expect(r.err).toContain('guest/c/broken/broken.c:3:');
    expect(r.err).toContain("use of undeclared identifier 'undeclared_thing'");
    expect(r.err).toContain('build-drivers: broken: clang failed for guest/c/broken');
  }, 120_000);
});
