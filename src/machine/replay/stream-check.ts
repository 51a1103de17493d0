import type { SeqEvent } from '../../trace/reader.js';
import { Rec, type LogLevel, type ProcEvent, type Tracer } from '../../sim/tracer.js';
import { bytesEqual } from '../../trace/format.js';
import type { ContextTracer } from './ring-tracer.js';
import type { RecordColumns } from './records.js';

/**
 * The replay's tracer when it is not recorded: each event of the run is
 * checked, as it comes, against the recording's next record (every kind, in
 * sequence order), instead of recording the run's own trace and comparing
 * the two files afterwards. Every field the recorder stores is compared, so
 * a run that checks out to the end would have recorded the very same trace.
 * Nothing is kept for a report: at the first difference `differs` is set and
 * checking stops (the caller replays again with the full machinery).
 *
 * The records come in columns (RecordColumns): no object per record, except
 * for the rare kinds the columns keep as objects. A DMA payload handed over
 * as the record's own bytes (an injected write, or a read of memory that
 * holds them) is not compared byte by byte.
 */
export class StreamCheck implements ContextTracer {
  readonly enabled = true;
  /** Events of the run so far: the next event's sequence number. */
  seq = 0;
  /** The run made an event the recording does not have there (or ran past its end). */
  differs = false;
  private lastMatched = -1;

  /**
   * `nextRecord`: the slot in `records` of the recording's next record in
   * sequence order (valid until the replay reads on), -1 past the end.
   */
  constructor(private readonly records: RecordColumns, private readonly nextRecord: () => number) {}

  /** True when every event so far matched and the recording has nothing more. */
  complete(): boolean {
    return !this.differs && this.nextRecord() < 0;
  }

  /** The recorded event the run's last event matched (built now: call it before the replay reads on). */
  last(): SeqEvent | undefined {
    return this.lastMatched < 0 ? undefined : this.records.event(this.lastMatched);
  }

  /** No context is kept: a replay that needs a report replays again with a RingTracer. */
  snapshot(): SeqEvent[] {
    return [];
  }

  /** The slot of the record the current event is checked against, or -1 once the run has differed. */
  private take(): number {
    this.seq++;
    if (this.differs) return -1;
    const s = this.nextRecord();
    if (s < 0) this.differs = true;
    return s;
  }

  private verdict(s: number, same: boolean): void {
    if (same) this.lastMatched = s;
    else this.differs = true;
  }

  /** The recorded object of a rare kind (RecordColumns.obj), undefined for the others. */
  private object(s: number): SeqEvent | undefined {
    return this.records.object(s);
  }

