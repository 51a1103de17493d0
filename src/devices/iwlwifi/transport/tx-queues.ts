/**
 * TX queues: 32 rings of 256 128-byte TFDs (gen1), the scheduler's
 * per-queue registers (write / read pointer, status bits) and TFD
 * processing into FirmwareCpu.command().
 *
 * A queue processes TFDs only while it is runnable: SCD QUEUE_STATUS_BITS
 * has ACTIVE (bit 3), its TFD ring base is set, and the FH TX DMA channel
 * of its FIFO (status bits 2:0; TX_CONFIG of that channel) is enabled.
 * Otherwise its TFDs stay untouched and a 'txq.inactive' milestone (a =
 * queue, b = reasons: 1 not ACTIVE, 2 no ring base, 4 channel disabled) is
 * recorded once per queue until the next reset. When a queue becomes
 * runnable, work already posted is picked up.
 *
 * Each TFD is fetched (DMA tag 'iwl.tfd'), validated, its TBs read
 * (tag 'iwl.tb') and concatenated into one preallocated buffer handed to
 * the firmware; the read pointer then advances. A malformed TFD (TB count
 * 0 or > 20, a TB of length 0, a TB past 36 bits, a refused DMA) is
 * skipped with a guestErr: the read pointer advances, the firmware never
 * sees it (the driver's command then times out, as on hardware).
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import type { Duration } from '../../../sim/time.js';
import { FH, FH_TCSR_TX_CONFIG, SCD_QUEUE_STTS, TFD, TFD_QUEUE_SIZE } from '../regs.js';
import { hex, type TransportEnv } from './env.js';
import { Ev, HostileTiming, Timing } from './timing.js';

export const TX_QUEUES = 32;
const ADDR_LIMIT = 2 ** 36;
/** 20 TBs of at most 4095 bytes. */
const MAX_TFD_BYTES = TFD.MAX_TBS * 0xfff;

export const InactiveReason = { NOT_ACTIVE: 1, NO_RING: 2, CHANNEL_OFF: 4 } as const;

const NOW = (): Duration => 0 as Duration;

export class TxQueues {
  /** TFD ring base register values (address >> 8). */
  readonly ringReg = new Uint32Array(TX_QUEUES);
  readonly wr = new Uint8Array(TX_QUEUES);
  readonly rd = new Uint8Array(TX_QUEUES);
  readonly status = new Uint32Array(TX_QUEUES);
  private readonly ev = new Float64Array(TX_QUEUES).fill(NO_EVENT);
  /** Time (ps) the last TFD of each queue was processed, -1 = none since reset (stall diagnosis). */
  readonly lastTfdPs = new Float64Array(TX_QUEUES).fill(-1);
  private readonly inactiveNoted = new Uint8Array(TX_QUEUES);
  private readonly tfd = new Uint8Array(TFD.SIZE);
  private readonly buf = new Uint8Array(MAX_TFD_BYTES);

  /** Counters. */
  tfds = 0;
  badTfds = 0;

  constructor(private readonly t: TransportEnv) {}

  reset(): void {
    for (let q = 0; q < TX_QUEUES; q++) {
      this.t.queue.cancel(this.ev[q]!);
      this.ev[q] = NO_EVENT;
    }
    this.ringReg.fill(0);
    this.wr.fill(0);
    this.rd.fill(0);
    this.status.fill(0);
    this.inactiveNoted.fill(0);
    this.lastTfdPs.fill(-1);
  }

  /** Why queue q cannot run (InactiveReason bits), 0 if runnable. */
  blocked(q: number): number {
    let why = 0;
    const st = this.status[q]!;
    if ((st & SCD_QUEUE_STTS.ACTIVE) === 0) why |= InactiveReason.NOT_ACTIVE;
    if (this.ringReg[q] === 0) why |= InactiveReason.NO_RING;
    const ch = (st >>> SCD_QUEUE_STTS.FIFO_SHIFT) & SCD_QUEUE_STTS.FIFO_MASK;
    if ((this.t.reg(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch) & FH_TCSR_TX_CONFIG.DMA_ENABLE) === 0) why |= InactiveReason.CHANNEL_OFF;
    return why;
  }

  /** HBUS_TARG_WRPTR (or SCD QUEUE_WRPTR): the driver's write pointer for queue q. */
  setWritePtr(q: number, index: number): void {
    this.wr[q] = index & (TFD_QUEUE_SIZE - 1);
    this.kick(q, this.fetchDelay);
  }

  /** SCD QUEUE_RDPTR written by the driver (queue activation sets the start index). */
  setReadPtr(q: number, index: number): void {
    this.rd[q] = index & (TFD_QUEUE_SIZE - 1);
    this.kick(q, this.fetchDelay);
  }

  setStatus(q: number, v: number): void {
    this.status[q] = v >>> 0;
    this.kick(q, this.fetchDelay);
  }

