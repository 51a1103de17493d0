/**
 * The `linux` imports of the block layer (guest/include/linux/blk-mq.h),
 * backed by linux-kpi's LinuxBlkMq. The C structs live in the module's
 * memory; this side has its own picture of their layout (below), checked by
 * the header's static assertions on the C side.
 */
import type { BlkDisk, BlkMqOps, BlkRequest, BlkTagSet } from '../../drivers/linux-kpi/blk-mq.js';
import type { ImportTable, WasmCallContext, WasmProcess } from '../runtime/process.js';
import type { Sys } from '../../kernel/sys.js';
import { cFunction } from './shim-sync.js';
import type { KpiShim } from './shim.js';

/** struct request on wasm32. */
const RQ = { handle: 0, op: 4, sector: 8, nrBytes: 16, buf: 20, dma: 24, tag: 32, hctxIdx: 36, pdu: 40, size: 48 } as const;
/** struct blk_mq_hw_ctx, struct blk_mq_queue_data, struct blk_mq_ops. */
const HCTX = { queueNum: 0, driverData: 4, size: 8 } as const;
const BD = { rq: 0, last: 4, size: 8 } as const;
const OPS = { queueRq: 0, initHctx: 4, timeout: 8 } as const;
/** struct blk_mq_tag_set. */
const SET = { ops: 0, nrHwQueues: 4, queueDepth: 8, cmdSize: 12, timeout: 16, driverData: 20, handle: 24 } as const;
/** struct gendisk. */
const DISK = { handle: 0, schemeName: 4, index: 20, lbs: 24, maxHwSectors: 28, capacity: 32, privateData: 40 } as const;
const EINVAL = 22;
const ENOMEM = 12;

const shim = (cx: WasmCallContext) => cx.proc.host as KpiShim;

/** What the shim keeps per tag set: the C structs it made and the C ops. */
interface CTagSet {
  set: BlkTagSet;
  setPtr: number;
  hctxPtrs: number[];
  bdPtrs: number[];
  /** struct request pointers per hctx, by tag. */
  rqPtrs: number[][];
  /** Argument arrays reused per call (queue_rq's hctx and bd, the timeout's rq). */
  queueArgs: number[][];
  rqArg: number[];
}

function makeOps(proc: WasmProcess, sys: Sys, c: () => CTagSet, queueRq: (...a: number[]) => number,
  initHctx: ((...a: number[]) => number) | undefined, timeout: ((...a: number[]) => number) | undefined): BlkMqOps {
  return {
    // queue_rq must not sleep (blk-mq without BLK_MQ_F_BLOCKING): a call that blocks crashes the driver.
    queueRq(hctx: number, rq: BlkRequest, last: boolean) {
      const t = c();
      const p = t.rqPtrs[hctx]![rq.tag]!;
      proc.setU32(p + RQ.op, rq.op);
      proc.setU64(p + RQ.sector, rq.sector);
      proc.setU32(p + RQ.nrBytes, rq.bytes);
      proc.setU32(p + RQ.buf, proc.pointerOf(rq.buf!.view));
      proc.setU64(p + RQ.dma, rq.buf!.phys);
      const bd = t.bdPtrs[hctx]!;
      proc.setU32(bd + BD.rq, p);
      proc.bytes[bd + BD.last] = last ? 1 : 0;
      return proc.callSync(sys, queueRq, t.queueArgs[hctx]!, 'queue_rq') & 0xff;
    },
    initHctx: initHctx === undefined ? undefined : function* (hctx: number) {
      const t = c();
      return yield* proc.call(sys, initHctx, [t.hctxPtrs[hctx]!, proc.u32(t.setPtr + SET.driverData), hctx], 'init_hctx');
    },
    timeout: timeout === undefined ? undefined : function* (rq: BlkRequest) {
      const t = c();
      t.rqArg[0] = t.rqPtrs[rq.hctx]![rq.tag]!;
      return yield* proc.call(sys, timeout, t.rqArg, 'the request timeout handler');
    },
  };
}

