/**
 * A compiled driver running as a process of the kernel model.
 *
 * - Memory: the module's linear memory is fixed at `memoryBytes` when the
 *   process starts and mapped as a RAM region of the simulated physical
 *   address space (PhysMem.addRegion), so a pointer the driver holds at
 *   offset p is physical address `base + p`, and a device DMAs into the very
 *   bytes the driver reads. The heap above `__heap_base` belongs to the
 *   runtime: kmalloc, thread stacks and DMA allocations (whole pages, marked
 *   for DMA) come from one first-fit list. Sys.physalloc of this process
 *   allocates there too, so linux-kpi's dma_alloc_coherent is unchanged.
 * - Threads: each kernel task that runs driver code (the main thread, IRQ
 *   threads, workers, timers, kthreads) is a coroutine with its own C stack
 *   and Asyncify buffer inside the module's memory. A blocking import
 *   unwinds the wasm stack into the buffer; the task's generator then runs
 *   the blocking call (a `Co`) in the scheduler like any TypeScript driver,
 *   and rewinds the module with the result. A blocking import whose call
 *   finishes without blocking (an uncontended mutex, a completion already
 *   done) returns at once, without unwinding.
 * - Time: at every import call the instructions counted since the last one
 *   (the fuel counter in linear memory the instrumentation decrements) are charged
 *   to the task's core at `costs.wasmInstrPs` each, plus `costs.wasmImportPs`.
 *   A loop that runs out of fuel calls `simrun.fuel_exhausted`, which
 *   charges the same way and brings the devices up to the core's time, so a
 *   driver polling memory sees a device's DMA as it would on hardware.
 * - Failure: a trap (unreachable, out-of-bounds access, a call through a bad
 *   function pointer, host stack exhaustion), a stack overflow seen at a
 *   boundary call, or a loop past the run's time limit is a crash of the
 *   driver process (WasmTrap names the function and the last boundary
 *   calls); the machine runs on.
 */
import type { Co } from '../../sim/scheduler.js';
import type { Core } from '../../sim/cpu.js';
import { PAGE_SIZE, type RamRegion } from '../../sim/memory.js';
import { FreeList, type Span } from '../../kernel/free-list.js';
import type { Sys } from '../../kernel/sys.js';
import type { Process, ProcessRam } from '../../kernel/process.js';
import { FUEL_ADDR_GLOBAL, STACK_LIMIT_GLOBAL } from '../abi.js';
import type { DriverModule } from './module.js';

/** Instructions a region may run before `simrun.fuel_exhausted` is called (about 4 µs of driver code). */
export const FUEL_SLICE = 20_000;
/** Each thread's C stack (the LLVM shadow stack in linear memory). */
export const THREAD_STACK_BYTES = 64 * 1024;
/** Each thread's Asyncify buffer: the wasm locals and call indices of an unwound stack. */
export const ASYNCIFY_BYTES = 16 * 1024;
/** Boundary calls kept for a crash report. */
const HISTORY = 16;

/** What an import implementation gets besides its arguments. */
export interface WasmCallContext {
  readonly proc: WasmProcess;
  /** The syscall surface of the task making the call. */
  readonly sys: Sys;
}

type Arg = number;
/** An import that never blocks: returns its result (or nothing, for a void import). */
export interface SyncImport {
  blocking?: false;
  fn: (cx: WasmCallContext, a: Arg, b: Arg, c: Arg, d: Arg, e: Arg, f: Arg, g: Arg, h: Arg) => number | bigint | void;
}
/** An import that may block: a coroutine run by the task's scheduler. */
export interface BlockingImport {
  blocking: true;
  fn: (cx: WasmCallContext, a: Arg, b: Arg, c: Arg, d: Arg, e: Arg, f: Arg, g: Arg, h: Arg) => Co<number | void>;
}
export type ImportDef = SyncImport | BlockingImport;
/** Import module name → import name → definition. */
export type ImportTable = Record<string, Record<string, ImportDef>>;

