import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import { openTrace } from '../../../src/trace/reader.js';
import { runDiff } from '../../../src/trace/diff/index.js';
import { LatencyStats, TimingCollector, compareTiming } from '../../../src/trace/diff/timing.js';
import { diffTraces } from '../../../src/trace/diff/engine.js';
import type { DeviceDecoder, DeviceTimingPhases } from '../../../src/trace/decoder.js';
import type { SeqEvent } from '../../../src/trace/reader.js';
import { makeHeader } from '../helpers.js';

function sqe(opc: number, cid: number, prp1 = 0, dw10 = 0): Uint8Array {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  b[0] = opc;
  v.setUint16(2, cid, true);
  v.setBigUint64(24, BigInt(prp1), true);
  v.setUint32(40, dw10, true);
  return b;
}
function cqe(cid: number, sqid: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(10, sqid, true);
  v.setUint16(12, cid, true);
  return b;
}

/**
 * A bring-up with known times (ps), every duration scaled by `k`:
 * first MMIO at 1000, reset at 2000, ready 8000k later, identify 5000k,
 * queue creation 3000k, first I/O 90000k after ready, 100 I/Os with
 * latencies 90k, 180k, ... 9000k, and 10 scheme requests of 1000k each.
 */
function bringUp(k: number): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader());
  const t0 = 2000;
  const at = (d: number): number => t0 + Math.round(d * k);
  rec.mmio(false, 1000, 0, 0, 0, 0, 4, 0x140103ff);
  rec.milestone(t0, 0, 'reset', 0, 0);
  rec.milestone(at(8000), 0, 'ready', 32, 32);
  rec.dma(false, at(9000), 0, 0x100000, sqe(0x06, 7, 0x102000, 1), 0, 64, 'nvme.asqe');
  rec.dma(true, at(14000), 0, 0x101000, cqe(7, 0), 0, 16, 'nvme.acqe');
  rec.dma(false, at(20000), 0, 0x100040, sqe(0x05, 8, 0x201000, (15 << 16) | 1), 0, 64, 'nvme.asqe');
  rec.milestone(at(21000), 0, 'cq.create', 1, 16);
  rec.dma(false, at(22000), 0, 0x100080, sqe(0x01, 9, 0x200000, (15 << 16) | 1), 0, 64, 'nvme.asqe');
  rec.milestone(at(23000), 0, 'sq.create', 1, 16);
  for (let i = 0; i < 100; i++) {
    const t = at(98_000 + i * 10_000);
    const cid = i % 16;
    rec.dma(false, t, 0, 0x200000 + cid * 64, sqe(0x02, cid), 0, 64, 'nvme.sqe');
    rec.dma(true, t + Math.round((i + 1) * 90 * k), 0, 0x201000 + cid * 16, cqe(cid, 1), 0, 16, 'nvme.cqe');
  }
  const s0 = at(2_000_000);
  for (let i = 0; i < 10; i++) {
    rec.schemeReq(s0 + Math.round(i * 2000 * k), 3, 'disk.nvme', 'read', 100 + i, 0, 512);
    rec.schemeReply(s0 + Math.round((i * 2000 + 1000) * k), 3, 'disk.nvme', 100 + i, 512);
  }
  return rec.close().buffer!;
}

function phases(buf: Buffer): Record<string, number> {
  const t = openTrace(buf);
  const c = new TimingCollector(t.header, deviceDecoders());
  for (const e of t.events()) c.add(e);
  return Object.fromEntries(c.phases().map((p) => [`${p.source} ${p.phase}`, p.value]));
}

