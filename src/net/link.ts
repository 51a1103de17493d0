/**
 * A point-to-point Ethernet link between a guest NIC and a peer, on the
 * simulator's event queue. Deterministic: times are integer picoseconds, the
 * only randomness (optional loss and duplication) comes from the seeded
 * stream the link is given, drawn in transmit order, and only when the
 * corresponding percentage is above 0.
 *
 * Timing of a frame of L bytes (without FCS) sent at time t in one direction:
 *
 *   on the wire   W = 8 (preamble + SFD) + max(L, 60) + 4 (FCS) bytes
 *   start         s = max(t, when the previous frame in this direction left the wire)
 *   serialization S = ceil(W * 8 * 10^6 / bandwidthMbps) ps
 *   arrival       s + S + delay   (the receiver gets it when its last bit is in)
 *   wire free at  s + S + G, G = ceil(12 * 8 * 10^6 / bandwidthMbps) ps (the inter-frame gap)
 *
 * So a 60-byte frame at 1 Gb/s takes 576 ns, and a back-to-back one may start
 * 96 ns after it ends. Frames queue behind each other without limit (the
 * sender's transmit queue is not modelled as finite); each direction is
 * independent (full duplex). Arrivals in one direction are in send order.
 *
 * Faults: a frame is lost on the wire with probability lossPct/100 (it still
 * occupies the wire), and duplicated with probability duplicatePct/100 (the
 * copy follows it back to back, occupying the wire again). When the link goes
 * down every frame in flight is lost, and frames sent while it is down are
 * dropped at once.
 *
 * Tracing: every frame the guest end transmits is traced (`eth`, tx) at the
 * transmit time, whatever then happens to it; every frame delivered to the
 * guest end is traced (`eth`, rx) at its arrival time. The peer's side is not
 * traced: the trace is what the guest's NIC put on and took off the wire.
 *
 * Allocation: one copy of each frame at transmit; scheduling allocates
 * nothing per frame (events are (target, kind, a0) numbers; frames in flight
 * wait in a per-direction FIFO, arrivals being in order).
 */
import type { EventQueue } from '../sim/event-queue.js';
import type { SimTime } from '../sim/time.js';
import type { Rng } from '../sim/rng.js';
import type { Tracer } from '../sim/tracer.js';
import type { EthernetPort, LinkChangeHandler, PortCounters, PortSide, ReceiveHandler } from './port.js';
import { zeroCounters } from './port.js';
import { ETH_FCS_LEN, ETH_HEADER_LEN, ETH_MIN_FRAME, ETH_VLAN_TAG_LEN } from './proto/ethernet.js';

/** Preamble and start-of-frame delimiter, bytes. */
export const PREAMBLE_LEN = 8;
/** Inter-frame gap, bytes. */
export const IFG_LEN = 12;

export interface LinkParams {
  /** One-way propagation delay, ps. */
  delayPs: number;
  /** Bit rate in Mb/s (1000 = 1 Gb/s). */
  bandwidthMbps: number;
  /** Largest IP packet (bytes); frames may be MTU + 14 (+ 4 with a VLAN tag). */
  mtu: number;
  /** Percent of frames lost on the wire (0-100). */
  lossPct: number;
  /** Percent of frames duplicated (0-100). */
  duplicatePct: number;
}

export interface LinkContext {
  queue: EventQueue;
  tracer: Tracer;
  /** Trace device index of the guest NIC (the `dev` of its `eth` records). */
  dev: number;
  /** Port number in the `eth` records (a NIC with several ports; default 0). */
  tracePort?: number;
  /** Stream for loss and duplication decisions (fork it per link, e.g. rng.fork("link")). */
  rng: Rng;
  /** Event target name (default "eth-link"). */
  name?: string;
}

/** Bytes a frame of `len` bytes (without FCS) occupies on the wire, without the gap. */
export function wireBytes(len: number): number {
  return PREAMBLE_LEN + Math.max(len, ETH_MIN_FRAME) + ETH_FCS_LEN;
}

/** Time in ps to send `bytes` at `mbps` Mb/s, rounded up to a whole ps. */
export function bytesTimePs(bytes: number, mbps: number): number {
  return Math.ceil((bytes * 8 * 1_000_000) / mbps);
}

/** Serialization time in ps of a frame of `len` bytes (without FCS): preamble, padded frame and FCS. */
export function serializationPs(len: number, mbps: number): number {
  return bytesTimePs(wireBytes(len), mbps);
}

const GUEST_TO_PEER = 0;
const PEER_TO_GUEST = 1;
const EV_ARRIVE = 0; // a0 = direction
const EV_LINK = 1; // a0 = 1 up, 0 down

/** Frames in flight in one direction, in arrival order (a FIFO over a growable array). */
class Flight {
  frames: (Uint8Array | undefined)[] = [];
  /** Link generation when sent (a frame sent before the link last went down is lost). */
  gens: number[] = [];
  lost: boolean[] = [];
  head = 0;
  /** When the wire is free for the next frame, ps. */
  freeAt = 0;
  push(f: Uint8Array, gen: number, lost: boolean): void {
    this.frames.push(f);
    this.gens.push(gen);
    this.lost.push(lost);
  }
  get size(): number {
    return this.frames.length - this.head;
  }
  shift(): void {
    this.frames[this.head] = undefined;
    this.head++;
    if (this.head === this.frames.length) {
      this.frames.length = 0;
      this.gens.length = 0;
      this.lost.length = 0;
      this.head = 0;
    }
  }
}

