/**
 * The compiled-driver runtime end to end, with the C self-test driver
 * (guest/c/selftest, committed as guest/modules/selftest.wasm): it runs,
 * its time follows the instructions it executes, it is deterministic, and a
 * driver that traps, overflows its stack, loops forever or writes outside
 * its memory is a crashed process with a report, while the machine runs on.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import { withCrashes } from '../../support/crash-guard.js';
import { ROOT, simrunIn } from '../../e2e/helpers.js';
import { selftestScenarios } from '../selftest-helpers.js';

const { dir, scenario, loopTime } = selftestScenarios('kpi-selftest');

describe('kpi-selftest (C, linux-kpi, wasm)', () => {
  it('probes through the linux-kpi headers: registers, DMA buffer in its own memory region, msleep', () => {
    const out = runScenario(join(ROOT, 'fixtures/scenarios/kpi-selftest.json'));
    expect(out.result.failures).toEqual([]);
    expect(out.result.crashes).toEqual([]);
    const logs = out.machine.kernel.logs.map((l) => l.text);
    expect(logs).toContain('kpi-selftest 00:04.0: CAP 0x400030140103ff VS 1.4');
    const bus = /coherent buffer at bus address 0x([0-9a-f]+)/.exec(logs.join('\n'));
    expect(bus).not.toBeNull();
    // The buffer lies in the driver's memory region, above the scenario's 64 MiB of RAM.
    const addr = parseInt(bus![1]!, 16);
    const regions = out.machine.mem.listRegions();
    expect(regions.map((r) => r.owner)).toEqual(['kpi-selftestd[2]']); // the driver stays resident
    const r = regions[0]!;
    expect(r.base).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    expect(addr).toBeGreaterThanOrEqual(r.base);
    expect(addr + 4096).toBeLessThanOrEqual(r.base + r.size);
    const slept = out.machine.kernel.logs.find((l) => l.text.includes('woke after msleep'))!;
    const before = out.machine.kernel.logs.find((l) => l.text.includes('coherent buffer'))!;
    expect(slept.time - before.time).toBeGreaterThanOrEqual(2e9); // msleep(2) blocked the thread for 2 ms
  });

  it('charges simulated time in proportion to the instructions executed', () => {
    const t0 = loopTime(0);
    const t1 = loopTime(100_000);
    const t2 = loopTime(200_000);
    const per = (t2 - t1) / 100_000;
    expect(t1 - t0).toBeGreaterThan(100_000 * 200); // at least one instruction of 200 ps per iteration
    expect(Math.abs((t1 - t0) - (t2 - t1)) / (t2 - t1)).toBeLessThan(0.01);
    expect(per).toBeGreaterThan(0);
  });

  it('gives byte-identical traces for the same module, scenario and seed', () => {
    const p = scenario({ loops: 5000 });
    const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
  });

  const faults: [number, RegExp][] = [
    [1, /trap: unreachable in selftest_probe \(entered through probe\); last boundary calls: .*linux\.printk/],
    [2, /trap: memory access out of bounds in selftest_probe/],
    [4, /stack overflow \(a thread's shadow stack is 64 KiB\) in recurse/],
    [5, /null function or function signature mismatch in selftest_probe/],
  ];
  for (const [fault, why] of faults) {
    it(`fault ${fault}: the driver process crashes with a report naming the function; the machine runs on`, () => {
      const { value: out, crashes } = withCrashes(() => runScenario(scenario({ fault })), 'kpi-selftest');
      expect(crashes).toHaveLength(1);
      expect(out.result.crashes).toHaveLength(1);
      expect(out.result.crashes[0]!.reason).toMatch(why);
      expect(out.result.stoppedBy).not.toBe('error');
    });
  }

  it('fault 8: spinlock misuse is reported as Linux lock debugging would, naming the call or the lock; the driver goes on', () => {
    const out = runScenario(scenario({ fault: 8 }));
    expect(out.result.crashes).toEqual([]);
    const bugs = out.machine.kernel.logs.filter((l) => l.text.includes('BUG')).map((l) => `${l.level} ${l.text}`);
    expect(bugs).toEqual([
      'error kpi-selftest: BUG: msleep (sleeping) while holding 1 spinlock(s)',
      'error kpi-selftest: BUG: recursive spin_lock of &lock (deadlock)',
      'error kpi-selftest: BUG: spin_unlock of unlocked spinlock &lock',
    ]);
    expect(out.machine.kernel.logs.some((l) => l.text.endsWith('selftest done'))).toBe(true);
  });

  it('inline spinlocks never call into the kernel interface when used correctly (nvme-c: no lock imports)', async () => {
    const { readFileSync } = await import('node:fs');
    const m = new WebAssembly.Module(readFileSync(join(ROOT, 'guest/modules/nvme.wasm')));
    const spin = WebAssembly.Module.imports(m).filter((i) => i.name.startsWith('spin_')).map((i) => i.name).sort();
    expect(spin).toEqual(['spin_lock_bug', 'spin_lock_init', 'spin_unlock_bug']);
    const exp = WebAssembly.Module.exports(m).map((e) => e.name);
    expect(exp).toContain('__kpi_current_tid');
    expect(exp).toContain('__kpi_spin_depth');
  });

  it('an endless loop is stopped at the run\'s time limit as a crash, not a hang', () => {
    const { value: out } = withCrashes(() => runScenario(scenario({ fault: 3 }, '5ms')), 'endless loop');
    expect(out.result.crashes[0]!.reason).toMatch(/ran past the run's time limit without a boundary call/);
    expect(out.result.simTimePs).toBeLessThanOrEqual(5e9 + 1e6);
  });

  it('simrun run exits 1 (not 3) for a crashed compiled driver, and 2 for a missing module', () => {
    const crashed = simrunIn(ROOT, 'run', scenario({ fault: 1 }));
    expect(crashed.code).toBe(1);
    expect(crashed.out).toMatch(/crashes\s+kpi-selftestd: trap: unreachable in selftest_probe/);
    const missing = simrunIn(ROOT, 'run', scenario({ module: join(dir, 'nope.wasm') }));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('drivers.kpi-selftest.module');
    expect(missing.err).toContain('nope.wasm');
  });
});

describe('tools on a compiled driver', () => {
  it('replay as hardware runs the compiled driver against its own recording: IDENTICAL, DMA into its memory region included', async () => {
    const { runReplayHardware } = await import('../../../src/machine/replay/run.js');
    const { deviceDecoders } = await import('../../../src/devices/decoders.js');
    const p = scenario({ loops: 2000 });
    const trace = join(dir, 'selftest-replay.simtrace');
    runScenario(p, { record: trace });
    let text = '';
    const out = runReplayHardware({ trace, scenario: p, decoders: deviceDecoders(), out: (t) => { text += `${t}\n`; } });
    expect(text).toContain('verdict: IDENTICAL');
    expect(out.exitCode).toBe(0);
  });

  it('replay --devices drives the device models with the recorded driver accesses: DMA into the module region reaches a stand-in region', async () => {
    const { runReplayDevices } = await import('../../../src/machine/replay/devices.js');
    const { deviceDecoders } = await import('../../../src/devices/decoders.js');
    const trace = join(dir, 'selftest-devices.simtrace');
    const p = scenario({ loops: 2000 });
    runScenario(p, { record: trace });
    const r = runReplayDevices({ trace, scenario: p, decoders: deviceDecoders(), out: () => {} });
    expect(r.compare.divergences).toEqual([]);
    expect(r.verdict.verdict).toBe('IDENTICAL');
    expect(r.exitCode).toBe(0);
  });
});
