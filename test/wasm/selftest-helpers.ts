/** Scenario files for the compiled self-test drivers (kpi-selftest in C, redox-selftest in Rust), and their loop timing. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { runScenario } from '../../src/machine/run.js';
import { openTrace } from '../../src/trace/reader.js';
import { DISK } from '../e2e/helpers.js';

/** Call at a test file's top level: files in a temporary directory removed after the file's tests. */
export function selftestScenarios(driver: 'kpi-selftest' | 'redox-selftest') {
  const dir = mkdtempSync(join(tmpdir(), `simrun-${driver}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;

  /** A scenario file running the driver with these parameters on one NVMe controller. */
  function scenario(params: Record<string, unknown>, simTime = '50ms'): string {
    const p = join(dir, `${driver}-${n++}.json`);
    writeFileSync(p, JSON.stringify({
      name: driver, seed: 1,
      machine: { cores: 1, ramMiB: 64, devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { [driver]: params },
      limits: { simTime },
    }));
    return p;
  }

  /** Simulated time between the driver's VS read (before its loop) and its CSTS read (after). */
  function loopTime(loops: number): number {
    const buf = runScenario(scenario({ loops }), { recordToBuffer: true }).trace!.buffer!;
    let vs = -1;
    let csts = -1;
    for (const e of openTrace(buf).events()) {
      if (e.kind !== 'mmio' || e.write) continue;
      if (e.offset === 0x08 && vs < 0) vs = e.time;
      if (e.offset === 0x1c && csts < 0) csts = e.time;
    }
    expect(vs).toBeGreaterThan(0);
    expect(csts).toBeGreaterThan(vs);
    return csts - vs;
  }

  return { dir, scenario, loopTime };
}
