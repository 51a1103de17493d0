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
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { blockingImportNames } from '../src/wasm/runtime/process.js';
import { LINUX_KPI_TABLES } from '../src/wasm/kpi/tables.js';

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
  '-Wl,-z,stack-size=65536', '-Wl,--initial-memory=1048576',
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

async function main(): Promise<number> {
  const asyncImports = blockingImportNames(LINUX_KPI_TABLES);
  const cDrivers = existsSync(join(root, 'guest/c')) ? readdirSync(join(root, 'guest/c')).sort() : [];
  const names = only.length > 0 ? only : cDrivers;
  const tmp = mkdtempSync(join(tmpdir(), 'simrun-build-'));
  let bad = 0;
  try {
    mkdirSync(join(root, 'guest/modules'), { recursive: true });
    for (const name of names) {
      if (!cDrivers.includes(name)) { process.stderr.write(`build-drivers: no driver ${name} under guest/c\n`); bad++; continue; }
      const target = join(root, 'guest/modules', `${name}.wasm`);
      let wasm: Uint8Array;
      try {
        const raw = buildC(name, tmp);
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
          process.stderr.write(`build-drivers: ${rel} differs from what guest/c/${name} builds to (${have === undefined ? 'missing' : `${have.length} vs ${wasm.length} bytes`}); run npm run build:drivers and commit it\n`);
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