class LinkEnd implements EthernetPort {
  rx: ReceiveHandler | undefined;
  change: LinkChangeHandler | undefined;
  readonly counters: PortCounters = zeroCounters();
  constructor(readonly side: PortSide, private readonly link: EthernetLink) {}
  transmit(frame: Uint8Array, offset = 0, length = frame.length - offset): boolean {
    return this.link.send(this, frame, offset, length);
  }
  onReceive(handler: ReceiveHandler): void {
    this.rx = handler;
  }
  onLinkChange(handler: LinkChangeHandler): void {
    this.change = handler;
  }
  get linkUp(): boolean {
    return this.link.up;
  }
  get mtu(): number {
    return this.link.params.mtu;
  }
}

export class EthernetLink {
  readonly guest: EthernetPort;
  readonly peer: EthernetPort;
  /** Carrier state now. */
  up = true;
  private gen = 0;
  private readonly ends: [LinkEnd, LinkEnd];
  private readonly flights: [Flight, Flight] = [new Flight(), new Flight()];
  private readonly target: number;
  private readonly gapPs: number;
  private readonly lossP: number;
  private readonly dupP: number;
  private readonly tracePort: number;

  constructor(readonly params: LinkParams, private readonly ctx: LinkContext) {
    if (!(params.bandwidthMbps > 0) || !Number.isFinite(params.bandwidthMbps)) throw new RangeError(`link bandwidth must be positive, got ${params.bandwidthMbps}`);
    if (!(params.delayPs >= 0) || !Number.isSafeInteger(params.delayPs)) throw new RangeError(`link delay must be a whole number of ps >= 0, got ${params.delayPs}`);
    const g = new LinkEnd('guest', this);
    const p = new LinkEnd('peer', this);
    this.ends = [g, p];
    this.guest = g;
    this.peer = p;
    this.gapPs = bytesTimePs(IFG_LEN, params.bandwidthMbps);
    this.lossP = params.lossPct / 100;
    this.dupP = params.duplicatePct / 100;
    this.tracePort = ctx.tracePort ?? 0;
    this.target = ctx.queue.register(ctx.name ?? 'eth-link', (kind, a0) => {
      if (kind === EV_ARRIVE) this.arrive(a0);
      else this.setUp(a0 === 1);
    });
  }

  /** Frames in flight in both directions (sent, not yet arrived). */
  get inFlight(): number {
    return this.flights[0].size + this.flights[1].size;
  }

  /** Schedules the carrier to go down or up at `atPs` (at or after now). */
  scheduleLinkChange(atPs: number, up: boolean): void {
    this.ctx.queue.scheduleAt(atPs as SimTime, this.target, EV_LINK, up ? 1 : 0);
  }

  /** Sets the carrier now; a change is reported to both ends' handlers. Going down loses every frame in flight. */
  setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    const now = this.ctx.queue.now;
    if (!up) {
      this.gen++;
      // The frames in flight are lost (counted when their arrival events run); the wire is free.
      for (const f of this.flights) f.freeAt = Math.min(f.freeAt, now);
    }
    for (const e of this.ends) e.change?.(up, now);
  }

  /** @internal Called by a port's transmit. */
  send(from: LinkEnd, frame: Uint8Array, offset: number, length: number): boolean {
    const q = this.ctx.queue;
    const now = q.now;
    const c = from.counters;
    const fromGuest = from.side === 'guest';
    if (fromGuest) this.ctx.tracer.eth(now, this.ctx.dev, true, this.tracePort, frame, offset, length);
    if (!this.up) {
      c.txDroppedLinkDown++;
      return false;
    }
    if (length < ETH_HEADER_LEN || length > this.params.mtu + ETH_HEADER_LEN + ETH_VLAN_TAG_LEN) {
      c.txDroppedSize++;
      return false;
    }
    c.txFrames++;
    c.txBytes += length;
    const copy = frame.slice(offset, offset + length);
    const dir = fromGuest ? GUEST_TO_PEER : PEER_TO_GUEST;
    const flight = this.flights[dir];
    const lost = this.lossP > 0 && this.ctx.rng.chance(this.lossP);
    const dup = this.dupP > 0 && this.ctx.rng.chance(this.dupP);
    this.put(flight, dir, copy, lost, now);
    if (dup) {
      c.duplicated++;
      this.put(flight, dir, copy, lost, now);
    }
    return true;
  }

  private put(flight: Flight, dir: number, frame: Uint8Array, lost: boolean, now: number): void {
    const mbps = this.params.bandwidthMbps;
    const start = Math.max(now, flight.freeAt);
    const end = start + serializationPs(frame.length, mbps);
    flight.freeAt = end + this.gapPs;
    flight.push(frame, this.gen, lost);
    this.ctx.queue.scheduleAt((end + this.params.delayPs) as SimTime, this.target, EV_ARRIVE, dir);
  }

  private arrive(dir: number): void {
    const flight = this.flights[dir === GUEST_TO_PEER ? 0 : 1];
    if (flight.size === 0) return; // cannot happen: one event per frame
    const i = flight.head;
    const frame = flight.frames[i]!;
    const gen = flight.gens[i]!;
    const lost = flight.lost[i]!;
    flight.shift();
    const sender = this.ends[dir === GUEST_TO_PEER ? 0 : 1];
    const receiver = this.ends[dir === GUEST_TO_PEER ? 1 : 0];
    if (gen !== this.gen || !this.up) {
      sender.counters.lostLinkDown++;
      return;
    }
    if (lost) {
      sender.counters.lostOnWire++;
      return;
    }
    const now = this.ctx.queue.now;
    const rc = receiver.counters;
    if (receiver.side === 'guest') this.ctx.tracer.eth(now, this.ctx.dev, false, this.tracePort, frame, 0, frame.length);
    if (receiver.rx === undefined) {
      rc.rxNoHandler++;
      return;
    }
    rc.rxFrames++;
    rc.rxBytes += frame.length;
    receiver.rx(frame, now);
  }
}
