/**
 * `npm run build:drivers`: the committed driver modules (guest/modules/*.wasm)
 * are what their sources build to (`--check` rebuilds every driver in memory
 * and compares), and a compile error names the C or Rust source line. C
 * needs Debian's clang and lld, Rust Debian's /usr/bin/rustc with its wasm32
 * standard library (libstd-rust-dev-wasm32); .ci/run installs both, and
 * without one of them its half of the tests is skipped.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../e2e/helpers.js';

function have(cmd: string): boolean {
  try { execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }); return true; } catch { return false; }
}
const toolchain = have('clang') && have('wasm-ld');

/** Debian's rustc and its wasm32 standard library (a rustup rustc on PATH does not count: it has no wasm32 target). */
function haveRust(): boolean {
  try {
    const sysroot = execFileSync('/usr/bin/rustc', ['--print', 'sysroot'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return existsSync(join(sysroot, 'lib/rustlib/wasm32-unknown-unknown/lib'));
  } catch {
    return false;
  }
}
const rustToolchain = haveRust();
const cDrivers = readdirSync(join(ROOT, 'guest/c')).sort();
// The library crates (scripts/build-drivers.ts RUST_LIBS) are not drivers.
const rustDrivers = readdirSync(join(ROOT, 'guest/rust')).filter((n) => n !== 'redox-driver' && n !== 'virtio-core').sort();

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

describe.skipIf(!toolchain)('npm run build:drivers (C)', () => {
  it('reproduces every committed C module byte for byte', async () => {
    const r = await build('--check', ...cDrivers);
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

describe.skipIf(!rustToolchain)('npm run build:drivers (Rust)', () => {
  it('reproduces every committed Rust module byte for byte', async () => {
    const r = await build('--check', ...rustDrivers);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const name of rustDrivers) expect(r.out).toContain(`guest/modules/${name}.wasm: up to date`);
  }, 300_000);

  it('builds the same bytes from two checkout directories, with no absolute path in the module', async () => {
    const dirs = ['checkout-a', 'checkout-b/deeper'].map((d) => join(dir, d));
    for (const d of dirs) cpSync(join(ROOT, 'guest/rust'), join(d, 'guest/rust'), { recursive: true });
    const rs = await Promise.all(dirs.map((d) => build('--root', d, 'redox-selftest')));
    for (const r of rs) expect(r.code, r.err).toBe(0);
    const [a, b] = dirs.map((d) => readFileSync(join(d, 'guest/modules/redox-selftest.wasm')));
    expect(Buffer.compare(a!, b!)).toBe(0);
    expect(Buffer.compare(a!, readFileSync(join(ROOT, 'guest/modules/redox-selftest.wasm')))).toBe(0);
    const text = a!.toString('latin1');
    for (const p of [...dirs, ROOT, tmpdir()]) expect(text).not.toContain(p);
    expect(text).toContain('guest/rust/redox-selftest/src/main.rs'); // panic locations, relative
  }, 300_000);

  it('reports a compile error at its Rust source line and writes nothing', async () => {
    const root = join(dir, 'rust-broken');
    cpSync(join(ROOT, 'guest/rust/redox-driver'), join(root, 'guest/rust/redox-driver'), { recursive: true });
    mkdirSync(join(root, 'guest/rust/broken/src'), { recursive: true });
    writeFileSync(join(root, 'guest/rust/broken/src/main.rs'),
      '#![no_std]\nredox_driver::driver_main!(main);\n\nfn main() -> redox_driver::Result<()> {\n    let n: u32 = undeclared_thing;\n    Ok(())\n}\n');
    const r = await build('--root', root, 'broken');
    expect(r.code).toBe(1);
    expect(r.err).toContain('guest/rust/broken/src/main.rs:5:');
    expect(r.err).toContain('cannot find value `undeclared_thing` in this scope');
    expect(r.err).toContain('build-drivers: broken: rustc failed for guest/rust/broken');
    expect(existsSync(join(root, 'guest/modules/broken.wasm'))).toBe(false);
  }, 120_000);
});
