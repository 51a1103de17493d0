/**
 * What every component emits at the device boundary. Implemented by the
 * recorder (src/trace/recorder.ts), by `NULL_TRACER` when recording is off,
 * and by `MemoryTracer` in tests. Methods take numbers and short strings so a
 * call allocates nothing; the recorder interns strings.
 *
 * `time` is the global simulated time in ps (monotonic). `dev` is the device
 * index in the trace header's device table; `pid` a kernel process id.
 */
export interface Tracer {
  readonly enabled: boolean;
  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void;
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void;
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void;
  /**
   * A DMA transfer; `tag` says what the bytes are (a device-defined name such as "<type>.sqe", or "data").
   * `image` (with `imageOffset`): the bytes of this device-to-memory write are exactly the content of
   * the disk-image fixture `image` (its path as in the trace header's fixtures) at `imageOffset`, as the
   * file was when the run started; a recorder may store that reference instead of the bytes.
   */
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void;
  intx(time: number, dev: number, gsi: number, level: number): void;
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void;
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void;
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void;
  /** A device-internal step worth seeing ("reset", "ready", "sq.create", ...). */
  milestone(time: number, dev: number, name: string, a: number, b: number): void;
  log(time: number, pid: number, level: LogLevel, text: string): void;
  guestErr(time: number, dev: number, code: string, message: string): void;
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void;
  /**
   * An 802.11 frame on the air at a radio device (no FCS): `tx` = sent by the
   * device, else received by it. `channel` number, `signal` dBm, `rate` in
   * 500 kb/s units (radiotap). Exported by `simrun export --pcap`.
   */
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void;
  /**
   * An Ethernet frame (destination MAC first, no preamble or FCS) on the link
   * of a NIC: `tx` = sent by the device, else received by it. `port` numbers
   * the NIC's ports (0 for a single-port NIC). Exported by `simrun export --pcap`.
   */
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void;
  /**
   * A frame a display pipe scanned out, recorded at the vblank that starts
   * it: `pipe` 0 = A, `seq` the pipe's frame counter (PIPE_FRMCOUNT), the
   * pixels `width` x `height`, rows packed (no padding), 4 bytes a pixel in
   * the DRM fourcc `format` (XRGB8888: bytes B, G, R, X). The pixels are
   * content-addressed like DMA payloads, so an unchanged frame costs a
   * reference. Exported as PNG by `simrun export --frames`.
   */
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type ProcEvent = 'spawn' | 'exit' | 'crash' | 'kill';

/** Record kinds as stored in the file (first element of each record). */
export const Rec = {
  MmioRead: 1,
  MmioWrite: 2,
  PioRead: 3,
  PioWrite: 4,
  CfgRead: 5,
  CfgWrite: 6,
  DmaRead: 7,
  DmaWrite: 8,
  Intx: 9,
  Msi: 10,
  SchemeReq: 11,
  SchemeReply: 12,
  Milestone: 13,
  Log: 14,
  GuestErr: 15,
  Proc: 16,
  /** Defines a DMA payload blob: [Blob, id, bytes]. Precedes its first use. */
  Blob: 17,
  /** Defines an interned string: [Str, id, text]. Precedes its first use. */
  Str: 18,
  /** An 802.11 frame on the air: [Air, dt, dev, flags(bit0 tx), channel, signal, rate, blob]. */
  Air: 19,
  /** An Ethernet frame on a NIC's link: [Eth, dt, dev, flags(bit0 tx), port, payload]. Format version 4. */
  Eth: 20,
  /** A scanned-out display frame: [Frame, dt, dev, pipe, seq, width, height, format, pixels]. Format version 5. */
  Frame: 21,
  /**
   * A device-to-memory DMA write of unmodified disk-image bytes, by reference:
   * [DmaImage, dt, dev, addr, tag, fixture, imageOffset, length], `fixture` the
   * image's path as in the header's fixture list. Format version 6.
   */
  DmaImage: 22,
  /**
   * A small DMA payload as a word delta: [DmaDelta, dt, dev, addr, tag, flags
   * (bit 0 write), mask, words]: the stream's (device, tag, direction) last
   * payload in the chunk with the words whose mask bit is set replaced, in
   * order, by `words`. Format version 6.
   */
  DmaDelta: 23,
} as const;
export type RecKind = (typeof Rec)[keyof typeof Rec];

function noop(): void {}

/** Recording off: every method is a no-op. */
export const NULL_TRACER: Tracer = {
  enabled: false,
  mmio: noop, pio: noop, cfg: noop, dma: noop, intx: noop, msi: noop,
  schemeReq: noop, schemeReply: noop, milestone: noop, log: noop, guestErr: noop, proc: noop, air: noop, eth: noop,
  frame: noop,
};

/** A decoded event, as tests and tools see it. */
export type TraceEvent =
  | { kind: 'mmio'; write: boolean; time: number; core: number; dev: number; bar: number; offset: number; size: number; value: number }
  | { kind: 'pio'; write: boolean; time: number; core: number; dev: number; port: number; size: number; value: number }
  | { kind: 'cfg'; write: boolean; time: number; core: number; dev: number; offset: number; size: number; value: number }
  | { kind: 'dma'; write: boolean; time: number; dev: number; addr: number; data: Uint8Array; tag: string }
  | { kind: 'intx'; time: number; dev: number; gsi: number; level: number }
  | { kind: 'msi'; time: number; dev: number; addr: number; data: number; core: number; vector: number }
  | { kind: 'schemeReq'; time: number; pid: number; scheme: string; op: string; reqId: number; a: number; b: number }
  | { kind: 'schemeReply'; time: number; pid: number; scheme: string; reqId: number; result: number }
  | { kind: 'milestone'; time: number; dev: number; name: string; a: number; b: number }
  | { kind: 'log'; time: number; pid: number; level: LogLevel; text: string }
  | { kind: 'guestErr'; time: number; dev: number; code: string; message: string }
  | { kind: 'proc'; time: number; pid: number; event: ProcEvent; name: string; detail: string }
  | { kind: 'air'; time: number; dev: number; tx: boolean; channel: number; signal: number; rate: number; data: Uint8Array }
  | { kind: 'eth'; time: number; dev: number; tx: boolean; port: number; data: Uint8Array }
  /** `counter`: the pipe's frame counter (the `seq` argument of Tracer.frame; `seq` in a read event is the record's sequence number). */
  | { kind: 'frame'; time: number; dev: number; pipe: number; counter: number; width: number; height: number; format: number; data: Uint8Array };

/** Keeps decoded events in memory; for tests and small runs. */
export class MemoryTracer implements Tracer {
  readonly enabled = true;
  readonly events: TraceEvent[] = [];
  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    this.events.push({ kind: 'mmio', write, time, core, dev, bar, offset, size, value });
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    this.events.push({ kind: 'pio', write, time, core, dev, port, size, value });
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    this.events.push({ kind: 'cfg', write, time, core, dev, offset, size, value });
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string): void {
    this.events.push({ kind: 'dma', write, time, dev, addr, data: data.slice(offset, offset + length), tag });
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    this.events.push({ kind: 'intx', time, dev, gsi, level });
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    this.events.push({ kind: 'msi', time, dev, addr, data, core, vector });
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    this.events.push({ kind: 'schemeReq', time, pid, scheme, op, reqId, a, b });
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    this.events.push({ kind: 'schemeReply', time, pid, scheme, reqId, result });
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    this.events.push({ kind: 'milestone', time, dev, name, a, b });
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    this.events.push({ kind: 'log', time, pid, level, text });
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    this.events.push({ kind: 'guestErr', time, dev, code, message });
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    this.events.push({ kind: 'proc', time, pid, event, name, detail });
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    this.events.push({ kind: 'air', time, dev, tx, channel, signal, rate, data: data.slice(offset, offset + length) });
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    this.events.push({ kind: 'eth', time, dev, tx, port, data: data.slice(offset, offset + length) });
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    this.events.push({ kind: 'frame', time, dev, pipe, counter: seq, width, height, format, data: data.slice(offset, offset + length) });
  }
}
