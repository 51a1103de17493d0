import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { StreamCheck } from '../../src/machine/replay/stream-check.js';
import type { SchemeQueue } from '../../src/machine/replay/scheme-queue.js';
import { RecordFeed } from '../../src/machine/replay/record-feed.js';
import type { ReplayRecord } from '../../src/machine/replay/record.js';
import { emitAllKinds, makeHeader, tmpDir } from '../trace/helpers.js';

const tmp = tmpDir();
afterAll(tmp.cleanup);

/** Every record kind: the helper's, and the frames (802.11, Ethernet, display). */
function emitEverything(t: Tracer): void {
  emitAllKinds(t);
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => (i * 13 + 5) & 0xff);
  t.air(2000, 1, true, 6, -40, 108, bytes, 4, 60);
  t.eth(2001, 0, false, 0, bytes, 10, 64);
  t.frame(2002, 0, 0, 7, 4, 2, 0x34325258, bytes, 0, 32);
}

const trace = join(tmp.dir, 'all.simtrace');
const rec = TraceRecorder.create(trace, makeHeader());
emitEverything(rec);
rec.close();

function checkerOverTrace(): StreamCheck {
  // Fed as the trace-as-hardware engine feeds it: scheme records in columns, the others as pooled records.
  const feed = new RecordFeed(openTrace(trace).cursor());
  return new StreamCheck(() => feed.next(), feed.schemes);
}

