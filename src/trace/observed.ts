import type { LogLevel, ProcEvent, Tracer } from '../sim/tracer.js';

export interface GuestErrorRecord {
  time: number;
  dev: number;
  code: string;
  message: string;
}

/**
 * Forwards to the recorder (or the null tracer) and keeps the counts a run
 * summary needs even when recording is off: guest errors (the first 200
 * kept in full), MSI and INTx edges, 802.11 and Ethernet frames sent and
 * received, display frames scanned out.
 */
export class ObservedTracer implements Tracer {
  readonly enabled: boolean;
  guestErrorCount = 0;
  readonly guestErrors: GuestErrorRecord[] = [];
  msiCount = 0;
  intxEdges = 0;
  /** 802.11 frames sent and received by radio devices. */
  airTx = 0;
  airRx = 0;
  /** Ethernet frames sent and received by NICs. */
  ethTx = 0;
  ethRx = 0;
  /** Frames scanned out by display pipes. */
  frames = 0;
  /** Events emitted so far: the next event's sequence number. */
  count = 0;

  constructor(readonly inner: Tracer) {
    this.enabled = inner.enabled;
  }

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    this.count++;
    this.inner.mmio(write, time, core, dev, bar, offset, size, value);
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    this.count++;
    this.inner.pio(write, time, core, dev, port, size, value);
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    this.count++;
    this.inner.cfg(write, time, core, dev, offset, size, value);
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    this.count++;
    this.inner.dma(write, time, dev, addr, data, offset, length, tag, image, imageOffset);
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    this.count++;
    if (level) this.intxEdges++;
    this.inner.intx(time, dev, gsi, level);
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    this.count++;
    this.msiCount++;
    this.inner.msi(time, dev, addr, data, core, vector);
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    this.count++;
    this.inner.schemeReq(time, pid, scheme, op, reqId, a, b);
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    this.count++;
    this.inner.schemeReply(time, pid, scheme, reqId, result);
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    this.count++;
    this.inner.milestone(time, dev, name, a, b);
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    this.count++;
    this.inner.log(time, pid, level, text);
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    this.count++;
    this.guestErrorCount++;
    if (this.guestErrors.length < 200) this.guestErrors.push({ time, dev, code, message });
    this.inner.guestErr(time, dev, code, message);
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    this.count++;
    this.inner.proc(time, pid, event, name, detail);
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    this.count++;
    if (tx) this.airTx++;
    else this.airRx++;
    this.inner.air(time, dev, tx, channel, signal, rate, data, offset, length);
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    this.count++;
    if (tx) this.ethTx++;
    else this.ethRx++;
    this.inner.eth(time, dev, tx, port, data, offset, length);
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    this.count++;
    this.frames++;
    this.inner.frame(time, dev, pipe, seq, width, height, format, data, offset, length);
  }
}