  setRingBase(q: number, v: number): void {
    this.ringReg[q] = v >>> 0;
    this.kick(q, this.fetchDelay);
  }

  /** A TX channel or other global condition changed: re-evaluate every queue with work. */
  kickAll(): void {
    for (let q = 0; q < TX_QUEUES; q++) this.kick(q, this.fetchDelay);
  }

  /** The doorbell-to-fetch delay (TFD_FETCH), or with hostile timing a draw for each fetch scheduled. */
  private readonly fetchDelay = (): Duration => this.t.delay(Timing.TFD_FETCH, HostileTiming.TFD_FETCH);
  private readonly intervalDelay = (): Duration => this.t.delay(Timing.TFD_INTERVAL, HostileTiming.TFD_INTERVAL);

  /** Schedules processing of queue q's next TFD after `delay()` (only asked when an event is scheduled). */
  private kick(q: number, delay: () => Duration): void {
    if (this.rd[q] === this.wr[q] || this.ev[q] !== NO_EVENT) return;
    const why = this.blocked(q);
    if (why !== 0) {
      if (this.inactiveNoted[q] === 0) {
        this.inactiveNoted[q] = 1;
        this.t.milestone('txq.inactive', q, why);
      }
      return;
    }
    this.ev[q] = this.t.queue.schedule(delay(), this.t.target, Ev.TFD, q);
  }

  /** Event: process the TFD at queue q's read pointer. */
  onTfd(q: number): void {
    this.ev[q] = NO_EVENT;
    if (q < 0 || q >= TX_QUEUES || this.rd[q] === this.wr[q]) return;
    if (this.blocked(q) !== 0) {
      this.kick(q, NOW); // records the milestone if not yet seen
      return;
    }
    const index = this.rd[q]!;
    const len = this.fetch(q, index);
    this.rd[q] = (index + 1) & (TFD_QUEUE_SIZE - 1);
    this.lastTfdPs[q] = this.t.queue.now;
    if (len >= 0) {
      this.tfds++;
      this.t.fw.command(q, index, this.buf, len);
    } else {
      this.badTfds++;
    }
    this.kick(q, this.intervalDelay);
  }

  /** Reads TFD `index` of queue q and its TBs into `buf`; returns the byte count, or -1 if skipped. */
  private fetch(q: number, index: number): number {
    const t = this.t;
    const tfdAddr = this.ringReg[q]! * 256 + index * TFD.SIZE;
    if (!t.dma.read(tfdAddr, this.tfd, 0, TFD.SIZE, 'iwl.tfd')) return -1;
    const tfd = this.tfd;
    const n = tfd[TFD.NUM_TBS_OFFSET]! & 0x1f;
    if (n === 0 || n > TFD.MAX_TBS) {
      t.err('iwl.tfd.num-tbs', `${t.name}: queue ${q} TFD ${index} at ${hex(tfdAddr)} has ${n} TBs (1..${TFD.MAX_TBS} allowed); skipped`);
      return -1;
    }
    let len = 0;
    for (let i = 0; i < n; i++) {
      const o = TFD.TBS_OFFSET + i * TFD.TB_SIZE;
      const lo = (tfd[o]! | (tfd[o + 1]! << 8) | (tfd[o + 2]! << 16) | (tfd[o + 3]! << 24)) >>> 0;
      const hiLen = tfd[o + 4]! | (tfd[o + 5]! << 8);
      const addr = (hiLen & 0xf) * 0x1_0000_0000 + lo;
      const tbLen = hiLen >>> 4;
      if (tbLen === 0) {
        t.err('iwl.tfd.tb-len', `${t.name}: queue ${q} TFD ${index} TB ${i} has length 0; TFD skipped`);
        return -1;
      }
      if (addr + tbLen > ADDR_LIMIT) {
        t.err('iwl.tfd.tb-addr', `${t.name}: queue ${q} TFD ${index} TB ${i} ${hex(lo)}+${tbLen} crosses the 36-bit DMA limit; TFD skipped`);
        return -1;
      }
      if (!t.dma.read(addr, this.buf, len, tbLen, 'iwl.tb')) return -1;
      len += tbLen;
    }
    return len;
  }

  /** TFD ring base register offset -> queue, or -1. */
  static ringQueue(offset: number): number {
    if (offset >= FH.MEM_CBBC_0_15 && offset < FH.MEM_CBBC_0_15 + 64) return (offset - FH.MEM_CBBC_0_15) >> 2;
    if (offset >= FH.MEM_CBBC_16_19 && offset < FH.MEM_CBBC_16_19 + 16) return 16 + ((offset - FH.MEM_CBBC_16_19) >> 2);
    if (offset >= FH.MEM_CBBC_20_31 && offset < FH.MEM_CBBC_20_31 + 48) return 20 + ((offset - FH.MEM_CBBC_20_31) >> 2);
    return -1;
  }
}

