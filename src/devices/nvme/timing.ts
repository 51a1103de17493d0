/**
 * NVMe timing phases for diff (docs/DIFF.md "Timing"), supplied through the
 * decoder (DeviceDecoder.timingPhases):
 * - identify: fetch of the first admin SQE (DMA tag nvme.asqe) with opcode
 *   06h to the admin completion (nvme.acqe) with the same command id.
 * - queue creation: fetch of the first Create I/O CQ/SQ admin command (or the
 *   first `*.create` milestone) to the last `*.create` milestone before the
 *   first I/O.
 * - ready→first I/O: first `ready` (or the device's first event) to the first
 *   I/O SQE fetch (nvme.sqe); first I/O latency: that SQE to its completion.
 * - I/O latency p50/p90/p99 and mean: every I/O SQE fetch to the completion
 *   posted for the same submission queue and command id (SQ found from the
 *   Create I/O SQ commands' base and size; CQE SQ id at bytes 10-11, command
 *   id at 12-13: NVMe 1.4 4.6); I/Os: completions matched.
 */
import type { DeviceMilestones, DevicePhase, DeviceTimingPhases } from '../../trace/decoder.js';
import { LatencyStats, PENDING_CAP, PendingTimes } from '../../trace/latency.js';
import type { SeqEvent } from '../../trace/reader.js';
import { AdminOp } from './status.js';

const u16 = (d: Uint8Array, o: number): number => d[o]! | (d[o + 1]! << 8);
const u32 = (d: Uint8Array, o: number): number => (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
const u64 = (d: Uint8Array, o: number): number => u32(d, o + 4) * 4294967296 + u32(d, o);

const UNKNOWN_SQ = 0xffff;
/** What `add` reads (the diff passes it nothing else). */
const KINDS: readonly SeqEvent['kind'][] = ['milestone', 'dma'];
const DMA_TAGS: readonly string[] = ['nvme.asqe', 'nvme.acqe', 'nvme.sqe', 'nvme.cqe'];

export class NvmeTimingPhases implements DeviceTimingPhases {
  private createStart: number | undefined;
  private createEnd: number | undefined;
  private identifyStart: number | undefined;
  private identifyCid = -1;
  private identifyEnd: number | undefined;
  private firstIo: number | undefined;
  private firstIoKey = -1;
  private firstIoEnd: number | undefined;
  /** Submission queues from Create I/O SQ: [qid, base, end) triples. */
  private readonly sqs: number[] = [];
  private readonly pending = new PendingTimes();
  private readonly io = new LatencyStats();
  readonly kinds = KINDS;
  readonly dmaTags = DMA_TAGS;

  add(ev: SeqEvent): void {
    if (ev.kind === 'milestone') {
      if (ev.name.endsWith('.create')) {
        if (this.createStart === undefined) this.createStart = ev.time;
        if (this.firstIo === undefined) this.createEnd = ev.time;
      }
      return;
    }
    if (ev.kind !== 'dma') return;
    const t = ev.time;
    const data = ev.data;
    switch (ev.tag) {
      case 'nvme.asqe': {
        if (data.length < 64) return;
        const opc = data[0]!;
        if (opc === AdminOp.IDENTIFY && this.identifyStart === undefined) {
          this.identifyStart = t;
          this.identifyCid = u16(data, 2);
        } else if (opc === AdminOp.CREATE_IO_SQ || opc === AdminOp.CREATE_IO_CQ) {
          if (this.createStart === undefined) this.createStart = t;
          if (opc === AdminOp.CREATE_IO_SQ) {
            const dw10 = u32(data, 40);
            const qid = dw10 & 0xffff;
            const size = (dw10 >>> 16) + 1;
            const base = u64(data, 24);
            for (let i = 0; i < this.sqs.length; i += 3) {
              if (this.sqs[i] === qid) {
                this.sqs.splice(i, 3);
                break;
              }
            }
            this.sqs.push(qid, base, base + size * 64);
          }
        }
        return;
      }
      case 'nvme.acqe':
        if (data.length >= 16 && this.identifyStart !== undefined && this.identifyEnd === undefined && u16(data, 12) === this.identifyCid) {
          this.identifyEnd = t;
        }
        return;
      case 'nvme.sqe': {
        if (data.length < 64) return;
        let sq = UNKNOWN_SQ;
        for (let i = 0; i < this.sqs.length; i += 3) {
          if (ev.addr >= this.sqs[i + 1]! && ev.addr < this.sqs[i + 2]!) {
            sq = this.sqs[i]!;
            break;
          }
        }
        const key = sq * 65536 + u16(data, 2);
        if (this.firstIo === undefined) {
          this.firstIo = t;
          this.firstIoKey = key;
        }
        if (this.pending.size >= PENDING_CAP) this.pending.clear();
        this.pending.set(key, t);
        return;
      }
      case 'nvme.cqe': {
        if (data.length < 16) return;
        const cid = u16(data, 12);
        let key = u16(data, 10) * 65536 + cid;
        let t0 = this.pending.get(key);
        if (t0 === undefined) {
          key = UNKNOWN_SQ * 65536 + cid;
          t0 = this.pending.get(key);
        }
        if (t0 === undefined) return;
        this.pending.delete(key);
        this.io.add(t - t0);
        if (this.firstIoEnd === undefined && key === this.firstIoKey) this.firstIoEnd = t;
        return;
      }
      default:
        return;
    }
  }

  phases(m: DeviceMilestones): DevicePhase[] {
    const out: DevicePhase[] = [];
    const push = (phase: string, v: number | undefined, unit: 'ps' | 'count' = 'ps'): void => {
      if (v !== undefined) out.push({ phase, value: v, unit });
    };
    if (this.identifyStart !== undefined && this.identifyEnd !== undefined) push('identify', this.identifyEnd - this.identifyStart);
    if (this.createStart !== undefined && this.createEnd !== undefined && this.createEnd >= this.createStart) {
      push('queue creation', this.createEnd - this.createStart);
    }
    if (this.firstIo !== undefined) {
      push(m.ready !== undefined ? 'ready→first I/O' : 'start→first I/O', this.firstIo - (m.ready ?? m.first));
      if (this.firstIoEnd !== undefined) push('first I/O latency', this.firstIoEnd - this.firstIo);
    }
    if (this.io.count > 0) {
      push('I/Os', this.io.count, 'count');
      push('I/O latency p50', this.io.percentile(50));
      push('I/O latency p90', this.io.percentile(90));
      push('I/O latency p99', this.io.percentile(99));
      push('I/O latency mean', this.io.mean());
    }
    return out;
  }
}