export const BLK_IMPORTS: ImportTable = {
  linux: {
    blk_mq_alloc_tag_set: {
      fn: (cx, setPtr) => {
        const s = shim(cx);
        const proc = cx.proc;
        const ops = proc.u32(setPtr + SET.ops);
        const nrHw = proc.u32(setPtr + SET.nrHwQueues);
        const depth = proc.u32(setPtr + SET.queueDepth);
        const cmdSize = proc.u32(setPtr + SET.cmdSize);
        if (ops === 0 || nrHw === 0 || nrHw > 256 || depth === 0 || depth > 4096) return -EINVAL;
        const queueRq = cFunction(cx, proc.u32(ops + OPS.queueRq), 'blk_mq_ops.queue_rq');
        const ih = proc.u32(ops + OPS.initHctx);
        const to = proc.u32(ops + OPS.timeout);
        let holder: CTagSet | undefined;
        const set = s.k.blk.blk_mq_alloc_tag_set(
          makeOps(proc, cx.sys, () => holder!, queueRq, ih === 0 ? undefined : cFunction(cx, ih, 'blk_mq_ops.init_hctx'), to === 0 ? undefined : cFunction(cx, to, 'blk_mq_ops.timeout')),
          nrHw, depth, proc.u32(setPtr + SET.timeout));
        const t: CTagSet = { set, setPtr, hctxPtrs: [], bdPtrs: [], rqPtrs: [], queueArgs: [], rqArg: [0] };
        for (let h = 0; h < nrHw; h++) {
          const hp = proc.malloc(HCTX.size, 16, true);
          const bd = proc.malloc(BD.size, 16, true);
          if (hp === 0 || bd === 0) return -ENOMEM;
          proc.setU32(hp + HCTX.queueNum, h);
          t.hctxPtrs.push(hp);
          t.bdPtrs.push(bd);
          t.queueArgs.push([hp, bd]);
          const row: number[] = [];
          for (let tag = 0; tag < depth; tag++) {
            const p = proc.malloc(RQ.size + cmdSize, 16, true);
            if (p === 0) return -ENOMEM;
            const rq = set.rqs[h]![tag]!;
            proc.setU32(p + RQ.handle, s.add('request', rq));
            proc.setU32(p + RQ.tag, tag);
            proc.setU32(p + RQ.hctxIdx, h);
            proc.setU32(p + RQ.pdu, cmdSize > 0 ? p + RQ.size : 0);
            row.push(p);
          }
          t.rqPtrs.push(row);
        }
        holder = t;
        proc.setU32(setPtr + SET.handle, s.add('tag set', t));
        return 0;
      },
    },
    blk_mq_alloc_disk: {
      fn: (cx, setHandle, disk) => {
        const s = shim(cx);
        s.get<CTagSet>(setHandle, 'tag set');
        cx.proc.setU32(disk + DISK.handle, s.add('gendisk', setHandle));
        return 0;
      },
    },
    add_disk: {
      fn: (cx, disk) => {
        const s = shim(cx);
        const proc = cx.proc;
        const t = s.get<CTagSet>(s.get<number>(proc.u32(disk + DISK.handle), 'gendisk'), 'tag set');
        const name = proc.cstring(disk + DISK.schemeName, 16);
        const lbs = proc.u32(disk + DISK.lbs);
        const maxSectors = proc.u32(disk + DISK.maxHwSectors);
        if (!/^[a-z][a-z0-9_-]*$/.test(name) || lbs < 512 || (lbs & (lbs - 1)) !== 0 || maxSectors * 512 < lbs) {
          s.k.env.log('error', `add_disk: bad gendisk (scheme_name "${name}", logical_block_size ${lbs}, max_hw_sectors ${maxSectors})`);
          return -EINVAL;
        }
        const d: BlkDisk = { set: t.set, schemeName: name, index: proc.u32(disk + DISK.index), logicalBlockSize: lbs, maxBytes: maxSectors * 512, capacity: proc.u64(disk + DISK.capacity) };
        return s.k.blk.add_disk(d);
      },
    },
    blk_mq_start_request: { fn: (cx, h) => { const s = shim(cx); s.k.blk.blk_mq_start_request(s.get<BlkRequest>(h, 'request')); } },
    blk_mq_end_request: { fn: (cx, h, status) => { const s = shim(cx); s.k.blk.blk_mq_end_request(s.get<BlkRequest>(h, 'request'), status & 0xff); } },
  },
};
