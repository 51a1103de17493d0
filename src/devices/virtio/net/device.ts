/**
 * virtio-net (virtio 1.2 5.1) on the virtio PCI transport, plugged into the
 * simulated Ethernet (src/net): one receive queue (0), one transmit queue
 * (1) and, when offered, the control queue (2). The work is split into
 * ./tx.ts (transmitq: header checks, checksum offload, the frame onto the
 * link, completion when it has left the wire), ./rx.ts (receiveq: frames
 * from the link into posted buffers, MRG_RXBUF, drops) and ./ctrl.ts
 * (controlq: RX mode and MAC filter commands, the receive filter).
 *
 * Configuration (5.1.4): mac, status (LINK_UP follows the link's carrier;
 * a change moves config_generation and sends the configuration change
 * interrupt when STATUS was negotiated), max_virtqueue_pairs 1, mtu, speed
 * (the link's Mb/s) and duplex (full), all read-only.
 *
 * DMA tags: "virtio-net.hdr" (virtio_net_hdr, both directions), "data"
 * (frame bytes), "virtio-net.ctrl" (control command class, command and
 * data), "virtio-net.ack" (control ack byte), plus the ring tags of
 * ../virtqueue.ts. Milestones: "net.link" (a0 1 up / 0 down),
 * "net.rx-no-buffers" (first drop of a run of drops for want of RX buffers).
 */
import { FNV_OFFSET, fnvArray, fnvNumber } from '../../../sim/hash.js';
import type { DmaPort } from '../../../sim/dma.js';
import type { EventQueue } from '../../../sim/event-queue.js';
import type { Tracer } from '../../../sim/tracer.js';
import type { AttachedNetwork } from '../../../net/attach.js';
import type { DeviceContext, DeviceModel } from '../../device.js';
import { VirtioPciTransport, type VirtioBackend } from '../transport/pci-transport.js';
import { NetCtrl } from './ctrl.js';
import type { VirtioNetGuestErrorCode } from './guest-errors.js';
import {
  CFG_DUPLEX, CFG_MAC, CFG_MAX_VIRTQUEUE_PAIRS, CFG_MTU, CFG_SPEED, CFG_STATUS, CTRL_QUEUE, DUPLEX_FULL, DUPLEX_UNKNOWN,
  NET_CLASS_CODE, NET_CONFIG_SIZE, NET_F_CSUM, NET_F_CTRL_MAC_ADDR, NET_F_CTRL_RX, NET_F_CTRL_VQ, NET_F_GUEST_CSUM,
  NET_F_MAC, NET_F_MRG_RXBUF, NET_F_MTU, NET_F_SPEED_DUPLEX, NET_F_STATUS, NET_S_LINK_UP, RX_QUEUE, SPEED_UNKNOWN,
  TX_QUEUE, VIRTIO_ID_NET,
} from './regs.js';
import { NetRx } from './rx.js';
import { netStall } from './stall.js';
import { NetTx } from './tx.js';

/** Resolved configuration (index.ts turns props into this). */
export interface VirtioNetConfig {
  /** The 6-byte MAC address in config.mac. */
  mac: Uint8Array;
  /** config.mtu: largest IP packet; frames up to mtu + 14 (+ 4 with a VLAN tag). */
  mtu: number;
  queueSize: number;
  msixVectors: number;
  mrgRxbuf: boolean;
  csum: boolean;
  guestCsum: boolean;
  ctrlVq: boolean;
  indirectDesc: boolean;
  eventIdx: boolean;
  /** Frames the device holds when no RX buffer is posted (0: drop at once). */
  rxFifoFrames: number;
  /** Most receive buffers one frame may span with MRG_RXBUF. */
  rxMaxBuffers: number;
}

export interface VirtioNetCounters {
  txFrames: number;
  txBytes: number;
  /** TX chains completed without sending (bad header, size, checksum range, refused DMA). */
  txErrors: number;
  /** Frames the link dropped at once (carrier down or no cable). */
  txDroppedLinkDown: number;
  /** Frames whose checksum the device computed (NEEDS_CSUM). */
  txCsumOffload: number;
  rxFrames: number;
  rxBytes: number;
  /** Frames dropped because no RX buffer was posted (the FIFO, if any, full). */
  rxDropped: number;
  /** Frames that arrived before DRIVER_OK / with the receive queue disabled or broken. */
  rxDroppedNotReady: number;
  /** Frames longer than mtu + 14 (+ 4 tagged) with VIRTIO_NET_F_MTU negotiated (5.1.6.3.2), dropped. */
  rxDroppedOversize: number;
  /** Frames refused by the receive filter (control queue RX mode / MAC table). */
  rxFiltered: number;
  /** Frames dropped because the posted buffers were too small (a guest error). */
  rxErrors: number;
  /** Frames spread over more than one buffer (num_buffers > 1). */
  rxMerged: number;
  /** Frames that waited in the device's RX FIFO for a buffer. */
  rxQueued: number;
  ctrlCommands: number;
  ctrlErrors: number;
  linkChanges: number;
  guestErrors: number;
}