/** The `module.name` of every blocking import: what the build passes to Asyncify. */
export function blockingImportNames(tables: readonly ImportTable[]): string[] {
  const out: string[] = [];
  for (const t of tables) for (const [m, defs] of Object.entries(t)) for (const [n, d] of Object.entries(defs)) if (d.blocking === true) out.push(`${m}.${n}`);
  return out.sort();
}

/** A crash of compiled driver code, with where it happened and what it did last. */
export class WasmTrap extends Error {
  /** `bare`: what happened; `func`: where (a driver function); `history`: the last boundary calls. */
  constructor(readonly bare: string, readonly func: string | undefined, readonly history: string[]) {
    super(`${bare}${func !== undefined ? ` in ${func}` : ''}${history.length > 0 ? `; last boundary calls: ${history.join(', ')}` : ''}`);
    this.name = 'WasmTrap';
  }
}

interface Exports {
  memory: WebAssembly.Memory;
  __stack_pointer: WebAssembly.Global;
  __simrun_fuel_addr: WebAssembly.Global;
  __heap_base?: WebAssembly.Global;
  __indirect_function_table?: WebAssembly.Table;
  asyncify_start_unwind(p: number): void;
  asyncify_stop_unwind(): void;
  asyncify_start_rewind(p: number): void;
  asyncify_stop_rewind(): void;
  asyncify_get_state(): number;
  [name: string]: unknown;
}

const ASYNCIFY_UNWINDING = 1;

/** One kernel task's execution context inside the module. */
class WasmThread {
  /** Saved __stack_pointer while unwound. */
  sp: number;
  rewinding = false;
  result = 0;
  pending: Co<number | void> | null = null;
  pendingFirst: unknown = 0;
  /** The core the thread's task runs on (charged at every boundary call). */
  readonly core: Core;
  /** Its id as the module sees it (`__kpi_current_tid`: task id + 1, never 0). */
  readonly tid: number;
  /** Inline spinlocks it holds (`__kpi_spin_depth` while it runs). */
  spinDepth = 0;
  constructor(readonly sys: Sys, readonly stack: Span, readonly asyncBuf: number) {
    this.sp = stack.start + stack.size;
    this.core = sys.ctx.core;
    this.tid = sys.currentThread().tid + 1;
  }
}

export interface WasmProcessOptions {
  /** Linear memory size (whole wasm pages); the module may not grow it itself. */
  memoryBytes: number;
  imports: readonly ImportTable[];
  /**
   * Called when a task that holds inline spinlocks (the module's
   * `__kpi_spin_depth` > 0) calls an import that may sleep; the interface
   * layer reports it (Linux's might_sleep).
   */
  sleepingWhileLocked?: (importName: string, locks: number) => void;
}

/** A driver module instantiated as one process (see the module comment). */
export class WasmProcess implements ProcessRam {
  readonly exports: Exports;
  readonly memory: WebAssembly.Memory;
  /** Physical address of offset 0 of the linear memory. */
  readonly base: number;
  readonly region: RamRegion;
  private readonly heap: FreeList;
  private readonly dv: DataView;
  bytes: Uint8Array;
  private readonly threads = new Map<number, WasmThread>();
  private current: WasmThread | undefined;
  /** The fuel counter: `words[fuelAt]` (an i32 of linear memory). */
  private readonly words: Int32Array;
  private readonly fuelAt: number;
  /** Word indices of `__kpi_current_tid` and `__kpi_spin_depth` (-1: the module has no inline spinlocks). */
  private readonly tidAt: number = -1;
  private readonly depthAt: number = -1;
  private readonly sleepingWhileLocked: ((importName: string, locks: number) => void) | undefined;
  private readonly spGlobal: WebAssembly.Global;
  private readonly stackLimit: WebAssembly.Global;
  /** Live heap allocations: start → size (kfree and DMA frees check against it). */
  private readonly live = new Map<number, number>();
  /** Instructions charged so far (all threads). */
  instructions = 0;
  importCalls = 0;
  /** Import slot (index into importNames) of each remembered call; -1 unused. */
  private readonly historySlots = new Int32Array(HISTORY).fill(-1);
  private readonly historyArgs = new Float64Array(HISTORY * 3);
  private historyAt = 0;
  private readonly importNames: string[] = [];
  /** The interface layer's state for this process (linux-kpi's shim, the Redox crate's tables). */
  host: unknown = undefined;

