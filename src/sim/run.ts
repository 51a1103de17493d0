import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Machine, traceHeader, type RunResult } from './machine.js';
import { loadScenario, type Scenario } from './scenario.js';
import { TraceRecorder } from '../trace/recorder.js';
import type { RecordResult } from '../trace/recorder.js';

export interface RunOptions {
  /** Write a trace to this path. */
  record?: string;
  /** Record into memory and return the bytes (tests, bisect). */
  recordToBuffer?: boolean;
  seed?: number;
  /** Stop at this simulated time (ps) instead of the scenario's limit. */
  untilPs?: number;
  /** Observe the machine after it is built, before it runs. */
  onBuilt?: (m: Machine) => void;
}

export interface RunOutcome {
  scenario: Scenario;
  seed: number;
  result: RunResult;
  trace: RecordResult | undefined;
  machine: Machine;
}

/** Builds the scenario's machine, runs it, and closes the trace. */
export function runScenario(scenarioOrPath: Scenario | string, opts: RunOptions = {}): RunOutcome {
  const scenario = typeof scenarioOrPath === 'string' ? loadScenario(scenarioOrPath) : scenarioOrPath;
  const seed = opts.seed ?? scenario.seed;
  let recorder: TraceRecorder | undefined;
  if (opts.record !== undefined) {
    mkdirSync(dirname(opts.record), { recursive: true });
    recorder = TraceRecorder.create(opts.record, traceHeader(scenario, seed));
  } else if (opts.recordToBuffer) {
    recorder = TraceRecorder.toBuffer(traceHeader(scenario, seed));
  }
  let machine: Machine;
  try {
    machine = new Machine(scenario, { tracer: recorder, seed });
  } catch (e) {
    recorder?.close();
    throw e;
  }
  opts.onBuilt?.(machine);
  const result = machine.run(opts.untilPs);
  const trace = recorder?.close();
  return { scenario, seed, result, trace, machine };
}
