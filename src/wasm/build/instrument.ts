/**
 * Turns a driver module as clang or rustc wrote it into one simrun can run:
 *
 * - Instruction counting. Each straight-line region (a function body, a loop
 *   body, an `if` arm) starts by subtracting its static instruction count
 *   from the fuel (an i32 in linear memory at `__simrun_fuel_addr`, placed
 *   where the heap began; `__heap_base` moves past it); each loop body then checks the fuel and
 *   calls the import `simrun.fuel_exhausted` when it went negative. The
 *   runtime reads the fuel at every import call (boundary crossing), turns
 *   what was spent into core cycles, and refills it. Counting is static per
 *   region: a `br` out of the middle of a region still pays for the whole
 *   region. It is exact for straight code and loops, deterministic always,
 *   and proportional to the work done (docs/COMPILED-DRIVERS.md).
 * - Asyncify (Binaryen's pass): the imports that may block (msleep, waiting
 *   on a completion, reading an irq: file) unwind the wasm stack into a
 *   per-thread buffer, return to simrun's scheduler, and rewind later.
 * - Exports the runtime needs: `__stack_pointer` (each thread has its own C
 *   stack) and the asyncify control functions.
 */
import binaryen from 'binaryen';

import { ABI_SECTION, ABI_VERSION, FUEL_ADDR_GLOBAL, FUEL_IMPORT, STACK_LIMIT_GLOBAL, STACK_OVERFLOW_IMPORT } from '../abi.js';

export interface InstrumentOptions {
  /** Imports (`module.name`) that may block: Asyncify unwinds through them. */
  asyncImports: readonly string[];
  /** Binaryen optimisation level after instrumentation (default 2). */
  optimize?: number;
}

export interface InstrumentResult {
  wasm: Uint8Array<ArrayBuffer>;
  /** Regions that got a fuel charge. */
  regions: number;
  /** Loops that got a fuel check. */
  loops: number;
}

/** Thrown for a module simrun cannot instrument; the message names the function. */
export class InstrumentError extends Error {}

const FEATURES = binaryen.Features.MVP | binaryen.Features.MutableGlobals | binaryen.Features.SignExt
  | binaryen.Features.BulkMemory | binaryen.Features.BulkMemoryOpt | binaryen.Features.NontrappingFPToInt;

type Ref = number;

/** Expression editing helpers binaryen.js has at run time but its typings leave out. */
const ed = binaryen as unknown as {
  Loop: { getBody(e: Ref): Ref; setBody(e: Ref, b: Ref): void };
  If: { getCondition(e: Ref): Ref; getIfTrue(e: Ref): Ref; getIfFalse(e: Ref): Ref; setIfTrue(e: Ref, b: Ref): void; setIfFalse(e: Ref, b: Ref): void };
  Function: { setBody(f: number, b: Ref): void };
  GlobalSet: { getName(e: Ref): string; getValue(e: Ref): Ref; setValue(e: Ref, v: Ref): void };
};

/** The children of an expression, for the expression kinds clang and rustc emit for wasm32 MVP. */
function children(e: Ref, fn: string): Ref[] {
  const id = binaryen.getExpressionId(e);
  if (id === binaryen.UnreachableId || id === binaryen.NopId) return [];
  const info = binaryen.getExpressionInfo(e) as unknown as Record<string, unknown> & { id: number };
  const pick = (...keys: string[]): Ref[] => keys.map((k) => info[k] as number).filter((r) => r !== 0 && r !== undefined);
  switch (info.id) {
    case binaryen.BlockId: return (info.children as Ref[]).slice();
    case binaryen.IfId: return pick('condition', 'ifTrue', 'ifFalse');
    case binaryen.LoopId: return pick('body');
    case binaryen.BreakId: return pick('value', 'condition');
    case binaryen.SwitchId: return pick('value', 'condition');
    case binaryen.CallId: return (info.operands as Ref[]).slice();
    case binaryen.CallIndirectId: return [...(info.operands as Ref[]), info.target as Ref];
    case binaryen.LocalSetId: case binaryen.GlobalSetId: case binaryen.DropId:
    case binaryen.UnaryId: case binaryen.ReturnId: case binaryen.MemoryGrowId:
      return pick('value', 'delta');
    case binaryen.LoadId: return pick('ptr');
    case binaryen.StoreId: return pick('ptr', 'value');
    case binaryen.BinaryId: return pick('left', 'right');
    case binaryen.SelectId: return pick('ifTrue', 'ifFalse', 'condition');
    case binaryen.MemoryCopyId: return pick('dest', 'source', 'size');
    case binaryen.MemoryFillId: return pick('dest', 'value', 'size');
    case binaryen.LocalGetId: case binaryen.GlobalGetId: case binaryen.ConstId:
    case binaryen.NopId: case binaryen.UnreachableId: case binaryen.MemorySizeId:
    case binaryen.AtomicFenceId:
      return [];
    default:
      throw new InstrumentError(`function ${fn}: unsupported wasm expression kind ${info.id} (simrun runs wasm32 MVP code with bulk memory and sign extension; build without SIMD, threads, exceptions or reference types)`);
  }
}

