/**
 * The linux-kpi block layer with a RAM-disk driver in TypeScript: requests
 * split at the disk's largest transfer, hardware queues bound by init_hctx
 * (a failed one fails its requests), BLK_STS_RESOURCE with nothing in flight
 * re-run 3 ms later, and timeouts only for started requests.
 */
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';
import {
  BLK_EH_DONE, BLK_STS_IOERR, BLK_STS_OK, BLK_STS_RESOURCE, REQ_OP_WRITE, type BlkMqOps, type BlkRequest,
} from '../../../src/drivers/linux-kpi/blk-mq.js';
import type { Sys } from '../../../src/kernel/sys.js';
import { EIO } from '../../../src/kernel/errno.js';

const US = 1e6;
const MS = 1e9;
const DISK_BYTES = 1 << 20;

interface RamDiskOpts {
  hwQueues?: number;
  /** queueRq answers BLK_STS_RESOURCE this many times first. */
  refuse?: number;
  /** init_hctx fails for this hardware queue. */
  failHctx?: number;
  /** Requests whose first sector is this never complete. */
  hangSector?: number;
  /** queueRq skips blk_mq_start_request. */
  noStart?: boolean;
}

/** A driver process serving disk.ram:0 from memory; each request ends 50 µs after queueRq. */
function startRamDisk(kernel: ReturnType<typeof bareKernel>['kernel'], o: RamDiskOpts = {}) {
  const st = { queued: [] as { sector: number; hctx: number; tag: number }[], inits: [] as number[], timeouts: [] as number[], refused: 0 };
  const media = new Uint8Array(DISK_BYTES);
  kernel.spawn('ramd', function* (sys: Sys) {
    const k = new LinuxKpi(sys, 'ramd');
    const pending: BlkRequest[] = [];
    let hwIdle = false;
    const hw = sys.thread(sys.spawnThread('ram-hw', function* (s: Sys) {
      for (;;) {
        const rq = pending.shift();
        if (rq === undefined) { hwIdle = true; yield* s.park(); hwIdle = false; continue; }
        yield* s.sleep(50 * US);
        const at = rq.sector * 512;
        if (rq.op === REQ_OP_WRITE) media.set(rq.buf!.view.subarray(0, rq.bytes), at);
        else rq.buf!.view.set(media.subarray(at, at + rq.bytes));
        k.blk.blk_mq_end_request(rq, BLK_STS_OK);
      }
    }));
    const ops: BlkMqOps = {
      queueRq(hctx, rq) {
        if (st.refused < (o.refuse ?? 0)) { st.refused++; return BLK_STS_RESOURCE; }
        st.queued.push({ sector: rq.sector, hctx, tag: rq.tag });
        if (o.noStart !== true) k.blk.blk_mq_start_request(rq);
        if (rq.sector !== o.hangSector) { pending.push(rq); k.env.wakeIdle(hw, hwIdle); }
        return BLK_STS_OK;
      },
      *initHctx(h) { st.inits.push(h); return h === o.failHctx ? -EIO : 0; },
      *timeout(rq) {
        st.timeouts.push(rq.sector);
        k.blk.blk_mq_end_request(rq, BLK_STS_IOERR);
        return BLK_EH_DONE;
      },
    };
    const set = k.blk.blk_mq_alloc_tag_set(ops, o.hwQueues ?? 1, 4, k.msecs_to_jiffies(20));
    expect(k.blk.add_disk({ set, schemeName: 'ram', index: 0, logicalBlockSize: 512, maxBytes: 8192, capacity: DISK_BYTES / 512 })).toBe(0);
    yield* sys.park();
  });
  return { st, media };
}

function* openDisk(sys: Sys) {
  let fd = -1;
  for (let i = 0; i < 10 && fd < 0; i++) {
    fd = yield* sys.open('disk.ram:0');
    if (fd < 0) yield* sys.sleep(10 * US);
  }
  return fd;
}