export class VirtioNet implements DeviceModel, VirtioBackend {
  readonly type = 'virtio-net';
  readonly name: string;
  readonly dev: number;
  readonly queue: EventQueue;
  readonly tracer: Tracer;
  readonly t: VirtioPciTransport;
  readonly dma: DmaPort;
  readonly config = new Uint8Array(NET_CONFIG_SIZE);
  private readonly configView = new DataView(this.config.buffer);
  readonly counters: VirtioNetCounters = {
    txFrames: 0, txBytes: 0, txErrors: 0, txDroppedLinkDown: 0, txCsumOffload: 0, rxFrames: 0, rxBytes: 0, rxDropped: 0,
    rxDroppedNotReady: 0, rxDroppedOversize: 0, rxFiltered: 0, rxErrors: 0, rxMerged: 0, rxQueued: 0, ctrlCommands: 0, ctrlErrors: 0,
    linkChanges: 0, guestErrors: 0,
  };
  /** The current MAC (config.mac; VIRTIO_NET_CTRL_MAC_ADDR_SET changes it until reset). */
  readonly mac = new Uint8Array(6);
  /** Largest frame the device handles in either direction (bytes, without FCS). */
  readonly maxFrame: number;
  /** Carrier state as the device last saw it, and when it last changed (ps). */
  linkUp: boolean;
  linkChangedAt = 0;
  readonly tx: NetTx;
  readonly rx: NetRx;
  readonly ctrl: NetCtrl;

  constructor(ctx: DeviceContext, readonly cfg: VirtioNetConfig, readonly net: AttachedNetwork | undefined) {
    this.name = ctx.id;
    this.dev = ctx.index;
    this.queue = ctx.queue;
    this.tracer = ctx.tracer;
    this.mac.set(cfg.mac);
    this.maxFrame = Math.max(cfg.mtu, net?.port.mtu ?? 0) + 18;
    this.linkUp = net?.port.linkUp ?? false;

    const features: number[] = [NET_F_MAC, NET_F_STATUS, NET_F_MTU, NET_F_SPEED_DUPLEX];
    if (cfg.mrgRxbuf) features.push(NET_F_MRG_RXBUF);
    if (cfg.csum) features.push(NET_F_CSUM);
    if (cfg.guestCsum) features.push(NET_F_GUEST_CSUM);
    if (cfg.ctrlVq) features.push(NET_F_CTRL_VQ, NET_F_CTRL_RX, NET_F_CTRL_MAC_ADDR);
    this.buildConfig();
    this.t = new VirtioPciTransport(ctx, {
      deviceType: VIRTIO_ID_NET,
      classCode: NET_CLASS_CODE,
      deviceFeatures: features,
      indirectDesc: cfg.indirectDesc,
      eventIdx: cfg.eventIdx,
      ringReset: true,
      numQueues: cfg.ctrlVq ? 3 : 2,
      queueSizeMax: cfg.queueSize,
      msixVectors: cfg.msixVectors,
      deviceCfgSize: NET_CONFIG_SIZE,
    }, this);
    this.dma = this.t.dma;
    this.tx = new NetTx(this, ctx);
    this.rx = new NetRx(this);
    this.ctrl = new NetCtrl(this);
    if (net !== undefined) {
      net.port.onReceive((frame) => this.rx.receive(frame, 0, frame.length));
      net.port.onLinkChange((up) => this.setLink(up));
    }
  }

  /** Configuration space (5.1.4), little-endian. */
  private buildConfig(): void {
    const v = this.configView;
    this.config.set(this.mac, CFG_MAC);
    v.setUint16(CFG_STATUS, this.linkUp ? NET_S_LINK_UP : 0, true);
    v.setUint16(CFG_MAX_VIRTQUEUE_PAIRS, 1, true);
    v.setUint16(CFG_MTU, this.cfg.mtu, true);
    v.setUint32(CFG_SPEED, this.net === undefined ? SPEED_UNKNOWN : this.net.link.params.bandwidthMbps, true);
    v.setUint8(CFG_DUPLEX, this.net === undefined ? DUPLEX_UNKNOWN : DUPLEX_FULL);
  }

