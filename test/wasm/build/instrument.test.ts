/**
 * The instrumentation on hand-built modules (no C compiler needed): the fuel
 * counts instructions per region and per loop iteration, Asyncify unwinds and
 * rewinds through the imports named blocking, the stack check fires, and
 * modules outside what the runtime supports are refused with a reason.
 */
import binaryen from 'binaryen';
import { describe, expect, it } from 'vitest';
import { instrumentModule, InstrumentError } from '../../../src/wasm/build/instrument.js';
import { ABI_SECTION, FUEL_ADDR_GLOBAL, STACK_LIMIT_GLOBAL } from '../../../src/wasm/abi.js';

/** A module like clang's: memory, __stack_pointer, `count(n)` looping n times, `nap()` calling the import env.block. */
function sampleModule(): Uint8Array {
  const m = new binaryen.Module();
  m.setMemory(2, 2, 'memory');
  m.addGlobal('__stack_pointer', binaryen.i32, true, m.i32.const(65536));
  m.addGlobal('__heap_base', binaryen.i32, false, m.i32.const(70000));
  m.addGlobalExport('__heap_base', '__heap_base');
  m.addFunctionImport('block', 'env', 'block', binaryen.createType([binaryen.i32]), binaryen.i32);
  const i32 = binaryen.i32;
  // count(n): i = 0; loop { if (i >= n) break; i++ }; return i
  m.addFunction('count', binaryen.createType([i32]), i32, [i32], m.block(null, [
    m.local.set(1, m.i32.const(0)),
    m.block('out', [
      m.loop('again', m.block(null, [
        m.br('out', m.i32.ge_s(m.local.get(1, i32), m.local.get(0, i32))),
        m.local.set(1, m.i32.add(m.local.get(1, i32), m.i32.const(1))),
        m.br('again'),
      ])),
    ]),
    m.local.get(1, i32),
  ], i32));
  // nap(x): sp -= 16; r = block(x) + 1; sp += 16; return r
  m.addFunction('nap', binaryen.createType([i32]), i32, [i32], m.block(null, [
    m.global.set('__stack_pointer', m.i32.sub(m.global.get('__stack_pointer', i32), m.i32.const(16))),
    m.local.set(1, m.i32.add(m.call('block', [m.local.get(0, i32)], i32), m.i32.const(1))),
    m.global.set('__stack_pointer', m.i32.add(m.global.get('__stack_pointer', i32), m.i32.const(16))),
    m.local.get(1, i32),
  ], i32));
  m.addFunctionExport('count', 'count');
  m.addFunctionExport('nap', 'nap');
  const out = m.emitBinary();
  m.dispose();
  return out;
}

