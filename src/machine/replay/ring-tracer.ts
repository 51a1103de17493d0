import type { SeqEvent } from '../../trace/reader.js';
import { NULL_TRACER, type LogLevel, type ProcEvent, type Tracer } from '../../sim/tracer.js';

/** What the trace-as-hardware engine asks of its tracer besides tracing: context for a divergence report. */
export interface ContextTracer extends Tracer {
  /** Events traced so far: the next event's sequence number. */
  readonly seq: number;
  /** The last event traced. */
  last(): SeqEvent | undefined;
  /** The events kept, oldest first. */
  snapshot(): SeqEvent[];
}

/** The last `cap` events pushed, oldest dropped first (none kept when `cap` is 0). */
export class EventRing {
  private readonly ring: (SeqEvent | undefined)[];
  private next = 0;

  constructor(private readonly cap: number) {
    this.ring = new Array<SeqEvent | undefined>(Math.max(1, cap)).fill(undefined);
  }

  push(e: SeqEvent): void {
    if (this.cap <= 0) return;
    this.ring[this.next] = e;
    this.next = this.next + 1 === this.ring.length ? 0 : this.next + 1;
  }

  /** Events in order, oldest first. */
  snapshot(): SeqEvent[] {
    const out: SeqEvent[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const e = this.ring[(this.next + i) % this.ring.length];
      if (e !== undefined) out.push(e);
    }
    return out;
  }

  last(): SeqEvent | undefined {
    return this.ring[(this.next - 1 + this.ring.length) % this.ring.length];
  }
}

/**
 * Keeps the last `cap` events of a run as decoded events (the "actual" side
 * of a divergence report) and forwards everything to `inner` (a recorder, if
 * the replay is itself recorded). Event objects are made per call: replay
 * reports need them, and the ring bounds what is kept.
 */
export class RingTracer implements ContextTracer {
  readonly enabled = true;
  private readonly ring: EventRing;
  seq = 0;

  constructor(cap: number, private readonly inner: Tracer = NULL_TRACER) {
    this.ring = new EventRing(Math.max(1, cap));
  }

  protected push(e: SeqEvent): void {
    this.ring.push(e);
  }

  /** Events in order, oldest first. */
  snapshot(): SeqEvent[] {
    return this.ring.snapshot();
  }

  last(): SeqEvent | undefined {
    return this.ring.last();
  }

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    this.push({ kind: 'mmio', write, time, core, dev, bar, offset, size, value, seq: this.seq++ });
    this.inner.mmio(write, time, core, dev, bar, offset, size, value);
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    this.push({ kind: 'pio', write, time, core, dev, port, size, value, seq: this.seq++ });
    this.inner.pio(write, time, core, dev, port, size, value);
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    this.push({ kind: 'cfg', write, time, core, dev, offset, size, value, seq: this.seq++ });
    this.inner.cfg(write, time, core, dev, offset, size, value);
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    // Commands and completions are copied (their buffers are reused at once); bulk data is referenced,
    // as copying every 4 KiB payload would dominate replay time (context shows only its first bytes).
    const bytes = length <= 64 ? data.slice(offset, offset + length) : data.subarray(offset, offset + length);
    this.push({ kind: 'dma', write, time, dev, addr, data: bytes, tag, seq: this.seq++ });
    this.inner.dma(write, time, dev, addr, data, offset, length, tag, image, imageOffset);
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    this.push({ kind: 'intx', time, dev, gsi, level, seq: this.seq++ });
    this.inner.intx(time, dev, gsi, level);
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    this.push({ kind: 'msi', time, dev, addr, data, core, vector, seq: this.seq++ });
    this.inner.msi(time, dev, addr, data, core, vector);
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    this.push({ kind: 'schemeReq', time, pid, scheme, op, reqId, a, b, seq: this.seq++ });
    this.inner.schemeReq(time, pid, scheme, op, reqId, a, b);
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    this.push({ kind: 'schemeReply', time, pid, scheme, reqId, result, seq: this.seq++ });
    this.inner.schemeReply(time, pid, scheme, reqId, result);
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    this.push({ kind: 'milestone', time, dev, name, a, b, seq: this.seq++ });
    this.inner.milestone(time, dev, name, a, b);
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    this.push({ kind: 'log', time, pid, level, text, seq: this.seq++ });
    this.inner.log(time, pid, level, text);
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    this.push({ kind: 'guestErr', time, dev, code, message, seq: this.seq++ });
    this.inner.guestErr(time, dev, code, message);
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    this.push({ kind: 'proc', time, pid, event, name, detail, seq: this.seq++ });
    this.inner.proc(time, pid, event, name, detail);
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    // Frames are copied: a radio model may reuse its frame buffer at once (they are at most a few KiB).
    this.push({ kind: 'air', time, dev, tx, channel, signal, rate, data: data.slice(offset, offset + length), seq: this.seq++ });
    this.inner.air(time, dev, tx, channel, signal, rate, data, offset, length);
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    // Copied for the same reason: a NIC model may reuse its frame buffer at once.
    this.push({ kind: 'eth', time, dev, tx, port, data: data.slice(offset, offset + length), seq: this.seq++ });
    this.inner.eth(time, dev, tx, port, data, offset, length);
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    // Copied too: a display model scans out into a buffer it reuses at the next vblank.
    this.push({ kind: 'frame', time, dev, pipe, counter: seq, width, height, format, data: data.slice(offset, offset + length), seq: this.seq++ });
    this.inner.frame(time, dev, pipe, seq, width, height, format, data, offset, length);
  }
}