describe('linux-kpi blk-mq', () => {
  it('splits a transfer at the largest request, reads back what was written, and binds each hardware queue once', () => {
    const { kernel, run } = bareKernel();
    const { st, media } = startRamDisk(kernel);
    const data = new Uint8Array(20 * 1024).map((_, i) => (i * 7 + 3) & 0xff);
    const back = new Uint8Array(data.length);
    const got: number[] = [];
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openDisk(sys);
      got.push(yield* sys.write(fd, data, 4096), yield* sys.read(fd, back, 4096), yield* sys.fsize(fd));
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual([data.length, data.length, DISK_BYTES]);
    expect(back).toEqual(data);
    expect(media.subarray(4096, 4096 + data.length)).toEqual(data);
    // 20 KiB at 8 KiB per request: 3 requests per direction, sectors 8, 24, 40.
    expect(st.queued.map((q) => q.sector)).toEqual([8, 24, 40, 8, 24, 40]);
    expect(st.inits).toEqual([0]);
    expect(kernel.logs.filter((l) => l.level !== 'info')).toEqual([]);
  });

  it('fails the requests of a hardware queue whose init_hctx failed, and serves the others', () => {
    const { kernel, run } = bareKernel();
    const { st } = startRamDisk(kernel, { hwQueues: 2, failHctx: 1 });
    const got: Record<string, number> = {};
    // The hardware queue is the client's pid modulo 2: two clients land on both.
    for (const name of ['a', 'b']) {
      kernel.spawn(`client-${name}`, function* (sys: Sys) {
        const fd = yield* openDisk(sys);
        got[`${sys.pid % 2}`] = yield* sys.read(fd, new Uint8Array(4096), 0);
      });
    }
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual({ 0: 4096, 1: -EIO });
    expect(st.inits).toEqual([0, 1]);
    expect(st.queued.map((q) => q.hctx)).toEqual([0]);
    const text = kernel.logs.map((l) => l.text);
    expect(text).toContain('ramd: init_hctx of hardware queue 1 failed: its requests fail');
    expect(text.some((t) => /blk_update_request: I\/O error, read sector 0 \(4096 bytes\)/.test(t))).toBe(true);
  });

  it('re-runs a request refused with BLK_STS_RESOURCE 3 ms later when nothing is in flight to end', () => {
    const { kernel, run } = bareKernel();
    const { st } = startRamDisk(kernel, { refuse: 1 });
    let took = 0;
    let r = 0;
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openDisk(sys);
      const t0 = sys.now;
      r = yield* sys.read(fd, new Uint8Array(512), 0);
      took = sys.now - t0;
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(r).toBe(512);
    expect(st.refused).toBe(1);
    expect(st.queued).toHaveLength(1);
    expect(took).toBeGreaterThanOrEqual(3 * MS);
    expect(took).toBeLessThan(6 * MS);
  });

  it('times out a started request that never ends (timeout handler, EIO), and never one that was not started', () => {
    const hang = (noStart: boolean) => {
      const { kernel, run } = bareKernel();
      const { st } = startRamDisk(kernel, { hangSector: 16, noStart });
      const got: number[] = [];
      let at = 0;
      kernel.spawn('client', function* (sys: Sys) {
        const fd = yield* openDisk(sys);
        got.push(yield* sys.read(fd, new Uint8Array(512), 0));
        got.push(yield* sys.read(fd, new Uint8Array(512), 16 * 512));
        at = sys.now;
      });
      run(200 * MS);
      expect(kernel.crashes).toEqual([]);
      return { st, got, at, logs: kernel.logs.map((l) => l.text) };
    };
    const started = hang(false);
    expect(started.got).toEqual([512, -EIO]);
    expect(started.st.timeouts).toEqual([16]);
    // Timeout 20 ms (20 jiffies): noticed within a jiffy or two of it.
    expect(started.at).toBeGreaterThanOrEqual(20 * MS);
    expect(started.at).toBeLessThan(25 * MS);

    const unstarted = hang(true);
    expect(unstarted.got).toEqual([512]);
    expect(unstarted.st.timeouts).toEqual([]);
    expect(unstarted.logs.filter((t) => t.includes('without blk_mq_start_request'))).toEqual([
      'ramd: request (hctx 0, tag 0) ended without blk_mq_start_request: its timeout never ran',
    ]);
  });
});