  constructor(readonly mod: DriverModule, readonly sys: Sys, opts: WasmProcessOptions) {
    const importObject: WebAssembly.Imports = {
      simrun: {
        fuel_exhausted: () => this.fuelExhausted(),
        stack_overflow: () => { throw new WasmTrap(`stack overflow (a thread's shadow stack is ${THREAD_STACK_BYTES / 1024} KiB)`, undefined, this.history()); },
      },
    };
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const proc = this;
    const cx: WasmCallContext = { proc, get sys(): Sys { return proc.current?.sys ?? sys; } };
    const wanted = WebAssembly.Module.imports(mod.module);
    const defs = new Map<string, ImportDef>();
    for (const t of opts.imports) for (const [m, ds] of Object.entries(t)) for (const [n, d] of Object.entries(ds)) defs.set(`${m}.${n}`, d);
    const missing: string[] = [];
    for (const w of wanted) {
      const key = `${w.module}.${w.name}`;
      if (key === 'simrun.fuel_exhausted' || key === 'simrun.stack_overflow') continue;
      const d = defs.get(key);
      if (d === undefined || w.kind !== 'function') { missing.push(key); continue; }
      if (d.blocking === true && !mod.asyncImports.has(key)) throw new WasmTrap(`${mod.path}: ${key} may block but the module was built without it in its Asyncify imports; rebuild with npm run build:drivers`, undefined, []);
      const slot = this.importNames.push(key) - 1;
      const fn = d.blocking === true ? this.blockingWrapper(d, cx, slot) : this.syncWrapper(d, cx, slot);
      ((importObject[w.module] ??= {}) as Record<string, unknown>)[w.name] = fn;
    }
    if (missing.length > 0) throw new WasmTrap(`${mod.path} imports what this simrun does not provide: ${missing.join(', ')}`, undefined, []);
    let inst: WebAssembly.Instance;
    try {
      inst = new WebAssembly.Instance(mod.module, importObject);
    } catch (e) {
      throw new WasmTrap(`${mod.path}: instantiation failed: ${(e as Error).message}`, undefined, []);
    }
    const ex = inst.exports as unknown as Exports;
    this.exports = ex;
    this.memory = ex.memory;
    this.spGlobal = ex.__stack_pointer;
    this.stackLimit = ex[STACK_LIMIT_GLOBAL] as WebAssembly.Global;
    const want = Math.ceil(opts.memoryBytes / 65536) * 65536;
    if (this.memory.buffer.byteLength > want) throw new WasmTrap(`${mod.path}: the module needs ${this.memory.buffer.byteLength} bytes of memory, more than the ${want} configured`, undefined, []);
    if (this.memory.buffer.byteLength < want) this.memory.grow((want - this.memory.buffer.byteLength) / 65536);
    this.bytes = new Uint8Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.words = new Int32Array(this.memory.buffer);
    this.fuelAt = Number((ex[FUEL_ADDR_GLOBAL] as WebAssembly.Global).value) >>> 2;
    // A linux-kpi module's task words (guest/lib/spinlock.c): both or neither.
    const tidG = ex.__kpi_current_tid as WebAssembly.Global | undefined;
    const depthG = ex.__kpi_spin_depth as WebAssembly.Global | undefined;
    if (tidG instanceof WebAssembly.Global && depthG instanceof WebAssembly.Global) {
      this.tidAt = Number(tidG.value) >>> 2;
      this.depthAt = Number(depthG.value) >>> 2;
    }
    this.sleepingWhileLocked = opts.sleepingWhileLocked;
    const kernel = sys.kernel;
    this.region = kernel.mem.addRegionBelow(kernel.mem.regionLimit, want, this.bytes, `${sys.proc.name}[${sys.pid}]`);
    this.base = this.region.base;
    const heapBase = ex.__heap_base !== undefined ? Number(ex.__heap_base.value) : 64 * 1024;
    const start = Math.ceil(heapBase / 16) * 16;
    this.heap = new FreeList(start, want - start);
    this.words[this.fuelAt] = FUEL_SLICE;
    sys.proc.ram = this;
    sys.atExit(() => {
      kernel.mem.removeRegion(this.region);
    });
  }

