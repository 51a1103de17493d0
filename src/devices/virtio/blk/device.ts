/**
 * virtio-blk (virtio 1.2 5.2) on the virtio PCI transport: requests popped
 * from the request queues are parsed at once (header read by DMA, checked),
 * then run on the media after a modelled latency, in an event: data moves
 * between the disk and the chain, the status byte is written last, the
 * chain goes on the used ring and the queue's interrupt is sent unless the
 * driver suppressed it.
 *
 * Request contexts ("slots") are preallocated: `maxInflight` of them, each
 * with room for seg_max data segments plus header and status. When all are
 * busy the device stops popping and resumes when one frees. Requests run
 * concurrently; each completes after its own latency (equal latencies
 * complete in submission order).
 *
 * DMA tags: "virtio-blk.req" (request header), "data" (IN/OUT data,
 * GET_ID), "virtio-blk.dwz" (discard / write zeroes segments),
 * "virtio-blk.status" (status byte), plus the ring tags of virtqueue.ts.
 */
import { FNV_OFFSET, fnvNumber } from '../../../sim/hash.js';
import type { DmaPort } from '../../../sim/dma.js';
import { NO_EVENT, type EventQueue } from '../../../sim/event-queue.js';
import type { Rng } from '../../../sim/rng.js';
import { us, type Duration } from '../../../sim/time.js';
import type { Tracer } from '../../../sim/tracer.js';
import type { DeviceContext, DeviceModel } from '../../device.js';
import type { Disk } from '../../disk-image.js';
import { readFromChain, writeLastByte, writeToChain } from '../chain-io.js';
import { VirtioPciTransport, type VirtioBackend } from '../transport/pci-transport.js';
import { DescChain, POP_ERROR, POP_OK } from '../virtqueue.js';
import type { VirtioBlkGuestErrorCode } from './guest-errors.js';
import {
  BLK_CLASS_CODE, BLK_CONFIG_SIZE, BLK_DWZ_F_UNMAP, BLK_DWZ_SEGMENT_SIZE, BLK_F_BLK_SIZE, BLK_F_DISCARD, BLK_F_FLUSH,
  BLK_F_MQ, BLK_F_RO, BLK_F_SEG_MAX, BLK_F_SIZE_MAX, BLK_F_WRITE_ZEROES, BLK_ID_BYTES, BLK_REQ_HEADER_SIZE, BLK_S_IOERR,
  BLK_S_OK, BLK_S_UNSUPP, BLK_T_DISCARD, BLK_T_FLUSH, BLK_T_GET_ID, BLK_T_IN, BLK_T_OUT, BLK_T_WRITE_ZEROES, CFG_BLK_SIZE,
  CFG_CAPACITY, CFG_DISCARD_SECTOR_ALIGNMENT, CFG_MAX_DISCARD_SECTORS, CFG_MAX_DISCARD_SEG, CFG_MAX_WRITE_ZEROES_SECTORS,
  CFG_MAX_WRITE_ZEROES_SEG, CFG_NUM_QUEUES, CFG_SEG_MAX, CFG_SIZE_MAX, CFG_WRITE_ZEROES_MAY_UNMAP, SECTOR_SHIFT, SECTOR_SIZE,
  VIRTIO_ID_BLOCK, requestTypeName,
} from './regs.js';
import { blkStall } from './stall.js';

/** Resolved configuration (index.ts turns props into this). */
export interface VirtioBlkConfig {
  numQueues: number;
  queueSize: number;
  msixVectors: number;
  maxInflight: number;
  segMax: number;
  sizeMax: number;
  blkSize: number;
  readOnly: boolean;
  flush: boolean;
  discard: boolean;
  writeZeroes: boolean;
  maxDiscardSectors: number;
  maxDiscardSeg: number;
  maxWriteZeroesSectors: number;
  maxWriteZeroesSeg: number;
  indirectDesc: boolean;
  eventIdx: boolean;
  serial: string;
  readLatencyUs: number;
  writeLatencyUs: number;
  flushLatencyUs: number;
  latencyJitterPct: number;
  /** Fault: IN/OUT/DISCARD/WRITE_ZEROES touching [faultIoErrorSector, +faultIoErrorCount) fail with IOERR (count 0 = off). */
  faultIoErrorSector: number;
  faultIoErrorCount: number;
  /** Fault: the n-th request accepted since power-on never completes, until the device is reset (0 = off). */
  faultHangRequest: number;
}

