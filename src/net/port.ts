/**
 * The interface between a NIC device model (or the simulated peer host) and
 * the Ethernet link it is plugged into. A port is one end of a link
 * (./link.ts); the NIC owns nothing of the wire.
 *
 * Contract:
 * - `transmit(frame)` puts one Ethernet frame (destination MAC first, no
 *   preamble, no FCS; shorter than 60 bytes is fine, the wire pads) on the
 *   link *now* (the simulator's current time, `queue.now`). The link copies
 *   the bytes at once, so the caller may reuse its buffer (a DMA scratch
 *   buffer, say) as soon as the call returns. It returns false when the
 *   frame was dropped on the spot: the link is down, or the frame is a runt
 *   (< 14 bytes) or longer than the link's MTU allows. Frames queue behind
 *   each other on the wire; nothing is ever refused for being busy.
 * - `onReceive(handler)` sets the one function called when a frame arrives
 *   at this end, from an event-queue event at the arrival time. The frame
 *   is a view into the link's storage, valid only during the call: copy it
 *   (or DMA it to guest memory) before returning. Setting a new handler
 *   replaces the old one; until one is set, arriving frames are counted as
 *   dropped.
 * - `linkUp` is the carrier state now; `onLinkChange(handler)` sets the
 *   function called (from an event at the change time) when the carrier goes
 *   down or up, e.g. to update a virtio-net status field and raise a config
 *   interrupt. Frames in flight when the link goes down are lost.
 * - Handlers run inside event dispatch: they may schedule events, transmit,
 *   raise interrupts; they must not throw.
 */

/** Called for each frame arriving at a port, at simulated time `time` (ps). */
export type ReceiveHandler = (frame: Uint8Array, time: number) => void;
/** Called when the carrier changes, at simulated time `time` (ps). */
export type LinkChangeHandler = (up: boolean, time: number) => void;

export interface EthernetPort {
  /** "guest" or "peer": which end of the link this is. */
  readonly side: PortSide;
  /** Sends a frame now; false if it was dropped at once (link down, runt, over the MTU). */
  transmit(frame: Uint8Array, offset?: number, length?: number): boolean;
  /** Sets the receive handler (replacing any earlier one). */
  onReceive(handler: ReceiveHandler): void;
  /** Carrier state now. */
  readonly linkUp: boolean;
  /** Sets the carrier-change handler (replacing any earlier one). */
  onLinkChange(handler: LinkChangeHandler): void;
  /** The link's MTU (largest IP packet; a frame may carry MTU + 14 bytes, + 4 with a VLAN tag). */
  readonly mtu: number;
  /** Counters of this end: frames and bytes sent and received, and why frames were dropped. */
  readonly counters: Readonly<PortCounters>;
}

export type PortSide = 'guest' | 'peer';

export interface PortCounters {
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
  /** Sent while the link was down. */
  txDroppedLinkDown: number;
  /** Sent shorter than an Ethernet header or longer than MTU + header (+ VLAN tag). */
  txDroppedSize: number;
  /** Sent, then lost by the link's seeded loss (`lossPct`). */
  lostOnWire: number;
  /** Sent, then lost because the link went down while it was in flight. */
  lostLinkDown: number;
  /** Duplicated by the link's seeded duplication (`duplicatePct`); the copy counts in the receiver's rxFrames. */
  duplicated: number;
  /** Arrived while no receive handler was set. */
  rxNoHandler: number;
}

export function zeroCounters(): PortCounters {
  return {
    txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, txDroppedLinkDown: 0, txDroppedSize: 0,
    lostOnWire: 0, lostLinkDown: 0, duplicated: 0, rxNoHandler: 0,
  };
}