describe('simrun diff: timing phases', () => {
  it('computes the phases of a device from milestones, admin commands and I/O completions', () => {
    expect(phases(bringUp(1))).toEqual({
      'nvme0 reset→ready': 8000,
      'nvme0 identify': 5000,
      'nvme0 queue creation': 3000,
      'nvme0 ready→first I/O': 90_000,
      'nvme0 first I/O latency': 90,
      'nvme0 I/Os': 100,
      'nvme0 I/O latency p50': 4500,
      'nvme0 I/O latency p90': 8100,
      'nvme0 I/O latency p99': 8910,
      'nvme0 I/O latency mean': 4545,
      'nvme0 active span': 98_000 + 99 * 10_000 + 9000 + 1000, // from the first MMIO at 1000 to the last CQE
      'disk.nvme: requests': 10,
      'disk.nvme: request latency p50': 1000,
      'disk.nvme: request latency p90': 1000,
      'disk.nvme: request latency p99': 1000,
      'disk.nvme: request latency mean': 1000,
    });
  });

  it('compares a and b with the change in percent', () => {
    const lines: string[] = [];
    const r = runDiff({ a: bringUp(1), b: bringUp(1.5), decoders: deviceDecoders(), color: false, out: (l) => lines.push(l) });
    expect(r.exitCode).toBe(0); // same structure, only slower
    const row = (phase: string) => r.result.timing.find((x) => x.source === 'nvme0' && x.phase === phase)!;
    expect(row('identify')).toEqual({ source: 'nvme0', phase: 'identify', unit: 'ps', a: 5000, b: 7500, changePct: 50 });
    expect(row('reset→ready').changePct).toBe(50);
    expect(row('queue creation').changePct).toBe(50);
    expect(row('I/O latency p99')).toMatchObject({ a: 8910, b: 13365, changePct: 50 });
    expect(row('I/Os')).toMatchObject({ unit: 'count', a: 100, b: 100, changePct: 0 });
    const text = lines.join('\n');
    expect(text).toMatch(/identify\s+5\.000 ns\s+7\.500 ns\s+\+50\.0%/);
    expect(text).toMatch(/disk\.nvme:\s+request latency p50\s+1\.000 ns\s+1\.500 ns\s+\+50\.0%/);
  });

  it('gives a device without these milestones and commands fewer phases', () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    rec.mmio(false, 1000, 0, 1, 0, 0x10, 4, 1);
    rec.msi(5000, 1, 0xfee00000, 0x30, 0, 0x30);
    expect(phases(rec.close().buffer!)).toEqual({ 'wifi0 active span': 4000 });
  });

  it("passes a device's own phases only the kinds and DMA tags they declare", () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    rec.mmio(true, 1000, 0, 0, 0, 0x14, 4, 1);
    rec.milestone(2000, 0, 'ready', 0, 0);
    rec.dma(false, 3000, 0, 0x100000, sqe(0x02, 1), 0, 64, 'nvme.sqe');
    rec.dma(true, 4000, 0, 0x300000, new Uint8Array(4096).fill(7), 0, 4096, 'nvme.data');
    rec.dma(true, 5000, 0, 0x101000, cqe(1, 1), 0, 16, 'nvme.cqe');
    rec.msi(6000, 0, 0xfee00000, 0x30, 0, 0x30);
    rec.schemeReq(7000, 3, 'disk.nvme', 'read', 1, 0, 512);
    const buf = rec.close().buffer!;
    /** What the phases saw in the diff's two collectors (from the cursor's columns) and in one fed event objects: the same. */
    const seen = (kinds?: SeqEvent['kind'][], dmaTags?: string[]): string[] => {
      const got: string[][] = [[], [], []];
      let n = 0;
      const decoders = new Map<string, DeviceDecoder>(deviceDecoders());
      const nvme = decoders.get('nvme')!;
      decoders.set('nvme', {
        ...nvme,
        timingPhases: (): DeviceTimingPhases => {
          const mine = got[n++]!;
          return {
            ...(kinds ? { kinds } : {}), ...(dmaTags ? { dmaTags } : {}),
            add: (ev) => mine.push(ev.kind === 'dma' ? `dma ${ev.tag} ${ev.data.length}` : `${ev.kind} ${ev.time}`),
            phases: () => [],
          };
        },
      });
      diffTraces({ a: buf, b: buf, decoders });
      const c = new TimingCollector(openTrace(buf).header, decoders);
      for (const e of openTrace(buf).events()) c.add(e);
      expect(got[1]).toEqual(got[0]);
      expect(got[2]).toEqual(got[0]);
      return got[0]!;
    };
    expect(seen()).toEqual(['mmio 1000', 'milestone 2000', 'dma nvme.sqe 64', 'dma nvme.data 4096', 'dma nvme.cqe 16', 'msi 6000']);
    expect(seen(['dma', 'milestone'])).toEqual(['milestone 2000', 'dma nvme.sqe 64', 'dma nvme.data 4096', 'dma nvme.cqe 16']);
    expect(seen(['dma', 'mmio'], ['nvme.cqe', 'nvme.sqe'])).toEqual(['mmio 1000', 'dma nvme.sqe 64', 'dma nvme.cqe 16']);
    expect(seen(['msi'], ['nvme.cqe'])).toEqual(['msi 6000']);
  });

  it("gives a device's own phases each payload's current bytes, through word deltas in place and device changes", () => {
    const rec = TraceRecorder.toBuffer(makeHeader());
    for (let i = 0; i < 300; i++) {
      // Two completion streams rewritten a word at a time (word deltas over one base each), on two devices.
      rec.dma(true, 1000 * i, 0, 0x101000, cqe(i & 0xffff, 1), 0, 16, 'nvme.cqe');
      if (i % 3 === 0) rec.dma(true, 1000 * i + 10, 0, 0x102000, cqe((i * 7) & 0xffff, 2), 0, 16, 'nvme.cqe');
      if (i % 5 === 0) rec.dma(true, 1000 * i + 20, 1, 0x103000, cqe(i, 3), 0, 16, 'nvme.cqe');
    }
    const buf = rec.close().buffer!;
    const got: string[][] = [[], [], [], [], [], []];
    let n = 0;
    const decoders = new Map<string, DeviceDecoder>(deviceDecoders());
    const recording = (): DeviceTimingPhases => {
      const mine = got[n++]!;
      return { add: (ev) => mine.push(ev.kind === 'dma' ? `${ev.dev} ${Buffer.from(ev.data).toString('hex')}` : ev.kind), phases: () => [] };
    };
    decoders.set('nvme', { ...decoders.get('nvme')!, timingPhases: recording });
    decoders.set('iwlwifi', { ...decoders.get('iwlwifi')!, timingPhases: recording });
    diffTraces({ a: buf, b: buf, decoders });
    const c = new TimingCollector(openTrace(buf).header, decoders);
    for (const e of openTrace(buf).events()) c.add(e);
    // Collectors a, b and the one fed objects made phases in the same order (nvme0 first, then wifi0).
    const all = (k: number): string[] => [...got[2 * k]!, ...got[2 * k + 1]!].sort();
    expect(all(0)).toHaveLength(300 + 100 + 60);
    expect(all(1)).toEqual(all(0));
    expect(all(2)).toEqual(all(0));
  });

  it('pairs phases present in one trace only with nulls', () => {
    const rows = compareTiming(
      [{ source: 'x', phase: 'identify', value: 10, unit: 'ps' }],
      [{ source: 'x', phase: 'ready→first I/O', value: 20, unit: 'ps' }],
    );
    expect(rows).toEqual([
      { source: 'x', phase: 'identify', unit: 'ps', a: 10, b: null, changePct: null },
      { source: 'x', phase: 'ready→first I/O', unit: 'ps', a: null, b: 20, changePct: null },
    ]);
  });

  it('keeps percentiles exact below the sample cap and close above it', () => {
    const s = new LatencyStats();
    for (let i = 1; i <= 1000; i++) s.add(i);
    expect([s.percentile(50), s.percentile(90), s.percentile(99), s.mean()]).toEqual([500, 900, 990, 501]);
    const big = new LatencyStats();
    for (let i = 0; i < 200_000; i++) big.add(1000 + (i % 1000));
    const p50 = big.percentile(50)!;
    expect(Math.abs(p50 - 1500) / 1500).toBeLessThan(0.005);
  });
});
