import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Machine, registerScenarioImages, traceHeader, type RunResult, type StopPoint } from './machine.js';
import { loadScenario, type Scenario } from './scenario.js';
import { InputError } from '../sim/errors.js';
import { writeCheckpoint, type Checkpoint } from './checkpoint.js';
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
  /** Stop here (a time or an event sequence number) and write `checkpoint`. */
  until?: StopPoint;
  /** Where to write the checkpoint when the run stops at `until`. */
  checkpoint?: string;
  /** Resume from this checkpoint (deterministic re-execution, verified). */
  resume?: { checkpoint: Checkpoint; path: string };
  /**
   * Boundary sanitizers (README "Sanitizers"); overrides the scenario's
   * `machine.sanitize`. They only add guest errors: a clean run's trace is
   * byte-identical with or without them (`simrun check` turns them on).
   */
  sanitize?: boolean;
  /** Seeded hostile timing; overrides the scenario's `machine.hostileTiming` (the trace header then records it). */
  hostileTiming?: boolean;
  /** Observe the machine after it is built, before it runs. */
  onBuilt?: (m: Machine) => void;
}

export interface RunOutcome {
  scenario: Scenario;
  seed: number;
  result: RunResult;
  trace: RecordResult | undefined;
  machine: Machine;
  /** The checkpoint written, if the run stopped at `until`. */
  checkpoint?: Checkpoint;
}

/** Builds the scenario's machine, runs it, and closes the trace. */
export function runScenario(scenarioOrPath: Scenario | string, opts: RunOptions = {}): RunOutcome {
  const loaded = typeof scenarioOrPath === 'string' ? loadScenario(scenarioOrPath) : scenarioOrPath;
  const scenario = withHostileTiming(loaded, opts.hostileTiming);
  // Traces this run records (to temporary files too) find the disk images they reference here.
  registerScenarioImages(scenario);
  const ck = opts.resume?.checkpoint;
  if (ck !== undefined && ck.scenario.hash !== scenario.hash) {
    throw new InputError(opts.resume!.path, 'scenario.hash', `the scenario ${scenario.path} changed since the checkpoint was taken; it cannot be resumed`);
  }
  const seed = ck?.seed ?? opts.seed ?? scenario.seed;
  const recordPath = opts.record ?? ck?.trace ?? undefined;
  let recorder: TraceRecorder | undefined;
  if (recordPath !== undefined) {
    checkRecordPath(recordPath);
    try {
      mkdirSync(dirname(recordPath), { recursive: true });
      recorder = TraceRecorder.create(recordPath, traceHeader(scenario, seed));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === undefined) throw e;
      throw new InputError(recordPath, '', `cannot write the trace here (${code})`);
    }
  } else if (opts.recordToBuffer) {
    recorder = TraceRecorder.toBuffer(traceHeader(scenario, seed));
  }
  let machine: Machine;
  let result: RunResult;
  let checkpoint: Checkpoint | undefined;
  let trace: RecordResult | undefined;
  try {
    machine = new Machine(scenario, { tracer: recorder, seed, sanitize: opts.sanitize });
    const limit = opts.untilPs ?? scenario.limits.simTimePs;
    // The time limit holds inside a task's slice too, whatever the cost model (run-loop.ts).
    for (const core of machine.cores) core.limitPs = limit;
    opts.onBuilt?.(machine);
    if (ck !== undefined) {
      // Re-execute to the checkpoint and check we are where it says.
      const first = machine.run(undefined, ck.stop);
      const digest = machine.stateDigest();
      if (first.stoppedBy !== 'until' || digest !== ck.reached.digest || machine.tracer.count !== ck.reached.events) {
        throw new InputError(opts.resume!.path, 'reached',
          `re-executing the scenario did not reach the checkpoint's state (events ${machine.tracer.count} vs ${ck.reached.events}); the code, fixtures or simrun changed since it was taken`);
      }
    }
    result = machine.run(limit, opts.until);
    if (result.stoppedBy === 'until') {
      checkpoint = {
        format: 'simrun-checkpoint', version: 1,
        scenario: { path: scenario.path, hash: scenario.hash }, seed,
        stop: opts.until!,
        reached: { simTimePs: machine.simTime, events: machine.tracer.count, digest: machine.stateDigest() },
        trace: recordPath ?? null,
      };
      if (opts.checkpoint !== undefined) writeCheckpoint(opts.checkpoint, checkpoint);
    }
  } finally {
    // Close even on failure so the index and footer are written.
    trace = recorder?.close();
  }
  return { scenario, seed, result, trace, machine, checkpoint };
}

/**
 * The scenario with `machine.hostileTiming` set as asked, also in the raw
 * machine section the trace header records, so a trace says how it was made.
 */
function withHostileTiming(s: Scenario, on: boolean | undefined): Scenario {
  if (on === undefined || on === s.machine.hostileTiming) return s;
  const raw = typeof s.machine.raw === 'object' && s.machine.raw !== null ? { ...(s.machine.raw as Record<string, unknown>), hostileTiming: on } : s.machine.raw;
  return { ...s, machine: { ...s.machine, hostileTiming: on, raw } };
}

/** A trace output path must be a new or regular file: a directory or a FIFO/device is bad input. */
function checkRecordPath(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // absent (or its directory is): created, or reported when creating it
  }
  if (st.isDirectory()) throw new InputError(path, '', 'the trace path is a directory; give a file path');
  if (!st.isFile()) throw new InputError(path, '', 'the trace path is not a regular file (a FIFO, socket or device)');
}
