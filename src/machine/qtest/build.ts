/**
 * The machine a qtest server runs: a scenario's machine section (its
 * devices, RAM, seed), built with the devices only — no firmware ran (BARs
 * unassigned, Command 0, as after reset), no kernel processes, drivers or
 * workload. Guest RAM starts at 0 and all of it is DMA memory (there is no
 * allocator to hand pages out). Nothing moves simulated time except the
 * client's clock_step/clock_set, and the periodic state digests are off, so
 * `clock_step` with no argument goes to the next device event.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Machine } from '../machine.js';
import { parseScenario, type Scenario } from '../scenario.js';
import type { Tracer } from '../../sim/tracer.js';
import { QtestIrqFabric } from './irq.js';

export interface QtestMachine {
  machine: Machine;
  irq: QtestIrqFabric;
}

export interface QtestBuildOptions {
  tracer?: Tracer;
  seed?: number;
}

/** Builds the qtest machine of `scenario` (see the file comment). */
export function buildQtestMachine(scenario: Scenario, opts: QtestBuildOptions = {}): QtestMachine {
  const s: Scenario = { ...scenario, machine: { ...scenario.machine, stateHashUs: 0 } };
  let irq: QtestIrqFabric | undefined;
  const machine = new Machine(s, {
    devicesOnly: true,
    ...(opts.tracer !== undefined ? { tracer: opts.tracer } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    irqFabric: (queue, tracer) => (irq = new QtestIrqFabric(queue, tracer)),
  });
  if (irq === undefined) throw new Error('qtest machine: the interrupt fabric was not built');
  irq.mem = machine.mem;
  machine.mem.markDma(0, machine.mem.ramBytes, true);
  return { machine, irq };
}

/**
 * A scenario holding only a machine section (for `--device`): relative
 * image paths resolve against `baseDir` (the current directory).
 */
export function machineOnlyScenario(machine: Record<string, unknown>, baseDir: string, name = 'qtest'): Scenario {
  const json = { name, machine };
  const text = JSON.stringify(json);
  return parseScenario(json, resolve(baseDir, `${name}.machine.json`), createHash('sha256').update(text).digest('hex'));
}
