/**
 * Loading a compiled driver module: the `.wasm` file `npm run build:drivers`
 * wrote (clang or rustc output, instrumented by src/wasm/build/instrument.ts).
 * A module that is not instrumented, or was built for another ABI version,
 * is bad input: an InputError naming the file and what is missing.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { InputError } from '../../sim/errors.js';
import { ABI_SECTION, ABI_VERSION, FUEL_ADDR_GLOBAL, STACK_LIMIT_GLOBAL } from '../abi.js';

export interface DriverModule {
  readonly path: string;
  readonly module: WebAssembly.Module;
  /** sha256 of the file (traces and reports name the module by it). */
  readonly sha256: string;
  /** Imports asyncify unwinds through (from the module's ABI section). */
  readonly asyncImports: ReadonlySet<string>;
}

const REQUIRED_EXPORTS = ['memory', FUEL_ADDR_GLOBAL, '__stack_pointer', 'asyncify_start_unwind', 'asyncify_stop_unwind',
  'asyncify_start_rewind', 'asyncify_stop_rewind', 'asyncify_get_state', STACK_LIMIT_GLOBAL] as const;

/**
 * Compiled modules by path and content hash. A WebAssembly.Module is
 * immutable and every process instantiates its own, so sharing one between
 * machines of a process cannot change what any of them does; it only saves
 * recompiling per run.
 */
const cache = new Map<string, DriverModule>();

/** Reads, compiles and checks a driver module (cached per path and content within the process). */
export function loadDriverModule(path: string): DriverModule {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError(path, '', `cannot read the driver module: ${(e as NodeJS.ErrnoException).code ?? String(e)}; build it with: npm run build:drivers`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const key = `${path}\0${sha256}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(new Uint8Array(bytes));
  } catch (e) {
    throw new InputError(path, '', `not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const exports = new Set(WebAssembly.Module.exports(module).map((x) => x.name));
  const missing = REQUIRED_EXPORTS.filter((n) => !exports.has(n));
  const sections = WebAssembly.Module.customSections(module, ABI_SECTION);
  if (sections.length === 0 || missing.length > 0) {
    throw new InputError(path, missing.length > 0 ? `exports.${missing[0]}` : `section ${ABI_SECTION}`,
      'the module is not instrumented for simrun (instruction counting and asyncify); build it with npm run build:drivers (docs/COMPILED-DRIVERS.md)');
  }
  let abi: { abi?: unknown; asyncImports?: unknown };
  try {
    abi = JSON.parse(new TextDecoder().decode(sections[0]!)) as typeof abi;
  } catch {
    throw new InputError(path, `section ${ABI_SECTION}`, 'unreadable ABI description (not JSON)');
  }
  if (abi.abi !== ABI_VERSION) {
    throw new InputError(path, `section ${ABI_SECTION}.abi`, `built for driver ABI ${String(abi.abi)}, this simrun runs ABI ${ABI_VERSION}; rebuild with npm run build:drivers`);
  }
  if (!Array.isArray(abi.asyncImports) || !abi.asyncImports.every((x) => typeof x === 'string')) {
    throw new InputError(path, `section ${ABI_SECTION}.asyncImports`, 'expected a list of import names');
  }
  const m: DriverModule = { path, module, sha256, asyncImports: new Set(abi.asyncImports as string[]) };
  cache.set(key, m);
  return m;
}
