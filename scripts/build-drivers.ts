/**
 * `npm run build:drivers`: compiles every compiled driver under guest/ to
 * WebAssembly and instruments it for simrun (src/wasm/build/instrument.ts),
 * writing guest/modules/<name>.wasm. The modules are committed, so running
 * simrun needs no compiler; `--check` rebuilds into memory and fails if a
 * committed module differs from what its sources build to (CI runs it).
 *
 * C drivers: guest/c/<name>/*.c plus the shared guest/lib/*.c, built by
 * Debian's clang and wasm-ld against guest/include (the project's linux-kpi
 * headers). Paths are passed relative to the repository, so clang's
 * diagnostics name guest/c/<name>/<file>.c:<line> and no absolute path can
 * reach the module.
 *
 * Rust drivers: guest/rust/<name>/src/main.rs (or lib.rs), a cdylib on the
 * project's library crates (RUST_LIBS: guest/rust/redox-driver, then
 * guest/rust/virtio-core on it, built first as rlibs), by Debian's rustc 1.63 (/usr/bin/rustc: the rustup toolchain a PATH
 * may hold first has no wasm32 target) with its wasm32 standard library
 * (libstd-rust-dev-wasm32). Paths are relative to the repository and every
 * other prefix is remapped, so diagnostics and panic locations read
 * guest/rust/<name>/src/<file>.rs:<line> and the module is the same from
 * any checkout. Both kinds then get the same instrumentation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { blockingImportNames } from '../src/wasm/runtime/process.js';
import { LINUX_KPI_TABLES } from '../src/wasm/kpi/tables.js';
import { REDOX_TABLES } from '../src/wasm/redox/tables.js';

const args = process.argv.slice(2);
const check = args.includes('--check');
// --root <dir>: build the guest/ tree of another checkout (tests use it); default this repository.
const rootAt = args.indexOf('--root');
const root = rootAt >= 0 && args[rootAt + 1] !== undefined ? resolve(args[rootAt + 1]!) : resolve(import.meta.dirname, '..');
const only = args.filter((a, i) => !a.startsWith('--') && (rootAt < 0 || i !== rootAt + 1));

const CFLAGS = [
  '--target=wasm32', '-O2', '-std=gnu11', '-nostdlib', '-ffreestanding', '-fno-builtin-printf',
  '-mbulk-memory', '-msign-ext', '-mmutable-globals', '-mno-simd128',
  '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror=implicit-function-declaration', '-Werror=incompatible-pointer-types',
  '-Iguest/include', '-ffile-prefix-map=./=',
];
const LDFLAGS = [
  '-Wl,--no-entry', '-Wl,--export-dynamic', '-Wl,--export=__heap_base', '-Wl,--export=__wasm_call_ctors', '-Wl,--export-table',
  // The task words of the inline spinlocks (guest/lib/spinlock.c), which the runtime writes.
  '-Wl,--export=__kpi_current_tid', '-Wl,--export=__kpi_spin_depth',
  '-Wl,-z,stack-size=65536', '-Wl,--initial-memory=1048576',
];

/** Debian's rustc (1.63); its wasm32 standard library comes with libstd-rust-dev-wasm32. */
const RUSTC = '/usr/bin/rustc';
/**
 * The Rust library crates (not drivers), in build order: each is an rlib
 * linked with the ones before it, and every Rust driver may use all of them.
 */
const RUST_LIBS = ['redox-driver', 'virtio-core'] as const;
const RUST_TARGET = 'wasm32-unknown-unknown';
const RUSTFLAGS = [
  '--edition', '2021', '--target', RUST_TARGET, '-C', 'opt-level=2', '-C', 'panic=abort', '-C', 'codegen-units=1',
  '-C', 'strip=debuginfo',
];
const RUST_LINK = [
  '-C', 'link-arg=--export=__heap_base', '-C', 'link-arg=--export-table', '-C', 'link-arg=-zstack-size=65536',
];

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).filter((f) => f.endsWith('.c')).sort().map((f) => `${dir}/${f}`);
}

