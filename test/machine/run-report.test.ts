import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DISK, ROOT, scenarioPath, simrunIn } from '../e2e/helpers.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { InputError } from '../../src/sim/errors.js';
import { at } from '../../src/sim/time.js';
import type { NvmeController } from '../../src/devices/nvme/controller.js';
import { QueuePair } from '../../src/drivers/nvme/queue.js';
import type { IwlTransport } from '../../src/devices/iwlwifi/transport/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-run-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scenario object as if it lived in fixtures/scenarios (relative fixture paths work). */
const scenario = (raw: Record<string, unknown>, name = 'run-report') => parseScenario({ name, ...raw }, join(ROOT, 'fixtures/scenarios', `${name}.json`), `test-${name}`);

describe('a run stopped early says STOPPED and leaves whole-run expectations not evaluated', () => {
  it('NVMe: --until 3ms is STOPPED with minIos and the workload finishing not evaluated, nothing failed', () => {
    const out = runScenario(scenarioPath('nvme-msix'), { until: { timePs: 3e9 } });
    const r = out.result;
    expect(r.stoppedBy).toBe('until');
    expect(r.verdict).toBe('STOPPED');
    expect(r.failures).toEqual([]);
    expect(r.notEvaluated.some((n) => /^minIos: at least 1000 I\/Os \(\d+ so far\)$/.test(n)), r.notEvaluated.join('\n')).toBe(true);
    expect(r.notEvaluated.some((n) => /the workload finishing \(0\/4 clients ended\)/.test(n))).toBe(true);
    expect(r.stall).toEqual([]); // stopped on purpose: not a stall
  });

  it('NVMe: stopping at an event number (seq) is STOPPED too', () => {
    const r = runScenario(scenarioPath('nvme-msix'), { until: { seq: 500 } }).result;
    expect(r.verdict).toBe('STOPPED');
    expect(r.notEvaluated.length).toBeGreaterThan(0);
  });

  it('Wi-Fi: wifiOutcome and minPings are not evaluated before the station finished', () => {
    const r = runScenario(scenarioPath('wifi-connect'), { until: { timePs: 50e9 } }).result;
    expect(r.verdict).toBe('STOPPED');
    expect(r.failures).toEqual([]);
    expect(r.notEvaluated.some((n) => n.startsWith('wifiOutcome: "ok"'))).toBe(true);
    expect(r.notEvaluated.some((n) => n.startsWith('minPings: at least 100 answered pings'))).toBe(true);
  });

  it('a failure that is already final (an upper bound exceeded) makes a stopped run FAIL', () => {
    const s = scenario({
      machine: { devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      workload: { type: 'blockio', ops: 400, clients: 2 },
      expect: { minIos: 400, crashes: 0, maxGuestErrors: 0, logContains: ['no such line ever'] },
    });
    // A guest error on purpose: a write to a read-only register, before the stop point.
    const out = runScenario(s, {
      until: { timePs: 2e9 },
      onBuilt: (m) => (m.devices[0]!.model as unknown as NvmeController).write(0, 4, 1),
    });
    const r = out.result;
    expect(r.verdict).toBe('FAIL');
    expect(r.failures.join('\n')).toMatch(/expected at most 0 guest errors, got 1/);
    expect(r.notEvaluated.some((n) => n.startsWith('logContains:'))).toBe(true);
    expect(r.firstGuestErrors[0]).toMatchObject({ device: 'nvme0', code: 'nvme.reg.read-only' });
  });

  it('a complete run that passes is PASS with nothing left unevaluated', () => {
    const s = scenario({
      machine: { devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      workload: { type: 'blockio', ops: 40, clients: 2 },
      expect: { minIos: 40 },
    });
    const r = runScenario(s).result;
    expect(r.verdict).toBe('PASS');
    expect(r.notEvaluated).toEqual([]);
    expect(r.driverErrors).toEqual([]);
  });

  it('the CLI prints STOPPED (not PASS), the not-evaluated list, exits 0, and --json carries verdict and notEvaluated', () => {
    const ck = join(dir, 'ck.json');
    const text = simrunIn(ROOT, 'run', 'nvme-msix', '--until', '2ms', '--checkpoint', ck);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^STOPPED at 2\.000 ms before the run finished/m);
    expect(text.out).not.toMatch(/^PASS/m);
    expect(text.out).toMatch(/not evaluated \(they need the whole run\):\n {2}- minIos: at least 1000 I\/Os/);
    const json = simrunIn(ROOT, 'run', 'nvme-msix', '--until', '2ms', '--checkpoint', ck, '--json');
    const j = JSON.parse(json.out);
    expect(j.verdict).toBe('STOPPED');
    expect(j.notEvaluated.length).toBeGreaterThan(0);
    expect(j.failures).toEqual([]);
  }, 60_000);
});

describe('a failing run shows the driver\'s error', () => {
  it('the first error-level driver lines are in the result (and the summary) of a failed Wi-Fi bring-up', () => {
    const s = scenario({
      machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/small.json', faultAlive: 'missing' } }] },
      drivers: { iwlwifi: { irqMode: 'msi' } },
      workload: { type: 'wifi', pings: 2, waitForDriverMs: 3000 },
      limits: { simTime: '10s' },
      expect: { wifiOutcome: 'ok' },
    });
    const r = runScenario(s).result;
    expect(r.verdict).toBe('FAIL');
    expect(r.driverErrors.map((l) => l.text)).toContain('iwlwifi 00:05.0: timeout waiting for ALIVE (1000 ms)');
    expect(r.driverErrors.every((l) => l.proc === 'iwlwifid')).toBe(true);
  });

  it('a missing firmware directory is an input error naming drivers.iwlwifi.firmwareDir, before the run', () => {
    const make = (fw: string) => scenario({
      machine: { devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/small.json' } }] },
      drivers: { iwlwifi: { firmwareDir: fw } },
      workload: { type: 'wifi', pings: 1 },
    });
    expect(() => runScenario(make('../no-such-firmware'))).toThrow(InputError);
    expect(() => runScenario(make('../no-such-firmware'))).toThrow(/drivers\.iwlwifi\.firmwareDir: .*no-such-firmware does not exist/);
    const empty = join(dir, 'empty-fw');
    mkdirSync(empty, { recursive: true });
    expect(() => runScenario(make(empty))).toThrow(/drivers\.iwlwifi\.firmwareDir: .* holds none of the firmware files the driver requests \(iwlwifi-7265D-29\.ucode down to iwlwifi-7265D-22\.ucode\)/);
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    expect(() => runScenario(make(file))).toThrow(/drivers\.iwlwifi\.firmwareDir: .* is not a directory/);
  });

  it('the firmware directory is not checked when no device needs the driver (NVMe-only scenario, every driver enabled)', () => {
    const s = scenario({
      machine: { devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { nvme: {}, iwlwifi: { firmwareDir: '../no-such-firmware' } },
      workload: { type: 'blockio', ops: 8, clients: 1 },
      expect: { minIos: 8 },
    });
    expect(runScenario(s).result.verdict).toBe('PASS');
  });

  it('the CLI exits 2 for a missing firmware directory, naming the scenario file and field', () => {
    const p = join(dir, 'nofw.json');
    writeFileSync(p, JSON.stringify({
      name: 'nofw', machine: { devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: join(ROOT, 'fixtures/rf/small.json') } }] },
      drivers: { iwlwifi: { firmwareDir: './missing-fw' } }, workload: { type: 'wifi', pings: 1 },
    }));
    const r = simrunIn(ROOT, 'run', p);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${p}: drivers.iwlwifi.firmwareDir:`);
  }, 60_000);
});

describe('stall diagnosis: a run that hits its time limit names what each device waits for', () => {
  it('an NVMe driver that never writes the I/O CQ head doorbell ends with "CQ1 full" naming the doorbell', () => {
    // A broken driver: the I/O queues' CQ head doorbell is never rung (the admin queue's still is).
    const ring = QueuePair.prototype.ringCq;
    const spy = vi.spyOn(QueuePair.prototype, 'ringCq').mockImplementation(function (this: QueuePair) {
      if (this.qid === 0) ring.call(this);
    });
    try {
      const s = scenario({
        machine: { devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
        drivers: { nvme: { irqMode: 'msix', ioQueues: 1, queueDepth: 16 } },
        workload: { type: 'blockio', ops: 200, clients: 2 },
        limits: { simTime: '20ms' },
        expect: { minIos: 200 },
      });
      const r = runScenario(s).result;
      expect(r.stoppedBy).toBe('time-limit');
      expect(r.verdict).toBe('FAIL');
      const lines = r.stall.map((l) => `${l.device} ${l.text}`);
      expect(lines.some((l) => /^nvme0 CQ1 full: head 0, tail 15, \d+ completions? waiting for room, no CQ1HDBL write since the queue was created$/.test(l)), lines.join('\n')).toBe(true);
      expect(lines.some((l) => /^nvme0 SQ1: \d+ commands? fetched, not completed \(.*done, waiting for room in CQ1/.test(l)), lines.join('\n')).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('iwlwifi: firmware that never posts ALIVE, with the time limit before the driver gives up: "firmware not alive"', () => {
    const s = scenario({
      machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/small.json', faultAlive: 'missing' } }] },
      drivers: { iwlwifi: { irqMode: 'msi' } },
      workload: { type: 'wifi', pings: 2 },
      limits: { simTime: '500ms' },
    });
    const r = runScenario(s).result;
    expect(r.stoppedBy).toBe('time-limit');
    const lines = r.stall.map((l) => `${l.device} ${l.text}`);
    expect(lines.some((l) => /^wlan0 firmware not alive: the image never posted ALIVE \(released [\d.]+ ms\)/.test(l)), lines.join('\n')).toBe(true);
  });

  it('iwlwifi: a TX queue the scheduler never activated holds its TFDs: the stall names the queue and why', () => {
    const s = scenario({
      machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: '../rf/small.json' } }] },
      drivers: { iwlwifi: { irqMode: 'msi' } },
      workload: { type: 'wifi', pings: 2 },
      limits: { simTime: '1ms' },
    });
    const out = runScenario(s, {
      onBuilt: (m) => {
        const t = m.devices[0]!.model as unknown as IwlTransport;
        // After the driver's software reset: five TFDs posted on a queue with no ring that is not active.
        m.queue.scheduleAt(at(900e6), m.queue.register('poke-txq', () => t.txq.setWritePtr(3, 5)));
      },
    });
    const lines = out.result.stall.map((l) => l.text);
    expect(lines.some((l) => /^TX queue 3: 5 TFDs pending \(read 0, write 5\), not processed: not active in the scheduler .*no TFD ring base.*; no TFD processed since the queue was set up$/.test(l)), lines.join('\n')).toBe(true);
  });

  it('a run that finishes, or stops on purpose, has no stall lines', () => {
    const s = scenario({
      machine: { devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      workload: { type: 'blockio', ops: 20, clients: 1 },
    });
    expect(runScenario(s).result.stall).toEqual([]);
  });
});