/**
 * Instruments `wasm` (see the module comment) and returns the new bytes.
 * Throws InstrumentError for modules outside what the runtime supports.
 */
export function instrumentModule(wasm: Uint8Array, opts: InstrumentOptions): InstrumentResult {
  // Function names are kept (read and written): a trap report names the driver function.
  binaryen.setDebugInfo(true);
  const mod = binaryen.readBinary(wasm);
  try {
    mod.setFeatures(FEATURES);
    if (!mod.validate()) throw new InstrumentError('the module does not validate as wasm32 MVP with bulk memory and sign extension');
    let stackPointer: string | undefined;
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (g.name === '__stack_pointer' || (stackPointer === undefined && g.mutable && g.type === binaryen.i32 && g.module === '')) stackPointer = g.name;
    }
    if (stackPointer === undefined) throw new InstrumentError('no __stack_pointer global: link with lld (wasm-ld) so the C stack pointer is a global');
    // The fuel counter: 16 bytes at the old heap base (8-aligned); the heap now starts after it.
    // __heap_base: the global exported under that name (lld may leave it unnamed internally).
    let heapGlobal = '__heap_base';
    for (let i = 0; i < mod.getNumExports(); i++) {
      const x = binaryen.getExportInfo(mod.getExportByIndex(i));
      if (x.name === '__heap_base' && x.kind === binaryen.ExternalGlobal) heapGlobal = x.value;
    }
    let heapBase: number | undefined;
    for (let i = 0; i < mod.getNumGlobals(); i++) {
      const g = binaryen.getGlobalInfo(mod.getGlobalByIndex(i));
      if (g.name !== heapGlobal) continue;
      const v = binaryen.getExpressionInfo(g.init) as { value?: unknown };
      if (typeof v.value === 'number') heapBase = v.value;
    }
    if (heapBase === undefined) throw new InstrumentError('no __heap_base global with a constant value: link with --export=__heap_base (C: -Wl,--export=__heap_base; Rust: -C link-arg=--export=__heap_base)');
    const fuelAddr = Math.ceil(heapBase / 8) * 8;
    mod.removeGlobal(heapGlobal);
    mod.addGlobal(heapGlobal, binaryen.i32, false, mod.i32.const(fuelAddr + 16));
    mod.addGlobal(FUEL_ADDR_GLOBAL, binaryen.i32, false, mod.i32.const(fuelAddr));
    mod.addFunctionImport('__simrun_fuel_exhausted', FUEL_IMPORT.module, FUEL_IMPORT.name, binaryen.none, binaryen.none);

    // Stack check: every value stored to the C stack pointer goes through __simrun_sp_check, which
    // calls the import when it is below the running thread's stack (the runtime sets the limit per thread).
    mod.addGlobal(STACK_LIMIT_GLOBAL, binaryen.i32, true, mod.i32.const(0));
    mod.addFunctionImport('__simrun_stack_overflow', STACK_OVERFLOW_IMPORT.module, STACK_OVERFLOW_IMPORT.name, binaryen.none, binaryen.none);
    mod.addFunction('__simrun_sp_check', binaryen.createType([binaryen.i32]), binaryen.i32, [], mod.block(null, [
      mod.if(mod.i32.lt_u(mod.local.get(0, binaryen.i32), mod.global.get(STACK_LIMIT_GLOBAL, binaryen.i32)), mod.call('__simrun_stack_overflow', [], binaryen.none)),
      mod.local.get(0, binaryen.i32),
    ], binaryen.i32));
    const sp = stackPointer;

    let regions = 0;
    let loops = 0;
    const fuel = (): Ref => mod.i32.load(0, 4, mod.i32.const(fuelAddr));
    const charge = (n: number): Ref => mod.i32.store(0, 4, mod.i32.const(fuelAddr), mod.i32.sub(fuel(), mod.i32.const(n)));
    const check = (): Ref => mod.if(mod.i32.lt_s(fuel(), mod.i32.const(0)), mod.call('__simrun_fuel_exhausted', [], binaryen.none));

    /** Prefixes a region with its charge (and, for a loop body, the fuel check). */
    const region = (body: Ref, fn: string, isLoop: boolean): Ref => {
      const n = cost(body, fn);
      regions++;
      if (isLoop) loops++;
      const pre = isLoop ? [charge(n), check()] : [charge(n)];
      return mod.block(null, [...pre, body], binaryen.getExpressionType(body));
    };

    /** Static cost of `e` in its region; loops and if-arms become regions of their own. */
    const cost = (e: Ref, fn: string): number => {
      const id = binaryen.getExpressionId(e);
      if (id === binaryen.LoopId) {
        const body = ed.Loop.getBody(e);
        ed.Loop.setBody(e, region(body, fn, true));
        return 1;
      }
      if (id === binaryen.IfId) {
        const c = cost(ed.If.getCondition(e), fn);
        ed.If.setIfTrue(e, region(ed.If.getIfTrue(e), fn, false));
        const f = ed.If.getIfFalse(e);
        if (f !== 0) ed.If.setIfFalse(e, region(f, fn, false));
        return 1 + c;
      }
      let n = id === binaryen.BlockId ? 0 : 1;
      for (const c of children(e, fn)) n += cost(c, fn);
      if (id === binaryen.GlobalSetId && ed.GlobalSet.getName(e) === sp) {
        ed.GlobalSet.setValue(e, mod.call('__simrun_sp_check', [ed.GlobalSet.getValue(e)], binaryen.i32));
      }
      return n;
    };

    const nf = mod.getNumFunctions();
    for (let i = 0; i < nf; i++) {
      const f = mod.getFunctionByIndex(i);
      const info = binaryen.getFunctionInfo(f);
      if (info.module !== '' || info.body === 0) continue; // imports
      ed.Function.setBody(f, region(info.body, info.name, false));
    }

    mod.addGlobalExport(FUEL_ADDR_GLOBAL, FUEL_ADDR_GLOBAL);
    mod.addGlobalExport(STACK_LIMIT_GLOBAL, STACK_LIMIT_GLOBAL);
    mod.addGlobalExport(stackPointer, '__stack_pointer');
    // Only the blocking imports this module uses: its bytes must not change when the kernel
    // interface gains a blocking function it does not call.
    const used = new Set<string>();
    for (let i = 0; i < mod.getNumFunctions(); i++) {
      const f = binaryen.getFunctionInfo(mod.getFunctionByIndex(i));
      if (f.module !== '' && f.module !== null) used.add(`${f.module}.${f.base}`);
    }
    const asyncImports = opts.asyncImports.filter((n) => used.has(n)).sort();
    binaryen.setPassArgument('asyncify-imports', asyncImports.join(','));
    binaryen.setOptimizeLevel(opts.optimize ?? 2);
    binaryen.setShrinkLevel(0);
    mod.runPasses(['asyncify']);
    mod.optimize();
    binaryen.setPassArgument('asyncify-imports', null);
    if (!mod.validate()) throw new InstrumentError('instrumentation produced an invalid module (a simrun bug)');
    const abi = { abi: ABI_VERSION, fuelAddr, asyncImports };
    mod.addCustomSection(ABI_SECTION, new TextEncoder().encode(JSON.stringify(abi)));
    return { wasm: new Uint8Array(mod.emitBinary()), regions, loops };
  } finally {
    mod.dispose();
  }
}
