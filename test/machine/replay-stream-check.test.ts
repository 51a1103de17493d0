import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Tracer } from '../../src/sim/tracer.js';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { StreamCheck } from '../../src/machine/replay/stream-check.js';
import { RecordColumns } from '../../src/machine/replay/records.js';
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

/** A StreamCheck fed as the trace-as-hardware engine feeds it: each record read into columns as it is needed. */
function checkerOver(file: string): StreamCheck {
  const cursor = openTrace(file).cursor();
  const q = new RecordColumns();
  return new StreamCheck(q, () => {
    if (!cursor.advance()) return -1;
    q.push(cursor.view);
    const s = q.slot(0);
    q.shift();
    return s;
  });
}

function checkerOverTrace(): StreamCheck {
  return checkerOver(trace);
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

describe('RecordColumns (the recording\'s records in columns, no object per record)', () => {
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

  /** Every record of `file` read into one queue and held there. */
  function held(file: string): RecordColumns {
    const c = openTrace(file).cursor();
    const q = new RecordColumns();
    while (c.advance()) q.push(c.view);
    return q;
  }

  it('holds every record (past its first capacity) as the cursor builds it, payloads kept valid while held', () => {
    for (const file of [dmaTrace, trace]) {
      const q = held(file);
      const plain = openTrace(file).cursor();
      let k = 0;
      for (let e = plain.next(); e !== undefined; e = plain.next()) expect(q.event(q.slot(k++)), `record ${e.seq}`).toEqual(e);
      expect(q.length).toBe(k);
    }
    expect(held(dmaTrace).length).toBe(14000);
  });

  it('takes out a record in the middle, and copies records (own bytes too) into a pool that grows while they are held', () => {
    const q = held(dmaTrace);
    const want = [q.event(q.slot(0)), q.event(q.slot(2)), q.event(q.slot(3))];
    q.removeAt(1);
    expect([0, 1, 2].map((i) => q.event(q.slot(i)))).toEqual(want);
    const pool = new RecordColumns(2);
    const slots: number[] = [];
    for (let i = 0; i < 100; i++) {
      const s = pool.take();
      pool.copy(s, q, q.slot(i));
      slots.push(s);
    }
    const expected = Array.from({ length: 100 }, (_, i) => q.event(q.slot(i)));
    for (let i = 0; i < 100; i++) q.shift();
    for (let i = 0; i < 100; i++) q.pushFrom(q, q.slot(0)); // the ring's own slots overwritten
    expect(slots.map((s) => pool.event(s))).toEqual(expected);
    pool.release(slots[5]!);
    expect(pool.take()).toBe(slots[5]);
  });

  it('a checked run of the same events checks out; one payload byte changed differs', () => {
    for (const change of [-1, 4321]) {
      const c = checkerOver(dmaTrace);
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
