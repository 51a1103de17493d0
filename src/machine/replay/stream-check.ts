import type { SeqEvent } from '../../trace/reader.js';
import type { ReplayRecord } from './record.js';
import type { LogLevel, ProcEvent } from '../../sim/tracer.js';
import type { ContextTracer } from './ring-tracer.js';
import type { SchemeQueue } from './scheme-queue.js';

/**
 * The replay's tracer when it is not recorded: each event of the run is
 * checked, as it comes, against the recording's next record (every kind, in
 * sequence order), instead of recording the run's own trace and comparing
 * the two files afterwards. Every field the recorder stores is compared, so
 * a run that checks out to the end would have recorded the very same trace.
 * Nothing is kept for a report: at the first difference `differs` is set and
 * checking stops (the caller replays again with the full machinery).
 *
 * A DMA payload handed over as the record's own bytes (an injected write)
 * is the record's payload: it is not compared byte by byte. Scheme records
 * come in columns (SchemeQueue), not as objects; the others as pooled
 * records (ReplayRecord), each valid until the next one is asked for.
 */
export class StreamCheck implements ContextTracer {
  readonly enabled = true;
  /** Events of the run so far: the next event's sequence number. */
  seq = 0;
  /** The run made an event the recording does not have there (or ran past its end). */
  differs = false;
  private lastMatched: SeqEvent | undefined;

  /**
   * `nextRecord`: the recording's next record in sequence order, undefined
   * past the end; null for a scheme record, which is the oldest in `schemes`.
   */
  constructor(private readonly nextRecord: () => ReplayRecord | null | undefined, private readonly schemes: SchemeQueue) {}

  /** True when every event so far matched and the recording has nothing more. */
  complete(): boolean {
    return !this.differs && this.nextRecord() === undefined;
  }

  /**
   * The recorded event the run's last event matched (the run's last event itself), where the record
   * has its event object (undefined after a scheme record).
   */
  last(): SeqEvent | undefined {
    return this.lastMatched;
  }

  /** No context is kept: a replay that needs a report replays again with a RingTracer. */
  snapshot(): SeqEvent[] {
    return [];
  }

  /** The record the current event is checked against, or undefined once the run has differed (or it is a scheme record). */
  private take(): ReplayRecord | undefined {
    this.seq++;
    if (this.differs) return undefined;
    const e = this.nextRecord();
    if (e === undefined || e === null) this.differs = true;
    return e ?? undefined;
  }

  /** Whether the current event's record is a scheme record (the oldest in `schemes`, for the caller to take); false once the run has differed. */
  private takeScheme(): boolean {
    this.seq++;
    if (this.differs) return false;
    if (this.nextRecord() === null) return true;
    this.differs = true;
    return false;
  }

  private verdict(r: ReplayRecord, same: boolean): void {
    if (same) this.lastMatched = r.ev;
    else this.differs = true;
  }

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'mmio' && e.write === write && e.time === time && e.core === core && e.dev === dev && e.bar === bar
      && e.offset === offset && e.size === size && e.value === value);
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'pio' && e.write === write && e.time === time && e.core === core && e.dev === dev && e.port === port
      && e.size === size && e.value === value);
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'cfg' && e.write === write && e.time === time && e.core === core && e.dev === dev && e.offset === offset
      && e.size === size && e.value === value);
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'dma' && e.write === write && e.time === time && e.dev === dev && e.addr === addr && e.tag === tag
      && e.image === image && (image === undefined || e.imageOffset === imageOffset) && samePayload(e.data, e.at, e.length, data, offset, length));
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'intx' && e.time === time && e.dev === dev && e.gsi === gsi && e.level === level);
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    const e = this.take();
    if (e === undefined) return;
    this.verdict(e, e.kind === 'msi' && e.time === time && e.dev === dev && e.addr === addr && e.value === data && e.core === core
      && e.vector === vector);
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    if (!this.takeScheme()) return;
    this.lastMatched = undefined;
    if (!this.schemes.takeReq(time, pid, scheme, op, reqId, a, b)) this.differs = true;
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    if (!this.takeScheme()) return;
    this.lastMatched = undefined;
    if (!this.schemes.takeReply(time, pid, scheme, reqId, result)) this.differs = true;
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'milestone' && e.time === time && e.dev === dev && e.name === name && e.a === a && e.b === b);
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'log' && e.time === time && e.pid === pid && e.level === level && e.text === text);
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'guestErr' && e.time === time && e.dev === dev && e.code === code && e.message === message);
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'proc' && e.time === time && e.pid === pid && e.event === event && e.name === name && e.detail === detail);
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'air' && e.time === time && e.dev === dev && e.tx === tx && e.channel === channel && e.signal === signal
      && e.rate === rate && sameEventPayload(e.data, data, offset, length));
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'eth' && e.time === time && e.dev === dev && e.tx === tx && e.port === port && sameEventPayload(e.data, data, offset, length));
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    const r = this.take();
    if (r === undefined) return;
    const e = r.ev;
    this.verdict(r, e !== undefined && e.kind === 'frame' && e.time === time && e.dev === dev && e.pipe === pipe && e.counter === seq && e.width === width
      && e.height === height && e.format === format && sameEventPayload(e.data, data, offset, length));
  }
}

/** The recorded payload (bytes [at, at + n) of `recorded`) and the run's bytes: the same bytes handed back, or equal bytes. */
function samePayload(recorded: Uint8Array, at: number, n: number, data: Uint8Array, offset: number, length: number): boolean {
  if (recorded === data && offset === at && length === n) return true;
  if (length !== n) return false;
  for (let x = 0; x < n; x++) if (recorded[at + x] !== data[offset + x]) return false;
  return true;
}

/** A payload of an event object (air, Ethernet and display frames) and the run's bytes. */
function sameEventPayload(recorded: Uint8Array, data: Uint8Array, offset: number, length: number): boolean {
  return samePayload(recorded, 0, recorded.length, data, offset, length);
}
