/**
 * The contract between an instrumented driver module and the runtime
 * (docs/COMPILED-DRIVERS.md): names both sides use. Kept apart from the
 * instrumentation (which loads Binaryen) so running a driver never loads it.
 */
export const FUEL_GLOBAL = '__simrun_fuel';
export const FUEL_IMPORT = { module: 'simrun', name: 'fuel_exhausted' } as const;
/** Custom section carrying what the module was instrumented with (JSON). */
export const ABI_SECTION = 'simrun.abi';
export const ABI_VERSION = 1;
/** Called by the stack check (Binaryen's stack-check pass) when a function would move the C stack pointer out of its thread's stack. */
export const STACK_OVERFLOW_IMPORT = { module: 'simrun', name: 'stack_overflow' } as const;
/** The stack check's bound (exported, mutable): the lowest address the C stack pointer may take; the runtime sets it per thread. */
export const STACK_LIMIT_GLOBAL = '__simrun_stack_limit';