  mmio(write: boolean, time: number, core: number, dev: number, bar: number, offset: number, size: number, value: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === (write ? Rec.MmioWrite : Rec.MmioRead) && r.timeOf(s) === time && r.field(s, 0) === core && r.field(s, 1) === dev
      && r.field(s, 2) === bar && r.field(s, 3) === offset && r.field(s, 4) === size && r.field(s, 5) === value);
  }
  pio(write: boolean, time: number, core: number, dev: number, port: number, size: number, value: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === (write ? Rec.PioWrite : Rec.PioRead) && r.timeOf(s) === time && r.field(s, 0) === core && r.field(s, 1) === dev
      && r.field(s, 2) === port && r.field(s, 3) === size && r.field(s, 4) === value);
  }
  cfg(write: boolean, time: number, core: number, dev: number, offset: number, size: number, value: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === (write ? Rec.CfgWrite : Rec.CfgRead) && r.timeOf(s) === time && r.field(s, 0) === core && r.field(s, 1) === dev
      && r.field(s, 2) === offset && r.field(s, 3) === size && r.field(s, 4) === value);
  }
  dma(write: boolean, time: number, dev: number, addr: number, data: Uint8Array, offset: number, length: number, tag: string,
    image?: string, imageOffset?: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    const k = r.kind[s];
    const isDma = k === Rec.DmaRead || k === Rec.DmaWrite || k === Rec.DmaImage || k === Rec.DmaDelta;
    const sameImage = k === Rec.DmaImage ? image === r.s1[s] && imageOffset === r.field(s, 4) : image === undefined;
    this.verdict(s, isDma && r.write(s) === write && r.timeOf(s) === time && r.field(s, 0) === dev && r.field(s, 1) === addr && r.s0[s] === tag
      && sameImage && samePayload(r.data[s]!, r.at[s]!, r.len[s]!, data, offset, length));
  }
  intx(time: number, dev: number, gsi: number, level: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === Rec.Intx && r.timeOf(s) === time && r.field(s, 0) === dev && r.field(s, 1) === gsi && r.field(s, 2) === level);
  }
  msi(time: number, dev: number, addr: number, data: number, core: number, vector: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === Rec.Msi && r.timeOf(s) === time && r.field(s, 0) === dev && r.field(s, 1) === addr && r.field(s, 2) === data
      && r.field(s, 3) === core && r.field(s, 4) === vector);
  }
  schemeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === Rec.SchemeReq && r.timeOf(s) === time && r.field(s, 0) === pid && r.s0[s] === scheme && r.s1[s] === op
      && r.field(s, 3) === reqId && r.field(s, 4) === a && r.field(s, 5) === b);
  }
  schemeReply(time: number, pid: number, scheme: string, reqId: number, result: number): void {
    const s = this.take();
    if (s < 0) return;
    const r = this.records;
    this.verdict(s, r.kind[s] === Rec.SchemeReply && r.timeOf(s) === time && r.field(s, 0) === pid && r.s0[s] === scheme
      && r.field(s, 2) === reqId && r.field(s, 3) === result);
  }
  milestone(time: number, dev: number, name: string, a: number, b: number): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'milestone' && e.time === time && e.dev === dev && e.name === name && e.a === a && e.b === b);
  }
  log(time: number, pid: number, level: LogLevel, text: string): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'log' && e.time === time && e.pid === pid && e.level === level && e.text === text);
  }
  guestErr(time: number, dev: number, code: string, message: string): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'guestErr' && e.time === time && e.dev === dev && e.code === code && e.message === message);
  }
  proc(time: number, pid: number, event: ProcEvent, name: string, detail: string): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'proc' && e.time === time && e.pid === pid && e.event === event && e.name === name && e.detail === detail);
  }
  air(time: number, dev: number, tx: boolean, channel: number, signal: number, rate: number, data: Uint8Array, offset: number, length: number): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'air' && e.time === time && e.dev === dev && e.tx === tx && e.channel === channel && e.signal === signal
      && e.rate === rate && samePayload(e.data, 0, e.data.length, data, offset, length));
  }
  eth(time: number, dev: number, tx: boolean, port: number, data: Uint8Array, offset: number, length: number): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'eth' && e.time === time && e.dev === dev && e.tx === tx && e.port === port
      && samePayload(e.data, 0, e.data.length, data, offset, length));
  }
  frame(time: number, dev: number, pipe: number, seq: number, width: number, height: number, format: number, data: Uint8Array, offset: number, length: number): void {
    const s = this.take();
    if (s < 0) return;
    const e = this.object(s);
    this.verdict(s, e?.kind === 'frame' && e.time === time && e.dev === dev && e.pipe === pipe && e.counter === seq && e.width === width
      && e.height === height && e.format === format && samePayload(e.data, 0, e.data.length, data, offset, length));
  }
}

/** The recorded payload and the run's bytes: the very same bytes handed back, or equal ones (compared in place). */
function samePayload(recorded: Uint8Array, at: number, len: number, data: Uint8Array, offset: number, length: number): boolean {
  if (length !== len) return false;
  return (recorded === data && offset === at) || bytesEqual(recorded, at, data, offset, length);
}
