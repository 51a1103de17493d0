import type { Co } from '../sim/scheduler.js';
import type { Rng } from '../sim/rng.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Sys } from '../kernel/sys.js';
import { errnoName } from '../kernel/errno.js';
import { readFileSync } from 'node:fs';
import { formatTime } from '../sim/time.js';
import { sameBytes } from '../trace/compare/events.js';
import { WorkloadConfigError, type SummaryLine, type WorkloadEntry, workloadResult } from './workload.js';

export const blockIoParams = {
  target: { type: 'string', default: 'disk.nvme:1', doc: 'scheme path of the disk to exercise' },
  clients: { type: 'number', default: 4, min: 1, max: 64, integer: true, doc: 'client processes issuing I/O concurrently' },
  ops: { type: 'number', default: 1000, min: 0, max: 1_000_000_000, integer: true, doc: 'total reads and writes across all clients' },
  readPct: { type: 'number', default: 60, min: 0, max: 100, doc: 'percentage of operations that are reads' },
  minBlocks: { type: 'number', default: 1, min: 1, max: 65_536, integer: true, atMost: 'maxBlocks', doc: 'smallest transfer, in blocks' },
  maxBlocks: { type: 'number', default: 32, min: 1, max: 65_536, integer: true, doc: 'largest transfer, in blocks' },
  blockSize: { type: 'number', default: 512, min: 512, max: 65_536, integer: true, doc: 'block size the client assumes (must match the namespace)' },
  verify: { type: 'boolean', default: true, doc: 'check every read against a shadow copy of the disk image' },
  verifyDevice: { type: 'string', default: '', doc: 'device id whose backing image seeds the shadow copy (default: the first disk)' },
  waitForDiskMs: { type: 'number', default: 5000, min: 1, max: 9_000_000, doc: 'how long clients wait for the disk scheme to appear' },
} as const satisfies PropTable;

export type BlockIoParams = PropValues<typeof blockIoParams>;

export interface BlockIoResult {
  reads: number;
  writes: number;
  bytes: number;
  ioErrors: number;
  dataErrors: number;
  /** First few problems, for the summary and test failures. */
  problems: string[];
  /** Per-operation simulated latency (ps), in completion order. */
  latencies: number[];
  clientsDone: number;
  /** Clients whose process ended in any way (done, failed, crashed). */
  clientsEnded: number;
  clients: number;
}

/**
 * Client processes reading and writing blocks through a disk scheme. Each
 * client owns a stripe of the disk, so concurrent clients never race on the
 * same blocks, and every read is compared with a shadow copy that starts as
 * the image's content and follows every acknowledged write.
 */
export function spawnBlockIo(kernel: Kernel, params: BlockIoParams, rng: Rng, image: Uint8Array | undefined): BlockIoResult {
  const result: BlockIoResult = {
    reads: 0, writes: 0, bytes: 0, ioErrors: 0, dataErrors: 0, problems: [], latencies: [], clientsDone: 0, clientsEnded: 0, clients: params.clients,
  };
  const shadow = image === undefined ? undefined : image;
  const problem = (msg: string) => { if (result.problems.length < 20) result.problems.push(msg); };
  const perClient = Math.floor(params.ops / params.clients);
  const extra = params.ops % params.clients;
  for (let c = 0; c < params.clients; c++) {
    const ops = perClient + (c < extra ? 1 : 0);
    const crng = rng.fork(`client${c}`);
    const proc = kernel.spawn(`blockio-${c}`, (sys) => client(sys, c, ops, crng));
    proc.exitHooks.push(() => { result.clientsEnded++; });
  }
  return result;

  function* client(sys: Sys, index: number, ops: number, r: Rng): Co<number> {
    const bs = params.blockSize;
    // Wait for the driver to create the scheme (as a Redox client retries ENOENT at boot).
    let fd = -1;
    const giveUp = sys.now + params.waitForDiskMs * 1e9;
    for (;;) {
      fd = yield* sys.open(params.target);
      if (fd >= 0) break;
      if (sys.now >= giveUp) {
        result.ioErrors++;
        problem(`client ${index}: ${params.target} did not appear within ${params.waitForDiskMs} ms (${errnoName(fd)})`);
        sys.log('error', `cannot open ${params.target}: ${errnoName(fd)}`);
        return 1;
      }
      yield* sys.sleep(1e9);
    }
    const size = yield* sys.fsize(fd);
    if (size <= 0) { problem(`client ${index}: fsize ${size}`); result.ioErrors++; return 1; }
    const blocks = Math.floor(size / bs);
    const stripe = Math.floor(blocks / params.clients);
    const first = index * stripe;
    const maxB = Math.max(1, Math.min(params.maxBlocks, stripe));
    const minB = Math.min(params.minBlocks, maxB);
    const bufs: Uint8Array[] = [];
    const views: DataView[] = [];
    for (let n = 0; n <= maxB; n++) {
      const b = new Uint8Array(n * bs);
      bufs.push(b);
      views.push(new DataView(b.buffer));
    }
    sys.log('info', `client ${index}: ${ops} ops on blocks ${first}..${first + stripe - 1} of ${params.target}`);
    for (let i = 0; i < ops; i++) {
      const n = r.int(minB, maxB);
      const lba = first + r.int(0, stripe - n);
      const buf = bufs[n]!;
      const isRead = r.next() * 100 < params.readPct;
      const t0 = sys.now;
      if (isRead) {
        const got = yield* sys.read(fd, buf, lba * bs);
        result.latencies.push(sys.now - t0);
        if (got !== buf.length) {
          result.ioErrors++;
          problem(`client ${index}: read of ${n} blocks at LBA ${lba} returned ${got < 0 ? errnoName(got) : got}`);
          continue;
        }
        result.reads++;
        result.bytes += got;
        if (params.verify && shadow !== undefined) {
          const want = shadow.subarray(lba * bs, lba * bs + buf.length);
          if (!sameBytes(buf, want)) {
            result.dataErrors++;
            const at = firstDiff(buf, want);
            problem(`client ${index}: data mismatch reading LBA ${lba} (+${n}): byte ${at} is 0x${buf[at]!.toString(16)}, expected 0x${want[at]!.toString(16)}`);
            sys.log('error', `data mismatch at LBA ${lba + Math.floor(at / bs)}`);
          }
        }
      } else {
        fillWriteData(buf, views[n]!, bs, index, i, lba, r);
        const put = yield* sys.write(fd, buf, lba * bs);
        result.latencies.push(sys.now - t0);
        if (put !== buf.length) {
          result.ioErrors++;
          problem(`client ${index}: write of ${n} blocks at LBA ${lba} returned ${put < 0 ? errnoName(put) : put}`);
          continue;
        }
        result.writes++;
        result.bytes += put;
        if (shadow !== undefined) shadow.set(buf, lba * bs);
      }
    }
    yield* sys.close(fd);
    result.clientsDone++;
    return 0;
  }
}

