import { describe, expect, it } from 'vitest';
import { runRecorded, scenarioPath } from './e2e/helpers.js';
import { Machine, traceHeader } from '../src/machine/machine.js';
import { loadScenario } from '../src/machine/scenario.js';
import { TraceRecorder } from '../src/trace/recorder.js';
import { blockIoResultOf } from '../src/workloads/blockio.js';

describe('determinism', () => {
  it('the default scenario run twice gives byte-identical traces', () => {
    const a = runRecorded('nvme-msix');
    const b = runRecorded('nvme-msix');
    expect(a.result.failures).toEqual([]);
    expect(a.buffer.length).toBeGreaterThan(100_000);
    expect(Buffer.compare(a.buffer, b.buffer)).toBe(0);
  });

  it('the Wi-Fi scenario run twice gives byte-identical traces; another seed moves beacons and AP reply jitter', () => {
    const a = runRecorded('wifi-connect');
    const b = runRecorded('wifi-connect');
    expect(a.result.failures).toEqual([]);
    expect(Buffer.compare(a.buffer, b.buffer)).toBe(0);
    const c = runRecorded('wifi-connect', { seed: 2 });
    expect(c.result.failures).toEqual([]);
    expect(Buffer.compare(a.buffer, c.buffer)).not.toBe(0);
  });

  it('seeded latency jitter: same seed, same trace; another seed, another valid trace', () => {
    const a = runRecorded('nvme-jitter', { seed: 7 });
    const a2 = runRecorded('nvme-jitter', { seed: 7 });
    const b = runRecorded('nvme-jitter', { seed: 8 });
    expect(Buffer.compare(a.buffer, a2.buffer)).toBe(0);
    expect(Buffer.compare(a.buffer, b.buffer)).not.toBe(0);
    for (const r of [a, b]) {
      expect(r.result.failures).toEqual([]);
      expect(r.result.ios).toBe(300);
    }
    // The difference is in the timing (and what follows from it), not just the header's seed.
    const ta = a.events().filter((e) => e.kind === 'msi').map((e) => e.time);
    const tb = b.events().filter((e) => e.kind === 'msi').map((e) => e.time);
    expect(ta).not.toEqual(tb);
    expect(a.result.simTimePs).not.toBe(b.result.simTimePs);
  });

  it('without jitter the seed still drives the workload: a different seed changes the I/O pattern', () => {
    const a = runRecorded('nvme-msix', { seed: 1 });
    const b = runRecorded('nvme-msix', { seed: 99 });
    expect(b.result.failures).toEqual([]);
    expect(blockIoResultOf(a.result.workload)!.reads).not.toBe(blockIoResultOf(b.result.workload)!.reads);
  });
});

describe('two machines in one process', () => {
  it('interleaving a second machine mid-run leaves the first one\'s trace byte-identical (no module-level state)', () => {
    const scenario = loadScenario(scenarioPath('nvme-msix'));
    const alone = runRecorded('nvme-msix');
    const recorder = TraceRecorder.toBuffer(traceHeader(scenario, scenario.seed));
    const m = new Machine(scenario, { tracer: recorder });
    // Stop the first machine while user-scheme requests are in flight, run a whole other machine, then continue.
    const first = m.run(undefined, { timePs: Math.floor(alone.result.simTimePs / 2) });
    expect(first.stoppedBy).toBe('until');
    const other = runRecorded('nvme-msix', { seed: 5 });
    expect(other.result.failures).toEqual([]);
    const rest = m.run();
    expect(rest.failures).toEqual([]);
    const buf = recorder.close().buffer!;
    expect(Buffer.compare(buf, alone.buffer)).toBe(0);
  });
});