/** The events of `emitEverything`, with argument `arg` of call number `call` changed. */
function perturbed(into: Tracer, call: number, arg: number): boolean {
  let n = 0;
  let changed = false;
  const proxy = new Proxy(into, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (n++ === call && arg < args.length) {
          const a = args[arg];
          if (typeof a === 'number') { args[arg] = a + 1; changed = true; }
          else if (typeof a === 'string') { args[arg] = `${a}x`; changed = true; }
          else if (typeof a === 'boolean') { args[arg] = !a; changed = true; }
          else if (a instanceof Uint8Array) {
            // A byte of the payload proper (what the call's offset and length select).
            const off = args[arg + 1] as number;
            const len = args[arg + 2] as number;
            if (len > 0) { const c = a.slice(); c[off] = c[off]! ^ 0xff; args[arg] = c; changed = true; }
          }
          // The empty DMA read's offset selects no byte: nothing recorded would change.
          if (typeof a === 'number' && prop === 'dma' && args[6] === 0 && arg === 5) changed = false;
        }
        return (v as (...x: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  emitEverything(proxy);
  return changed;
}

describe('StreamCheck (a replay checked against the recording as it runs)', () => {
  it('the recording\'s own events check out to its end', () => {
    const c = checkerOverTrace();
    emitEverything(c);
    expect(c.differs).toBe(false);
    expect(c.complete()).toBe(true);
    expect(c.seq).toBe(21);
  });

  it('a run that stops early is not complete; one that goes on past the end differs', () => {
    const short = checkerOverTrace();
    emitAllKinds(short);
    expect(short.differs).toBe(false);
    expect(short.complete()).toBe(false);
    const long = checkerOverTrace();
    emitEverything(long);
    long.log(3000, 1, 'info', 'one more');
    expect(long.differs).toBe(true);
  });

  it('any field the recorder stores, changed in any event, is a difference', () => {
    let tried = 0;
    for (let call = 0; call < 21; call++) {
      for (let arg = 0; arg < 10; arg++) {
        const c = checkerOverTrace();
        if (!perturbed(c, call, arg)) continue;
        tried++;
        expect(c.differs, `call ${call}, argument ${arg}`).toBe(true);
      }
    }
    expect(tried).toBeGreaterThan(120);
  });

  it('two neighbouring events made in the other order are a difference (a scheme record among them or not)', () => {
    const calls: [string, unknown[]][] = [];
    const log = new Proxy({} as Tracer, {
      get: (_t, prop) => prop === 'enabled' ? true : (...args: unknown[]) => { calls.push([String(prop), args]); },
    });
    emitEverything(log);
    expect(calls.length).toBe(21);
    for (let k = 0; k + 1 < calls.length; k++) {
      const order = [...calls];
      [order[k], order[k + 1]] = [order[k + 1]!, order[k]!];
      const c = checkerOverTrace();
      for (const [name, args] of order) (c as unknown as Record<string, (...x: unknown[]) => void>)[name]!(...args);
      expect(c.differs, `calls ${k} and ${k + 1} (${calls[k]![0]}, ${calls[k + 1]![0]})`).toBe(true);
    }
  });
});

describe('SchemeQueue (scheme records read ahead for the check, in columns)', () => {
  const many = join(tmp.dir, 'schemes.simtrace');
  const r = TraceRecorder.create(many, makeHeader());
  for (let k = 0; k < 150; k++) {
    r.schemeReq(10 * k, 3 + (k % 2), k % 3 === 0 ? 'disk.nvme' : 'net', 'read', k, 0x1000 * k, 512 + k);
    r.schemeReply(10 * k + 5, 3 + (k % 2), k % 3 === 0 ? 'disk.nvme' : 'net', k, k === 7 ? -5 : 512);
  }
  r.close();

  function queued(): SchemeQueue {
    const feed = new RecordFeed(openTrace(many).cursor());
    while (feed.next() !== undefined);
    return feed.schemes;
  }

  it('keeps every record read ahead (past its first capacity), in order, each field compared', () => {
    const q = queued();
    expect(q.length).toBe(300);
    for (let k = 0; k < 150; k++) {
      const scheme = k % 3 === 0 ? 'disk.nvme' : 'net';
      expect(q.takeReq(10 * k, 3 + (k % 2), scheme, 'read', k, 0x1000 * k, 512 + k)).toBe(true);
      expect(q.takeReply(10 * k + 5, 3 + (k % 2), scheme, k, k === 7 ? -5 : 512)).toBe(true);
    }
    expect(q.length).toBe(0);
    expect(q.takeReply(0, 3, 'net', 0, 0)).toBe(false);
  });

  it('a reply where a request is, or a request changed in any field, does not match', () => {
    const q = queued();
    expect(q.takeReply(0, 3, 'disk.nvme', 0, 512)).toBe(false);
    const args: [number, number, string, string, number, number, number] = [10, 4, 'net', 'read', 1, 0x1000, 513];
    for (let j = 0; j < args.length; j++) {
      const changed = [...args] as typeof args;
      (changed as unknown[])[j] = typeof args[j] === 'string' ? `${args[j]}x` : (args[j] as number) + 1;
      const fresh = queued();
      fresh.takeReq(0, 3, 'disk.nvme', 'read', 0, 0, 512);
      fresh.takeReply(5, 3, 'disk.nvme', 0, 512);
      expect(fresh.takeReq(...changed), `field ${j}`).toBe(false);
    }
  });
});

describe('RecordFeed (the records a trace-as-hardware replay reads)', () => {
  // Word deltas (payloads of one stream, each overwriting the last in the reader: copied), inline
  // payloads and scheme records, over several chunks.
  const dmaTrace = join(tmp.dir, 'dma.simtrace');
  const r = TraceRecorder.create(dmaTrace, makeHeader());
  const ram = new Uint8Array(64);
  for (let k = 0; k < 6000; k++) {
    ram[0] = k & 0xff; ram[4] = k >> 8; ram[9] = (k * 7) & 0xff; ram[40] = (k * 3) & 0xff;
    r.dma(false, 10 * k, 0, 0x1000 + 64 * (k % 16), ram, 0, 64, 'nvme.sqe');
    r.dma(true, 10 * k + 1, 0, 0x2000 + 16 * (k % 16), ram, 0, 16, 'nvme.cqe');
    if (k % 3 === 0) r.schemeReq(10 * k + 2, 3, 'disk.nvme', 'read', k, k, 512);
  }
  r.close();

  /** The DMA fields of an event object, as a record holds them. */
  const dmaFields = (r: ReplayRecord): unknown => ({
    seq: r.seq, kind: r.kind, write: r.write, time: r.time, dev: r.dev, addr: r.addr, tag: r.tag, data: r.data.slice(r.at, r.at + r.length),
  });

  it('gives every record as the cursor builds it (with its event object if asked), payloads kept valid while held (no scheme record as an object)', () => {
    for (const withEvents of [false, true]) {
      const feed = new RecordFeed(openTrace(dmaTrace).cursor(), withEvents);
      const held: ReplayRecord[] = [];
      let schemes = 0;
      for (let r = feed.next(); r !== undefined; r = feed.next()) {
        if (r === null) schemes++;
        else { feed.pool.retain(r); held.push(r); }
      }
      const plain = openTrace(dmaTrace).cursor();
      let k = 0;
      const differ: number[] = [];
      for (let e = plain.next(); e !== undefined; e = plain.next()) {
        if (e.kind !== 'dma') continue;
        const r = held[k++]!;
        const fields = { seq: e.seq, kind: e.kind, write: e.write, time: e.time, dev: e.dev, addr: e.addr, tag: e.tag, data: e.data };
        if (!isDeepStrictEqual(dmaFields(r), fields) || !isDeepStrictEqual(r.ev, withEvents ? e : undefined)) differ.push(e.seq);
      }
      expect(differ).toEqual([]);
      expect(k).toBe(12000);
      expect(schemes).toBe(2000);
    }
  });

  it('a record let go by its last holder is reused; one still held keeps its fields and payload', () => {
    const feed = new RecordFeed(openTrace(dmaTrace).cursor());
    const a = feed.next()!;
    feed.pool.retain(a);
    feed.pool.retain(a);
    const bytes = a.data.slice(a.at, a.at + a.length);
    feed.pool.drop(a);
    const b = feed.next()!;
    expect(b).not.toBe(a);
    expect(a.data.slice(a.at, a.at + a.length)).toEqual(bytes);
    expect(a.seq).toBe(0);
    feed.pool.retain(b);
    feed.pool.drop(a);
    feed.pool.drop(b);
    // Both back in the pool: the next records (past a scheme record, which is not one) are these two objects again.
    expect(feed.next()).toBe(null);
    const c = feed.next()!;
    const d = feed.next()!;
    expect(new Set([c, d])).toEqual(new Set([a, b]));
    expect([c.seq, d.seq]).toEqual([3, 4]);
  });

  it('a checked run of the same events checks out; one payload byte changed differs', () => {
    for (const change of [-1, 4321]) {
      const feed = new RecordFeed(openTrace(dmaTrace).cursor());
      const c = new StreamCheck(() => feed.next(), feed.schemes);
      const bytes = new Uint8Array(64);
      for (let k = 0; k < 6000; k++) {
        bytes[0] = k & 0xff; bytes[4] = k >> 8; bytes[9] = (k * 7) & 0xff; bytes[40] = (k * 3) & 0xff;
        c.dma(false, 10 * k, 0, 0x1000 + 64 * (k % 16), bytes, 0, 64, 'nvme.sqe');
        const cqe = bytes.slice(0, 16);
        if (k === change) cqe[9] = cqe[9]! ^ 1;
        c.dma(true, 10 * k + 1, 0, 0x2000 + 16 * (k % 16), cqe, 0, 16, 'nvme.cqe');
        if (k % 3 === 0) c.schemeReq(10 * k + 2, 3, 'disk.nvme', 'read', k, k, 512);
      }
      expect(c.differs).toBe(change >= 0);
      expect(c.complete()).toBe(change < 0);
    }
  });
});
