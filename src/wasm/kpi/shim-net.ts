/**
 * The `linux` imports for DMA pools, firmware and NAPI
 * (guest/include/linux/{dmapool,firmware,netdevice}.h), backed by the
 * TypeScript linux-kpi: LinuxDmaPool (its pages come from physalloc, which
 * for a compiled driver lies in the module's memory, so a block's CPU view
 * is a module pointer), LinuxFirmware (the image is copied into a kmalloc'd
 * buffer of the module) and LinuxNapi (poll is a C function called
 * synchronously from the driver's softirq thread: it must not sleep).
 * skbuff.h is plain C in the header and needs no import.
 */
import type { DmaPool, DmaPoolBlock } from '../../drivers/linux-kpi/dmapool.js';
import type { Firmware } from '../../drivers/linux-kpi/firmware.js';
import type { NapiStruct } from '../../drivers/linux-kpi/napi.js';
import type { ImportTable, WasmCallContext } from '../runtime/process.js';
import type { KpiShim } from './shim.js';
import { cFunction } from './shim-sync.js';

const shim = (cx: WasmCallContext) => cx.proc.host as KpiShim;
const GFP_ZERO = 0x100;
const ENOMEM = 12;
const EINVAL = 22;
/** struct firmware on wasm32: size, data, __handle. */
const FW = { size: 0, data: 4, handle: 8, bytes: 12 } as const;

/** Per-process state: a pool block by its module pointer, the firmware structs handed out. */
interface NetState {
  blocks: Map<number, DmaPoolBlock>;
  firmware: Map<number, { fw: Firmware; data: number }>;
}
const states = new WeakMap<KpiShim, NetState>();
function state(s: KpiShim): NetState {
  let st = states.get(s);
  if (st === undefined) {
    st = { blocks: new Map(), firmware: new Map() };
    states.set(s, st);
  }
  return st;
}

export const NET_IMPORTS: ImportTable = {
  linux: {
    // ---- dmapool.h
    dma_pool_create: {
      fn: (cx, name, _dev, size, align, _boundary) => {
        const s = shim(cx);
        if ((size | 0) <= 0) return -EINVAL;
        return s.add('dma_pool', s.k.dma_pool_create(cx.proc.cstring(name, 64), size >>> 0, Math.max(1, align >>> 0)));
      },
    },
    dma_pool_alloc: {
      fn: (cx, h, gfp, handle) => {
        const s = shim(cx);
        const pool = s.get<DmaPool>(h, 'dma_pool');
        const b = (gfp & GFP_ZERO) !== 0 ? s.k.dma_pool_zalloc(pool) : s.k.dma_pool_alloc(pool);
        if (b === null) return 0;
        const ptr = cx.proc.pointerOf(b.cpu);
        state(s).blocks.set(ptr, b);
        cx.proc.setU64(handle, b.dma);
        return ptr;
      },
    },
    dma_pool_free: {
      fn: (cx, h, vaddr, dma) => {
        const s = shim(cx);
        const pool = s.get<DmaPool>(h, 'dma_pool');
        // An unknown pointer goes to the pool as a block it never handed out, so its report names it.
        const b = state(s).blocks.get(vaddr >>> 0) ?? { cpu: new Uint8Array(0), dv: new DataView(new ArrayBuffer(0)), dma: cx.proc.u64(dma) };
        s.k.dma_pool_free(pool, b);
      },
    },
    dma_pool_destroy: {
      fn: (cx, h) => {
        const s = shim(cx);
        const pool = s.get<DmaPool>(h, 'dma_pool');
        const st = state(s);
        for (const [p, b] of st.blocks) if (pool.free.includes(b) || pool.live.get(b.dma) === b) st.blocks.delete(p);
        s.k.dma_pool_destroy(pool);
      },
    },
    // ---- firmware.h
    request_firmware: {
      blocking: true,
      *fn(cx, out, name, _dev) {
        const s = shim(cx);
        const proc = cx.proc;
        proc.setU32(out, 0);
        const r = yield* s.k.request_firmware(proc.cstring(name, 256));
        if (typeof r === 'number') return r;
        const data = proc.malloc(Math.max(1, r.size), 16);
        const st = data === 0 ? 0 : proc.malloc(FW.bytes, 16, true);
        if (st === 0) {
          if (data !== 0) proc.free(data);
          s.k.release_firmware(r);
          return -ENOMEM;
        }
        proc.bytes.set(r.data, data);
        proc.setU32(st + FW.size, r.size);
        proc.setU32(st + FW.data, data);
        proc.setU32(st + FW.handle, s.add('firmware', r));
        state(s).firmware.set(st, { fw: r, data });
        proc.setU32(out, st);
        return 0;
      },
    },
    release_firmware: {
      fn: (cx, p) => {
        const s = shim(cx);
        const st = state(s);
        const f = st.firmware.get(p >>> 0);
        if (f === undefined) {
          s.badFrees++;
          s.k.env.log('error', `release_firmware(0x${(p >>> 0).toString(16)}): not a firmware request_firmware returned (released twice?)`);
          return;
        }
        st.firmware.delete(p >>> 0);
        s.k.release_firmware(f.fw);
        cx.proc.free(f.data);
        cx.proc.free(p >>> 0);
      },
    },
    // ---- netdevice.h (NAPI)
    netif_napi_add: {
      fn: (cx, napi, poll, weight) => {
        const s = shim(cx);
        const f = cFunction(cx, poll, 'netif_napi_add');
        const proc = cx.proc;
        const sys = cx.sys;
        const args = [napi, 0];
        const n = s.k.netif_napi_add((_n: NapiStruct, budget: number) => {
          args[1] = budget;
          return proc.callSync(sys, f, args, 'a napi poll');
        }, Math.max(1, weight | 0));
        return s.add('napi', n);
      },
    },
    netif_napi_del: { fn: (cx, h) => { const s = shim(cx); s.k.netif_napi_del(s.get<NapiStruct>(h, 'napi')); } },
    napi_enable: { fn: (cx, h) => { const s = shim(cx); s.k.napi_enable(s.get<NapiStruct>(h, 'napi')); } },
    napi_disable: { fn: (cx, h) => { const s = shim(cx); s.k.napi_disable(s.get<NapiStruct>(h, 'napi')); } },
    napi_schedule: { fn: (cx, h) => { const s = shim(cx); return s.k.napi_schedule(s.get<NapiStruct>(h, 'napi')) ? 1 : 0; } },
    napi_complete_done: { fn: (cx, h, work) => { const s = shim(cx); return s.k.napi_complete_done(s.get<NapiStruct>(h, 'napi'), work | 0) ? 1 : 0; } },
  },
};
