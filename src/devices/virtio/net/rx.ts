/**
 * virtio-net receive path (virtio 1.2 5.1.6.3, 5.1.6.4): a frame arriving
 * from the link (in the link's delivery event) is written at once into
 * posted receive buffers: a virtio_net_hdr (flags DATA_VALID when
 * GUEST_CSUM was negotiated, gso_type NONE, num_buffers) then the frame.
 * Without MRG_RXBUF one chain takes header and frame; with it the frame
 * continues over as many chains as it needs (all but the last filled
 * completely), num_buffers in the first header. The chains go on the used
 * ring together, with one interrupt (unless suppressed).
 *
 * Chains are popped only when a frame needs them and held until one fits
 * ("held" chains survive a frame that could not be placed). With no buffer
 * the frame waits in the device's RX FIFO (prop rxFifoFrames, drained when
 * the driver notifies receiveq) or, when that is full or 0, is dropped and
 * counted (rxDropped): not a guest error, as on real NICs.
 */
import { writeToChain } from '../chain-io.js';
import { DescChain, POP_EMPTY, POP_ERROR } from '../virtqueue.js';
import type { VirtioNet } from './device.js';
import { HDR_F_DATA_VALID, HDR_FLAGS, HDR_NUM_BUFFERS, NET_HDR_SIZE, RX_QUEUE } from './regs.js';

/** Descriptors kept per receive chain; a longer chain's extra descriptors are not used. */
const RX_CHAIN_SEGS = 64;

const DELIVERED = 0;
const NO_BUFFERS = 1;
/** Dropped for a guest error (buffers too small) or a refused DMA; never retried. */
const DROPPED = 2;

export class NetRx {
  private readonly pool: DescChain[] = [];
  /** Bytes each held chain can take. */
  private readonly usable: Uint32Array;
  private heldStart = 0;
  private heldCount = 0;
  private heldBytes = 0;
  private readonly hdr = new Uint8Array(NET_HDR_SIZE);
  private readonly hdrView = new DataView(this.hdr.buffer);
  // The RX FIFO: frames waiting for buffers, each in a maxFrame-byte slot.
  private readonly fifo: Uint8Array;
  private readonly fifoLen: Uint32Array;
  private fifoStart = 0;
  private fifoCount = 0;
  /** Frames dropped since the last delivery for want of buffers, and when the first of them was. */
  dropStreak = 0;
  dropSince = -1;

  constructor(private readonly d: VirtioNet) {
    const cfg = d.cfg;
    const chains = Math.max(1, Math.min(cfg.queueSize, cfg.rxMaxBuffers));
    const segs = Math.max(2, Math.min(cfg.queueSize, RX_CHAIN_SEGS));
    for (let i = 0; i < chains; i++) this.pool.push(new DescChain(segs));
    this.usable = new Uint32Array(chains);
    this.fifo = new Uint8Array(cfg.rxFifoFrames * d.maxFrame);
    this.fifoLen = new Uint32Array(cfg.rxFifoFrames);
  }

  /** Receive chains popped and held, not yet used. */
  get held(): number {
    return this.heldCount;
  }

  /** Frames waiting in the RX FIFO. */
  get queued(): number {
    return this.fifoCount;
  }

  reset(): void {
    this.heldStart = 0;
    this.heldCount = 0;
    this.heldBytes = 0;
    this.fifoStart = 0;
    this.fifoCount = 0;
    this.dropStreak = 0;
    this.dropSince = -1;
  }

  /** A frame from the link: `buf[off..off+len)` is valid only during the call. */
  receive(buf: Uint8Array, off: number, len: number): void {
    const d = this.d;
    const c = d.counters;
    if (!d.rxReady) {
      c.rxDroppedNotReady++;
      return;
    }
    if (len > d.rxFrameLimit(buf, off)) {
      c.rxDroppedOversize++;
      return;
    }
    if (!d.ctrl.accept(buf, off, d.mac)) {
      c.rxFiltered++;
      return;
    }
    if (this.fifoCount > 0) this.drain();
    if (this.fifoCount === 0) {
      const r = this.deliver(buf, off, len);
      if (r !== NO_BUFFERS) return;
    }
    if (this.fifoCount < this.fifoLen.length) {
      const i = (this.fifoStart + this.fifoCount) % this.fifoLen.length;
      this.fifo.set(buf.subarray(off, off + len), i * d.maxFrame);
      this.fifoLen[i] = len;
      this.fifoCount++;
      c.rxQueued++;
      return;
    }
    c.rxDropped++;
    if (this.dropStreak === 0) {
      this.dropSince = d.queue.now;
      d.tracer.milestone(d.queue.now, d.dev, 'net.rx-no-buffers', c.rxDropped, 0);
    }
    this.dropStreak++;
  }

  /** receiveq notified: new buffers; frames waiting in the FIFO go first. */
  notified(): void {
    this.drain();
    this.d.t.queue(RX_QUEUE).publishAvailEvent();
  }

