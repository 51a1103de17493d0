/**
 * Runs a compiled Redox driver daemon (a Rust cdylib on the redox-driver
 * crate, guest/rust/<name>): load the module, hand it its pcid handle
 * through the `redox` imports, and call its `simrun_redox_main` as the
 * process's main thread. As on Redox, returning from main ends the process
 * (exit code: what main returned); a daemon serving a scheme never returns.
 */
import type { Co, Sys } from '../../kernel/sys.js';
import type { PciFunctionHandle } from '../../kernel/pcid.js';
import { loadDriverModule } from '../runtime/module.js';
import { WasmProcess } from '../runtime/process.js';
import { RedoxHost } from './shim.js';
import { REDOX_TABLES } from './tables.js';

/** The entry point `redox_driver::driver_main!` defines. */
export const REDOX_MAIN = 'simrun_redox_main';

export interface CompiledRedoxDriverOptions {
  /** The driver's name in logs. */
  name: string;
  /** Path of the instrumented module. */
  module: string;
  memoryBytes: number;
  /** Scenario parameters the module reads with param_int (an enum's value is its index). */
  params: Readonly<Record<string, unknown>>;
}

export function* runCompiledRedoxDriver(sys: Sys, pci: PciFunctionHandle, o: CompiledRedoxDriverOptions): Co<number> {
  const mod = loadDriverModule(o.module);
  const proc = new WasmProcess(mod, sys, { memoryBytes: o.memoryBytes, imports: REDOX_TABLES });
  const host = new RedoxHost(proc, sys, pci, { name: o.name, params: o.params });
  proc.host = host;
  const ctors = proc.exported('__wasm_call_ctors');
  if (ctors !== undefined) yield* host.call(sys, ctors, [], '__wasm_call_ctors');
  const main = proc.exported(REDOX_MAIN);
  if (main === undefined) {
    sys.log('error', `${o.name}: ${o.module} exports no ${REDOX_MAIN} (declare the driver's main with redox_driver::driver_main!)`);
    return yield* sys.exit(1);
  }
  const code = yield* host.call(sys, main, [], 'main');
  if (code !== 0) yield* sys.exit(code);
  return 0;
}