/** Fixed device timings (media latencies are props). */
export const BlkTiming = {
  /** A request refused at parse (bad header, unsupported type, out of range): status after this. */
  REJECT: us(1),
  /** GET_ID. */
  GET_ID: us(5),
} as const;

const EV_DONE = 1;

const SLOT_FREE = 0;
/** Waiting for its completion event. */
const SLOT_MEDIA = 1;
/** Held by the hang fault: never completes. */
const SLOT_HUNG = 2;

/** Bounce buffer for disk <-> guest transfers, and the zeroes written by WRITE_ZEROES. */
const BOUNCE = 64 * 1024;

export interface VirtioBlkCounters {
  reads: number;
  writes: number;
  flushes: number;
  getIds: number;
  discards: number;
  writeZeroes: number;
  errors: number;
  unsupported: number;
  bytesRead: number;
  bytesWritten: number;
  guestErrors: number;
}

export class VirtioBlk implements DeviceModel, VirtioBackend {
  readonly type = 'virtio-blk';
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly t: VirtioPciTransport;
  readonly dma: DmaPort;
  readonly config = new Uint8Array(BLK_CONFIG_SIZE);
  private readonly configView = new DataView(this.config.buffer);
  readonly counters: VirtioBlkCounters = {
    reads: 0, writes: 0, flushes: 0, getIds: 0, discards: 0, writeZeroes: 0, errors: 0, unsupported: 0,
    bytesRead: 0, bytesWritten: 0, guestErrors: 0,
  };
  /** Capacity in 512-byte sectors. */
  capacity: number;

  // Request slots.
  readonly slotCount: number;
  readonly chains: DescChain[];
  readonly slotState: Uint8Array;
  readonly slotQueue: Int32Array;
  readonly slotType: Uint32Array;
  readonly slotSector: Float64Array;
  /** Status decided at parse time (IOERR/UNSUPP), or -1 to run the request. */
  readonly slotVerdict: Int32Array;
  readonly slotEv: Float64Array;
  readonly slotStartPs: Float64Array;
  private freeSlots: Int32Array;
  private freeCount: number;
  /** Queues that stopped popping for want of a slot. */
  private readonly starved: Uint8Array;
  /** Requests accepted since power-on (for the hang fault). */
  accepted = 0;

  private readonly target: number;
  private readonly rng: Rng;
  private readonly jitter: number;
  private readonly readLatency: Duration;
  private readonly writeLatency: Duration;
  private readonly flushLatency: Duration;
  private readonly header = new Uint8Array(BLK_REQ_HEADER_SIZE);
  private readonly headerView = new DataView(this.header.buffer);
  private readonly statusByte = new Uint8Array(1);
  private readonly bounce = new Uint8Array(BOUNCE);
  private readonly zeroes = new Uint8Array(BOUNCE);
  private readonly dwz: Uint8Array;
  private readonly dwzView: DataView;
  private readonly idBytes = new Uint8Array(BLK_ID_BYTES);

  constructor(ctx: DeviceContext, readonly cfg: VirtioBlkConfig, readonly disk: Disk) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.rng = ctx.rng.fork('media');
    this.jitter = cfg.latencyJitterPct / 100;
    this.readLatency = us(cfg.readLatencyUs);
    this.writeLatency = us(cfg.writeLatencyUs);
    this.flushLatency = us(cfg.flushLatencyUs);
    this.capacity = Math.floor(disk.sizeBytes / SECTOR_SIZE);
    for (let i = 0; i < cfg.serial.length && i < BLK_ID_BYTES; i++) this.idBytes[i] = cfg.serial.charCodeAt(i);
    const maxDwzSeg = Math.max(cfg.discard ? cfg.maxDiscardSeg : 1, cfg.writeZeroes ? cfg.maxWriteZeroesSeg : 1);
    this.dwz = new Uint8Array(maxDwzSeg * BLK_DWZ_SEGMENT_SIZE);
    this.dwzView = new DataView(this.dwz.buffer);

