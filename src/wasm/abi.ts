/**
 * The contract between an instrumented driver module and the runtime
 * (docs/COMPILED-DRIVERS.md): names both sides use. Kept apart from the
 * instrumentation (which loads Binaryen) so running a driver never loads it.
 */
/**
 * Exported immutable i32 global: the address of the fuel counter (an i32 in
 * linear memory, just above the module's static data: the instrumentation
 * moves `__heap_base` past it). Memory rather than a wasm global, so the
 * runtime reads and refills it at every import call with a typed-array
 * access instead of a WebAssembly.Global round trip.
 */
export const FUEL_ADDR_GLOBAL = '__simrun_fuel_addr';
export const FUEL_IMPORT = { module: 'simrun', name: 'fuel_exhausted' } as const;
/** Custom section carrying what the module was instrumented with (JSON). */
export const ABI_SECTION = 'simrun.abi';
export const ABI_VERSION = 2;
/** Called by the stack check (Binaryen's stack-check pass) when a function would move the C stack pointer out of its thread's stack. */
export const STACK_OVERFLOW_IMPORT = { module: 'simrun', name: 'stack_overflow' } as const;
/** The stack check's bound (exported, mutable): the lowest address the C stack pointer may take; the runtime sets it per thread. */
export const STACK_LIMIT_GLOBAL = '__simrun_stack_limit';