  /** The carrier changed: config status LINK_UP, and the configuration change interrupt (5.1.4.2). */
  private setLink(up: boolean): void {
    if (up === this.linkUp) return;
    this.linkUp = up;
    this.linkChangedAt = this.queue.now;
    this.counters.linkChanges++;
    this.configView.setUint16(CFG_STATUS, up ? NET_S_LINK_UP : 0, true);
    this.tracer.milestone(this.queue.now, this.dev, 'net.link', up ? 1 : 0, 0);
    if (this.t.has(NET_F_STATUS)) this.t.configChanged();
  }

  /** Sets the MAC (config.mac) as VIRTIO_NET_CTRL_MAC_ADDR_SET does. */
  setMac(src: Uint8Array, off: number): void {
    for (let i = 0; i < 6; i++) this.mac[i] = src[off + i]!;
    this.config.set(this.mac, CFG_MAC);
  }

  err(code: VirtioNetGuestErrorCode, message: string): void {
    this.counters.guestErrors++;
    this.t.recordErr(code, message);
  }

  /** The receive queue is usable: DRIVER_OK, no reset needed, queue 0 enabled and not broken. */
  get rxReady(): boolean {
    const vq = this.t.queue(RX_QUEUE);
    return this.t.live && vq.enabled && !vq.broken;
  }

  // ---------------------------------------------------------------- VirtioBackend

  writeConfig(): boolean {
    return false; // every field is read-only with VERSION_1 (5.1.4.2)
  }

  checkFeatures(): string | undefined {
    const t = this.t;
    if (t.driverAccepts(NET_F_CTRL_RX) && !t.driverAccepts(NET_F_CTRL_VQ)) return 'VIRTIO_NET_F_CTRL_RX accepted without VIRTIO_NET_F_CTRL_VQ (5.1.3.1)';
    if (t.driverAccepts(NET_F_CTRL_MAC_ADDR) && !t.driverAccepts(NET_F_CTRL_VQ)) return 'VIRTIO_NET_F_CTRL_MAC_ADDR accepted without VIRTIO_NET_F_CTRL_VQ (5.1.3.1)';
    return undefined;
  }

  queueNotified(q: number): void {
    if (q === RX_QUEUE) this.rx.notified();
    else if (q === TX_QUEUE) this.tx.notified();
    else if (q === CTRL_QUEUE) this.ctrl.notified();
  }

  reset(): void {
    this.tx.reset();
    this.rx.reset();
    this.ctrl.reset();
    this.mac.set(this.cfg.mac);
    this.config.set(this.mac, CFG_MAC);
  }

  queueReset(q: number): void {
    if (q === RX_QUEUE) this.rx.reset();
    else if (q === TX_QUEUE) this.tx.reset();
  }

  // ---------------------------------------------------------------- DeviceModel

  quiesce(): void {
    this.t.reset();
  }

  stats(): Record<string, number> {
    const t = this.t.counters;
    return {
      ...this.counters, notifies: t.notifies, interrupts: t.interrupts, suppressedInterrupts: t.suppressed,
      configInterrupts: t.configInterrupts, resets: t.resets, ...(this.net?.stats() ?? {}),
    };
  }

  stateHash(): number {
    let h = this.t.stateHash(FNV_OFFSET);
    h = fnvArray(h, this.mac);
    const c = this.counters;
    for (const v of [this.linkUp ? 1 : 0, c.txFrames, c.txBytes, c.txErrors, c.rxFrames, c.rxBytes, c.rxDropped, c.rxErrors,
      c.ctrlCommands, this.tx.inFlight, this.rx.held, this.rx.queued, this.ctrl.promisc ? 1 : 0, this.ctrl.allmulti ? 1 : 0]) {
      h = fnvNumber(h, v);
    }
    return h >>> 0;
  }

  stall(now: number): string[] {
    return netStall(this, now);
  }

  /** Largest frame received: with MTU negotiated mtu + 14 (+ 4 with a VLAN tag), else anything the link carries. */
  rxFrameLimit(buf: Uint8Array, off: number): number {
    if (!this.t.has(NET_F_MTU)) return this.maxFrame;
    const vlan = buf[off + 12] === 0x81 && buf[off + 13] === 0x00;
    return this.cfg.mtu + 14 + (vlan ? 4 : 0);
  }

  /** Negotiated flags the data paths ask per frame. */
  get guestCsum(): boolean {
    return this.t.has(NET_F_GUEST_CSUM);
  }

  get mergeable(): boolean {
    return this.t.has(NET_F_MRG_RXBUF);
  }

  get txCsum(): boolean {
    return this.t.has(NET_F_CSUM);
  }
}
