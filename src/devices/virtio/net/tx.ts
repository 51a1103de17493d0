/**
 * virtio-net transmit path (virtio 1.2 5.1.6.2): each chain popped from
 * transmitq is a virtio_net_hdr followed by one Ethernet frame. The header
 * is checked (gso_type NONE only: no GSO feature is offered; flags
 * NEEDS_CSUM only), the frame gathered into a preallocated buffer, its
 * checksum completed when NEEDS_CSUM asks, and it is handed to the link
 * (which copies it and traces it as an `eth` tx record).
 *
 * Timing: the device sends frames in order at the link's rate; a chain is
 * returned (used length 0) when its frame's last bit has left the wire,
 * computed with the link's own serialization rule (src/net/link.ts: wire
 * bytes incl. preamble, padding and FCS at bandwidthMbps, 12-byte gap
 * between frames). A frame refused at once (carrier down, no cable) or a
 * bad request completes at once. Completions due at the same time go on
 * the used ring together, with one interrupt.
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import type { SimTime } from '../../../sim/time.js';
import { IFG_LEN, bytesTimePs, serializationPs } from '../../../net/link.js';
import type { DeviceContext } from '../../device.js';
import { readFromChain } from '../chain-io.js';
import { DescChain, POP_ERROR, POP_OK } from '../virtqueue.js';
import { applyTxChecksum, csumRangeProblem } from './csum.js';
import type { VirtioNet } from './device.js';
import {
  GSO_NONE, HDR_CSUM_OFFSET, HDR_CSUM_START, HDR_F_NEEDS_CSUM, HDR_FLAGS, HDR_GSO_TYPE, NET_HDR_SIZE, TX_QUEUE,
  gsoTypeName, hdrFlagNames,
} from './regs.js';

const EV_TX_DONE = 1;
const ETH_HLEN = 14;
const VLAN_TPID = 0x8100;
const VLAN_HLEN = 4;

export class NetTx {
  private readonly chain: DescChain;
  private readonly hdr = new Uint8Array(NET_HDR_SIZE);
  private readonly hdrView = new DataView(this.hdr.buffer);
  private readonly frame: Uint8Array;
  // Chains waiting for their frame to leave the wire: a FIFO ring of (head, done time).
  private readonly fifoHead: Uint16Array;
  private readonly fifoDone: Float64Array;
  private fifoStart = 0;
  private fifoCount = 0;
  private ev = NO_EVENT;
  private readonly target: number;
  /** When the wire (guest to peer) is free for the next frame, ps; survives resets (it is the cable). */
  private wireFreeAt = 0;
  private readonly gapPs: number;
  private readonly mbps: number;

  constructor(private readonly d: VirtioNet, ctx: DeviceContext) {
    const size = d.cfg.queueSize;
    this.chain = new DescChain(Math.max(2, size));
    this.frame = new Uint8Array(d.maxFrame);
    this.fifoHead = new Uint16Array(size);
    this.fifoDone = new Float64Array(size);
    this.mbps = d.net?.link.params.bandwidthMbps ?? 1000;
    this.gapPs = bytesTimePs(IFG_LEN, this.mbps);
    this.target = ctx.queue.register(`${ctx.id}.tx`, (kind) => {
      if (kind === EV_TX_DONE) this.done();
    });
  }

  /** Chains popped and not yet returned. */
  get inFlight(): number {
    return this.fifoCount;
  }

  /** Time the oldest chain in flight was due, for stall diagnosis (-1 if none). */
  get oldestDue(): number {
    return this.fifoCount === 0 ? -1 : this.fifoDone[this.fifoStart]!;
  }

  reset(): void {
    this.d.queue.cancel(this.ev);
    this.ev = NO_EVENT;
    this.fifoStart = 0;
    this.fifoCount = 0;
  }

  /** transmitq notified: send every available chain. */
  notified(): void {
    const vq = this.d.t.queue(TX_QUEUE);
    for (;;) {
      const r = vq.pop(this.chain);
      if (r === POP_ERROR) return;
      if (r !== POP_OK) break;
      this.push(this.chain.head, this.send());
    }
    vq.publishAvailEvent();
  }

  /** Checks and sends the popped chain; returns when its chain is to be completed (ps). */
  private send(): number {
    const d = this.d;
    const c = this.chain;
    const now = d.queue.now;
    const what = `TX chain (head ${c.head})`;
    if (c.writableBytes > 0) d.err('virtio.net.tx-writable', `${what} has ${c.writableBytes} device-writable bytes; ignored`);
    if (c.readableBytes < NET_HDR_SIZE) {
      d.err('virtio.net.tx-header', `${what}: ${c.readableBytes} device-readable bytes, the virtio_net_hdr needs ${NET_HDR_SIZE}`);
      return this.failed(now);
    }
    if (!readFromChain(d.dma, c, 0, this.hdr, 0, NET_HDR_SIZE, 'virtio-net.hdr')) return this.failed(now);
    const flags = this.hdr[HDR_FLAGS]!;
    const gso = this.hdr[HDR_GSO_TYPE]!;
    const len = c.readableBytes - NET_HDR_SIZE;
    if (gso !== GSO_NONE) {
      d.err('virtio.net.tx-gso', `${what}: gso_type ${gsoTypeName(gso)}: no GSO feature is offered, only NONE`);
      return this.failed(now);
    }
    if (len < ETH_HLEN || len > this.frame.length) {
      d.err('virtio.net.tx-size', `${what}: a ${len}-byte frame (${ETH_HLEN}..${d.cfg.mtu + ETH_HLEN} bytes, mtu ${d.cfg.mtu})`);
      return this.failed(now);
    }
    if (!readFromChain(d.dma, c, NET_HDR_SIZE, this.frame, 0, len, 'data')) return this.failed(now);
    const vlan = ((this.frame[12]! << 8) | this.frame[13]!) === VLAN_TPID;
    const limit = d.cfg.mtu + ETH_HLEN + (vlan ? VLAN_HLEN : 0);
    if (len > limit) {
      d.err('virtio.net.tx-size', `${what}: a ${len}-byte frame is longer than mtu ${d.cfg.mtu} + ${limit - d.cfg.mtu}`);
      return this.failed(now);
    }
    if ((flags & ~HDR_F_NEEDS_CSUM) !== 0) d.err('virtio.net.tx-flags', `${what}: flags ${hdrFlagNames(flags)}: only NEEDS_CSUM is for transmitted packets; ignored`);
    if ((flags & HDR_F_NEEDS_CSUM) !== 0) {
      const start = this.hdrView.getUint16(HDR_CSUM_START, true);
      const offset = this.hdrView.getUint16(HDR_CSUM_OFFSET, true);
      if (!d.txCsum) {
        d.err('virtio.net.tx-csum', `${what}: NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated; sent as is`);
      } else {
        const problem = csumRangeProblem(len, start, offset);
        if (problem !== undefined) {
          d.err('virtio.net.tx-csum', `${what}: ${problem}`);
          return this.failed(now);
        }
        applyTxChecksum(this.frame, len, start, offset);
        d.counters.txCsumOffload++;
      }
    }
    const port = d.net?.port;
    if (port === undefined || !port.transmit(this.frame, 0, len)) {
      d.counters.txDroppedLinkDown++;
      return now;
    }
    d.counters.txFrames++;
    d.counters.txBytes += len;
    const start = Math.max(now, this.wireFreeAt);
    const end = start + serializationPs(len, this.mbps);
    this.wireFreeAt = end + this.gapPs;
    return end;
  }

  private failed(now: number): number {
    this.d.counters.txErrors++;
    return now;
  }

  private push(head: number, due: number): void {
    const n = this.fifoHead.length;
    // Completions stay in order: a chain never overtakes an earlier one.
    const last = this.fifoCount === 0 ? 0 : this.fifoDone[(this.fifoStart + this.fifoCount - 1) % n]!;
    const i = (this.fifoStart + this.fifoCount) % n;
    this.fifoHead[i] = head;
    this.fifoDone[i] = Math.max(due, last);
    this.fifoCount++;
    if (this.ev === NO_EVENT) this.ev = this.d.queue.scheduleAt(this.fifoDone[i]! as SimTime, this.target, EV_TX_DONE, 0);
  }

  /** Returns every chain whose frame has left the wire; one interrupt for the batch. */
  private done(): void {
    this.ev = NO_EVENT;
    const d = this.d;
    const now = d.queue.now;
    const n = this.fifoHead.length;
    let any = false;
    while (this.fifoCount > 0 && this.fifoDone[this.fifoStart]! <= now) {
      if (d.t.pushUsed(TX_QUEUE, this.fifoHead[this.fifoStart]!, 0)) any = true;
      this.fifoStart = (this.fifoStart + 1) % n;
      this.fifoCount--;
    }
    if (any) d.t.signalQueue(TX_QUEUE);
    if (this.fifoCount > 0) this.ev = d.queue.scheduleAt(this.fifoDone[this.fifoStart]! as SimTime, this.target, EV_TX_DONE, 0);
  }
}
