import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { ROOT, withBrokenCqDoorbell } from '../e2e/helpers.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { NvmeController } from '../../src/devices/nvme/controller.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { runReplayDevices } from '../../src/machine/replay/devices.js';
import { runCheck } from '../../src/machine/check.js';
import { compareStreams, isStateDigest } from '../../src/trace/compare/compare.js';
import { formatReport } from '../../src/trace/compare/report.js';
import { openTrace, type SeqEvent } from '../../src/trace/reader.js';

const golden = (n: string) => join(ROOT, 'traces', `${n}.simtrace`);
const quiet = { decoders: deviceDecoders(), out: () => {} };

let seq = 0;
const mmio = (time: number, value: number): SeqEvent => ({ seq: seq++, kind: 'mmio', write: true, time, core: 0, dev: 0, bar: 0, offset: 0x24, size: 4, value });
const digest = (time: number, a: number): SeqEvent => ({ seq: seq++, kind: 'milestone', time, dev: 0, name: 'state', a, b: 7 });

describe('state digests localise, they are never counted as divergences', () => {
  it('compareStreams: one changed value followed by differing digests is one divergence, and says where state first differed', () => {
    const e: SeqEvent[] = [];
    const a: SeqEvent[] = [];
    for (let i = 0; i < 200; i++) {
      e.push(mmio(i * 10, i), digest(i * 10 + 5, 1000 + i));
      // From event 50 on the actual side writes other values, and its state differs from then on.
      a.push(mmio(i * 10, i === 50 ? 9999 : i), digest(i * 10 + 5, i >= 50 ? 5000 + i : 1000 + i));
    }
    for (const keepGoing of [false, true]) {
      const r = compareStreams(e, a, { keepGoing });
      expect(r.count).toBe(1);
      expect(r.divergences).toHaveLength(1);
      expect(r.divergences[0]!.kind).toBe('value');
      expect(r.divergences.some((d) => (d.expected !== undefined && isStateDigest(d.expected)) || (d.actual !== undefined && isStateDigest(d.actual)))).toBe(false);
      expect(r.stateFirstDiffers).toMatchObject({ dev: 0, expectedTime: 505, actualTime: 505 });
    }
  });

  it('compareStreams: identical events with differing digests are identical (the digest difference is only reported)', () => {
    const e = [mmio(0, 1), digest(5, 1), mmio(10, 2)];
    const a = [mmio(0, 1), digest(5, 2), mmio(10, 2)];
    const r = compareStreams(e, a, { keepGoing: true });
    expect(r.identical).toBe(true);
    expect(r.count).toBe(0);
    expect(r.stateFirstDiffers).toMatchObject({ expectedTime: 5 });
  });

  it('the text report names where device state first differed, without counting it', () => {
    const h = openTrace(golden('nvme-msix')).header;
    const r = compareStreams([mmio(0, 1), digest(5, 1)], [mmio(0, 2), digest(5, 2)], {});
    const text = formatReport(r, { expectedHeader: h, actualHeader: h, decoders: deviceDecoders(), expectedLabel: 'golden', actualLabel: 're-simulated' });
    expect(text).toMatch(/^1 divergence /);
    expect(text).toMatch(/device state first differed: nvme0 at 5 ps \(state digest; golden seq \d+, re-simulated seq \d+\); digests localise, they are not counted/);
  });

  it('replay --devices: a model whose state digest changed (and nothing else) matches, reporting the digest only as localisation', () => {
    const hash = NvmeController.prototype.stateHash;
    const spy = vi.spyOn(NvmeController.prototype, 'stateHash').mockImplementation(function (this: NvmeController) {
      return (hash.call(this) ^ 1) >>> 0;
    });
    try {
      const r = runReplayDevices({ trace: golden('nvme-msix'), keepGoing: true, ...quiet });
      expect(r.compare.count).toBe(0);
      expect(r.exitCode).toBe(0);
      expect(r.compare.stateFirstDiffers).toMatchObject({ dev: 0 });
    } finally {
      spy.mockRestore();
    }
  });

  it('check --keep-going on a broken driver counts no state-digest records', () => {
    const r = withBrokenCqDoorbell(100, () => runCheck({
      scenario: join(ROOT, 'fixtures/scenarios/nvme-msix.json'), golden: golden('nvme-msix'), keepGoing: true, ...quiet,
    }));
    expect(r.exitCode).toBe(1);
    const c = r.result!;
    expect(c.count).toBeGreaterThan(0);
    expect(c.divergences.some((d) => (d.expected !== undefined && isStateDigest(d.expected)) || (d.actual !== undefined && isStateDigest(d.actual)))).toBe(false);
    expect(c.stateFirstDiffers).toBeDefined();
  }, 60_000);
});

describe('replay reports one divergence once', () => {
  it('without --keep-going, a driver that goes on after the first divergence is still one divergence', () => {
    const r = withBrokenCqDoorbell(100, () => runReplayHardware({ trace: golden('nvme-msix'), ...quiet }));
    expect(r.exitCode).toBe(1);
    expect(r.compare.count).toBe(1);
    expect(r.compare.divergences).toHaveLength(1);
    expect(r.compare.divergences[0]!.kind).toBe('missing');
  });

  it('with --keep-going, the count equals the divergences listed (no repeats of the same one)', () => {
    const r = withBrokenCqDoorbell(100, () => runReplayHardware({ trace: golden('nvme-msix'), keepGoing: true, ...quiet }));
    expect(r.compare.count).toBe(r.compare.divergences.length);
    const keys = r.compare.divergences.map((d) => `${d.kind}|${d.expected?.seq ?? -1}|${d.actual?.kind ?? ''}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