    this.slotCount = cfg.maxInflight;
    this.chains = [];
    for (let i = 0; i < this.slotCount; i++) this.chains.push(new DescChain(cfg.segMax + 2));
    this.slotState = new Uint8Array(this.slotCount);
    this.slotQueue = new Int32Array(this.slotCount);
    this.slotType = new Uint32Array(this.slotCount);
    this.slotSector = new Float64Array(this.slotCount);
    this.slotVerdict = new Int32Array(this.slotCount);
    this.slotEv = new Float64Array(this.slotCount).fill(NO_EVENT);
    this.slotStartPs = new Float64Array(this.slotCount);
    this.freeSlots = new Int32Array(this.slotCount);
    this.freeCount = 0;
    this.resetSlots();
    this.starved = new Uint8Array(cfg.numQueues);
    this.target = ctx.queue.register(ctx.id, (kind, a0) => {
      if (kind === EV_DONE) this.finish(a0);
    });

    const features: number[] = [BLK_F_SEG_MAX, BLK_F_SIZE_MAX, BLK_F_BLK_SIZE];
    if (cfg.readOnly) features.push(BLK_F_RO);
    if (cfg.flush) features.push(BLK_F_FLUSH);
    if (cfg.discard) features.push(BLK_F_DISCARD);
    if (cfg.writeZeroes) features.push(BLK_F_WRITE_ZEROES);
    if (cfg.numQueues > 1) features.push(BLK_F_MQ);
    this.buildConfig();
    this.t = new VirtioPciTransport(ctx, {
      deviceType: VIRTIO_ID_BLOCK,
      classCode: BLK_CLASS_CODE,
      deviceFeatures: features,
      indirectDesc: cfg.indirectDesc,
      eventIdx: cfg.eventIdx,
      ringReset: true,
      numQueues: cfg.numQueues,
      queueSizeMax: cfg.queueSize,
      msixVectors: cfg.msixVectors,
      deviceCfgSize: BLK_CONFIG_SIZE,
    }, this);
    this.dma = this.t.dma;
  }

  /** Configuration space (5.2.4), little-endian. */
  private buildConfig(): void {
    const v = this.configView;
    const c = this.cfg;
    this.putCapacity();
    v.setUint32(CFG_SIZE_MAX, c.sizeMax, true);
    v.setUint32(CFG_SEG_MAX, c.segMax, true);
    v.setUint32(CFG_BLK_SIZE, c.blkSize, true);
    v.setUint16(CFG_NUM_QUEUES, c.numQueues, true);
    if (c.discard) {
      v.setUint32(CFG_MAX_DISCARD_SECTORS, c.maxDiscardSectors, true);
      v.setUint32(CFG_MAX_DISCARD_SEG, c.maxDiscardSeg, true);
      v.setUint32(CFG_DISCARD_SECTOR_ALIGNMENT, c.blkSize >>> SECTOR_SHIFT, true);
    }
    if (c.writeZeroes) {
      v.setUint32(CFG_MAX_WRITE_ZEROES_SECTORS, c.maxWriteZeroesSectors, true);
      v.setUint32(CFG_MAX_WRITE_ZEROES_SEG, c.maxWriteZeroesSeg, true);
      v.setUint8(CFG_WRITE_ZEROES_MAY_UNMAP, 0);
    }
  }

  private putCapacity(): void {
    this.configView.setUint32(CFG_CAPACITY, this.capacity % 0x1_0000_0000, true);
    this.configView.setUint32(CFG_CAPACITY + 4, Math.floor(this.capacity / 0x1_0000_0000), true);
  }

  /**
   * Changes the advertised capacity (sectors, at most what the image holds),
   * as a resized backing store would: config_generation moves and the
   * driver gets a configuration change interrupt (5.2.6.2).
   */
  setCapacity(sectors: number): void {
    this.capacity = Math.min(sectors, Math.floor(this.disk.sizeBytes / SECTOR_SIZE));
    this.putCapacity();
    this.t.configChanged();
  }

  // ---------------------------------------------------------------- VirtioBackend

  writeConfig(): boolean {
    return false; // no writable field (CONFIG_WCE is not offered)
  }

  checkFeatures(): string | undefined {
    return undefined;
  }

  queueNotified(q: number): void {
    const vq = this.t.queue(q);
    this.starved[q] = 0;
    for (;;) {
      const slot = this.allocSlot();
      if (slot < 0) {
        this.starved[q] = 1;
        break;
      }
      const r = vq.pop(this.chains[slot]!);
      if (r !== POP_OK) {
        this.freeSlot(slot);
        if (r === POP_ERROR) return;
        break;
      }
      this.start(slot, q);
    }
    vq.publishAvailEvent();
  }

  reset(): void {
    for (let s = 0; s < this.slotCount; s++) this.queue.cancel(this.slotEv[s]!);
    this.resetSlots();
    this.starved.fill(0);
  }

  queueReset(q: number): void {
    for (let s = 0; s < this.slotCount; s++) {
      if (this.slotState[s] !== SLOT_FREE && this.slotQueue[s] === q) {
        this.queue.cancel(this.slotEv[s]!);
        this.freeSlot(s);
      }
    }
    this.starved[q] = 0;
  }

  // ---------------------------------------------------------------- DeviceModel

  quiesce(): void {
    this.t.reset();
  }

  stats(): Record<string, number> {
    const t = this.t.counters;
    return { ...this.counters, notifies: t.notifies, interrupts: t.interrupts, suppressedInterrupts: t.suppressed, resets: t.resets };
  }

  stateHash(): number {
    let h = this.t.stateHash(FNV_OFFSET);
    const c = this.counters;
    for (const v of [this.capacity, c.reads, c.writes, c.flushes, c.discards, c.writeZeroes, c.errors, c.bytesRead, c.bytesWritten, this.freeCount]) {
      h = fnvNumber(h, v);
    }
    return h >>> 0;
  }

  stall(now: number): string[] {
    return blkStall(this, now);
  }

  // ---------------------------------------------------------------- slots

  private resetSlots(): void {
    this.slotState.fill(SLOT_FREE);
    this.slotEv.fill(NO_EVENT);
    this.freeCount = this.slotCount;
    // Lowest slot first, for readable traces.
    for (let i = 0; i < this.slotCount; i++) this.freeSlots[i] = this.slotCount - 1 - i;
  }

  private allocSlot(): number {
    if (this.freeCount === 0) return -1;
    return this.freeSlots[--this.freeCount]!;
  }

  private freeSlot(s: number): void {
    this.slotState[s] = SLOT_FREE;
    this.slotEv[s] = NO_EVENT;
    this.freeSlots[this.freeCount++] = s;
  }

  /** Slot states, for stall diagnosis. */
  slotBusy(s: number): 'free' | 'media' | 'hung' {
    const st = this.slotState[s];
    return st === SLOT_MEDIA ? 'media' : st === SLOT_HUNG ? 'hung' : 'free';
  }

  // ---------------------------------------------------------------- requests

  private err(code: VirtioBlkGuestErrorCode, message: string): void {
    this.counters.guestErrors++;
    this.t.recordErr(code, message);
  }

  /** Parses and checks a popped request, then schedules its completion. */
  private start(slot: number, q: number): void {
    const c = this.chains[slot]!;
    this.slotQueue[slot] = q;
    this.slotStartPs[slot] = this.queue.now;
    this.slotType[slot] = 0xffffffff;
    this.slotSector[slot] = 0;
    this.slotVerdict[slot] = -1;
    this.slotState[slot] = SLOT_MEDIA;
    if (c.writableBytes < 1) {
      this.err('virtio.blk.no-status', `${this.what(slot)} has no device-writable byte for its status`);
      this.slotVerdict[slot] = BLK_S_IOERR;
      this.schedule(slot, BlkTiming.REJECT);
      return;
    }
    if (c.readableBytes < BLK_REQ_HEADER_SIZE) {
      this.err('virtio.blk.header', `${this.what(slot)}: ${c.readableBytes} device-readable bytes, the header needs ${BLK_REQ_HEADER_SIZE}`);
      this.reject(slot, BLK_S_IOERR);
      return;
    }
    if (!readFromChain(this.dma, c, 0, this.header, 0, BLK_REQ_HEADER_SIZE, 'virtio-blk.req')) {
      this.reject(slot, BLK_S_IOERR);
      return;
    }
    const type = this.headerView.getUint32(0, true);
    const sector = this.headerView.getUint32(8, true) + this.headerView.getUint32(12, true) * 0x1_0000_0000;
    this.slotType[slot] = type;
    this.slotSector[slot] = sector;
    if (c.overflow || (this.t.has(BLK_F_SEG_MAX) && c.count > this.cfg.segMax + 2)) {
      this.err('virtio.blk.segments', `${this.what(slot)}: ${c.count} descriptors, more than seg_max ${this.cfg.segMax} + header + status`);
      this.reject(slot, BLK_S_IOERR);
      return;
    }
    if (this.t.has(BLK_F_SIZE_MAX)) {
      for (let i = 0; i < c.stored; i++) {
        if (c.len[i]! > this.cfg.sizeMax) {
          this.err('virtio.blk.segment-size', `${this.what(slot)}: a ${c.len[i]}-byte descriptor exceeds size_max ${this.cfg.sizeMax}`);
          break;
        }
      }
    }
    this.accepted++;
    if (this.cfg.faultHangRequest > 0 && this.accepted === this.cfg.faultHangRequest) {
      this.slotState[slot] = SLOT_HUNG;
      this.tracer.milestone(this.queue.now, this.dev, 'fault.hang', q, c.head);
      return;
    }
    switch (type) {
      case BLK_T_IN:
      case BLK_T_OUT: {
        const write = type === BLK_T_OUT;
        const bytes = write ? c.readableBytes - BLK_REQ_HEADER_SIZE : c.writableBytes - 1;
        if (bytes % SECTOR_SIZE !== 0) {
          this.err('virtio.blk.data-len', `${this.what(slot)}: ${bytes} data bytes is not a multiple of ${SECTOR_SIZE}`);
          this.reject(slot, BLK_S_IOERR);
          return;
        }
        if (sector + bytes / SECTOR_SIZE > this.capacity) {
          this.err('virtio.blk.range', `${this.what(slot)}: sectors ${sector}+${bytes / SECTOR_SIZE} past capacity ${this.capacity}`);
          this.reject(slot, BLK_S_IOERR);
          return;
        }
        if (write && this.cfg.readOnly) {
          this.err('virtio.blk.read-only', `${this.what(slot)}: the device is read-only (VIRTIO_BLK_F_RO)`);
          this.reject(slot, BLK_S_IOERR);
          return;
        }
        this.schedule(slot, this.jittered(write ? this.writeLatency : this.readLatency));
        return;
      }
      case BLK_T_FLUSH:
        if (!this.t.has(BLK_F_FLUSH)) {
          this.unsupported(slot, `${this.what(slot)}: VIRTIO_BLK_F_FLUSH not negotiated`);
          return;
        }
        this.schedule(slot, this.jittered(this.flushLatency));
        return;
      case BLK_T_GET_ID:
        this.schedule(slot, BlkTiming.GET_ID);
        return;
      case BLK_T_DISCARD:
      case BLK_T_WRITE_ZEROES: {
        const discard = type === BLK_T_DISCARD;
        if (!this.t.has(discard ? BLK_F_DISCARD : BLK_F_WRITE_ZEROES)) {
          this.unsupported(slot, `${this.what(slot)}: VIRTIO_BLK_F_${discard ? 'DISCARD' : 'WRITE_ZEROES'} not negotiated`);
          return;
        }
        if (this.cfg.readOnly) {
          this.err('virtio.blk.read-only', `${this.what(slot)}: the device is read-only (VIRTIO_BLK_F_RO)`);
          this.reject(slot, BLK_S_IOERR);
          return;
        }
        const bytes = c.readableBytes - BLK_REQ_HEADER_SIZE;
        const maxSeg = discard ? this.cfg.maxDiscardSeg : this.cfg.maxWriteZeroesSeg;
        if (bytes === 0 || bytes % BLK_DWZ_SEGMENT_SIZE !== 0 || bytes / BLK_DWZ_SEGMENT_SIZE > maxSeg) {
          this.err('virtio.blk.dwz', `${this.what(slot)}: ${bytes} segment bytes: must be 1..${maxSeg} segments of ${BLK_DWZ_SEGMENT_SIZE} bytes`);
          this.reject(slot, BLK_S_IOERR);
          return;
        }
        this.schedule(slot, this.jittered(this.writeLatency));
        return;
      }
      default:
        this.unsupported(slot, `${this.what(slot)}: request type ${type} is not supported`);
    }
  }

  /** "IN request (queue 0, head 3)": for messages, built only when something is wrong. */
  private what(slot: number): string {
    const t = this.slotType[slot]!;
    const type = t === 0xffffffff ? '' : `${requestTypeName(t)} `;
    return `${type}request (queue ${this.slotQueue[slot]}, head ${this.chains[slot]!.head})`;
  }

  private unsupported(slot: number, message: string): void {
    this.err('virtio.blk.unsupported', message);
    this.reject(slot, BLK_S_UNSUPP);
  }

  private reject(slot: number, status: number): void {
    this.slotVerdict[slot] = status;
    this.schedule(slot, BlkTiming.REJECT);
  }

  private schedule(slot: number, d: Duration): void {
    this.slotEv[slot] = this.queue.schedule(d, this.target, EV_DONE, slot);
  }

  private jittered(d: Duration): Duration {
    if (this.jitter === 0) return d;
    return Math.max(0, Math.round(d * (1 + this.jitter * (2 * this.rng.next() - 1)))) as Duration;
  }

  /** The completion event: run the request, write the status, return the chain. */
  private finish(slot: number): void {
    const c = this.chains[slot]!;
    const q = this.slotQueue[slot]!;
    let status = this.slotVerdict[slot]!;
    let written = 0;
    if (status < 0) {
      written = this.execute(slot);
      status = written < 0 ? -written - 1 : BLK_S_OK;
      if (written < 0) written = 0;
    }
    if (status === BLK_S_IOERR) this.counters.errors++;
    if (status === BLK_S_UNSUPP) this.counters.unsupported++;
    let len = 0;
    if (c.writableBytes >= 1) {
      this.statusByte[0] = status;
      if (writeLastByte(this.dma, c, this.statusByte, 'virtio-blk.status')) len = written + 1;
    }
    const head = c.head;
    this.freeSlot(slot);
    this.t.complete(q, head, len);
    if (this.starved[q] !== 0) this.t.kick(q);
  }

  /**
   * Runs a parsed request: bytes written to the chain's writable region
   * (before the status) on success, or -(status + 1) on failure.
   */
  private execute(slot: number): number {
    const c = this.chains[slot]!;
    const type = this.slotType[slot]!;
    const sector = this.slotSector[slot]!;
    const ioerr = -(BLK_S_IOERR + 1);
    switch (type) {
      case BLK_T_IN: {
        const bytes = c.writableBytes - 1;
        if (this.faultHit(sector, bytes >>> SECTOR_SHIFT)) return ioerr;
        if (!this.diskToChain(c, sector * SECTOR_SIZE, bytes)) return ioerr;
        this.counters.reads++;
        this.counters.bytesRead += bytes;
        return bytes;
      }
      case BLK_T_OUT: {
        const bytes = c.readableBytes - BLK_REQ_HEADER_SIZE;
        if (this.faultHit(sector, bytes >>> SECTOR_SHIFT)) return ioerr;
        if (!this.chainToDisk(c, sector * SECTOR_SIZE, bytes)) return ioerr;
        this.counters.writes++;
        this.counters.bytesWritten += bytes;
        return 0;
      }
      case BLK_T_FLUSH:
        this.counters.flushes++;
        return 0;
      case BLK_T_GET_ID: {
        const n = Math.min(BLK_ID_BYTES, c.writableBytes - 1);
        if (!writeToChain(this.dma, c, 0, this.idBytes, 0, n, 'data')) return ioerr;
        this.counters.getIds++;
        return n;
      }
      case BLK_T_DISCARD:
      case BLK_T_WRITE_ZEROES:
        return this.discardOrZero(slot, type === BLK_T_DISCARD);
      default:
        return -(BLK_S_UNSUPP + 1);
    }
  }

  /** DISCARD / WRITE_ZEROES (5.2.6): every segment is checked before any is applied. */
  private discardOrZero(slot: number, discard: boolean): number {
    const c = this.chains[slot]!;
    const bytes = c.readableBytes - BLK_REQ_HEADER_SIZE;
    const n = bytes / BLK_DWZ_SEGMENT_SIZE;
    if (!readFromChain(this.dma, c, BLK_REQ_HEADER_SIZE, this.dwz, 0, bytes, 'virtio-blk.dwz')) return -(BLK_S_IOERR + 1);
    const v = this.dwzView;
    const maxSectors = discard ? this.cfg.maxDiscardSectors : this.cfg.maxWriteZeroesSectors;
    const name = discard ? 'DISCARD' : 'WRITE_ZEROES';
    for (let i = 0; i < n; i++) {
      const o = i * BLK_DWZ_SEGMENT_SIZE;
      const flags = v.getUint32(o + 12, true);
      if ((flags & ~BLK_DWZ_F_UNMAP) !== 0 || (discard && (flags & BLK_DWZ_F_UNMAP) !== 0)) {
        this.err('virtio.blk.dwz-flags', `${name} segment ${i}: flags 0x${flags.toString(16)}${discard ? ' (unmap is not allowed for DISCARD)' : ' (unknown bits)'}`);
        return -(BLK_S_UNSUPP + 1);
      }
    }
    for (let i = 0; i < n; i++) {
      const o = i * BLK_DWZ_SEGMENT_SIZE;
      const sector = v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
      const count = v.getUint32(o + 8, true);
      if (count > maxSectors || sector + count > this.capacity) {
        this.err('virtio.blk.dwz', `${name} segment ${i}: sectors ${sector}+${count} (max ${maxSectors} per segment, capacity ${this.capacity})`);
        return -(BLK_S_IOERR + 1);
      }
      if (this.faultHit(sector, count)) return -(BLK_S_IOERR + 1);
    }
    for (let i = 0; i < n; i++) {
      const o = i * BLK_DWZ_SEGMENT_SIZE;
      const sector = v.getUint32(o, true) + v.getUint32(o + 4, true) * 0x1_0000_0000;
      const count = v.getUint32(o + 8, true);
      if (discard) {
        // The device may deallocate; this one keeps the contents (5.2.6.2: reads after a discard are unspecified).
        this.counters.discards++;
        continue;
      }
      let off = sector * SECTOR_SIZE;
      let left = count * SECTOR_SIZE;
      while (left > 0) {
        const k = Math.min(left, BOUNCE);
        this.disk.write(this.zeroes, 0, off, k);
        off += k;
        left -= k;
      }
      this.counters.writeZeroes++;
    }
    return 0;
  }

  /** The I/O error fault covers part of [sector, sector+count). */
  private faultHit(sector: number, count: number): boolean {
    const n = this.cfg.faultIoErrorCount;
    if (n === 0) return false;
    const start = this.cfg.faultIoErrorSector;
    if (sector < start + n && start < sector + count) {
      this.tracer.milestone(this.queue.now, this.dev, 'fault.ioerr', sector, count);
      return true;
    }
    return false;
  }

  private diskToChain(c: DescChain, diskOff: number, bytes: number): boolean {
    const disk = this.disk;
    for (let done = 0; done < bytes;) {
      const k = Math.min(BOUNCE, bytes - done);
      // Unwritten image bytes go out straight from the image, with their place in it (a trace references them).
      if (disk.span(diskOff + done, k) && disk.spanIsImage && disk.fixture !== undefined) {
        if (!writeToChain(this.dma, c, done, disk.spanBuf, disk.spanOff, k, 'data', disk.fixture, disk.spanOff)) return false;
      } else {
        disk.read(this.bounce, 0, diskOff + done, k);
        if (!writeToChain(this.dma, c, done, this.bounce, 0, k, 'data')) return false;
      }
      done += k;
    }
    return true;
  }

  private chainToDisk(c: DescChain, diskOff: number, bytes: number): boolean {
    for (let done = 0; done < bytes;) {
      const k = Math.min(BOUNCE, bytes - done);
      if (!readFromChain(this.dma, c, BLK_REQ_HEADER_SIZE + done, this.bounce, 0, k, 'data')) return false;
      this.disk.write(this.bounce, 0, diskOff + done, k);
      done += k;
    }
    return true;
  }
}