  /** Delivers frames waiting in the FIFO while buffers last. */
  private drain(): void {
    const d = this.d;
    while (this.fifoCount > 0 && d.rxReady) {
      const i = this.fifoStart;
      if (this.deliver(this.fifo, i * d.maxFrame, this.fifoLen[i]!) === NO_BUFFERS) break;
      this.fifoStart = (this.fifoStart + 1) % this.fifoLen.length;
      this.fifoCount--;
    }
  }

  /** Bytes a popped chain can take: its writable bytes, up to the descriptors the DescChain kept in order. */
  private static capacity(c: DescChain): number {
    if (!c.overflow) return c.writableBytes;
    let n = 0;
    for (let i = c.readableSegs; i < c.stored - 1; i++) n += c.len[i]!;
    return n;
  }

  /** Pops chains until `need` bytes are held (or one chain without MRG_RXBUF). False after a ring error. */
  private fill(need: number, mergeable: boolean, limit: number): boolean {
    const d = this.d;
    const vq = d.t.queue(RX_QUEUE);
    let refused = false;
    while ((mergeable ? this.heldBytes < need : this.heldCount === 0) && this.heldCount < limit) {
      const slot = (this.heldStart + this.heldCount) % this.pool.length;
      const c = this.pool[slot]!;
      const r = vq.pop(c);
      if (r === POP_ERROR) return false;
      if (r === POP_EMPTY) break;
      const cap = NetRx.capacity(c);
      if (c.readableSegs > 0 || cap < NET_HDR_SIZE) {
        d.err('virtio.net.rx-header', `RX chain (head ${c.head}): ${c.readableBytes} device-readable and ${cap} writable bytes; `
          + `receive buffers are device-writable with room for the ${NET_HDR_SIZE}-byte header; returned with length 0`);
        if (d.t.pushUsed(RX_QUEUE, c.head, 0)) refused = true;
        continue;
      }
      this.usable[slot] = cap;
      this.heldCount++;
      this.heldBytes += cap;
    }
    if (refused) d.t.signalQueue(RX_QUEUE);
    vq.publishAvailEvent();
    return true;
  }

  private deliver(buf: Uint8Array, off: number, len: number): number {
    const d = this.d;
    const c = d.counters;
    const need = NET_HDR_SIZE + len;
    const mergeable = d.mergeable;
    // With MRG_RXBUF: at most rxMaxBuffers chains, and never more than the ring can hold.
    const limit = mergeable ? Math.min(this.pool.length, d.t.queue(RX_QUEUE).size) : 1;
    if (!this.fill(need, mergeable, limit)) return DROPPED;
    if (this.heldCount === 0) return NO_BUFFERS;
    let n = 0;
    if (!mergeable) {
      const cap = this.usable[this.heldStart]!;
      if (cap < need) {
        c.rxErrors++;
        d.err('virtio.net.rx-buffer-small', `a ${len}-byte frame needs ${need} bytes with its header; the receive buffer (head ${this.pool[this.heldStart]!.head}) has ${cap} and VIRTIO_NET_F_MRG_RXBUF was not negotiated; frame dropped`);
        return DROPPED;
      }
      n = 1;
    } else {
      if (this.heldBytes < need) {
        if (this.heldCount < limit) return NO_BUFFERS;
        c.rxErrors++;
        d.err('virtio.net.rx-buffer-small', `a ${len}-byte frame needs ${need} bytes with its header; ${this.heldCount} receive buffers (the most one frame may use) hold ${this.heldBytes}; frame dropped`);
        return DROPPED;
      }
      for (let got = 0; got < need; n++) got += this.usable[(this.heldStart + n) % this.pool.length]!;
    }
    // Header (in the first buffer only), then the frame across the n buffers.
    this.hdr.fill(0);
    if (d.guestCsum) this.hdr[HDR_FLAGS] = HDR_F_DATA_VALID;
    this.hdrView.setUint16(HDR_NUM_BUFFERS, n, true);
    let ok = true;
    let done = 0;
    let pushed = false;
    for (let k = 0; k < n; k++) {
      const slot = (this.heldStart + k) % this.pool.length;
      const chain = this.pool[slot]!;
      let at = 0;
      if (k === 0) {
        ok = ok && writeToChain(d.dma, chain, 0, this.hdr, 0, NET_HDR_SIZE, 'virtio-net.hdr');
        at = NET_HDR_SIZE;
      }
      const m = Math.min(this.usable[slot]! - at, len - done);
      ok = ok && writeToChain(d.dma, chain, at, buf, off + done, m, 'data');
      done += m;
      if (d.t.pushUsed(RX_QUEUE, chain.head, ok ? at + m : 0)) pushed = true;
      this.heldBytes -= this.usable[slot]!;
    }
    this.heldStart = (this.heldStart + n) % this.pool.length;
    this.heldCount -= n;
    if (pushed) d.t.signalQueue(RX_QUEUE);
    if (!ok) {
      c.rxErrors++;
      return DROPPED;
    }
    c.rxFrames++;
    c.rxBytes += len;
    if (n > 1) c.rxMerged++;
    this.dropStreak = 0;
    this.dropSince = -1;
    return DELIVERED;
  }
}