interface Ex {
  count(n: number): number;
  nap(x: number): number;
  memory: WebAssembly.Memory;
  [FUEL_ADDR_GLOBAL]: WebAssembly.Global;
  __heap_base: WebAssembly.Global;
  [STACK_LIMIT_GLOBAL]: WebAssembly.Global;
  __stack_pointer: WebAssembly.Global;
  asyncify_start_unwind(p: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(p: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
}

/** The fuel counter of an instance (an i32 of its memory at __simrun_fuel_addr). */
function fuelOf(ex: Ex): { get(): number; set(v: number): void } {
  const at = (ex[FUEL_ADDR_GLOBAL].value as number) >>> 2;
  return { get: () => new Int32Array(ex.memory.buffer)[at]!, set: (v) => { new Int32Array(ex.memory.buffer)[at] = v; } };
}

function instantiate(wasm: Uint8Array<ArrayBuffer>, env: { block: (x: number) => number }, onOverflow: () => void = () => { throw new Error('overflow'); }): Ex {
  const inst: WebAssembly.Instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {
    env, simrun: { fuel_exhausted: () => { fuelOf(inst.exports as unknown as Ex).set(1_000_000); }, stack_overflow: onOverflow },
  });
  return inst.exports as unknown as Ex;
}

describe('instrumentModule', () => {
  const built = instrumentModule(sampleModule(), { asyncImports: ['env.block'] });

  it('charges each loop iteration its instructions: the fuel spent grows linearly with the work', () => {
    const ex = instantiate(built.wasm, { block: (x) => x });
    const f = fuelOf(ex);
    const spent = (n: number) => { f.set(1_000_000); ex.count(n); return 1_000_000 - f.get(); };
    const a = spent(0);
    const b = spent(1000);
    const c = spent(2000);
    expect(b - a).toBeGreaterThan(1000 * 3);
    expect(c - b).toBe(b - a);
    expect(built.loops).toBe(1);
  });

  it('calls simrun.fuel_exhausted from a loop that runs out of fuel', () => {
    let calls = 0;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(built.wasm), {
      env: { block: (x: number) => x },
      simrun: { fuel_exhausted: () => { calls++; fuelOf(inst.exports as unknown as Ex).set(100); }, stack_overflow: () => undefined },
    });
    const ex = inst.exports as unknown as Ex;
    fuelOf(ex).set(100);
    expect(ex.count(10_000)).toBe(10_000);
    expect(calls).toBeGreaterThan(100);
  });

  it('unwinds through a blocking import and resumes with its result', () => {
    let ex!: Ex;
    let resumed = false;
    const BUF = 1024;
    ex = instantiate(built.wasm, {
      block: (x) => {
        if (!resumed) {
          const v = new Uint32Array(ex.memory.buffer, BUF, 2);
          v[0] = BUF + 8; v[1] = BUF + 512;
          ex.asyncify_start_unwind(BUF);
          return 0;
        }
        ex.asyncify_stop_rewind();
        return x * 10;
      },
    });
    ex[STACK_LIMIT_GLOBAL].value = 0;
    ex.nap(4); // unwinds: the return value means nothing
    expect(ex.asyncify_get_state()).toBe(1);
    ex.asyncify_stop_unwind();
    const sp = ex.__stack_pointer.value as number;
    expect(sp).toBe(65536 - 16); // unwound inside nap's frame
    resumed = true;
    ex.asyncify_start_rewind(BUF);
    expect(ex.nap(4)).toBe(41);
    expect(ex.__stack_pointer.value).toBe(65536);
  });

  it('calls simrun.stack_overflow when the stack pointer goes below the thread\'s limit', () => {
    let overflowed = 0;
    const ex = instantiate(built.wasm, { block: (x) => x }, () => { overflowed++; });
    ex[STACK_LIMIT_GLOBAL].value = 65536 - 8;
    ex.nap(1);
    expect(overflowed).toBe(1);
    ex[STACK_LIMIT_GLOBAL].value = 65536 - 16;
    ex.nap(1);
    expect(overflowed).toBe(1);
  });

  it('records the ABI and the blocking imports in a custom section; the fuel sits where the heap began, the heap after it', () => {
    const mod = new WebAssembly.Module(built.wasm);
    const abi = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(mod, ABI_SECTION)[0]!)) as { abi: number; asyncImports: string[] };
    expect(abi).toMatchObject({ abi: 2, fuelAddr: 70000, asyncImports: ['env.block'] });
    const ex = instantiate(built.wasm, { block: (x) => x });
    expect(ex[FUEL_ADDR_GLOBAL].value).toBe(70000);
    expect(ex.__heap_base.value).toBe(70016);
  });

  it('refuses a module without a C stack pointer, and SIMD code, with a reason', () => {
    const m = new binaryen.Module();
    m.addFunction('f', binaryen.none, binaryen.none, [], m.nop());
    const noSp = m.emitBinary();
    m.dispose();
    expect(() => instrumentModule(noSp, { asyncImports: [] })).toThrow(/no __stack_pointer global/);
    const h = new binaryen.Module();
    h.addGlobal('__stack_pointer', binaryen.i32, true, h.i32.const(0));
    h.addFunction('f', binaryen.none, binaryen.none, [], h.nop());
    const noHeap = h.emitBinary();
    h.dispose();
    expect(() => instrumentModule(noHeap, { asyncImports: [] })).toThrow(/no __heap_base global/);
    const s = new binaryen.Module();
    s.setFeatures(binaryen.Features.MVP | binaryen.Features.SIMD128);
    s.addGlobal('__stack_pointer', binaryen.i32, true, s.i32.const(0));
    s.addGlobal('__heap_base', binaryen.i32, false, s.i32.const(1024));
    s.addFunction('g', binaryen.none, binaryen.none, [], s.drop(s.v128.const([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])));
    const simd = s.emitBinary();
    s.dispose();
    expect(() => instrumentModule(simd, { asyncImports: [] })).toThrow(InstrumentError);
  });
});