/**
 * Data for a write: each block starts with a stamp (client, operation, LBA)
 * and continues with a seeded 8-byte pattern, so every write is distinct and
 * a misdirected or stale read is caught, while traces stay compressible.
 */
function fillWriteData(buf: Uint8Array, dv: DataView, bs: number, client: number, op: number, lba: number, r: Rng): void {
  for (let off = 0, b = 0; off < buf.length; off += bs, b++) {
    const p0 = r.nextU32();
    const p1 = r.nextU32();
    dv.setUint32(off, 0x57524954, true); // "TIRW"
    dv.setUint32(off + 4, client, true);
    dv.setUint32(off + 8, op, true);
    dv.setUint32(off + 12, lba + b, true);
    for (let k = off + 16; k + 8 <= off + bs; k += 8) {
      dv.setUint32(k, p0, true);
      dv.setUint32(k + 4, p1, true);
    }
  }
}


function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return a.length;
}

/** "p50 …, p99 …" of simulated durations (ps). */
export function spread(values: readonly number[]): string {
  const sorted = [...values].sort((x, y) => x - y);
  const pct = (p: number) => formatTime(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
  return `p50 ${pct(0.5)}, p99 ${pct(0.99)}`;
}

export const blockIoWorkload: WorkloadEntry<typeof blockIoParams, BlockIoResult> = {
  type: 'blockio',
  description: 'client processes reading and writing blocks through a disk scheme, every read checked against a shadow copy of the image',
  params: blockIoParams,
  expectations: {
    minIos: 'at least this many reads and writes completed',
    dataErrors: 'at most this many reads whose data differed from the shadow copy',
    ioErrors: 'at most this many failed reads or writes',
  },
  spawn(env, params) {
    const dev = params.verifyDevice === '' ? env.devices.find((d) => d.imagePath !== undefined) : env.devices.find((d) => d.id === params.verifyDevice);
    if (params.verifyDevice !== '' && dev === undefined) throw new WorkloadConfigError('verifyDevice', `no device "${params.verifyDevice}"`);
    const image = params.verify && dev?.imagePath !== undefined ? new Uint8Array(readFileSync(dev.imagePath)) : undefined;
    const r = spawnBlockIo(env.kernel, params, env.rng, image);
    return {
      type: 'blockio',
      result: r,
      done: () => r.clientsEnded >= r.clients,
      ios: () => r.reads + r.writes,
      failures(e, stoppedBy) {
        const out: string[] = [];
        // A run stopped early (until) has not had the chance to reach minIos: not evaluated (notEvaluated).
        if (stoppedBy !== 'until' && r.reads + r.writes < e.minIos) out.push(`expected at least ${e.minIos} I/Os, got ${r.reads + r.writes}`);
        if (r.dataErrors > e.dataErrors) out.push(`expected at most ${e.dataErrors} data errors, got ${r.dataErrors}`);
        if (r.ioErrors > e.ioErrors) out.push(`expected at most ${e.ioErrors} I/O errors, got ${r.ioErrors}`);
        // The first problems explain an error-count failure.
        if (out.length > 0) for (const p of r.problems.slice(0, 5)) out.push(p);
        if (stoppedBy === 'time-limit') out.push(`time limit reached before the workload finished (${r.clientsDone}/${r.clients} clients done)`);
        return out;
      },
      notEvaluated(e, stoppedBy) {
        if (stoppedBy !== 'until') return [];
        const out: string[] = [];
        const ios = r.reads + r.writes;
        if (ios < e.minIos) out.push(`minIos: at least ${e.minIos} I/Os (${ios} so far)`);
        if (r.clientsEnded < r.clients) out.push(`the workload finishing (${r.clientsEnded}/${r.clients} clients ended)`);
        return out;
      },
      summary() {
        const lines: SummaryLine[] = [{ label: 'I/Os', text: `${r.reads + r.writes} (${r.reads} reads, ${r.writes} writes, ${(r.bytes / 1024).toFixed(0)} KiB, ${r.dataErrors} data errors, ${r.ioErrors} I/O errors)` }];
        if (r.latencies.length > 0) lines.push({ label: 'I/O latency', text: spread(r.latencies) });
        return lines;
      },
      json: () => ({ ...r, latencies: undefined }),
      digest: () => `${r.reads}/${r.writes}/${r.bytes}`,
    };
  },
};

/** The block I/O result of a run whose workload was "blockio", else undefined. */
export const blockIoResultOf = (w: { type: string; result: object } | undefined): BlockIoResult | undefined => workloadResult(blockIoWorkload, w);