  // ---- memory --------------------------------------------------------------

  /** Allocates from the heap; 0 when it is exhausted. `dma`: whole zeroed pages, marked for device DMA. */
  malloc(size: number, align = 16, zero = false): number {
    const s = this.heap.alloc(Math.max(16, Math.ceil(size / 16) * 16), Math.max(16, align));
    if (s === undefined) return 0;
    this.live.set(s.start, s.size);
    if (zero) this.bytes.fill(0, s.start, s.start + s.size);
    return s.start;
  }

  /** Frees a heap block; false if `ptr` is not a live allocation (a double or wild free). */
  free(ptr: number): boolean {
    const size = this.live.get(ptr);
    if (size === undefined) return false;
    this.live.delete(ptr);
    this.heap.release({ start: ptr, size });
    return true;
  }

  /** Size of the live allocation at `ptr`, or undefined. */
  allocationSize(ptr: number): number | undefined { return this.live.get(ptr); }

  // ProcessRam: Sys.physalloc / physfree of this process land here.
  physalloc(size: number, align: number): { phys: number; size: number; view: Uint8Array } | undefined {
    const bytes = Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    const p = this.malloc(bytes, Math.max(PAGE_SIZE, align), true);
    if (p === 0) return undefined;
    this.sys.kernel.mem.markDma(this.base + p, bytes, true);
    return { phys: this.base + p, size: bytes, view: this.bytes.subarray(p, p + bytes) };
  }

  physfree(phys: number, size: number): boolean {
    const p = phys - this.base;
    if (this.live.get(p) !== size) return false;
    this.sys.kernel.mem.markDma(phys, size, false);
    return this.free(p);
  }

  /** The wasm pointer of a CPU view into this process's memory (a DmaBuffer's `view`). */
  pointerOf(view: Uint8Array): number {
    if (view.buffer !== this.memory.buffer) throw new Error('linux-kpi: a buffer outside the driver module\'s memory');
    return view.byteOffset;
  }

  u8(p: number): number { return this.bytes[p >>> 0] ?? this.outOfBounds(p, 1); }
  u32(p: number): number { return this.checked(p, 4) ? this.dv.getUint32(p >>> 0, true) : 0; }
  setU32(p: number, v: number): void { if (this.checked(p, 4)) this.dv.setUint32(p >>> 0, v >>> 0, true); }
  setU64(p: number, v: number): void {
    if (!this.checked(p, 8)) return;
    this.dv.setUint32(p >>> 0, v % 0x1_0000_0000, true);
    this.dv.setUint32((p >>> 0) + 4, Math.floor(v / 0x1_0000_0000), true);
  }
  u64(p: number): number { return this.checked(p, 8) ? this.dv.getUint32(p >>> 0, true) + this.dv.getUint32((p >>> 0) + 4, true) * 0x1_0000_0000 : 0; }

  /** A NUL-terminated string at `p` (at most `max` bytes). */
  cstring(p: number, max = 4096): string {
    const start = p >>> 0;
    let end = start;
    const b = this.bytes;
    while (end < b.length && end - start < max && b[end] !== 0) end++;
    return new TextDecoder().decode(b.subarray(start, end));
  }

  /** `len` bytes at `p` as a string. */
  string(p: number, len: number): string {
    if (!this.checked(p, len)) return '';
    return new TextDecoder().decode(this.bytes.subarray(p >>> 0, (p >>> 0) + len));
  }

  private checked(p: number, len: number): boolean {
    const a = p >>> 0;
    if (a + len <= this.bytes.length) return true;
    this.outOfBounds(p, len);
    return false;
  }

