/**
 * A Rust driver on the redox-driver crate end to end: guest/rust/redox-selftest
 * (committed as guest/modules/redox-selftest.wasm) runs through the `redox`
 * imports (pcid handle, MMIO, Dma, sleep, a second thread with a Mutex and a
 * Condvar), its time follows the instructions it executes, it is
 * deterministic, and a panic is a crashed process whose report is the panic
 * message with its source line.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import { withCrashes } from '../../support/crash-guard.js';
import { ROOT, simrunIn } from '../../e2e/helpers.js';
import { selftestScenarios } from '../selftest-helpers.js';

const { scenario, loopTime } = selftestScenarios('redox-selftest');

describe('redox-selftest (Rust, redox-driver crate, wasm)', () => {
  it('runs through the redox imports: pcid handle, registers, a Dma buffer in its own memory, sleep, a second thread; then exits', () => {
    const out = runScenario(scenario({}));
    expect(out.result.failures).toEqual([]);
    expect(out.result.crashes).toEqual([]);
    const logs = out.machine.kernel.logs.filter((l) => l.proc === 'redox-selftestd');
    const text = logs.map((l) => l.text);
    expect(text).toContain('redox-selftest 00:04.0: 1b36:0010 class 010802');
    expect(text).toContain('CAP 0x400030140103ff VS 1.4');
    expect(text).toContain('woke after sleep: 2000 us');
    expect(text).toContain('worker: result ready');
    expect(text.at(-1)).toBe('done');
    // main waited on the Condvar until the worker (500 us of sleep) filled in the result
    const ready = logs.find((l) => l.text === 'worker: result ready')!;
    const returned = logs.find((l) => l.text.startsWith('main: worker returned'))!;
    expect(returned.time).toBeGreaterThanOrEqual(ready.time);
    const slept = logs.find((l) => l.text.startsWith('woke after sleep'))!;
    expect(ready.time - slept.time).toBeGreaterThanOrEqual(500e6);
    // The Dma buffer lay in the driver's memory region above the scenario's 64 MiB of RAM.
    const phys = parseInt(/DMA buffer at physical 0x([0-9a-f]+)/.exec(text.join('\n'))![1]!, 16);
    expect(phys).toBeGreaterThanOrEqual(64 * 1024 * 1024);
    // Returning from main ends the process (code 0) and its memory region with it.
    const proc = out.machine.kernel.processes.find((p) => p.name === 'redox-selftestd')!;
    expect(proc.state).toBe('exited');
    expect(proc.exitCode).toBe(0);
    expect(out.machine.mem.listRegions()).toEqual([]);
  });

  it('charges simulated time in proportion to the instructions executed', () => {
    const t0 = loopTime(0);
    const t1 = loopTime(100_000);
    const t2 = loopTime(200_000);
    expect(t1 - t0).toBeGreaterThan(100_000 * 200);
    expect(Math.abs((t1 - t0) - (t2 - t1)) / (t2 - t1)).toBeLessThan(0.01);
  });

  it('gives byte-identical traces for the same module, scenario and seed', () => {
    const p = scenario({ loops: 5000 });
    const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
    expect(Buffer.compare(a, b)).toBe(0);
  });

  const faults: [number, RegExp][] = [
    [1, /^panicked at 'deliberate panic \(fault 1\)', guest\/rust\/redox-selftest\/src\/main\.rs:\d+:\d+; last boundary calls: .*redox\.panic\(/],
    [2, /^panicked at 'index out of bounds: the len is 4 but the index is 1009', guest\/rust\/redox-selftest\/src\/main\.rs:\d+:\d+/],
    [4, /stack overflow \(a thread's shadow stack is 64 KiB\) in redox_selftest::recurse/],
    [5, /^panicked at 'memory allocation of 1073741824 bytes \(align 1\) failed: the driver's heap is exhausted \(raise memoryMiB\)', guest\/rust\/redox-driver\/src\/heap\.rs/],
  ];
  for (const [fault, why] of faults) {
    it(`fault ${fault}: the driver process crashes with a report (a panic names its message and line); the machine runs on`, () => {
      const { value: out, crashes } = withCrashes(() => runScenario(scenario({ fault })), 'redox-selftest');
      expect(crashes).toHaveLength(1);
      expect(out.result.crashes).toHaveLength(1);
      expect(out.result.crashes[0]!.reason).toMatch(why);
      expect(out.result.stoppedBy).not.toBe('error');
    });
  }

  it('an endless loop is stopped at the run\'s time limit as a crash naming the Rust function', () => {
    const { value: out } = withCrashes(() => runScenario(scenario({ fault: 3 }, '5ms')), 'endless loop');
    expect(out.result.crashes[0]!.reason).toMatch(/ran past the run's time limit without a boundary call .* in redox_selftest::main/);
    expect(out.result.simTimePs).toBeLessThanOrEqual(5e9 + 1e6);
  });

  it('simrun run exits 1 for a panicking driver and prints the panic', () => {
    const r = simrunIn(ROOT, 'run', scenario({ fault: 1 }));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/crashes\s+redox-selftestd: panicked at 'deliberate panic \(fault 1\)', guest\/rust\/redox-selftest\/src\/main\.rs:/);
  });
});