/**
 * clang's wasm driver runs `wasm-opt` after linking whenever one is on PATH,
 * and npm puts Binaryen's in node_modules/.bin: that would strip function
 * names and make the output depend on PATH. The instrumentation optimises
 * with Binaryen itself, so clang gets a PATH without node_modules/.bin.
 */
function clangEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes(`node_modules${sep}.bin`)).join(delimiter);
  return { ...process.env, PATH: path };
}

function buildC(name: string, tmp: string): Uint8Array {
  const out = join(tmp, `${name}.raw.wasm`);
  const files = [...sources(`guest/c/${name}`), ...sources('guest/lib')];
  try {
    execFileSync('clang', [...CFLAGS, ...LDFLAGS, '-o', out, ...files], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env: clangEnv() });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number };
    if (err.code === 'ENOENT') throw new Error('clang is not installed: apt-get install clang lld (Debian) to build C drivers');
    throw new Error(`clang failed for guest/c/${name} (the errors above name the source lines)`);
  }
  return readFileSync(out);
}

/** The crate root of guest/rust/<name>: src/main.rs (a driver daemon) or src/lib.rs. */
function crateRoot(name: string): string {
  for (const f of ['src/main.rs', 'src/lib.rs']) if (existsSync(join(root, 'guest/rust', name, f))) return `guest/rust/${name}/${f}`;
  throw new Error(`guest/rust/${name} has neither src/main.rs nor src/lib.rs`);
}

/**
 * rustc with the options every crate gets: relative paths from the
 * repository, and the repository's and the build directory's absolute paths
 * remapped (file!() and panic locations, symbol hashes), so the bytes do not
 * depend on where the checkout is.
 */
function rustc(args: string[], tmp: string, env: NodeJS.ProcessEnv, what: string): void {
  const remap = [`--remap-path-prefix=${root}${sep}=`, `--remap-path-prefix=${tmp}${sep}=`, `--remap-path-prefix=${tmp}=`];
  try {
    execFileSync(RUSTC, [...RUSTFLAGS, ...remap, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], env });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { status?: number };
    if (err.code === 'ENOENT') throw new Error(`${RUSTC} is not installed: apt-get install rustc libstd-rust-dev-wasm32 (Debian) to build Rust drivers`);
    throw new Error(`rustc failed for ${what} (the errors above name the source lines)`);
  }
}