  private outOfBounds(p: number, len: number): never {
    throw new WasmTrap(`pointer 0x${(p >>> 0).toString(16)} (+${len}) passed to the kernel interface is outside the module's memory`, undefined, this.history());
  }

  // ---- calls ---------------------------------------------------------------

  /** The exported function `name`, or undefined. */
  exported(name: string): ((...a: number[]) => number) | undefined {
    const f = this.exports[name];
    return typeof f === 'function' ? f as (...a: number[]) => number : undefined;
  }

  /** The function at `index` in the module's function table (a C function pointer), or undefined. */
  tableFunction(index: number): ((...a: number[]) => number) | undefined {
    const t = this.exports.__indirect_function_table;
    if (t === undefined || index <= 0 || index >= t.length) return undefined;
    const f = t.get(index) as unknown;
    return typeof f === 'function' ? f as (...a: number[]) => number : undefined;
  }

  /**
   * Runs `fn(args)` as the calling task (a coroutine: blocking imports
   * suspend the task). Returns the function's i32 result. At most six
   * arguments; callers on hot paths reuse their argument arrays.
   */
  *call(sys: Sys, fn: (...a: number[]) => number, args: readonly number[], what: string): Co<number> {
    if (this.current !== undefined) throw new Error(`simrun bug: ${what} called into the driver module while ${this.current.sys.currentThread().name} is inside it`);
    const t = this.thread(sys);
    const outerSp = t.sp;
    for (;;) {
      this.enter(t);
      const r = this.invoke(fn, args, what);
      if (this.exports.asyncify_get_state() !== ASYNCIFY_UNWINDING) {
        this.charge(t.core, 0);
        t.sp = outerSp;
        return r;
      }
      this.exports.asyncify_stop_unwind();
      t.sp = this.spGlobal.value as number;
      // Run the blocking call in the scheduler: delegate to the coroutine the import started.
      const co = t.pending!;
      let wake = yield t.pendingFirst as 0;
      let step = co.next(wake);
      while (step.done !== true) {
        wake = yield step.value;
        step = co.next(wake);
      }
      t.pending = null;
      t.result = typeof step.value === 'number' ? step.value : 0;
      this.spGlobal.value = t.sp;
      this.exports.asyncify_start_rewind(t.asyncBuf);
      t.rewinding = true;
    }
  }

  /**
   * Runs `fn(args)` to completion without letting it block: for code that
   * must not sleep (an interrupt handler). A blocking call inside is a
   * driver bug and crashes the process.
   */
  callSync(sys: Sys, fn: (...a: number[]) => number, args: readonly number[], what: string): number {
    if (this.current !== undefined) throw new Error(`simrun bug: ${what} called into the driver module while it is running`);
    const t = this.thread(sys);
    this.enter(t);
    const r = this.invoke(fn, args, what);
    if (this.exports.asyncify_get_state() === ASYNCIFY_UNWINDING) {
      this.exports.asyncify_stop_unwind();
      t.pending?.return(0);
      t.pending = null;
      throw new WasmTrap(`${what} called a function that sleeps (${this.history().at(-1) ?? 'a blocking call'}); it runs where sleeping is not allowed`, undefined, this.history());
    }
    this.charge(t.core, 0);
    return r;
  }

  /** Calls into the module as the entered thread; a trap leaves no thread running and becomes a WasmTrap. */
  private invoke(fn: (...a: number[]) => number, args: readonly number[], what: string): number {
    try {
      // Up to six arguments, no spread: a wasm function ignores extra ones.
      return fn(args[0]!, args[1]!, args[2]!, args[3]!, args[4]!, args[5]!);
    } catch (e) {
      this.words[this.fuelAt] = FUEL_SLICE;
      throw this.trapOf(e, what);
    } finally {
      const t = this.current;
      if (t !== undefined && this.depthAt >= 0) t.spinDepth = this.words[this.depthAt]!;
      this.current = undefined;
    }
  }

