import { Rec } from '../../sim/tracer.js';
import type { EventView } from '../../trace/reader.js';

/**
 * The recording's scheme requests and replies read ahead for StreamCheck,
 * in columns (a FIFO of parallel arrays) instead of an object each: the
 * replay only checks them against the run's, and they are a quarter of a
 * block I/O trace's records. A reply keeps its result where a request keeps
 * `a`.
 */
export class SchemeQueue {
  private head = 0;
  private size = 0;
  private req = new Uint8Array(64);
  private time = new Float64Array(64);
  private pid = new Float64Array(64);
  private reqId = new Float64Array(64);
  private a = new Float64Array(64);
  private b = new Float64Array(64);
  private scheme: string[] = new Array<string>(64).fill('');
  private op: string[] = new Array<string>(64).fill('');

  /** True for the kinds kept here. */
  static holds(kind: number): boolean {
    return kind === Rec.SchemeReq || kind === Rec.SchemeReply;
  }

  get length(): number {
    return this.size;
  }

  /** Appends the record the cursor is at (a scheme request or reply), in the reader's column order. */
  push(v: EventView): void {
    if (this.size === this.req.length) this.grow();
    const at = (this.head + this.size) & (this.req.length - 1);
    const b = v.block;
    const i = v.i;
    const f = b.f;
    const isReq = b.kind[i] === Rec.SchemeReq;
    this.req[at] = isReq ? 1 : 0;
    this.time[at] = b.time[i]!;
    this.pid[at] = f[0]![i]!;
    this.scheme[at] = v.scheme;
    if (isReq) {
      this.op[at] = v.op;
      this.reqId[at] = f[3]![i]!;
      this.a[at] = f[4]![i]!;
      this.b[at] = f[5]![i]!;
    } else {
      this.op[at] = '';
      this.reqId[at] = f[2]![i]!;
      this.a[at] = f[3]![i]!;
      this.b[at] = 0;
    }
    this.size++;
  }

  /** Takes the oldest record; true if it is this request. */
  takeReq(time: number, pid: number, scheme: string, op: string, reqId: number, a: number, b: number): boolean {
    const at = this.shift();
    return at >= 0 && this.req[at] === 1 && this.time[at] === time && this.pid[at] === pid && this.scheme[at] === scheme
      && this.op[at] === op && this.reqId[at] === reqId && this.a[at] === a && this.b[at] === b;
  }

  /** Takes the oldest record; true if it is this reply. */
  takeReply(time: number, pid: number, scheme: string, reqId: number, result: number): boolean {
    const at = this.shift();
    return at >= 0 && this.req[at] === 0 && this.time[at] === time && this.pid[at] === pid && this.scheme[at] === scheme
      && this.reqId[at] === reqId && this.a[at] === result;
  }

  /** Removes the oldest record and returns its slot (valid until the next push), or -1 when empty. */
  private shift(): number {
    if (this.size === 0) return -1;
    const at = this.head;
    this.head = (this.head + 1) & (this.req.length - 1);
    this.size--;
    return at;
  }

  /** Doubles the capacity, the records in order from slot 0. */
  private grow(): void {
    const cap = this.req.length;
    const order = (x: { length: number; [i: number]: unknown }, into: { [i: number]: unknown }): void => {
      for (let k = 0; k < this.size; k++) into[k] = x[(this.head + k) & (cap - 1)];
    };
    const req = new Uint8Array(cap * 2); order(this.req, req); this.req = req;
    const time = new Float64Array(cap * 2); order(this.time, time); this.time = time;
    const pid = new Float64Array(cap * 2); order(this.pid, pid); this.pid = pid;
    const reqId = new Float64Array(cap * 2); order(this.reqId, reqId); this.reqId = reqId;
    const a = new Float64Array(cap * 2); order(this.a, a); this.a = a;
    const b = new Float64Array(cap * 2); order(this.b, b); this.b = b;
    const scheme = new Array<string>(cap * 2).fill(''); order(this.scheme, scheme); this.scheme = scheme;
    const op = new Array<string>(cap * 2).fill(''); order(this.op, op); this.op = op;
    this.head = 0;
  }
}