/** Whether Debian's rustc and its wasm32 standard library are there (what building a Rust driver needs). */
function rustToolchain(): string | undefined {
  let sysroot: string;
  try {
    sysroot = execFileSync(RUSTC, ['--print', 'sysroot'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return `${RUSTC} is not installed: apt-get install rustc libstd-rust-dev-wasm32 (Debian) to build Rust drivers`;
  }
  if (!existsSync(join(sysroot, 'lib/rustlib', RUST_TARGET, 'lib'))) {
    return `${RUSTC} has no ${RUST_TARGET} standard library: apt-get install libstd-rust-dev-wasm32 (Debian) to build Rust drivers`;
  }
  return undefined;
}

/** The library rlibs as rustc `--extern` arguments (built once per run, for every Rust driver). */
let rustLibs: string[] | Error | undefined;
function buildRustLibs(tmp: string): string[] {
  if (rustLibs === undefined) {
    try {
      const missing = rustToolchain();
      if (missing !== undefined) throw new Error(missing);
      const externs: string[] = [];
      for (const lib of RUST_LIBS) {
        // A tree from before a library existed (--root) builds without it.
        if (lib !== 'redox-driver' && !existsSync(join(root, 'guest/rust', lib))) continue;
        const crate = lib.replace(/-/g, '_');
        const out = join(tmp, `lib${crate}.rlib`);
        // Rust 1.63 wants `#[alloc_error_handler]` (unstable) from a no_std crate with a global allocator: the
        // redox-driver crate alone may use it (RUSTC_BOOTSTRAP names the crate; the others build without it).
        const env: NodeJS.ProcessEnv = clangEnv();
        if (crate === 'redox_driver') env.RUSTC_BOOTSTRAP = 'redox_driver';
        else delete env.RUSTC_BOOTSTRAP;
        rustc(['--crate-name', crate, '--crate-type', 'rlib', ...externs, '-L', `dependency=${tmp}`, crateRoot(lib), '-o', out], tmp,
          env, `guest/rust/${lib}`);
        externs.push('--extern', `${crate}=${out}`);
      }
      rustLibs = externs;
    } catch (e) {
      rustLibs = e as Error;
    }
  }
  if (rustLibs instanceof Error) throw rustLibs;
  return rustLibs;
}

function buildRust(name: string, tmp: string): Uint8Array {
  const externs = buildRustLibs(tmp);
  const out = join(tmp, `${name}.raw.wasm`);
  const env = clangEnv();
  delete env.RUSTC_BOOTSTRAP;
  rustc(['--crate-name', name.replace(/-/g, '_'), '--crate-type', 'cdylib', ...externs, '-L', `dependency=${tmp}`,
    ...RUST_LINK, crateRoot(name), '-o', out], tmp, env, `guest/rust/${name}`);
  return readFileSync(out);
}

async function main(): Promise<number> {
  const cDrivers = existsSync(join(root, 'guest/c')) ? readdirSync(join(root, 'guest/c')).sort() : [];
  const rustDrivers = existsSync(join(root, 'guest/rust'))
    ? readdirSync(join(root, 'guest/rust')).filter((n) => !(RUST_LIBS as readonly string[]).includes(n) && existsSync(join(root, 'guest/rust', n, 'src'))).sort()
    : [];
  // Building everything without the Rust toolchain: the C drivers are built and the committed Rust
  // modules stay (as a bisect step without clang keeps every committed module); named ones must build.
  const rustMissing = only.length === 0 && rustDrivers.length > 0 ? rustToolchain() : undefined;
  if (rustMissing !== undefined) process.stderr.write(`build-drivers: skipping ${rustDrivers.map((n) => `guest/rust/${n}`).join(', ')} (their committed modules stay): ${rustMissing}\n`);
  const names = only.length > 0 ? only : [...cDrivers, ...(rustMissing === undefined ? rustDrivers : [])];
  const tmp = mkdtempSync(join(tmpdir(), 'simrun-build-'));
  let bad = 0;
  try {
    mkdirSync(join(root, 'guest/modules'), { recursive: true });
    for (const name of names) {
      const isC = cDrivers.includes(name);
      const isRust = rustDrivers.includes(name);
      const kind = isC && !isRust ? 'c' : isRust && !isC ? 'rust' : undefined;
      if (kind === undefined) {
        process.stderr.write(`build-drivers: ${isC ? `${name} is both guest/c/${name} and guest/rust/${name}` : `no driver ${name} under guest/c or guest/rust`}\n`);
        bad++;
        continue;
      }
      const target = join(root, 'guest/modules', `${name}.wasm`);
      let wasm: Uint8Array;
      try {
        const raw = kind === 'c' ? buildC(name, tmp) : buildRust(name, tmp);
        const asyncImports = blockingImportNames(kind === 'c' ? LINUX_KPI_TABLES : REDOX_TABLES);
        // Binaryen loads slowly (a large module): only once something compiled.
        const { instrumentModule, InstrumentError } = await import('../src/wasm/build/instrument.js');
        try {
          wasm = instrumentModule(raw, { asyncImports }).wasm;
        } catch (e) {
          throw e instanceof InstrumentError ? new Error(`cannot instrument: ${e.message}`) : e;
        }
      } catch (e) {
        process.stderr.write(`build-drivers: ${name}: ${(e as Error).message}\n`);
        bad++;
        continue;
      }
      const rel = relative(root, target);
      if (check) {
        const have = existsSync(target) ? readFileSync(target) : undefined;
        if (have === undefined || Buffer.compare(have, Buffer.from(wasm)) !== 0) {
          process.stderr.write(`build-drivers: ${rel} differs from what guest/${kind}/${name} builds to (${have === undefined ? 'missing' : `${have.length} vs ${wasm.length} bytes`}); run npm run build:drivers and commit it\n`);
          bad++;
        } else {
          process.stdout.write(`${rel}: up to date (${wasm.length} bytes)\n`);
        }
      } else {
        writeFileSync(target, wasm);
        process.stdout.write(`${rel}: ${wasm.length} bytes\n`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bad === 0 ? 0 : 1;
}

process.exitCode = await main();