  /** Makes `t` the running thread: its stack pointer and stack bounds, and its task words for inline spinlocks. */
  private enter(t: WasmThread): void {
    this.spGlobal.value = t.sp;
    this.stackLimit.value = t.stack.start;
    if (this.depthAt >= 0) {
      this.words[this.tidAt] = t.tid;
      this.words[this.depthAt] = t.spinDepth;
    }
    this.current = t;
  }

  /** The thread context of the calling task, made on its first call (stack and Asyncify buffer from the heap). */
  private thread(sys: Sys): WasmThread {
    const tid = sys.currentThread().tid;
    let t = this.threads.get(tid);
    if (t !== undefined) return t;
    const stack = this.malloc(THREAD_STACK_BYTES, 16);
    const buf = this.malloc(ASYNCIFY_BYTES, 16);
    if (stack === 0 || buf === 0) throw new WasmTrap(`out of module memory for thread ${sys.currentThread().name}'s stack`, undefined, []);
    t = new WasmThread(sys, { start: stack, size: THREAD_STACK_BYTES }, buf);
    this.threads.set(tid, t);
    return t;
  }

  /**
   * The function the module calls for a non-blocking import. Its parameter
   * count is the definition's (V8 calls a JS import whose arity matches the
   * wasm signature without adapting the arguments): the hot imports (readl,
   * writel, spin_lock) take one to three.
   */
  private syncWrapper(d: SyncImport, cx: WasmCallContext, slot: number): (...a: number[]) => number | bigint | void {
    const fn = d.fn as (cx: WasmCallContext, ...a: Arg[]) => number | bigint | void;
    switch (d.fn.length - 1) {
      case 0: return () => { this.boundary(slot, 0, 0, 0); return fn(cx); };
      case 1: return (a: Arg) => { this.boundary(slot, a, 0, 0); return fn(cx, a); };
      case 2: return (a: Arg, b: Arg) => { this.boundary(slot, a, b, 0); return fn(cx, a, b); };
      case 3: return (a: Arg, b: Arg, c: Arg) => { this.boundary(slot, a, b, c); return fn(cx, a, b, c); };
      default: return (a: Arg, b: Arg, c: Arg, dd: Arg, e: Arg, f: Arg, g: Arg, h: Arg) => {
        this.boundary(slot, a, b, c);
        return fn(cx, a, b, c, dd, e, f, g, h);
      };
    }
  }

  private blockingWrapper(d: BlockingImport, cx: WasmCallContext, slot: number): (...a: number[]) => number {
    const fn = d.fn;
    return (a: Arg, b: Arg, c: Arg, dd: Arg, e: Arg, f: Arg, g: Arg, h: Arg) => {
      const t = this.current!;
      if (t.rewinding) {
        // Resumed: the call already ran in the scheduler; hand its result back.
        this.exports.asyncify_stop_rewind();
        t.rewinding = false;
        return t.result;
      }
      this.boundary(slot, a, b, c);
      if (this.depthAt >= 0 && this.words[this.depthAt]! > 0) this.sleepingWhileLocked?.(this.importNames[slot]!, this.words[this.depthAt]!);
      const co = fn(cx, a, b, c, dd, e, f, g, h);
      const step = co.next();
      if (step.done === true) return typeof step.value === 'number' ? step.value : 0;
      t.pending = co;
      t.pendingFirst = step.value;
      // Asyncify data: [current, end) of the unwind buffer, then the buffer itself.
      this.dv.setUint32(t.asyncBuf, t.asyncBuf + 8, true);
      this.dv.setUint32(t.asyncBuf + 4, t.asyncBuf + ASYNCIFY_BYTES, true);
      this.exports.asyncify_start_unwind(t.asyncBuf);
      return 0;
    };
  }

