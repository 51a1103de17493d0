/** Divergences grouped by root cause: the same kind at the same place is one group, counted and timed. */
import { describe, expect, it } from 'vitest';
import { compareStreams, DivergenceGroups, divergencePlace, type Divergence } from '../../src/trace/compare/compare.js';
import { formatReport, reportJson } from '../../src/trace/compare/report.js';
import type { SeqEvent } from '../../src/trace/reader.js';
import type { TraceHeader } from '../../src/trace/format.js';
import { deviceDecoders } from '../../src/devices/decoders.js';

let seq = 0;
const w = (time: number, offset: number, value: number): SeqEvent => ({ seq: seq++, kind: 'mmio', write: true, time, core: 0, dev: 0, bar: 0, offset, size: 4, value });
const header = { devices: [{ index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' }] } as unknown as TraceHeader;
const ctx = { expectedHeader: header, actualHeader: header, decoders: deviceDecoders(), expectedLabel: 'golden', actualLabel: 're-simulated' };

describe('divergence groups', () => {
  it('the same kind at the same register, however often and whatever lies between, is one group; other places are their own', () => {
    const e: SeqEvent[] = [];
    const a: SeqEvent[] = [];
    for (let i = 0; i < 500; i++) {
      // AQA (0x24) always differs; ASQ (0x28) differs every 10th time; CC (0x14) always matches.
      e.push(w(i * 100, 0x24, i), w(i * 100 + 10, 0x14, 1), w(i * 100 + 20, 0x28, i));
      a.push(w(i * 100, 0x24, i + 100_000), w(i * 100 + 10, 0x14, 1), w(i * 100 + 20, 0x28, i % 10 === 0 ? i + 200_000 : i));
    }
    const r = compareStreams(e, a, { keepGoing: true, context: 2 });
    expect(r.count).toBe(2);
    expect(r.rawCount).toBe(550);
    expect(r.differingEvents).toBe(550);
    expect(r.divergences.map((d) => [d.kind, d.occurrences, d.time, d.lastTime])).toEqual([
      ['value', 500, 0, 49_900],
      ['value', 50, 20, 49_020],
    ]);
    // Without keep-going: the first, alone.
    expect(compareStreams(e, a, {}).count).toBe(1);

    const text = formatReport(r, ctx);
    expect(text).toMatch(/^2 distinct divergences \(550 differing events; 1500 golden events, 1500 re-simulated events compared\)/);
    expect(text).toContain('   1. 500× MMIO write to nvme0 AQA (BAR0+0x24): expected 0x00000000, got 0x000186a0 (first at 0 ps, last at 49.900 ns)');
    expect(text).toContain('   2. 50× MMIO write to nvme0 ASQ');
    const j = reportJson(r, ctx);
    expect(j).toMatchObject({ count: 2, rawCount: 550, differingEvents: 550 });
    expect((j.divergences as { occurrences: number; headline: string }[]).map((d) => d.occurrences)).toEqual([500, 50]);
  });

  it('a missing block counts each of its events; thousands are written with separators', () => {
    const g = new DivergenceGroups(1);
    const ev = w(0, 0x1008, 1);
    const make = (): Divergence => ({
      kind: 'missing', expected: ev, actual: undefined, time: 0, before: { expected: [], actual: [] }, after: { expected: [], actual: [] },
      logs: [], processes: [], skippedExpected: 12, skippedActual: 0,
    });
    for (let i = 0; i < 1000; i++) g.add('missing', w(i, 0x1008, i), undefined, i, 12, make);
    g.add('extra', undefined, w(5, 0x100c, 1), 5, 1, make); // a second group, beyond the cap: counted, not kept
    g.add('extra', undefined, w(6, 0x100c, 2), 6, 1, make);
    expect(g.count).toBe(2);
    expect(g.divergences).toHaveLength(1);
    expect(g.divergences[0]!.occurrences).toBe(1000);
    expect(g.raw).toBe(1002);
    expect(g.events).toBe(12_002);
    const text = formatReport({ identical: false, ...g.result(), expectedEvents: 20_000, actualEvents: 19_000 }, ctx);
    expect(text).toMatch(/^2 distinct divergences \(12,002 differing events; /);
    expect(text).toMatch(/\(1 more distinct divergence not shown in full\)/);
  });

  it('places: a register with its direction, a DMA tag, a scheme, a process', () => {
    expect(divergencePlace('value', w(0, 0x24, 1), undefined)).toBe('mmio:0:w:0:36');
    expect(divergencePlace('extra', undefined, { seq: 1, kind: 'dma', write: true, time: 0, dev: 0, addr: 0x1000, data: new Uint8Array(4), tag: 'data' })).toBe('dma:0:w:data');
    expect(divergencePlace('missing', { seq: 2, kind: 'schemeReply', time: 0, pid: 3, scheme: 'disk.nvme', reqId: 1, result: 0 }, undefined)).toBe('reply:disk.nvme');
  });
});
