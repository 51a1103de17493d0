import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import { openTrace, type SeqEvent } from '../../../src/trace/reader.js';
import { diffTraces, diffVia } from '../../../src/trace/diff/engine.js';
import { ColumnEvents, ReaderEvents, type EventSource } from '../../../src/trace/diff/source.js';
import { makeDiffBenchTraces } from '../../../bench/support/diff-workload.js';
import { makeHeader } from '../helpers.js';
import { ROOT } from '../../e2e/helpers.js';

const decoders = deviceDecoders();
const golden = (name: string): string => path.join(ROOT, 'traces', `${name}.simtrace`);

function all(s: EventSource): SeqEvent[] {
  const out: SeqEvent[] = [];
  for (let e = s.next(); e !== undefined; e = s.next()) out.push(e);
  s.close();
  return out;
}

/** Events of the two sources that differ (fields, or payload bytes), the first few; and how many each gave. */
function compare(x: EventSource, y: EventSource): { n: number; m: number; bad: string[] } {
  let n = 0;
  let m = 0;
  const bad: string[] = [];
  for (;;) {
    const a = x.next();
    const b = y.next();
    if (a !== undefined) n++;
    if (b !== undefined) m++;
    if (a === undefined || b === undefined) break;
    const da = 'data' in a && a.data instanceof Uint8Array ? a.data : undefined;
    const db = 'data' in b && b.data instanceof Uint8Array ? b.data : undefined;
    const same = JSON.stringify({ ...a, data: 0 }) === JSON.stringify({ ...b, data: 0 }) &&
      (da === undefined ? db === undefined && (a as { data?: unknown }).data === (b as { data?: unknown }).data : db !== undefined && Buffer.from(da).equals(Buffer.from(db)));
    if (!same && bad.length < 3) bad.push(`${JSON.stringify(a)} / ${JSON.stringify(b)}`);
  }
  x.close();
  y.close();
  return { n, m, bad };
}

/** The bench trace with one byte flipped in the middle (inside a chunk). */
function corrupted(): Uint8Array {
  const { a } = makeDiffBenchTraces(20_000, undefined, 64 * 1024);
  const c = Uint8Array.from(a as Uint8Array);
  const m = c.length >> 1;
  c[m] = c[m]! ^ 0x55;
  return c;
}

describe('diff event sources', () => {
  it('column blocks give the events the reader gives: inline payloads, blobs, word deltas, strings, texts', () => {
    const { a } = makeDiffBenchTraces(30_000, undefined, 64 * 1024);
    const fast = new ColumnEvents(openTrace(a));
    const r = compare(fast, new ReaderEvents(openTrace(a).events()));
    expect(fast.unsupported).toBeUndefined();
    expect(r.bad).toEqual([]);
    expect(r.n).toBe(openTrace(a).footer!.totalRecords);
    expect(r.m).toBe(r.n);
    const kinds = new Set(all(new ColumnEvents(openTrace(a))).map((e) => (e.kind === 'dma' ? `dma ${e.data.length}` : e.kind)));
    expect([...kinds].sort()).toEqual(['dma 16', 'dma 4096', 'dma 64', 'log', 'milestone', 'mmio', 'msi']);
  });

  it('so do recorded display, network and 802.11 traces', () => {
    for (const name of ['display-two-monitors', 'virtio-net-ping', 'wifi-connect']) {
      const fast = new ColumnEvents(openTrace(golden(name)));
      const r = compare(fast, new ReaderEvents(openTrace(golden(name)).events()));
      expect(fast.unsupported, name).toBeUndefined();
      expect(r.bad, name).toEqual([]);
      expect(r.n, name).toBe(r.m);
      expect(r.n, name).toBeGreaterThan(1000);
    }
  });

  it('payloads copied into the shared arena stay 8-byte aligned (payload hashes depend on alignment)', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    for (let i = 0; i < 200; i++) rec.dma(true, 1000 + i, 0, 0x1000, Uint8Array.from({ length: 3 + (i % 13) }, (_, k) => i + k), 0, 3 + (i % 13), 'odd');
    const evs = all(new ColumnEvents(openTrace(rec.close().buffer!)));
    expect(evs).toHaveLength(200);
    for (const e of evs) if (e.kind === 'dma') expect(e.data.byteOffset % 8).toBe(0);
  });

  it('gives up on what it does not read exactly: a disk-image reference, damage', () => {
    const img = new ColumnEvents(openTrace(golden('nvme-intx')));
    all(img);
    expect(img.unsupported).toMatch(/record kind/);
    const dmg = new ColumnEvents(openTrace(corrupted()));
    all(dmg);
    expect(dmg.unsupported).toBe('damage');
  });

  it('the diff through column blocks equals the diff through the reader events', () => {
    const { a, b } = makeDiffBenchTraces(60_000, undefined, 64 * 1024);
    const opts = { a, b, decoders, maxDivergences: 50 };
    const fast = diffVia(opts, 'columns');
    expect(fast).toBeDefined();
    expect(fast!.totals.changed + fast!.totals.inserted + fast!.totals.removed).toBeGreaterThan(0);
    expect(fast).toEqual(diffVia(opts, 'events'));
    const nets = { a: golden('virtio-net-ping'), b: golden('virtio-net-fault-link'), decoders };
    expect(diffVia(nets, 'columns')).toEqual(diffVia(nets, 'events'));
  });

  it('falls back to the reader events where the column path gives up, with the same result', () => {
    const disk = { a: golden('nvme-intx'), b: golden('nvme-jitter'), decoders };
    expect(diffVia(disk, 'columns')).toBeUndefined();
    expect(diffTraces(disk)).toEqual(diffVia(disk, 'events'));
    const { a } = makeDiffBenchTraces(20_000, undefined, 64 * 1024);
    // A chunk that fails its CRC: found while reading.
    const damaged = { a, b: corrupted(), decoders };
    expect(diffVia(damaged, 'columns')).toBeUndefined();
    const r = diffTraces(damaged);
    expect(r.exitCode).toBe(2);
    expect(r.b!.damage.length).toBeGreaterThan(0);
    expect(r.totals.removed).toBeGreaterThan(0);
    expect(r).toEqual(diffVia(damaged, 'events'));
    // A truncated trace (no footer) is known damaged on open: read through the events from the start.
    const cut = { a, b: (a as Uint8Array).subarray(0, (a as Uint8Array).length - 300), decoders };
    expect(diffTraces(cut)).toEqual(diffVia(cut, 'events'));
    expect(diffTraces(cut).exitCode).toBe(2);
  });
});