  /** Every import call: charge the instructions run since the last one, check the stack, keep history. */
  private boundary(slot: number, a: number, b: number, c: number): void {
    const t = this.current;
    if (t === undefined) throw new Error('simrun bug: an import was called with no driver thread running');
    const core = t.core;
    this.charge(core, core.costs.wasmImportPs);
    this.importCalls++;
    const i = this.historyAt;
    this.historySlots[i] = slot;
    this.historyArgs[i * 3] = a; this.historyArgs[i * 3 + 1] = b; this.historyArgs[i * 3 + 2] = c;
    this.historyAt = (i + 1) % HISTORY;
    // (Stack overflow is caught where it happens, by the instrumentation's stack check.)
    if (this.bytes.length === 0) { // the buffer was detached: memory.grow
      throw new WasmTrap('the module grew its memory itself (memory.grow): allocate through kmalloc or the driver crate\'s allocator', undefined, this.history());
    }
  }

  private charge(core: Core, extraPs: number): void {
    const used = FUEL_SLICE - this.words[this.fuelAt]!;
    this.words[this.fuelAt] = FUEL_SLICE;
    this.instructions += used;
    core.advance(used * core.costs.wasmInstrPs + extraPs);
  }

  /** A loop ran a slice without a boundary call: charge it, let the devices catch up, stop a runaway. */
  private fuelExhausted(): void {
    const t = this.current;
    if (t === undefined) return;
    const core = t.core;
    this.charge(core, 0);
    core.sync();
    if (core.time > core.limitPs) {
      throw new WasmTrap(`ran past the run's time limit without a boundary call (an endless loop? ${this.instructions} instructions so far)`, undefined, this.history());
    }
  }

  /** The last boundary calls, oldest first ("kpi.readl(0x80000000, 0x1c, 0)"). */
  history(): string[] {
    const out: string[] = [];
    for (let k = 0; k < HISTORY; k++) {
      const i = (this.historyAt + k) % HISTORY;
      const slot = this.historySlots[i]!;
      if (slot < 0) continue;
      const n = this.importNames[slot]!;
      const args = [0, 1, 2].map((j) => `0x${(this.historyArgs[i * 3 + j]! >>> 0).toString(16)}`).join(', ');
      out.push(`${n}(${args})`);
    }
    return out.slice(-6);
  }

  private trapOf(e: unknown, what: string): Error {
    if (e instanceof WasmTrap) return e.func !== undefined ? e : new WasmTrap(e.bare, wasmFunctionOf(e) ?? `code entered through ${what}`, e.history);
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
      const func = wasmFunctionOf(e);
      const msg = e instanceof RangeError ? 'host stack exhausted (unbounded recursion?)' : `trap: ${(e as Error).message}`;
      return new WasmTrap(msg, func === undefined ? `code entered through ${what}` : `${func} (entered through ${what})`, this.history());
    }
    return e instanceof Error ? e : new Error(String(e));
  }
}

/**
 * The innermost driver function on an error's stack: read from V8's call
 * sites (a test runner may format `stack` its own way), else from the text
 * ("at nvme_probe (wasm://wasm/…:wasm-function[12]:0x3f1)"). The runtime's
 * own checks (`__simrun_*`) are skipped: their caller is what failed.
 */
function wasmFunctionOf(e: Error): string | undefined {
  const prev = Error.prepareStackTrace;
  let stack: unknown;
  try {
    Error.prepareStackTrace = (_err, sites) => sites;
    stack = e.stack;
  } finally {
    Error.prepareStackTrace = prev;
  }
  if (Array.isArray(stack)) {
    for (const site of stack as NodeJS.CallSite[]) {
      const file = site.getFileName() ?? site.getScriptNameOrSourceURL?.() ?? '';
      if (!String(file).startsWith('wasm://') && !String(site).includes('wasm-function[')) continue;
      const name = site.getFunctionName();
      if (name !== null && name.startsWith('__simrun_')) continue;
      return name ?? 'an unnamed wasm function';
    }
    return undefined;
  }
  for (const line of String(stack ?? '').split('\n')) {
    const m = /at (\S+) \(wasm:\/\/wasm\/[^)]*wasm-function\[(\d+)\]/.exec(line);
    if (m !== null && m[1]!.startsWith('__simrun_')) continue;
    if (m !== null) return m[1]!;
  }
  return undefined;
}
